/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What `-v` and `--memory`/`--cpus` say, checked without touching the
 * host: pure string work, unit-tested (tests/unit/test-hyperd-volume-spec.c).
 * Every rejection comes with a message that names the value and says what
 * would be right. volumes.c turns a checked spec into mounts.
 *
 * A volume spec is Docker's short form:
 *
 *   /HOST/PATH:/CTR/PATH[:ro|rw]   a host folder or file (must exist), or a
 *                                  disk image file: a block volume
 *   NAME:/CTR/PATH[:ro|rw]         a named volume, made on first use
 *
 * The container path is absolute, not "/", without "." or ".." parts.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOLUME_MAX_PER_CONTAINER 64
#define VOLUME_MAX_NAME 128
#define VOLUME_MAX_PATH 4096

enum volume_kind {
        VOLUME_HOST,  /* source is an absolute host path */
        VOLUME_NAMED, /* source is a volume name */
};

struct volume_spec {
        enum volume_kind kind;
        char *source;
        char *destination;
        bool readonly;
};

int volume_spec_parse(const char *s, struct volume_spec *ret, char **ret_error);
void volume_spec_done(struct volume_spec *v);

/* Names as Docker's: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at least), at most VOLUME_MAX_NAME. */
bool volume_name_valid(const char *name);
/* An absolute path, not "/", without empty, "." or ".." parts, at most VOLUME_MAX_PATH. */
bool volume_destination_valid(const char *path);

/* Formats of block volumes. */
bool volume_format_valid(const char *format);

/*
 * Docker's --memory: a number of bytes with an optional b, k, m or g
 * suffix (powers of 1024, either case), at least VOLUME_MIN_MEMORY.
 */
#define VOLUME_MIN_MEMORY (64ull << 20)
#define VOLUME_MAX_MEMORY (1ull << 40)
int resources_memory_parse(const char *s, uint64_t *ret, char **ret_error);
/* Docker's --cpus: a decimal number above 0 and at most max_cpus, kept as milli-CPUs. */
int resources_cpus_parse(const char *s, unsigned max_cpus, uint64_t *ret_millicpus, char **ret_error);

/*
 * What a disk image file holds, from its name and its first
 * VOLUME_PROBE_SIZE bytes (fewer when the file is shorter): "qcow2" for a
 * name ending in .qcow2 and only then (never from the contents, which a
 * guest may have written), "raw" for QEMU's magic, an ext2/3/4, XFS or
 * Btrfs file system or a name ending in .img, .raw or .qcow (whose contents
 * the guest will judge), NULL for any other file: a plain file to bind.
 */
#define VOLUME_PROBE_SIZE (64 * 1024 + 4096)
const char *volume_probe_format(const unsigned char *head, size_t len, const char *name);

/*
 * The errno a failed `runv mount-block`'s message stands for: -EINVAL (the
 * file or its format is wrong), -EBUSY (the container cannot take a disk
 * now), -ENOTRECOVERABLE (the VM kept the disk), -EIO for the rest.
 */
int volume_mount_error(const char *msg);

/* A host folder or file bound into the container (read-only on the host side too when readonly). */
struct volume_mount {
        const char *source; /* absolute host path */
        const char *destination;
        bool readonly;
};

struct json_object;
/* Appends a bind of each to the spec's "mounts". */
int volume_spec_mounts(struct json_object *spec, const struct volume_mount *m, size_t n);
/* The spec's "mounts" array, added when it has none: 0, -ENOMEM, or -EINVAL when "mounts" is not an array. */
int volume_spec_mounts_array(struct json_object *spec, struct json_object **ret);

/*
 * Sizes the VM through linux.resources, which runv reads (docs/runv.md):
 * memory.limit in bytes (0: leave runv's default) and cpu.quota over a
 * period of 100000 (0 milli-CPUs: leave the default, one vCPU).
 */
int resources_spec_apply(struct json_object *spec, uint64_t memory, uint64_t millicpus);
