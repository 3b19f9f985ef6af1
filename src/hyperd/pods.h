/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd's pods (pods.c, docs/pods.md): one VM whose first container is a
 * sandbox running hyper-pause, which holds the VM and the network, ipc and
 * uts namespaces; the pod's containers are ordinary hyperd containers
 * (rows of containers, with a pod_members row) that join it through runv.
 * The sandbox is no row of containers: its runv id, bundle
 * (ROOT/containers/SANDBOX) and network are named after pods.sandbox.
 */

#include <json-c/json.h>
#include <stdbool.h>

#include "containers.h"
#include "hyperd.h"
#include "pod-spec.h"

/* What a container that joins a pod puts in its spec. */
struct pod_join {
        char *netns;         /* the pod's network namespace, or NULL (a pod without network) */
        char *etc;           /* the sandbox's bundle: hosts, resolv.conf and hostname */
        char ipc[64], uts[64]; /* /proc/PID/ns/... of the sandbox's monitor */
};

void pod_join_done(struct pod_join *j);
/* The pod must exist and run; -ENOENT or -EBUSY with a message otherwise. */
int pod_join_prepare(struct hyperd *hd, const char *pod, struct pod_join *ret, char **ret_error);

/* Checks, makes and starts a pod from a pod file; on failure nothing of it is left. */
int pod_create(struct hyperd *hd, const char *body, size_t len, char **ret_id, char **ret_error);
/* "running" while the sandbox lives, else "exited". */
const char *pod_status(struct hyperd *hd, const struct db_pod *p);
/* Stops every container of the pod (marked stopped by the user, under pods_lock()), then the sandbox; call without the lock. */
int pod_stop(struct hyperd *hd, const struct db_pod *p, int timeout_s, char **ret_error);
/*
 * Starts a stopped pod again from what it has: the sandbox (its network and
 * ports are kept while the pod exists), then each container from its bundle
 * and rootfs. A running pod is left as it is.
 */
int pod_start(struct hyperd *hd, const struct db_pod *p, char **ret_error);
/* Removes every container of the pod, the sandbox, its network and the row. */
int pod_remove(struct hyperd *hd, const struct db_pod *p, char **ret_error);
/* The pod's record for the API: the spec's fields, the status and each container. */
struct json_object *pod_json(struct hyperd *hd, const struct db_pod *p);
/* 404 with a message when there is no such pod. */
int pod_lookup(struct hyperd *hd, const char *id, struct db_pod *ret, char **ret_error);

/*
 * ROOT/rootfs as a shared mount (bound on itself at start): a pod's monitor
 * lives in a mount namespace of its own, a slave of hyperd's, and sees the
 * rootfs of a container that joins later only if the overlay mounted
 * under ROOT/rootfs propagates to it, which a private "/" would stop.
 * Unshare unmounts it again when hyperd ends with no container and no pod.
 */
int pod_rootfs_share(struct hyperd *hd);
void pod_rootfs_unshare(struct hyperd *hd);

/*
 * Held while a container or a pod is stopped, removed or restarted, by the
 * API's handlers and the exit watcher alike, so that the watcher never
 * starts again what a user is stopping or removing.
 */
void pods_lock(void);
void pods_unlock(void);

/* watcher.c: the exit watcher (restart policies, autoRemove), a thread of hyperd. */
int watcher_start(struct hyperd *hd);
void watcher_stop(void);
/* A client waits for the container: the watcher leaves it alone until released. */
void watcher_hold(const char *id);
void watcher_release(const char *id);
/* The same, ms from now: an attach's client has that long to ask for the exit code (POST .../wait). */
void watcher_release_after(const char *id, int ms);
