/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd's containers (containers.c, container-create.c): made, queried,
 * signalled, waited for and removed through runv (runv-driver.h). Every
 * function reads what it needs from the database and runv's state root,
 * so it works the same in a hyperd started after the container was.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#include "container-spec.h"
#include "hyperd.h"
#include "runv-driver.h"

#define CONTAINER_ID_LEN 64

struct container_status {
        char status[16]; /* runv's: creating, created, running, paused, stopped; "unknown" when runv has none */
        pid_t pid;       /* the monitor, while live */
        int exit_code;   /* once stopped; -1 when unknown */
};

/* ROOT/containers/ID, or a file in it (file may be NULL). */
char *container_bundle(struct hyperd *hd, const char *id, const char *file);

int container_state(struct hyperd *hd, const char *id, struct container_status *ret);
bool container_is_live(const struct container_status *s);
/*
 * Waits until the container is no longer live: 0, or -ETIMEDOUT after
 * timeout_ms (-1: none), or -ECANCELED when cancel_fd (a client's
 * connection, or -1) hangs up.
 */
int container_wait(struct hyperd *hd, const char *id, int timeout_ms, int cancel_fd, struct container_status *ret);
/* -EBUSY with a message when runv refuses (the container is not running). */
int container_signal(struct hyperd *hd, const char *id, int sig, char **ret_error);
/* SIGTERM, then SIGKILL after timeout_s; *ret is the final state. */
int container_stop(struct hyperd *hd, const char *id, int timeout_s, struct container_status *ret);
/* Removes everything of the container, live or not; every step tolerates one already done. */
int container_remove(struct hyperd *hd, const char *id, char **ret_error);

/* Makes and starts a container; *ret_id gets its id. On failure nothing of it is left. */
int container_create(struct hyperd *hd, const struct container_run *run, char **ret_id, char **ret_name,
                     char **ret_error);
/* Makes a container, and starts it when start is true (container_create), else leaves it created. */
int container_make(struct hyperd *hd, const struct container_run *run, bool start, char **ret_id, char **ret_name,
                   char **ret_error);
/* runv start: a created container's process begins. */
int container_start(struct hyperd *hd, const char *id, char **ret_error);

/* runv create (stdio on the bundle's log) and runv start of a container whose bundle is made. */
int container_runv_start(struct hyperd *hd, const char *id, char **ret_error);
/* The same in a new VM: the container's recorded block volumes are hot-plugged again between create and start. */
int container_runv_start_reattach(struct hyperd *hd, const char *id, char **ret_error);
/* A stopped container started again from its bundle (runv delete, create, start): the restart policy's. */
int container_restart(struct hyperd *hd, const char *id, char **ret_error);
/* container_restart() of a pod's container in the pod's new VM (pod start): its block volumes again too. */
int container_restart_reattach(struct hyperd *hd, const char *id, char **ret_error);

/* container-net.c: the container's network namespace, veth and published ports on hyperd's bridge. */
#define CONTAINER_NET_POD_ID_LEN 32
void container_net_pod_id(const char *id, char ret[CONTAINER_NET_POD_ID_LEN + 1]);
/* RUNTIME/netns/ID: the container's network namespace, bind-mounted. */
char *container_netns_path(struct hyperd *hd, const char *id);
/*
 * Unless run->network_none: the namespace, the veth, the address, the ports; *ret_netns its path (or NULL),
 * *ret_addr the container's address (left alone without a network). With run->bridge (a bridge of the
 * user's): the namespace and a veth on that bridge with run->ip and run->gateway, or none; no address of
 * hyperd's, no rule. With run->tap: the tap is checked, *ret_addr is run->ip's, and nothing is made (runv's
 * monitor hands the tap to the VM).
 */
int container_net_create(struct hyperd *hd, const char *id, const struct container_run *run, char **ret_netns,
                         struct in_addr *ret_addr, char **ret_error);
/* Removes all of the container's network; each step tolerates one already done. */
void container_net_remove(struct hyperd *hd, const char *id);
/* At start: the bridge (netbridge_ensure), then what belongs to containers no longer in the database. */
int container_net_start(struct hyperd *hd);
/* hyperd --remove-network: the bridge, its rules and its state, gone. */
int container_net_destroy(struct hyperd *hd);
