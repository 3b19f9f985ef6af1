/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Processes started by EXEC: spawning, signals, reaping and EXIT events. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"
#include "request.h"

/* What an EXEC request asks for, parsed. */
struct spawn {
        uint32_t id;
        char **args;
        char **env;
        const char *cwd;
        uint32_t uid;
        uint32_t gid;
        uint32_t *groups;
        size_t n_groups;
        bool terminal;
        uint32_t rows;
        uint32_t cols;
        uint32_t sid_in;
        uint32_t sid_out;
        uint32_t sid_err;
};

struct process {
        struct process *next;
        uint32_t id;
        pid_t pid; /* in hyperstart's pid namespace; 0 when nothing runs (fuzzing) */
        struct container *container;
        struct stream_in *in;
        struct stream_out *out;
        struct stream_out *err;
        int pty_fd; /* the pty master for WINSIZE, or -1 */
        bool exited;
        int status; /* exit code, or 128+signal */
};

int process_spawn(struct agent *a, struct container *c, const struct spawn *s, struct request *req);
struct process *process_find(struct agent *a, uint32_t id);
int process_signal(struct process *p, int sig);
int process_winsize(struct process *p, uint16_t rows, uint16_t cols);
/* Reaps every exited child, ours or orphaned, without blocking. */
void process_reap(struct agent *a);
/* Sends EXIT for each exited process whose output streams have sent EOF. */
void process_report_exits(struct agent *a);
void process_free(struct agent *a, struct process *p);
void spawn_done(struct spawn *s);
