/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A container's root file system: the image's layers as overlayfs lower
 * folders and a writable upper folder of its own, under ROOT/rootfs/<id>.
 * While it exists the image cannot be removed.
 */

#include "image-store.h"

/*
 * Makes the rootfs <id> of the image ref and mounts it on target (NULL:
 * ROOT/rootfs/<id>/merged). *ret_path (may be NULL) gets the mount point.
 */
int image_rootfs_create(struct image_store *s, const char *ref, const char *id, const char *target, char **ret_path,
                        char **ret_error);
/* Unmounts the rootfs and deletes its upper folder (the container's changes). */
int image_rootfs_remove(struct image_store *s, const char *id, char **ret_error);
/* The id of the rootfs mounted on target. */
int image_rootfs_find(struct image_store *s, const char *target, char **ret_id, char **ret_error);
