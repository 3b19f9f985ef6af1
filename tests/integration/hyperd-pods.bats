#!/usr/bin/env bats
# hyperd's pods through hyperctl, end to end (docs/pods.md): a private
# hyperd (hyperd-containers-helpers.bash), pod files with several
# containers in one VM, containers joined to and removed from a running
# pod, the exit watcher's restart policies and autoRemove, and kill -9 of
# hyperd with pods running. After each test nothing is left: no pod row,
# no container row, no bundle, no runv state, no VM, no netns.

load hyperd-containers-helpers

setup_file() {
    hyc_setup_file 10.216.0.0/24
}

teardown_file() {
    hyc_teardown_file
}

setup() {
    hyc_setup
}

teardown() {
    local p
    for p in $(hc pod ls -q 2>/dev/null); do
        hc pod rm -f "$p" >/dev/null 2>&1
    done
    hyc_teardown
    [ "$(sqlite3 "$HYD_ROOT/hyperd/hyperd.db" 'SELECT COUNT(*) FROM pods')" -eq 0 ]
    [ "$(sqlite3 "$HYD_ROOT/hyperd/hyperd.db" 'SELECT COUNT(*) FROM pod_members')" -eq 0 ]
    [ -z "$(ls -A "$HYI_DIR/run/netns" 2>/dev/null)" ]
}

# podfile NAME JSON: writes $HYI_DIR/NAME.json.
podfile() {
    printf '%s\n' "$2" > "$HYI_DIR/$1.json"
    echo "$HYI_DIR/$1.json"
}

# Waits until the pod's container NAME (POD-NAME) has a line.
wait_log() {
    hyc_wait_log "$1" "$2"
}

# Waits until the log of container NAME has N lines LINE (a terminal's carriage returns aside).
wait_lines() {
    local i
    for i in $(seq 100); do
        [ "$(hc logs "$1" | tr -d '\r' | grep -cx -- "$2")" -eq "$3" ] && return 0
        sleep 0.1
    done
    echo "the log of $1 has not $3 lines \"$2\"" >&2
    return 1
}

@test "hyperd pods: two containers in one VM share localhost, hostname and ipc; labels, dns, volumes, ports and sizing honoured" {
    mkdir -p "$HYI_DIR/share"
    echo from-host > "$HYI_DIR/share/f"
    port=$(hyi_free_port)
    f=$(podfile web '{"id": "web", "hostname": "webhost",
        "volumes": [{"name": "share", "source": "'"$HYI_DIR/share"'", "readonly": true}],
        "resources": {"vcpu": 2, "memory": "256Mi"},
        "labels": {"app": "shop", "tier": "front"},
        "dns": {"servers": ["192.0.2.53"], "search": ["svc.example"], "options": ["ndots:2"]},
        "containers": [
          {"name": "httpd", "image": "localhost/hyc/busybox",
           "ports": [{"containerPort": 8080, "hostPort": '"$port"', "hostIP": "127.0.0.1"}],
           "command": ["sh", "-c", "mkdir -p /www && echo hello-pod > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www"]},
          {"name": "client", "image": "localhost/hyc/busybox",
           "volumes": [{"volume": "share", "path": "/mnt/share"}],
           "command": ["sh", "-c", "until wget -q -O- http://127.0.0.1:8080/; do sleep 0.2; done; sleep 600"]}]}')
    run hc run --podfile "$f"
    [ "$status" -eq 0 ]
    [ "$output" = web ]
    wait_log web-client hello-pod
    # One VM for the pod: one QEMU.
    [ "$(pgrep -af -- "$HYI_DIR" | grep -c qemu-system)" -eq 1 ]
    run hc pod ls
    [[ "${lines[1]}" == "web "*" running "*"web-httpd,web-client" ]]
    run hc ps
    [ "${#lines[@]}" -eq 3 ]
    [[ "$output" == *" web "*"web-httpd"* ]]
    [ "$(hc exec web-client hostname)" = webhost ]
    [ "$(hc exec web-httpd hostname)" = webhost ]
    [ "$(hc exec web-client nproc)" = 2 ]
    mem=$(hc exec web-client awk '/MemTotal/ { print $2 }' /proc/meminfo)
    [ "$mem" -gt 150000 ]
    [ "$mem" -le 262144 ]
    [[ "$(hc exec web-client cat /etc/resolv.conf)" == *"nameserver 192.0.2.53"*"search svc.example"*"options ndots:2"* ]]
    # The same ipc namespace: a FIFO is no test of that, /proc/self/ns/ipc is.
    [ "$(hc exec web-client readlink /proc/self/ns/ipc)" = "$(hc exec web-httpd readlink /proc/self/ns/ipc)" ]
    [ "$(hc exec web-client readlink /proc/self/ns/net)" = "$(hc exec web-httpd readlink /proc/self/ns/net)" ]
    # The pod's host volume, read-only as the file says; the published port reaches the httpd from the host.
    [ "$(hc exec web-client cat /mnt/share/f)" = from-host ]
    run hc exec web-client sh -c 'echo x > /mnt/share/g'
    [ "$status" -ne 0 ]
    [ ! -e "$HYI_DIR/share/g" ]
    [ "$(curl -sf -m 5 "http://127.0.0.1:$port/")" = hello-pod ]
    run hc pod inspect web
    [ "$(echo "$output" | jq -r '.[0].labels.app, .[0].labels.tier, .[0].status, .[0].vcpu, .[0].memoryMiB')" = "shop
front
running
2
256" ]
    [ "$(echo "$output" | jq -r '[.[0].containers[].name] | join(",")')" = "web-httpd,web-client" ]
    run hc pod rm web
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot remove pod web: it is running; stop it first, or force the removal (hyperctl pod rm -f)"* ]]
    # Both containers ignore SIGTERM (PID 1 without a handler): stopped together, killed after one -t.
    start=$(date +%s%N)
    [ "$(hc pod stop -t 3 web)" = web ]
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$elapsed" -ge 3000 ]
    [ "$elapsed" -lt 5500 ]
    [ "$(hc inspect web-httpd | jq -r '.[0].exitCode')" = 137 ]
    [ "$(hc pod inspect web | jq -r '.[0].status')" = exited ]
    [ "$(hc pod rm web)" = web ]
    [ -z "$(hc pod ls -q)" ]
}

@test "hyperd pods: a container joins a running pod and leaves it; the pod runs on; joining what is not there is refused" {
    f=$(podfile grow '{"id": "grow", "containers": [{"name": "main", "image": "localhost/hyc/busybox",
        "command": ["sh", "-c", "echo up; sleep 600"]}]}')
    [ "$(hc run --podfile "$f")" = grow ]
    wait_log grow-main up
    id=$(hc run -d --pod grow --name extra "$IMG" sh -c 'echo joined; sleep 600')
    [ ${#id} -eq 64 ]
    wait_log extra joined
    # No VM of its own: still one QEMU, and the pod's hostname and network.
    [ "$(pgrep -af -- "$HYI_DIR" | grep -c qemu-system)" -eq 1 ]
    [ "$(hc exec extra hostname)" = grow ]
    [ "$(hc exec extra readlink /proc/self/ns/net)" = "$(hc exec grow-main readlink /proc/self/ns/net)" ]
    [ "$(hc inspect extra | jq -r '.[0].pod')" = grow ]
    run hc ps
    [[ "$output" == *" grow "*" extra"* ]]
    [ "$(hc pod inspect grow | jq -r '[.[0].containers[].name] | join(",")')" = "grow-main,extra" ]
    # A foreground run in the pod prints its output and is removed with --rm.
    run hc run --rm --pod grow "$IMG" sh -c 'echo "in $(hostname)"; exit 2'
    [ "$status" -eq 2 ]
    [ "$output" = "in grow" ]
    [ "$(hc rm -f extra)" = extra ]
    [ "$(hc pod inspect grow | jq -r '.[0].status, (.[0].containers | length)')" = "running
1" ]
    [ "$(hc exec grow-main echo still-here)" = still-here ]
    # An exec -d's row: listed for its container, its exit code there once it has ended, gone with the container.
    hc exec -d grow-main sh -c 'sleep 0.3; exit 7'
    run api GET /v1/containers/grow-main/execs
    [ "${lines[1]}" = 200 ]
    eid=$(echo "${lines[0]}" | jq -r '.[] | select(.detach) | .id')
    [ ${#eid} -eq 64 ]
    [ "$(echo "${lines[0]}" | jq -c '.[] | select(.detach) | [.cmd, .tty, .containerId == "'"$(hc inspect grow-main | jq -r '.[0].id')"'"]')" = '[["sh","-c","sleep 0.3; exit 7"],false,true]' ]
    for i in $(seq 100); do
        code=$(api GET "/v1/exec/$eid/json" | head -1 | jq -r .exitCode)
        [ "$code" != null ] && break
        sleep 0.1
    done
    [ "$code" = 7 ]
    [ "$(sqlite3 "$HYD_ROOT/hyperd/hyperd.db" "SELECT exit_code FROM execs WHERE id = '$eid'")" = 7 ]
    [ "$(api GET /v1/containers/grow-main/execs | head -1 | jq -r '.[] | select(.id == "'"$eid"'") | "\(.running) \(.exitCode)"')" = "false 7" ]
    # A second pod of the same id, a pod that is not there, and a network of its own in a pod are refused.
    run hc run --podfile "$f"
    [ "$status" -eq 125 ]
    [[ "$output" == *'a pod named "grow" already exists: remove it or choose another id'* ]]
    run hc run -d --pod nosuch "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"no such pod: nosuch"* ]]
    run hc run -d --pod grow -p 8080:80 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"a container in a pod shares the pod's network: publish ports"*"in the pod file"* ]]
    [ "$(hc ps -a -q | wc -l)" -eq 1 ]
    # A stopped pod takes no new container.
    [ "$(hc pod stop -t 1 grow)" = grow ]
    run hc run -d --pod grow "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"pod grow is not running: start it first (hyperctl pod start grow)"* ]]
    [ "$(hc pod rm grow)" = grow ]
    [ "$(sqlite3 "$HYD_ROOT/hyperd/hyperd.db" 'SELECT COUNT(*) FROM execs')" -eq 0 ]
}

@test "hyperd pods: pod start runs a stopped pod again with its containers, files, network and ports; a running pod is left as it is" {
    port=$(hyi_free_port)
    f=$(podfile again '{"id": "again", "containers": [
          {"name": "httpd", "image": "localhost/hyc/busybox",
           "ports": [{"containerPort": 8080, "hostPort": '"$port"', "hostIP": "127.0.0.1"}],
           "command": ["sh", "-c", "mkdir -p /www; echo run >> /www/runs; cp /www/runs /www/index.html; echo serving; exec httpd -f -p 8080 -h /www"]},
          {"name": "side", "image": "localhost/hyc/busybox", "command": ["sh", "-c", "echo up; sleep 600"]}]}')
    [ "$(hc run --podfile "$f")" = again ]
    wait_log again-side up
    wait_log again-httpd serving
    # "serving" comes just before httpd listens.
    for i in $(seq 50); do
        out=$(curl -sf -m 5 "http://127.0.0.1:$port/") && break
        sleep 0.2
    done
    [ "$out" = run ]
    # Containers added with a terminal and with stdin are started again with them.
    tid=$(hc run -d -t --pod again --name again-tty "$IMG" sh -c '[ -t 0 ] && echo tty; sleep 600')
    iid=$(hc run -d -i --pod again --name again-in "$IMG" sh -c 'echo in; read x; echo "got $x"; sleep 600')
    wait_lines again-tty tty 1
    hyc_wait_log "$iid" in
    ids=$(hc pod inspect again | jq -r '[.[0].containers[].id] | join(",")')
    # Starting a running pod changes nothing: the same VM goes on.
    qemu=$(pgrep -af -- "$HYI_DIR" | grep qemu-system | cut -d" " -f1)
    [ "$(hc pod start again)" = again ]
    [ -n "$qemu" ]
    [ "$(pgrep -af -- "$HYI_DIR" | grep qemu-system | cut -d" " -f1)" = "$qemu" ]
    [ "$(hc pod stop -t 1 again)" = again ]
    [ "$(hc pod inspect again | jq -r '.[0].status')" = exited ]
    [ "$(pgrep -af -- "$HYI_DIR" | grep -c qemu-system)" -eq 0 ]
    [ "$(hc pod start again)" = again ]
    [ "$(hc pod inspect again | jq -r '.[0].status, ([.[0].containers[].status] | join(","))')" = "running
running,running,running,running" ]
    # The same containers (ids, names, rows), what they wrote before, one VM, the pod's network and port.
    [ "$(hc pod inspect again | jq -r '[.[0].containers[].id] | join(",")')" = "$ids" ]
    [ "$(hc ps -a -q | wc -l)" -eq 4 ]
    [ "$(pgrep -af -- "$HYI_DIR" | grep -c qemu-system)" -eq 1 ]
    [ "$(hc exec again-side hostname)" = again ]
    a=$(hc exec again-side readlink /proc/self/ns/ipc 2>&1); b=$(hc exec again-httpd readlink /proc/self/ns/ipc 2>&1)
    [[ "$a" == "ipc:["* ]]
    [ "$a" = "$b" ]
    for i in $(seq 50); do
        out=$(hc exec again-side wget -q -O- http://127.0.0.1:8080/ 2>/dev/null) && break
        sleep 0.2
    done
    [ "$out" = "run
run" ]
    [ "$(curl -sf -m 5 "http://127.0.0.1:$port/")" = "run
run" ]
    wait_lines again-tty tty 2
    # The -i one's stdin is open again: what an attached client sends reaches it.
    wait_lines again-in in 2
    (printf 'hello\n'; sleep 5) | timeout 8 "$HYPERCTL" -H "unix://$HYD_SOCK" attach again-in > /dev/null 2>&1 &
    hyc_wait_log "$iid" "got hello"
    kill $! 2>/dev/null || true
    wait $! 2>/dev/null || true
    # A container added to it after the start, and a pod that is not there.
    id=$(hc run -d --pod again "$IMG" sh -c 'echo joined; sleep 600')
    hyc_wait_log "$id" joined
    run hc pod start nosuch
    [ "$status" -ne 0 ]
    [[ "$output" == *"no such pod: nosuch"* ]]
    [ "$(hc pod rm -f again)" = again ]
}

@test "hyperd pods: a named volume shared by two containers of a pod, a raw disk image for one; both kept after pod rm" {
    truncate -s 32M "$HYI_DIR/pdisk.img"
    mkfs.ext4 -q -F "$HYI_DIR/pdisk.img"
    f=$(podfile vols '{"id": "vols", "volumes": [{"name": "shared", "driver": "named", "source": "podvol-shared"},
          {"name": "disk", "driver": "raw", "source": "'"$HYI_DIR/pdisk.img"'"}],
        "containers": [
          {"name": "writer", "image": "localhost/hyc/busybox",
           "volumes": [{"volume": "shared", "path": "/out"}, {"volume": "disk", "path": "/disk"}],
           "command": ["sh", "-c", "echo from-writer > /out/note; echo on-disk >> /disk/d; sync; echo wrote; sleep 600"]},
          {"name": "reader", "image": "localhost/hyc/busybox",
           "volumes": [{"volume": "shared", "path": "/in", "readonly": true}],
           "command": ["sh", "-c", "until [ -e /in/note ]; do sleep 0.2; done; cat /in/note; sleep 600"]}]}')
    [ "$(hc run --podfile "$f")" = vols ]
    wait_log vols-writer wrote
    wait_log vols-reader from-writer
    # One folder on the host, read-only for the reader; the disk is a block device of the pod's VM.
    [ "$(cat "$HYD_ROOT/volumes/podvol-shared/note")" = from-writer ]
    run hc exec vols-reader sh -c 'echo x > /in/y'
    [ "$status" -ne 0 ]
    [[ "$(hc exec vols-writer grep " /disk " /proc/mounts)" == *"/disk ext4 rw"* ]]
    [ "$(hc volume ls -q)" = podvol-shared ]
    [ "$(hc inspect vols-reader | jq -r '.[0].volumes[] | select(.source == "podvol-shared") | .type, .destination, .readonly')" = "volume
/in
true" ]
    # Started again in a new VM: the disk is hot-plugged again, the same image (two lines now), the volume shared.
    [ "$(hc pod stop -t 1 vols)" = vols ]
    [ "$(hc pod start vols)" = vols ]
    wait_lines vols-writer wrote 2
    [[ "$(hc exec vols-writer grep " /disk " /proc/mounts)" == *"/disk ext4 rw"* ]]
    [ "$(hc exec vols-writer cat /disk/d)" = "on-disk
on-disk" ]
    [ "$(hc exec vols-reader cat /in/note)" = from-writer ]
    [ "$(hc pod rm -f vols)" = vols ]
    # The named volume outlives the pod, as Docker's do; the disk image holds what was written.
    [ "$(hc volume ls -q)" = podvol-shared ]
    [ "$(hc volume rm podvol-shared)" = podvol-shared ]
    [ "$(debugfs -R "cat /d" "$HYI_DIR/pdisk.img" 2>/dev/null)" = "on-disk
on-disk" ]
    # Refused before anything is made: a disk image for two containers, a file that is no disk image.
    f=$(podfile twice '{"id": "twice", "volumes": [{"name": "disk", "driver": "raw", "source": "'"$HYI_DIR/pdisk.img"'"}],
        "containers": [{"name": "a", "image": "localhost/hyc/busybox", "volumes": [{"volume": "disk", "path": "/d"}]},
                       {"name": "b", "image": "localhost/hyc/busybox", "volumes": [{"volume": "disk", "path": "/d"}]}]}')
    run hc run --podfile "$f"
    [ "$status" -eq 125 ]
    [[ "$output" == *'the raw volume "disk" is mounted by 2 containers: a disk image is mounted by one container at a time; use a named volume to share files'* ]]
    echo text > "$HYI_DIR/plain.txt"
    f=$(podfile plain '{"id": "plain", "volumes": [{"name": "disk", "driver": "qcow2", "source": "'"$HYI_DIR/plain.txt"'"}],
        "containers": [{"name": "a", "image": "localhost/hyc/busybox", "volumes": [{"volume": "disk", "path": "/d"}]}]}')
    run hc run --podfile "$f"
    [ "$status" -eq 125 ]
    [[ "$output" == *"is not a qcow2 disk image"* ]]
    # A disk image another container has is refused before anything is made.
    hc run -d --network none --name holder -v "$HYI_DIR/pdisk.img:/d" "$IMG" sleep 600
    f=$(podfile taken '{"id": "taken", "volumes": [{"name": "disk", "driver": "raw", "source": "'"$HYI_DIR/pdisk.img"'"},
          {"name": "v", "driver": "named", "source": "podvol-taken"}],
        "containers": [{"name": "a", "image": "localhost/hyc/busybox", "volumes": [{"volume": "v", "path": "/v"}]},
                       {"name": "b", "image": "localhost/hyc/busybox", "volumes": [{"volume": "disk", "path": "/d"}]}]}')
    run hc run --podfile "$f"
    [ "$status" -eq 125 ]
    [[ "$output" == *"volumes[0]: the disk image $HYI_DIR/pdisk.img is attached to holder already: one VM at a time"* ]]
    [ "$(hc rm -f holder)" = holder ]
    # A pod that fails part way removes the named volumes it made, not one that was there before.
    [ "$(hc volume create podvol-old)" = podvol-old ]
    f=$(podfile half '{"id": "half", "volumes": [{"name": "n", "driver": "named", "source": "podvol-half"},
          {"name": "o", "driver": "named", "source": "podvol-old"}],
        "containers": [{"name": "a", "image": "localhost/hyc/busybox", "volumes": [{"volume": "n", "path": "/n"}, {"volume": "o", "path": "/o"}],
                        "command": ["sleep", "600"]},
                       {"name": "b", "image": "localhost/hyc/busybox", "user": "nosuchuser"}]}')
    run hc run --podfile "$f"
    [ "$status" -eq 125 ]
    [[ "$output" == *"nosuchuser"* ]]
    [ -z "$(hc pod ls -q)" ]
    [ "$(hc volume ls -q)" = podvol-old ]
    [ "$(hc volume rm podvol-old)" = podvol-old ]
    [ -z "$(hc pod ls -q)" ]
    [ -z "$(hc ps -a -q)" ]
    [ -z "$(hc volume ls -q)" ]
}

@test "hyperd pods: restart policies onFailure and always; a container a user stops stays stopped" {
    f=$(podfile onf '{"id": "onf", "restartPolicy": "onFailure", "containers": [
        {"name": "flaky", "image": "localhost/hyc/busybox",
         "command": ["sh", "-c", "echo run; [ -f /ok ] && exit 0; touch /ok; exit 1"]},
        {"name": "done", "image": "localhost/hyc/busybox", "command": ["sh", "-c", "echo once"]},
        {"name": "hold", "image": "localhost/hyc/busybox", "command": ["sleep", "600"]}]}')
    g=$(podfile alw '{"id": "alw", "restartPolicy": "always", "containers": [
        {"name": "loop", "image": "localhost/hyc/busybox", "command": ["sh", "-c", "echo run; exit 0"]}]}')
    hc run --podfile "$f"
    hc run --podfile "$g"
    # always: restarted after each clean exit.
    for i in $(seq 200); do
        [ "$(hc logs alw-loop | grep -c '^run$')" -ge 3 ] && break
        sleep 0.1
    done
    [ "$(hc logs alw-loop | grep -c '^run$')" -ge 3 ]
    # A container that keeps ending soon is started again later and later (0, 0.5 s, 1 s, ...).
    grep -q "restarted container alw-loop (exit code 0, restart 2; the next not before 500 ms)" "$HYI_DIR/hyperd.log"
    # onFailure: the failed run is restarted once, the clean exits never.
    for i in $(seq 100); do
        [ "$(hc inspect onf-flaky | jq -r '.[0].status')" = stopped ] && [ "$(hc logs onf-flaky | wc -l)" -eq 2 ] && break
        sleep 0.1
    done
    sleep 1.5
    [ "$(hc logs onf-flaky)" = "run
run" ]
    [ "$(hc inspect onf-flaky | jq -r '.[0].exitCode, .[0].restartCount')" = "0
1" ]
    [ "$(hc logs onf-done)" = once ]
    [ "$(hc inspect onf-done | jq -r '.[0].restartCount')" = 0 ]
    [ "$(hc pod inspect onf | jq -r '.[0].status, .[0].restartPolicy')" = "running
onFailure" ]
    # The policy is for the pod file's containers: one added with run --pod is not started again.
    run hc run --rm --pod alw "$IMG" sh -c 'echo added; exit 3'
    [ "$status" -eq 3 ]
    [ "$output" = added ]
    [ "$(hc pod inspect alw | jq -r '.[0].containers | length')" = 1 ]
    # A user's stop is final for the policy.
    hc stop -t 1 alw-loop
    n=$(hc inspect alw-loop | jq -r '.[0].restartCount')
    sleep 1.5
    [ "$(hc inspect alw-loop | jq -r '.[0].status, .[0].restartCount')" = "stopped
$n" ]
    hc pod rm -f onf alw
}

@test "hyperd pods: run -d --rm is removed when it ends, with no client waiting and across a hyperd restart" {
    id=$(hc run -d --rm "$IMG" sh -c 'echo bye')
    for i in $(seq 200); do
        [ -z "$(hc ps -a -q)" ] && break
        sleep 0.1
    done
    [ -z "$(hc ps -a -q)" ]
    [ ! -e "$HYD_ROOT/containers/$id" ]
    grep -q "removed container $id, which ended (autoRemove)" "$HYI_DIR/hyperd.log"
    # Ended while hyperd was down: removed by the first pass of the next hyperd.
    f=$(podfile keep '{"id": "keep", "containers": [{"name": "main", "image": "localhost/hyc/busybox", "command": ["sleep", "600"]}]}')
    hc run --podfile "$f"
    id=$(hc run -d --rm --pod keep "$IMG" sh -c 'sleep 3')
    hyc_stop KILL
    for i in $(seq 100); do
        [ "$("$HYPER_RUNV" --root "$HYD_RUNV" state "$id" | jq -r .status)" = stopped ] && break
        sleep 0.1
    done
    hyc_start
    for i in $(seq 100); do
        [ "$(hc ps -a -q | wc -l)" -eq 1 ] && break
        sleep 0.1
    done
    [ "$(hc ps -a -q)" = "$(hc inspect keep-main | jq -r '.[0].id[:12]')" ]
    hc pod rm -f keep
}

@test "hyperd pods: kill -9 of hyperd with three pods running; a new hyperd finds each running and reachable" {
    for p in p1 p2 p3; do
        f=$(podfile "$p" '{"id": "'"$p"'", "containers": [{"name": "c", "image": "localhost/hyc/busybox",
            "command": ["sh", "-c", "echo ready; sleep 600"]}]}')
        [ "$(hc run --podfile "$f")" = "$p" ]
    done
    for p in p1 p2 p3; do wait_log "$p-c" ready; done
    hyc_stop KILL
    # ROOT/rootfs is bound on itself once, however the root is spelt ("ROOT/" here): no bind more per start.
    HYD_ROOT=$HYD_ROOT/ hyc_start
    hyc_stop KILL
    hyc_start
    [ "$(awk -v m="$HYD_ROOT/rootfs" '$5 == m' /proc/self/mountinfo | wc -l)" -eq 1 ]
    run hc pod ls -q
    [ "$(echo "$output" | sort | tr '\n' ' ')" = "p1 p2 p3 " ]
    for p in p1 p2 p3; do
        [ "$(hc pod inspect "$p" | jq -r '.[0].status')" = running ]
        run hc exec "$p-c" hostname
        [ "$output" = "$p" ] || { echo "exec in $p: $status $output" >&2; false; }
    done
    [ "$(pgrep -af -- "$HYI_DIR" | grep -c qemu-system)" -eq 3 ]
    # The network of each pod survived the restart's sweep.
    [ "$(ls "$HYI_DIR/run/netns" | wc -l)" -eq 3 ]
    # The VM goes first, its containers with it: no waiting on each one.
    start=$(date +%s%N)
    [ "$(hc pod rm -f p1 p2 p3 | wc -l)" -eq 3 ]
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ]
}

@test "hyperd pods: invalid pod files and unknown images get clear errors and create nothing" {
    check() {
        run hc run --podfile "$(podfile bad "$1")"
        [ "$status" -eq 125 ]
        [[ "$output" == *"$2"*"${3:-}"* ]] || { echo "got: $output" >&2; return 1; }
    }
    check '{"id": "bad", "containers": [' "the pod file is not valid JSON"
    check '{"id": "bad", "restartpolicy": "always", "containers": [{"name": "a", "image": "x"}]}' 'unknown field "restartpolicy"'
    check '{"id": "bad", "containers": [{"name": "a"}]}' "containers[0].image is missing"
    check '{"id": "bad", "containers": [{"name": "a", "image": "localhost/hyc/busybox"}, {"name": "a", "image": "localhost/hyc/busybox"}]}' \
        'containers[1].name "a" is also the name of containers[0]'
    check '{"id": "bad", "containers": [{"name": "a", "image": "localhost/hyc/busybox"}, {"name": "b", "image": "nosuch/image"}]}' \
        "containers[1].image: " "docker.io/nosuch/image:latest in the store: pull or load it first"
    check '{"id": "bad", "network": {"mode": "tap", "tap": "tap0"}, "containers": [{"name": "a", "image": "localhost/hyc/busybox"}]}' \
        'network.mode "tap" is not supported by hyperd'
    check '{"id": "bad", "containers": [{"name": "a", "image": "localhost/hyc/busybox", "tty": true}]}' \
        'containers[0]: tty and stdin are not supported'
    run hc run --podfile "$HYI_DIR/nosuch.json"
    [ "$status" -eq 125 ]
    [[ "$output" == *"cannot open $HYI_DIR/nosuch.json"* ]]
    run hc pod inspect nosuch
    [ "$status" -eq 1 ]
    [[ "$output" == *"no such pod: nosuch"* ]]
    # Nothing was made: no row, no bundle, no runv state, no VM, no netns (teardown checks them too).
    [ -z "$(hc pod ls -q)" ]
    [ -z "$(hc ps -a -q)" ]
    [ -z "$(ls -A "$HYD_RUNV")" ]
    [ -z "$(ls -A "$HYD_ROOT/containers" 2>/dev/null)" ]
    [ -z "$(ls -A "$HYI_DIR/run/netns" 2>/dev/null)" ]
    ! pgrep -af -- "$HYI_DIR" | grep -q qemu-system
}
