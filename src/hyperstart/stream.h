/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The stream engine: stdio of processes relayed over the stream channel
 * with the credit-based flow control of agent-proto.h. An output stream
 * reads a pipe (or pty) and sends DATA only within the credit the host
 * granted; an input stream queues DATA within the window it granted and
 * grants credit back as the bytes go into the process.
 */

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"

struct stream_out {
        struct watch watch;
        struct stream_out *next;
        uint32_t id;
        uint32_t credit;    /* bytes we may still send */
        bool source_exited; /* the process exited: an empty pipe now means done */
        bool eof_queued;
        uint64_t eof_end;   /* stream channel offset just past our EOF frame */
};

struct stream_in {
        struct watch watch;
        struct stream_in *next;
        uint32_t id;
        struct buf queue;
        uint32_t window; /* bytes the host may still send */
        bool eof;        /* the host sent EOF: close once the queue drains */
        bool eof_sent;   /* we sent EOF as the reader: the process takes no more */
        uint64_t eof_end; /* stream channel offset just past that EOF */
};

/* Both take ownership of fd, also on failure. */
int stream_out_new(struct agent *a, uint32_t id, int fd, struct stream_out **ret);
int stream_in_new(struct agent *a, uint32_t id, int fd, struct stream_in **ret);
struct stream_out *stream_out_find(struct agent *a, uint32_t id);
struct stream_in *stream_in_find(struct agent *a, uint32_t id);
void stream_out_free(struct agent *a, struct stream_out *s);
void stream_in_free(struct agent *a, struct stream_in *s);

void stream_out_pump(struct agent *a, struct stream_out *s);
void stream_out_pump_all(struct agent *a);
void stream_in_pump(struct agent *a, struct stream_in *s);
void stream_out_source_exited(struct agent *a, struct stream_out *s);
/* The process exited: what it did not read is dropped and the host told to stop. */
void stream_in_reader_exited(struct agent *a, struct stream_in *s);
/* True once the stream's EOF has been written to the channel (or it has none). */
bool stream_out_done(const struct agent *a, const struct stream_out *s);

/* True unless our EOF as the reader is still waiting in the channel's queue. */
bool stream_in_done(const struct agent *a, const struct stream_in *s);

void stream_handle_event(struct agent *a, struct watch *w, uint32_t events);
/* Handles one frame from the stream channel. */
void stream_dispatch(struct agent *a, const struct hyper_agent_header *h, const uint8_t *payload);
