#!/usr/bin/env bats
# hyperd's container network, end to end: a bridge and subnet of the
# test's own, -p publishing, --network none, names in /etc/hosts and
# resolv.conf; nothing of it is left. The private hyperd, the image and the
# leftover checks are in hyperd-containers-helpers.bash.

load hyperd-containers-helpers

setup_file() {
    hyc_setup_file 10.213.0.0/24
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

BR() { echo "hyt${HYI_DIR##*.}"; }

@test "hyperd network: -p publishes a port; the container has its address; rm -f removes veth, netns and rules" {
    port=$((20000 + RANDOM % 20000))
    id=$(hc run -d --name web -p "127.0.0.1:$port:8080" "$IMG" httpd -f -p 8080 -h /etc)
    [ ${#id} -eq 64 ]
    ip link show "hv${id:0:12}" | grep -q "master $(BR)"
    [ -e "$HYI_DIR/run/netns/$id" ]
    nft list table ip "hyper-$(BR)" | grep -q "hyper:${id:0:32}"
    jq -e '.linux.namespaces[] | select(.type == "network") | .path' "$HYD_ROOT/containers/$id/config.json"
    out=
    for i in $(seq 100); do
        out=$(curl -s -m 2 "http://127.0.0.1:$port/group") && [ -n "$out" ] && break
        sleep 0.2
    done
    [ "$out" = "root:x:0:
user:x:1000:" ]
    run hc exec web ip -4 addr show eth0
    [[ "$output" == *"inet 10.213.0."*"/24"* ]]
    [ "$(hc rm -f web)" = web ]
    ! ip link show "hv${id:0:12}" 2>/dev/null
    [ ! -e "$HYI_DIR/run/netns/$id" ]
    ! nft list table ip "hyper-$(BR)" | grep -q "hyper:${id:0:32}"
}

@test "hyperd network: --network none has no NIC; a bad or taken port is refused and leaves nothing" {
    run hc run --rm --network none "$IMG" ls /sys/class/net
    [ "$status" -eq 0 ]
    [[ "$output" == *lo* && "$output" != *eth* ]]
    run hc run --network none -p 8080:80 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"\"publish\" needs a network"* ]]
    run hc run -p 80:8080-8081 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"invalid published port \"80:8080-8081\""* ]]
    port=$((20000 + RANDOM % 20000))
    id=$(hc run -d -p "127.0.0.1:$port:8080" "$IMG" sleep 600)
    run hc run -d -p "$port:9090" "$IMG" sleep 600
    [ "$status" -eq 125 ]
    [ "$(hc ps -a -q | wc -l)" -eq 1 ]
    [ "$(ls "$HYI_DIR/run/netns")" = "$id" ]
    [ "$(ip -o link show master "$(BR)" | wc -l)" -eq 1 ]
}

@test "hyperd network: /etc/resolv.conf from --dns, /etc/hosts with the container's name and --add-host" {
    run hc run --rm --dns 192.0.2.53 --dns 2001:db8::53 "$IMG" cat /etc/resolv.conf
    [ "$status" -eq 0 ]
    [[ "$output" == *"nameserver 192.0.2.53"*"nameserver 2001:db8::53"* ]]
    run hc run --rm --name web --add-host db:192.0.2.7 "$IMG" sh -c 'grep web /etc/hosts && grep db /etc/hosts && cat /etc/hostname && hostname'
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "10.213.0."*" web" ]]
    [ "${lines[1]}" = "$(printf '192.0.2.7\tdb')" ]
    [ "${lines[2]}" = "${lines[3]}" ]
    [[ "${lines[0]}" == *"${lines[2]} web" ]]
    # Without --dns: the host's nameservers, none of them the loopback, which would be the VM's own.
    run hc run --rm "$IMG" cat /etc/resolv.conf
    [ "$status" -eq 0 ]
    [[ "$output" != *"nameserver 127."* ]]
    [ "$(grep -c '^nameserver' <<<"$output")" -eq "$(grep '^nameserver' /etc/resolv.conf | grep -vc -e 'nameserver[[:space:]]*127\.' -e 'nameserver[[:space:]]*::1')" ]
    run hc run --rm --network none -u 0 "$IMG" sh -c 'cat /etc/hosts; echo x > /etc/hosts'
    [ "$status" -ne 0 ]
    [[ "$output" == *"127.0.0.1"*"localhost"* && "$output" != *"10.213."* ]]
}
