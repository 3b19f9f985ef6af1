#!/usr/bin/env bats
# hyperd's containers through hyperctl, end to end: a private hyperd (a
# temporary socket, store root and runv root), a busybox image loaded from
# an archive, real VMs (about a second each under TCG, so each test boots
# as few as it can). After each test nothing is left: no QEMU, virtiofsd
# or monitor, no mount, no bundle, no runv state, no row.
#
# The private hyperd, the image and the leftover checks are in
# hyperd-containers-helpers.bash.

load hyperd-containers-helpers

setup_file() {
    hyc_setup_file 10.212.0.0/24
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
    # Docker's frames: stream 1 (stdout), 0, 0, 0, the length (4), then the line.
    [ "$(api GET "/v1/containers/${id:0:8}/logs?stderr=0" | head -n 1 | od -An -tx1 | tr -d ' \n')" = 01000000000000046170690a ]
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
    # A stop with a long timeout holds up no other: this one kills it after 2 s, and the first ends with it.
    hc stop -t 600 t > "$HYI_DIR/stop-600.out" &
    long=$!
    sleep 0.5
    start=$(date +%s%N)
    [ "$(hc stop -t 2 t)" = t ]
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$elapsed" -ge 2000 ]
    [ "$elapsed" -lt 15000 ]
    wait "$long"
    [ "$(cat "$HYI_DIR/stop-600.out")" = t ]
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
    run hc run -it "$IMG" sh < /dev/null
    [ "$status" -eq 125 ]
    [[ "$output" == *"the input device is not a TTY"* ]]
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
