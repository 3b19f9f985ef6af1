#!/usr/bin/env bats
# hyperd's containers through hyperctl, end to end: a private hyperd (a
# temporary socket, store root and runv root), a busybox image loaded from
# an archive, real VMs (about a second each under TCG, so each test boots
# as few as it can). After each test nothing is left: no QEMU, virtiofsd
# or monitor, no mount, no bundle, no runv state, no row.
#
# Environment: HYPERD, HYPERCTL, RUNV (the build's; tests/run.sh sets
# them), HYPER_KERNEL and HYPER_INITRD.

load image-helpers

setup_file() {
    export HYPERD=${HYPERD:-$HYI_REPO/build/src/hyperd/hyperd}
    export HYPERCTL=${HYPERCTL:-$HYI_REPO/build/src/hyperctl/hyperctl}
    export HYPER_RUNV=${RUNV:-$HYI_REPO/build/src/runv/runv}
    export HYPER_INITRD=${HYPER_INITRD:-$HYI_REPO/build/guest/initrd.img}
    if [ -z "${HYPER_KERNEL:-}" ]; then
        HYPER_KERNEL=$("$HYI_REPO/scripts/build-kernel.sh")/vmlinux
        export HYPER_KERNEL
    fi
    HYI_DIR=$(mktemp -d /tmp/hyc.XXXXXX)
    export HYI_DIR HYD_SOCK=$HYI_DIR/run/hyperd.sock HYD_ROOT=$HYI_DIR/root HYD_RUNV=$HYI_DIR/runv
    # A bridge, subnet and state of this test's own: nothing of the machine's network is touched.
    export HYD_NET="--bridge hyt${HYI_DIR##*.} --subnet 10.212.0.0/24 --network-state $HYI_DIR/network"
    : > "$HYI_DIR/hyperd.conf"
    hyc_make_archive
    hyc_start
    hc load -i "$HYI_DIR/busybox.tar" >/dev/null
    hyc_stop
}

teardown_file() {
    hyc_stop
    # shellcheck disable=SC2086
    "$HYPERD" --config "$HYI_DIR/hyperd.conf" --socket "$HYD_SOCK" $HYD_NET --remove-network
    local left=0
    hyi_leftovers || left=1
    ip link show "hyt${HYI_DIR##*.}" >/dev/null 2>&1 && left=1
    nft list table ip "hyper-hyt${HYI_DIR##*.}" >/dev/null 2>&1 && left=1
    rm -rf "$HYI_DIR"
    return $left
}

setup() {
    : > "$HYI_DIR/hyperd.log"
    hyc_start
}

teardown() {
    local id
    for id in $(hc ps -a -q 2>/dev/null); do
        hc rm -f "$id" >/dev/null 2>&1
    done
    hyc_stop
    sleep 0.2
    # Nothing of the test's containers is left.
    hyi_leftovers
    [ -z "$(ls -A "$HYD_RUNV")" ]
    [ -z "$(ls -A "$HYD_ROOT/containers" 2>/dev/null)" ]
    [ -z "$(ls -A "$HYD_ROOT/rootfs" 2>/dev/null)" ]
    [ "$(sqlite3 "$HYD_ROOT/hyperd/hyperd.db" 'SELECT COUNT(*) FROM containers')" -eq 0 ]
}

# A busybox image with every applet, user 1000, Cmd /bin/sh: localhost/hyc/busybox:latest.
hyc_make_archive() {
    local root=$HYI_DIR/rootfs applet
    mkdir -p "$root"/{bin,etc,tmp,root,home/user}
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' > "$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'user:x:1000:' > "$root/etc/group"
    umoci init --layout "$HYI_DIR/layout"
    umoci new --image "$HYI_DIR/layout:latest"
    umoci insert --image "$HYI_DIR/layout:latest" "$root" / >/dev/null
    umoci config --image "$HYI_DIR/layout:latest" --config.cmd /bin/sh
    skopeo copy -q "oci:$HYI_DIR/layout:latest" "oci-archive:$HYI_DIR/busybox.tar:localhost/hyc/busybox:latest"
    rm -rf "$root" "$HYI_DIR/layout"
}

hyc_start() {
    # shellcheck disable=SC2086
    "$HYPERD" --config "$HYI_DIR/hyperd.conf" --socket "$HYD_SOCK" --root "$HYD_ROOT" --runv-root "$HYD_RUNV" $HYD_NET \
        --log-file "$HYI_DIR/hyperd.log" &
    echo $! > "$HYI_DIR/hyperd.pid"
    local i
    for i in $(seq 100); do
        hc version >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$HYI_DIR/hyperd.pid")" 2>/dev/null || break
        sleep 0.05
    done
    cat "$HYI_DIR/hyperd.log" >&2
    return 1
}

# SIGTERM by default; hyc_stop KILL leaves the socket behind, as a crash does.
hyc_stop() {
    local pid
    [ -f "$HYI_DIR/hyperd.pid" ] || return 0
    pid=$(cat "$HYI_DIR/hyperd.pid")
    rm -f "$HYI_DIR/hyperd.pid"
    kill "-${1:-TERM}" "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true
}

hc() {
    timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" "$@"
}

api() {
    local method=$1 path=$2
    shift 2
    curl -s -m 120 -X "$method" --unix-socket "$HYD_SOCK" -w '\n%{http_code}\n' "$@" "http://hyperd$path"
}

# Waits until the container's log has a line.
hyc_wait_log() {
    local id=$1 line=$2 i
    for i in $(seq 200); do
        hc logs "$id" 2>/dev/null | grep -qx -- "$line" && return 0
        sleep 0.05
    done
    echo "no line \"$line\" in the log of $id" >&2
    return 1
}

IMG=localhost/hyc/busybox

@test "hyperd containers: run prints the output and passes the exit code; flags reach the process; the API" {
    run hc run --rm "$IMG" sh -c 'echo out; echo err >&2; exit 3'
    [ "$status" -eq 3 ]
    [ "${lines[0]}" = out ]
    [ "${lines[1]}" = err ]
    [ -z "$(hc ps -a -q)" ]
    run hc run --name flags -e FOO=bar -w /tmp -u user --entrypoint /bin/sh "$IMG" -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"'
    [ "$status" -eq 0 ]
    id=$(hc inspect flags | jq -r '.[0].id')
    [ "$output" = "bar /tmp 1000:1000 ${id:0:12}" ]
    [ "$(hc inspect flags | jq -r '.[0].status, .[0].exitCode')" = "stopped
0" ]
    run hc ps -a
    [[ "${lines[1]}" == "${id:0:12} "*"$IMG"*"Exited (0)"*" flags" ]]
    [ -z "$(hc ps -q)" ]
    [ "$(hc rm flags)" = flags ]
    # The same through the API: 201 with the id, wait gives the exit code.
    run api POST /v1/containers/run -d "{\"image\":\"$IMG\",\"cmd\":[\"sh\",\"-c\",\"echo api; exit 4\"]}"
    [ "${lines[1]}" = 201 ]
    id=$(echo "${lines[0]}" | jq -r .id)
    [ ${#id} -eq 64 ]
    run api POST "/v1/containers/$id/wait"
    [ "${lines[0]}" = "{\"id\":\"$id\",\"exitCode\":4}" ]
    [ "$(api GET "/v1/containers/${id:0:8}/logs" | head -n 1)" = api ]
    [ "$(api GET "/v1/containers?all=1" | head -n 1 | jq -r '.[0].exitCode')" = 4 ]
    run api DELETE "/v1/containers/$id"
    [ "${lines[1]}" = 200 ]
}

@test "hyperd containers: run -d, logs, exec, rm refused while running, stop kills what ignores SIGTERM" {
    id=$(hc run -d --name t "$IMG" sh -c "trap '' TERM; echo started; echo second; sleep 600")
    [ ${#id} -eq 64 ]
    hyc_wait_log t second
    [ "$(hc logs --tail 1 t)" = second ]
    [ "$(hc logs --tail 0 t)" = "" ]
    [ "$(hc logs t | wc -l)" -eq 2 ]
    run hc ps
    [[ "${lines[1]}" == "${id:0:12} "*" Up "*" t" ]]
    run hc exec -e X=y t sh -c 'echo "in $X"; echo oops >&2; exit 5'
    [ "$status" -eq 5 ]
    [ "${lines[0]}" = "in y" ]
    [ "${lines[1]}" = oops ]
    [ "$(hc exec -u 1000 t id -u)" = 1000 ]
    run hc rm t
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot remove container t: it is running; stop it first, or force the removal (hyperctl rm -f)"* ]]
    start=$(date +%s%N)
    [ "$(hc stop -t 2 t)" = t ]
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$elapsed" -ge 2000 ]
    [ "$elapsed" -lt 15000 ]
    [ "$(hc inspect t | jq -r '.[0].exitCode')" = 137 ]
    run hc exec t true
    [ "$status" -eq 1 ]
    [[ "$output" == *"container t is not running"* ]]
    [ "$(hc logs t | head -n 1)" = started ]
    hc rm t
    run hc logs t
    [ "$status" -eq 1 ]
    [[ "$output" == *"no such container: t"* ]]
}

@test "hyperd containers: kill -9 of hyperd leaves two containers running; a new hyperd reaches them" {
    a=$(hc run -d --name a "$IMG" sh -c 'trap "echo got-term; exit 3" TERM; echo hello-a; sleep 600 & wait')
    b=$(hc run -d --name b "$IMG" sleep 600)
    hyc_wait_log a hello-a
    hyc_stop KILL
    run hc ps
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot connect to hyperd"*"is it running?"* ]]
    hyc_start
    run hc ps -q
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 2 ]
    [[ "$output" == *"${a:0:12}"* && "$output" == *"${b:0:12}"* ]]
    [ "$(hc exec a echo from-a)" = from-a ]
    [ "$(hc exec b sh -c 'echo from-$(hostname)')" = "from-${b:0:12}" ]
    [ "$(hc logs a)" = hello-a ]
    hc kill b
    [ "$(api POST /v1/containers/b/wait | head -n 1 | jq -r .exitCode)" = 137 ]
    hc kill -s TERM a
    [ "$(api POST /v1/containers/a/wait | head -n 1 | jq -r .exitCode)" = 3 ]
    [ "$(hc logs --tail 1 a)" = got-term ]
    hc rm a b
    [ -z "$(hc ps -a -q)" ]
}

@test "hyperd containers: invalid requests and unknown images get clear errors and create nothing" {
    run hc run nosuch/image
    [ "$status" -eq 125 ]
    [[ "$output" == *"docker.io/nosuch/image:latest"*"pull or load it first"* ]]
    run hc run -it "$IMG" sh
    [ "$status" -eq 125 ]
    [[ "$output" == *"-i and -t (interactive containers) are not supported yet"* ]]
    run hc run --name 'bad name' "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"invalid name \"bad name\""* ]]
    run hc run -e NOEQUALS "$IMG" true
    [[ "$output" == *"env entry \"NOEQUALS\" is not KEY=VALUE"* ]]
    run hc run -w relative "$IMG" true
    [[ "$output" == *"\"workdir\" must be an absolute path"* ]]
    run hc run -u nobody "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"unable to find user nobody"* ]]
    run hc run --dns 192.0.2 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"invalid \"dns\" entry \"192.0.2\""* ]]
    run hc run --add-host db "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"invalid \"add_host\" entry \"db\": NAME:IP"* ]]
    run api POST /v1/containers/run -d '{"image":"x","dns":["nope"]}'
    [ "${lines[1]}" = 400 ]
    run api POST /v1/containers/run -d 'not json'
    [ "${lines[1]}" = 400 ]
    run api POST /v1/containers/run -d '{"cmd":["true"]}'
    [[ "${lines[0]}" == *'\"image\" is required'* ]]
    head -c $((1024 * 1024 + 1)) /dev/zero > "$HYI_DIR/big"
    run api POST /v1/containers/run --data-binary "@$HYI_DIR/big"
    [ "${lines[-1]}" = 413 ]
    run api POST /v1/containers/x/stop?t=soon
    [ "${lines[1]}" = 400 ]
    run api POST "/v1/containers/x/kill?signal=SIGNOPE"
    [ "${lines[1]}" = 400 ]
    for verb in "logs x" "stop x" "kill x" "rm x" "exec x true"; do
        run hc $verb
        [ "$status" -eq 1 ]
        [[ "$output" == *"no such container: x"* ]]
    done
    run hc inspect x
    [ "$status" -eq 1 ]
    [[ "$output" == *"no image docker.io/library/x:latest"* ]]
    # Nothing was made: no row, no bundle, no rootfs, no runv state (teardown checks them too).
    [ -z "$(hc ps -a -q)" ]
    [ -z "$(ls -A "$HYD_RUNV")" ]
    ! grep -q "started from" "$HYI_DIR/hyperd.log"
}
