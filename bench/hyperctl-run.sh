#!/usr/bin/env bash
# What does `hyperctl run --rm busybox true` cost over a bare VM boot, and
# what does an idle pod hold in host memory?
#
# Starts a private hyperd (its own socket, store, runv root, and a bridge
# and subnet of its own, removed at the end), loads a busybox image built
# here, then:
# - times `hyperctl run --rm IMAGE true` (the whole client round trip:
#   create, network, rootfs, VM boot, the process, removal) against a bare
#   QEMU boot of the same kernel, machine and accelerator with an init that
#   powers off at once (bench/lib/bare-boot.bash reads its command line
#   from the QEMU hyperd's runv started), and prints the medians and ratio;
# - starts an idle pod (`sleep`, 128 MiB of guest memory, hyperd's
#   default) and sums the PSS of every host process that belongs to it:
#   runv's monitor and its descendants (QEMU, virtiofsd), and any process
#   naming the container's id (an I/O holder). PSS counts shared pages
#   once across the processes that share them.
#
# Usage: bench/hyperctl-run.sh BUILD_DIR   (N=10 runs each by default)
set -euo pipefail

build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-10}
HYPERD=${HYPERD:-$build/src/hyperd/hyperd}
HYPERCTL=${HYPERCTL:-$build/src/hyperctl/hyperctl}
runv=${RUNV:-$build/src/runv/runv}
kernel=${HYPER_KERNEL:-$("$here/scripts/build-kernel.sh")/vmlinux}
initrd=${HYPER_INITRD:-$build/guest/initrd.img}
poweroff_initrd=${HYPER_POWEROFF_INITRD:-$build/guest/poweroff-initrd.img}

dir=$(mktemp -d /tmp/hyb.XXXXXX)
# shellcheck source=bench/lib/bare-boot.bash
. "$here/bench/lib/bare-boot.bash"
# shellcheck source=scripts/lib/private-hyperd.bash
. "$here/scripts/lib/private-hyperd.bash"
BB_DIR=$dir BB_POWEROFF_INITRD=$poweroff_initrd PH_DIR=$dir PH_SUBNET=10.230.0.0/24
export HYPERD HYPERCTL
trap ph_cleanup EXIT

# The kernel is linked under $dir: that names the pod's QEMU among the machine's.
mkdir -p "$dir/vm"
ln "$kernel" "$dir/vm/vmlinux" 2>/dev/null || cp "$kernel" "$dir/vm/vmlinux"
export HYPER_KERNEL=$dir/vm/vmlinux HYPER_INITRD=$initrd HYPER_RUNV=$runv

ph_start
img=localhost/hyb/busybox
ph_load_busybox "$img"

# The pod's processes: the monitor, its descendants, and whatever names the id.
pod_pids() {
    local id=$1 mon=$2 p
    {
        echo "$mon"
        pgrep -f -- "$id" || true
        local queue=("$mon")
        while [ ${#queue[@]} -gt 0 ]; do
            p=${queue[0]}
            queue=("${queue[@]:1}")
            for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
                echo "$c"
                queue+=("$c")
            done
        done
    } | sort -un
}

pss_kib() {
    awk '/^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0
}

# An idle pod: its QEMU's argv for the bare boot, and its memory once settled.
id=$(hc run -d "$img" sleep 600)
mon=$(hc inspect "$id" | jq -r ".[0].pid")
q=$(bb_find_qemu "$(readlink -f "$runv")") || { echo "bench: no QEMU of the pod found" >&2; exit 1; }
bb_capture_argv "$q"
bb_bare_argv
sleep 5
total=0
detail=
for p in $(pod_pids "$id" "$mon"); do
    [ -r "/proc/$p/smaps_rollup" ] || continue
    k=$(pss_kib "$p")
    total=$((total + k))
    detail+=" $(basename "$(readlink "/proc/$p/exe")")=$(awk -v k="$k" 'BEGIN { printf "%.1f", k / 1024 }')M"
done
mem=$(awk '/^-m$/ { getline; print; exit }' "$dir/qemu.argv")
hc rm -f "$id" >/dev/null

run_true() { hc run --rm "$img" true >/dev/null; }
bb_compare "hyperctl run --rm true" "$n" run_true
echo "idle pod (guest -m ${mem:-?}): PSS $((total / 1024)) MiB in all:$detail"
