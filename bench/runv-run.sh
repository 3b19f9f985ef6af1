#!/usr/bin/env bash
# What does a container cost over a bare VM boot? Times `runv run` of a
# busybox bundle running `true`, and a bare QEMU boot of the same kernel,
# machine and accelerator with a trivial init that powers off at once, and
# prints the medians and their ratio.
#
# The bare boot's command line is not written here: it is read from the
# QEMU that runv itself starts (from /proc), with the initrd swapped for the
# power-off one and the devices that need runv's sockets or virtiofsd left
# out, so that the baseline follows the QEMU driver as it changes.
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

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m / 1e9 }'; }

run_true() {
    "$runv" --root "$dir/root" run --bundle "$dir/b" "hyb-$1" </dev/null >/dev/null
}

# Starts a runv run of `sleep 3`, reads its QEMU's argv, lets it finish.
capture_qemu_argv() {
    local cfg=$dir/b/config.json pid q i
    cp "$cfg" "$dir/true.json"
    cp "$dir/b/sleep.json" "$cfg"
    "$runv" --root "$dir/root" run --bundle "$dir/b" hyb-capture </dev/null >/dev/null 2>"$dir/capture.err" &
    pid=$!
    q=
    for ((i = 0; i < 300; i++)); do
        q=$(pgrep -f -- "$dir/vm/vmlinux" | while read -r p; do
            [ "$(readlink "/proc/$p/exe" 2>/dev/null)" != "$(readlink -f "$runv")" ] && echo "$p"
        done | head -n 1 || true)
        [ -n "$q" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$q" ] && tr '\0' '\n' < "/proc/$q/cmdline" > "$dir/qemu.argv"
    wait "$pid" || true
    cp "$dir/true.json" "$cfg"
    [ -s "$dir/qemu.argv" ] || { echo "bench: runv started no QEMU I could see:" >&2; cat "$dir/capture.err" >&2; return 1; }
}

# Rewrites runv's QEMU argv into a bare boot of the power-off initrd.
bare_argv() {
    local -a in out
    local i opt val
    mapfile -t in < "$dir/qemu.argv"
    out=("${in[0]}")
    for ((i = 1; i < ${#in[@]}; i++)); do
        opt=${in[i]}
        case "$opt" in
            -nodefaults | -no-user-config | -no-reboot | -no-shutdown | -nographic | -enable-kvm)
                out+=("$opt"); continue ;;
            -S | -daemonize) continue ;;
        esac
        val=${in[i + 1]:-}
        i=$((i + 1))
        case "$opt" in
            -initrd) out+=(-initrd "$poweroff_initrd") ;;
            -mon | -qmp | -pidfile | -fsdev) ;;
            -chardev)
                case "$val" in
                    file,*) out+=(-chardev "$(sed "s|path=.*|path=$dir/console.log|" <<<"$val")") ;;
                    *) ;; # sockets runv passed as fds or virtiofsd's: not ours
                esac ;;
            -device)
                case "$val" in
                    *chardev=* | *fsdev=* | vhost-user-*) ;;
                    *) out+=(-device "$val") ;;
                esac ;;
            *) out+=("$opt" "$val") ;;
        esac
    done
    printf '%s\n' "${out[@]}" > "$dir/bare.argv"
}

boot_bare() {
    local -a argv
    mapfile -t argv < "$dir/bare.argv"
    timeout 120 "${argv[@]}" </dev/null >/dev/null 2>>"$dir/bare.err"
}

capture_qemu_argv
bare_argv

# One untimed run of each: page cache, first-run costs.
run_true warm
boot_bare || { echo "bench: the bare boot failed:" >&2; cat "$dir/bare.err" >&2; exit 1; }

for ((i = 0; i < n; i++)); do
    t0=$(now); run_true "$i"; t1=$(now)
    echo $((t1 - t0)) >> "$dir/runv.ns"
    t0=$(now); boot_bare; t1=$(now)
    echo $((t1 - t0)) >> "$dir/bare.ns"
done

r=$(median < "$dir/runv.ns")
b=$(median < "$dir/bare.ns")
accel=$(grep -A1 -x -- -accel "$dir/bare.argv" | tail -n 1 || true)
machine=$(grep -A1 -x -- -machine "$dir/bare.argv" | tail -n 1 || true)
echo "runv run true: median $r s; bare boot: median $b s; ratio $(awk -v r="$r" -v b="$b" 'BEGIN { printf "%.2f", r / b }') (N=$n, ${machine%%,*}, ${accel%%,*})"
