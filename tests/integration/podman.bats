#!/usr/bin/env bats
# runv under a real client: Debian's Podman 4.3 with conmon 2.1 and a
# netavark bridge network. Every test does the same with runc, the
# reference, and compares: what a Podman user sees must not change when the
# runtime is runv.
#
# conmon calls: create --bundle --pid-file [--console-socket], start, kill
# ID 15 / 9, delete --force, exec --pid-file --process --detach [--tty
# --console-socket], state; all with --log FILE --log-format=json (runv is
# in runtime_supports_json) and never with --root: runv's default root
# (/run/runv) must be stable. Podman remembers a container's runtime, so
# exec, stop and rm need no --runtime.

load helpers
load client-helpers

setup_file() {
    hyt_podman_setup_file
}

teardown_file() {
    hyt_podman_teardown_file
}

teardown() {
    hyt_podman_teardown
}

need_runv() {
    hyt_client_ready runv
}

# podman run --rm on the default network: output, stderr, exit codes.
echo_and_exit() {
    local rt=$1 id
    id=$(hyt_new_id "$rt" echo)
    hyt_podman_run "$rt" "$id" echo --rm -- echo hi
    id=$(hyt_new_id "$rt" exit)
    hyt_podman_run "$rt" "$id" exit --rm -- sh -c 'echo out; echo err >&2; exit 3'
    # The kernel: the host's under runc, the VM's under runv.
    id=$(hyt_new_id "$rt" kernel)
    hyt_podman_run "$rt" "$id" kernel --rm -- uname -r
}

@test "podman run --rm: output, exit codes, and a kernel of its own" {
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

# podman run -i: stdin reaches the container whole, and its end too.
run_stdin() {
    local rt=$1 id w
    w=$(hyt_w "$rt")
    head -c 300000 /bin/busybox >"$w/in"
    id=$(hyt_new_id "$rt" stdin)
    HYT_STDIN=$w/in hyt_podman_run "$rt" "$id" stdin --rm -i -- \
        sh -c 'md5sum; echo done'
}

@test "podman run -i: stdin to the container, end of input included" {
    run_stdin ref
    w=$HYT_DIR/work/ref
    hyt_is "$w/stdin.out" "$(md5sum <"$w/in")
done"
    hyt_is "$w/stdin.rc" 0
    need_runv
    run_stdin runv
    hyt_same_as_ref stdin.out stdin.err stdin.rc
}

# podman run -t: conmon passes --console-socket and gets a pty master.
run_tty() {
    local rt=$1 id w rc=0
    id=$(hyt_new_id "$rt" tty)
    w=$(hyt_w "$rt")
    timeout -k 5 "${HYT_TIMEOUT:-180}" script -qec "$(hyt_podman_cmdline "$rt") run ${HYT_ULIMITS[*]} --rm -t --name '$id' \
        '$HYT_IMAGE' sh -c 'tty; echo hi; exit 4'" /dev/null </dev/null >"$w/tty.raw" 2>&1 || rc=$?
    echo "$rc" >"$w/tty.rc"
    hyt_untty <"$w/tty.raw" >"$w/tty.out"
}

@test "podman run -t: a terminal, and the exit code through it" {
    run_tty ref
    w=$HYT_DIR/work/ref
    hyt_is "$w/tty.out" "$(printf '/dev/pts/0\nhi')"
    hyt_is "$w/tty.rc" 4
    need_runv
    run_tty runv
    hyt_same_as_ref tty.out tty.rc
}

# podman run -d, exec with and without -t, stop (SIGTERM reaches the
# container's handler within stop's short timeout), rm.
exec_stop() {
    local rt=$1 id w rc
    id=$(hyt_new_id "$rt" exec)
    w=$(hyt_w "$rt")
    hyt_podman_run "$rt" "$id" run -d -- \
        sh -c 'trap "echo got TERM; exit 7" TERM; echo started; while :; do sleep 0.1; done'
    hyt_podman_wait_running "$id" >"$w/status" || true
    rc=0
    hyt_podman exec "$id" sh -c 'echo x; echo y >&2; exit 5' \
        </dev/null >"$w/e1.out" 2>"$w/e1.err" || rc=$?
    echo "$rc" >"$w/e1.rc"
    rc=0
    hyt_podman exec -w /www "$id" cat index.html </dev/null >"$w/e2.out" 2>"$w/e2.err" || rc=$?
    echo "$rc" >"$w/e2.rc"
    rc=0
    timeout -k 5 "${HYT_TIMEOUT:-180}" script -qec "$(hyt_podman_cmdline) exec -t '$id' sh -c 'tty; echo t; exit 6'" /dev/null \
        </dev/null >"$w/e3.raw" 2>&1 || rc=$?
    echo "$rc" >"$w/e3.rc"
    hyt_untty <"$w/e3.raw" >"$w/e3.out"
    rc=0
    # Within the 10 s, or podman would SIGKILL and the exit code be 137.
    hyt_podman stop -t 10 "$id" >"$w/stop.out" 2>"$w/stop.err" || rc=$?
    echo "$rc" >"$w/stop.rc"
    hyt_podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id" >"$w/stopped" 2>&1 || true
    hyt_podman logs "$id" >"$w/logs" 2>&1 || true
    rc=0
    hyt_podman rm "$id" >"$w/rm.out" 2>&1 || rc=$?
    echo "$rc" >"$w/rm.rc"
    sed -i "s/$id/NAME/g" "$w/stop.out" "$w/rm.out"
}

@test "podman exec with and without -t, stop with a short timeout, rm" {
    exec_stop ref
    w=$HYT_DIR/work/ref
    hyt_is "$w/e1.out" x
    hyt_is "$w/e1.err" y
    hyt_is "$w/e1.rc" 5
    hyt_is "$w/e2.out" "$HYT_HTTP_TEXT"
    hyt_is "$w/e3.out" "$(printf '/dev/pts/0\nt')"
    hyt_is "$w/e3.rc" 6
    hyt_is "$w/stop.rc" 0
    hyt_is "$w/stopped" "exited 7"
    hyt_is "$w/logs" "$(printf 'started\ngot TERM')"
    need_runv
    exec_stop runv
    hyt_same_as_ref status e1.out e1.err e1.rc e2.out e2.err e2.rc e3.out e3.rc \
        stop.out stop.err stop.rc stopped logs rm.out rm.rc
}

# A bridge network of this test run's own, busybox httpd in the container
# on port 8080, published on 127.0.0.1: the host fetches the image's file.
web() {
    local rt=$1 id w port rc i
    id=$(hyt_new_id "$rt" web)
    w=$(hyt_w "$rt")
    port=$(hyt_free_port)
    hyt_podman_run "$rt" "$id" run -d --network "$HYT_NET" -p "127.0.0.1:$port:8080" -- \
        httpd -f -p 8080 -h /www
    rc=1
    for ((i = 0; i < 600; i++)); do
        curl -sS --max-time 5 "http://127.0.0.1:$port/index.html" >"$w/curl.out" 2>"$w/curl.err" &&
            { rc=0; break; }
        sleep 0.1
    done
    echo "$rc" >"$w/curl.rc"
    hyt_podman exec "$id" ip -4 -o addr show dev eth0 >"$w/addr.raw" 2>&1 || true
    awk '{print $2, $3, $4}' "$w/addr.raw" | sed -E 's/\.[0-9]+\//.N\//' >"$w/addr"
    rc=0
    hyt_podman stop -t 1 "$id" >/dev/null 2>&1 || rc=$?
    hyt_podman rm "$id" >/dev/null 2>&1 || rc=$?
    echo "$rc" >"$w/rm.rc"
}

@test "podman network: a published port reaches busybox httpd from the host" {
    HYT_NET=hyt-net-$$-$RANDOM
    HYT_SUBNET=10.213.$((RANDOM % 250)).0/24
    hyt_podman network create --disable-dns --subnet "$HYT_SUBNET" "$HYT_NET" >/dev/null
    web ref
    w=$HYT_DIR/work/ref
    hyt_is "$w/curl.out" "$HYT_HTTP_TEXT"
    # The container has the address Podman gave it on the test's network.
    hyt_is "$w/addr" "eth0 inet ${HYT_SUBNET%.*}.N/24"
    hyt_is "$w/rm.rc" 0
    if need_runv; then
        web runv
        hyt_same_as_ref curl.out curl.rc addr rm.rc
        hyt_podman network rm "$HYT_NET" >/dev/null
    else
        hyt_podman network rm "$HYT_NET" >/dev/null
        false
    fi
}
