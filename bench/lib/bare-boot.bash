# Shared by the benchmarks that compare something with a bare VM boot
# (runv-run.sh, hyperctl-run.sh). The bare boot's command line is not
# written here: it is read from a QEMU that runv itself started (from
# /proc), with the initrd swapped for the power-off one and the devices that
# need runv's sockets, fds or virtiofsd left out, so that the baseline
# follows the QEMU driver as it changes.
#
# The caller sets BB_DIR (a scratch folder) and BB_POWEROFF_INITRD, and
# makes the kernel that runv boots a link under BB_DIR, so that BB_DIR on a
# command line tells that QEMU apart from every other on the machine.

bb_now() { date +%s%N; }

# Reads nanoseconds, one a line; prints the median in seconds.
bb_median() {
    sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m / 1e9 }'
}

bb_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# bb_find_qemu EXCLUDE_EXE: the pid of a process naming BB_DIR/vm/ whose binary is not EXCLUDE_EXE.
bb_find_qemu() {
    local p
    for p in $(pgrep -f -- "$BB_DIR/vm/" || true); do
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" != "$1" ] && { echo "$p"; return 0; }
    done
    return 1
}

# bb_capture_argv PID: keeps the QEMU's argv in BB_DIR/qemu.argv.
bb_capture_argv() {
    tr '\0' '\n' < "/proc/$1/cmdline" > "$BB_DIR/qemu.argv"
}

# Rewrites BB_DIR/qemu.argv into BB_DIR/bare.argv: a boot of the power-off initrd.
bb_bare_argv() {
    local -a in out
    local i opt val
    mapfile -t in < "$BB_DIR/qemu.argv"
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
            -initrd) out+=(-initrd "$BB_POWEROFF_INITRD") ;;
            -mon | -qmp | -pidfile | -fsdev | -netdev) ;;
            -chardev)
                case "$val" in
                    file,*) out+=(-chardev "$(sed "s|path=.*|path=$BB_DIR/console.log|" <<<"$val")") ;;
                    *) ;; # sockets runv passed as fds or virtiofsd's: not ours
                esac ;;
            -device)
                case "$val" in
                    *chardev=* | *fsdev=* | *netdev=* | vhost-user-*) ;;
                    *) out+=(-device "$val") ;;
                esac ;;
            *) out+=("$opt" "$val") ;;
        esac
    done
    printf '%s\n' "${out[@]}" > "$BB_DIR/bare.argv"
}

bb_boot_bare() {
    local -a argv
    mapfile -t argv < "$BB_DIR/bare.argv"
    timeout 120 "${argv[@]}" </dev/null >/dev/null 2>>"$BB_DIR/bare.err"
}

# "microvm, tcg": what the bare boot ran on.
bb_describe() {
    local accel machine
    accel=$(grep -A1 -x -- -accel "$BB_DIR/bare.argv" | tail -n 1 || true)
    machine=$(grep -A1 -x -- -machine "$BB_DIR/bare.argv" | tail -n 1 || true)
    echo "${machine%%,*}, ${accel%%,*}"
}

# bb_compare LABEL N FN: times FN against the bare boot, N of each in turn,
# after one untimed run of each (page cache, first-run costs); FN gets "warm",
# then the run's index. Prints both medians and their ratio.
bb_compare() {
    local label=$1 n=$2 fn=$3 i t0 t1 r b
    "$fn" warm
    bb_boot_bare || { echo "bench: the bare boot failed:" >&2; cat "$BB_DIR/bare.err" >&2; return 1; }
    for ((i = 0; i < n; i++)); do
        t0=$(bb_now); "$fn" "$i"; t1=$(bb_now)
        echo $((t1 - t0)) >> "$BB_DIR/cmd.ns"
        t0=$(bb_now); bb_boot_bare; t1=$(bb_now)
        echo $((t1 - t0)) >> "$BB_DIR/bare.ns"
    done
    r=$(bb_median < "$BB_DIR/cmd.ns")
    b=$(bb_median < "$BB_DIR/bare.ns")
    echo "$label: median $r s; bare boot: median $b s; ratio $(bb_ratio "$r" "$b") (N=$n, $(bb_describe))"
}
