/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Volumes (volumes.c): named volumes hyperd keeps under ROOT/volumes/NAME
 * (a row each in the volumes table), what a container's -v specs become
 * (host folders and files bound through runv's share, named volumes bound
 * from their folder, disk image files hot-plugged as block volumes), and
 * the container_volumes rows that record them: a named volume in use is
 * not removed, a disk image attached is not attached twice.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "hyperd.h"
#include "volume-spec.h"

/* ROOT/volumes/NAME. */
char *volume_path(struct hyperd *hd, const char *name);
/* Removes what a hyperd that ended part way left in ROOT/volumes: copies not yet renamed into place, folders moved aside. */
void volumes_clean(struct hyperd *hd);
/* Makes a named volume; *ret_created false when it was there already. */
int volume_create(struct hyperd *hd, const char *name, bool *ret_created, char **ret_error);
/* -EBUSY with a message naming the containers that use it; -ENOENT. */
int volume_remove(struct hyperd *hd, const char *name, char **ret_error);
struct json_object *volume_json(struct hyperd *hd, const struct db_volume *v);

/* One -v of a container, checked against the host. */
struct container_volume {
        struct volume_spec spec;
        char *host_path;    /* binds: the host folder or file; named volumes: their folder */
        const char *format; /* block volumes: "raw" or "qcow2"; NULL for binds */
        bool created;       /* a named volume container_volumes_record() made */
};

struct container_volumes {
        struct container_volume *v;
        size_t n;
        struct volume_mount *mounts; /* the binds, for container_spec() */
        size_t n_mounts;
};

/*
 * Checks every -v against the host before anything is made: host paths
 * exist, a disk image is not attached elsewhere. Nothing is changed.
 */
int container_volumes_check(struct hyperd *hd, char **specs, struct container_volumes *ret, char **ret_error);
/*
 * Records the binds and named volumes of container id, making the volumes
 * that are missing, and does Docker's copy-up: each named volume whose
 * folder is empty, and that no container but id has, gets a copy of what
 * the image (the container's rootfs, rootfs_fd) has at its path, all of it
 * or nothing.
 */
int container_volumes_record(struct hyperd *hd, const char *id, struct container_volumes *cv, int rootfs_fd,
                             char **ret_error);
/* After a failed create (its rows gone): removes the named volumes that the create made, unless one is in use. */
void container_volumes_forget(struct hyperd *hd, const struct container_volumes *cv);
/* Hot-plugs the block volumes into the created container's VM. */
int container_volumes_attach(struct hyperd *hd, const char *id, const struct container_volumes *cv, char **ret_error);
void container_volumes_done(struct container_volumes *cv);

/*
 * A disk image file (raw or qcow2; format NULL: probed) hot-plugged into the
 * container's VM and mounted at destination in it (runv mount-block).
 * -EBUSY when the file is attached already (to any container).
 */
int container_block_attach(struct hyperd *hd, const char *id, const char *file, const char *destination,
                           const char *format, bool readonly, char **ret_error);
/*
 * Undoes container_block_attach(): in a live container the guest unmounts
 * it (-EBUSY with its message when a process uses it) and the disk is
 * unplugged; the record goes. -ENOENT when no block volume is there.
 */
int container_block_detach(struct hyperd *hd, const char *id, const char *destination, bool live,
                           char **ret_error);
/*
 * The container's recorded block volumes hot-plugged again into a new VM
 * (a pod started again), between its runv create and start.
 */
int container_blocks_reattach(struct hyperd *hd, const char *id, char **ret_error);
/* The container's volumes as JSON, for inspect. */
struct json_object *container_volumes_json(struct hyperd *hd, const char *id);
