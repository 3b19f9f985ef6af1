/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Child processes that die with their owner: each child gets
 * PR_SET_PDEATHSIG(SIGKILL), its own session, default signal handling, and
 * only the fds it is given. A pidfd names the child from then on, so a
 * recycled pid is never signalled by mistake.
 *
 * The death signal follows the thread that forked, not the process: spawn
 * from a thread that lives as long as the VM (the main thread, normally).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct process_spec {
        char *const *argv;  /* argv[0] is the program's path */
        const int *fds;     /* passed as fds 3, 4, ... */
        size_t n_fds;
        int output_fd;      /* stdout and stderr; -1 for /dev/null */
};

/* Starts the program; fails with the child's exec error if it could not run. */
int process_spawn(const struct process_spec *spec, pid_t *ret_pid, int *ret_pidfd);

/* A pidfd for a process this one did not start; -ESRCH if it is gone. */
int process_open(pid_t pid, int *ret_pidfd);

/*
 * Waits up to timeout_ms for the process to end. An owner reaps its child
 * and gets its status (the exit code, or 128 plus the signal); any other
 * process only learns that it ended, with status -1. -ETIMEDOUT if it lives on.
 */
int process_wait(pid_t pid, int pidfd, bool owned, int timeout_ms, int *ret_status);

int process_signal(pid_t pid, int pidfd, int sig);

/* SIGKILL, then wait for the end (and reap, if owned). */
int process_kill_wait(pid_t pid, int pidfd, bool owned);

/* The start time field of /proc/PID/stat: with the pid it names one process for good. */
int process_start_time(pid_t pid, unsigned long long *ret);
