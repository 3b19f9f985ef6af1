/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The core of hyperstart: the request dispatcher and the stream engine over
 * a pair of fds (the control and stream channels). It does no I/O setup of
 * its own, so unit tests drive it over socketpairs and the fuzzer feeds it
 * bytes directly; main.c adds what only a guest PID 1 does.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "frame.h"

struct blockdev_wait;
struct container;
struct process;
struct stream_in;
struct stream_out;

enum watch_kind {
        WATCH_CHANNEL,
        WATCH_STREAM_OUT,
        WATCH_STREAM_IN,
};

/* Anything the event loop polls: epoll's data points at one of these. */
struct watch {
        enum watch_kind kind;
        void *object;
        int fd;
        uint32_t events; /* what epoll watches now; 0 when not registered */
};

struct channel {
        struct watch watch;
        const char *name;
        struct frame_reader reader;
        struct buf out;
        /* Bytes ever queued and written: they order EXIT after EOF. */
        uint64_t queued;
        uint64_t written;
        bool hangup; /* the host is not connected: poll again later */
        bool active; /* bytes came since the last hangup: worth a log line when it goes */
};

struct agent_options {
        /* Mounts, namespaces, chroot and identity changes (false in unit tests). */
        bool sandbox;
        /* Starting processes (false when fuzzing: EXEC makes streams only). */
        bool spawn;
        /* Return from agent_run() when a channel hangs up instead of waiting. */
        bool exit_on_hangup;
};

struct pod {
        bool started;
        pid_t init_pid; /* holds the pod's pid, ipc and uts namespaces */
};

struct agent {
        struct agent_options opts;
        int epoll_fd;
        struct channel ctl;
        struct channel stream;
        bool hello_done;
        bool quit;
        bool poweroff;
        struct pod pod;
        struct container *containers;
        struct process *processes;
        struct stream_out *outs;
        struct stream_in *ins;
        struct blockdev_wait *blockdev_waits; /* MOUNTs whose disk has not appeared yet */
        unsigned n_containers;
        unsigned n_processes;
};

/* Takes ownership of both fds; they are made non-blocking. */
int agent_new(const struct agent_options *opts, int ctl_fd, int stream_fd, struct agent **ret);
struct agent *agent_free(struct agent *a);
/* Runs until POWEROFF (or a hangup with exit_on_hangup); returns 0 then. */
int agent_run(struct agent *a);

/* Feeds bytes as if read from a channel, and acts on every whole frame. */
void agent_input(struct agent *a, struct channel *ch, const void *data, size_t len);
/* Writes what the channels hold, as far as they take it now. */
void agent_flush(struct agent *a);

int agent_watch(struct agent *a, struct watch *w, uint32_t events);
void agent_unwatch(struct agent *a, struct watch *w);
int agent_send(struct agent *a, struct channel *ch, uint16_t type, uint32_t id, const void *p, size_t len);
/* True while the stream channel holds so much that pipes should wait. */
bool agent_stream_congested(const struct agent *a);
