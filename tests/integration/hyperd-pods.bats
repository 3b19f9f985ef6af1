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

@test "hyperd pods: two containers in one VM share localhost, hostname and ipc; labels, dns and sizing honoured" {
    f=$(podfile web '{"id": "web", "hostname": "webhost",
        "resources": {"vcpu": 2, "memory": "256Mi"},
        "labels": {"app": "shop", "tier": "front"},
        "dns": {"servers": ["192.0.2.53"], "search": ["svc.example"], "options": ["ndots:2"]},
        "containers": [
          {"name": "httpd", "image": "localhost/hyc/busybox",
           "command": ["sh", "-c", "mkdir -p /www && echo hello-pod > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www"]},
          {"name": "client", "image": "localhost/hyc/busybox",
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
    [ "$mem" -gt 150000 ] && [ "$mem" -le 262144 ]
    [[ "$(hc exec web-client cat /etc/resolv.conf)" == *"nameserver 192.0.2.53"*"search svc.example"*"options ndots:2"* ]]
    # The same ipc namespace: a FIFO is no test of that, /proc/self/ns/ipc is.
    [ "$(hc exec web-client readlink /proc/self/ns/ipc)" = "$(hc exec web-httpd readlink /proc/self/ns/ipc)" ]
    [ "$(hc exec web-client readlink /proc/self/ns/net)" = "$(hc exec web-httpd readlink /proc/self/ns/net)" ]
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
    [ "$(hc pod stop web)" = web ]
    [ "$(hc pod inspect web | jq -r '.[0].status')" = exited ]
    [ "$(hc pod rm web)" = web ]
    [ -z "$(hc pod ls -q)" ]
}
