/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Creates path and every missing folder above it. */
int mkdir_p(const char *path, unsigned mode);
/*
 * Removes path and everything below it, but never descends into another
 * mount (a bind mount of the same file system included): a state folder
 * that still holds a container's rootfs bind must not take the rootfs with it.
 * Returns -EBUSY when a mount was found and left in place.
 */
int rm_rf(const char *path);
