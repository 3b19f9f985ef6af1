#!/usr/bin/env bash
# Builds the Hyper guest kernel from Debian's linux-source package and the
# checked-in config fragment, caching the result outside the build tree by
# the hash of everything that goes into it, so that it is built once per
# machine. Prints the folder that holds vmlinux and bzImage.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fragment=$here/guest/kernel/hyper.config
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
cache_root=${HYPER_CACHE_DIR:-/var/cache/hyper}

if [ -z "$tarball" ]; then
    echo "build-kernel: no /usr/src/linux-source-*.tar.xz; run scripts/setup.sh" >&2
    exit 1
fi

srcver=$(dpkg-query -W -f='${Version}' "$(basename "$tarball" .tar.xz)" 2>/dev/null || stat -c %s "$tarball")
key=$( { cat "$fragment"; echo "$tarball $srcver"; sed -n '/^# cache-key-begin/,/^# cache-key-end/p' "$0"; } | sha256sum | cut -c1-16)
out=$cache_root/kernel/$key

if [ -f "$out/vmlinux" ] && [ -f "$out/bzImage" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache_root/kernel"
work=$(mktemp -d "$cache_root/kernel/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# cache-key-begin: the steps below are part of the cache key.
echo "build-kernel: building $(basename "$tarball") with $fragment (key $key)" >&2
tar -C "$work" -xf "$tarball"
src=$(echo "$work"/linux-source-*)
make -C "$src" -s ARCH=x86_64 tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$fragment" >/dev/null
make -C "$src" -s ARCH=x86_64 olddefconfig >&2
# Every option the fragment asks for must have survived olddefconfig.
missing=0
while IFS= read -r line; do
    case "$line" in CONFIG_*=*) ;; *) continue ;; esac
    if ! grep -qx "$line" "$src/.config"; then
        echo "build-kernel: option not set: $line" >&2
        missing=1
    fi
done < "$fragment"
[ "$missing" = 0 ] || exit 1
make -C "$src" -s ARCH=x86_64 -j"$(nproc)" vmlinux bzImage >&2
# cache-key-end

stage=$work/out
mkdir -p "$stage"
cp "$src/vmlinux" "$stage/vmlinux"
strip --strip-debug "$stage/vmlinux" 2>/dev/null || true
cp "$src/arch/x86/boot/bzImage" "$stage/bzImage"
cp "$src/.config" "$stage/config"
rm -rf "$out"
mv "$stage" "$out"
echo "$out"
