/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives hyperstart's dispatcher and stream engine as a fake host over two
 * socketpairs. The agent runs in a forked child without its sandbox (no
 * mounts, namespaces or chroot): processes run on this machine, which is
 * enough to check the protocol, stdio, flow control and exit statuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "fd-util.h"
#include "frame.h"
#include "log.h"

#define CHECK(x)                                                                       \
        do {                                                                           \
                if (!(x)) {                                                            \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
                        abort();                                                       \
                }                                                                      \
        } while (0)

#define MAX_SID 16

struct frame {
        struct hyper_agent_header h;
        uint8_t *payload;
};

struct chan {
        int fd;
        bool closed;
        struct frame_reader reader;
};

struct exit_event {
        uint32_t process;
        int status;
        bool out_eof_first; /* every output stream had sent EOF when EXIT arrived */
};

struct host {
        pid_t agent;
        struct chan ctl, stream;
        uint32_t next_id;
        struct buf got[MAX_SID];
        bool eof[MAX_SID];
        uint64_t credit[MAX_SID]; /* what we may still send on stdin streams */
        bool auto_credit;
        struct exit_event exits[64];
        size_t n_exits;
        uint32_t watch_sids[4]; /* output streams whose EOF must precede the next EXIT */
};

static void chan_send(struct chan *c, uint16_t type, uint32_t id, const void *p, size_t len)
{
        uint8_t hdr[HYPER_AGENT_HEADER_SIZE];
        struct hyper_agent_header h = { .length = (uint32_t)len, .type = type, .id = id };

        frame_header_encode(hdr, &h);
        CHECK(loop_write(c->fd, hdr, sizeof(hdr)) == 0);
        if (len > 0)
                CHECK(loop_write(c->fd, p, len) == 0);
}

/* Returns true with a frame, false when none came within timeout_ms. */
static bool chan_next(struct chan *c, int timeout_ms, struct frame *f)
{
        for (;;) {
                const uint8_t *payload;
                const char *reason;
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
                uint8_t data[65536];
                ssize_t n;

                enum frame_result r = frame_reader_next(&c->reader, &f->h, &payload, &reason);
                CHECK(r != FRAME_REJECTED);
                if (r == FRAME_OK) {
                        f->payload = malloc(f->h.length + 1);
                        CHECK(f->payload);
                        memcpy(f->payload, payload, f->h.length);
                        f->payload[f->h.length] = '\0';
                        return true;
                }
                if (poll(&pfd, 1, timeout_ms) == 0)
                        return false;
                if (c->closed)
                        return false;
                n = read(c->fd, data, sizeof(data));
                CHECK(n >= 0);
                /* The agent exits after POWEROFF: the other channel may still hold its reply. */
                if (n == 0) {
                        c->closed = true;
                        return false;
                }
                CHECK(frame_reader_feed(&c->reader, data, (size_t)n) == 0);
        }
}

static void host_grant(struct host *h, uint32_t sid, uint32_t n)
{
        uint8_t be[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

        chan_send(&h->stream, HYPER_AGENT_CREDIT, sid, be, 4);
}

static void host_stream_frame(struct host *h, struct frame *f)
{
        CHECK(f->h.id > 0 && f->h.id < MAX_SID);
        switch (f->h.type) {
        case HYPER_AGENT_DATA:
                CHECK(!h->eof[f->h.id]);
                CHECK(buf_append(&h->got[f->h.id], f->payload, f->h.length) == 0);
                if (h->auto_credit)
                        host_grant(h, f->h.id, f->h.length);
                break;
        case HYPER_AGENT_CREDIT:
                CHECK(f->h.length == 4);
                h->credit[f->h.id] += (uint32_t)f->payload[0] << 24 | (uint32_t)f->payload[1] << 16 |
                                      (uint32_t)f->payload[2] << 8 | f->payload[3];
                break;
        case HYPER_AGENT_EOF:
                CHECK(!h->eof[f->h.id]);
                h->eof[f->h.id] = true;
                break;
        default:
                CHECK(!"unexpected stream frame");
        }
        free(f->payload);
}

/* Handles stream frames until none arrives for timeout_ms. */
static void host_drain_stream(struct host *h, int timeout_ms)
{
        struct frame f;

        while (chan_next(&h->stream, timeout_ms, &f))
                host_stream_frame(h, &f);
}

static void host_on_exit(struct host *h, struct frame *f)
{
        struct json_object *o = json_tokener_parse((const char *)f->payload), *v;
        struct exit_event *e = &h->exits[h->n_exits++];

        CHECK(o && h->n_exits < 64);
        CHECK(json_object_object_get_ex(o, "process", &v));
        e->process = (uint32_t)json_object_get_int64(v);
        CHECK(json_object_object_get_ex(o, "status", &v));
        e->status = json_object_get_int(v);
        /* The guest wrote the EOFs before it queued EXIT: they are already here. */
        host_drain_stream(h, 0);
        e->out_eof_first = true;
        for (size_t i = 0; i < 4; i++)
                if (h->watch_sids[i] && !h->eof[h->watch_sids[i]])
                        e->out_eof_first = false;
        json_object_put(o);
}

struct answer {
        uint32_t id;
        uint16_t type;
        struct json_object *body;
};

static struct answer answers[64];
static size_t n_answers;

static void host_ctl_frame(struct host *h, struct frame *f)
{
        if (f->h.type == HYPER_AGENT_EXIT) {
                CHECK(f->h.id == 0);
                host_on_exit(h, f);
        } else {
                CHECK(f->h.type == HYPER_AGENT_REPLY || f->h.type == HYPER_AGENT_ERROR);
                CHECK(n_answers < 64);
                answers[n_answers].id = f->h.id;
                answers[n_answers].type = f->h.type;
                answers[n_answers].body = json_tokener_parse((const char *)f->payload);
                CHECK(answers[n_answers].body);
                n_answers++;
        }
        free(f->payload);
}

/* Handles whatever either channel brings within timeout_ms; false when nothing came. */
static bool host_step(struct host *h, int timeout_ms)
{
        struct pollfd pfd[2] = { { .fd = h->ctl.closed ? -1 : h->ctl.fd, .events = POLLIN },
                                 { .fd = h->stream.closed ? -1 : h->stream.fd, .events = POLLIN } };
        struct frame f;

        if (chan_next(&h->ctl, 0, &f)) {
                host_ctl_frame(h, &f);
                return true;
        }
        if (chan_next(&h->stream, 0, &f)) {
                host_stream_frame(h, &f);
                return true;
        }
        if (poll(pfd, 2, timeout_ms) <= 0)
                return false;
        if ((pfd[0].revents & POLLIN) && chan_next(&h->ctl, 0, &f))
                host_ctl_frame(h, &f);
        if ((pfd[1].revents & POLLIN) && chan_next(&h->stream, 0, &f))
                host_stream_frame(h, &f);
        return true;
}

static uint32_t host_request(struct host *h, uint16_t type, const char *body)
{
        uint32_t id = ++h->next_id;

        chan_send(&h->ctl, type, id, body, strlen(body));
        return id;
}

/* Waits for the answer to request id; returns its body (owned by the caller) and type. */
static struct json_object *host_answer(struct host *h, uint32_t id, uint16_t *ret_type)
{
        for (int idle = 0; idle < 100;) {
                for (size_t i = 0; i < n_answers; i++) {
                        if (answers[i].id != id)
                                continue;
                        struct json_object *o = answers[i].body;
                        *ret_type = answers[i].type;
                        answers[i] = answers[--n_answers];
                        return o;
                }
                if (!host_step(h, 100))
                        idle++;
        }
        CHECK(!"no answer");
        return NULL;
}

static const char *json_str(struct json_object *o, const char *key)
{
        struct json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* Sends a request and checks whether it succeeded; returns the body for more checks. */
static struct json_object *host_call(struct host *h, uint16_t type, const char *body, bool ok)
{
        uint16_t t;
        struct json_object *o = host_answer(h, host_request(h, type, body), &t);

        if ((t == HYPER_AGENT_REPLY) != ok)
                fprintf(stderr, "%s %s: unexpected %s %s\n", frame_type_name(type), body, frame_type_name(t),
                        json_object_to_json_string(o));
        CHECK((t == HYPER_AGENT_REPLY) == ok);
        if (!ok)
                CHECK(strlen(json_str(o, "error")) > 0);
        return o;
}

static void host_call_free(struct host *h, uint16_t type, const char *body, bool ok)
{
        json_object_put(host_call(h, type, body, ok));
}

/* A request that must fail with a message containing what. */
static void host_call_fails(struct host *h, uint16_t type, const char *body, const char *what)
{
        struct json_object *o = host_call(h, type, body, false);

        if (!strstr(json_str(o, "error"), what))
                fprintf(stderr, "%s: error \"%s\" does not say \"%s\"\n", body, json_str(o, "error"), what);
        CHECK(strstr(json_str(o, "error"), what));
        json_object_put(o);
}

static struct exit_event host_wait_exit(struct host *h, uint32_t process)
{
        for (int idle = 0; idle < 200;) {
                for (size_t i = 0; i < h->n_exits; i++) {
                        if (h->exits[i].process != process)
                                continue;
                        struct exit_event e = h->exits[i];
                        h->exits[i] = h->exits[--h->n_exits];
                        return e;
                }
                if (!host_step(h, 100))
                        idle++;
        }
        CHECK(!"no EXIT");
        return (struct exit_event){ 0 };
}

static void host_start(struct host *h)
{
        int ctl[2], stream[2];

        *h = (struct host){ .auto_credit = true };
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) == 0);
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream) == 0);
        h->agent = fork();
        CHECK(h->agent >= 0);
        if (h->agent == 0) {
                struct agent_options opts = { .spawn = true, .exit_on_hangup = true };
                struct agent *a;

                close(ctl[0]);
                close(stream[0]);
                CHECK(agent_new(&opts, ctl[1], stream[1], &a) == 0);
                _exit(agent_run(a) < 0 ? 1 : 0);
        }
        close(ctl[1]);
        close(stream[1]);
        h->ctl.fd = ctl[0];
        h->stream.fd = stream[0];
}

static void host_stop(struct host *h)
{
        int status;

        close(h->ctl.fd);
        close(h->stream.fd);
        CHECK(waitpid(h->agent, &status, 0) == h->agent);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        frame_reader_free(&h->ctl.reader);
        frame_reader_free(&h->stream.reader);
        for (int i = 0; i < MAX_SID; i++)
                buf_free(&h->got[i]);
        for (size_t i = 0; i < n_answers; i++)
                json_object_put(answers[i].body);
        n_answers = 0;
}

static void host_hello(struct host *h)
{
        struct json_object *o = host_call(h, HYPER_AGENT_HELLO, "{\"version\": 1}", true);
        struct json_object *v;

        CHECK(json_object_object_get_ex(o, "version", &v) && json_object_get_int(v) == HYPER_AGENT_VERSION);
        CHECK(strlen(json_str(o, "kernel")) > 0);
        json_object_put(o);
}

static void host_pod(struct host *h)
{
        host_hello(h);
        host_call_free(h, HYPER_AGENT_POD, "{\"hostname\": \"pod\", \"share\": \"9p\"}", true);
        host_call_free(h, HYPER_AGENT_CONTAINER, "{\"id\": \"c1\", \"rootfs\": \"c1/rootfs\"}", true);
}

static bool got_is(struct host *h, uint32_t sid, const char *s)
{
        return buf_len(&h->got[sid]) == strlen(s) && memcmp(buf_head(&h->got[sid]), s, strlen(s)) == 0;
}

static void test_handshake(void)
{
        struct host h;

        host_start(&h);
        host_call_free(&h, HYPER_AGENT_PING, "", false);
        host_call_free(&h, HYPER_AGENT_POD, "{}", false);
        host_call_free(&h, HYPER_AGENT_HELLO, "{\"version\": 99}", false);
        host_call_free(&h, HYPER_AGENT_HELLO, "{\"version\": \"1\"}", false);
        host_call_free(&h, HYPER_AGENT_HELLO, "{}", false);
        host_call_free(&h, HYPER_AGENT_PING, "{}", false);
        host_hello(&h);
        host_call_free(&h, HYPER_AGENT_PING, "", true);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "{}", true);
        host_stop(&h);
}

static void test_garbage(void)
{
        uint16_t t;
        struct host h;
        uint8_t junk[4096];
        uint32_t big = 3 * 1024 * 1024;

        host_start(&h);
        host_hello(&h);
        /* Unknown type with a request id: ERROR, and the reader stays in sync. */
        chan_send(&h.ctl, 0x77, 100, "abc", 3);
        json_object_put(host_answer(&h, 100, &t));
        CHECK(t == HYPER_AGENT_ERROR);
        /* A length over the limit: the payload is skipped as it arrives. */
        uint8_t hdr[HYPER_AGENT_HEADER_SIZE];
        struct hyper_agent_header hh = { .length = big, .type = HYPER_AGENT_EXEC, .id = 101 };
        frame_header_encode(hdr, &hh);
        CHECK(loop_write(h.ctl.fd, hdr, sizeof(hdr)) == 0);
        memset(junk, 0xff, sizeof(junk));
        for (uint32_t sent = 0; sent < big; sent += sizeof(junk))
                CHECK(loop_write(h.ctl.fd, junk, sizeof(junk)) == 0);
        json_object_put(host_answer(&h, 101, &t));
        CHECK(t == HYPER_AGENT_ERROR);
        /* Non-zero flags, a reply type sent to the guest, a frame without id. */
        hh = (struct hyper_agent_header){ .length = 0, .type = HYPER_AGENT_PING, .flags = 1, .id = 102 };
        frame_header_encode(hdr, &hh);
        CHECK(loop_write(h.ctl.fd, hdr, sizeof(hdr)) == 0);
        json_object_put(host_answer(&h, 102, &t));
        CHECK(t == HYPER_AGENT_ERROR);
        chan_send(&h.ctl, HYPER_AGENT_REPLY, 103, "{}", 2);
        json_object_put(host_answer(&h, 103, &t));
        CHECK(t == HYPER_AGENT_ERROR);
        chan_send(&h.ctl, HYPER_AGENT_PING, 0, "{}", 2);
        /* Bodies that are not JSON objects. */
        host_call_free(&h, HYPER_AGENT_PING, "{nope", false);
        host_call_free(&h, HYPER_AGENT_PING, "[1]", false);
        host_call_free(&h, HYPER_AGENT_PING, "{} x", false);
        host_call_free(&h, HYPER_AGENT_PING, "\"str\"", false);
        chan_send(&h.ctl, HYPER_AGENT_PING, 104, "{}\0", 3);
        json_object_put(host_answer(&h, 104, &t));
        CHECK(t == HYPER_AGENT_ERROR);
        host_call_free(&h, HYPER_AGENT_PING, "{} \n", true);
        /* Stream frames for nobody, and garbage on the stream channel. */
        chan_send(&h.stream, HYPER_AGENT_DATA, 9, "x", 1);
        chan_send(&h.stream, HYPER_AGENT_CREDIT, 9, "xy", 2);
        chan_send(&h.stream, HYPER_AGENT_EOF, 9, NULL, 0);
        chan_send(&h.stream, 0x99, 9, "zz", 2);
        host_call_free(&h, HYPER_AGENT_PING, "{}", true);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

static void test_fields(void)
{
        struct host h;

        host_start(&h);
        host_hello(&h);
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"c0\", \"rootfs\": \"r\"}", false); /* before POD */
        host_call_free(&h, HYPER_AGENT_POD, "{\"share\": \"nfs\"}", false);
        host_call_free(&h, HYPER_AGENT_POD, "{\"hostname\": 7}", false);
        host_call_free(&h, HYPER_AGENT_POD, "{\"share\": \"virtiofs\"}", true);
        host_call_free(&h, HYPER_AGENT_POD, "{}", false); /* twice */
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"c1\"}", false);
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"../x\", \"rootfs\": \"r\"}", false);
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"c1\", \"rootfs\": \"a/../../etc\"}", false);
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"c1\", \"rootfs\": \"r\", \"mode\": \"copy\"}", false);
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"c1\", \"rootfs\": \"r\", \"mode\": \"overlay\"}", true);
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"c1\", \"rootfs\": \"r\"}", false); /* exists */
        host_call_free(&h, HYPER_AGENT_EXEC, "{}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"nope\", \"process\": 1, \"args\": [\"true\"]}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 1}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 1, \"args\": []}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": -1, \"args\": [\"true\"]}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 1, \"args\": [\"true\", 3]}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 1, \"args\": [\"true\"], \"cwd\": \"rel\"}", false);
        host_call_free(&h, HYPER_AGENT_EXEC,
                       "{\"container\": \"c1\", \"process\": 1, \"args\": [\"true\"], \"stdout\": 2, \"stderr\": 2}", false);
        host_call_free(&h, HYPER_AGENT_EXEC,
                       "{\"container\": \"c1\", \"process\": 1, \"args\": [\"true\"], \"rows\": 70000}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 1, \"args\": [\"tr\\u0000ue\"]}", false);
        host_call_free(&h, HYPER_AGENT_EXEC,
                       "{\"container\": \"c1\", \"process\": 1, \"args\": [\"true\"], \"cwd\": \"/nonexistent-dir\"}", false);
        host_call_free(&h, HYPER_AGENT_SIGNAL, "{\"process\": 42, \"signal\": 9}", false);
        host_call_free(&h, HYPER_AGENT_WINSIZE, "{\"process\": 42, \"rows\": 1, \"cols\": 1}", false);
        host_call_free(&h, HYPER_AGENT_REMOVE, "{\"id\": \"nope\"}", false);
        host_call_free(&h, HYPER_AGENT_REMOVE, "{\"id\": \"c1\"}", true);
        host_call_free(&h, HYPER_AGENT_REMOVE, "{\"id\": \"c1\"}", false);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

static int host_exec(struct host *h, uint32_t process, const char *fields)
{
        char body[2048];
        struct json_object *o, *v;
        int pid;

        snprintf(body, sizeof(body), "{\"container\": \"c1\", \"process\": %u, %s}", process, fields);
        o = host_call(h, HYPER_AGENT_EXEC, body, true);
        CHECK(json_object_object_get_ex(o, "pid", &v));
        pid = json_object_get_int(v);
        CHECK(pid > 0);
        json_object_put(o);
        return pid;
}

static void test_exec(void)
{
        struct exit_event e;
        struct host h;

        host_start(&h);
        host_pod(&h);
        h.watch_sids[0] = 1;
        h.watch_sids[1] = 2;
        host_exec(&h, 1, "\"args\": [\"/bin/sh\", \"-c\", \"echo hi; echo err >&2; exit 3\"], \"stdout\": 1, \"stderr\": 2");
        e = host_wait_exit(&h, 1);
        CHECK(e.status == 3);
        CHECK(e.out_eof_first);
        CHECK(got_is(&h, 1, "hi\n"));
        CHECK(got_is(&h, 2, "err\n"));
        /* The environment is replaced, and PATH is looked up in it. */
        h.watch_sids[1] = 0;
        host_exec(&h, 2, "\"args\": [\"sh\", \"-c\", \"echo $FOO:$HOME; pwd\"], \"env\": [\"FOO=bar\", \"HOME=/h\", \"PATH=/usr/bin:/bin\"], "
                         "\"cwd\": \"/tmp\", \"stdout\": 3");
        h.watch_sids[0] = 3;
        e = host_wait_exit(&h, 2);
        CHECK(e.status == 0 && e.out_eof_first);
        CHECK(got_is(&h, 3, "bar:/h\n/tmp\n"));
        host_exec(&h, 3, "\"args\": [\"sh\"], \"env\": [\"PATH=/nonexistent\"]");
        CHECK(host_wait_exit(&h, 3).status == 127);
        host_exec(&h, 4, "\"args\": [\"/nonexistent/program\"]");
        CHECK(host_wait_exit(&h, 4).status == 127);
        host_exec(&h, 5, "\"args\": [\"/tmp\"]");
        CHECK(host_wait_exit(&h, 5).status == 126);
        /* Signal deaths are 128+signal, whoever sends the signal. */
        host_exec(&h, 6, "\"args\": [\"sleep\", \"100\"], \"env\": [\"PATH=/usr/bin:/bin\"]");
        host_call_free(&h, HYPER_AGENT_SIGNAL, "{\"process\": 6, \"signal\": 0}", false);
        host_call_free(&h, HYPER_AGENT_SIGNAL, "{\"process\": 6, \"signal\": 9}", true);
        CHECK(host_wait_exit(&h, 6).status == 137);
        host_exec(&h, 7, "\"args\": [\"/bin/sh\", \"-c\", \"kill -TERM $$\"]");
        CHECK(host_wait_exit(&h, 7).status == 143);
        h.eof[3] = false;
        host_exec(&h, 8, "\"args\": [\"/bin/sh\", \"-c\", \"exit 0\"], \"stdout\": 3");
        CHECK(host_wait_exit(&h, 8).status == 0); /* stream 3 is free again */
        /* Ids in use are refused while their process runs; with no PATH the default one applies. */
        h.eof[3] = false;
        host_exec(&h, 9, "\"args\": [\"sleep\", \"100\"], \"stdout\": 3, \"stdin\": 4");
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 9, \"args\": [\"true\"]}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 10, \"args\": [\"true\"], \"stderr\": 3}", false);
        host_call_free(&h, HYPER_AGENT_EXEC, "{\"container\": \"c1\", \"process\": 10, \"args\": [\"true\"], \"stdin\": 4}", false);
        host_call_free(&h, HYPER_AGENT_WINSIZE, "{\"process\": 9, \"rows\": 1, \"cols\": 1}", false);
        host_call_free(&h, HYPER_AGENT_SIGNAL, "{\"process\": 9, \"signal\": 15}", true);
        CHECK(host_wait_exit(&h, 9).status == 143);
        /* As the reader of stdin, the guest says with EOF that nobody takes more. */
        CHECK(h.eof[4]);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

/* Sends len bytes on an input stream, never beyond the credit the guest granted. */
static void host_send_stdin(struct host *h, uint32_t sid, const uint8_t *data, size_t len)
{
        while (len > 0) {
                size_t n = MIN(MIN(len, (size_t)HYPER_AGENT_MAX_DATA), (size_t)h->credit[sid]);

                if (n == 0) {
                        host_step(h, 100);
                        continue;
                }
                chan_send(&h->stream, HYPER_AGENT_DATA, sid, data, n);
                h->credit[sid] -= n;
                data += n;
                len -= n;
                host_step(h, 0);
        }
}

static void test_credit(void)
{
        char dir[] = "/tmp/test-hyperstart-XXXXXX", fields[1024], flag[64], expect[32];
        static uint8_t data[HYPER_AGENT_MAX_CREDIT];
        uint64_t total = 0;
        struct host h;

        CHECK(mkdtemp(dir));
        snprintf(flag, sizeof(flag), "%s/go", dir);
        host_start(&h);
        host_pod(&h);
        /* The process reads nothing until the flag exists: only the pipe's capacity moves. */
        snprintf(fields, sizeof(fields),
                 "\"args\": [\"sh\", \"-c\", \"while [ ! -e %s ]; do sleep 0.05; done; wc -c\"], "
                 "\"env\": [\"PATH=/usr/bin:/bin\"], \"stdin\": 5, \"stdout\": 6", flag);
        h.credit[5] = HYPER_AGENT_INITIAL_CREDIT;
        host_exec(&h, 1, fields);
        memset(data, 'a', sizeof(data));
        while (h.credit[5] > 0) {
                uint64_t n = h.credit[5];
                host_send_stdin(&h, 5, data, n);
                total += n;
                host_drain_stream(&h, 300);
        }
        /* The window is closed: this byte goes beyond the credit and must be dropped. */
        chan_send(&h.stream, HYPER_AGENT_DATA, 5, "x", 1);
        host_drain_stream(&h, 300);
        CHECK(close(open(flag, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == 0);
        chan_send(&h.stream, HYPER_AGENT_EOF, 5, NULL, 0);
        CHECK(host_wait_exit(&h, 1).status == 0);
        snprintf(expect, sizeof(expect), "%llu\n", (unsigned long long)total);
        CHECK(got_is(&h, 6, expect));
        CHECK(total >= HYPER_AGENT_INITIAL_CREDIT);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
        unlink(flag);
        rmdir(dir);
}

static uint8_t pattern(size_t i)
{
        return (uint8_t)(i * 7 + i / 251);
}

static void test_bulk(void)
{
        const size_t total = 16u * 1024 * 1024;
        uint8_t chunk[HYPER_AGENT_MAX_DATA];
        size_t sent = 0;
        bool eof_sent = false;
        struct host h;

        host_start(&h);
        host_pod(&h);
        h.credit[1] = HYPER_AGENT_INITIAL_CREDIT;
        h.watch_sids[0] = 2;
        host_exec(&h, 1, "\"args\": [\"cat\"], \"env\": [\"PATH=/usr/bin:/bin\"], \"stdin\": 1, \"stdout\": 2");
        while (!h.eof[2]) {
                size_t n = MIN(MIN(sizeof(chunk), total - sent), (size_t)h.credit[1]);
                if (n > 0) {
                        for (size_t i = 0; i < n; i++)
                                chunk[i] = pattern(sent + i);
                        chan_send(&h.stream, HYPER_AGENT_DATA, 1, chunk, n);
                        h.credit[1] -= n;
                        sent += n;
                } else if (sent == total && !eof_sent) {
                        chan_send(&h.stream, HYPER_AGENT_EOF, 1, NULL, 0);
                        eof_sent = true;
                }
                host_step(&h, n > 0 ? 0 : 100);
        }
        CHECK(host_wait_exit(&h, 1).status == 0);
        CHECK(buf_len(&h.got[2]) == total);
        for (size_t i = 0; i < total; i++)
                CHECK(buf_head(&h.got[2])[i] == pattern(i));
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

static bool got_has(struct host *h, uint32_t sid, const char *s)
{
        return buf_len(&h->got[sid]) > 0 && memmem(buf_head(&h->got[sid]), buf_len(&h->got[sid]), s, strlen(s)) != NULL;
}

static void test_terminal(void)
{
        struct host h;

        host_start(&h);
        host_pod(&h);
        h.credit[7] = HYPER_AGENT_INITIAL_CREDIT;
        host_exec(&h, 1, "\"args\": [\"sh\", \"-c\", \"stty size; read x; stty size; test -t 0 && test -t 2\"], "
                         "\"env\": [\"PATH=/usr/bin:/bin\"], \"terminal\": true, \"rows\": 24, \"cols\": 80, "
                         "\"stdin\": 7, \"stdout\": 8");
        for (int i = 0; i < 100 && !got_has(&h, 8, "24 80"); i++)
                host_step(&h, 100);
        CHECK(got_has(&h, 8, "24 80"));
        host_call_free(&h, HYPER_AGENT_WINSIZE, "{\"process\": 1, \"rows\": 30, \"cols\": 100}", true);
        host_send_stdin(&h, 7, (const uint8_t *)"\n", 1);
        CHECK(host_wait_exit(&h, 1).status == 0);
        CHECK(got_has(&h, 8, "30 100"));
        CHECK(h.eof[8]);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

/* CONTAINER's mounts, maskedPaths and readonlyPaths: every bad entry is refused with its name. */
static void test_mounts(void)
{
        static const struct {
                const char *mounts, *what;
        } bad[] = {
                { "7", "wrong type" },
                { "[7]", "mounts[0] is not an object" },
                { "[{\"type\": \"tmpfs\"}]", "mounts[0]: field \"destination\" is missing" },
                { "[{\"destination\": \"rel\", \"type\": \"tmpfs\"}]", "mount rel: the destination must be" },
                { "[{\"destination\": \"/\", \"type\": \"tmpfs\"}]", "mount /: the destination" },
                { "[{\"destination\": \"/a/../b\", \"type\": \"tmpfs\"}]", "mount /a/../b" },
                { "[{\"destination\": \"/d\"}]", "mount /d: field \"type\" is missing" },
                { "[{\"destination\": \"/d\", \"type\": \"ext4\", \"source\": \"/dev/vda\"}]", "type \"ext4\" is not supported" },
                { "[{\"destination\": \"/d\", \"type\": \"bind\"}]", "mount /d: a bind mount needs a source" },
                { "[{\"destination\": \"/d\", \"type\": \"bind\", \"source\": \"/etc\"}]", "source \"/etc\" is not a relative" },
                { "[{\"destination\": \"/d\", \"type\": \"none\", \"source\": \"a/../../x\", \"options\": [\"rbind\"]}]", "source \"a/../../x\"" },
                { "[{\"destination\": \"/d\", \"type\": \"bind\", \"source\": \".\"}]", "source \".\"" },
                { "[{\"destination\": \"/d\", \"type\": \"tmpfs\", \"options\": [1]}]", "mounts[0]: field \"options\" holds a non-string" },
                { "[{\"destination\": \"/d\", \"type\": \"tmpfs\", \"source\": 3}]", "mounts[0]: field \"source\" has the wrong type" },
                { "[{\"destination\": \"/ok\", \"type\": \"tmpfs\"}, {\"destination\": \"/d\\u0000x\", \"type\": \"tmpfs\"}]", "mounts[1]: field \"destination\" contains a NUL" },
        };
        char body[1024], big[9000];
        struct host h;

        host_start(&h);
        host_hello(&h);
        host_call_free(&h, HYPER_AGENT_POD, "{}", true);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                snprintf(body, sizeof(body), "{\"id\": \"m\", \"rootfs\": \"r\", \"mounts\": %s}", bad[i].mounts);
                host_call_fails(&h, HYPER_AGENT_CONTAINER, body, bad[i].what);
        }
        /* Mount data beyond a page cannot reach the kernel. */
        snprintf(big, sizeof(big), "{\"id\": \"m\", \"rootfs\": \"r\", \"mounts\": [{\"destination\": \"/d\", "
                 "\"type\": \"tmpfs\", \"options\": [\"%04000d\", \"%04000d\"]}]}", 1, 2);
        host_call_fails(&h, HYPER_AGENT_CONTAINER, big, "options are longer than");
        host_call_fails(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"m\", \"rootfs\": \"r\", \"maskedPaths\": [\"proc/kcore\"]}",
                        "maskedPaths: \"proc/kcore\" is not an absolute path");
        host_call_fails(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"m\", \"rootfs\": \"r\", \"readonlyPaths\": [\"/proc/../x\"]}",
                        "readonlyPaths: \"/proc/../x\"");
        host_call_fails(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"m\", \"rootfs\": \"r\", \"readonlyPaths\": \"/proc\"}",
                        "field \"readonlyPaths\" has the wrong type");
        /* runc's default list, a bind of a file and of a folder, masked and read-only paths. */
        host_call_free(&h, HYPER_AGENT_CONTAINER,
                       "{\"id\": \"m\", \"rootfs\": \"r\", \"readonly\": true, \"mounts\": ["
                       "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
                       "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
                       "{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},"
                       "{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
                       "{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
                       "{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
                       "{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]},"
                       "{\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"m/hosts\", \"options\": [\"rbind\", \"rprivate\", \"ro\"]},"
                       "{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"options\": [\"rw\", \"rprivate\", \"nosuid\", \"nodev\", \"tmpcopyup\"]},"
                       "{\"destination\": \"//data/./x/\", \"type\": \"none\", \"source\": \"m/data\", \"options\": [\"bind\"]}],"
                       "\"maskedPaths\": [\"/proc/kcore\", \"/sys/firmware\"], \"readonlyPaths\": [\"/proc/sys\"]}",
                       true);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

/* NETWORK's body: checked in full before anything is touched. */
static void test_network(void)
{
        static const struct {
                const char *body, *what;
        } bad[] = {
                { "{\"interfaces\": {}}", "field \"interfaces\" has the wrong type" },
                { "{\"interfaces\": [1]}", "interfaces[0] is not an object" },
                { "{\"interfaces\": [{\"name\": \"eth0\"}]}", "interfaces[0]: field \"mac\" is missing" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\"}]}", "interfaces[0]: field \"name\" is missing" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34\", \"name\": \"eth0\"}]}", "interface eth0: mac \"52:54:00:12:34\"" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:5g\", \"name\": \"eth0\"}]}", "interface eth0: mac" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56:\", \"name\": \"eth0\"}]}", "interface eth0: mac" },
                { "{\"interfaces\": [{\"mac\": \"5:54:00:12:34:56\", \"name\": \"eth0\"}]}", "interface eth0: mac" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"a/b\"}]}", "interface name \"a/b\" is not valid" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"0123456789abcdef\"}]}", "is not valid" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"eth0\", \"mtu\": 20}]}", "mtu 20 is below 68" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"eth0\", \"mtu\": 70000}]}", "field \"mtu\" is out of range" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"eth0\", \"addresses\": [\"10.0.2.15\"]}]}", "address \"10.0.2.15\" is not an address/prefix" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"eth0\", \"addresses\": [\"10.0.2.15/33\"]}]}", "10.0.2.15/33" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"eth0\", \"addresses\": [\"10.0.2.300/24\"]}]}", "10.0.2.300/24" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"eth0\", \"addresses\": [\"fd00::5/129\"]}]}", "fd00::5/129" },
                { "{\"interfaces\": [{\"mac\": \"52:54:00:12:34:56\", \"name\": \"eth0\", \"addresses\": [\"10.0.2.15/-1\"]}]}", "10.0.2.15/-1" },
                { "{\"routes\": [{\"gateway\": \"10.0.2.2\"}]}", "routes[0]: field \"dest\" is missing" },
                { "{\"routes\": [{\"dest\": \"default\"}]}", "route default: needs a gateway or a device" },
                { "{\"routes\": [{\"dest\": \"10.0.0.0\", \"device\": \"eth0\"}]}", "route 10.0.0.0: dest is not" },
                { "{\"routes\": [{\"dest\": \"10.0.0.1/8\", \"device\": \"eth0\"}]}", "bits set beyond its prefix" },
                { "{\"routes\": [{\"dest\": \"default\", \"gateway\": \"10.0.2\"}]}", "gateway \"10.0.2\" is not an address" },
                { "{\"routes\": [{\"dest\": \"fd00::/64\", \"gateway\": \"10.0.2.2\"}]}", "of another address family" },
                { "{\"routes\": [{\"dest\": \"default\", \"device\": \"\"}]}", "device name \"\" is not valid" },
        };
        struct host h;

        host_start(&h);
        host_call_fails(&h, HYPER_AGENT_NETWORK, "{}", "HELLO must come first");
        host_hello(&h);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                host_call_fails(&h, HYPER_AGENT_NETWORK, bad[i].body, bad[i].what);
        host_call_free(&h, HYPER_AGENT_NETWORK, "{}", true);
        host_call_free(&h, HYPER_AGENT_NETWORK,
                       "{\"interfaces\": [{\"mac\": \"AA:bb:cc:dd:ee:ff\", \"name\": \"eth0\", \"mtu\": 1500,"
                       "\"addresses\": [\"10.88.0.5/16\", \"fd00::5/64\"]}],"
                       "\"routes\": [{\"dest\": \"default\", \"gateway\": \"10.88.0.1\"}, {\"dest\": \"default\", \"gateway\": \"fd00::1\"},"
                       "{\"dest\": \"192.168.0.0/24\", \"device\": \"eth0\"}]}",
                       true);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

/* MOUNT is checked whole before the guest looks for the disk; without a sandbox nothing is mounted. */
static void test_mount_disk(void)
{
        static const struct {
                const char *body, *what;
        } bad[] = {
                { "{}", "field \"container\" is missing" },
                { "{\"container\": \"c1\", \"destination\": \"/data\"}", "field \"serial\" is missing" },
                { "{\"container\": \"c1\", \"serial\": \"vol1\"}", "field \"destination\" is missing" },
                { "{\"container\": \"c1\", \"serial\": \"\", \"destination\": \"/d\"}", "field \"serial\" must be 1 to 20" },
                { "{\"container\": \"c1\", \"serial\": \"../sda\", \"destination\": \"/d\"}", "field \"serial\" must be" },
                { "{\"container\": \"c1\", \"serial\": \"a23456789012345678901\", \"destination\": \"/d\"}", "must be 1 to 20" },
                { "{\"container\": \"c1\", \"serial\": 7, \"destination\": \"/d\"}", "field \"serial\"" },
                { "{\"container\": \"c1\", \"serial\": \"vol1\", \"destination\": \"d\"}", "field \"destination\" must be an absolute path" },
                { "{\"container\": \"c1\", \"serial\": \"vol1\", \"destination\": \"/a/../../etc\"}", "without \"..\"" },
                { "{\"container\": \"c1\", \"serial\": \"vol1\", \"destination\": \"/\"}", "other than \"/\"" },
                { "{\"container\": \"c1\", \"serial\": \"vol1\", \"destination\": \"//.\"}", "other than \"/\"" },
                { "{\"container\": \"c1\", \"serial\": \"vol1\", \"destination\": \"/d\", \"fstype\": \"ext4,x\"}", "field \"fstype\"" },
                { "{\"container\": \"c1\", \"serial\": \"vol1\", \"destination\": \"/d\", \"readonly\": \"yes\"}", "field \"readonly\"" },
                { "{\"container\": \"nope\", \"serial\": \"vol1\", \"destination\": \"/d\"}", "container nope does not exist" },
        };
        struct host h;

        host_start(&h);
        host_call_fails(&h, HYPER_AGENT_MOUNT, "{}", "HELLO must come first");
        host_hello(&h);
        host_call_free(&h, HYPER_AGENT_POD, "{\"hostname\": \"h\"}", true);
        host_call_free(&h, HYPER_AGENT_CONTAINER, "{\"id\": \"c1\", \"rootfs\": \"r\"}", true);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                host_call_fails(&h, HYPER_AGENT_MOUNT, bad[i].body, bad[i].what);
        host_call_free(&h, HYPER_AGENT_MOUNT,
                       "{\"container\": \"c1\", \"serial\": \"vol-1_a\", \"destination\": \"/a/./b/\", "
                       "\"readonly\": true, \"fstype\": \"ext4\"}",
                       true);
        /* UNMOUNT takes the same fields, checked the same way. */
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (!strstr(bad[i].body, "fstype") && !strstr(bad[i].body, "readonly"))
                        host_call_fails(&h, HYPER_AGENT_UNMOUNT, bad[i].body, bad[i].what);
        host_call_free(&h, HYPER_AGENT_UNMOUNT,
                       "{\"container\": \"c1\", \"serial\": \"vol1\", \"destination\": \"/a/b\"}", true);
        host_call_free(&h, HYPER_AGENT_POWEROFF, "", true);
        host_stop(&h);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        log_setup("test-hyperstart", LOG_LEVEL_ERROR);
        test_handshake();
        test_garbage();
        test_fields();
        test_mounts();
        test_network();
        test_mount_disk();
        test_exec();
        test_credit();
        test_bulk();
        test_terminal();
        printf("test-hyperstart: all passed\n");
        return 0;
}
