#!/usr/bin/env bash
# The demo: one busybox container in a VM. The process inside prints the
# kernel it runs on, next to the host's, to show that it is not the host's.
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail

build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")/.." && pwd)
runv=${RUNV:-$build/src/runv/runv}
export HYPER_KERNEL=${HYPER_KERNEL:-$("$here/scripts/build-kernel.sh")/vmlinux}
export HYPER_INITRD=${HYPER_INITRD:-$build/guest/initrd.img}

dir=$(mktemp -d /tmp/hyper-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT

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
