#!/usr/bin/env bats
# hyperd and hyperctl for images, end to end: a daemon on a temporary
# socket with a temporary root (never /run/hyper or /var/lib/hyper), an
# image archive made from /bin/busybox, Debian's docker-registry on
# 127.0.0.1 for pulls. No VM is booted.
#
# Environment: HYPERD, HYPERCTL (default build/src/hyperd/hyperd and
# build/src/hyperctl/hyperctl).

load image-helpers

setup_file() {
    export HYPERD=${HYPERD:-$HYI_REPO/build/src/hyperd/hyperd}
    export HYPERCTL=${HYPERCTL:-$HYI_REPO/build/src/hyperctl/hyperctl}
    HYI_DIR=$(mktemp -d /tmp/hyd.XXXXXX)
    export HYI_DIR
    # A bridge, subnet and state of this test's own: nothing of the machine's network is touched.
    export HYD_NET="--bridge hyt${HYI_DIR##*.} --subnet 10.211.0.0/24 --network-state $HYI_DIR/network"
    hyd_make_archive
    hyi_start_registry reg
    hyi_push "oci:$HYI_DIR/layout:latest" "docker://127.0.0.1:$HYI_PORT_REG/hyd/busybox:pushed"
}

teardown_file() {
    hyi_stop
    # shellcheck disable=SC2086
    "$HYPERD" --config "$HYI_DIR/hyperd.conf" --socket "$HYI_DIR/run/hyperd.sock" $HYD_NET --remove-network
    sleep 0.2
    local left=0
    hyi_leftovers || left=1
    ip link show "hyt${HYI_DIR##*.}" >/dev/null 2>&1 && left=1
    nft list table ip "hyper-hyt${HYI_DIR##*.}" >/dev/null 2>&1 && left=1
    rm -rf "$HYI_DIR"
    return $left
}

setup() {
    export HYD_SOCK=$HYI_DIR/run/hyperd.sock HYD_ROOT=$HYI_DIR/root
    : > "$HYI_DIR/hyperd.conf"
    hyd_start
}

teardown() {
    hyd_stop
    rm -rf "$HYI_DIR/root" "$HYI_DIR/run" "$HYI_DIR"/out* "$HYI_DIR/hyperd.log"
    # Nothing of this test is left: no hyperd, no socket.
    ! pgrep -f -- "$HYI_DIR/run" >/dev/null
}

# An OCI layout (tag "latest") of a busybox root, and its OCI archive named localhost/hyd/busybox:latest.
hyd_make_archive() {
    hyi_make_rootfs "$HYI_DIR/rootfs"
    umoci init --layout "$HYI_DIR/layout"
    umoci new --image "$HYI_DIR/layout:latest"
    umoci insert --image "$HYI_DIR/layout:latest" "$HYI_DIR/rootfs" / >/dev/null
    umoci config --image "$HYI_DIR/layout:latest" --config.cmd /bin/sh
    skopeo copy -q "oci:$HYI_DIR/layout:latest" "oci-archive:$HYI_DIR/busybox.tar:localhost/hyd/busybox:latest"
    rm -rf "$HYI_DIR/rootfs"
}

hyd_start() {
    # shellcheck disable=SC2086
    "$HYPERD" --config "$HYI_DIR/hyperd.conf" --socket "$HYD_SOCK" --root "$HYD_ROOT" $HYD_NET \
        --log-file "$HYI_DIR/hyperd.log" "$@" &
    echo $! > "$HYI_DIR/hyperd.pid"
    local i
    for i in $(seq 100); do
        [ -S "$HYD_SOCK" ] && return 0
        kill -0 "$(cat "$HYI_DIR/hyperd.pid")" 2>/dev/null || break
        sleep 0.05
    done
    cat "$HYI_DIR/hyperd.log" >&2
    return 1
}

hyd_stop() {
    local pid
    [ -f "$HYI_DIR/hyperd.pid" ] || return 0
    pid=$(cat "$HYI_DIR/hyperd.pid")
    rm -f "$HYI_DIR/hyperd.pid"
    kill -TERM "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true
}

hc() {
    "$HYPERCTL" -H "unix://$HYD_SOCK" "$@"
}

# curl on the API socket: prints the body, then the status on its own line.
api() {
    local method=$1 path=$2
    shift 2
    curl -s -X "$method" --unix-socket "$HYD_SOCK" -w '\n%{http_code}\n' "$@" "http://hyperd$path"
}

@test "hyperd: version and info, the socket 0660 and the state under the temporary root" {
    run hc version
    [ "$status" -eq 0 ]
    [[ "$output" == *"Server:"*"API version: 1"* ]]
    run hc info
    [ "$status" -eq 0 ]
    [[ "$output" == *"Root: $HYD_ROOT"* ]]
    [[ "$output" == *"Images: 0"* ]]
    [[ "$output" == *"SchemaVersion: 5"* ]]
    [[ "$output" == *"Accelerator: "* ]]
    [ "$(stat -c '%a %U' "$HYD_SOCK")" = "660 root" ]
    [ -f "$HYD_ROOT/hyperd/hyperd.db" ]
    [ "$(sqlite3 "$HYD_ROOT/hyperd/hyperd.db" 'SELECT version FROM schema_version')" = 5 ]
}

@test "hyperd: load, images, inspect, tag, save round trip, rmi" {
    run hc load -i "$HYI_DIR/busybox.tar"
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: localhost/hyd/busybox:latest" ]
    run hc images
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "REPOSITORY"*"TAG"*"IMAGE ID"*"CREATED"*"SIZE" ]]
    [[ "${lines[1]}" == "localhost/hyd/busybox "*" latest "* ]]
    id=$(hc images -q)
    [ ${#id} -eq 12 ]
    hc inspect localhost/hyd/busybox | jq -e '.[0].Id | startswith("sha256:")'
    [ "$(hc inspect localhost/hyd/busybox | jq -r '.[0].Config.Cmd[0]')" = /bin/sh ]
    hc tag localhost/hyd/busybox:latest hyd/copy:v2
    [ "$(hc images | grep -c "$id")" -eq 2 ]
    [ "$(sqlite3 "$HYD_ROOT/hyperd/hyperd.db" 'SELECT COUNT(*) FROM image_refs')" -eq 2 ]
    hc save -o "$HYI_DIR/out.tar" hyd/copy:v2
    tar -tf "$HYI_DIR/out.tar" | grep -qx manifest.json
    hc save --format oci -o "$HYI_DIR/out-oci.tar" hyd/copy:v2
    tar -tf "$HYI_DIR/out-oci.tar" | grep -qx index.json
    run hc rmi localhost/hyd/busybox:latest hyd/copy:v2
    [ "$status" -eq 0 ]
    [ "$(hc images -q)" = "" ]
    # What was saved loads back as the same image.
    run hc load -i "$HYI_DIR/out.tar"
    [ "$status" -eq 0 ]
    [[ "$output" == *"hyd/copy:v2"* ]]
    [ "$(hc images -q)" = "$id" ]
    hc load < "$HYI_DIR/out-oci.tar"
    [ "$(hc images -q)" = "$id" ]
}

@test "hyperd: pull from a registry streams progress, then the image is listed" {
    run hc pull --insecure "127.0.0.1:$HYI_PORT_REG/hyd/busybox:pushed"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "127.0.0.1:$HYI_PORT_REG/hyd/busybox:pushed" ]
    [ "${#lines[@]}" -gt 1 ]
    hc images | grep -q "127.0.0.1:$HYI_PORT_REG/hyd/busybox *pushed"
    # The raw stream: JSON lines, the last one the result.
    api POST "/v1/images/pull?ref=127.0.0.1:$HYI_PORT_REG/hyd/busybox:pushed&insecure=1" > "$HYI_DIR/out-pull"
    [ "$(tail -n 1 "$HYI_DIR/out-pull")" = 200 ]
    head -n -1 "$HYI_DIR/out-pull" | jq -e -s 'last | .status == "pulled" and (.id | startswith("sha256:"))'
    run hc pull --insecure "127.0.0.1:$HYI_PORT_REG/hyd/nothere:x"
    [ "$status" -eq 1 ]
    [[ "$output" == *"Error response from daemon"* ]]
}

@test "hyperd: bad requests get clear errors and change nothing" {
    hc load -i "$HYI_DIR/busybox.tar"
    before=$(cd "$HYD_ROOT" && find . -path ./hyperd -prune -o -print | sort | md5sum)
    run hc inspect nosuch
    [ "$status" -eq 1 ]
    [[ "$output" == *"no image docker.io/library/nosuch:latest"* ]]
    run hc rmi nosuch
    [ "$status" -eq 1 ]
    run hc tag nosuch other
    [ "$status" -eq 1 ]
    run hc tag localhost/hyd/busybox 'Bad Name'
    [ "$status" -eq 1 ]
    run hc pull 'NOT A REF'
    [ "$status" -eq 1 ]
    [[ "$output" == *"invalid"* ]]
    run hc load -i /etc/passwd
    [ "$status" -eq 1 ]
    run hc bogus
    [ "$status" -eq 125 ]
    run hc images --bogus
    [ "$status" -eq 125 ]
    run api GET /v1/nothing
    [ "${lines[1]}" = 404 ]
    [ "$(echo "${lines[0]}" | jq -r .message)" = "no such API path: /v1/nothing (the API is under /v1/)" ]
    run api DELETE /v1/version
    [ "${lines[1]}" = 405 ]
    run api GET /v1/images/nosuch/json
    [ "${lines[1]}" = 404 ]
    run api POST /v1/images/pull
    [ "${lines[1]}" = 400 ]
    run api POST /v1/images/localhost/hyd/busybox/tag
    [ "${lines[1]}" = 400 ]
    run api GET "/v1/images/localhost/hyd/busybox/save?format=zip"
    [ "${lines[1]}" = 400 ]
    run api POST /v1/images/load
    [ "${lines[1]}" = 400 ]
    run api POST /v1/images/load --data-binary 'not an archive'
    [ "${lines[1]}" = 400 ]
    run api GET /v1/version --data-binary @"$HYI_DIR/busybox.tar"
    [ "${lines[1]}" = 413 ]
    after=$(cd "$HYD_ROOT" && find . -path ./hyperd -prune -o -print | sort | md5sum)
    [ "$before" = "$after" ]
    [ -z "$(ls "$HYD_ROOT/hyperd/tmp")" ]
    [ "$(hc images -q | wc -l)" -eq 1 ]
}

@test "hyperd: an upload over max-upload is refused with 413" {
    hyd_stop
    echo "max-upload = 4K" > "$HYI_DIR/hyperd.conf"
    hyd_start
    run hc load -i "$HYI_DIR/busybox.tar"
    [ "$status" -eq 1 ]
    [[ "$output" == *"over 4096 bytes"* ]]
    [ -z "$(ls "$HYD_ROOT/hyperd/tmp")" ]
}

@test "hyperd: a bad config file, or a second hyperd on the same socket, is refused" {
    echo "bogus = 1" > "$HYI_DIR/bad.conf"
    run "$HYPERD" --config "$HYI_DIR/bad.conf" --socket "$HYI_DIR/run/other.sock" --root "$HYD_ROOT"
    [ "$status" -eq 1 ]
    [[ "$output" == *"line 1: unknown key \"bogus\""* ]]
    run "$HYPERD" --config "$HYI_DIR/hyperd.conf" --socket "$HYD_SOCK" --root "$HYD_ROOT"
    [ "$status" -eq 1 ]
    [[ "$output" == *"another hyperd is serving $HYD_SOCK"* ]]
    [ -S "$HYD_SOCK" ]
    run hc version
    [ "$status" -eq 0 ]
}

@test "hyperd: SIGTERM stops it and removes its socket; hyperctl then says it is not running" {
    pid=$(cat "$HYI_DIR/hyperd.pid")
    kill -TERM "$pid"
    wait "$pid"
    rm -f "$HYI_DIR/hyperd.pid"
    [ ! -e "$HYD_SOCK" ]
    grep -q "shutting down" "$HYI_DIR/hyperd.log"
    run hc images
    [ "$status" -eq 1 ]
    [ "$output" = "hyperctl: cannot connect to hyperd at $HYD_SOCK: is it running? (start it with: hyperd)" ]
    HYPER_HOST="unix://$HYI_DIR/none.sock" run "$HYPERCTL" version
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot connect to hyperd at $HYI_DIR/none.sock: is it running?"* ]]
}

@test "hyperd: state survives a restart (daemon id kept, starts counted)" {
    id1=$(hc info | sed -n 's/^ID: //p')
    hyd_stop
    hyd_start
    [ "$(hc info | sed -n 's/^ID: //p')" = "$id1" ]
    hc info | grep -qx "Starts: 2"
}
