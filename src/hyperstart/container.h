/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The pod (shared folder, namespace-holding init) and container roots. */

#include <stdbool.h>
#include <sys/types.h>

#include "agent.h"
#include "request.h"

#define CONTAINER_DIR "/run/hyper/containers"

struct container {
        struct container *next;
        char *id;
        char *dir;  /* CONTAINER_DIR/<id> */
        char *root; /* CONTAINER_DIR/<id>/root */
        char *hostname;
        /* Masked and read-only paths, applied by the first process once its /proc is mounted. */
        char **masked;
        char **readonly_paths;
        bool mounted;
        /*
         * The container's first process still running: PID 1 of the
         * container's pid namespace and holder of its mount namespace.
         * Later processes join those; 0 when none runs.
         */
        pid_t init_pid;
};

int pod_start(struct agent *a, const char *hostname, const char *share, struct request *req);
int container_create(struct agent *a, struct request *req);
int container_remove(struct agent *a, struct container *c, struct request *req);
struct container *container_find(struct agent *a, const char *id);
void container_free(struct container *c);
bool container_id_valid(const char *id);
