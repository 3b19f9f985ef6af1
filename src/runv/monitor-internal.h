/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The monitor's insides, shared by monitor.c (the pod and its first
 * container) and monitor-member.c (containers that join the pod's VM).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "monitor.h"
#include "mounts.h"
#include "pod.h"
#include "runv.h"
#include "status.h"
#include "tapnet.h"

#define MONITOR_INIT 1u
#define MONITOR_MAX_MEMBERS 16
#define MONITOR_MAX_DISKS 8

/* A disk hot-plugged by mount-block, and where the guest mounted it. */
struct monitor_disk {
        char id[16]; /* "volN": QEMU's device id and the disk's serial */
        char *container;
        char *destination;
};

/* A process started by exec, with the connection of the client that waits for it. */
struct monitor_proc {
        uint32_t id;
        const char *container;
        struct pod_stdio stdio;
        int conn; /* the exec client's connection, -1 once it is gone */
        pid_t peer;
        bool exited;
        int status;
};

/*
 * A container that joined the pod: its spec asked for another container's
 * namespaces. Its process for clients is the member process that asked to
 * join (a child of `runv create`), which waits on conn for the exit status.
 */
struct monitor_member {
        struct runv_bundle b;
        struct runv_mounts mounts;
        struct runv_state st;
        uint32_t process;
        int fds[3];
        size_t n_fds;
        struct pod_stdio stdio;
        int conn;
        bool exited;
        int status;
};

struct monitor_plan {
        struct runv_mounts mounts;
        struct tapnet *net;
        struct vm_nic *nics;
        struct json_object *network;
};

struct monitor {
        const struct monitor_config *cfg;
        struct monitor_plan plan;
        struct runv_state st;
        struct pod *pod;
        char *socket_path;
        int listen_fd;
        int sigfd;
        struct pod_stdio init_stdio;
        bool init_exited;
        int init_status;
        struct monitor_proc procs[MONITOR_MAX_CLIENTS];
        size_t n_procs;
        struct monitor_member *members[MONITOR_MAX_MEMBERS];
        size_t n_members;
        uint32_t next_process;
        unsigned n_disks; /* disks hot-plugged so far: the next is "vol<n+1>" */
        struct monitor_disk disks[MONITOR_MAX_DISKS]; /* those mounted now */
        size_t n_mounted;
        size_t n_clients;
        bool done;
};

void monitor_reply(int fd, const char *error);
void monitor_reply_json(int fd, struct json_object *o);
void monitor_reply_exit(int fd, int status);
bool monitor_stdio_done(struct monitor *m, const struct pod_stdio *io);
void monitor_release_stdio(struct monitor *m, const struct pod_stdio *io);
void monitor_drop_client(struct monitor *m, int fd);
pid_t monitor_peer_pid(int fd);
bool monitor_signal_ignored(int sig);
int monitor_exec(struct monitor *m, const char *container, uint32_t id, const struct oci_process *p, int in,
                 int out, int err, struct pod_stdio *io, char **ret_error);

/* {"op":"mount-block"} (monitor-disk.c); NULL or the error for the reply. */
const char *monitor_mount_block(struct monitor *m, struct json_object *req);
/* {"op":"umount-block"}: what mount-block mounted at a destination, unmounted and unplugged. */
const char *monitor_umount_block(struct monitor *m, struct json_object *req);
void monitor_disks_free(struct monitor *m);

struct monitor_member *monitor_member_find(struct monitor *m, const char *id);
/* Handles a request naming a member; NULL or the error for the reply. */
const char *monitor_member_dispatch(struct monitor *m, struct monitor_member *mb, const char *op, int fd,
                                    struct json_object *req, bool *replied);
const char *monitor_member_add(struct monitor *m, int fd, struct json_object *req, int *fds, size_t n_fds);
/* A closed connection: a member whose member process went away is killed. */
void monitor_member_conn_closed(struct monitor *m, int fd);
bool monitor_member_on_exit(struct monitor *m, uint32_t process, int status);
void monitor_member_reap(struct monitor *m);
/* The pod is ending: every member stops with it. */
void monitor_member_finish_all(struct monitor *m);
