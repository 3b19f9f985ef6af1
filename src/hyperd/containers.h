/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd's containers (containers.c, container-create.c): made, queried,
 * signalled, waited for and removed through runv (runv-driver.h). Every
 * function reads what it needs from the database and runv's state root,
 * so it works the same in a hyperd started after the container was.
 */

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
