# Shared setup for the tests that drive runv through real clients of the
# runc command line: Debian's containerd (ctr) and Podman (with conmon).
# Load it after helpers.bash.
#
# Each file gets, once, in setup_file:
#   - a busybox image, made by hand as an OCI layout (tar, gzip -n,
#     sha256sum, jq: reproducible) and turned into an OCI archive by skopeo;
#   - a private containerd or a private Podman whose every folder, socket and
#     process lies under $HYT_DIR, so that helpers.bash's leftover checks see
#     everything they start;
#   - $HYT_DIR/bin/runv: a three-line wrapper that execs $RUNV with the guest
#     kernel and initrd in its environment. conmon hands its runtime a
#     scrubbed environment (no HYPER_*), and the wrapper's path also puts
#     $HYT_DIR on every runtime command line, for the leftover checks. It
#     is named runv so that Podman's runtime_supports_json matches it.
#
# Every test runs the same thing under the reference runtime (runc: crun 1.8
# refuses this host's hybrid cgroup layout) and under runv, and compares.
# HYT_CLIENT_RUNV=/usr/sbin/runc puts runc in runv's place: a check of the
# harness itself, whose every test must then pass.
# A runv without the verbs clients need (create, start, state, kill,
# delete, exec, ps) fails the runv half with a message that names what is
# missing: never a skip.

HYT_IMAGE=localhost/hyt/busybox:latest
HYT_HTTP_TEXT="hello from hyt httpd"

# hyt_client_setup_file: the common part (folders, image, wrapper).
hyt_client_setup_file() {
    hyt_setup_file
    mkdir -p "$HYT_DIR/bin" "$HYT_DIR/image"
    hyt_make_wrapper "$HYT_DIR/bin/runv"
    export HYT_RUNV=$HYT_DIR/bin/runv
    hyt_make_image "$HYT_DIR/image"
    export HYT_ARCHIVE=$HYT_DIR/image/busybox.tar
}

hyt_make_wrapper() {
    local out=$1
    cat >"$out" <<EOF
#!/bin/sh
# runv for the client tests: conmon scrubs the environment.
HYPER_KERNEL='$HYPER_KERNEL' HYPER_INITRD='$HYPER_INITRD' exec '${HYT_CLIENT_RUNV:-$RUNV}' "\$@"
EOF
    chmod 755 "$out"
}

# The runtime binaries a test compares: runc (the reference) and runv.
hyt_runtime_path() {
    case "$1" in
        ref) command -v runc ;;
        runv) echo "$HYT_RUNV" ;;
    esac
}

# Fails with a clear message when the runv half cannot work yet: runv
# missing, or without the verbs every client of the runc contract calls.
# Prints nothing and succeeds for the reference.
hyt_client_ready() {
    local rt=$1 verb verbs missing=()
    [ "$rt" = runv ] && [ -z "${HYT_CLIENT_RUNV:-}" ] || return 0
    if [ ! -x "$RUNV" ]; then
        echo "no runv at $RUNV"
        return 1
    fi
    # The verbs `runv --help` lists, two spaces in, under "Commands:".
    verbs=" $("$RUNV" --help 2>&1 | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' | tr '\n' ' ') "
    for verb in create start state kill delete exec ps; do
        case "$verbs" in *" $verb "*) ;; *) missing+=("$verb") ;; esac
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "runv lacks the runc verbs clients call: ${missing[*]} (issue 3); the $HYT_CLIENT test needs them"
        return 1
    fi
}

# hyt_make_image DIR: DIR/layout (an OCI image layout, tag "latest") and
# DIR/busybox.tar (an OCI archive of it named $HYT_IMAGE). The image holds
# busybox with its applet links, a user 1000 and /www/index.html for httpd.
hyt_make_image() {
    local d=$1 root=$1/rootfs lay=$1/layout
    local layer diff_id layer_d layer_n cfg cfg_d cfg_n man man_d man_n
    hyt_make_rootfs "$root"
    mkdir -p "$root/www"
    echo "$HYT_HTTP_TEXT" >"$root/www/index.html"
    mkdir -p "$lay/blobs/sha256"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$lay/oci-layout"

    tar --sort=name --mtime=@0 --numeric-owner -C "$root" -cf "$d/layer.tar" .
    diff_id=$(sha256sum <"$d/layer.tar" | cut -d' ' -f1)
    gzip -n -c "$d/layer.tar" >"$d/layer.tar.gz"
    layer_d=$(sha256sum <"$d/layer.tar.gz" | cut -d' ' -f1)
    layer_n=$(stat -c %s "$d/layer.tar.gz")
    mv "$d/layer.tar.gz" "$lay/blobs/sha256/$layer_d"
    rm -f "$d/layer.tar"

    cfg=$(jq -cn --arg diff "sha256:$diff_id" '{
        architecture: "amd64", os: "linux",
        config: {
            Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            Cmd: ["sh"], WorkingDir: "/"
        },
        rootfs: {type: "layers", diff_ids: [$diff]}
    }')
    printf '%s' "$cfg" >"$d/cfg"
    cfg_d=$(sha256sum <"$d/cfg" | cut -d' ' -f1)
    cfg_n=$(stat -c %s "$d/cfg")
    mv "$d/cfg" "$lay/blobs/sha256/$cfg_d"

    man=$(jq -cn --arg cd "sha256:$cfg_d" --argjson cn "$cfg_n" \
        --arg ld "sha256:$layer_d" --argjson ln "$layer_n" '{
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cn},
        layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ln}]
    }')
    printf '%s' "$man" >"$d/man"
    man_d=$(sha256sum <"$d/man" | cut -d' ' -f1)
    man_n=$(stat -c %s "$d/man")
    mv "$d/man" "$lay/blobs/sha256/$man_d"

    jq -cn --arg md "sha256:$man_d" --argjson mn "$man_n" '{
        schemaVersion: 2,
        manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
                     digest: $md, size: $mn,
                     annotations: {"org.opencontainers.image.ref.name": "latest"}}]
    }' >"$lay/index.json"

    rm -rf "$root"
    skopeo copy -q "oci:$lay:latest" "oci-archive:$d/busybox.tar:$HYT_IMAGE"
}

# A free TCP port on 127.0.0.1.
hyt_free_port() {
    local p
    for ((;;)); do
        p=$((20000 + RANDOM % 20000))
        ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return 0; }
    done
}

# Host-wide things a client may leave outside $HYT_DIR: network namespaces
# (podman's netns-UUID), and the links netavark makes (podmanN bridges,
# vethN host ends). Only those names are compared, since other tests on the
# machine may add links of their own. Taken in setup_file, compared after
# each test.
hyt_host_snapshot() {
    {
        ip netns list 2>/dev/null | awk '$1 ~ /^netns-/ {print "netns " $1}'
        ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
            grep -E '^(veth|podman)[0-9]+$' | sed 's/^/link /'
    } | sort
}

hyt_host_leftovers() {
    local new
    # Only what appeared counts: what went away was someone else's.
    new=$(hyt_host_snapshot | comm -13 "$HYT_DIR/host.before" -)
    [ -z "$new" ] && return 0
    sed 's/^/leftover on the host: /' <<<"$new"
    return 1
}

# hyt_same_as_ref NAME...: fails, showing the differences, unless runv's
# files $HYT_DIR/work/runv/NAME are the reference's work/ref/NAME.
hyt_same_as_ref() {
    local n bad=0
    for n in "$@"; do
        diff -u --label "runc $n" --label "runv $n" \
            "$HYT_DIR/work/ref/$n" "$HYT_DIR/work/runv/$n" || bad=1
    done
    return "$bad"
}

# The folder where runtime RT's half of a test writes what it saw.
hyt_w() {
    mkdir -p "$HYT_DIR/work/$1"
    echo "$HYT_DIR/work/$1"
}

# ---------------------------------------------------------------- containerd

# hyt_ctrd_setup_file: a private containerd on $HYT_DIR/ctrd/sock with the
# image imported. Its shims (one per container) name the socket on their
# command line, and their runtimes get --runc-root under $HYT_DIR.
hyt_ctrd_setup_file() {
    export HYT_CLIENT=containerd
    hyt_client_setup_file
    local c=$HYT_DIR/ctrd i
    mkdir -p "$c"/{root,state,fifo,ref-root,runv-root}
    export HYT_CTRD=$c HYT_CTRD_SOCK=$c/sock
    cat >"$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$c/sock"

[ttrpc]
  address = "$c/sock.ttrpc"

[debug]
  address = ""
EOF
    hyt_host_snapshot >"$HYT_DIR/host.before"
    containerd --config "$c/config.toml" </dev/null >"$c/log" 2>&1 &
    echo $! >"$c/pid"
    for ((i = 0; i < 300; i++)); do
        [ -S "$c/sock" ] && ctr -a "$c/sock" version >/dev/null 2>&1 && break
        if ! kill -0 "$(cat "$c/pid")" 2>/dev/null; then
            echo "containerd exited:" >&2
            tail -n 20 "$c/log" >&2
            return 1
        fi
        sleep 0.1
    done
    hyt_ctr images import "$HYT_ARCHIVE" >/dev/null
    hyt_ctr images ls -q | grep -qxF "$HYT_IMAGE"
}

# ctr on the private containerd; no call may hang a test for good.
hyt_ctr() {
    timeout -k 5 "${HYT_TIMEOUT:-180}" ctr -a "$HYT_CTRD_SOCK" "$@"
}

hyt_ctrd_teardown_file() {
    [ -n "${HYT_CTRD:-}" ] && [ -f "$HYT_CTRD/pid" ] || { hyt_teardown_file; return 0; }
    local pid i
    pid=$(cat "$HYT_CTRD/pid")
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    hyt_teardown_file
}

# The socket containerd 1.6 gives the shim of container ID: outside
# $HYT_DIR, in /run/containerd/s, named by a hash of (address, ns, id).
hyt_shim_socket() {
    local h
    h=$(printf '%s' "$HYT_CTRD_SOCK/default/$1" | sha256sum | cut -d' ' -f1)
    echo "/run/containerd/s/$h"
}

# hyt_ctr_run RT ID NAME [CTR_RUN_FLAGS...] -- CMD...: `ctr run` of the
# image as container ID with runtime RT; writes NAME.out, NAME.err and
# NAME.rc in RT's work folder and sets HYT_RC.
hyt_ctr_run() {
    local rt=$1 id=$2 name=$3 flags=() w
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
    shift
    w=$(hyt_w "$rt")
    HYT_RC=0
    timeout -k 10 "${HYT_TIMEOUT:-180}" ctr -a "$HYT_CTRD_SOCK" run \
        $(hyt_ctr_rt_flags "$rt") "${flags[@]}" "$HYT_IMAGE" "$id" "$@" \
        </dev/null >"$w/$name.out" 2>"$w/$name.err" || HYT_RC=$?
    echo "$HYT_RC" >"$w/$name.rc"
}

# The `ctr run` flags that pick runtime RT and keep its state, and the
# FIFOs of the container's stdio, under $HYT_DIR.
hyt_ctr_rt_flags() {
    echo --runc-binary "$(hyt_runtime_path "$1")" --runc-root "$HYT_CTRD/$1-root" \
        --fifo-dir "$HYT_CTRD/fifo"
}

# Waits up to SECONDS for task ID to be in STATUS (RUNNING, STOPPED).
hyt_ctr_wait_status() {
    local id=$1 want=$2 secs=${3:-60} i st
    for ((i = 0; i < secs * 10; i++)); do
        st=$(hyt_ctr task ls 2>/dev/null | awk -v id="$id" '$1 == id {print $3}')
        [ "$st" = "$want" ] && return 0
        sleep 0.1
    done
    echo "task $id: status ${st:-none}, wanted $want"
    return 1
}

# Removes task and container ID, whatever state they are in (teardown).
hyt_ctr_force_rm() {
    local id=$1
    hyt_ctr task kill -s SIGKILL "$id" >/dev/null 2>&1
    hyt_ctr task delete -f "$id" >/dev/null 2>&1
    hyt_ctr container rm "$id" >/dev/null 2>&1
    hyt_ctr snapshot rm "$id" >/dev/null 2>&1
    return 0
}

# What a containerd test must leave: no task, no container, no snapshot of
# a container, no shim socket, no runtime state, nothing of helpers.bash's.
hyt_ctrd_leftovers() {
    local bad=0 id s
    for id in $(hyt_ctr containers ls -q 2>/dev/null); do
        echo "leftover container $id"
        bad=1
    done
    for id in $(hyt_ctr task ls -q 2>/dev/null); do
        echo "leftover task $id"
        bad=1
    done
    for id in $(cat "$HYT_DIR/ids" 2>/dev/null); do
        hyt_ctr snapshots ls 2>/dev/null | awk -v id="$id" '$1 == id {f=1} END {exit !f}' &&
            { echo "leftover snapshot $id"; bad=1; }
        s=$(hyt_shim_socket "$id")
        [ -e "$s" ] && { echo "leftover shim socket $s (container $id)"; bad=1; }
    done
    s=$(find "$HYT_CTRD/ref-root" "$HYT_CTRD/runv-root" "$HYT_CTRD/fifo" \
        "$HYT_CTRD/state/io.containerd.runtime.v2.task" -mindepth 2 -maxdepth 2 2>/dev/null)
    [ -n "$s" ] && { printf 'leftover state %s\n' $s; bad=1; }
    # The snapshotter's own mounts belong to running containers only.
    hyt_host_leftovers || bad=1
    return "$bad"
}

# Per-test teardown for containerd.bats.
hyt_ctrd_teardown() {
    local r=0 id i
    for ((i = 0; i < 50; i++)); do
        hyt_ctrd_leftovers >/dev/null && hyt_leftovers_client >/dev/null && break
        sleep 0.1
    done
    hyt_ctrd_leftovers || r=1
    hyt_leftovers_client || r=1
    for id in $(cat "$HYT_DIR/ids" 2>/dev/null); do hyt_ctr_force_rm "$id"; done
    hyt_kill_client_leftovers
    # What a killed client or shim could not remove, so that one failure
    # does not spoil the next test.
    for id in $(cat "$HYT_DIR/ids" 2>/dev/null); do
        rm -rf "$HYT_CTRD"/*-root/default/"$id" \
            "$HYT_CTRD/state/io.containerd.runtime.v2.task/default/$id" "$(hyt_shim_socket "$id")"
    done
    rm -rf "$HYT_CTRD/fifo"/*
    rm -f "$HYT_DIR/ids"
    rm -rf "$HYT_DIR/work"/*
    return "$r"
}

# hyt_new_id RT NAME: a fresh container id, remembered for the cleanup.
hyt_new_id() {
    local id=hyt-$BATS_TEST_NUMBER-$1-$2-$RANDOM$RANDOM
    echo "$id" >>"$HYT_DIR/ids"
    echo "$id"
}

# helpers.bash's leftover check, less the client daemon itself (containerd
# stays up for the whole file) and the storage's own private mount.
hyt_leftovers_client() {
    local p pids="" mounts keep
    keep=" $(cat "$HYT_DIR"/*/pid 2>/dev/null | tr '\n' ' ') "
    for p in $(hyt_leftover_pids); do
        case "$keep" in *" $p "*) continue ;; esac
        pids+=" $p"
    done
    mounts=$(hyt_leftover_mounts | grep -vxF -e "$HYT_DIR/podman/root/overlay" || true)
    [ -z "$pids$mounts" ] && return 0
    for p in $pids; do
        echo "leftover process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    done
    [ -n "$mounts" ] && printf 'leftover mount %s\n' $mounts
    return 1
}

hyt_kill_client_leftovers() {
    local p m keep
    keep=" $(cat "$HYT_DIR"/*/pid 2>/dev/null | tr '\n' ' ') "
    for p in $(hyt_leftover_pids); do
        case "$keep" in *" $p "*) continue ;; esac
        kill -9 "$p" 2>/dev/null
    done
    for m in $(hyt_leftover_mounts | grep -vxF -e "$HYT_DIR/podman/root/overlay" | sort -r); do
        umount -l "$m" 2>/dev/null
    done
    return 0
}

# -------------------------------------------------------------------- Podman

# hyt_podman_setup_file: a private Podman (storage, run state, networks,
# events under $HYT_DIR/podman) with the image loaded.
hyt_podman_setup_file() {
    export HYT_CLIENT=Podman
    hyt_client_setup_file
    local p=$HYT_DIR/podman
    mkdir -p "$p"/{root,run,tmp,networks}
    export HYT_PODMAN=$p
    cat >"$p/containers.conf" <<EOF
[network]
network_backend = "netavark"
network_config_dir = "$p/networks"

[engine]
runtime_supports_json = ["crun", "runc", "runv"]
EOF
    export CONTAINERS_CONF=$p/containers.conf
    hyt_host_snapshot >"$HYT_DIR/host.before"
    hyt_podman load -q -i "$HYT_ARCHIVE" >/dev/null
    hyt_podman image exists "$HYT_IMAGE"
}

# Podman on the private storage; no call may hang a test for good.
hyt_podman() {
    timeout -k 5 "${HYT_TIMEOUT:-180}" podman --root "$HYT_PODMAN/root" --runroot "$HYT_PODMAN/run" \
        --tmpdir "$HYT_PODMAN/tmp" --cgroup-manager cgroupfs \
        --events-backend file --storage-driver overlay "$@"
}

# hyt_podman_rt RT ARGS...: a podman command with --runtime RT's binary.
hyt_podman_rt() {
    local rt=$1
    shift
    hyt_podman --runtime "$(hyt_runtime_path "$rt")" "$@"
}

HYT_ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

# hyt_podman_cmdline [RT]: hyt_podman (and --runtime RT) as one string, for
# `script -c`.
hyt_podman_cmdline() {
    local p=$HYT_PODMAN
    printf "podman --root '%s' --runroot '%s' --tmpdir '%s' --cgroup-manager cgroupfs" \
        "$p/root" "$p/run" "$p/tmp"
    printf " --events-backend file --storage-driver overlay"
    [ -n "${1:-}" ] && printf " --runtime '%s'" "$(hyt_runtime_path "$1")"
    echo
}

# Waits up to SECONDS (default 60) for container ID to be running.
hyt_podman_wait_running() {
    local id=$1 secs=${2:-60} i st
    for ((i = 0; i < secs * 10; i++)); do
        st=$(hyt_podman inspect -f '{{.State.Status}}' "$id" 2>/dev/null)
        [ "$st" = running ] && return 0
        sleep 0.1
    done
    echo "container $id: status ${st:-none}, wanted running"
    return 1
}

# hyt_podman_run RT ID NAME [RUN_FLAGS...] -- CMD...: `podman run --name
# ID` of the image with runtime RT; writes NAME.out, NAME.err and NAME.rc in
# RT's work folder and sets HYT_RC. Stdin from $HYT_STDIN (default
# /dev/null).
hyt_podman_run() {
    local rt=$1 id=$2 name=$3 flags=() w
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
    shift
    w=$(hyt_w "$rt")
    HYT_RC=0
    timeout -k 10 "${HYT_TIMEOUT:-180}" \
        podman --root "$HYT_PODMAN/root" --runroot "$HYT_PODMAN/run" \
        --tmpdir "$HYT_PODMAN/tmp" --cgroup-manager cgroupfs \
        --events-backend file --storage-driver overlay \
        --runtime "$(hyt_runtime_path "$rt")" run "${HYT_ULIMITS[@]}" \
        --name "$id" "${flags[@]}" "$HYT_IMAGE" "$@" \
        <"${HYT_STDIN:-/dev/null}" >"$w/$name.out" 2>"$w/$name.err" || HYT_RC=$?
    echo "$HYT_RC" >"$w/$name.rc"
}

hyt_podman_teardown_file() {
    if [ -n "${HYT_PODMAN:-}" ] && [ -d "$HYT_PODMAN" ]; then
        hyt_podman rm -a -f -t 0 >/dev/null 2>&1
        hyt_podman rmi -a -f >/dev/null 2>&1
        umount "$HYT_PODMAN/root/overlay" 2>/dev/null
    fi
    hyt_teardown_file
}

# What a Podman test must leave: no container, no pod, no network of ours,
# no runtime state for its ids, no netns, veth or bridge.
hyt_podman_leftovers() {
    local bad=0 id n
    for id in $(hyt_podman ps -a -q --no-trunc 2>/dev/null); do
        echo "leftover container $id"
        bad=1
    done
    for n in $(hyt_podman network ls -q 2>/dev/null); do
        [ "$n" = podman ] && continue
        echo "leftover network $n"
        bad=1
    done
    # Podman gives runtimes no --root: runc's default, and runv's. A
    # container's state there names its bundle, under $HYT_DIR.
    for n in $(grep -rlsF -D skip "$HYT_DIR" /run/runc /run/runv 2>/dev/null); do
        echo "leftover runtime state $n"
        bad=1
    done
    if [ -n "${HYT_SUBNET:-}" ] && iptables-save 2>/dev/null | grep -qF "${HYT_SUBNET%/*}"; then
        echo "leftover firewall rules for $HYT_SUBNET:"
        iptables-save | grep -F "${HYT_SUBNET%/*}"
        bad=1
    fi
    hyt_host_leftovers || bad=1
    return "$bad"
}

hyt_podman_teardown() {
    local r=0 i
    for ((i = 0; i < 50; i++)); do
        hyt_podman_leftovers >/dev/null && hyt_leftovers_client >/dev/null && break
        sleep 0.2
    done
    hyt_podman_leftovers || r=1
    hyt_leftovers_client || r=1
    hyt_podman rm -a -f -t 0 >/dev/null 2>&1
    [ -n "${HYT_NET:-}" ] && hyt_podman network rm -f "$HYT_NET" >/dev/null 2>&1
    hyt_kill_client_leftovers
    rm -f "$HYT_DIR/ids"
    rm -rf "$HYT_DIR/work"/*
    return "$r"
}

# hyt_is FILE TEXT: fails, showing both, unless FILE holds TEXT (less its
# trailing newlines).
hyt_is() {
    local got
    got=$(cat "$1")
    [ "$got" = "$2" ] && return 0
    printf '%s: expected\n%s\ngot\n%s\n' "${1#"$HYT_DIR"/work/}" "$2" "$got" | cat -A
    return 1
}

# What a client wrote to a terminal, as plain lines: the container's pty
# and script's each turn \n into \r\n, and the echo of the NUL byte that
# the client's stdin (/dev/null, through script) sends shows up as "^@".
hyt_untty() {
    tr -d '\r\0' | sed 's/\^@//g'
}
