/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * MOUNT: a disk the host hot-plugged (virtio-blk, found by its serial) is
 * mounted at a path of a container, in the container's own mount
 * namespace when its first process runs, or below its root before that.
 */

#include "agent.h"
#include "request.h"

/* How long a disk may take to appear after the host plugged it, and how often the guest looks. */
#define BLOCKDEV_WAIT_MS 10000
#define BLOCKDEV_POLL_MS 20
#define BLOCKDEV_MAX_SERIAL 20
#define BLOCKDEV_MAX_WAITS 64

/*
 * MOUNT. A disk that has not appeared yet is awaited without blocking the
 * loop: the request is answered later (REQUEST_DEFERRED), from
 * blockdev_poll(), which the loop calls every BLOCKDEV_POLL_MS while
 * blockdev_timeout_ms() says a MOUNT waits.
 */
int blockdev_mount(struct agent *a, struct request *req);
/* The loop's timeout for the MOUNTs that wait: -1 when none does. */
int blockdev_timeout_ms(const struct agent *a);
/* Finishes each waiting MOUNT whose disk has appeared or whose time is up. */
void blockdev_poll(struct agent *a);
void blockdev_waits_free(struct agent *a);
/* UNMOUNT: the disk's file system at destination, unmounted (it must be the disk's, and not busy). */
int blockdev_unmount(struct agent *a, struct request *req);
