#!/usr/bin/env bats
# hyperd's container network, end to end, inside a network namespace of
# the file's own ($HYC_NS: the private hyperd, its bridge, its nft table
# and every veth and tap live there; nothing of the machine's network is
# touched): -p publishing over TCP and UDP, pods reaching each other by
# address and by a name of /etc/hosts, --network none, bridges and taps of
# the user's, fifty containers, and nothing left after rm. The private
# hyperd, the image and the leftover checks are in
# hyperd-containers-helpers.bash.

load hyperd-containers-helpers

setup_file() {
    # udpecho: busybox's nc has no UDP.
    export HYC_EXTRA_BINS=${UDPECHO:-$(dirname "${HYPERD:-$BATS_TEST_DIRNAME/../../build/src/hyperd/hyperd}")/../../tests/helpers/udpecho}
    hyc_setup_file 10.220.0.0/24 netns
}

teardown_file() {
    hyc_teardown_file
}

setup() {
    hyc_setup
}

teardown() {
    [ -z "${HOLDER:-}" ] || kill "$HOLDER" 2>/dev/null || true
    hyc_teardown
    hns ip link del "$(UB)" 2>/dev/null || true
    hns ip link del "$(UT)" 2>/dev/null || true
}

BR() { echo "hyt${HYI_DIR##*.}"; }
# A bridge and a tap "of the user's", made by the tests.
UB() { echo "hyu${HYI_DIR##*.}"; }
UT() { echo "hyp${HYI_DIR##*.}"; }
STATE() { echo "$HYI_DIR/network/$(BR).json"; }
# Whether the user's tap is up (IFF_UP; LOWER_UP is carrier) or down.
tap_up() { hns ip -o link show "$(UT)" | grep -q '[<,]UP[,>]'; }
tap_down() { hns ip -o link show "$(UT)" | grep -q 'state DOWN' && ! tap_up; }

# The container's IPv4 address on eth0.
addr_of() {
    hc exec "$1" ip -4 -o addr show eth0 | awk '{ split($4, a, "/"); print a[1] }'
}

# wait_for CMD...: until it succeeds (VMs boot under TCG), at most 20 s.
wait_for() {
    local i
    for i in $(seq 100); do
        "$@" && return 0
        sleep 0.2
    done
    "$@"
}

@test "hyperd network: -p publishes a port; the container has its address; rm -f removes veth, netns, rules and address" {
    port=$((20000 + RANDOM % 20000))
    id=$(hc run -d --name web -p "127.0.0.1:$port:8080" "$IMG" httpd -f -p 8080 -h /etc)
    [ ${#id} -eq 64 ]
    hns ip link show "hv${id:0:12}" | grep -q "master $(BR)"
    [ -e "$HYI_DIR/run/netns/$id" ]
    hns nft list table ip "hyper-$(BR)" | grep -q "hyper:${id:0:32}"
    jq -e '.linux.namespaces[] | select(.type == "network") | .path' "$HYD_ROOT/containers/$id/config.json"
    [ "$(jq -r ".pods[\"${id:0:32}\"].address" "$(STATE)")" = "$(addr_of web)" ]
    out=$(wait_for hns curl -sf -m 2 "http://127.0.0.1:$port/group")
    [ "$out" = "root:x:0:
user:x:1000:" ]
    run hc exec web ip -4 addr show eth0
    [[ "$output" == *"inet 10.220.0."*"/24"* ]]
    [ "$(hc rm -f web)" = web ]
    run hns ip link show "hv${id:0:12}"
    [ "$status" -ne 0 ]
    [ ! -e "$HYI_DIR/run/netns/$id" ]
    [ -z "$(hns nft list table ip "hyper-$(BR)" | grep "hyper:${id:0:32}")" ]
    [ "$(jq '.pods | length' "$(STATE)")" -eq 0 ]
    [ -z "$(hns ip -o link show master "$(BR)")" ]
}

@test "hyperd network: two pods reach each other by address and by an /etc/hosts name; UDP on a published port" {
    port=$((20000 + RANDOM % 20000))
    hc run -d --name a -p "127.0.0.1:$port:7777/udp" "$IMG" sh -c 'httpd -p 8080 -h /etc && exec udpecho 7777' >/dev/null
    hyc_wait_log a "listening on 7777/udp"
    a=$(addr_of a)
    [[ "$a" == 10.220.0.* ]]
    run hc run --rm --add-host peer:"$a" "$IMG" sh -c "ping -c1 -W5 $a >/dev/null && echo pinged && wget -qO- http://peer:8080/group"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = pinged ]
    [ "${lines[1]}" = "root:x:0:" ]
    # UDP through the DNAT rule, answered from the pod.
    out=$(wait_for hns sh -c "echo hello | socat -T2 - UDP:127.0.0.1:$port")
    [ "$out" = "echo hello" ]
    hyc_wait_log a hello
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
    [ "$(hns ip -o link show master "$(BR)" | wc -l)" -eq 1 ]
}

@test "hyperd network: /etc/resolv.conf from --dns, /etc/hosts with the container's name and --add-host" {
    run hc run --rm --dns 192.0.2.53 --dns 2001:db8::53 "$IMG" cat /etc/resolv.conf
    [ "$status" -eq 0 ]
    [[ "$output" == *"nameserver 192.0.2.53"*"nameserver 2001:db8::53"* ]]
    run hc run --rm --name web --add-host db:192.0.2.7 "$IMG" sh -c 'grep web /etc/hosts && grep db /etc/hosts && cat /etc/hostname && hostname'
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "10.220.0."*" web" ]]
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
    [[ "$output" == *"127.0.0.1"*"localhost"* && "$output" != *"10.220."* ]]
}

@test "hyperd network: --network bridge:NAME puts the container on the user's bridge with --ip/--gateway, no NAT; rm leaves the bridge as it was" {
    hns ip link add "$(UB)" type bridge
    hns ip addr add 10.221.0.1/24 dev "$(UB)"
    hns ip link set "$(UB)" up
    rules=$(hns nft list ruleset)
    # Refused, with what to do, and nothing made.
    run hc run --network "bridge:$(UB)" -p 8080:80 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"\"publish\" is only for hyperd's own bridge"* ]]
    run hc run --ip 10.221.0.9/24 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"\"ip\" is only for \"network\": \"bridge:NAME\" or \"tap:NAME\""* ]]
    run hc run --network bridge:nosuchbr0 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"there is no bridge nosuchbr0"* ]]
    run api POST /v1/containers/run -d "{\"image\":\"$IMG\",\"network\":\"bridge:nosuchbr0\"}"
    [ "${lines[-1]}" = 404 ]
    run hc run --network "bridge:$(BR)" "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"hyperd's own bridge: use --network bridge"* ]]
    run hc run --network "bridge:$(UB)" --ip 10.221.0.9 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"with its prefix length"* ]]
    [ -z "$(hc ps -a -q)" ]
    [ -z "$(ls -A "$HYI_DIR/run/netns")" ]

    id=$(hc run -d --name u --network "bridge:$(UB)" --ip 10.221.0.10/24 --gateway 10.221.0.1 --add-host gw:10.221.0.1 \
        "$IMG" httpd -f -p 8080 -h /etc)
    hns ip link show "hv${id:0:12}" | grep -q "master $(UB)"
    out=$(wait_for hns curl -sf -m 2 http://10.221.0.10:8080/group)
    [ "$out" = "root:x:0:
user:x:1000:" ]
    run hc exec u ip route
    [[ "$output" == *"default via 10.221.0.1 dev eth0"* ]]
    [ "$(hc exec u sh -c 'grep -w u /etc/hosts')" = "10.221.0.10	${id:0:12} u" ]
    # Not hyperd's: no address of its range, no rule, no state.
    [ "$(jq '.pods | length' "$(STATE)")" -eq 0 ]
    [ "$(hns nft list ruleset)" = "$rules" ]
    # Without --ip the guest's eth0 is there, up, without an address: the container's to configure.
    run hc run --rm --network "bridge:$(UB)" -u 0 "$IMG" sh -c 'ip -4 -o addr show eth0 | wc -l; ip -o link show eth0;
        ip addr add 10.221.0.11/24 dev eth0 && ping -c1 -W5 10.221.0.1 >/dev/null && echo reached'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 0 ]
    [[ "${lines[1]}" == *"eth0: <"*",UP,"* ]]
    [ "${lines[2]}" = reached ]
    [ "$(hc rm -f u)" = u ]
    # The bridge is as the user left it: its address, up, no port.
    hns ip -4 -o addr show dev "$(UB)" | grep -q "10.221.0.1/24"
    hns ip -o link show "$(UB)" | grep -q "UP"
    [ -z "$(hns ip -o link show master "$(UB)")" ]
    [ "$(hns nft list ruleset)" = "$rules" ]
    [ -z "$(ls -A "$HYI_DIR/run/netns")" ]
}

@test "hyperd network: --network tap:NAME hands the user's tap to the VM; rm leaves the tap as it was" {
    # Left down: runv brings it up for the VM, and down again once the VM is gone.
    hns ip tuntap add "$(UT)" mode tap
    hns ip addr add 10.221.0.129/25 dev "$(UT)"
    rules=$(hns nft list ruleset)
    # Another program holds it while it is down, so it has no carrier to show: in use all the same; left as is.
    # (nsenter itself, not hns: $! is then socat's pid.)
    nsenter --net="/run/netns/$HYC_NS" socat -u TUN,tun-type=tap,tun-name="$(UT)",iff-no-pi - </dev/null >/dev/null 2>&1 3>&- &
    HOLDER=$!
    wait_for sh -c "grep -qs 'iff:.*$(UT)' /proc/$HOLDER/fdinfo/*"
    tap_down
    run hc run -d --network "tap:$(UT)" "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"the tap $(UT) is in use"* ]]
    run api POST /v1/containers/run -d "{\"image\":\"$IMG\",\"network\":\"tap:$(UT)\"}"
    [ "${lines[-1]}" = 409 ]
    [ -z "$(hc ps -a -q)" ]
    tap_down
    kill "$HOLDER"
    wait "$HOLDER" || true
    HOLDER=
    run hc run --network "tap:$(UT)" -p 8080:80 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"on a tap of your own (\"tap:$(UT)\") hyperd adds no rules"* ]]
    run hc run --network tap:lo "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"lo is not a tap"* ]]
    run hc run --network "tap:$(UT)" --ip 10.221.0.130/25 --gateway 10.220.0.1 "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"is not another address in 10.221.0.130/25's subnet"* ]]

    hc run -d --name t --network "tap:$(UT)" --ip 10.221.0.130/25 --gateway 10.221.0.129 "$IMG" httpd -f -p 8080 -h /etc >/dev/null
    tap_up
    out=$(wait_for hns curl -sf -m 2 http://10.221.0.130:8080/group)
    [ "$out" = "root:x:0:
user:x:1000:" ]
    run hc exec t sh -c 'ip -4 -o addr show eth0; ip route'
    [[ "$output" == *"10.221.0.130/25"*"default via 10.221.0.129 dev eth0"* ]]
    # One VM a tap: a second container on it is refused before anything is made.
    run hc run -d --network "tap:$(UT)" "$IMG" true
    [ "$status" -eq 125 ]
    [[ "$output" == *"the tap $(UT) is in use"* ]]
    run api POST /v1/containers/run -d "{\"image\":\"$IMG\",\"network\":\"tap:$(UT)\"}"
    [ "${lines[-1]}" = 409 ]
    [ "$(hc ps -a -q | wc -l)" -eq 1 ]
    # No namespace, veth, rule or address of hyperd's.
    [ -z "$(ls -A "$HYI_DIR/run/netns")" ]
    [ "$(jq '.pods | length' "$(STATE)")" -eq 0 ]
    [ "$(hns nft list ruleset)" = "$rules" ]
    [ "$(hc rm -f t)" = t ]
    wait_for tap_down
    hns ip -d -o link show "$(UT)" | grep -q "tun type tap"
    hns ip -4 -o addr show dev "$(UT)" | grep -q "10.221.0.129/25"
    [ "$(hns nft list ruleset)" = "$rules" ]
}

@test "hyperd network: fifty containers made and removed leave the bridge, the rules and the addresses as they were" {
    links=$(hns ip -o link show master "$(BR)")
    rules=$(hns nft list table ip "hyper-$(BR)")
    # Four at a time, each with a port of its own, then all removed.
    base=$((20000 + RANDOM % 20000))
    seq 0 49 | xargs -P 4 -I{} sh -c "timeout 120 \"\$HYPERCTL\" -H unix://\$HYD_SOCK run -d --name n{} -p 127.0.0.1:\$(($base + {})):80 \"$IMG\" true >/dev/null"
    [ "$(hc ps -a -q | wc -l)" -eq 50 ]
    [ "$(jq '.pods | length' "$(STATE)")" -eq 50 ]
    [ "$(jq '[.pods[].address] | unique | length' "$(STATE)")" -eq 50 ]
    [ "$(hns nft list table ip "hyper-$(BR)" | grep -c 'dnat to')" -eq 50 ]
    [ "$(hns ip -o link show master "$(BR)" | wc -l)" -eq 50 ]
    hc ps -a -q | xargs -P 4 -n 5 timeout 120 "$HYPERCTL" -H "unix://$HYD_SOCK" rm -f >/dev/null
    [ -z "$(hc ps -a -q)" ]
    [ "$(hns ip -o link show master "$(BR)")" = "$links" ]
    [ "$(hns nft list table ip "hyper-$(BR)")" = "$rules" ]
    [ "$(jq '.pods | length' "$(STATE)")" -eq 0 ]
    [ -z "$(ls -A "$HYI_DIR/run/netns")" ]
}
