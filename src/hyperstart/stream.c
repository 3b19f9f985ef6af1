/* SPDX-License-Identifier: Apache-2.0 */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "fd-util.h"
#include "log.h"
#include "macros.h"

int stream_out_new(struct agent *a, uint32_t id, int fd, struct stream_out **ret)
{
        struct stream_out *s;
        int r;

        r = fd_nonblock(fd, true);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        s->watch = (struct watch){ .kind = WATCH_STREAM_OUT, .object = s, .fd = fd };
        s->id = id;
        s->credit = HYPER_AGENT_INITIAL_CREDIT;
        s->next = a->outs;
        a->outs = s;
        *ret = s;
        return 0;
}

int stream_in_new(struct agent *a, uint32_t id, int fd, struct stream_in **ret)
{
        struct stream_in *s;
        int r;

        r = fd_nonblock(fd, true);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        s->watch = (struct watch){ .kind = WATCH_STREAM_IN, .object = s, .fd = fd };
        s->id = id;
        s->window = HYPER_AGENT_INITIAL_CREDIT;
        s->next = a->ins;
        a->ins = s;
        *ret = s;
        return 0;
}

struct stream_out *stream_out_find(struct agent *a, uint32_t id)
{
        for (struct stream_out *s = a->outs; s; s = s->next)
                if (s->id == id)
                        return s;
        return NULL;
}

struct stream_in *stream_in_find(struct agent *a, uint32_t id)
{
        for (struct stream_in *s = a->ins; s; s = s->next)
                if (s->id == id)
                        return s;
        return NULL;
}

static void stream_close(struct agent *a, struct watch *w)
{
        agent_unwatch(a, w);
        w->fd = safe_close(w->fd);
}

void stream_out_free(struct agent *a, struct stream_out *s)
{
        struct stream_out **p;

        if (!s)
                return;
        for (p = &a->outs; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        stream_close(a, &s->watch);
        free(s);
}

void stream_in_free(struct agent *a, struct stream_in *s)
{
        struct stream_in **p;

        if (!s)
                return;
        for (p = &a->ins; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        stream_close(a, &s->watch);
        buf_free(&s->queue);
        free(s);
}

static void stream_out_update(struct agent *a, struct stream_out *s)
{
        bool want = s->watch.fd >= 0 && s->credit > 0 && !agent_stream_congested(a);

        (void)agent_watch(a, &s->watch, want ? EPOLLIN : 0);
}

/* The source is done: EOF goes out after everything read before it. */
static void stream_out_finish(struct agent *a, struct stream_out *s)
{
        stream_close(a, &s->watch);
        if (s->eof_queued)
                return;
        if (agent_send(a, &a->stream, HYPER_AGENT_EOF, s->id, NULL, 0) < 0)
                return;
        s->eof_queued = true;
        s->eof_end = a->stream.queued;
}

void stream_out_pump(struct agent *a, struct stream_out *s)
{
        uint8_t data[HYPER_AGENT_MAX_DATA];

        if (!s)
                return;
        while (s->watch.fd >= 0 && s->credit > 0 && !agent_stream_congested(a)) {
                ssize_t n = read(s->watch.fd, data, MIN((size_t)s->credit, sizeof(data)));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        /* Grandchildren may hold the pipe open forever: do not wait for them. */
                        if (s->source_exited)
                                stream_out_finish(a, s);
                        break;
                }
                /* EOF, or EIO from a pty whose other side is closed. */
                if (n <= 0) {
                        stream_out_finish(a, s);
                        break;
                }
                if (agent_send(a, &a->stream, HYPER_AGENT_DATA, s->id, data, (size_t)n) < 0)
                        break;
                s->credit -= (uint32_t)n;
        }
        stream_out_update(a, s);
}

void stream_out_pump_all(struct agent *a)
{
        for (struct stream_out *s = a->outs; s; s = s->next)
                stream_out_pump(a, s);
}

void stream_out_source_exited(struct agent *a, struct stream_out *s)
{
        if (!s)
                return;
        s->source_exited = true;
        stream_out_pump(a, s);
}

bool stream_out_done(const struct agent *a, const struct stream_out *s)
{
        if (!s)
                return true;
        return s->eof_queued && a->stream.written >= s->eof_end;
}

static void stream_in_grant(struct agent *a, struct stream_in *s, size_t n)
{
        uint8_t be[4];

        if (n == 0)
                return;
        s->window += (uint32_t)n;
        be[0] = (uint8_t)(n >> 24);
        be[1] = (uint8_t)(n >> 16);
        be[2] = (uint8_t)(n >> 8);
        be[3] = (uint8_t)n;
        (void)agent_send(a, &a->stream, HYPER_AGENT_CREDIT, s->id, be, sizeof(be));
}

/*
 * The process closed its stdin (or exited): what the host sends now is
 * dropped but still acknowledged, and an EOF from us as the reader tells
 * the host to stop sending.
 */
static size_t stream_in_break(struct agent *a, struct stream_in *s)
{
        size_t n = buf_len(&s->queue);

        buf_consume(&s->queue, n);
        stream_close(a, &s->watch);
        if (!s->eof && !s->eof_sent && agent_send(a, &a->stream, HYPER_AGENT_EOF, s->id, NULL, 0) >= 0) {
                s->eof_sent = true;
                s->eof_end = a->stream.queued;
        }
        return n;
}

bool stream_in_done(const struct agent *a, const struct stream_in *s)
{
        return !s || !s->eof_sent || a->stream.written >= s->eof_end;
}

void stream_in_reader_exited(struct agent *a, struct stream_in *s)
{
        if (!s)
                return;
        stream_in_grant(a, s, stream_in_break(a, s));
}

void stream_in_pump(struct agent *a, struct stream_in *s)
{
        size_t done = 0;

        while (buf_len(&s->queue) > 0) {
                ssize_t n;

                if (s->watch.fd < 0) {
                        done += stream_in_break(a, s);
                        break;
                }
                n = write(s->watch.fd, buf_head(&s->queue), buf_len(&s->queue));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0) {
                        done += stream_in_break(a, s);
                        break;
                }
                buf_consume(&s->queue, (size_t)n);
                done += (size_t)n;
        }
        stream_in_grant(a, s, done);
        if (s->eof && buf_len(&s->queue) == 0)
                stream_close(a, &s->watch);
        (void)agent_watch(a, &s->watch, buf_len(&s->queue) > 0 ? EPOLLOUT : 0);
}

void stream_handle_event(struct agent *a, struct watch *w, uint32_t events)
{
        if (w->kind == WATCH_STREAM_OUT)
                stream_out_pump(a, w->object);
        else
                stream_in_pump(a, w->object);
}

static void stream_on_data(struct agent *a, const struct hyper_agent_header *h, const uint8_t *payload)
{
        struct stream_in *s = stream_in_find(a, h->id);

        if (!s) {
                log_warning("DATA for unknown input stream %u dropped", h->id);
                return;
        }
        if (s->eof) {
                log_warning("DATA after EOF on stream %u dropped", h->id);
                return;
        }
        if (h->length == 0 || h->length > s->window) {
                log_warning("DATA of %u bytes on stream %u rejected: window is %u", h->length, h->id,
                            s->window);
                return;
        }
        s->window -= h->length;
        if (buf_append(&s->queue, payload, h->length) < 0) {
                /* Never reached within the window; if it is, the host still gets its credit back. */
                log_error("Out of memory queueing stdin of stream %u; bytes dropped", h->id);
                stream_in_grant(a, s, h->length);
                return;
        }
        stream_in_pump(a, s);
}

static void stream_on_credit(struct agent *a, const struct hyper_agent_header *h, const uint8_t *payload)
{
        struct stream_out *s = stream_out_find(a, h->id);
        uint32_t n;

        /* The host grants credit for the last DATA of a stream that has ended since: no news. */
        if (!s) {
                log_debug("CREDIT for unknown output stream %u dropped", h->id);
                return;
        }
        if (h->length != 4) {
                log_warning("CREDIT on stream %u with a %u-byte payload rejected", h->id, h->length);
                return;
        }
        n = (uint32_t)payload[0] << 24 | (uint32_t)payload[1] << 16 | (uint32_t)payload[2] << 8 | payload[3];
        if (n > HYPER_AGENT_MAX_CREDIT - s->credit) {
                log_warning("CREDIT on stream %u beyond the maximum; clamped", h->id);
                n = HYPER_AGENT_MAX_CREDIT - s->credit;
        }
        s->credit += n;
        stream_out_pump(a, s);
}

static void stream_on_eof(struct agent *a, const struct hyper_agent_header *h)
{
        struct stream_in *s = stream_in_find(a, h->id);

        if (!s) {
                log_warning("EOF for unknown input stream %u dropped", h->id);
                return;
        }
        s->eof = true;
        stream_in_pump(a, s);
}

void stream_dispatch(struct agent *a, const struct hyper_agent_header *h, const uint8_t *payload)
{
        switch (h->type) {
        case HYPER_AGENT_DATA:
                stream_on_data(a, h, payload);
                break;
        case HYPER_AGENT_CREDIT:
                stream_on_credit(a, h, payload);
                break;
        case HYPER_AGENT_EOF:
                stream_on_eof(a, h);
                break;
        default:
                log_warning("Frame type 0x%x on the stream channel dropped", h->type);
        }
}
