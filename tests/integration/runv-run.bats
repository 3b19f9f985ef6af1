#!/usr/bin/env bats
# `runv run` against the reference runtime (crun, or runc): the same bundle
# must give the same stdout, stderr and exit code. Every runv run boots a
# VM (a second or two under TCG), so each case runs once per runtime.

load helpers

setup_file() {
    hyt_setup_file
}

teardown_file() {
    hyt_teardown_file
}

teardown() {
    hyt_teardown
}

@test "echo: same output and exit code" {
    b=$(hyt_bundle echo '.process.args = ["echo", "hello", "from a VM"]')
    hyt_compare "$b"
    [ "$(cat "$b/runv.out")" = "hello from a VM" ]
}

@test "env: the process gets exactly the config's environment (plus HOME)" {
    b=$(hyt_bundle env '.process.args = ["env"]
        | .process.env += ["FOO=bar baz", "EMPTY=", "HYT=1"]')
    hyt_compare "$b"
}

@test "cwd: the process starts in process.cwd" {
    b=$(hyt_bundle cwd '.process.args = ["pwd"] | .process.cwd = "/home/user"')
    hyt_compare "$b"
}

@test "user: uid, gid and additional gids" {
    b=$(hyt_bundle id '.process.args = ["id"]
        | .process.user = {uid: 1000, gid: 1000, additionalGids: [10, 1000]}')
    hyt_compare "$b"
    grep -q '^uid=1000(user) gid=1000(user)' "$b/runv.out"
}

@test "hostname: from the config" {
    b=$(hyt_bundle hostname '.process.args = ["hostname"] | .hostname = "hyper-test"')
    hyt_compare "$b"
}

@test "stdout and stderr stay apart" {
    b=$(hyt_bundle streams '.process.args = ["sh", "-c", "echo out; echo err >&2; echo out2; exit 3"]')
    hyt_compare "$b"
    [ "$HYT_RC" = 3 ]
}

@test "exit codes 1 and 42" {
    b=$(hyt_bundle exit1 '.process.args = ["sh", "-c", "exit 1"]')
    hyt_compare "$b"
    [ "$HYT_RC" = 1 ]
    b=$(hyt_bundle exit42 '.process.args = ["sh", "-c", "exit 42"]')
    hyt_compare "$b"
    [ "$HYT_RC" = 42 ]
}

@test "SIGKILL: a child killed by SIGKILL gives 137 through the shell" {
    # `sh -c 'kill -9 $$'` alone would be the container's PID 1, which
    # ignores even a SIGKILL it sends itself (see the next test); the
    # trailing `exit $?` stops busybox sh from exec'ing the inner shell.
    b=$(hyt_bundle kill9 '.process.args = ["sh", "-c", "sh -c '\''kill -9 $$'\''; exit $?"]')
    hyt_compare "$b"
    [ "$HYT_RC" = 137 ]
}

@test "SIGKILL: PID 1 survives a SIGKILL it sends itself, as under runc" {
    b=$(hyt_bundle kill9pid1 '.process.args = ["sh", "-c", "kill -9 $$; echo survived"]')
    hyt_compare "$b"
}

@test "SIGKILL from outside (kill ID KILL): exit 137" {
    b=$(hyt_bundle sleeper '.process.args = ["sleep", "600"]')
    id=hyt-$BATS_TEST_NUMBER-$RANDOM
    for rt in ref runv; do
        hyt_run_killed "$rt" "$b" "$id-$rt"
        [ "$HYT_RC" = 137 ] || { echo "$rt: exit $HYT_RC"; cat "$HYT_ERR"; false; }
    done
}

@test "missing binary: runv exits 127 (exit code only; stderr texts differ)" {
    # The error text is each runtime's own, so only exit codes and stdout
    # are compared. runc and crun fail before the process exists and exit
    # 1; runv reports what Docker and hyperstart report, 127.
    b=$(hyt_bundle missing '.process.args = ["/bin/no-such-binary"]')
    id=hyt-$BATS_TEST_NUMBER-$RANDOM
    hyt_run ref "$b" "$id-ref"
    [ "$HYT_RC" -ne 0 ]
    [ ! -s "$b/ref.out" ]
    hyt_run runv "$b" "$id"
    [ "$HYT_RC" = 127 ] || { echo "runv exit $HYT_RC"; cat "$HYT_ERR"; false; }
    [ ! -s "$b/runv.out" ]
    # Whatever the wording, the message names what could not be run.
    grep -q no-such-binary "$b/runv.err"
}

@test "stdin: piped through cat" {
    b=$(hyt_bundle cat '.process.args = ["cat"]')
    printf 'line one\nline two\n\nno newline at the end' > "$HYT_DIR/work/in"
    HYT_PIPE=1 hyt_compare "$b" "$HYT_DIR/work/in"
    cmp "$HYT_DIR/work/in" "$b/runv.out"
}

@test "stdin and stdout as regular files" {
    b=$(hyt_bundle catfile '.process.args = ["cat"]')
    seq 1 20000 > "$HYT_DIR/work/in"
    hyt_compare "$b" "$HYT_DIR/work/in"
    cmp "$HYT_DIR/work/in" "$b/runv.out"
}

@test "64 MiB through a pipe both ways, intact" {
    b=$(hyt_bundle bigcat '.process.args = ["cat"]')
    in=$HYT_DIR/work/big
    head -c 64M /dev/urandom > "$in"
    HYT_PIPE=1 hyt_run runv "$b" "hyt-$BATS_TEST_NUMBER-$RANDOM" "$in"
    [ "$HYT_RC" = 0 ] || { cat "$HYT_ERR"; false; }
    [ ! -s "$HYT_ERR" ]
    want=$(sha256sum < "$in")
    got=$(sha256sum < "$HYT_OUT")
    [ "$want" = "$got" ] || { echo "sent $(stat -c %s "$in") bytes, got $(stat -c %s "$HYT_OUT")"; false; }
}

@test "runv leaves nothing behind after a run" {
    b=$(hyt_bundle true '.process.args = ["true"]')
    hyt_run runv "$b" "hyt-$BATS_TEST_NUMBER-$RANDOM"
    [ "$HYT_RC" = 0 ] || { cat "$HYT_ERR"; false; }
    # At once: when `run` returns, the VM, virtiofsd and state are gone.
    hyt_leftovers
}

@test "runv leaves nothing behind after a run whose process is killed" {
    b=$(hyt_bundle sleeper '.process.args = ["sleep", "600"]')
    hyt_run_killed runv "$b" "hyt-$BATS_TEST_NUMBER-$RANDOM"
    [ "$HYT_RC" = 137 ] || { cat "$HYT_ERR"; false; }
    hyt_leftovers
}

@test "runv spec: a default config.json that agrees with runc spec" {
    mkdir "$HYT_DIR/work/runc-spec" "$HYT_DIR/work/runv-spec"
    (cd "$HYT_DIR/work/runc-spec" && runc spec)
    (cd "$HYT_DIR/work/runv-spec" && "$RUNV" spec)
    r=$HYT_DIR/work/runc-spec/config.json
    v=$HYT_DIR/work/runv-spec/config.json
    jq -e . "$v" >/dev/null
    # The same process and root; the version and the mount and namespace
    # lists are runv's to choose, but must be there.
    jq -e '(.ociVersion | test("^1\\.")) and (.mounts | type == "array")
        and (.linux.namespaces | type == "array")' "$v"
    for q in .process.args .process.cwd .process.user .process.terminal \
            .root '.process.env | map(split("=")[0])'; do
        [ "$(jq -cS "$q" "$r")" = "$(jq -cS "$q" "$v")" ] ||
            { echo "$q: runc $(jq -cS "$q" "$r"), runv $(jq -cS "$q" "$v")"; false; }
    done
    # Like runc, it will not overwrite a config.json.
    run bash -c 'cd "$1" && "$RUNV" spec' sh "$HYT_DIR/work/runv-spec"
    [ "$status" -ne 0 ]
    # And the reference runtime runs a bundle made from it.
    b=$(hyt_bundle fromspec)
    jq '.process.terminal = false | .process.args = ["echo", "ok"]' "$v" > "$b/config.json"
    hyt_run ref "$b" "hyt-$BATS_TEST_NUMBER-$RANDOM"
    [ "$HYT_RC" = 0 ]
    [ "$(cat "$HYT_OUT")" = ok ]
}
