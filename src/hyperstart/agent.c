/* SPDX-License-Identifier: Apache-2.0 */
#include "blockdev.h"
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include "container.h"
#include "fd-util.h"
#include "log.h"
#include "process.h"
#include "request.h"
#include "stream.h"

/*
 * The stream channel's queue may hold this much before pipes stop being
 * read; the control channel's before requests stop being read. Both only
 * grow while the host does not read, so they bound what it can make us hold.
 */
#define AGENT_STREAM_HIGH (1024u * 1024u)
#define AGENT_CTL_HIGH (4u * 1024u * 1024u)
/* How often a hung-up channel is tried again (the host may connect later). */
#define AGENT_RETRY_MS 100

static volatile sig_atomic_t agent_sigchld;

static void agent_on_sigchld(int sig)
{
        agent_sigchld = 1;
}

static void channel_init(struct channel *ch, const char *name, int fd)
{
        ch->watch = (struct watch){ .kind = WATCH_CHANNEL, .object = ch, .fd = fd };
        ch->name = name;
}

int agent_new(const struct agent_options *opts, int ctl_fd, int stream_fd, struct agent **ret)
{
        struct agent *a;
        int r;

        a = calloc(1, sizeof(*a));
        if (!a) {
                safe_close(ctl_fd);
                safe_close(stream_fd);
                return -ENOMEM;
        }
        a->opts = *opts;
        channel_init(&a->ctl, "control", ctl_fd);
        channel_init(&a->stream, "stream", stream_fd);
        a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (a->epoll_fd < 0) {
                r = -errno;
                agent_free(a);
                return r;
        }
        /* Channels in tests may be pipes or /dev/null: non-blocking is best effort. */
        (void)fd_nonblock(ctl_fd, true);
        (void)fd_nonblock(stream_fd, true);
        *ret = a;
        return 0;
}

static void channel_done(struct channel *ch)
{
        frame_reader_free(&ch->reader);
        buf_free(&ch->out);
        ch->watch.fd = safe_close(ch->watch.fd);
}

struct agent *agent_free(struct agent *a)
{
        if (!a)
                return NULL;
        while (a->processes)
                process_free(a, a->processes);
        while (a->outs)
                stream_out_free(a, a->outs);
        while (a->ins)
                stream_in_free(a, a->ins);
        blockdev_waits_free(a);
        while (a->containers) {
                struct container *c = a->containers;
                a->containers = c->next;
                container_free(c);
        }
        channel_done(&a->ctl);
        channel_done(&a->stream);
        safe_close(a->epoll_fd);
        free(a);
        return NULL;
}

int agent_watch(struct agent *a, struct watch *w, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };
        int op;

        if (w->fd < 0 || events == w->events)
                return 0;
        if (events == 0) {
                agent_unwatch(a, w);
                return 0;
        }
        op = w->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (epoll_ctl(a->epoll_fd, op, w->fd, &ev) < 0)
                return log_warning_errno(errno, "Cannot watch fd %d", w->fd);
        w->events = events;
        return 0;
}

void agent_unwatch(struct agent *a, struct watch *w)
{
        if (w->events != 0 && w->fd >= 0)
                (void)epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
        w->events = 0;
}

bool agent_stream_congested(const struct agent *a)
{
        return buf_len(&a->stream.out) >= AGENT_STREAM_HIGH;
}

static void channel_update(struct agent *a, struct channel *ch)
{
        uint32_t events = EPOLLIN;

        if (ch->hangup)
                return;
        if (ch == &a->ctl && buf_len(&ch->out) >= AGENT_CTL_HIGH)
                events = 0;
        if (buf_len(&ch->out) > 0)
                events |= EPOLLOUT;
        (void)agent_watch(a, &ch->watch, events);
}

int agent_send(struct agent *a, struct channel *ch, uint16_t type, uint32_t id, const void *p, size_t len)
{
        int r;

        r = frame_append(&ch->out, type, id, p, len);
        if (r < 0)
                return log_warning_errno(r, "Cannot queue %s frame", frame_type_name(type));
        ch->queued += HYPER_AGENT_HEADER_SIZE + len;
        return 0;
}

static void channel_hangup(struct agent *a, struct channel *ch)
{
        if (a->opts.exit_on_hangup) {
                a->quit = true;
                return;
        }
        if (ch->active)
                log_info("Host left the %s channel; polling until it is back", ch->name);
        ch->active = false;
        /* A new connection starts at a frame boundary. */
        frame_reader_free(&ch->reader);
        agent_unwatch(a, &ch->watch);
        ch->hangup = true;
}

/* Writes what a channel holds; returns true when anything was written. */
static bool channel_flush(struct agent *a, struct channel *ch)
{
        bool progress = false;

        while (buf_len(&ch->out) > 0 && ch->watch.fd >= 0) {
                ssize_t n = write(ch->watch.fd, buf_head(&ch->out), buf_len(&ch->out));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        if (errno != EAGAIN)
                                channel_hangup(a, ch);
                        break;
                }
                buf_consume(&ch->out, (size_t)n);
                ch->written += (uint64_t)n;
                progress = true;
        }
        return progress;
}

void agent_flush(struct agent *a)
{
        bool was_congested = agent_stream_congested(a);

        channel_flush(a, &a->ctl);
        channel_flush(a, &a->stream);
        if (was_congested && !agent_stream_congested(a))
                stream_out_pump_all(a);
        /* An EXIT may go out only now that the EOFs before it were written. */
        process_report_exits(a);
        channel_flush(a, &a->ctl);
        channel_update(a, &a->ctl);
        channel_update(a, &a->stream);
}

void agent_input(struct agent *a, struct channel *ch, const void *data, size_t len)
{
        struct hyper_agent_header h;
        const uint8_t *payload;
        const char *reason;
        enum frame_result fr;

        if (frame_reader_feed(&ch->reader, data, len) < 0) {
                log_error("Out of memory reading the %s channel; resetting it", ch->name);
                frame_reader_free(&ch->reader);
                return;
        }
        while (!a->quit && (fr = frame_reader_next(&ch->reader, &h, &payload, &reason)) != FRAME_NONE) {
                if (fr == FRAME_REJECTED) {
                        log_warning("Rejected %s frame type 0x%x id %u length %u: %s", ch->name,
                                    h.type, h.id, h.length, reason);
                        if (ch == &a->ctl)
                                request_reject(a, &h, reason);
                } else if (ch == &a->ctl) {
                        request_dispatch(a, &h, payload);
                } else {
                        stream_dispatch(a, &h, payload);
                }
        }
}

static void channel_read(struct agent *a, struct channel *ch)
{
        uint8_t data[64 * 1024];
        ssize_t n;

        n = read(ch->watch.fd, data, sizeof(data));
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        channel_hangup(a, ch);
                return;
        }
        /* A virtio-serial port reads EOF while no host is connected. */
        if (n == 0) {
                channel_hangup(a, ch);
                return;
        }
        ch->active = true;
        agent_input(a, ch, data, (size_t)n);
}

static void agent_handle_event(struct agent *a, struct epoll_event *ev)
{
        struct watch *w = ev->data.ptr;
        struct channel *ch;

        if (w->kind != WATCH_CHANNEL) {
                stream_handle_event(a, w, ev->events);
                return;
        }
        ch = w->object;
        if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                channel_read(a, ch);
}

/* Hung-up channels are watched again after a pause: the host may have connected. */
static void agent_retry_channels(struct agent *a)
{
        a->ctl.hangup = false;
        a->stream.hangup = false;
}

static int agent_setup_signals(sigset_t *ret_waitmask)
{
        struct sigaction sa = { .sa_handler = agent_on_sigchld, .sa_flags = SA_NOCLDSTOP };
        sigset_t block;

        sigemptyset(&block);
        sigaddset(&block, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &block, ret_waitmask) < 0)
                return -errno;
        /* SIGCHLD is only delivered inside epoll_pwait(), so reaping happens at one place. */
        sigdelset(ret_waitmask, SIGCHLD);
        if (sigaction(SIGCHLD, &sa, NULL) < 0)
                return -errno;
        return 0;
}

static int agent_wait(struct agent *a, const sigset_t *waitmask)
{
        struct epoll_event events[32];
        bool hung = a->ctl.hangup || a->stream.hangup;
        int timeout = hung ? AGENT_RETRY_MS : -1, poll_ms = blockdev_timeout_ms(a), n;

        /* A MOUNT awaiting its disk looks again every few ms; nothing else waits for it. */
        if (poll_ms >= 0 && (timeout < 0 || poll_ms < timeout))
                timeout = poll_ms;
        n = epoll_pwait(a->epoll_fd, events, ARRAY_SIZE(events), timeout, waitmask);
        if (n < 0 && errno != EINTR)
                return log_error_errno(errno, "epoll_pwait failed");
        if (n == 0 && hung)
                agent_retry_channels(a);
        for (int i = 0; i < n && !a->quit; i++)
                agent_handle_event(a, &events[i]);
        blockdev_poll(a);
        return 0;
}

/* After POWEROFF the reply should reach the host before the VM goes away. */
static void agent_drain_ctl(struct agent *a)
{
        struct pollfd pfd = { .fd = a->ctl.watch.fd, .events = POLLOUT };

        for (int i = 0; i < 20 && buf_len(&a->ctl.out) > 0 && !a->ctl.hangup; i++) {
                channel_flush(a, &a->ctl);
                if (buf_len(&a->ctl.out) > 0 && poll(&pfd, 1, 100) < 0 && errno != EINTR)
                        break;
        }
}

int agent_run(struct agent *a)
{
        sigset_t waitmask;
        int r;

        r = agent_setup_signals(&waitmask);
        if (r < 0)
                return log_error_errno(r, "Cannot set up signal handling");
        channel_update(a, &a->ctl);
        channel_update(a, &a->stream);
        while (!a->quit) {
                r = agent_wait(a, &waitmask);
                if (r < 0)
                        usleep(10 * 1000); /* Never spin, never give up: we may be PID 1. */
                if (agent_sigchld) {
                        agent_sigchld = 0;
                        process_reap(a);
                }
                agent_flush(a);
        }
        agent_drain_ctl(a);
        return 0;
}
