#!/usr/bin/env bats
# hyperd's volumes and VM sizes, end to end through hyperctl: host folders
# (read-write and read-only), named volumes kept by hyperd, disk images
# hot-plugged into running containers as block volumes, --memory and
# --cpus; bad values refused before anything is made. The private hyperd,
# the image and the leftover checks are in hyperd-containers-helpers.bash.

load hyperd-containers-helpers

setup_file() {
    hyc_setup_file 10.218.0.0/24
}

teardown_file() {
    hyc_teardown_file
}

setup() {
    hyc_setup
    HV=$(mktemp -d "$HYI_DIR/host.XXXXXX")
}

teardown() {
    local id v
    for id in $(hc ps -a -q 2>/dev/null); do
        hc rm -f "$id" >/dev/null 2>&1
    done
    for v in $(hc volume ls -q 2>/dev/null); do
        hc volume rm "$v" >/dev/null 2>&1
    done
    rm -rf "$HV"
    hyc_teardown
    [ -z "$(ls -A "$HYD_ROOT/volumes" 2>/dev/null)" ]
}

@test "hyperd volumes: a host folder is written in the container and seen on the host; :ro refuses writes" {
    echo from-host > "$HV/in"
    echo a-file > "$HV/notes.txt"
    run hc run --rm --network none -v "$HV:/data" -v "$HV/notes.txt:/etc/notes:ro" "$IMG" \
        sh -c 'cat /data/in /etc/notes && echo from-ctr > /data/out'
    [ "$status" -eq 0 ]
    [ "$output" = "from-host
a-file" ]
    [ "$(cat "$HV/out")" = from-ctr ]
    run hc run --rm --network none -v "$HV:/data:ro" "$IMG" sh -c 'cat /data/in; echo x > /data/other'
    [ "$status" -ne 0 ]
    [[ "$output" == *from-host*"Read-only file system"* ]]
    [ ! -e "$HV/other" ]
}

@test "hyperd volumes: a named volume outlives its container; rm is refused while a container has it" {
    run hc run --rm --network none -v hvt-data:/v "$IMG" sh -c 'echo kept > /v/f'
    [ "$status" -eq 0 ]
    [ "$(hc volume ls -q)" = hvt-data ]
    [ "$(cat "$HYD_ROOT/volumes/hvt-data/f")" = kept ]
    run hc run --name reader --network none -v hvt-data:/v:ro "$IMG" cat /v/f
    [ "$status" -eq 0 ]
    [ "$output" = kept ]
    run hc volume inspect hvt-data
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r '.[0].mountpoint')" = "$HYD_ROOT/volumes/hvt-data" ]
    [ "$(echo "$output" | jq -r '.[0].containers | length')" = 1 ]
    run hc volume rm hvt-data
    [ "$status" -eq 1 ]
    [[ "$output" == *"volume hvt-data is in use by reader"* ]]
    [ -d "$HYD_ROOT/volumes/hvt-data" ]
    api DELETE /v1/volumes/hvt-data | tail -1 | grep -qx 409
    hc rm reader
    [ "$(hc volume rm hvt-data)" = hvt-data ]
    [ ! -e "$HYD_ROOT/volumes/hvt-data" ]
    [ -z "$(hc volume ls -q)" ]
    run hc volume rm hvt-data
    [ "$status" -eq 1 ]
    [[ "$output" == *"no such volume: hvt-data"* ]]
    [ "$(hc volume create hvt-made)" = hvt-made ]
    [ "$(hc volume create hvt-made)" = hvt-made ]
    [ "$(hc volume ls -q)" = hvt-made ]
    # Docker's copy-up: an empty volume gets what the image has at its path, owners and links included.
    run hc run --rm --network none -v hvt-etc:/etc -v hvt-home:/home "$IMG" sh -c 'echo added >> /etc/group'
    [ "$status" -eq 0 ]
    [ "$(cat "$HYD_ROOT/volumes/hvt-etc/passwd")" = "root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh" ]
    [ "$(tail -1 "$HYD_ROOT/volumes/hvt-etc/group")" = added ]
    [ "$(stat -c '%u:%g %a' "$HYD_ROOT/volumes/hvt-home/user")" = "1000:1000 750" ]
    [ "$(stat -c '%u:%g %a' "$HYD_ROOT/volumes/hvt-home/user/.secret")" = "1000:1000 640" ]
    [ "$(cat "$HYD_ROOT/volumes/hvt-home/user/.secret")" = secret ]
    [ "$(readlink "$HYD_ROOT/volumes/hvt-home/user/passwd-link")" = ../../etc/passwd ]
    [ "$(stat -c '%F %u:%g' "$HYD_ROOT/volumes/hvt-home/user/passwd-link")" = "symbolic link 1000:1000" ]
    [ "$(stat -c '%u:%g %a' "$HYD_ROOT/volumes/hvt-home")" = "0:0 755" ]
    # Nothing of the private copy is left beside the volumes.
    [ "$(ls -A "$HYD_ROOT/volumes" | tr '\n' ' ')" = "hvt-etc hvt-home hvt-made " ]
    # A volume with something in it is left as it is.
    run hc run --rm --network none -v hvt-etc:/etc "$IMG" tail -1 /etc/group
    [ "$output" = added ]
    [ "$(hc volume ls -q | tr '\n' ' ')" = "hvt-etc hvt-home hvt-made " ]
    # Through the API: no body is a random name; a bad body is a 400.
    run api POST /v1/volumes/create
    [ "$(echo "$output" | tail -1)" = 201 ]
    anon=$(echo "$output" | head -1 | jq -r .name)
    [ ${#anon} -eq 64 ]
    api DELETE "/v1/volumes/$anon" | tail -1 | grep -qx 200
    api POST /v1/volumes/create -d '{"name": "x y"}' | tail -1 | grep -qx 400
    api POST /v1/volumes/create -d '{"nom": "xy"}' | tail -1 | grep -qx 400
    api POST /v1/volumes/create -d '[1]' | tail -1 | grep -qx 400
    api GET /v1/volumes/nope | tail -1 | grep -qx 404
    run hc volume create -bad
    [ "$status" -eq 1 ]
    [[ "$output" == *"invalid volume name"* ]]
}

@test "hyperd volumes: copy-up fills a new volume once, whole, and never one another container has" {
    # Two runs at once with one new volume: both start, the volume is filled once.
    hc run --rm --network none -v hvt-conc:/etc "$IMG" true >"$HV/a" 2>&1 &
    a=$!
    hc run --rm --network none -v hvt-conc:/etc "$IMG" true >"$HV/b" 2>&1 &
    b=$!
    wait "$a" || { cat "$HV/a"; false; }
    wait "$b" || { cat "$HV/b"; false; }
    [ "$(ls "$HYD_ROOT/volumes/hvt-conc")" = "group
passwd" ]
    [ "$(ls -A "$HYD_ROOT/volumes" | tr '\n' ' ')" = "hvt-conc " ]
    # A volume a running container has is left as it is, even empty: that guest may change it meanwhile.
    hc run -d --name holder --network none -v hvt-shared:/x "$IMG" sleep 600
    run hc run --rm --network none -v hvt-shared:/home "$IMG" ls -A /home
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    hc rm -f holder
    [ -z "$(ls -A "$HYD_ROOT/volumes/hvt-shared")" ]
    # What a hyperd that ended mid-copy or mid-rm left beside the volumes goes at the next start.
    mkdir -p "$HYD_ROOT/volumes/.copy-Ab12Cd/etc" "$HYD_ROOT/volumes/.rm-Ef34Gh/data"
    hyc_stop KILL
    hyc_start
    [ "$(ls -A "$HYD_ROOT/volumes" | tr '\n' ' ')" = "hvt-conc hvt-shared " ]
}

@test "hyperd volumes: --memory and --cpus size the VM" {
    run hc run --rm --network none -m 256m --cpus 2 "$IMG" sh -c 'grep MemTotal /proc/meminfo; nproc'
    [ "$status" -eq 0 ]
    kb=$(echo "$output" | awk '/MemTotal/ {print $2}')
    # 256 MiB less the kernel's own: well above the default 128 MiB VM.
    [ "$kb" -gt 200000 ]
    [ "$kb" -le 262144 ]
    [ "$(echo "$output" | tail -1)" = 2 ]
    run hc run --rm --network none "$IMG" sh -c 'grep MemTotal /proc/meminfo; nproc'
    kb=$(echo "$output" | awk '/MemTotal/ {print $2}')
    [ "$kb" -le 131072 ]
    [ "$(echo "$output" | tail -1)" = 1 ]
}

@test "hyperd volumes: bad -v, --memory and --cpus values are refused and make nothing" {
    bad() {
        run hc run --network none "$@" "$IMG" true
        [ "$status" -eq 125 ] || { echo "status $status for $*: $output" >&2; return 1; }
        [[ "$output" == *"$EXPECT"* ]] || { echo "for $*: $output" >&2; return 1; }
    }
    EXPECT="a host path must be absolute" bad -v ./data:/x
    EXPECT="the host path /nonexistent-hvt does not exist" bad -v /nonexistent-hvt:/x
    EXPECT='the container path "relative" must be absolute' bad -v "$HV:relative"
    EXPECT='the container path "/" must be absolute, not "/"' bad -v "$HV:/"
    EXPECT='the container path "/a/../b"' bad -v "$HV:/a/../b"
    EXPECT='the mode "rx" is not ro or rw' bad -v "$HV:/x:rx"
    EXPECT="SOURCE:/CONTAINER/PATH" bad -v "$HV"
    EXPECT="two volumes at /x" bad -v "$HV:/x" -v hvt-never:/x
    EXPECT="invalid volume name" bad -v "-x:/x"
    EXPECT='memory "10m" is too small' bad -v hvt-never:/x -m 10m
    EXPECT='invalid memory "12q"' bad -m 12q
    EXPECT='invalid memory "-1"' bad -m -1
    EXPECT='invalid cpus "0"' bad --cpus 0
    EXPECT='invalid cpus "abc"' bad --cpus abc
    EXPECT='invalid cpus "999"' bad --cpus 999
    [ -z "$(hc ps -a -q)" ]
    [ -z "$(hc volume ls -q)" ]
    [ -z "$(ls -A "$HYD_ROOT/volumes" 2>/dev/null)" ]
}

# A raw ext4 image and a qcow2 one made from another.
make_disks() {
    truncate -s 32M "$HV/disk.img"
    mkfs.ext4 -q -F "$HV/disk.img"
    truncate -s 32M "$HV/seed.raw"
    mkfs.ext4 -q -F "$HV/seed.raw"
    qemu-img convert -f raw -O qcow2 "$HV/seed.raw" "$HV/disk.qcow2"
    rm "$HV/seed.raw"
}

@test "hyperd volumes: raw and qcow2 disk images hot-plugged into a running container, written, detached, read on the host" {
    make_disks
    hc run -d --network none --name blk "$IMG" sleep 600
    [ "$(hc volume attach blk "$HV/disk.img:/data")" = "$HV/disk.img:/data" ]
    hc exec blk sh -c 'echo raw-data > /data/f'
    hc volume attach blk "$HV/disk.qcow2:/deep/q"
    hc exec blk sh -c 'echo qcow-data > /deep/q/g'
    run hc exec blk sh -c 'grep " /data \| /deep/q " /proc/mounts'
    [ "$status" -eq 0 ]
    [[ "$output" == *"/data ext4 rw"* && "$output" == *"/deep/q ext4 rw"* ]]
    # One VM at a time per image; nothing is left of a refused attach.
    run hc volume attach blk "$HV/disk.img:/again"
    [ "$status" -eq 1 ]
    [[ "$output" == *"the disk image $HV/disk.img is attached to blk already"* ]]
    hc inspect blk | jq -e '.[0].volumes | map(select(.type == "block")) | map(.format) == ["raw", "qcow2"]'
    run hc volume attach blk "$HV/disk.img:/../x"
    [ "$status" -eq 1 ]
    [[ "$output" == *'invalid destination "/../x"'* ]]
    run hc volume attach blk "$HV/nope.img:/x"
    [ "$status" -eq 1 ]
    [[ "$output" == *"the disk image $HV/nope.img: No such file or directory"* ]]
    # QEMU's own word for a file that is not what it was said to be; the disk is not kept.
    truncate -s 8M "$HV/other.img"
    mkfs.ext4 -q -F "$HV/other.img"
    run hc volume attach --format qcow2 blk "$HV/other.img:/o"
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot hot-plug $HV/other.img (qcow2) into the VM: "*"qcow2"* ]]
    # What the user got wrong is a 400, what the container's state refuses a 409, a missing file a 404.
    api POST /v1/containers/blk/volumes -d "{\"source\": \"$HV/other.img\", \"destination\": \"/o\", \"format\": \"qcow2\"}" |
        tail -1 | grep -qx 400
    truncate -s 8M "$HV/blank.img"
    run api POST /v1/containers/blk/volumes -d "{\"source\": \"$HV/blank.img\", \"destination\": \"/b\"}"
    [ "$(echo "$output" | tail -1)" = 400 ]
    [[ "$output" == *"has no ext2/3/4 file system"* ]]
    api POST /v1/containers/blk/volumes -d "{\"source\": \"$HV/nope.img\", \"destination\": \"/n\"}" | tail -1 | grep -qx 404
    "$RUNV" --root "$HYD_RUNV" pause "$(hc inspect blk | jq -r '.[0].id')"
    run api POST /v1/containers/blk/volumes -d "{\"source\": \"$HV/other.img\", \"destination\": \"/o\"}"
    [ "$(echo "$output" | tail -1)" = 409 ]
    [[ "$output" == *"container blk is paused: unpause it first"* ]]
    "$RUNV" --root "$HYD_RUNV" resume "$(hc inspect blk | jq -r '.[0].id')"
    [ "$(hc inspect blk | jq '.[0].volumes | length')" = 2 ]
    # Detached from the running container: unmounted cleanly, so the host reads it at once; then free again.
    [ "$(hc volume detach blk /data)" = /data ]
    [ "$(debugfs -R 'cat /f' "$HV/disk.img" 2>/dev/null)" = raw-data ]
    [ -z "$(hc exec blk ls /data)" ]
    hc volume attach blk "$HV/disk.img:/again:ro"
    [ "$(hc exec blk cat /again/f)" = raw-data ]
    run hc volume detach blk /data
    [ "$status" -eq 1 ]
    [[ "$output" == *"the container has no block volume at /data"* ]]
    # A file system in use is not pulled away.
    hc exec blk sh -c 'cd /deep/q && sleep 300 </dev/null >/dev/null 2>&1 &'
    run hc volume detach blk /deep/q
    [ "$status" -eq 1 ]
    [[ "$output" == *"/deep/q is busy"* ]]
    hc exec blk sh -c 'kill $(pidof sleep) 2>/dev/null; true'
    hc rm -f blk
    hc run --name ended --network none "$IMG" true
    run hc volume attach ended "$HV/other.img:/o"
    [ "$status" -eq 1 ]
    [[ "$output" == *"container ended is not running (it is stopped)"* ]]
    [ "$(debugfs -R 'cat /f' "$HV/disk.img" 2>/dev/null)" = raw-data ]
    qemu-img convert -f qcow2 -O raw "$HV/disk.qcow2" "$HV/back.raw"
    [ "$(debugfs -R 'cat /g' "$HV/back.raw" 2>/dev/null)" = qcow-data ]
}

@test "hyperd volumes: run -v with a disk image mounts it before the command starts; :ro refuses writes" {
    make_disks
    debugfs -w -R 'write /etc/hostname seeded' "$HV/disk.img" >/dev/null 2>&1
    run hc run --rm --network none -v "$HV/disk.img:/data:ro" -v "$HV/disk.qcow2:/q" "$IMG" \
        sh -c 'cat /data/seeded; echo new > /q/n; echo x > /data/x'
    [ "$status" -ne 0 ]
    [[ "$output" == *"Read-only file system"* ]]
    [ "$(debugfs -R 'cat /seeded' "$HV/disk.img" 2>/dev/null)" = "$(cat /etc/hostname)" ]
    [[ "$output" == "$(cat /etc/hostname)"* ]]
    qemu-img convert -f qcow2 -O raw "$HV/disk.qcow2" "$HV/back.raw"
    [ "$(debugfs -R 'cat /n' "$HV/back.raw" 2>/dev/null)" = new ]
    # The image is free again once its container is gone.
    run hc run --rm --network none -v "$HV/disk.img:/data" "$IMG" cat /data/seeded
    [ "$status" -eq 0 ]
}

@test "hyperd volumes: a qcow2 header planted in a raw image never makes QEMU open the file it names" {
    # The host file a guest would like to read: an ext4 image of its own.
    truncate -s 16M "$HV/secret.raw"
    mkfs.ext4 -q -F "$HV/secret.raw"
    echo host-secret > "$HV/theirs"
    debugfs -w -R "write $HV/theirs seeded" "$HV/secret.raw" >/dev/null 2>&1
    qemu-img create -q -f qcow2 -b "$HV/secret.raw" -F raw "$HV/over.qcow2"
    # A raw ext4 disk whose unused first KiB a guest filled with that overlay's header.
    truncate -s 16M "$HV/disk.img"
    mkfs.ext4 -q -F "$HV/disk.img"
    echo mine > "$HV/mine"
    debugfs -w -R "write $HV/mine seeded" "$HV/disk.img" >/dev/null 2>&1
    dd if="$HV/over.qcow2" of="$HV/disk.img" bs=1024 count=1 conv=notrunc status=none
    [ "$(head -c 4 "$HV/disk.img" | od -An -tx1 | tr -d ' ')" = 514649fb ]
    run hc run --name planted --network none -v "$HV/disk.img:/data" "$IMG" cat /data/seeded
    [ "$status" -eq 0 ]
    [ "$output" = mine ]
    [ "$(hc inspect planted | jq -r '.[0].volumes[0].format')" = raw ]
    # Given as qcow2, an image with a backing file is refused on the host, before QEMU opens it.
    run hc run --rm --network none -v "$HV/over.qcow2:/data" "$IMG" cat /data/seeded
    [ "$status" -eq 125 ]
    [[ "$output" == *"has a backing file, which is never opened"* ]]
    # The failed create takes the volume it made with it.
    run hc run --rm --network none -v hvt-made-here:/v -v "$HV/over.qcow2:/data" "$IMG" true
    [ "$status" -eq 125 ]
    [ -z "$(hc volume ls -q)" ]
    [ -z "$(ls -A "$HYD_ROOT/volumes")" ]
    hc rm planted
    hc run -d --name blk2 --network none "$IMG" sleep 600
    run hc volume attach --format qcow2 blk2 "$HV/disk.img:/q"
    [ "$status" -eq 1 ]
    [[ "$output" == *"has a backing file, which is never opened"* ]]
    [ "$(hc inspect blk2 | jq '.[0].volumes | length')" = 0 ]
    [ "$(hc ps -a -q | wc -l)" -eq 1 ]
}
