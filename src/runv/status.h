/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A container's record, ROOT/ID/state.json. The monitor writes it
 * (atomically) as the container moves created -> running -> stopped; every
 * other runv command reads it. When the monitor is gone the container is
 * stopped, whatever the record last said: the pid and its start time tell
 * a live monitor from a dead one whose pid was reused.
 */

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

#include "macros.h"

enum runv_status {
        RUNV_CREATING,
        RUNV_CREATED,
        RUNV_RUNNING,
        RUNV_PAUSED,
        RUNV_STOPPED,
};

struct runv_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 with nanoseconds, as runc writes it */
        enum runv_status status;
        pid_t pid;          /* the monitor: the container's process as clients see it */
        uint64_t pid_start; /* its start time in clock ticks since boot */
        int exit_code;      /* -1 until known */
        char *pod;          /* the container whose VM this one joined, or NULL */
        struct json_object *annotations;
};

const char *state_status_to_string(enum runv_status s);
int state_status_from_string(const char *s, enum runv_status *ret);

/* Reads ROOT/ID/state.json; -ENOENT when there is no such container. */
int state_load(const char *id, struct runv_state **ret);
int state_save(const struct runv_state *st);
void state_free(struct runv_state *st);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct runv_state *, state_free)

/* The OCI state document that `runv state` prints. */
struct json_object *state_to_oci(const struct runv_state *st);

int proc_start_time(pid_t pid, uint64_t *ret);
/* The current time in runc's format. */
char *state_now(void);
