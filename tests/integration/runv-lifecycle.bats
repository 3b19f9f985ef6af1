#!/usr/bin/env bats
# The runc contract beyond `run`: create/start/state/kill/delete, exec, ps,
# list, pause/resume, console sockets, the JSON log, spec mounts and a joined
# network namespace, each checked on runv (and where a message or a status
# is runc's, against runc too). Every test leaves nothing behind.

load helpers

setup_file() {
    hyt_setup_file
    export RECVTTY=${RECVTTY:-$(dirname "$RUNV")/../../tests/helpers/recvtty}
}

teardown_file() {
    hyt_teardown_file
}

teardown() {
    [ -n "${NETNS:-}" ] && ip netns del "$NETNS" 2>/dev/null
    [ -n "${PEERNS:-}" ] && ip netns del "$PEERNS" 2>/dev/null
    hyt_teardown
}

rv() {
    "$RUNV" --root "$HYT_DIR/runv" "$@"
}

status_of() {
    rv state "$1" | jq -r .status
}

@test "create, start, state, kill, delete: the statuses runc reports" {
    b=$(hyt_bundle sleeper '.process.args = ["sleep", "600"]')
    rv create --bundle "$b" --pid-file "$b/pid" c1 </dev/null >/dev/null 2>&1
    [ "$(status_of c1)" = created ]
    # The pid file: the monitor's pid, no trailing newline, a live process.
    [ "$(tail -c 1 "$b/pid" | od -An -c | tr -d ' ')" != '\n' ]
    pid=$(cat "$b/pid")
    kill -0 "$pid"
    [ "$(rv state c1 | jq -r .pid)" = "$pid" ]
    [ "$(rv state c1 | jq -r .bundle)" = "$b" ]
    [ "$(rv state c1 | jq -r .ociVersion)" = 1.0.2-dev ]
    rv start c1
    [ "$(status_of c1)" = running ]
    run rv start c1
    [ "$status" = 1 ]
    [[ "$output" == *"cannot start an already running container"* ]]
    rv kill c1 KILL
    for i in $(seq 50); do [ "$(status_of c1)" = stopped ] && break; sleep 0.1; done
    [ "$(status_of c1)" = stopped ]
    [ "$(rv state c1 | jq -r .pid)" = 0 ]
    run rv kill c1 KILL
    [ "$status" = 1 ]
    [[ "$output" == *"container not running"* ]]
    rv delete c1
    run rv state c1
    [ "$status" = 1 ]
    [[ "$output" == *"does not exist"* ]]
}

@test "errors clients match on: duplicate id, unknown id, delete while running" {
    b=$(hyt_bundle dup '.process.args = ["sleep", "600"]')
    rv create --bundle "$b" d1 </dev/null >/dev/null 2>&1
    run rv create --bundle "$b" d1
    [ "$status" = 1 ]
    [[ "$output" == *"container with given ID already exists"* ]]
    # The failed create left the first container as it was.
    [ "$(status_of d1)" = created ]
    rv start d1
    run rv delete d1
    [ "$status" = 1 ]
    [[ "$output" == *"cannot delete container d1 that is not stopped"* ]]
    [ "$(status_of d1)" = running ]
    rv delete --force d1
    run rv state d1
    [[ "$output" == *"does not exist"* ]]
    run rv kill nosuch KILL
    [ "$status" = 1 ]
    [[ "$output" == *"does not exist"* ]]
    run rv delete nosuch
    [ "$status" = 1 ]
    [[ "$output" == *"does not exist"* ]]
    rv delete --force nosuch
}

@test "a created container deleted without start, and a killed created container" {
    b=$(hyt_bundle created '.process.args = ["true"]')
    rv create --bundle "$b" --pid-file "$b/pid" k1 </dev/null >/dev/null 2>&1
    rv create --bundle "$b" k2 </dev/null >/dev/null 2>&1
    pid=$(cat "$b/pid")
    rv delete k1
    run kill -0 "$pid"
    [ "$status" -ne 0 ]
    rv kill k2 KILL
    for i in $(seq 50); do [ "$(status_of k2)" = stopped ] && break; sleep 0.1; done
    [ "$(status_of k2)" = stopped ]
    rv delete k2
}

@test "bad input: a broken config.json or a missing rootfs is an error that leaves nothing" {
    b=$(hyt_bundle broken)
    echo '{"process": ' > "$b/config.json"
    run rv create --bundle "$b" e1
    [ "$status" = 1 ]
    [[ "$output" == *"not a JSON object"* ]]
    b=$(hyt_bundle noargs '.process.args = []')
    run rv run --bundle "$b" e2
    [ "$status" = 1 ]
    [[ "$output" == *"process.args must not be empty"* ]]
    b=$(hyt_bundle noroot '.root.path = "missing"')
    run rv create --bundle "$b" e3
    [ "$status" = 1 ]
    [[ "$output" == *"rootfs"* ]]
    run rv create --bundle "$b" "bad/id"
    [ "$status" = 1 ]
    [ -z "$(ls "$HYT_DIR/runv")" ]
}

@test "--log --log-format json: the error line shims read" {
    b=$(hyt_bundle logjson '.process.args = []')
    run rv --log "$HYT_DIR/work/log.json" --log-format json create --bundle "$b" l1
    [ "$status" = 1 ]
    line=$(tail -n 1 "$HYT_DIR/work/log.json")
    [ "$(jq -r .level <<<"$line")" = error ]
    [[ "$(jq -r .msg <<<"$line")" == *"process.args must not be empty"* ]]
    jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' <<<"$line"
}

@test "exec: output, exit code, env, cwd, user, --process, --detach with a pid file" {
    b=$(hyt_bundle execs '.process.args = ["sleep", "600"] | .process.env += ["FROM_SPEC=1"]')
    rv run --detach --bundle "$b" x1 </dev/null >/dev/null 2>&1
    [ "$(status_of x1)" = running ]
    run rv exec x1 sh -c 'echo out; echo err >&2; exit 7'
    [ "$status" = 7 ]
    [[ "$output" == *out* ]]
    [[ "$output" == *err* ]]
    [ "$(rv exec --env A=b x1 sh -c 'echo $A $FROM_SPEC')" = "b 1" ]
    [ "$(rv exec --cwd /tmp x1 pwd)" = /tmp ]
    [ "$(rv exec --user 1000:1000 x1 id -u)" = 1000 ]
    [ "$(rv exec --user 1000:1000 --additional-gids 10 x1 id -G)" = "1000 10" ]
    echo '{"args":["sh","-c","echo from-file; exit 3"],"cwd":"/","env":["PATH=/bin"]}' > "$b/p.json"
    run rv exec --process "$b/p.json" x1
    [ "$status" = 3 ]
    [ "$output" = from-file ]
    # Detached: the pid file names a host process that ends when the exec does.
    rv exec --detach --pid-file "$b/exec.pid" x1 sleep 1
    epid=$(cat "$b/exec.pid")
    kill -0 "$epid"
    [ "$(rv ps --format json x1 | jq -r 'map(tostring) | join(",")')" = "$(rv state x1 | jq -r .pid),$epid" ]
    for i in $(seq 100); do kill -0 "$epid" 2>/dev/null || break; sleep 0.1; done
    run kill -0 "$epid"
    [ "$status" -ne 0 ]
    [ "$(echo data | rv exec x1 cat)" = data ]
    rv delete --force x1
}

# A short process's EXIT comes in the same read as the EXEC's reply; the
# monitor once dropped it when the process was not registered yet, and the
# exec (or hyperctl exec through hyperd) then waited forever with its
# output already written (about 1 exec in 30 here). Each exec is bounded.
@test "exec: 100 short execs in a row, two at a time, each gets its output and its status" {
    b=$(hyt_bundle burst '.process.args = ["sleep", "600"]')
    rv run --detach --bundle "$b" r1 </dev/null >/dev/null 2>&1
    burst() {
        local i out rc
        for i in $(seq 50); do
            rc=0
            out=$(timeout -s KILL 20 "$RUNV" --root "$HYT_DIR/runv" exec r1 sh -c "echo $1-$i; exit $((i % 3))") || rc=$?
            [ "$out" = "$1-$i" ] && [ "$rc" = $((i % 3)) ] || { echo "exec $1-$i: status $rc, output [$out]"; return 1; }
        done
    }
    burst a > "$b/a.log" 2>&1 &
    apid=$!
    burst b > "$b/b.log" 2>&1 || { cat "$b/b.log" >&2; false; }
    wait "$apid" || { cat "$b/a.log" >&2; false; }
    # Detached, the host process that stands for the exec ends with it.
    for i in $(seq 10); do
        rv exec --detach --pid-file "$b/d.pid" r1 true
        epid=$(cat "$b/d.pid")
        for j in $(seq 100); do kill -0 "$epid" 2>/dev/null || break; sleep 0.1; done
        run kill -0 "$epid"
        [ "$status" -ne 0 ]
    done
    rv delete --force r1
}

@test "list, ps, pause and resume" {
    b=$(hyt_bundle lp '.root.readonly = false | .process.args = ["sh", "-c", "while true; do date +%s > /tmp/tick.new; mv /tmp/tick.new /tmp/tick; sleep 0.2; done"]')
    rv run --detach --bundle "$b" p1 </dev/null >/dev/null 2>&1
    # The loop's first write may come a while after the start under load: wait for it (bounded). Each
    # write is renamed into place: "> /tmp/tick" alone empties the file for as long as date takes to run.
    for i in $(seq 100); do [ -n "$(rv exec p1 cat /tmp/tick 2>/dev/null)" ] && break; sleep 0.1; done
    [ -n "$(rv exec p1 cat /tmp/tick)" ]
    [ "$(rv list -q)" = p1 ]
    [ "$(rv list --format json | jq -r '.[0].status')" = running ]
    rv list | grep -q '^p1 .*running'
    run rv ps nosuch
    [ "$status" = 1 ]
    rv ps p1 | grep -q "$(rv state p1 | jq -r .pid)"
    rv pause p1
    [ "$(status_of p1)" = paused ]
    run rv exec p1 true
    [ "$status" = 1 ]
    run rv pause p1
    [ "$status" = 1 ]
    rv resume p1
    [ "$(status_of p1)" = running ]
    [ -n "$(rv exec p1 cat /tmp/tick)" ]
    rv kill p1 KILL
    for i in $(seq 50); do [ "$(status_of p1)" = stopped ] && break; sleep 0.1; done
    rv delete p1
    [ -z "$(rv list -q)" ]
}

@test "terminal: the pty master goes to --console-socket and the process has a tty" {
    b=$(hyt_bundle tty '.process.terminal = true | .process.args = ["sh", "-c", "tty; stty size; echo done"]')
    "$RECVTTY" "$HYT_DIR/work/console.sock" </dev/null >"$HYT_DIR/work/tty.out" &
    rpid=$!
    for i in $(seq 50); do [ -S "$HYT_DIR/work/console.sock" ] && break; sleep 0.1; done
    rv create --bundle "$b" --console-socket "$HYT_DIR/work/console.sock" t1 </dev/null >/dev/null 2>&1
    rv start t1
    for i in $(seq 100); do [ "$(status_of t1)" = stopped ] && break; sleep 0.1; done
    wait "$rpid" || true
    grep -q '^/dev/pts/' "$HYT_DIR/work/tty.out"
    grep -q done "$HYT_DIR/work/tty.out"
    rv delete t1
    # A resize of the client's terminal reaches the process's.
    b=$(hyt_bundle resize '.process.terminal = true | .process.args = ["sh", "-c", "sleep 4; stty size"]')
    "$RECVTTY" "$HYT_DIR/work/resize.sock" 33 99 2500 </dev/null >"$HYT_DIR/work/resize.out" &
    rpid=$!
    for i in $(seq 50); do [ -S "$HYT_DIR/work/resize.sock" ] && break; sleep 0.1; done
    rv create --bundle "$b" --console-socket "$HYT_DIR/work/resize.sock" t3 </dev/null >/dev/null 2>&1
    rv start t3
    for i in $(seq 150); do [ "$(status_of t3)" = stopped ] && break; sleep 0.1; done
    wait "$rpid" || true
    grep -q '^33 99' "$HYT_DIR/work/resize.out"
    rv delete t3
    # Without a console socket, a detached terminal is refused, as runc does.
    run rv create --bundle "$b" t2
    [ "$status" = 1 ]
    [[ "$output" == *"console socket"* ]]
}

@test "spec mounts: a folder read-write, a file and a folder read-only, a tmpfs, masked paths" {
    mkdir -p "$HYT_DIR/work/data"
    echo hello > "$HYT_DIR/work/data/f"
    echo single > "$HYT_DIR/work/file"
    b=$(hyt_bundle mounts '.process.args = ["sh", "-c",
        "cat /data/f /etc/one; echo new > /data/new; echo x > /ro/x 2>/dev/null || echo ro-refused; df /scratch | tail -1 | grep -q tmpfs && echo tmpfs; cat /proc/kcore | wc -c"]
        | .mounts += [{"destination": "/data", "type": "bind", "source": "'"$HYT_DIR/work/data"'", "options": ["rbind", "rw"]},
                      {"destination": "/etc/one", "type": "bind", "source": "'"$HYT_DIR/work/file"'", "options": ["bind", "ro"]},
                      {"destination": "/ro", "type": "bind", "source": "'"$HYT_DIR/work/data"'", "options": ["rbind", "ro"]},
                      {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]')
    hyt_compare "$b"
    [ "$(cat "$b/runv.out")" = "$(printf 'hello\nsingle\nro-refused\ntmpfs\n0')" ]
    [ -f "$HYT_DIR/work/data/new" ]
}

@test "network: a joined netns's address and routes are the container's, and traffic flows" {
    NETNS=hyt-ns-$$
    PEERNS=hyt-peer-$$
    ip netns add "$NETNS"
    ip netns add "$PEERNS"
    ip link add hyt0 netns "$NETNS" type veth peer name hyt1 netns "$PEERNS"
    ip -n "$NETNS" addr add 10.211.0.2/24 dev hyt0
    ip -n "$NETNS" link set hyt0 up
    ip -n "$NETNS" route add default via 10.211.0.1
    ip -n "$PEERNS" addr add 10.211.0.1/24 dev hyt1
    ip -n "$PEERNS" link set hyt1 up
    b=$(hyt_bundle net '.process.args = ["sh", "-c", "ip -4 addr show hyt0 | grep -o 10.211.0.2/24; ip route | grep -o \"default via 10.211.0.1\"; ping -c 1 -W 5 10.211.0.1 >/dev/null && echo reached"]
        | .linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = "/var/run/netns/'"$NETNS"'" else . end]')
    run rv run --bundle "$b" n1
    echo "$output"
    [ "$status" = 0 ]
    [ "$output" = "$(printf '10.211.0.2/24\ndefault via 10.211.0.1\nreached')" ]
    # The taps and filters went with the container.
    [ -z "$(ip -n "$NETNS" -o link show type tun)" ]
    ! tc -n "$NETNS" qdisc show dev hyt0 ingress | grep -q ingress
}

@test "pods: a container whose spec joins another's namespaces runs in that container's VM" {
    a=$(hyt_bundle poda '.hostname = "pod-a" | .process.args = ["httpd", "-f", "-p", "8080", "-h", "/www"]')
    mkdir -p "$a/rootfs/www"
    echo "served by a" > "$a/rootfs/www/index.html"
    rv create --bundle "$a" --pid-file "$a/pid" pa </dev/null >/dev/null 2>&1
    rv start pa
    apid=$(cat "$a/pid")
    b=$(hyt_bundle podb '.hostname = "pod-b"
        | .process.args = ["sh", "-c", "hostname; wget -q -O- http://127.0.0.1:8080/; exit 4"]
        | .linux.namespaces = [{"type": "pid"}, {"type": "mount"},
            {"type": "network", "path": "/proc/'"$apid"'/ns/net"},
            {"type": "ipc", "path": "/proc/'"$apid"'/ns/ipc"},
            {"type": "uts", "path": "/proc/'"$apid"'/ns/uts"}]')
    rv create --bundle "$b" --pid-file "$b/pid" pb </dev/null >"$b/out" 2>&1
    # No second VM: one QEMU for the two containers.
    [ "$(pgrep -f -- "-name pa " | wc -l)" = 1 ]
    [ -z "$(pgrep -f -- "-name pb ")" ]
    [ "$(rv state pb | jq -r .status)" = created ]
    bpid=$(cat "$b/pid")
    rv start pb
    # The member's pid is a host process that exits with the container's status.
    for i in $(seq 100); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
    [ "$(status_of pb)" = stopped ]
    [ "$(cat "$b/out")" = "$(printf 'pod-a\nserved by a')" ]
    rv delete pb
    # The first container carries on, and an exec in it still works.
    [ "$(rv exec pa cat /www/index.html)" = "served by a" ]
    rv delete --force pa
}

@test "pods: a CRI sandbox annotation joins the sandbox's VM; the member dies with the sandbox" {
    a=$(hyt_bundle sandbox '.process.args = ["sleep", "600"]')
    rv create --bundle "$a" sbx </dev/null >/dev/null 2>&1
    rv start sbx
    b=$(hyt_bundle member '.process.args = ["sleep", "600"]
        | .annotations = {"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "sbx"}')
    rv create --bundle "$b" --pid-file "$b/pid" mem </dev/null >/dev/null 2>&1
    rv start mem
    [ "$(status_of mem)" = running ]
    [ "$(rv state mem | jq -r .pid)" = "$(cat "$b/pid")" ]
    run rv pause mem
    [ "$status" = 1 ]
    [[ "$output" == *"shares its VM"* ]]
    rv delete --force sbx
    for i in $(seq 100); do [ "$(status_of mem)" = stopped ] && break; sleep 0.1; done
    [ "$(status_of mem)" = stopped ]
    rv delete mem
}
