#!/usr/bin/env bash
# The one test entry point (`make check` calls it after building).
# Usage: tests/run.sh BUILD_DIR
#
# Runs, in order: the unit tests of BUILD_DIR; the unit tests again in an
# ASan/UBSan build (BUILD_DIR-asan); every libFuzzer target for a short
# while (BUILD_DIR-fuzz, clang); the bats integration tests, which boot real
# VMs. It builds only the two extra build folders; BUILD_DIR must be built.
# The last line it prints is "N passed, N failed" (", N skipped" added when
# something was skipped); it exits non-zero when anything failed.
#
# Environment: FUZZ_SECONDS (default 20) per fuzz target; SKIP_ASAN=1,
# SKIP_FUZZ=1, SKIP_BATS=1 leave a phase out; BATS_FILTER is passed to
# bats --filter.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "$1")
if [ ! -f "$build/build.ninja" ]; then
    echo "run.sh: $build is not a configured meson build folder" >&2
    exit 2
fi

# The extra build folders configure the same source tree as BUILD_DIR.
src=$(jq -r '.directories.source // empty' "$build/meson-info/meson-info.json" 2>/dev/null)
src=${src:-$here}

passed=0
failed=0
skipped=0
logdir=$(mktemp -d "${TMPDIR:-/tmp}/hyper-check.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

phase() { printf '\n=== %s\n' "$*"; }
fail_one() { echo "FAILED: $*"; failed=$((failed + 1)); }

# Adds the counts from the summary that `meson test` prints. A run with no
# tests prints "No tests defined." and no summary: it adds nothing.
meson_count() {
    local log=$1 key n
    for key in 'Ok' 'Expected Fail' 'Fail' 'Unexpected Pass' 'Skipped' 'Timeout'; do
        n=$(sed -n "s/^${key}:[[:space:]]*\([0-9][0-9]*\).*/\1/p" "$log" | tail -n 1)
        n=${n:-0}
        case "$key" in
            'Ok' | 'Expected Fail') passed=$((passed + n)) ;;
            'Skipped') skipped=$((skipped + n)) ;;
            *) failed=$((failed + n)) ;;
        esac
    done
}

# Runs `meson test` in a build folder and adds its counts; a meson failure
# that produced no failing test (a build error, say) counts as one failure.
meson_run() {
    local dir=$1 name=$2 log=$logdir/$2.log before=$failed
    shift 2
    meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    meson_count "$log"
    if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then
        fail_one "$name: meson test exited $rc"
    fi
}

# The build-folder-relative paths of the executables the tests of DIR need:
# building only these keeps the static guest agent out of sanitizer builds
# (ASan cannot link static) and out of the fuzz build.
test_targets() {
    local dir=$1
    meson introspect "$dir" --tests --targets 2>/dev/null | jq -r --arg d "$dir/" '
        . as $all
        | [$all.tests[] | .depends[]?] as $ids
        | ([$all.targets[] | select(.id as $i | $ids | index($i)) | .filename[]]
           + [$all.tests[] | .cmd[0]])
        | unique[] | select(startswith($d)) | ltrimstr($d)'
}

fuzz_targets() {
    local dir=$1
    meson introspect "$dir" --targets 2>/dev/null | jq -r --arg f "$src/tests/fuzz/" '
        .[] | select(.type == "executable") | select(.defined_in | startswith($f))
        | .filename[0]'
}

# Configures DIR with the given options once; later runs reuse it (ninja
# reconfigures by itself when a meson.build changes).
setup_dir() {
    local dir=$1
    shift
    [ -f "$dir/build.ninja" ] && return 0
    meson setup "$dir" "$src" "$@" >"$logdir/setup-$(basename "$dir").log" 2>&1 && return 0
    cat "$logdir/setup-$(basename "$dir").log"
    return 1
}

# The guest kernel and initrds, for the unit tests that boot a VM
# (test-qemu-boot) as much as for the integration tests.
if kdir=$("$src/scripts/build-kernel.sh"); then
    export HYPER_KERNEL=$kdir/vmlinux
    export HYPER_INITRD=$build/guest/initrd.img
    export HYPER_POWEROFF_INITRD=$build/guest/poweroff-initrd.img
    export RUNV=$build/src/runv/runv
else
    fail_one "no guest kernel (scripts/build-kernel.sh failed)"
fi
# hyperd.bats runs the daemon and the CLI of this build.
export HYPERD=$build/src/hyperd/hyperd HYPERCTL=$build/src/hyperctl/hyperctl

phase "unit tests ($build)"
meson_run "$build" unit

if [ "${SKIP_ASAN:-0}" != 1 ]; then
    asan=$build-asan
    phase "unit tests under ASan/UBSan ($asan)"
    if ! setup_dir "$asan" -Db_sanitize=address,undefined -Dwerror=true; then
        fail_one "asan: meson setup"
    else
        mapfile -t targets < <(test_targets "$asan")
        if [ ${#targets[@]} -gt 0 ] && ! ninja -C "$asan" "${targets[@]}"; then
            fail_one "asan: build"
        else
            ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
            UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
                meson_run "$asan" asan --no-rebuild
        fi
    fi
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    fuzz=$build-fuzz
    phase "fuzz targets ($fuzz, ${FUZZ_SECONDS:-20} s each)"
    if ! CC=clang setup_dir "$fuzz" -Dfuzz=true; then
        fail_one "fuzz: meson setup"
    else
        mapfile -t targets < <(fuzz_targets "$fuzz")
        if [ ${#targets[@]} -eq 0 ]; then
            echo "no fuzz targets yet"
        elif ! ninja -C "$fuzz" "${targets[@]#"$fuzz"/}"; then
            fail_one "fuzz: build"
        else
            for t in "${targets[@]}"; do
                name=$(basename "$t")
                corpus=$logdir/corpus-$name
                mkdir -p "$corpus"
                seeds=()
                [ -d "$src/tests/fuzz/corpus/$name" ] && seeds=("$src/tests/fuzz/corpus/$name")
                # The first corpus folder takes new inputs: keep the checked-in
                # seeds read-only. Crash files go to the log folder.
                if "$t" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=1 \
                        -artifact_prefix="$logdir/$name-" "$corpus" "${seeds[@]}" \
                        >"$logdir/fuzz-$name.log" 2>&1; then
                    echo "ok fuzz $name ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logdir/fuzz-$name.log" | grep -o '[0-9]*$' || echo '?') runs)"
                    passed=$((passed + 1))
                else
                    tail -n 40 "$logdir/fuzz-$name.log"
                    fail_one "fuzz $name"
                fi
            done
        fi
    fi
fi

if [ "${SKIP_BATS:-0}" != 1 ]; then
    phase "integration tests (bats)"
    if ! ls "$src"/tests/integration/*.bats >/dev/null 2>&1; then
        echo "no bats tests yet"
    elif [ -z "${HYPER_KERNEL:-}" ]; then
        fail_one "integration: no guest kernel"
    else
        bats_args=(--tap)
        [ -n "${BATS_FILTER:-}" ] && bats_args+=(--filter "$BATS_FILTER")
        bats "${bats_args[@]}" "$src/tests/integration" </dev/null 2>&1 | tee "$logdir/bats.log"
        rc=${PIPESTATUS[0]}
        ok=$(grep -E '^ok [0-9]+' "$logdir/bats.log" | grep -vcE '# skip( |$)')
        skip=$(grep -cE '^ok [0-9]+.*# skip( |$)' "$logdir/bats.log")
        notok=$(grep -cE '^not ok [0-9]+' "$logdir/bats.log")
        passed=$((passed + ok))
        skipped=$((skipped + skip))
        failed=$((failed + notok))
        # bats can fail outside any test (a syntax error, a failed
        # setup_file it does not number): never let that pass silently.
        if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
            fail_one "bats exited $rc"
        fi
    fi
fi

echo
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
