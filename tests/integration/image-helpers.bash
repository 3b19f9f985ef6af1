# Shared setup for the image store's bats tests: Debian's docker-registry
# on 127.0.0.1 (plain, and with token auth from a token server of our
# own), busybox images built with umoci, pushed with skopeo, and checks
# that nothing outlives the tests.
#
# Everything lives under one temporary folder, $HYI_DIR; the registries
# and the token server name it on their command lines, so the leftover
# checks find them (and only them).
#
# Environment: HYPER_IMAGE (default build/src/hyper-image/hyper-image).

HYI_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

hyi_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

hyi_wait_port() {
    local port=$1 i
    for i in $(seq 100); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on port $port" >&2
    return 1
}

# hyi_start_registry NAME [AUTH_YAML]: a registry with its storage in
# $HYI_DIR/NAME; exports HYI_PORT_NAME.
hyi_start_registry() {
    local name=$1 auth=${2:-} port
    port=$(hyi_free_port)
    mkdir -p "$HYI_DIR/$name"
    cat > "$HYI_DIR/$name/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $HYI_DIR/$name/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth
YML
    docker-registry serve "$HYI_DIR/$name/config.yml" > "$HYI_DIR/$name/log" 2>&1 &
    echo $! > "$HYI_DIR/$name/pid"
    hyi_wait_port "$port"
    export "HYI_PORT_${name^^}=$port"
}

# A registry that wants bearer tokens from our token server, which wants
# user "hyper" with password "s3cret".
hyi_start_token_registry() {
    local d=$HYI_DIR/tokens port
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
        -days 2 -subj /CN=hyper-test-tokens >/dev/null 2>&1
    port=$(hyi_free_port)
    python3 "$HYI_REPO/tests/integration/image-token-server.py" "$port" "$d/key.pem" "$d/cert.pem" \
        hyper:s3cret hyper-test-issuer > "$d/log" 2>&1 &
    echo $! > "$d/pid"
    hyi_wait_port "$port"
    hyi_start_registry treg "auth:
  token:
    realm: http://127.0.0.1:$port/token
    service: hyper-test-registry
    issuer: hyper-test-issuer
    rootcertbundle: $d/cert.pem"
    printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$HYI_PORT_TREG" \
        "$(printf hyper:s3cret | base64)" > "$HYI_DIR/auth.json"
}

hyi_stop() {
    local f
    for f in "$HYI_DIR"/*/pid; do
        [ -f "$f" ] || continue
        kill "$(cat "$f")" 2>/dev/null
        rm -f "$f"
    done
}

# A busybox root like the runv tests use.
hyi_make_rootfs() {
    local root=$1 applet
    mkdir -p "$root"/{bin,etc,tmp,home/user}
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh ls cat echo env true false; do
        ln -sf busybox "$root/bin/$applet"
    done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' > "$root/etc/passwd"
    chown 1000:1000 "$root/home/user"
    chmod 4755 "$root/bin/busybox"
    mkfifo "$root/etc/fifo"
    ln "$root/etc/passwd" "$root/etc/passwd.hard"
}

# The OCI layout $HYI_DIR/oci with images:
#   base   busybox root (one layer)
#   child  base + a layer that removes /etc/fifo and bin/false, adds files
#          and replaces /tmp's contents (a whiteout and an opaque folder)
hyi_make_images() {
    local oci=$HYI_DIR/oci b=$HYI_DIR/bundle
    hyi_make_rootfs "$HYI_DIR/rootfs"
    touch "$HYI_DIR/rootfs/tmp/lower-file"
    umoci init --layout "$oci"
    umoci new --image "$oci:base"
    umoci insert --image "$oci:base" "$HYI_DIR/rootfs" /
    umoci config --image "$oci:base" --config.cmd /bin/sh --config.env HELLO=world \
        --config.workingdir /home/user --config.user 1000:1000 --config.exposedports 8080/tcp \
        --config.volume /data --config.stopsignal SIGINT
    umoci unpack --image "$oci:base" "$b" >/dev/null
    rm -f "$b/rootfs/etc/fifo" "$b/rootfs/bin/false"
    rm -rf "$b/rootfs/tmp"
    mkdir -p "$b/rootfs/tmp" "$b/rootfs/srv/data"
    echo child > "$b/rootfs/srv/data/file"
    chown 1000:1000 "$b/rootfs/srv/data/file"
    umoci repack --image "$oci:child" "$b" >/dev/null
    rm -rf "$b"
}

hyi_push() {
    skopeo copy -q --dest-tls-verify=false "$@"
}

# The files of a root as lines of "path type mode owner group target", sorted.
hyi_listing() {
    (cd "$1" && find . -mindepth 1 -printf '%p %y %m %U %G %l\n' | sort)
}

# The rootfs of an image as skopeo and umoci make it.
hyi_reference_rootfs() {
    local ref=$1 out=$2 tmp
    tmp=$(mktemp -d "$HYI_DIR/ref.XXXXXX")
    skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$tmp/oci:x"
    umoci unpack --image "$tmp/oci:x" "$tmp/bundle" >/dev/null
    mv "$tmp/bundle/rootfs" "$out"
    rm -rf "$tmp"
}

hyi_leftovers() {
    local pids mounts
    pids=$(pgrep -f -- "$HYI_DIR" || true)
    mounts=$(awk -v d="$HYI_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
    [ -z "$pids$mounts" ] && return 0
    echo "left behind: processes: $pids; mounts: $mounts" >&2
    return 1
}

hyi_setup_file() {
    export HYPER_IMAGE=${HYPER_IMAGE:-$HYI_REPO/build/src/hyper-image/hyper-image}
    HYI_DIR=$(mktemp -d /tmp/hyi.XXXXXX)
    export HYI_DIR
    hyi_make_images
    hyi_start_registry reg
    hyi_start_token_registry
}

hyi_teardown_file() {
    [ -n "${HYI_DIR:-}" ] && [ -d "$HYI_DIR" ] || return 0
    local m
    for m in $(awk -v d="$HYI_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2>/dev/null
    done
    hyi_stop
    sleep 0.2
    local left=0
    hyi_leftovers || left=1
    rm -rf "$HYI_DIR"
    return $left
}

# Runs hyper-image on the store $HYI_DIR/$STORE (default "store").
hyi() {
    "$HYPER_IMAGE" --root "$HYI_DIR/${STORE:-store}" "$@"
}

# Copies FILE into the layout's blobs and prints "sha256:HEX SIZE".
hyi_blob() {
    local oci=$1 file=$2 hex
    hex=$(sha256sum "$file" | cut -d' ' -f1)
    mkdir -p "$oci/blobs/sha256"
    cp "$file" "$oci/blobs/sha256/$hex"
    echo "sha256:$hex $(stat -c %s "$file")"
}

# A layout with the base image for amd64 and an arm64 twin (same layer,
# another config) under one index, tagged "multi".
hyi_make_multi() {
    local oci=$1 m c cfg man idx
    rm -rf "$oci"
    cp -a "$HYI_DIR/oci" "$oci"
    m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "base") | .digest' \
        "$oci/index.json")
    c=$(jq -r .config.digest "$oci/blobs/sha256/${m#sha256:}")
    jq -c '.architecture = "arm64"' "$oci/blobs/sha256/${c#sha256:}" > "$oci/arm-config"
    read -r cfg cfgsize < <(hyi_blob "$oci" "$oci/arm-config")
    jq -c --arg d "$cfg" --argjson s "$cfgsize" '.config.digest = $d | .config.size = $s' \
        "$oci/blobs/sha256/${m#sha256:}" > "$oci/arm-manifest"
    read -r man mansize < <(hyi_blob "$oci" "$oci/arm-manifest")
    jq -n -c --arg a "$m" --argjson am "$(stat -c %s "$oci/blobs/sha256/${m#sha256:}")" \
        --arg b "$man" --argjson bs "$mansize" '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
        {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $bs,
         platform: {os: "linux", architecture: "arm64", variant: "v8"}},
        {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $am,
         platform: {os: "linux", architecture: "amd64"}}]}' > "$oci/image-index"
    read -r idx idxsize < <(hyi_blob "$oci" "$oci/image-index")
    jq -n -c --arg d "$idx" --argjson s "$idxsize" '{schemaVersion: 2, manifests: [
        {mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
         annotations: {"org.opencontainers.image.ref.name": "multi"}}]}' > "$oci/index.json"
    rm -f "$oci/arm-config" "$oci/arm-manifest" "$oci/image-index"
}

# A layout whose one layer writes through a symlink to $HYI_DIR, tagged "evil".
hyi_make_evil() {
    local oci=$1 diff layer lsize cfg cfgsize man mansize
    rm -rf "$oci"
    mkdir -p "$oci"
    python3 - "$oci/layer.tar" "$HYI_DIR" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    link = tarfile.TarInfo("esc")
    link.type = tarfile.SYMTYPE
    link.linkname = sys.argv[2]
    t.addfile(link)
    data = b"pwned\n"
    f = tarfile.TarInfo("esc/escaped")
    f.size = len(data)
    t.addfile(f, io.BytesIO(data))
PY
    diff=sha256:$(sha256sum "$oci/layer.tar" | cut -d' ' -f1)
    gzip -n "$oci/layer.tar"
    read -r layer lsize < <(hyi_blob "$oci" "$oci/layer.tar.gz")
    jq -n -c --arg d "$diff" '{architecture: "amd64", os: "linux", config: {},
        rootfs: {type: "layers", diff_ids: [$d]}}' > "$oci/config"
    read -r cfg cfgsize < <(hyi_blob "$oci" "$oci/config")
    jq -n -c --arg c "$cfg" --argjson cs "$cfgsize" --arg l "$layer" --argjson ls "$lsize" '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
        layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' \
        > "$oci/manifest"
    read -r man mansize < <(hyi_blob "$oci" "$oci/manifest")
    echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
    jq -n -c --arg d "$man" --argjson s "$mansize" '{schemaVersion: 2, manifests: [
        {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
         annotations: {"org.opencontainers.image.ref.name": "evil"}}]}' > "$oci/index.json"
    rm -f "$oci/layer.tar.gz" "$oci/config" "$oci/manifest"
}

# The child image again with its layers recompressed with zstd, tagged "zstd"
# (skopeo 1.9 keeps compressed blobs as they are, so this is done by hand).
hyi_make_zstd() {
    local oci=$1 m man mansize digest size i n
    rm -rf "$oci"
    cp -a "$HYI_DIR/oci" "$oci"
    m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "child") | .digest' \
        "$oci/index.json")
    cp "$oci/blobs/sha256/${m#sha256:}" "$oci/manifest"
    n=$(jq '.layers | length' "$oci/manifest")
    for ((i = 0; i < n; i++)); do
        digest=$(jq -r ".layers[$i].digest" "$oci/manifest")
        gzip -dc "$oci/blobs/sha256/${digest#sha256:}" | zstd -q -c > "$oci/layer.zst"
        read -r digest size < <(hyi_blob "$oci" "$oci/layer.zst")
        jq -c --arg d "$digest" --argjson s "$size" ".layers[$i] = {digest: \$d, size: \$s,
            mediaType: \"application/vnd.oci.image.layer.v1.tar+zstd\"}" "$oci/manifest" > "$oci/manifest.new"
        mv "$oci/manifest.new" "$oci/manifest"
    done
    read -r man mansize < <(hyi_blob "$oci" "$oci/manifest")
    jq -c --arg d "$man" --argjson s "$mansize" '.manifests += [{
        mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
        annotations: {"org.opencontainers.image.ref.name": "zstd"}}]' "$oci/index.json" > "$oci/index.new"
    mv "$oci/index.new" "$oci/index.json"
    rm -f "$oci/layer.zst" "$oci/manifest"
}
