/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* Creates path and every missing folder above it. */
int mkdir_p(const char *path, unsigned mode);
/*
 * Removes path and everything below it, but never descends into another
 * mount (a bind mount of the same file system included): a state folder
 * that still holds a container's rootfs bind must not take the rootfs with it.
 * Returns -EBUSY when a mount was found and left in place.
 */
int rm_rf(const char *path);
/*
 * Creates path as a folder (or, with file, its last component as an empty
 * file) below root, resolving every component as if root were "/": an
 * untrusted tree's symlinks and ".." cannot lead out of it.
 */
int mkdir_in_root(const char *root, const char *path, bool file);
