/* SPDX-License-Identifier: Apache-2.0 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "fd-util.h"
#include "frame.h"
#include "json-util.h"
#include "socket-util.h"

/* Limits on what one connection holds; the host chooses ids, so these bound only itself. */
#define AGENT_MAX_STREAMS 64
#define AGENT_MAX_WATCHES 64
#define AGENT_MAX_OUTSTANDING 64
/* Stop reading local input while this much is queued for the stream channel. */
#define AGENT_OUT_HIGH_WATER (1024u * 1024u)

enum agent_watch_kind {
        WATCH_CTL,
        WATCH_STREAM,
        WATCH_LOCAL,
        WATCH_EXTRA,
};

struct agent_stream {
        uint32_t id;
        bool output; /* guest to host */
        int fd;
        bool pollable;
        bool is_socket;
        uint32_t events; /* the epoll interest now registered, 0 for none */
        /* host to guest */
        uint64_t credit;
        /* guest to host */
        struct buf pending;
        uint64_t window; /* bytes the guest may still send */
        uint64_t to_grant;
        bool eof;
        bool failed; /* the local fd broke: bytes are dropped here but still credited */
};

struct agent_watch {
        int fd;
        agent_watch_fn fn;
        void *userdata;
        bool deferred; /* disarmed while a call waited for its reply */
};

struct agent_exit {
        uint32_t process;
        int status;
};

struct agent {
        int ctl_fd;
        int stream_fd;
        int epoll_fd;
        uint32_t ctl_events;
        uint32_t stream_events;
        struct frame_reader ctl_in;
        struct frame_reader stream_in;
        struct buf ctl_out;
        struct buf stream_out;
        uint32_t next_id;
        uint32_t next_sid;
        uint32_t outstanding[AGENT_MAX_OUTSTANDING];
        size_t n_outstanding;
        struct agent_stream *streams[AGENT_MAX_STREAMS];
        size_t n_streams;
        struct agent_watch watches[AGENT_MAX_WATCHES];
        size_t n_watches;
        uint32_t wait_id;
        bool have_reply;
        bool in_call; /* agent_call() runs the loop: watches and exits wait */
        struct agent_exit *held_exits; /* EXITs that came while a call ran, oldest first */
        size_t n_held_exits;
        struct json_object *reply;
        char *reply_error;
        agent_exit_fn on_exit;
        void *exit_userdata;
        char *error;
};

static int agent_fail(struct agent *a, const char *fmt, ...) _printf_(2, 3);

static int agent_fail(struct agent *a, const char *fmt, ...)
{
        va_list ap;

        if (!a->error) {
                va_start(ap, fmt);
                if (vasprintf(&a->error, fmt, ap) < 0)
                        a->error = NULL;
                va_end(ap);
                if (!a->error)
                        a->error = strdup("agent connection broken");
        }
        return -EPROTO;
}

static uint64_t agent_watch_key(enum agent_watch_kind kind, size_t index)
{
        return (uint64_t)kind | (uint64_t)index << 8;
}

/* Sets the epoll interest of fd to events (0 removes it), remembering it in *cur. */
static int agent_set_interest(struct agent *a, int fd, uint64_t key, uint32_t *cur, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.u64 = key };
        int op;

        if (*cur == events)
                return 0;
        op = *cur == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
        if (epoll_ctl(a->epoll_fd, op, fd, &ev) < 0)
                return -errno;
        *cur = events;
        return 0;
}

int agent_new(int ctl_fd, int stream_fd, struct agent **ret)
{
        _cleanup_(agent_freep) struct agent *a = NULL;
        int r;

        a = calloc(1, sizeof(*a));
        if (!a) {
                safe_close(ctl_fd);
                safe_close(stream_fd);
                return -ENOMEM;
        }
        a->ctl_fd = ctl_fd;
        a->stream_fd = stream_fd;
        a->next_id = 1;
        a->next_sid = 1;
        a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (a->epoll_fd < 0)
                return -errno;
        r = fd_nonblock(ctl_fd, true);
        if (r >= 0)
                r = fd_nonblock(stream_fd, true);
        if (r >= 0)
                r = agent_set_interest(a, ctl_fd, agent_watch_key(WATCH_CTL, 0), &a->ctl_events, EPOLLIN);
        if (r >= 0)
                r = agent_set_interest(a, stream_fd, agent_watch_key(WATCH_STREAM, 0), &a->stream_events,
                                       EPOLLIN);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}


int agent_connect(const char *ctl_socket, const char *stream_socket, struct agent **ret)
{
        int ctl_fd, stream_fd;

        ctl_fd = socket_connect_unix(ctl_socket, SOCK_STREAM);
        if (ctl_fd < 0)
                return ctl_fd;
        stream_fd = socket_connect_unix(stream_socket, SOCK_STREAM);
        if (stream_fd < 0) {
                safe_close(ctl_fd);
                return stream_fd;
        }
        return agent_new(ctl_fd, stream_fd, ret);
}

static void agent_stream_free(struct agent_stream *s)
{
        if (!s)
                return;
        safe_close(s->fd);
        buf_free(&s->pending);
        free(s);
}

void agent_free(struct agent *a)
{
        if (!a)
                return;
        for (size_t i = 0; i < a->n_streams; i++)
                agent_stream_free(a->streams[i]);  /* accepts NULL */
        safe_close(a->ctl_fd);
        safe_close(a->stream_fd);
        safe_close(a->epoll_fd);
        frame_reader_free(&a->ctl_in);
        frame_reader_free(&a->stream_in);
        buf_free(&a->ctl_out);
        buf_free(&a->stream_out);
        json_object_put(a->reply);
        free(a->reply_error);
        free(a->held_exits);
        free(a->error);
        free(a);
}

int agent_fd(struct agent *a)
{
        return a->epoll_fd;
}

const char *agent_error(struct agent *a)
{
        return a->error;
}

void agent_on_exit(struct agent *a, agent_exit_fn fn, void *userdata)
{
        a->on_exit = fn;
        a->exit_userdata = userdata;
}

int agent_watch(struct agent *a, int fd, agent_watch_fn fn, void *userdata)
{
        struct epoll_event ev = { .events = EPOLLIN };
        size_t i;

        /* Slots of removed watches are reused, so a long-lived loop never runs out. */
        for (i = 0; i < a->n_watches && a->watches[i].fd >= 0; i++)
                ;
        if (i >= AGENT_MAX_WATCHES)
                return -ENOSPC;
        ev.data.u64 = agent_watch_key(WATCH_EXTRA, i);
        if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        a->watches[i] = (struct agent_watch){ .fd = fd, .fn = fn, .userdata = userdata };
        if (i == a->n_watches)
                a->n_watches++;
        return 0;
}

void agent_unwatch(struct agent *a, int fd)
{
        for (size_t i = 0; i < a->n_watches; i++)
                if (a->watches[i].fd == fd) {
                        epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
                        a->watches[i].fd = -1;
                }
}

/* Queues bytes for a channel and asks epoll to say when the socket can take them. */
static int agent_queue(struct agent *a, bool ctl, uint16_t type, uint32_t id, const void *p, size_t len)
{
        int r;

        r = frame_append(ctl ? &a->ctl_out : &a->stream_out, type, id, p, len);
        if (r < 0)
                return r;
        if (ctl)
                return agent_set_interest(a, a->ctl_fd, agent_watch_key(WATCH_CTL, 0), &a->ctl_events,
                                          EPOLLIN | EPOLLOUT);
        return agent_set_interest(a, a->stream_fd, agent_watch_key(WATCH_STREAM, 0), &a->stream_events,
                                  EPOLLIN | EPOLLOUT);
}

static int agent_flush_channel(struct agent *a, bool ctl)
{
        struct buf *out = ctl ? &a->ctl_out : &a->stream_out;
        int fd = ctl ? a->ctl_fd : a->stream_fd;
        uint32_t *cur = ctl ? &a->ctl_events : &a->stream_events;
        uint64_t key = agent_watch_key(ctl ? WATCH_CTL : WATCH_STREAM, 0);

        while (buf_len(out) > 0) {
                ssize_t n = send(fd, buf_head(out), buf_len(out), MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return agent_fail(a, "cannot write to the %s channel: %s", ctl ? "control" : "stream",
                                          strerror(errno));
                }
                buf_consume(out, (size_t)n);
        }
        return agent_set_interest(a, fd, key, cur, EPOLLIN);
}

static struct agent_stream *agent_stream_find(struct agent *a, uint32_t sid)
{
        for (size_t i = 0; i < a->n_streams; i++)
                if (a->streams[i] && a->streams[i]->id == sid)
                        return a->streams[i];
        return NULL;
}

static size_t agent_stream_index(struct agent *a, struct agent_stream *s)
{
        for (size_t i = 0; i < a->n_streams; i++)
                if (a->streams[i] == s)
                        return i;
        return SIZE_MAX;
}

static int agent_stream_interest(struct agent *a, struct agent_stream *s, uint32_t events)
{
        if (!s->pollable || s->fd < 0)
                return 0;
        return agent_set_interest(a, s->fd, agent_watch_key(WATCH_LOCAL, agent_stream_index(a, s)), &s->events,
                                  events);
}

static void agent_stream_close_fd(struct agent *a, struct agent_stream *s)
{
        agent_stream_interest(a, s, 0);
        s->fd = safe_close(s->fd);
}

uint32_t agent_stream_id(struct agent *a)
{
        return a->next_sid++;
}

/*
 * Gives the agent an fd of its own for the caller's fd. Pipes and
 * terminals are reopened through /proc so that O_NONBLOCK is set on a new
 * open file description, never on one the caller shares with others.
 */
static int agent_stream_open_fd(struct agent_stream *s, int fd, int mode)
{
        char path[64];
        struct stat st;
        int nfd;

        if (fstat(fd, &st) < 0)
                return -errno;
        s->is_socket = S_ISSOCK(st.st_mode);
        if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                nfd = open(path, mode | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (nfd >= 0) {
                        s->fd = nfd;
                        return 0;
                }
        }
        nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (nfd < 0)
                return -errno;
        s->fd = nfd;
        return 0;
}

static int agent_stream_add(struct agent *a, uint32_t sid, int fd, bool output)
{
        _cleanup_free_ struct agent_stream *s = NULL;
        struct epoll_event ev = { 0 };
        int r;

        size_t slot;

        if (sid == 0 || agent_stream_find(a, sid))
                return -EEXIST;
        /* Slots are stable (epoll keys name them), and freed ones are reused. */
        for (slot = 0; slot < a->n_streams && a->streams[slot]; slot++)
                ;
        if (slot >= AGENT_MAX_STREAMS)
                return -ENOSPC;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (struct agent_stream){ .id = sid, .output = output, .fd = -1 };
        s->credit = output ? 0 : HYPER_AGENT_INITIAL_CREDIT;
        s->window = output ? HYPER_AGENT_INITIAL_CREDIT : 0;
        r = agent_stream_open_fd(s, fd, output ? O_WRONLY : O_RDONLY);
        if (r < 0)
                return r;
        /* epoll refuses regular files and some devices: those are always ready. */
        s->pollable = epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, s->fd, &ev) >= 0;
        if (s->pollable)
                epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
        else
                fd_nonblock(s->fd, false);
        a->streams[slot] = s;
        if (slot == a->n_streams)
                a->n_streams++;
        return agent_stream_interest(a, TAKE_PTR(s), output ? 0 : EPOLLIN);
}

int agent_stream_input(struct agent *a, uint32_t sid, int fd)
{
        return agent_stream_add(a, sid, fd, false);
}

int agent_stream_output(struct agent *a, uint32_t sid, int fd)
{
        return agent_stream_add(a, sid, fd, true);
}

bool agent_stream_done(struct agent *a, uint32_t sid)
{
        struct agent_stream *s = agent_stream_find(a, sid);

        return !s || (s->eof && buf_len(&s->pending) == 0);
}

void agent_stream_close(struct agent *a, uint32_t sid)
{
        struct agent_stream *s = agent_stream_find(a, sid);

        if (s && !s->output)
                agent_stream_close_fd(a, s);
}

void agent_stream_release(struct agent *a, uint32_t sid)
{
        struct agent_stream *s = agent_stream_find(a, sid);
        size_t i;

        if (!s)
                return;
        i = agent_stream_index(a, s);
        agent_stream_close_fd(a, s);
        agent_stream_free(s);
        a->streams[i] = NULL;
}

static int agent_grant(struct agent *a, struct agent_stream *s, bool force)
{
        uint8_t p[4];
        int r;

        /* Grant in batches, but never let the guest's window run dry while bytes were taken. */
        if (s->to_grant == 0 || s->eof)
                return 0;
        if (!force && s->to_grant < HYPER_AGENT_INITIAL_CREDIT / 4 && s->window >= HYPER_AGENT_INITIAL_CREDIT / 2)
                return 0;
        p[0] = (uint8_t)(s->to_grant >> 24);
        p[1] = (uint8_t)(s->to_grant >> 16);
        p[2] = (uint8_t)(s->to_grant >> 8);
        p[3] = (uint8_t)s->to_grant;
        r = agent_queue(a, false, HYPER_AGENT_CREDIT, s->id, p, sizeof(p));
        if (r < 0)
                return r;
        s->window += s->to_grant;
        s->to_grant = 0;
        return 0;
}

static ssize_t agent_stream_write(struct agent_stream *s)
{
        if (s->is_socket)
                return send(s->fd, buf_head(&s->pending), buf_len(&s->pending), MSG_DONTWAIT | MSG_NOSIGNAL);
        return write(s->fd, buf_head(&s->pending), buf_len(&s->pending));
}

/* Writes what the guest sent out to the local fd, as far as it takes it now. */
static int agent_stream_flush(struct agent *a, struct agent_stream *s)
{
        while (buf_len(&s->pending) > 0) {
                ssize_t n = agent_stream_write(s);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        /* The reader went away: drop, but keep crediting so the guest never stalls. */
                        s->failed = true;
                        n = (ssize_t)buf_len(&s->pending);
                }
                buf_consume(&s->pending, (size_t)n);
                s->to_grant += (uint64_t)n;
        }
        if (s->eof && buf_len(&s->pending) == 0)
                agent_stream_close_fd(a, s);
        else
                agent_stream_interest(a, s, buf_len(&s->pending) > 0 ? EPOLLOUT : 0);
        return agent_grant(a, s, false);
}

/* Reads local input while the guest has granted room for it. */
static int agent_stream_pump(struct agent *a, struct agent_stream *s)
{
        uint8_t tmp[HYPER_AGENT_MAX_DATA];
        int r;

        while (s->fd >= 0 && s->credit > 0 && buf_len(&a->stream_out) < AGENT_OUT_HIGH_WATER) {
                ssize_t n = read(s->fd, tmp, MIN(sizeof(tmp), s->credit));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        agent_stream_close_fd(a, s);
                        return agent_queue(a, false, HYPER_AGENT_EOF, s->id, NULL, 0);
                }
                r = agent_queue(a, false, HYPER_AGENT_DATA, s->id, tmp, (size_t)n);
                if (r < 0)
                        return r;
                s->credit -= (uint64_t)n;
                if (!s->pollable)
                        break;
        }
        return agent_stream_interest(a, s, s->credit > 0 ? EPOLLIN : 0);
}

static int agent_on_data(struct agent *a, struct agent_stream *s, const uint8_t *p, uint32_t len)
{
        int r;

        if (!s->output)
                return agent_fail(a, "guest sent DATA on input stream %u", s->id);
        if (s->eof)
                return agent_fail(a, "guest sent DATA after EOF on stream %u", s->id);
        if (len > s->window)
                return agent_fail(a, "guest sent %u bytes on stream %u beyond its credit of %llu", len, s->id,
                                  (unsigned long long)s->window);
        s->window -= len;
        if (s->failed) {
                s->to_grant += len;
                return agent_grant(a, s, false);
        }
        r = buf_append(&s->pending, p, len);
        if (r < 0)
                return r;
        return agent_stream_flush(a, s);
}

static int agent_on_credit(struct agent *a, struct agent_stream *s, const uint8_t *p, uint32_t len)
{
        uint32_t n;

        if (s->output || len != 4)
                return agent_fail(a, "guest sent a bad CREDIT on stream %u", s->id);
        n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (s->credit + n > HYPER_AGENT_MAX_CREDIT)
                return agent_fail(a, "guest granted more credit than allowed on stream %u", s->id);
        s->credit += n;
        if (s->fd < 0)
                return 0;
        return s->pollable ? agent_stream_interest(a, s, EPOLLIN) : 0;
}

static int agent_on_stream_frame(struct agent *a, const struct hyper_agent_header *h, const uint8_t *p)
{
        struct agent_stream *s = agent_stream_find(a, h->id);

        /* A released stream may still get the CREDIT or EOF that was on its way. */
        if (!s && h->id != 0 && h->id < a->next_sid && h->type != HYPER_AGENT_DATA)
                return 0;
        if (!s)
                return agent_fail(a, "guest sent %s for unknown stream %u", frame_type_name(h->type), h->id);
        switch (h->type) {
        case HYPER_AGENT_DATA:
                return agent_on_data(a, s, p, h->length);
        case HYPER_AGENT_CREDIT:
                return agent_on_credit(a, s, p, h->length);
        case HYPER_AGENT_EOF:
                /* From the reader of an input stream, EOF means it takes no more. */
                if (!s->output) {
                        agent_stream_close_fd(a, s);
                        return 0;
                }
                s->eof = true;
                return agent_stream_flush(a, s);
        default:
                return agent_fail(a, "guest sent %s on the stream channel", frame_type_name(h->type));
        }
}

static bool agent_take_outstanding(struct agent *a, uint32_t id)
{
        for (size_t i = 0; i < a->n_outstanding; i++)
                if (a->outstanding[i] == id) {
                        a->outstanding[i] = a->outstanding[--a->n_outstanding];
                        return true;
                }
        return false;
}

static int agent_parse_body(struct agent *a, const uint8_t *p, uint32_t len, struct json_object **ret)
{
        if (len == 0) {
                *ret = json_object_new_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (json_parse_object((const char *)p, len, ret) < 0)
                return agent_fail(a, "guest sent a body that is not a JSON object");
        return 0;
}

static int agent_on_reply(struct agent *a, const struct hyper_agent_header *h, struct json_object *body)
{
        struct json_object *msg;

        if (!agent_take_outstanding(a, h->id))
                return agent_fail(a, "guest replied to request %u, which is not outstanding", h->id);
        if (h->id != a->wait_id)
                return 0;
        a->have_reply = true;
        if (h->type == HYPER_AGENT_ERROR) {
                const char *s = json_object_object_get_ex(body, "error", &msg) ? json_object_get_string(msg) : NULL;
                a->reply_error = strdup(s ? s : "the guest gave no reason");
                return 0;
        }
        a->reply = json_object_get(body);
        return 0;
}

static int agent_on_exit_event(struct agent *a, struct json_object *body)
{
        struct json_object *proc, *status;
        int64_t pid, code;

        if (!json_object_object_get_ex(body, "process", &proc) || !json_object_is_type(proc, json_type_int) ||
            !json_object_object_get_ex(body, "status", &status) || !json_object_is_type(status, json_type_int))
                return agent_fail(a, "guest sent an EXIT without process and status");
        pid = json_object_get_int64(proc);
        code = json_object_get_int64(status);
        if (pid <= 0 || pid > UINT32_MAX || code < 0 || code > 255)
                return agent_fail(a, "guest sent an EXIT with values out of range");
        if (!a->on_exit)
                return 0;
        if (a->in_call) {
                /*
                 * A short process's EXIT comes in the same read as the reply
                 * that started it: its caller learns of the process only once
                 * the call returns. It is held until then, as watches are.
                 */
                struct agent_exit *e = reallocarray(a->held_exits, a->n_held_exits + 1, sizeof(*e));
                if (!e)
                        return -ENOMEM;
                a->held_exits = e;
                a->held_exits[a->n_held_exits++] = (struct agent_exit){ (uint32_t)pid, (int)code };
                return 0;
        }
        a->on_exit(a, (uint32_t)pid, (int)code, a->exit_userdata);
        return 0;
}

/* The EXITs held while a call ran, handed out in the order they came; true when there were any. */
bool agent_deliver_held_exits(struct agent *a)
{
        _cleanup_free_ struct agent_exit *held = NULL;
        size_t n = a->n_held_exits;

        if (n == 0 || a->in_call)
                return false;
        /* Taken first: a handler that made a call would hold new ones of its own. */
        held = TAKE_PTR(a->held_exits);
        a->n_held_exits = 0;
        for (size_t i = 0; i < n; i++)
                if (a->on_exit)
                        a->on_exit(a, held[i].process, held[i].status, a->exit_userdata);
        return true;
}

static int agent_on_ctl_frame(struct agent *a, const struct hyper_agent_header *h, const uint8_t *p)
{
        _cleanup_(json_object_putp) struct json_object *body = NULL;
        int r;

        if (h->type != HYPER_AGENT_REPLY && h->type != HYPER_AGENT_ERROR && h->type != HYPER_AGENT_EXIT)
                return agent_fail(a, "guest sent %s on the control channel", frame_type_name(h->type));
        r = agent_parse_body(a, p, h->length, &body);
        if (r < 0)
                return r;
        if (h->type == HYPER_AGENT_EXIT)
                return agent_on_exit_event(a, body);
        return agent_on_reply(a, h, body);
}

int agent_feed(struct agent *a, bool ctl, const void *data, size_t len)
{
        struct frame_reader *rd = ctl ? &a->ctl_in : &a->stream_in;
        struct hyper_agent_header h;
        const uint8_t *payload;
        const char *reason;
        int r;

        r = frame_reader_feed(rd, data, len);
        if (r < 0)
                return r;
        while (!a->error) {
                enum frame_result fr = frame_reader_next(rd, &h, &payload, &reason);
                if (fr == FRAME_NONE)
                        break;
                if (fr == FRAME_REJECTED)
                        return agent_fail(a, "guest sent a bad frame (%s, type 0x%x)", reason, h.type);
                r = ctl ? agent_on_ctl_frame(a, &h, payload) : agent_on_stream_frame(a, &h, payload);
                if (r < 0)
                        return r;
        }
        return a->error ? -EPROTO : 0;
}

static int agent_read_channel(struct agent *a, bool ctl)
{
        uint8_t tmp[64 * 1024];
        ssize_t n;

        n = read(ctl ? a->ctl_fd : a->stream_fd, tmp, sizeof(tmp));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n < 0)
                return agent_fail(a, "cannot read the %s channel: %s", ctl ? "control" : "stream", strerror(errno));
        if (n == 0)
                return agent_fail(a, "the guest closed the %s channel", ctl ? "control" : "stream");
        return agent_feed(a, ctl, tmp, (size_t)n);
}

static int agent_dispatch(struct agent *a, const struct epoll_event *ev)
{
        enum agent_watch_kind kind = (enum agent_watch_kind)(ev->data.u64 & 0xff);
        size_t index = (size_t)(ev->data.u64 >> 8);
        int r = 0;

        switch (kind) {
        case WATCH_CTL:
        case WATCH_STREAM:
                if (ev->events & EPOLLOUT)
                        r = agent_flush_channel(a, kind == WATCH_CTL);
                if (r >= 0 && (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                        r = agent_read_channel(a, kind == WATCH_CTL);
                return r;
        case WATCH_LOCAL:
                if (index >= a->n_streams || !a->streams[index])
                        return 0;
                if (a->streams[index]->output)
                        return agent_stream_flush(a, a->streams[index]);
                return agent_stream_pump(a, a->streams[index]);
        case WATCH_EXTRA:
                if (index >= a->n_watches || a->watches[index].fd < 0)
                        return 0;
                if (a->in_call) {
                        /*
                         * A call waits for its reply: a watch's handler could
                         * make a call of its own (a monitor's client asking for
                         * an exec), and calls do not nest. It waits, disarmed.
                         */
                        struct epoll_event off = { .events = 0, .data.u64 = ev->data.u64 };

                        epoll_ctl(a->epoll_fd, EPOLL_CTL_MOD, a->watches[index].fd, &off);
                        a->watches[index].deferred = true;
                        return 0;
                }
                a->watches[index].fn(a, a->watches[index].fd, a->watches[index].userdata);
                return 0;
        }
        return 0;
}

/* Inputs epoll cannot watch (regular files, /dev/null) are read whenever they have credit. */
static bool agent_pump_unpollable(struct agent *a, int *ret)
{
        bool more = false;

        *ret = 0;
        for (size_t i = 0; i < a->n_streams && *ret >= 0; i++) {
                struct agent_stream *s = a->streams[i];
                if (!s || s->output || s->pollable || s->fd < 0 || s->credit == 0)
                        continue;
                if (buf_len(&a->stream_out) >= AGENT_OUT_HIGH_WATER)
                        return false;
                *ret = agent_stream_pump(a, s);
                more = more || (s->fd >= 0 && s->credit > 0);
        }
        return more;
}

int agent_process(struct agent *a, int timeout_ms)
{
        struct epoll_event evs[16];
        bool ready;
        int n, r;

        /* Held exits are news for the caller: it hears of them before anything waits, broken or not. */
        if (agent_deliver_held_exits(a))
                timeout_ms = 0;
        if (a->error)
                return -EPROTO;
        ready = agent_pump_unpollable(a, &r);
        if (r < 0)
                return r;
        n = epoll_wait(a->epoll_fd, evs, ARRAY_SIZE(evs), ready ? 0 : timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        for (int i = 0; i < n && !a->error; i++) {
                r = agent_dispatch(a, &evs[i]);
                if (r < 0 && !a->error)
                        return r;
        }
        if (!a->error)
                agent_flush_channel(a, true);
        if (!a->error)
                agent_flush_channel(a, false);
        return a->error ? -EPROTO : 0;
}

static int agent_send_id(struct agent *a, uint16_t type, struct json_object *body, uint32_t *ret_id)
{
        const char *s = "{}";
        size_t len = 2;
        uint32_t id;
        int r;

        if (a->error)
                return -EPROTO;
        if (a->n_outstanding >= AGENT_MAX_OUTSTANDING)
                return -EBUSY;
        if (body)
                s = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
        if (!s)
                return -ENOMEM;
        id = a->next_id++;
        r = agent_queue(a, true, type, id, s, len);
        if (r < 0)
                return r;
        a->outstanding[a->n_outstanding++] = id;
        if (ret_id)
                *ret_id = id;
        return agent_flush_channel(a, true);
}

int agent_send(struct agent *a, uint16_t type, struct json_object *body)
{
        return agent_send_id(a, type, body, NULL);
}

static int64_t agent_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The watches a call held back, armed again. */
static void agent_rearm_watches(struct agent *a)
{
        for (size_t i = 0; i < a->n_watches; i++) {
                struct epoll_event on = { .events = EPOLLIN, .data.u64 = agent_watch_key(WATCH_EXTRA, i) };

                if (!a->watches[i].deferred)
                        continue;
                a->watches[i].deferred = false;
                if (a->watches[i].fd >= 0)
                        epoll_ctl(a->epoll_fd, EPOLL_CTL_MOD, a->watches[i].fd, &on);
        }
}

static int agent_call_wait(struct agent *a, uint16_t type, struct json_object *body, int timeout_ms,
                           struct json_object **ret_reply, char **ret_error);

int agent_call(struct agent *a, uint16_t type, struct json_object *body, int timeout_ms,
               struct json_object **ret_reply, char **ret_error)
{
        bool outer = !a->in_call;
        int r;

        a->in_call = true;
        r = agent_call_wait(a, type, body, timeout_ms, ret_reply, ret_error);
        if (outer) {
                a->in_call = false;
                agent_rearm_watches(a);
        }
        return r;
}

static int agent_call_wait(struct agent *a, uint16_t type, struct json_object *body, int timeout_ms,
                           struct json_object **ret_reply, char **ret_error)
{
        int64_t deadline = agent_now_ms() + timeout_ms;
        int r;

        r = agent_send_id(a, type, body, &a->wait_id);
        if (r < 0)
                return r;
        a->have_reply = false;
        while (!a->have_reply) {
                int64_t left = deadline - agent_now_ms();
                if (timeout_ms >= 0 && left <= 0) {
                        a->wait_id = 0;
                        return -ETIMEDOUT;
                }
                r = agent_process(a, timeout_ms < 0 ? -1 : (int)left);
                if (r < 0)
                        return r;
        }
        a->wait_id = 0;
        if (a->reply_error) {
                if (ret_error)
                        *ret_error = TAKE_PTR(a->reply_error);
                free(TAKE_PTR(a->reply_error));
                return -EREMOTEIO;
        }
        if (ret_reply)
                *ret_reply = TAKE_PTR(a->reply);
        json_object_put(TAKE_PTR(a->reply));
        return 0;
}

int agent_hello(struct agent *a, int timeout_ms, char **ret_kernel, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = NULL, *reply = NULL;
        struct json_object *v;
        int r;

        req = json_object_new_object();
        if (!req || json_object_object_add(req, "version", json_object_new_int(HYPER_AGENT_VERSION)) < 0)
                return -ENOMEM;
        r = agent_call(a, HYPER_AGENT_HELLO, req, timeout_ms, &reply, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(reply, "version", &v) || json_object_get_int(v) != HYPER_AGENT_VERSION) {
                if (ret_error)
                        *ret_error = strdup("the guest agent speaks another protocol version");
                return -EPROTONOSUPPORT;
        }
        if (ret_kernel && json_object_object_get_ex(reply, "kernel", &v))
                *ret_kernel = strdup(json_object_get_string(v));
        return 0;
}
