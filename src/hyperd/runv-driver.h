/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd drives containers through the runv binary, with a state root of
 * its own: runv's monitor is the per-container process that owns the VM
 * and outlives hyperd (docs/runv.md). Each call runs one runv verb and
 * waits for it; stdin is /dev/null, and stdout and stderr go to the fds
 * given or are collected (bounded) from pipes. The child gets a clean
 * signal mask and dispositions, and none of hyperd's fds.
 */

#include <stdbool.h>
#include <stddef.h>

#include "macros.h"

struct runv_driver {
        const char *runv; /* the binary */
        const char *root; /* --root */
};

struct runv_result {
        int status;      /* the exit status, 128 + signal when killed */
        char *out, *err; /* collected output, NUL-terminated (NULL when sent to an fd) */
        size_t out_len, err_len;
        bool out_truncated, err_truncated;
};

void runv_result_done(struct runv_result *r);

struct runv_call {
        char **args;        /* the verb and its arguments, NULL-terminated */
        int out_fd, err_fd; /* -1: collect into the result */
        size_t max;         /* the most bytes kept of each collected stream */
        int cancel_fd;      /* -1, or an fd whose hang-up (a client gone) sends SIGTERM to runv */
};

/* Runs runv --root ROOT ARGS...; returns 0 once it ran (whatever its status), or a negative errno. */
int runv_driver_run(const struct runv_driver *d, const struct runv_call *call, struct runv_result *ret);

/* The message of a failed call: its stderr without the "runv: " prefix and the trailing newline. */
const char *runv_result_message(struct runv_result *r);

/* Finds runv: $HYPER_RUNV, else ../bin/runv next to /proc/self/exe's folder. */
int runv_driver_find(char **ret);
