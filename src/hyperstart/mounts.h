/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A container's own mounts (CONTAINER's "mounts", as in config.json) and
 * its masked and read-only paths. Every destination is resolved inside the
 * container's root with openat2(RESOLVE_IN_ROOT), because the rootfs is
 * untrusted: a symlink in it must not send a mount elsewhere in the guest.
 */

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

#define MOUNTS_MAX       256
#define MOUNTS_MAX_PATHS 256

struct spec_mount {
        char *destination; /* absolute, normalized: no "." or empty names, no trailing / */
        char *type;        /* the kernel's type; NULL for a bind */
        char *source;      /* a bind: a path inside the share; otherwise the mount's source label */
        char *data;        /* the options the file system parses, comma-joined; NULL when none */
        unsigned long flags;
        bool bind;
        bool recursive;
};

struct mounts {
        struct spec_mount *v;
        size_t n;
};

/* Parses and validates the optional "mounts" array of a CONTAINER body. */
int mounts_parse(struct request *req, struct mounts *ret);
void mounts_done(struct mounts *m);
/*
 * Mounts each entry in order inside root (a folder that is already the
 * container's root mount). On failure req names the mount; what was
 * mounted stays below root, which the caller detaches as a whole.
 */
int mounts_apply(const struct mounts *m, const char *root, struct request *req);

/* Parses an optional array of absolute paths ("maskedPaths", "readonlyPaths"); normalized copies. */
int mounts_parse_paths(struct request *req, const char *key, char ***ret);
/*
 * In the container's mount namespace, after its /proc is mounted: masks
 * each path of masked (/dev/null over a file, a read-only tmpfs over a
 * folder) and makes each of readonly read-only, skipping missing paths.
 * On failure *ret_what names the path.
 */
int mounts_protect(const char *root, char *const *masked, char *const *readonly, const char **ret_what);

/* A normalized copy of an absolute path (no "." or empty names); -EINVAL for a relative one or "..". */
int mounts_normalize_path(const char *path, char **ret);
/* Opens (O_PATH) the folder dest inside root, making it and its parents when missing. */
int mounts_make_dir_in(int rootfd, const char *dest);
