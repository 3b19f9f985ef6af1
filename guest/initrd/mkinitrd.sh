#!/usr/bin/env bash
# Packs a static init program into an uncompressed newc cpio archive as /init.
# Uncompressed, because under TCG the kernel's decompression is slower than
# reading a few more megabytes. Usage: mkinitrd.sh OUTPUT INIT
set -euo pipefail
out=$(realpath -m "$1")
init=$(realpath "$2")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{dev,proc,sys,run,tmp,mnt}
install -m 0755 "$init" "$root/init"
# Sorted names and fixed times make the archive the same for the same input.
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible > "$out.tmp")
mv "$out.tmp" "$out"
