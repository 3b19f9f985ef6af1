#!/usr/bin/env bash
# How fast does TCP go from the host into a pod through a published port,
# against host to host over loopback in the same run?
#
# Starts a private hyperd (scripts/lib/private-hyperd.bash: its own socket,
# store, runv root, bridge and subnet, all removed at the end), loads a
# busybox image built here, and runs a pod that publishes 127.0.0.1:PORT
# and serves it with busybox `nc -ll -e sh -c 'cat >/dev/null; echo done'`:
# the server reads everything, then answers "done". The client is the
# same on both paths: `dd if=/dev/zero bs=1M count=SIZE_MB | socat` with
# a half close; the clock stops when "done" comes back, so the figure
# counts every byte as received by the server, not as left in a socket
# buffer. The baseline runs that same busybox server on the host's
# 127.0.0.1. The pod path is DNAT (nft output chain), the bridge, the
# veth, tc redirect to the tap, QEMU's virtio-net and the guest's stack;
# under TCG the guest's CPU is emulated, which dominates.
#
# Prints the median throughput of each in MB/s (10^6 bytes) and their
# ratio pod/host. Usage: bench/net-throughput.sh BUILD_DIR
# (N=5 runs each, SIZE_MB=256 by default).
set -euo pipefail

build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-5}
size=${SIZE_MB:-256}
HYPERD=${HYPERD:-$build/src/hyperd/hyperd}
HYPERCTL=${HYPERCTL:-$build/src/hyperctl/hyperctl}
runv=${RUNV:-$build/src/runv/runv}
kernel=${HYPER_KERNEL:-$("$here/scripts/build-kernel.sh")/vmlinux}
initrd=${HYPER_INITRD:-$build/guest/initrd.img}

dir=$(mktemp -d /tmp/hyb.XXXXXX)
# shellcheck source=bench/lib/bare-boot.bash
. "$here/bench/lib/bare-boot.bash"
# shellcheck source=scripts/lib/private-hyperd.bash
. "$here/scripts/lib/private-hyperd.bash"
PH_DIR=$dir PH_SUBNET=10.221.0.0/24
export HYPERD HYPERCTL HYPER_KERNEL=$kernel HYPER_INITRD=$initrd HYPER_RUNV=$runv
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null
    ph_cleanup
}
trap cleanup EXIT

# The server: for each connection (-ll: it stays listening) reads all, then says "done" on it.
serve() { echo "exec nc -ll -p $1 -e sh -c 'cat >/dev/null; echo done'"; }

# send PORT: SIZE_MB MiB to 127.0.0.1:PORT; prints the nanoseconds until "done" came back.
send() {
    local t0 t1 reply
    t0=$(bb_now)
    reply=$(dd if=/dev/zero bs=1M count="$size" 2>/dev/null | timeout 300 socat -t 300 - "TCP:127.0.0.1:$1")
    t1=$(bb_now)
    [ "$reply" = "done" ] || { echo "bench: no \"done\" from port $1 (got \"$reply\")" >&2; return 1; }
    echo $((t1 - t0))
}

# Nanoseconds a line on stdin; the median's throughput in MB/s.
mbps() { bb_median | awk -v mib="$size" '{ printf "%.1f", mib * 1048576 / $1 / 1e6 }'; }

ph_start
img=localhost/hyb/busybox
ph_load_busybox "$img"

# The pod's accelerator, from its QEMU's command line (a child of runv's monitor).
accel() {
    local mon q
    mon=$(hc inspect hyb-net | jq -r '.[0].pid')
    for q in $(pgrep -P "$mon" || true); do
        tr '\0' '\n' < "/proc/$q/cmdline" | grep -A1 -x -- -accel | tail -n 1 | cut -d, -f1 && return 0
    done
    echo "accelerator unknown"
}

pod_port=$((30000 + RANDOM % 10000))
host_port=$((pod_port + 1))
hc run -d --name hyb-net -p "127.0.0.1:$pod_port:5001" "$img" sh -c "$(serve 5001)" >/dev/null
(cd "$dir" && exec busybox sh -c "$(serve "$host_port")" </dev/null >/dev/null 2>&1) &
# busybox sh execs nc: $! is the server itself.
server=$!
# The first answer tells that the pod is up; it counts as the untimed warm-up of both paths.
for ((i = 0; i < 300; i++)); do
    send "$pod_port" >/dev/null 2>&1 && break
    sleep 0.2
done
send "$host_port" >/dev/null

pod_accel=$(accel)
for ((i = 0; i < n; i++)); do
    send "$pod_port" >> "$dir/pod.ns"
    send "$host_port" >> "$dir/host.ns"
done

p=$(mbps < "$dir/pod.ns")
h=$(mbps < "$dir/host.ns")
echo "TCP host -> pod via published port: $p MB/s; host -> host loopback: $h MB/s; ratio $(bb_ratio "$p" "$h") (N=$n, $size MiB each, $pod_accel)"
