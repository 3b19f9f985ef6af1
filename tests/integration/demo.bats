#!/usr/bin/env bats
# `make demo` is one of the README's two commands: its script must keep
# working as the code changes. It runs scripts/demo.sh with this build's
# programs and checks what it shows, then that it left nothing behind (its
# scratch folder names every process, mount and bridge it made).

setup_file() {
    HYT_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export HYT_REPO
}

@test "demo: scripts/demo.sh runs runv and hyperd end to end and leaves nothing behind" {
    build=$(dirname "$(dirname "$(dirname "${RUNV:-$HYT_REPO/build/src/runv/runv}")")")
    before_links=$(ip -o link show | grep -c ' hyp' || true)
    run timeout 300 "$HYT_REPO/scripts/demo.sh" "$build"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"the kernels differ: the process ran in its own VM"* ]]
    # The container's page, fetched from the host through the published port.
    page='hello from [0-9a-f]{12}, kernel '
    [[ "$output" =~ $page ]]
    # /etc/hosts from the exec: the container's address, hostname and name.
    hosts_line=$'10\\.231\\.0\\.[0-9]+\t[0-9a-f]{12} web'
    [[ "$output" =~ $hosts_line ]]
    # Nothing of the demo's is left: its folder, processes, mounts, bridge.
    # (A negated command mid-test cannot fail under bats's set -e: the checks test an output instead.)
    [ -z "$(ls -d /tmp/hyper-demo.* 2>/dev/null)" ]
    [ -z "$(pgrep -f /tmp/hyper-demo.)" ]
    [ -z "$(grep /tmp/hyper-demo. /proc/self/mounts)" ]
    [ "$(ip -o link show | grep -c ' hyp' || true)" -eq "$before_links" ]
}
