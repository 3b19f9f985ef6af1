#!/usr/bin/env bash
# What does a container cost over a bare VM boot? Times `runv run` of a
# busybox bundle running `true`, and a bare QEMU boot of the same kernel,
# machine and accelerator with a trivial init that powers off at once, and
# prints the medians and their ratio.
#
# The bare boot's command line is read from the QEMU that runv starts
# (bench/lib/bare-boot.bash).
#
# Usage: bench/runv-run.sh BUILD_DIR   (N=10 runs each by default)
set -euo pipefail

build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-10}
runv=${RUNV:-$build/src/runv/runv}
poweroff_initrd=${HYPER_POWEROFF_INITRD:-$build/guest/poweroff-initrd.img}
kernel=${HYPER_KERNEL:-$("$here/scripts/build-kernel.sh")/vmlinux}
initrd=${HYPER_INITRD:-$build/guest/initrd.img}

dir=$(mktemp -d /tmp/hyb.XXXXXX)
# shellcheck source=bench/lib/bare-boot.bash
. "$here/bench/lib/bare-boot.bash"
BB_DIR=$dir BB_POWEROFF_INITRD=$poweroff_initrd
cleanup() {
    local p
    for p in $(pgrep -f -- "$dir" || true); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

# The kernel is linked into $dir so that runv's QEMU names $dir on its
# command line: that is how we find it among the machine's processes.
mkdir -p "$dir/vm" "$dir/root" "$dir/b/rootfs/bin"
ln "$kernel" "$dir/vm/vmlinux" 2>/dev/null || cp "$kernel" "$dir/vm/vmlinux"
export HYPER_KERNEL=$dir/vm/vmlinux HYPER_INITRD=$initrd

cp /bin/busybox "$dir/b/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$dir/b/rootfs/bin/$a"; done
mkdir -p "$dir/b/rootfs"/{proc,sys,dev,tmp,etc}
(cd "$dir" && runc spec && jq '.process.terminal = false | .process.args = ["true"]' config.json > b/config.json)
jq '.process.args = ["sleep", "3"]' "$dir/b/config.json" > "$dir/b/sleep.json"

run_true() {
    "$runv" --root "$dir/root" run --bundle "$dir/b" "hyb-$1" </dev/null >/dev/null
}

# Starts a runv run of `sleep 3`, reads its QEMU's argv, lets it finish.
capture_qemu_argv() {
    local cfg=$dir/b/config.json pid q="" i
    cp "$cfg" "$dir/true.json"
    cp "$dir/b/sleep.json" "$cfg"
    "$runv" --root "$dir/root" run --bundle "$dir/b" hyb-capture </dev/null >/dev/null 2>"$dir/capture.err" &
    pid=$!
    for ((i = 0; i < 300; i++)); do
        q=$(bb_find_qemu "$(readlink -f "$runv")") && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$q" ] && bb_capture_argv "$q"
    wait "$pid" || true
    cp "$dir/true.json" "$cfg"
    [ -s "$dir/qemu.argv" ] || { echo "bench: runv started no QEMU I could see:" >&2; cat "$dir/capture.err" >&2; return 1; }
}

capture_qemu_argv
bb_bare_argv

bb_compare "runv run true" "$n" run_true
