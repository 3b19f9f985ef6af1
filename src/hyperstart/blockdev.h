/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * MOUNT: a disk the host hot-plugged (virtio-blk, found by its serial) is
 * mounted at a path of a container, in the container's own mount
 * namespace when its first process runs, or below its root before that.
 */

#include "agent.h"
#include "request.h"

/* How long a disk may take to appear after the host plugged it. */
#define BLOCKDEV_WAIT_MS 10000
#define BLOCKDEV_MAX_SERIAL 20

int blockdev_mount(struct agent *a, struct request *req);
/* UNMOUNT: the disk's file system at destination, unmounted (it must be the disk's, and not busy). */
int blockdev_unmount(struct agent *a, struct request *req);
