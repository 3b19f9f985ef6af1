#!/usr/bin/env bats
# runv under a real client: Debian's containerd 1.6 and its runc shim
# (io.containerd.runc.v2), driven by ctr with --runc-binary. Every test does
# the same with runc, the reference, and compares: what a user of ctr sees
# must not change when runc becomes runv, except where it differs by design
# (the pids of the processes, which under runv live in a VM).
#
# The shim calls, in order: create --bundle --pid-file [--console-socket],
# start, exec --process --detach --pid-file [--console-socket], ps --format
# json, kill ID SIGNAL, delete [--force]; all with --root, --log FILE and
# --log-format json (see docs/runv-compat.md).

load helpers
load client-helpers

setup_file() {
    hyt_ctrd_setup_file
}

teardown_file() {
    hyt_ctrd_teardown_file
}

teardown() {
    hyt_ctrd_teardown
}

# Fails, saying which verbs runv still lacks, before the runv half of a test.
need_runv() {
    hyt_client_ready runv
}

# ctr run --rm, stdio as FIFOs: output, stderr and exit code.
echo_and_exit() {
    local rt=$1 id
    id=$(hyt_new_id "$rt" echo)
    hyt_ctr_run "$rt" "$id" echo --rm -- echo hi
    id=$(hyt_new_id "$rt" exit)
    hyt_ctr_run "$rt" "$id" exit --rm -- sh -c 'echo out; echo err >&2; exit 3'
    # The kernel: the host's under runc, the VM's under runv.
    id=$(hyt_new_id "$rt" kernel)
    hyt_ctr_run "$rt" "$id" kernel --rm -- uname -r
}

@test "ctr run --rm: output, exit codes, and a kernel of its own" {
    echo_and_exit ref
    w=$HYT_DIR/work/ref
    hyt_is "$w/echo.out" hi
    hyt_is "$w/echo.rc" 0
    hyt_is "$w/exit.out" out
    hyt_is "$w/exit.err" err
    hyt_is "$w/exit.rc" 3
    hyt_is "$w/kernel.out" "$(uname -r)"
    need_runv
    echo_and_exit runv
    hyt_same_as_ref echo.out echo.err echo.rc exit.out exit.err exit.rc
    # By design: the container ran in a VM, on the guest kernel.
    if [ -z "${HYT_CLIENT_RUNV:-}" ] && [ "$(cat "$HYT_DIR/work/runv/kernel.out")" = "$(uname -r)" ]; then
        echo "runv's container ran on the host kernel"
        false
    fi
}

# ctr run --rm -t: the runtime hands a pty master to the shim's console
# socket; ctr needs a terminal of its own, so it runs under script.
run_tty() {
    local rt=$1 id w rc
    id=$(hyt_new_id "$rt" tty)
    w=$(hyt_w "$rt")
    rc=0
    timeout -k 5 "${HYT_TIMEOUT:-180}" script -qec "ctr -a '$HYT_CTRD_SOCK' run $(hyt_ctr_rt_flags "$rt") --rm -t \
        '$HYT_IMAGE' '$id' sh -c 'tty; echo hi; exit 4'" /dev/null \
        </dev/null >"$w/tty.raw" 2>&1 || rc=$?
    echo "$rc" >"$w/tty.rc"
    hyt_untty <"$w/tty.raw" >"$w/tty.out"
}

@test "ctr run -t: a terminal, and the exit code through it" {
    run_tty ref
    w=$HYT_DIR/work/ref
    hyt_is "$w/tty.out" "$(printf '/dev/pts/0\nhi')"
    hyt_is "$w/tty.rc" 4
    need_runv
    run_tty runv
    hyt_same_as_ref tty.out tty.rc
}

# ctr run -d, then ctr task exec: without a terminal (output, stderr, exit
# code) and with one (-t, under script).
exec_in_task() {
    local rt=$1 id w rc
    id=$(hyt_new_id "$rt" exec)
    w=$(hyt_w "$rt")
    hyt_ctr_run "$rt" "$id" run -d -- sleep 600
    hyt_ctr_wait_status "$id" RUNNING >"$w/status" || true
    rc=0
    hyt_ctr task exec --fifo-dir "$HYT_CTRD/fifo" --exec-id e1 "$id" \
        sh -c 'echo x; echo y >&2; exit 5' </dev/null >"$w/e1.out" 2>"$w/e1.err" || rc=$?
    echo "$rc" >"$w/e1.rc"
    rc=0
    hyt_ctr task exec --fifo-dir "$HYT_CTRD/fifo" --exec-id e2 --cwd /www "$id" \
        cat index.html </dev/null >"$w/e2.out" 2>"$w/e2.err" || rc=$?
    echo "$rc" >"$w/e2.rc"
    rc=0
    timeout -k 5 "${HYT_TIMEOUT:-180}" script -qec "ctr -a '$HYT_CTRD_SOCK' task exec --fifo-dir '$HYT_CTRD/fifo' -t \
        --exec-id e3 '$id' sh -c 'tty; echo t; exit 6'" /dev/null </dev/null >"$w/e3.raw" 2>&1 || rc=$?
    echo "$rc" >"$w/e3.rc"
    # ctr may race the process's exit with a resize of its pty and log an
    # error about it (runc too): that line is ctr's, not the container's.
    hyt_untty <"$w/e3.raw" | grep -v 'resize pty' >"$w/e3.out"
    hyt_ctr task kill -s SIGKILL "$id" || true
    hyt_ctr_wait_status "$id" STOPPED >>"$w/status" || true
    hyt_ctr task delete "$id" >/dev/null 2>&1 || true
    hyt_ctr container rm "$id" || true
}

@test "ctr task exec: with and without a terminal, exit codes" {
    exec_in_task ref
    w=$HYT_DIR/work/ref
    hyt_is "$w/e1.out" x
    hyt_is "$w/e1.err" y
    hyt_is "$w/e1.rc" 5
    hyt_is "$w/e2.out" "$HYT_HTTP_TEXT"
    hyt_is "$w/e3.out" "$(printf '/dev/pts/0\nt')"
    hyt_is "$w/e3.rc" 6
    need_runv
    exec_in_task runv
    hyt_same_as_ref status e1.out e1.err e1.rc e2.out e2.err e2.rc e3.out e3.rc
}

# ctr task ps, kill -s SIGKILL from outside (137), task delete, container rm.
ps_kill_delete() {
    local rt=$1 id w pid rc
    id=$(hyt_new_id "$rt" kill)
    w=$(hyt_w "$rt")
    hyt_ctr_run "$rt" "$id" run -d -- sleep 600
    hyt_ctr_wait_status "$id" RUNNING >"$w/status" || true
    rc=0
    hyt_ctr task ps "$id" >"$w/ps.raw" 2>"$w/ps.err" || rc=$?
    echo "$rc" >"$w/ps.rc"
    # The pids differ by design: runc's are the host's, runv's are the
    # guest's. Keep the shape: the header and one line per process.
    sed -E '2,$s/^[0-9]+ +/PID /' "$w/ps.raw" | tr -s ' ' >"$w/ps.out"
    pid=$(hyt_ctr task ls | awk -v id="$id" '$1 == id {print $2}')
    # The task's pid (the one in --pid-file) is a live host process.
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        echo "task pid is a live host process" >"$w/pid.out"
    else
        echo "task pid '$pid' is no live host process" >"$w/pid.out"
    fi
    rc=0
    hyt_ctr task kill -s SIGKILL "$id" >"$w/kill.out" 2>&1 || rc=$?
    echo "$rc" >"$w/kill.rc"
    hyt_ctr_wait_status "$id" STOPPED >>"$w/status" || true
    # ctr reports the exit status when it deletes the task.
    rc=0
    hyt_ctr task delete "$id" >"$w/delete.out" 2>&1 || rc=$?
    echo "$rc" >"$w/delete.rc"
    sed -E -e 's/^time="[^"]*" //' -e "s/$id/ID/g" "$w/delete.out" >"$w/delete.txt"
    rc=0
    hyt_ctr container rm "$id" >"$w/rm.out" 2>&1 || rc=$?
    echo "$rc" >"$w/rm.rc"
    hyt_ctr task ls -q >"$w/tasks"
    hyt_ctr containers ls -q >"$w/containers"
}

@test "ctr task ps, kill -s SIGKILL (137), task delete, container rm" {
    ps_kill_delete ref
    w=$HYT_DIR/work/ref
    sed -n 2,\$p "$w/ps.out" >"$w/ps.procs"
    hyt_is "$w/ps.procs" "PID -"
    grep -q 'exit code 137' "$w/delete.txt"
    hyt_is "$w/tasks" ""
    hyt_is "$w/containers" ""
    need_runv
    ps_kill_delete runv
    hyt_same_as_ref status ps.out ps.err ps.rc pid.out kill.out kill.rc \
        delete.txt delete.rc rm.out rm.rc tasks containers
}
