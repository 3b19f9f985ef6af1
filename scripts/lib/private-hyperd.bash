# A hyperd of a script's own, for the demo and the benchmarks: its socket,
# image store, runv root and network state under one scratch folder, and a
# bridge and subnet of its own, all removed by ph_cleanup. Nothing of a
# hyperd the machine may run is touched.
#
# The caller sets PH_DIR (the scratch folder), PH_SUBNET (a /24 nobody
# else uses), and HYPERD, HYPERCTL; HYPER_KERNEL, HYPER_INITRD and
# HYPER_RUNV reach runv through hyperd's environment.

ph_sock() { echo "$PH_DIR/run/hyperd.sock"; }

ph_net() { echo --bridge "hyp${PH_DIR##*.}" --subnet "$PH_SUBNET" --network-state "$PH_DIR/network"; }

hc() { timeout 120 "$HYPERCTL" -H "unix://$(ph_sock)" "$@"; }

ph_start() {
    local i
    : > "$PH_DIR/hyperd.conf"
    # shellcheck disable=SC2046
    "$HYPERD" --config "$PH_DIR/hyperd.conf" --socket "$(ph_sock)" --root "$PH_DIR/root" \
        --runv-root "$PH_DIR/runv" $(ph_net) --log-file "$PH_DIR/hyperd.log" &
    echo $! > "$PH_DIR/hyperd.pid"
    for ((i = 0; i < 200; i++)); do
        hc version >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$PH_DIR/hyperd.pid")" 2>/dev/null || break
        sleep 0.05
    done
    echo "hyperd did not start:" >&2
    cat "$PH_DIR/hyperd.log" >&2
    return 1
}

ph_stop() {
    local pid
    [ -f "$PH_DIR/hyperd.pid" ] || return 0
    pid=$(cat "$PH_DIR/hyperd.pid")
    rm -f "$PH_DIR/hyperd.pid"
    kill "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true
}

# Every container removed, hyperd stopped, its network gone, the folder removed.
ph_cleanup() {
    local id p m
    if [ -f "$PH_DIR/hyperd.pid" ]; then
        for id in $(hc ps -a -q 2>/dev/null); do hc rm -f "$id" >/dev/null 2>&1 || true; done
    fi
    ph_stop
    # shellcheck disable=SC2046
    "$HYPERD" --config "$PH_DIR/hyperd.conf" --socket "$(ph_sock)" $(ph_net) --remove-network >/dev/null 2>&1 || true
    for p in $(pgrep -f -- "$PH_DIR" || true); do kill -9 "$p" 2>/dev/null || true; done
    { grep " $PH_DIR" /proc/self/mounts || true; } | cut -d' ' -f2 | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$PH_DIR"
}

# ph_load_busybox REF: an image of busybox with all its applets, Cmd /bin/sh, loaded into hyperd.
ph_load_busybox() {
    local ref=$1 root=$PH_DIR/image-root a
    mkdir -p "$root"/{bin,etc,tmp,www}
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
    echo 'root:x:0:' > "$root/etc/group"
    umoci init --layout "$PH_DIR/layout"
    umoci new --image "$PH_DIR/layout:latest"
    umoci insert --image "$PH_DIR/layout:latest" "$root" / >/dev/null
    umoci config --image "$PH_DIR/layout:latest" --config.cmd /bin/sh
    skopeo copy -q "oci:$PH_DIR/layout:latest" "oci-archive:$PH_DIR/image.tar:$ref"
    rm -rf "$root" "$PH_DIR/layout"
    hc load -i "$PH_DIR/image.tar" >/dev/null
    rm -f "$PH_DIR/image.tar"
}
