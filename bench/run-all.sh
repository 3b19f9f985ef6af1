#!/usr/bin/env bash
# Runs every benchmark in bench/ (each bench/*.sh but this one) with the
# build folder, one after the other; exits non-zero if any failed.
# Usage: bench/run-all.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
rc=0
for b in "$here"/*.sh; do
    [ "$(basename "$b")" = "$(basename "$0")" ] && continue
    echo "== $(basename "$b" .sh)"
    "$b" "$build" || { echo "$(basename "$b"): failed" >&2; rc=1; }
done
exit "$rc"
