#!/usr/bin/env bats
# Interactive use and container I/O through hyperd, end to end through
# hyperctl: run -it (driven through script(1), which gives it a
# terminal), run -i with piped stdin, exec -it and -d, attach, logs -f and
# -t, and a hyperd killed while a container prints: its hyperd-shim keeps
# the log and the attach socket (docs/shim.md). A private hyperd per file
# (hyperd-containers-helpers.bash), subnet 10.214.0.0/24.

load hyperd-containers-helpers

setup_file() {
    hyc_setup_file 10.214.0.0/24
    export IMG
}

teardown_file() {
    hyc_teardown_file
}

setup() {
    hyc_setup
}

teardown() {
    hyc_teardown
}

# hct_script INPUT-COMMANDS HYPERCTL-ARGS...: runs hyperctl under script(1) (a pty on its stdin and
# stdout), typing each line of $1 a moment apart; its output in $output, its status in $status.
# The terminal's size is $HCT_SIZE ("ROWS COLS", default 24 80).
hct_script() {
    export HCT_SIZE=${HCT_SIZE:-24 80}
    local input=$1
    shift
    run bash -c '
        input=$1; shift
        { sleep 1; while IFS= read -r l; do printf "%s\n" "$l"; sleep 0.5; done <<< "$input"; sleep 2; } |
            timeout 120 script -qefc "stty rows ${HCT_SIZE% *} cols ${HCT_SIZE#* }; $(printf "%q " "$@")" /dev/null
    ' _ "$input" "$HYPERCTL" -H "unix://$HYD_SOCK" "$@"
}

@test "hyperd interactive: run -it through a terminal: a typed command runs, its exit code passes through" {
    hct_script $'echo typed-$((6*7))\nexit 7' run -it --rm "$IMG" sh
    echo "$output"
    [ "$status" -eq 7 ]
    [[ "$output" == *typed-42* ]]
    # The terminal is the container's: a tty on its stdin, with the size of script's.
    HCT_SIZE="30 100" hct_script $'tty; stty size; exit 0' run -it --rm "$IMG" sh
    [ "$status" -eq 0 ]
    [[ "$output" == */dev/pts/* ]]
    [[ "$output" == *"30 100"* ]]
    [ -z "$(hc ps -a -q)" ]
    # ctrl-p ctrl-q detaches and leaves it running; attach comes back to it, with stdin and the tty.
    # With --rm, hyperd removes it once it has ended, after the attached client has had the exit code.
    hct_script $'\x10\x11' run -it --rm --name dk "$IMG" sh
    [ "$status" -eq 0 ]
    [[ "$output" == *"detached from"* ]]
    [ "$(hc inspect dk | jq -r '.[0].status, .[0].autoRemove')" = "running
true" ]
    hct_script $'echo back-$((3*3))\nexit 9' attach dk
    [ "$status" -eq 9 ]
    [[ "$output" == *back-9* ]]
    for i in $(seq 150); do
        hc inspect dk > /dev/null 2>&1 || break
        sleep 0.1
    done
    run hc inspect dk
    [ "$status" -ne 0 ]
    # -t without a terminal on stdin is refused with what to do, and makes nothing.
    run hc run -it "$IMG" sh < /dev/null
    [ "$status" -eq 125 ]
    [[ "$output" == *"not a TTY"*"use -i without -t"* ]]
    [ -z "$(hc ps -a -q)" ]
}

@test "hyperd interactive: run -i passes piped stdin and its end; a larger input comes back whole" {
    run bash -c 'echo data-in | timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" run -i --rm "$IMG" cat'
    [ "$status" -eq 0 ]
    [ "$output" = data-in ]
    head -c 3000000 /dev/urandom > "$HYI_DIR/big"
    want=$(sha256sum < "$HYI_DIR/big")
    got=$(timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" run -i --rm "$IMG" cat < "$HYI_DIR/big" | sha256sum)
    rm -f "$HYI_DIR/big"
    [ "$got" = "$want" ]
    # stdout and stderr stay apart; the exit code passes through.
    run bash -c 'timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" run --rm "$IMG" sh -c "echo to-out; echo to-err >&2; exit 4" 2>/dev/null'
    [ "$status" -eq 4 ]
    [ "$output" = to-out ]
}

@test "hyperd interactive: create, start -a; exec -it through a terminal; exec -d" {
    id=$(hc create -i --name c "$IMG" sh -c 'read line; echo "got $line"; exit 3')
    [ ${#id} -eq 64 ]
    [ "$(hc inspect c | jq -r '.[0].status')" = created ]
    run bash -c 'echo hello | timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" start -a -i c'
    [ "$status" -eq 3 ]
    [ "$output" = "got hello" ]
    run hc start c
    [ "$status" -eq 1 ]
    [[ "$output" == *"only a created container can be started"* ]]
    hc rm c
    hc run -d --name e "$IMG" sh -c 'while [ ! -e /tmp/d ]; do sleep 0.1; done; echo saw-d; sleep 600'
    # A resize while it runs (what hyperctl does on SIGWINCH), once its shim is there.
    (
        for _ in $(seq 100); do
            eid=$(ls "$HYD_ROOT"/containers/*/exec 2>/dev/null | head -n 1)
            [ -n "$eid" ] && break
            sleep 0.1
        done
        sleep 2
        api POST "/v1/exec/$eid/resize?h=44&w=132" > "$HYI_DIR/resize.out"
    ) &
    rpid=$!
    HCT_SIZE="33 111" hct_script $'echo exec-$((2*21)) > /tmp/x; cat /tmp/x; stty size; echo uid-$(id -u)\nsleep 4; stty size\nexit 5' exec -it -u user e sh
    wait $rpid
    echo "$output"
    [ "$status" -eq 5 ]
    [[ "$output" == *exec-42* ]]
    # The terminal's size from the start and after the resize, and a user by name from the image's /etc/passwd.
    [[ "$output" == *"33 111"* ]]
    [[ "$output" == *"44 132"* ]]
    [ "$(tail -n 1 "$HYI_DIR/resize.out")" = 200 ]
    [[ "$output" == *uid-1000* ]]
    # -d: hyperctl returns at once, the command goes on; its effect shows. Execs started at
    # the same moment all run (runv's monitor holds a client's request back while an agent call
    # of another is waiting for its reply: libhyper's agent.c).
    run hc exec -d e sh -c 'sleep 1; echo detached > /tmp/d'
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    hc exec e sh -c 'echo one > /tmp/one' & p1=$!
    hc exec e sh -c 'echo two > /tmp/two' & p2=$!
    run hc exec e cat /tmp/nonexistent
    [ "$status" -eq 1 ]
    wait $p1
    wait $p2
    hyc_wait_log e saw-d
    sleep 0.5
    [ "$(hc exec e cat /tmp/d /tmp/one /tmp/two)" = "detached
one
two" ]
    [ "$(hc inspect e | jq -r '.[0].status')" = running ]
    # exec -i with a pipe, and its exit code.
    run bash -c 'echo piped | timeout 60 "$HYPERCTL" -H "unix://$HYD_SOCK" exec -i e sh -c "cat; exit 6"'
    [ "$status" -eq 6 ]
    [ "$output" = piped ]
    run hc exec -it e sh < /dev/null
    [ "$status" -eq 125 ]
    [[ "$output" == *"not a TTY"* ]]
    # An upgrade libmicrohttpd would refuse (HTTP/1.0; a Connection header without the token "upgrade")
    # is answered 400 before any exec is started, and nothing is left running.
    execs="$HYD_ROOT/containers/$(hc inspect e | jq -r '.[0].id')/exec"
    before=$(ls "$execs" | sort)
    run api POST /v1/containers/e/exec --http1.0 -H "Connection: Upgrade" -H "Upgrade: tcp" \
        -H "Content-Type: application/json" -d '{"cmd": ["sleep", "600"]}'
    [ "${lines[-1]}" = 400 ]
    [[ "$output" == *"an HTTP/1.1 request with"* ]]
    run api POST /v1/containers/e/exec -H "Connection: x-upgrade" -H "Upgrade: tcp" \
        -H "Content-Type: application/json" -d '{"cmd": ["sleep", "600"]}'
    [ "${lines[-1]}" = 400 ]
    run api POST "/v1/containers/e/attach?stream=1" -H "Connection: keep-alive, x-upgrade" -H "Upgrade: tcp"
    [ "${lines[-1]}" = 400 ]
    [ -z "$(comm -13 <(echo "$before") <(ls "$execs" | sort))" ]
}

@test "hyperd interactive: attach sees new output and the exit code; logs -f ends with the container; logs -t" {
    hc run -d --name a "$IMG" sh -c 'echo early; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo after-attach; sleep 1; echo two >&2; exit 3'
    hyc_wait_log a early
    # Its stdin ends at once (a half-close hyperd must not spin on).
    cpu0=$(awk '{print $14 + $15}' "/proc/$(cat "$HYI_DIR/hyperd.pid")/stat")
    timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" attach a < /dev/null > "$HYI_DIR/attach.out" 2>&1 &
    apid=$!
    timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" logs -f a > "$HYI_DIR/follow.out" 2>&1 &
    fpid=$!
    sleep 1
    hc exec a touch /tmp/go
    st=0
    wait $apid || st=$?
    [ "$st" -eq 3 ]
    cpu1=$(awk '{print $14 + $15}' "/proc/$(cat "$HYI_DIR/hyperd.pid")/stat")
    echo "hyperd: $((cpu1 - cpu0)) ticks during the attach" >&3
    [ $((cpu1 - cpu0)) -lt 100 ]
    st=0
    wait $fpid || st=$?
    [ "$st" -eq 0 ]
    # attach: only what came after it; logs -f: all of it, and it ended once the container had.
    [ "$(cat "$HYI_DIR/attach.out")" = "after-attach
two" ]
    [ "$(cat "$HYI_DIR/follow.out")" = "early
after-attach
two" ]
    run hc logs -t a
    [ "${#lines[@]}" -eq 3 ]
    for l in "${lines[@]}"; do
        [[ "$l" =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]{9}Z\ (early|after-attach|two)$ ]]
    done
    [ "$(hc logs --tail 1 a 2>&1)" = two ]
    [ "$(hc logs a 2>/dev/null)" = "early
after-attach" ]
    run hc attach --no-stdin a
    [ "$status" -eq 1 ]
    [[ "$output" == *"is not running"*"hyperctl logs"* ]]
}

@test "hyperd interactive: hyperd killed while a container prints; the log goes on, attach works after a restart" {
    hc run -d --name k "$IMG" sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo n-$i; sleep 0.1; done'
    hyc_wait_log k n-2
    hyc_stop KILL
    sleep 2
    # The shim lives on, in a session of its own, and writes the log.
    before=$(wc -l < "$HYD_ROOT/containers/$(ls "$HYD_ROOT/containers")/log")
    sleep 1
    after=$(wc -l < "$HYD_ROOT/containers/$(ls "$HYD_ROOT/containers")/log")
    [ "$after" -gt "$before" ]
    hyc_start
    # Everything written while hyperd was down is there.
    n=$(hc logs k | wc -l)
    [ "$n" -ge "$after" ]
    run timeout 3 "$HYPERCTL" -H "unix://$HYD_SOCK" attach --no-stdin k
    [ "$status" -eq 124 ]
    [[ "${lines[-1]}" =~ ^n-[0-9]+$ ]]
    last=${lines[-1]#n-}
    [ "$last" -gt "$n" ]
    hc rm -f k
}
