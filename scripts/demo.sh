#!/usr/bin/env bash
# The demo, in two parts.
# 1. runv, the runc-compatible runtime: one busybox bundle run in a VM. The
#    process inside prints the kernel it runs on, next to the host's, to
#    show that it is not the host's.
# 2. hyperd and hyperctl, as a user runs them: a busybox image loaded into a
#    private hyperd (its own socket, store and bridge, all removed at the
#    end), a container run in the foreground, a web server run detached
#    with a published port and fetched from the host, an exec into it.
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail

build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")/.." && pwd)
runv=${RUNV:-$build/src/runv/runv}
export HYPER_KERNEL=${HYPER_KERNEL:-$("$here/scripts/build-kernel.sh")/vmlinux}
export HYPER_INITRD=${HYPER_INITRD:-$build/guest/initrd.img}

export HYPER_RUNV=$runv HYPERD=${HYPERD:-$build/src/hyperd/hyperd} HYPERCTL=${HYPERCTL:-$build/src/hyperctl/hyperctl}

dir=$(mktemp -d /tmp/hyper-demo.XXXXXX)
# shellcheck source=scripts/lib/private-hyperd.bash
. "$here/scripts/lib/private-hyperd.bash"
PH_DIR=$dir PH_SUBNET=10.231.0.0/24
trap ph_cleanup EXIT

echo "== runv run: an OCI bundle in a VM"

root=$dir/bundle/rootfs
mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
(cd "$dir/bundle" && runc spec)
jq '.process.terminal = false | .hostname = "hyper-demo"
    | .process.args = ["sh", "-c", "echo \"in the VM:  $(uname -r) ($(hostname), $(uname -m))\""]' \
    "$dir/bundle/config.json" > "$dir/config.json"
mv "$dir/config.json" "$dir/bundle/config.json"

echo "on the host: $(uname -r) ($(hostname), $(uname -m))"
start=$(date +%s%N)
rc=0
"$runv" --root "$dir/state" run --bundle "$dir/bundle" "demo-$$" </dev/null | tee "$dir/out" || rc=$?
end=$(date +%s%N)
echo "runv run: exit $rc in $(( (end - start) / 1000000 )) ms (guest kernel $HYPER_KERNEL)"
[ "$rc" = 0 ] || exit "$rc"
guest=$(sed -n 's/^in the VM:  \([^ ]*\) .*/\1/p' "$dir/out")
if [ "$guest" = "$(uname -r)" ]; then
    echo "the same kernel inside and out: this did not run in a VM" >&2
    exit 1
fi
echo "the kernels differ: the process ran in its own VM"

echo
echo "== hyperd and hyperctl"
ph_start
img=localhost/demo/busybox
ph_load_busybox "$img"
hc images
echo "\$ hyperctl run $img uname -r"
hc run --rm "$img" uname -r
port=18080
while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
echo "\$ hyperctl run -d --name web -p 127.0.0.1:$port:80 $img sh -c '... exec httpd -f -p 80 -h /www'"
# shellcheck disable=SC2016 # expanded in the container
hc run -d --name web -p "127.0.0.1:$port:80" "$img" sh -c 'echo "hello from $(hostname), kernel $(uname -r)" > /www/index.html; exec httpd -f -p 80 -h /www' >/dev/null
hc ps
page=
for ((i = 0; i < 100; i++)); do
    page=$(curl -fsS -m 2 "http://127.0.0.1:$port/" 2>/dev/null) && break
    sleep 0.1
done
echo "\$ curl http://127.0.0.1:$port/"
echo "$page"
[ -n "$page" ] || { echo "the web server was not reached" >&2; exit 1; }
echo "\$ hyperctl exec web cat /etc/hosts"
hc exec web cat /etc/hosts
hc rm -f web >/dev/null
echo "removed; the pod's VM, network namespace and published port are gone"
