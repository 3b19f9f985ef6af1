# Shared setup for the bats integration tests: busybox bundles, the
# reference runtime (crun, or runc where crun fails), runv, and checks that
# nothing outlives a test.
#
# Everything a test makes lives under one short temporary folder, $HYT_DIR
# (short, because unix socket paths under it must fit in 108 bytes). The
# guest kernel and initrd are linked into it too, so that every QEMU this
# file starts names $HYT_DIR on its command line: the leftover checks look
# only for processes and mounts that mention $HYT_DIR, and so never trip on
# anything else running on the machine.
#
# Environment (tests/run.sh sets these; defaults suit a plain `bats`):
#   RUNV             runv binary (default build/src/runv/runv)
#   HYPER_KERNEL     guest kernel (default: scripts/build-kernel.sh's vmlinux)
#   HYPER_INITRD     guest initrd (default build/guest/initrd.img)
#   HYT_TIMEOUT      seconds one runtime call may take (default 180)
#   HYT_REFERENCE    reference runtimes to try, in order (default "crun runc")

HYT_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# Called from each file's setup_file: makes the folder, the rootfs and the
# config template, picks the reference runtime and exports it all.
hyt_setup_file() {
    export RUNV=${RUNV:-$HYT_REPO/build/src/runv/runv}
    export HYPER_INITRD=${HYPER_INITRD:-$HYT_REPO/build/guest/initrd.img}
    if [ -z "${HYPER_KERNEL:-}" ]; then
        HYPER_KERNEL=$("$HYT_REPO/scripts/build-kernel.sh")/vmlinux
    fi
    HYT_DIR=$(mktemp -d /tmp/hyt.XXXXXX)
    export HYT_DIR
    mkdir -p "$HYT_DIR"/{vm,bundles,ref,runv,work}
    hyt_link_vm_files
    hyt_make_rootfs "$HYT_DIR/rootfs"
    hyt_make_template "$HYT_DIR/template.json"
    hyt_pick_reference
}

hyt_teardown_file() {
    [ -n "${HYT_DIR:-}" ] && [ -d "$HYT_DIR" ] || return 0
    hyt_kill_leftovers
    rm -rf "$HYT_DIR"
}

# Links (or copies, across file systems) the kernel and initrd into
# $HYT_DIR/vm and points HYPER_KERNEL and HYPER_INITRD there.
hyt_link_vm_files() {
    local f name
    for f in HYPER_KERNEL HYPER_INITRD; do
        [ -f "${!f}" ] || continue
        name=$HYT_DIR/vm/$(basename "${!f}")
        ln "${!f}" "$name" 2>/dev/null || cp "${!f}" "$name"
        export "$f=$name"
    done
}

# A busybox root: the static binary, a link per applet, a user 1000.
hyt_make_rootfs() {
    local root=$1 applet
    mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,root,home/user}
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'user:x:1000:1000:user:/home/user:/bin/sh' > "$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'wheel:x:10:user' 'user:x:1000:' > "$root/etc/group"
    chown 1000:1000 "$root/home/user"
}

# runc's default spec, made non-interactive: what every bundle starts from.
hyt_make_template() {
    local out=$1 tmp
    tmp=$(mktemp -d "$HYT_DIR/work/spec.XXXXXX")
    (cd "$tmp" && runc spec)
    jq '.process.terminal = false' "$tmp/config.json" > "$out"
    rm -rf "$tmp"
}

# crun is the reference; runc where crun cannot run here (or where
# HYT_REFERENCE=runc asks for it).
hyt_pick_reference() {
    local b
    for HYT_REF in ${HYT_REFERENCE:-crun runc}; do
        b=$(hyt_bundle probe '.process.args = ["true"]')
        if hyt_run ref "$b" probe >/dev/null 2>&1 && [ "$HYT_RC" = 0 ]; then
            rm -rf "$b"
            export HYT_REF
            return 0
        fi
        rm -rf "$b"
    done
    echo "neither crun nor runc can run a bundle here" >&2
    return 1
}

# hyt_bundle NAME [JQ_FILTER]: makes $HYT_DIR/bundles/NAME (rootfs as hard
# links to the shared one, so that a runtime creating a folder changes only
# this bundle) with the template config edited by JQ_FILTER; prints its path.
hyt_bundle() {
    local b=$HYT_DIR/bundles/$1 filter=${2:-.}
    rm -rf "$b"
    mkdir -p "$b"
    cp -al "$HYT_DIR/rootfs" "$b/rootfs"
    jq "$filter" "$HYT_DIR/template.json" > "$b/config.json"
    echo "$b"
}

# The command line that runs bundle B as container ID under runtime RT
# (ref or runv), one word a line.
hyt_cmd() {
    local rt=$1 b=$2 id=$3
    case "$rt:$HYT_REF" in
        ref:crun)
            # crun 1.8 refuses the hybrid cgroup layout: hide the v2 part in
            # a private mount namespace (harmless where it is not mounted).
            printf '%s\n' unshare -m --propagation private sh -c \
                'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root "$1" run --bundle "$2" "$3"' \
                sh "$HYT_DIR/ref" "$b" "$id" ;;
        ref:runc)
            printf '%s\n' unshare -m --propagation private \
                runc --root "$HYT_DIR/ref" run --bundle "$b" "$id" ;;
        runv:*)
            printf '%s\n' "$RUNV" --root "$HYT_DIR/runv" run --bundle "$b" "$id" ;;
    esac
}

# hyt_run RT BUNDLE ID [STDIN_FILE]: runs the bundle in the foreground with
# stdin from STDIN_FILE (default /dev/null), stdout and stderr into
# BUNDLE/RT.out and BUNDLE/RT.err; sets HYT_RC, HYT_OUT and HYT_ERR (the
# file names). A call past HYT_TIMEOUT ends with 124. With HYT_PIPE=1,
# stdin and stdout are pipes instead of the files themselves (a runtime
# must cope with both: epoll, for one, refuses regular files).
hyt_run() {
    local rt=$1 b=$2 id=$3 in=${4:-/dev/null} cmd
    mapfile -t cmd < <(hyt_cmd "$rt" "$b" "$id")
    HYT_OUT=$b/$rt.out
    HYT_ERR=$b/$rt.err
    HYT_RC=0
    # A missing runv would exit 127 through `timeout`: never let that pass
    # for a container's own exit code.
    if [ "$rt" = runv ] && [ ! -x "$RUNV" ]; then
        echo "no runv at $RUNV" | tee "$HYT_ERR" >&2
        : >"$HYT_OUT"
        HYT_RC=255
        return 0
    fi
    if [ "${HYT_PIPE:-0}" = 1 ]; then
        cat "$in" | timeout -k 10 "${HYT_TIMEOUT:-180}" "${cmd[@]}" 2>"$HYT_ERR" | cat >"$HYT_OUT"
        HYT_RC=${PIPESTATUS[1]}
    else
        timeout -k 10 "${HYT_TIMEOUT:-180}" "${cmd[@]}" <"$in" >"$HYT_OUT" 2>"$HYT_ERR" || HYT_RC=$?
    fi
}

# hyt_compare BUNDLE [STDIN_FILE]: runs BUNDLE under the reference and runv
# and fails unless stdout, stderr and exit code are all the same.
hyt_compare() {
    local b=$1 in=${2:-/dev/null} ref_rc id
    id=hyt-$BATS_TEST_NUMBER-$RANDOM
    hyt_run ref "$b" "$id-ref" "$in"
    ref_rc=$HYT_RC
    hyt_run runv "$b" "$id" "$in"
    hyt_same "$b" "$ref_rc" "$HYT_RC"
}

# Fails, showing the differences, unless ref and runv agree on everything.
hyt_same() {
    local b=$1 ref_rc=$2 runv_rc=$3 bad=0
    if [ "$ref_rc" != "$runv_rc" ]; then
        echo "exit code: $HYT_REF $ref_rc, runv $runv_rc"
        bad=1
    fi
    diff -u --label "$HYT_REF stdout" --label "runv stdout" "$b/ref.out" "$b/runv.out" || bad=1
    diff -u --label "$HYT_REF stderr" --label "runv stderr" "$b/ref.err" "$b/runv.err" || bad=1
    return "$bad"
}

# Processes whose command line or working folder lies in $HYT_DIR (QEMU,
# virtiofsd, a pod monitor, a runtime), but never this shell.
hyt_leftover_pids() {
    local p cwd
    for p in $(pgrep -f -- "$HYT_DIR"); do
        [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] || echo "$p"
    done
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
        cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
        case "$cwd" in "$HYT_DIR" | "$HYT_DIR"/*) echo "$p" ;; esac
    done | sort -un
}

# Mount points (or bind-mount sources) under $HYT_DIR in our mount namespace.
hyt_leftover_mounts() {
    awk -v d="$HYT_DIR" 'index($4, d) == 1 || index($5, d) == 1 { print $5 }' \
        /proc/self/mountinfo
}

# Container state that survived its run, under either runtime's root.
hyt_leftover_state() {
    find "$HYT_DIR/ref" "$HYT_DIR/runv" -mindepth 1 -maxdepth 1 2>/dev/null
}

# Prints what is left (nothing when all is clean); returns 1 if anything is.
hyt_leftovers() {
    local pids mounts state
    pids=$(hyt_leftover_pids)
    mounts=$(hyt_leftover_mounts)
    state=$(hyt_leftover_state)
    [ -z "$pids$mounts$state" ] && return 0
    local p
    for p in $pids; do
        echo "leftover process $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
    done
    [ -n "$mounts" ] && printf 'leftover mount %s\n' $mounts
    [ -n "$state" ] && printf 'leftover state %s\n' $state
    return 1
}

# Waits up to SECONDS (default 5) for the leftovers to go by themselves.
hyt_wait_clean() {
    local i tries=$(( ${1:-5} * 10 ))
    for ((i = 0; i < tries; i++)); do
        hyt_leftovers >/dev/null && return 0
        sleep 0.1
    done
    hyt_leftovers
}

# Kills and removes whatever is left, so one bad test does not spoil the next.
hyt_kill_leftovers() {
    local p m
    for p in $(hyt_leftover_pids); do kill -9 "$p" 2>/dev/null; done
    for m in $(hyt_leftover_mounts | sort -r); do umount -l "$m" 2>/dev/null; done
    rm -rf "$HYT_DIR/ref"/* "$HYT_DIR/runv"/* 2>/dev/null
    return 0
}

# Per-test teardown: fail the test if anything outlived it, then clean up.
hyt_teardown() {
    [ -n "${HYT_DIR:-}" ] || return 0
    local r=0
    hyt_wait_clean 5 || r=1
    hyt_kill_leftovers
    rm -rf "$HYT_DIR/bundles"/* "$HYT_DIR/work"/*
    return "$r"
}

# hyt_ctl RT VERB ARGS...: another verb of runtime RT on the same root.
hyt_ctl() {
    local rt=$1
    shift
    case "$rt" in
        ref) "$HYT_REF" --root "$HYT_DIR/ref" "$@" ;;
        runv) "$RUNV" --root "$HYT_DIR/runv" "$@" ;;
    esac
}

# hyt_run_killed RT BUNDLE ID: runs the bundle in the background, waits
# until its state says running, sends `kill ID KILL` from outside, and sets
# HYT_RC, HYT_OUT and HYT_ERR like hyt_run.
hyt_run_killed() {
    local rt=$1 b=$2 id=$3 cmd pid i st
    mapfile -t cmd < <(hyt_cmd "$rt" "$b" "$id")
    HYT_OUT=$b/$rt.out
    HYT_ERR=$b/$rt.err
    timeout -k 10 "${HYT_TIMEOUT:-180}" "${cmd[@]}" </dev/null >"$HYT_OUT" 2>"$HYT_ERR" &
    pid=$!
    for ((i = 0; i < 600; i++)); do
        st=$(hyt_ctl "$rt" state "$id" 2>/dev/null | jq -r .status 2>/dev/null)
        [ "$st" = running ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! hyt_ctl "$rt" kill "$id" KILL; then
        echo "$rt kill $id KILL failed (state: ${st:-none})"
        kill -TERM "$pid" 2>/dev/null
    fi
    HYT_RC=0
    wait "$pid" || HYT_RC=$?
}
