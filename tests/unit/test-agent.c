/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the agent protocol against a fake guest over
 * socketpairs: handshakes, replies, EXIT events, stdio streams under
 * credit, and a guest that breaks the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "frame.h"
#include "json-util.h"
#include "test.h"

struct fake {
        struct agent *agent;
        int ctl, stream; /* the guest's ends */
        struct frame_reader ctl_in, stream_in;
        uint8_t payload[HYPER_AGENT_MAX_CTL_PAYLOAD];
        int exits;
        uint32_t exit_process;
        int exit_status;
};

static void fake_on_exit(struct agent *a, uint32_t process, int status, void *userdata)
{
        struct fake *f = userdata;

        f->exits++;
        f->exit_process = process;
        f->exit_status = status;
}

static void fake_init(struct fake *f)
{
        int c[2], s[2];

        memset(f, 0, sizeof(*f));
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c) == 0);
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);
        CHECK(agent_new(c[0], s[0], &f->agent) == 0);
        f->ctl = c[1];
        f->stream = s[1];
        fcntl(f->ctl, F_SETFL, O_NONBLOCK);
        fcntl(f->stream, F_SETFL, O_NONBLOCK);
        agent_on_exit(f->agent, fake_on_exit, f);
}

static void fake_done(struct fake *f)
{
        agent_free(f->agent);
        close(f->ctl);
        close(f->stream);
        frame_reader_free(&f->ctl_in);
        frame_reader_free(&f->stream_in);
}

/* Writes bytes as the guest, letting the agent run while the socket is full. */
static void fake_write(struct fake *f, int fd, const void *p, size_t len)
{
        const uint8_t *b = p;

        while (len > 0) {
                ssize_t n = write(fd, b, len);
                if (n < 0) {
                        CHECK(errno == EAGAIN);
                        agent_process(f->agent, 10);
                        continue;
                }
                b += n;
                len -= (size_t)n;
        }
}

/* Frames are encoded by hand, so that the fake guest can send what frame_append() refuses. */
static void fake_send(struct fake *f, bool ctl, uint16_t type, uint32_t id, const void *p, size_t len)
{
        struct hyper_agent_header h = { .length = (uint32_t)len, .type = type, .id = id };
        uint8_t hdr[HYPER_AGENT_HEADER_SIZE];

        frame_header_encode(hdr, &h);
        fake_write(f, ctl ? f->ctl : f->stream, hdr, sizeof(hdr));
        fake_write(f, ctl ? f->ctl : f->stream, p, len);
}

static void fake_send_json(struct fake *f, uint16_t type, uint32_t id, const char *json)
{
        fake_send(f, true, type, id, json, strlen(json));
}

/* Reads the next frame the host sent on a channel, running the agent until it comes. */
static bool fake_recv(struct fake *f, bool ctl, struct hyper_agent_header *h, int tries)
{
        struct frame_reader *rd = ctl ? &f->ctl_in : &f->stream_in;
        const uint8_t *payload;
        const char *reason;
        uint8_t tmp[65536];

        for (int i = 0; i < tries; i++) {
                enum frame_result fr = frame_reader_next(rd, h, &payload, &reason);
                CHECK(fr != FRAME_REJECTED);
                if (fr == FRAME_OK) {
                        memcpy(f->payload, payload, h->length);
                        return true;
                }
                ssize_t n = read(ctl ? f->ctl : f->stream, tmp, sizeof(tmp));
                if (n > 0)
                        CHECK(frame_reader_feed(rd, tmp, (size_t)n) == 0);
                else
                        agent_process(f->agent, 10);
        }
        return false;
}

static void test_hello(void)
{
        struct fake f;
        struct hyper_agent_header h;
        struct json_object *body;
        char *kernel = NULL, *err = NULL;
        uint32_t v;

        fake_init(&f);
        /* The reply may wait in the socket before the request goes: the host's first id is 1. */
        fake_send_json(&f, HYPER_AGENT_REPLY, 1, "{\"version\":1,\"kernel\":\"6.1.0-hyper\"}");
        CHECK_EQ_INT(agent_hello(f.agent, 5000, &kernel, &err), 0);
        CHECK_STREQ(kernel, "6.1.0-hyper");
        CHECK(fake_recv(&f, true, &h, 100));
        CHECK_EQ_INT(h.type, HYPER_AGENT_HELLO);
        CHECK_EQ_INT(h.id, 1);
        CHECK(json_parse_object((const char *)f.payload, h.length, &body) == 0);
        CHECK(json_get_u32(body, "version", &v) == 0);
        CHECK_EQ_INT(v, HYPER_AGENT_VERSION);
        json_object_put(body);
        free(kernel);
        fake_done(&f);
}

static void test_hello_mismatch_and_error(void)
{
        struct fake f;
        char *err = NULL;

        fake_init(&f);
        fake_send_json(&f, HYPER_AGENT_REPLY, 1, "{\"version\":99}");
        CHECK_EQ_INT(agent_hello(f.agent, 5000, NULL, &err), -EPROTONOSUPPORT);
        CHECK(strstr(err, "protocol version"));
        free(err);
        err = NULL;
        fake_send_json(&f, HYPER_AGENT_ERROR, 2, "{\"error\":\"no such container c9\"}");
        CHECK_EQ_INT(agent_call(f.agent, HYPER_AGENT_PING, NULL, 5000, NULL, &err), -EREMOTEIO);
        CHECK_STREQ(err, "no such container c9");
        free(err);
        fake_done(&f);
}

static void test_call_timeout(void)
{
        struct fake f;

        fake_init(&f);
        CHECK_EQ_INT(agent_call(f.agent, HYPER_AGENT_PING, NULL, 50, NULL, NULL), -ETIMEDOUT);
        /* The late reply to the timed-out request is still accepted and dropped. */
        fake_send_json(&f, HYPER_AGENT_REPLY, 1, "{}");
        fake_send_json(&f, HYPER_AGENT_REPLY, 2, "{}");
        CHECK_EQ_INT(agent_call(f.agent, HYPER_AGENT_PING, NULL, 5000, NULL, NULL), 0);
        CHECK(agent_error(f.agent) == NULL);
        fake_done(&f);
}

static void on_watch(struct agent *a, int fd, void *userdata)
{
        char b[16];

        (void)!read(fd, b, sizeof(b));
        (*(int *)userdata)++;
}

/* A watch that becomes readable while a call waits runs once the call has returned, not inside it. */
static void test_watch_waits_for_call(void)
{
        struct fake f;
        int p[2], runs = 0;

        fake_init(&f);
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        CHECK_EQ_INT(agent_watch(f.agent, p[0], on_watch, &runs), 0);
        CHECK(write(p[1], "x", 1) == 1);
        fake_send_json(&f, HYPER_AGENT_REPLY, 1, "{}");
        CHECK_EQ_INT(agent_call(f.agent, HYPER_AGENT_PING, NULL, 5000, NULL, NULL), 0);
        CHECK_EQ_INT(runs, 0);
        CHECK_EQ_INT(agent_process(f.agent, 1000), 0);
        CHECK_EQ_INT(runs, 1);
        /* Armed again: the next byte is seen too. */
        CHECK(write(p[1], "y", 1) == 1);
        CHECK_EQ_INT(agent_process(f.agent, 1000), 0);
        CHECK_EQ_INT(runs, 2);
        agent_unwatch(f.agent, p[0]);
        close(p[0]);
        close(p[1]);
        fake_done(&f);
}

static void expect_broken(struct fake *f, const char *why)
{
        int r = 0;

        for (int i = 0; i < 100 && r == 0; i++)
                r = agent_process(f->agent, 10);
        CHECK_EQ_INT(r, -EPROTO);
        CHECK(agent_error(f->agent));
        if (!strstr(agent_error(f->agent), why)) {
                fprintf(stderr, "error \"%s\" does not say \"%s\"\n", agent_error(f->agent), why);
                abort();
        }
        /* Once broken, every call fails at once. */
        CHECK_EQ_INT(agent_call(f->agent, HYPER_AGENT_PING, NULL, 10, NULL, NULL), -EPROTO);
}

static void test_hostile_control(void)
{
        static const struct {
                uint16_t type;
                uint32_t id;
                const char *body;
                const char *why;
        } cases[] = {
                { HYPER_AGENT_REPLY, 42, "{}", "not outstanding" },
                { HYPER_AGENT_REPLY, 0, "{}", "not outstanding" },
                { HYPER_AGENT_EXEC, 1, "{}", "EXEC on the control channel" },
                { HYPER_AGENT_DATA, 1, "xx", "DATA on the control channel" },
                { HYPER_AGENT_EXIT, 0, "{\"process\":1}", "EXIT without" },
                { HYPER_AGENT_EXIT, 0, "{\"process\":1,\"status\":300}", "out of range" },
                { HYPER_AGENT_EXIT, 0, "{\"process\":-1,\"status\":0}", "out of range" },
                { HYPER_AGENT_EXIT, 0, "[1]", "not a JSON object" },
                { HYPER_AGENT_EXIT, 0, "{\"process\":1", "not a JSON object" },
                { 0x1234, 0, "", "bad frame" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct fake f;
                fake_init(&f);
                fake_send_json(&f, cases[i].type, cases[i].id, cases[i].body);
                expect_broken(&f, cases[i].why);
                CHECK_EQ_INT(f.exits, 0);
                fake_done(&f);
        }
}

static void test_exit_event(void)
{
        struct fake f;

        fake_init(&f);
        fake_send_json(&f, HYPER_AGENT_EXIT, 0, "{\"process\":7,\"status\":137}");
        for (int i = 0; i < 100 && f.exits == 0; i++)
                CHECK_EQ_INT(agent_process(f.agent, 10), 0);
        CHECK_EQ_INT(f.exits, 1);
        CHECK_EQ_INT(f.exit_process, 7);
        CHECK_EQ_INT(f.exit_status, 137);
        fake_done(&f);
}

/*
 * A short process's EXIT comes in the same read as the reply to the EXEC
 * that started it: the caller hears of it only after the call returned
 * (the monitor registers the process then; inside the call it was lost
 * and `runv exec` waited forever with its output already out).
 */
static void test_exit_waits_for_call(void)
{
        struct fake f;

        fake_init(&f);
        fake_send_json(&f, HYPER_AGENT_REPLY, 1, "{\"pid\":42}");
        fake_send_json(&f, HYPER_AGENT_EXIT, 0, "{\"process\":2,\"status\":0}");
        fake_send_json(&f, HYPER_AGENT_EXIT, 0, "{\"process\":3,\"status\":1}");
        CHECK_EQ_INT(agent_call(f.agent, HYPER_AGENT_EXEC, NULL, 5000, NULL, NULL), 0);
        CHECK_EQ_INT(f.exits, 0);
        /* The next turn of the loop hands both out, in order, without waiting for anything else. */
        CHECK_EQ_INT(agent_process(f.agent, 5000), 0);
        CHECK_EQ_INT(f.exits, 2);
        CHECK_EQ_INT(f.exit_process, 3);
        CHECK_EQ_INT(f.exit_status, 1);
        /* Outside a call, an EXIT is handed out as it comes. */
        fake_send_json(&f, HYPER_AGENT_EXIT, 0, "{\"process\":4,\"status\":9}");
        for (int i = 0; i < 100 && f.exits == 2; i++)
                CHECK_EQ_INT(agent_process(f.agent, 10), 0);
        CHECK_EQ_INT(f.exits, 3);
        CHECK_EQ_INT(f.exit_process, 4);
        /* A loop that ends after a call hands out what was held without running anything else. */
        fake_send_json(&f, HYPER_AGENT_REPLY, 2, "{}");
        fake_send_json(&f, HYPER_AGENT_EXIT, 0, "{\"process\":5,\"status\":0}");
        CHECK_EQ_INT(agent_call(f.agent, HYPER_AGENT_PING, NULL, 5000, NULL, NULL), 0);
        CHECK_EQ_INT(f.exits, 3);
        CHECK(agent_deliver_held_exits(f.agent));
        CHECK_EQ_INT(f.exits, 4);
        CHECK_EQ_INT(f.exit_process, 5);
        CHECK(!agent_deliver_held_exits(f.agent));
        fake_done(&f);
}

/* Output through a pipe the test drains: every byte arrives, and credit comes back for each. */
static void test_output_stream_credit(void)
{
        const size_t total = 3 * 1024 * 1024;
        uint64_t credit = HYPER_AGENT_INITIAL_CREDIT, sent = 0, got = 0, granted = 0;
        struct fake f;
        struct hyper_agent_header h;
        uint8_t chunk[HYPER_AGENT_MAX_DATA], tmp[65536];
        uint32_t sid;
        int p[2];

        fake_init(&f);
        CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
        sid = agent_stream_id(f.agent);
        CHECK(agent_stream_output(f.agent, sid, p[1]) == 0);
        close(p[1]);
        while (got < total) {
                while (sent < total && credit > 0) {
                        size_t n = MIN(MIN(sizeof(chunk), credit), total - sent);
                        for (size_t i = 0; i < n; i++)
                                chunk[i] = (uint8_t)((sent + i) % 251);
                        fake_send(&f, false, HYPER_AGENT_DATA, sid, chunk, n);
                        sent += n;
                        credit -= n;
                }
                if (sent == total && credit != (uint64_t)-1) {
                        fake_send(&f, false, HYPER_AGENT_EOF, sid, NULL, 0);
                        credit = (uint64_t)-1;
                }
                CHECK_EQ_INT(agent_process(f.agent, 10), 0);
                ssize_t n = read(p[0], tmp, sizeof(tmp));
                for (ssize_t i = 0; i < n; i++)
                        CHECK_EQ_INT(tmp[i], (got + (uint64_t)i) % 251);
                if (n > 0)
                        got += (uint64_t)n;
                while (credit != (uint64_t)-1 && fake_recv(&f, false, &h, 1)) {
                        CHECK_EQ_INT(h.type, HYPER_AGENT_CREDIT);
                        CHECK_EQ_INT(h.id, sid);
                        uint32_t c = (uint32_t)f.payload[0] << 24 | (uint32_t)f.payload[1] << 16 |
                                     (uint32_t)f.payload[2] << 8 | f.payload[3];
                        credit += c;
                        granted += c;
                }
        }
        CHECK_EQ_INT(got, total);
        CHECK(granted >= total - HYPER_AGENT_INITIAL_CREDIT);
        for (int i = 0; i < 50 && !agent_stream_done(f.agent, sid); i++)
                agent_process(f.agent, 10);
        CHECK(agent_stream_done(f.agent, sid));
        /* The agent closed its end once EOF was written out. */
        CHECK_EQ_INT(read(p[0], tmp, sizeof(tmp)), 0);
        close(p[0]);
        fake_done(&f);
}

/* A guest that sends past its credit into a reader that does not read is cut off. */
static void test_data_beyond_credit(void)
{
        static uint8_t chunk[HYPER_AGENT_MAX_DATA];
        struct fake f;
        uint32_t sid;
        int p[2];

        fake_init(&f);
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0);
        sid = agent_stream_id(f.agent);
        CHECK(agent_stream_output(f.agent, sid, p[1]) == 0);
        for (int i = 0; i < 20 && !agent_error(f.agent); i++) {
                fake_send(&f, false, HYPER_AGENT_DATA, sid, chunk, sizeof(chunk));
                agent_process(f.agent, 0);
        }
        expect_broken(&f, "beyond its credit");
        close(p[0]);
        close(p[1]);
        fake_done(&f);
}

static void test_hostile_stream(void)
{
        static const struct {
                uint16_t type;
                uint32_t id;
                const char *payload;
                size_t len;
                const char *why;
        } cases[] = {
                { HYPER_AGENT_DATA, 99, "x", 1, "unknown stream" },
                { HYPER_AGENT_CREDIT, 1, "\0\0\0\1", 4, "bad CREDIT" },   /* credit for an output stream */
                { HYPER_AGENT_CREDIT, 2, "\xff\xff\xff\xff", 4, "more credit than allowed" },
                { HYPER_AGENT_DATA, 2, "x", 1, "DATA on input stream" },
                { HYPER_AGENT_EXEC, 1, "{}", 2, "on the stream channel" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct fake f;
                int out[2], in[2];
                fake_init(&f);
                CHECK(pipe2(out, O_CLOEXEC) == 0 && pipe2(in, O_CLOEXEC) == 0);
                CHECK(agent_stream_output(f.agent, agent_stream_id(f.agent), out[1]) == 0);
                CHECK(agent_stream_input(f.agent, agent_stream_id(f.agent), in[0]) == 0);
                fake_send(&f, false, cases[i].type, cases[i].id, cases[i].payload, cases[i].len);
                expect_broken(&f, cases[i].why);
                close(out[0]), close(out[1]), close(in[0]), close(in[1]);
                fake_done(&f);
        }
}

/* Input from a pipe goes out as DATA then EOF, and from a regular file too (epoll refuses those). */
static void test_input_stream(bool regular)
{
        struct fake f;
        struct hyper_agent_header h;
        char text[] = "hello from the host";
        char got[64] = "";
        size_t len = 0;
        uint32_t sid;
        int p[2];

        fake_init(&f);
        if (regular) {
                FILE *t = tmpfile();
                CHECK(t);
                fputs(text, t);
                fflush(t);
                rewind(t);
                p[0] = dup(fileno(t));
                p[1] = -1;
                fclose(t);
        } else {
                CHECK(pipe2(p, O_CLOEXEC) == 0);
                CHECK(write(p[1], text, strlen(text)) == (ssize_t)strlen(text));
                close(p[1]);
        }
        sid = agent_stream_id(f.agent);
        CHECK(agent_stream_input(f.agent, sid, p[0]) == 0);
        close(p[0]);
        for (;;) {
                CHECK(fake_recv(&f, false, &h, 200));
                CHECK_EQ_INT(h.id, sid);
                if (h.type == HYPER_AGENT_EOF)
                        break;
                CHECK_EQ_INT(h.type, HYPER_AGENT_DATA);
                CHECK(len + h.length < sizeof(got));
                memcpy(got + len, f.payload, h.length);
                len += h.length;
        }
        got[len] = '\0';
        CHECK_STREQ(got, text);
        fake_done(&f);
}

static void test_input_pipe(void)
{
        test_input_stream(false);
}

static void test_input_regular_file(void)
{
        test_input_stream(true);
}

int main(void)
{
        RUN_TEST(test_hello);
        RUN_TEST(test_hello_mismatch_and_error);
        RUN_TEST(test_call_timeout);
        RUN_TEST(test_watch_waits_for_call);
        RUN_TEST(test_hostile_control);
        RUN_TEST(test_exit_event);
        RUN_TEST(test_exit_waits_for_call);
        RUN_TEST(test_output_stream_credit);
        RUN_TEST(test_data_beyond_credit);
        RUN_TEST(test_hostile_stream);
        RUN_TEST(test_input_pipe);
        RUN_TEST(test_input_regular_file);
        return 0;
}
