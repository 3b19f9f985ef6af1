# Shared by the bats files that run containers through a private hyperd
# (hyperd-containers.bats, hyperd-network.bats): a temporary socket, store
# root and runv root, a bridge and subnet of the file's own, a busybox image
# loaded from an archive, and after each test a check that nothing is left:
# no QEMU, virtiofsd or monitor, no mount, no bundle, no runv state, no row.
#
# Environment: HYPERD, HYPERCTL, RUNV (the build's; tests/run.sh sets
# them), HYPER_KERNEL and HYPER_INITRD.
#
# hyc_setup_file SUBNET netns runs the private hyperd (and so its bridge,
# nft table, veths and VMs) in a network namespace of the file's own,
# $HYC_NS, removed at the end: hns CMD runs a command in it.

load image-helpers

IMG=localhost/hyc/busybox

# hyc_setup_file SUBNET [netns]: the subnet of the file's own bridge (a /24 no other file uses).
hyc_setup_file() {
    export HYPERD=${HYPERD:-$HYI_REPO/build/src/hyperd/hyperd}
    export HYPERCTL=${HYPERCTL:-$HYI_REPO/build/src/hyperctl/hyperctl}
    export HYPER_RUNV=${RUNV:-$HYI_REPO/build/src/runv/runv}
    export HYPER_INITRD=${HYPER_INITRD:-$HYI_REPO/build/guest/initrd.img}
    if [ -z "${HYPER_KERNEL:-}" ]; then
        HYPER_KERNEL=$("$HYI_REPO/scripts/build-kernel.sh")/vmlinux
        export HYPER_KERNEL
    fi
    local subnet=$1
    HYI_DIR=$(mktemp -d /tmp/hyc.XXXXXX)
    export HYI_DIR HYD_SOCK=$HYI_DIR/run/hyperd.sock HYD_ROOT=$HYI_DIR/root HYD_RUNV=$HYI_DIR/runv
    export HYC_NS=
    if [ "${2:-}" = netns ]; then
        HYC_NS=hyc${HYI_DIR##*.}
        ip netns add "$HYC_NS"
        hns ip link set lo up
    fi
    # A bridge, subnet and state of this test's own: nothing of the machine's network is touched.
    export HYD_NET="--bridge hyt${HYI_DIR##*.} --subnet $subnet --network-state $HYI_DIR/network"
    : > "$HYI_DIR/hyperd.conf"
    hyc_make_archive
    hyc_start
    hc load -i "$HYI_DIR/busybox.tar" >/dev/null
    hyc_stop
}

hyc_teardown_file() {
    hyc_stop
    # shellcheck disable=SC2086
    hns "$HYPERD" --config "$HYI_DIR/hyperd.conf" --socket "$HYD_SOCK" $HYD_NET --remove-network
    local left=0
    hyi_leftovers || left=1
    hns ip link show "hyt${HYI_DIR##*.}" >/dev/null 2>&1 && left=1
    hns nft list table ip "hyper-hyt${HYI_DIR##*.}" >/dev/null 2>&1 && left=1
    if [ -n "$HYC_NS" ]; then
        # Nothing but lo in the namespace: every link a test made is gone too.
        [ "$(hns ip -o link show | grep -vc ': lo:')" -eq 0 ] || { hns ip -o link show >&2; left=1; }
        ip netns del "$HYC_NS"
    fi
    rm -rf "$HYI_DIR"
    return $left
}

# Runs a command in the file's network namespace, or as it is without one.
hns() {
    if [ -n "${HYC_NS:-}" ]; then
        nsenter --net="/run/netns/$HYC_NS" "$@"
    else
        "$@"
    fi
}

hyc_setup() {
    : > "$HYI_DIR/hyperd.log"
    hyc_start
}

hyc_teardown() {
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

# A busybox image with every applet, user 1000 (home /home/user, its own), Cmd /bin/sh: localhost/hyc/busybox:latest.
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
    # A home of user's own, a file of its with its own mode and a link, for copy-up to keep.
    echo secret > "$root/home/user/.secret"
    ln -s ../../etc/passwd "$root/home/user/passwd-link"
    chown -hR 1000:1000 "$root/home/user"
    chmod 0750 "$root/home/user"
    chmod 0640 "$root/home/user/.secret"
    # HYC_EXTRA_BINS: programs of the test's own (static) for /bin.
    for applet in ${HYC_EXTRA_BINS:-}; do
        cp "$applet" "$root/bin/"
    done
    umoci init --layout "$HYI_DIR/layout"
    umoci new --image "$HYI_DIR/layout:latest"
    umoci insert --image "$HYI_DIR/layout:latest" "$root" / >/dev/null
    umoci config --image "$HYI_DIR/layout:latest" --config.cmd /bin/sh
    skopeo copy -q "oci:$HYI_DIR/layout:latest" "oci-archive:$HYI_DIR/busybox.tar:localhost/hyc/busybox:latest"
    rm -rf "$root" "$HYI_DIR/layout"
}

hyc_start() {
    # A simple command (nsenter execs hyperd), so that $! is hyperd's pid.
    # shellcheck disable=SC2086
    ${HYC_NS:+nsenter --net=/run/netns/$HYC_NS} "$HYPERD" --config "$HYI_DIR/hyperd.conf" --socket "$HYD_SOCK" \
        --root "$HYD_ROOT" --runv-root "$HYD_RUNV" $HYD_NET --log-file "$HYI_DIR/hyperd.log" &
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

