#!/usr/bin/env bash
# Installs every Debian package that Hyper needs to build, test, demo and
# bench. Idempotent: it asks dpkg what is missing first and runs apt-get
# only for that, so a machine that has everything hears one quiet line.
set -euo pipefail

packages=(
    # build
    build-essential meson ninja-build pkg-config clang libclang-rt-dev
    libjson-c-dev libcurl4-openssl-dev libmicrohttpd-dev libarchive-dev
    libssl-dev libsqlite3-dev libnl-route-3-dev libmnl-dev libcap-dev
    libnftables-dev
    # guest kernel (scripts/build-kernel.sh) and initrd
    linux-source-6.1 flex bison bc libelf-dev cpio xz-utils
    # run VMs, networks
    qemu-system-x86 qemu-utils nftables
    # tests, demo and bench
    runc crun busybox-static jq bats hyperfine socat procps util-linux
    # image store tests and bench (registry, reference tools)
    docker-registry skopeo umoci zstd openssl python3
    # real clients of runv (tests/integration/containerd.bats, podman.bats):
    # Podman 4.3 with conmon and a netavark bridge network (iptables rules)
    containerd podman conmon netavark aardvark-dns iptables skopeo umoci
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$status" in
        ii*) ;;
        *) missing+=("$p") ;;
    esac
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]}; run this script as root" >&2
    exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}
# Refresh the package lists only when they are absent or an install fails
# for want of them.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || ! apt_install; then
    apt-get update -q </dev/null
    apt_install
fi
