#!/usr/bin/env bash
# How fast is a pull? Builds an image of a few hundred MiB of layers (random
# data, so that compression does not flatter anyone), pushes it to a local
# docker-registry, then times, in the same run, `hyper-image pull` into an
# empty store (download + verify + unpack) against `skopeo copy` to an OCI
# layout followed by `umoci unpack`, and prints both and their ratio.
#
# Usage: bench/image-pull.sh BUILD_DIR
#   LAYERS=4 LAYER_MIB=64 (default sizes), N=3 runs each (the median counts).
set -euo pipefail

build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")/.." && pwd)
hi=${HYPER_IMAGE:-$build/src/hyper-image/hyper-image}
layers=${LAYERS:-4}
mib=${LAYER_MIB:-64}
n=${N:-3}

dir=$(mktemp -d /tmp/hyb-img.XXXXXX)
cleanup() {
    local p
    for p in $(pgrep -f -- "$dir" || true); do kill "$p" 2>/dev/null || true; done
    sleep 0.2
    rm -rf "$dir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$dir/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$dir/registry.yml" > "$dir/registry.log" 2>&1 &
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.1
done

echo "building an image of $layers layers of $mib MiB (random data, 8 files each)" >&2
umoci init --layout "$dir/oci"
umoci new --image "$dir/oci:big"
for ((l = 0; l < layers; l++)); do
    mkdir -p "$dir/src/layer$l"
    for ((f = 0; f < 8; f++)); do
        head -c $((mib * 1024 * 1024 / 8)) /dev/urandom > "$dir/src/layer$l/file$f"
    done
    umoci insert --image "$dir/oci:big" "$dir/src/layer$l" "/data/layer$l"
    rm -rf "$dir/src/layer$l"
done
ref=127.0.0.1:$port/bench/big:1
skopeo copy -q --dest-tls-verify=false "oci:$dir/oci:big" "docker://$ref"
rm -rf "$dir/oci"

now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ours=()
theirs=()
for ((i = 0; i < n; i++)); do
    rm -rf "$dir/store" "$dir/ref"
    mkdir -p "$dir/ref"
    sync
    t0=$(now)
    "$hi" --root "$dir/store" pull -q --insecure "$ref" >/dev/null
    t1=$(now)
    skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$dir/ref/oci:x"
    umoci unpack --image "$dir/ref/oci:x" "$dir/ref/bundle" >/dev/null
    t2=$(now)
    ours+=("$(echo "$t1 - $t0" | bc -l)")
    theirs+=("$(echo "$t2 - $t1" | bc -l)")
done
a=$(printf '%s\n' "${ours[@]}" | median)
b=$(printf '%s\n' "${theirs[@]}" | median)
printf 'image: %d layers x %d MiB\n' "$layers" "$mib"
printf 'hyper-image pull:            %.2f s (median of %d)\n' "$a" "$n"
printf 'skopeo copy + umoci unpack:  %.2f s (median of %d)\n' "$b" "$n"
printf 'ratio (hyper-image / skopeo+umoci): %.2f\n' "$(echo "$a / $b" | bc -l)"
