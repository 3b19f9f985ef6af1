/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A pod: one VM, its guest agent, and the containers in it. This is the
 * layer runv and the pod monitor share: launch the VM through the
 * hypervisor table, connect to hyperstart, and drive it with requests.
 *
 * Host folders reach the guest through one shared folder per pod
 * (STATE/share). The rootfs of each container is bind-mounted into it
 * before the VM starts; the binds are made in a private mount namespace
 * (pod_private_mounts()), so they vanish with the last process that holds
 * them however the pod ends, and the host never sees them.
 */

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "hypervisor.h"
#include "oci-spec.h"

struct pod_bind {
        const char *source; /* host path: a folder or a file */
        const char *target; /* path inside the shared folder */
        bool readonly;      /* read-only on the host side too */
};

struct pod_config {
        const char *id;
        const char *state_dir; /* exists; the pod's sockets and share go here */
        const char *hostname;
        unsigned vcpus;
        uint64_t memory_mib;
        const struct pod_bind *binds;
        size_t n_binds;
        const struct vm_nic *nics; /* taps in the caller's netns, see tapnet.h */
        size_t n_nics;
        struct json_object *network; /* the NETWORK request for them, or NULL */
        int boot_timeout_ms;         /* 0: the default */
};

struct pod_container {
        const char *id;
        const char *rootfs; /* path inside the shared folder */
        const char *hostname;
        bool readonly;
        struct json_object *mounts; /* config.json's, bind sources rewritten into the share */
        char **masked_paths;
        char **readonly_paths;
};

struct pod {
        struct vm *vm;
        struct agent *agent;
        char *share_dir;
        char *kernel_version; /* the guest's, from HELLO */
        char **bind_targets;  /* what pod_free() unmounts */
        size_t n_bind_targets;
        bool share_mounted;
};

/* Moves the calling process into a mount namespace of its own whose mounts never propagate out. */
int pod_private_mounts(void);

int pod_start(const struct pod_config *cfg, struct pod **ret, char **ret_error);
int pod_add_container(struct pod *pod, const struct pod_container *c, char **ret_error);
/* Binds more host paths into the shared folder of a running pod (a container joining it). */
int pod_add_binds(struct pod *pod, const struct pod_bind *binds, size_t n, char **ret_error);
/* Unmounts the binds whose share path starts with prefix/ (a container that left). */
void pod_remove_binds(struct pod *pod, const char *prefix);
/* Asks the guest to undo CONTAINER, without waiting. */
int pod_remove_container(struct pod *pod, const char *id);

/*
 * A disk image file hot-plugged into the running VM (disk_id: at most 20 of
 * [A-Za-z0-9_-], unique in the pod; also the disk's serial) and mounted by
 * the guest at destination in the container (MOUNT). fstype NULL: probed.
 * A failed mount unplugs the disk again. The guest's answer is only a
 * success or an error message.
 */
struct pod_disk {
        const char *disk_id;
        const char *path;
        const char *format; /* "raw" or "qcow2" */
        bool readonly;
        const char *container;
        const char *destination;
        const char *fstype;
};
/*
 * When the guest refuses the mount and then does not let go of the disk
 * either, the result is -ENOTRECOVERABLE and the message ends in
 * POD_DISK_STUCK: the file is still open in QEMU until the VM ends.
 */
#define POD_DISK_STUCK "it stays attached until the container is removed"
int pod_mount_disk(struct pod *pod, const struct pod_disk *d, char **ret_error);
/* Has the guest unmount what pod_mount_disk() mounted (UNMOUNT), then unplugs the disk. */
int pod_unmount_disk(struct pod *pod, const char *disk_id, const char *container, const char *destination,
                     char **ret_error);

struct pod_stdio {
        uint32_t in, out, err; /* stream ids, 0 for /dev/null */
};
int pod_exec(struct pod *pod, const char *container, uint32_t process, const struct oci_process *p,
             const struct pod_stdio *stdio, char **ret_error);
/* Sends a signal without waiting for the answer: the process may be gone already. */
int pod_signal(struct pod *pod, uint32_t process, int sig);
int pod_winsize(struct pod *pod, uint32_t process, unsigned rows, unsigned cols);
/* Asks the guest to power off, waits up to timeout_ms, then kills the VM. */
int pod_stop(struct pod *pod, int timeout_ms);
void pod_free(struct pod *pod);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod *, pod_free)
