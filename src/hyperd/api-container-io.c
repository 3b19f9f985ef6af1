/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's I/O through its hyperd-shim (docs/shim.md): create and
 * start apart, attach (an upgraded connection, Docker's), resize, logs
 * (the shim's CRI log, read back as Docker's streams), and interactive
 * and detached exec (a shim of the exec's own, under B/exec/EID).
 *
 * Nothing here is kept in hyperd's memory beyond a request: the shim
 * holds the streams, so every route works the same in a hyperd started
 * after the container was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "container-io.h"
#include "containers.h"
#include "fd-util.h"
#include "fs-util.h"
#include "hyperd.h"
#include "json-util.h"
#include "log.h"
#include "pods.h"
#include "random-util.h"
#include "shim-proto.h"

#define LOGS_MAX_TAIL   1000000
#define LOGS_CHUNK      (64 * 1024)
#define LOGS_FOLLOW_MS  250
#define EXEC_ID_LEN     64
#define RELAY_CHUNK     (SHIM_MAX_MESSAGE - 1)

/* ---- the container: found, its tty, its bundle ---- */

struct io_ct {
        struct db_container ct;
        char *bundle;
        bool tty;
};

static void io_ct_done(struct io_ct *x)
{
        db_container_done(&x->ct);
        free(x->bundle);
}

static int io_find(struct hyperd *hd, struct MHD_Connection *c, const char *ref, struct io_ct *ret,
                   enum MHD_Result *ret_reply)
{
        char *error = NULL;
        int r;

        *ret = (struct io_ct){0};
        r = api_container_lookup(hd, ref, &ret->ct, &error);
        if (r < 0) {
                *ret_reply = http_reply_errno(c, r, error, "cannot find the container");
                return r;
        }
        ret->bundle = container_bundle(hd, ret->ct.id, NULL);
        if (!ret->bundle) {
                io_ct_done(ret);
                *ret_reply = MHD_NO;
                return -ENOMEM;
        }
        ret->tty = container_config_tty(hd, ret->ct.id);
        return 0;
}

static int io_bool(struct MHD_Connection *c, const char *key, bool def, bool *ret)
{
        const char *v = http_query(c, key);

        *ret = def;
        return v ? router_parse_bool(v, ret) : 0;
}

/* ---- start ---- */

enum MHD_Result api_container_start(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        struct container_status st;
        enum MHD_Result ret;
        struct io_ct x;
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        if (io_find(hd, c, req->route.ref, &x, &ret) < 0)
                return ret;
        r = container_state(hd, x.ct.id, &st);
        if (r < 0)
                ret = http_reply_errno(c, r, NULL, "cannot read the container's state");
        else if (strcmp(st.status, "created") != 0)
                ret = http_reply_error(c, MHD_HTTP_CONFLICT,
                                       "container %s is %s: only a created container can be started%s", x.ct.name,
                                       st.status,
                                       container_is_live(&st) ? "" : " (run a new one: hyperctl run)");
        else if ((r = container_start(hd, x.ct.id, &error)) < 0)
                ret = http_reply_errno(c, r, error, "cannot start the container");
        else {
                json_object_object_add(o, "id", json_object_new_string(x.ct.id));
                ret = http_reply_json(c, MHD_HTTP_OK, o);
        }
        io_ct_done(&x);
        return ret;
}

/* ---- the log: CRI records back to Docker's streams ---- */

struct log_reader {
        int fd;
        off_t off;
        bool tty, timestamps;
        int streams; /* SHIM_STDOUT | SHIM_STDERR */
        bool line_start[2];
        struct buf carry; /* an incomplete record */
};

/* "TS stdout|stderr F|P text": 0 and the parts, or -EINVAL for a line of another format (shown as stdout). */
static int log_parse(const char *line, size_t len, const char **ts, size_t *ts_len, int *stream, bool *full,
                     const char **text, size_t *text_len)
{
        const char *sp = memchr(line, ' ', len), *p;

        if (!sp || (size_t)(sp - line) < 20 || len - (size_t)(sp - line) < 10)
                return -EINVAL;
        p = sp + 1;
        if (strncmp(p, "stdout ", 7) == 0)
                *stream = 0;
        else if (strncmp(p, "stderr ", 7) == 0)
                *stream = 1;
        else
                return -EINVAL;
        p += 7;
        if ((*p != 'F' && *p != 'P') || p[1] != ' ')
                return -EINVAL;
        *full = *p == 'F';
        *ts = line;
        *ts_len = (size_t)(sp - line);
        *text = p + 2;
        *text_len = len - (size_t)(*text - line);
        return 0;
}

static int log_emit(struct log_reader *lr, struct buf *out, const char *line, size_t len)
{
        const char *ts = NULL, *text = line;
        size_t ts_len = 0, text_len = len, n;
        int stream = 0, r;
        bool full = true;
        uint8_t hdr[8] = {0};

        if (log_parse(line, len, &ts, &ts_len, &stream, &full, &text, &text_len) < 0) {
                ts = NULL;
                text = line;
                text_len = len;
                stream = 0;
                full = true;
        }
        if (!(lr->streams & (stream == 0 ? SHIM_STDOUT : SHIM_STDERR))) {
                lr->line_start[stream] = full;
                return 0;
        }
        n = text_len + (full ? 1 : 0) + (lr->timestamps && ts && lr->line_start[stream] ? ts_len + 1 : 0);
        if (!lr->tty) {
                hdr[0] = (uint8_t)(stream + 1);
                hdr[4] = (uint8_t)(n >> 24);
                hdr[5] = (uint8_t)(n >> 16);
                hdr[6] = (uint8_t)(n >> 8);
                hdr[7] = (uint8_t)n;
                r = buf_append(out, hdr, sizeof(hdr));
                if (r < 0)
                        return r;
        }
        if (lr->timestamps && ts && lr->line_start[stream] &&
            ((r = buf_append(out, ts, ts_len)) < 0 || (r = buf_append(out, " ", 1)) < 0))
                return r;
        if ((r = buf_append(out, text, text_len)) < 0 || (full && (r = buf_append(out, "\n", 1)) < 0))
                return r;
        lr->line_start[stream] = full;
        return 0;
}

/* Reads what the log has past lr->off and appends it, formatted, to out; 0 when there was nothing new. */
static ssize_t log_read(struct log_reader *lr, struct buf *out)
{
        char chunk[LOGS_CHUNK];
        ssize_t n = pread(lr->fd, chunk, sizeof(chunk), lr->off);
        size_t done = 0;
        int r;

        if (n <= 0)
                return n < 0 ? -errno : 0;
        lr->off += n;
        while (done < (size_t)n) {
                char *nl = memchr(chunk + done, '\n', (size_t)n - done);
                size_t piece = nl ? (size_t)(nl - (chunk + done)) : (size_t)n - done;

                if (!nl) {
                        r = buf_append(&lr->carry, chunk + done, piece);
                        if (r < 0)
                                return r;
                        break;
                }
                if (buf_len(&lr->carry) > 0) {
                        r = buf_append(&lr->carry, chunk + done, piece);
                        if (r < 0)
                                return r;
                        r = log_emit(lr, out, (const char *)buf_head(&lr->carry), buf_len(&lr->carry));
                        buf_consume(&lr->carry, buf_len(&lr->carry));
                } else
                        r = log_emit(lr, out, chunk + done, piece);
                if (r < 0)
                        return r;
                done += piece + 1;
        }
        return n;
}

/* A P record continues on the next line: it ends no line of its own. */
static bool log_record_partial(int fd, off_t start)
{
        char head[96];
        ssize_t n = pread(fd, head, sizeof(head) - 1, start);
        const char *ts, *text;
        size_t ts_len, text_len;
        int stream;
        bool full;
        char *nl;

        if (n <= 0)
                return false;
        nl = memchr(head, '\n', (size_t)n);
        if (nl)
                n = nl - head;
        /* The text may be cut off here; the tag comes before it. */
        if (log_parse(head, (size_t)n, &ts, &ts_len, &stream, &full, &text, &text_len) < 0)
                return false;
        return !full;
}

/*
 * Where the last n (> 0) lines of the log start: just after the record
 * that ends the line before them (the n+1-th F record from the end).
 */
static off_t log_tail_offset(int fd, off_t size, uint64_t n)
{
        char buf[8192];
        off_t end = size, later = size;
        uint64_t seen = 0;

        while (end > 0) {
                size_t len = end > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)end;
                off_t start = end - (off_t)len;

                if (pread(fd, buf, len, start) != (ssize_t)len)
                        return 0;
                for (size_t i = len; i > 0; i--) {
                        off_t record = start + (off_t)i;

                        /* buf[i - 1] ends a record; the one after it starts at record. */
                        if (buf[i - 1] != '\n' || record >= size)
                                continue;
                        if (!log_record_partial(fd, record) && seen++ == n)
                                return later;
                        later = record;
                }
                end = start;
        }
        if (!log_record_partial(fd, 0) && seen++ == n)
                return later;
        return 0;
}

static int log_parse_tail(const char *s, uint64_t *ret)
{
        *ret = UINT64_MAX;
        if (!s || strcmp(s, "all") == 0)
                return 0;
        return router_parse_size(s, LOGS_MAX_TAIL, ret) < 0 || s[strlen(s) - 1] < '0' || s[strlen(s) - 1] > '9'
                       ? -EINVAL
                       : 0;
}

struct log_stream {
        struct log_reader lr;
        struct buf out;
        bool follow, ended;
        int watch;  /* a connection to the shim, which hangs up when it ends; -1 once it has */
        int client; /* the client's socket, to notice it leave */
};

static void log_stream_free(void *cls)
{
        struct log_stream *s = cls;

        safe_close(s->lr.fd);
        safe_close(s->watch);
        buf_free(&s->lr.carry);
        buf_free(&s->out);
        free(s);
}

static ssize_t log_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct log_stream *s = cls;

        while (buf_len(&s->out) == 0) {
                struct pollfd p[2] = {{.fd = s->watch, .events = POLLIN}, {.fd = s->client, .events = POLLRDHUP}};
                ssize_t n;

                if (s->ended)
                        return MHD_CONTENT_READER_END_OF_STREAM;
                n = log_read(&s->lr, &s->out);
                if (n < 0)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                if (n > 0)
                        continue;
                if (!s->follow || s->watch < 0) {
                        /* Drained, and nothing more will come. */
                        s->ended = true;
                        continue;
                }
                if (poll(p, 2, LOGS_FOLLOW_MS) < 0 && errno != EINTR)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                if (p[1].revents)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                if (p[0].revents) {
                        /* The shim has ended: the log is complete; one more read drains it. */
                        s->watch = safe_close(s->watch);
                }
        }
        max = MIN(max, buf_len(&s->out));
        memcpy(buf, buf_head(&s->out), max);
        buf_consume(&s->out, max);
        return (ssize_t)max;
}

/* The log's fd and a reader set up from the query (tail, stdout, stderr, timestamps). */
static int log_open(struct MHD_Connection *c, const struct io_ct *x, struct log_reader *lr, const char **ret_error)
{
        _cleanup_free_ char *path = NULL;
        bool out, err;
        uint64_t tail;
        struct stat st;

        *lr = (struct log_reader){.fd = -1, .tty = x->tty, .line_start = {true, true}};
        if (log_parse_tail(http_query(c, "tail"), &tail) < 0) {
                *ret_error = "tail must be a number of lines or \"all\"";
                return -EINVAL;
        }
        if (io_bool(c, "stdout", true, &out) < 0 || io_bool(c, "stderr", true, &err) < 0 ||
            io_bool(c, "timestamps", false, &lr->timestamps) < 0) {
                *ret_error = "stdout, stderr and timestamps must be 1, true, 0 or false";
                return -EINVAL;
        }
        lr->streams = (out ? SHIM_STDOUT : 0) | (err ? SHIM_STDERR : 0);
        if (asprintf(&path, "%s/log", x->bundle) < 0)
                return -ENOMEM;
        lr->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (lr->fd < 0 && errno == ENOENT)
                lr->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (lr->fd < 0 || fstat(lr->fd, &st) < 0) {
                *ret_error = NULL;
                return -errno;
        }
        if (tail == 0)
                lr->off = st.st_size;
        else if (tail != UINT64_MAX)
                lr->off = log_tail_offset(lr->fd, st.st_size, tail);
        return 0;
}

static const char *io_content_type(bool tty)
{
        return tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
}

enum MHD_Result api_container_logs(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        struct MHD_Response *resp;
        struct log_stream *s;
        const char *error = NULL;
        enum MHD_Result ret;
        struct io_ct x;
        bool follow;
        int r;

        if (io_bool(c, "follow", false, &follow) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "follow must be 1, true, 0 or false");
        if (io_find(hd, c, req->route.ref, &x, &ret) < 0)
                return ret;
        s = calloc(1, sizeof(*s));
        if (!s) {
                io_ct_done(&x);
                return MHD_NO;
        }
        s->watch = -1;
        s->follow = follow;
        /* A followed log may be quiet for longer than the idle timeout: this connection has none. */
        if (follow)
                MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
        s->client = http_connection_fd(c);
        r = log_open(c, &x, &s->lr, &error);
        if (r >= 0 && follow)
                s->watch = container_shim_attach(x.bundle, -1);
        if (s->watch < 0)
                s->watch = -1;
        if (r < 0) {
                log_stream_free(s);
                io_ct_done(&x);
                if (error)
                        return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "%s", error);
                return http_reply_errno(c, r, NULL, "cannot read the container's log");
        }
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LOGS_CHUNK, log_stream_read, s, log_stream_free);
        if (!resp) {
                log_stream_free(s);
                io_ct_done(&x);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, io_content_type(x.tty));
        io_ct_done(&x);
        ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* ---- attach: an upgraded connection relayed to the shim ---- */

struct relay {
        int shim;
        char *held; /* the container held from the exit watcher while attached, or NULL */
        bool tty, stdin_; /* the client's input goes to the process */
        struct log_reader lr; /* logs=1: the log first; lr.fd -1 otherwise */
        bool stream;
};

/* Once a client's attach ends, it may ask for the exit code before an autoRemove container goes. */
#define RELAY_HOLD_AFTER_MS 5000

static void relay_free(struct relay *r)
{
        if (r->held) {
                watcher_release_after(r->held, RELAY_HOLD_AFTER_MS);
                free(r->held);
        }
        safe_close(r->shim);
        safe_close(r->lr.fd);
        buf_free(&r->lr.carry);
        free(r);
}

/* Output from the shim ('1' or '2' DATA) as the client gets it: raw with a tty, Docker's frames without. */
static int relay_frame(struct relay *r, struct buf *out, const char *msg, size_t n)
{
        uint8_t hdr[8] = {0};
        size_t len = n - 1;
        int k;

        if (n < 1 || (msg[0] != '1' && msg[0] != '2'))
                return 0;
        if (!r->tty) {
                hdr[0] = (uint8_t)(msg[0] - '0');
                hdr[4] = (uint8_t)(len >> 24);
                hdr[5] = (uint8_t)(len >> 16);
                hdr[6] = (uint8_t)(len >> 8);
                hdr[7] = (uint8_t)len;
                k = buf_append(out, hdr, sizeof(hdr));
                if (k < 0)
                        return k;
        }
        return buf_append(out, msg + 1, len);
}

/*
 * Both ways at once, never blocking on one: the client's input goes to
 * the shim as '0' messages (its end as 'c'), the shim's output to the
 * client. Ends when the shim ends (the output is over) or the client goes.
 */
static void relay_run(struct relay *r, int client, const char *extra, size_t extra_len)
{
        char in[SHIM_MAX_MESSAGE], msg[SHIM_MAX_MESSAGE];
        size_t in_len = 0;
        struct buf out = {0};
        bool client_open = true, shim_open = true;

        fd_nonblock(client, true);
        fd_nonblock(r->shim, true);
        if (extra_len > 0 && r->stdin_) {
                in[0] = '0';
                in_len = 1 + MIN(extra_len, sizeof(in) - 1);
                memcpy(in + 1, extra, in_len - 1);
        }
        while (shim_open || buf_len(&out) > 0) {
                struct pollfd p[2] = {
                        /* Once the client has half-closed, only its hang-up (always reported) matters. */
                        {.fd = client,
                         .events = (short)((client_open && in_len == 0 ? POLLIN | POLLRDHUP : 0) |
                                           (buf_len(&out) ? POLLOUT : 0))},
                        {.fd = shim_open ? r->shim : -1,
                         .events = (short)((buf_len(&out) == 0 ? POLLIN : 0) | (in_len ? POLLOUT : 0))},
                };

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents & (POLLERR | POLLHUP))
                        break;
                if (p[0].revents & POLLIN) {
                        ssize_t n = read(client, in + 1, sizeof(in) - 1);

                        if (n == 0) {
                                client_open = false;
                                if (r->stdin_) {
                                        in[0] = 'c';
                                        in_len = 1;
                                }
                        } else if (n > 0 && r->stdin_) {
                                in[0] = '0';
                                in_len = 1 + (size_t)n;
                        } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                break;
                }
                if ((p[1].revents & POLLOUT) && in_len > 0) {
                        if (send(r->shim, in, in_len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
                                in_len = 0;
                        else if (errno != EAGAIN)
                                shim_open = false;
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = recv(r->shim, msg, sizeof(msg), MSG_DONTWAIT);

                        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                                shim_open = false;
                        else if (n > 0 && relay_frame(r, &out, msg, (size_t)n) < 0)
                                break;
                }
                if ((p[0].revents & POLLOUT) && buf_len(&out) > 0) {
                        ssize_t n = write(client, buf_head(&out), buf_len(&out));

                        if (n > 0)
                                buf_consume(&out, (size_t)n);
                        else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                break;
                }
        }
        buf_free(&out);
}

static void relay_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in,
                           size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
        struct relay *r = cls;

        if (r->lr.fd >= 0) {
                struct buf out = {0};

                while (log_read(&r->lr, &out) > 0)
                        if (buf_len(&out) > 0 && loop_write(sock, buf_head(&out), buf_len(&out)) < 0)
                                break;
                        else
                                buf_consume(&out, buf_len(&out));
                buf_free(&out);
        }
        if (r->stream && r->shim >= 0)
                relay_run(r, sock, extra_in, extra_in_size);
        relay_free(r);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* Whether the Connection header's comma-separated tokens have "upgrade" ("x-upgrade" is not it). */
static bool io_connection_upgrade(const char *conn)
{
        while (conn && *conn) {
                size_t n;

                conn += strspn(conn, " \t,");
                n = strcspn(conn, ",");
                while (n > 0 && (conn[n - 1] == ' ' || conn[n - 1] == '\t'))
                        n--;
                if (n == 7 && strncasecmp(conn, "upgrade", 7) == 0)
                        return true;
                conn += strcspn(conn, ",");
        }
        return false;
}

/*
 * 1: an upgrade that libmicrohttpd will make (HTTP/1.1, "Connection: upgrade" as a token, "Upgrade: tcp");
 * 0: none asked for (no Upgrade header); -1: one asked for that would be refused. Checked before anything
 * is started for it (an exec's shim), so that a refused 101 leaves nothing behind.
 */
static int io_wants_upgrade(struct MHD_Connection *c, const struct request *req)
{
        const char *conn = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONNECTION),
                   *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_UPGRADE);

        if (!up && !io_connection_upgrade(conn))
                return 0;
        return req->http_1_1 && up && strcasecmp(up, "tcp") == 0 && io_connection_upgrade(conn) ? 1 : -1;
}

/* 101 and the relay; on failure r is freed and an error reply queued. */
static enum MHD_Result io_upgrade(struct MHD_Connection *c, struct relay *r, const char *exec_id)
{
        struct MHD_Response *resp = MHD_create_response_for_upgrade(relay_upgraded, r);
        enum MHD_Result ret;

        if (!resp) {
                relay_free(r);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "tcp");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, io_content_type(r->tty));
        if (exec_id)
                MHD_add_response_header(resp, "Hyper-Exec-Id", exec_id);
        ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
        MHD_destroy_response(resp);
        /* Refused: relay_upgraded() will never run, so the relay (and an exec's shim client) ends here. */
        if (ret != MHD_YES)
                relay_free(r);
        return ret;
}

static enum MHD_Result io_need_upgrade(struct MHD_Connection *c)
{
        return http_reply_error(c, MHD_HTTP_BAD_REQUEST,
                                "this route needs an upgraded connection: an HTTP/1.1 request with "
                                "\"Connection: Upgrade\" and \"Upgrade: tcp\" (hyperctl attach sends one)");
}

enum MHD_Result api_container_attach(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        bool stream, in, out, err, logs;
        const char *error = NULL;
        enum MHD_Result ret;
        struct relay *r;
        struct io_ct x;
        int flags;

        if (io_bool(c, "stream", true, &stream) < 0 || io_bool(c, "stdin", false, &in) < 0 ||
            io_bool(c, "stdout", true, &out) < 0 || io_bool(c, "stderr", true, &err) < 0 ||
            io_bool(c, "logs", false, &logs) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST,
                                        "stream, stdin, stdout, stderr and logs must be 1, true, 0 or false");
        if (io_wants_upgrade(c, req) != 1)
                return io_need_upgrade(c);
        if (io_find(hd, c, req->route.ref, &x, &ret) < 0)
                return ret;
        r = calloc(1, sizeof(*r));
        if (!r) {
                io_ct_done(&x);
                return MHD_NO;
        }
        *r = (struct relay){.shim = -1, .tty = x.tty, .stdin_ = in, .stream = stream, .lr = {.fd = -1}};
        flags = (in ? SHIM_STDIN : 0) | (out ? SHIM_STDOUT : 0) | (err ? SHIM_STDERR : 0);
        if (logs && log_open(c, &x, &r->lr, &error) < 0) {
                relay_free(r);
                io_ct_done(&x);
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "%s", error ? error : "cannot read the log");
        }
        r->lr.streams = (out ? SHIM_STDOUT : 0) | (err ? SHIM_STDERR : 0);
        if (stream && x.ct.auto_remove) {
                /*
                 * A foreground run --rm: the watcher removes it once ended, but not before its client, whose
                 * stream ends with the output, has asked for the exit code (wait holds it from then on).
                 */
                r->held = strdup(x.ct.id);
                if (!r->held) {
                        relay_free(r);
                        io_ct_done(&x);
                        return MHD_NO;
                }
                watcher_hold(r->held);
        }
        if (stream) {
                /* The shim's hello comes before the 101: what the container writes from now on is ours. */
                r->shim = container_shim_attach(x.bundle, flags);
                if (r->shim < 0) {
                        ret = http_reply_error(c, MHD_HTTP_CONFLICT,
                                               "container %s is not running (its output has ended): "
                                               "see its output with hyperctl logs",
                                               x.ct.name);
                        relay_free(r);
                        io_ct_done(&x);
                        return ret;
                }
        }
        io_ct_done(&x);
        return io_upgrade(c, r, NULL);
}

static int io_parse_size(struct MHD_Connection *c, unsigned *h, unsigned *w)
{
        uint64_t a, b;
        const char *hs = http_query(c, "h"), *ws = http_query(c, "w");

        if (!hs || !ws || router_parse_size(hs, 65535, &a) < 0 || router_parse_size(ws, 65535, &b) < 0 ||
            hs[strlen(hs) - 1] < '0' || hs[strlen(hs) - 1] > '9' || ws[strlen(ws) - 1] < '0' ||
            ws[strlen(ws) - 1] > '9')
                return -EINVAL;
        *h = (unsigned)a;
        *w = (unsigned)b;
        return 0;
}

static enum MHD_Result io_resize(struct MHD_Connection *c, const char *dir, const char *name, bool tty)
{
        unsigned h, w;
        int r;

        if (io_parse_size(c, &h, &w) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "h and w must be numbers of rows and columns");
        if (!tty)
                return http_reply_error(c, MHD_HTTP_CONFLICT, "%s has no tty to resize (it was made without -t)",
                                        name);
        r = container_shim_resize(dir, h, w);
        if (r < 0)
                return http_reply_error(c, MHD_HTTP_CONFLICT, "%s is not running", name);
        return http_reply_json(c, MHD_HTTP_OK, json_object_new_object());
}

enum MHD_Result api_container_resize(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        enum MHD_Result ret;
        struct io_ct x;

        if (io_find(hd, c, req->route.ref, &x, &ret) < 0)
                return ret;
        ret = io_resize(c, x.bundle, x.ct.name, x.tty);
        io_ct_done(&x);
        return ret;
}

/* ---- exec through a shim: interactive (upgraded) or detached ---- */

struct exec_body {
        char **cmd, **env;
        const char *workdir, *user;
        bool tty, stdin_, detach;
        int64_t rows, cols; /* "console_size": [rows, cols], the client's terminal */
};

static int exec_parse_body(struct request *req, struct json_object **o, struct exec_body *b, const char **ret_error)
{
        struct json_object *size;

        *b = (struct exec_body){0};
        if (!req->body || json_parse_object(req->body, req->body_len, o) < 0) {
                *ret_error = "the request needs a JSON body: {\"cmd\": [...]}";
                return -EINVAL;
        }
        if (json_get_strv(*o, "cmd", CONTAINER_MAX_ARGS, &b->cmd) < 0 || !b->cmd[0]) {
                *ret_error = "\"cmd\" must be a non-empty array of strings";
                return -EINVAL;
        }
        if (json_get_strv(*o, "env", CONTAINER_MAX_ENV, &b->env) == -EINVAL ||
            json_get_string(*o, "workdir", &b->workdir) == -EINVAL || json_get_string(*o, "user", &b->user) == -EINVAL ||
            json_get_bool(*o, "tty", &b->tty) == -EINVAL || json_get_bool(*o, "stdin", &b->stdin_) == -EINVAL ||
            json_get_bool(*o, "detach", &b->detach) == -EINVAL) {
                *ret_error = "\"env\" must be an array of strings, \"workdir\" and \"user\" strings, "
                             "\"tty\", \"stdin\" and \"detach\" booleans";
                return -EINVAL;
        }
        if (json_object_object_get_ex(*o, "console_size", &size)) {
                if (!json_object_is_type(size, json_type_array) || json_object_array_length(size) != 2 ||
                    !json_object_is_type(json_object_array_get_idx(size, 0), json_type_int) ||
                    !json_object_is_type(json_object_array_get_idx(size, 1), json_type_int)) {
                        *ret_error = "\"console_size\" must be [rows, columns]";
                        return -EINVAL;
                }
                b->rows = json_object_get_int64(json_object_array_get_idx(size, 0));
                b->cols = json_object_get_int64(json_object_array_get_idx(size, 1));
                if (b->rows < 0 || b->rows > 65535 || b->cols < 0 || b->cols > 65535) {
                        *ret_error = "\"console_size\" must be [rows, columns], each at most 65535";
                        return -EINVAL;
                }
        }
        return 0;
}

static void exec_body_done(struct exec_body *b)
{
        strv_free(b->cmd);
        strv_free(b->env);
}

/* K=V over the entry of the same key, or appended. */
static void exec_env_set(struct json_object *env, const char *kv)
{
        size_t klen = strcspn(kv, "=");

        for (size_t i = 0; i < json_object_array_length(env); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(env, i));

                if (e && strncmp(e, kv, klen) == 0 && e[klen] == '=') {
                        json_object_array_put_idx(env, i, json_object_new_string(kv));
                        return;
                }
        }
        json_object_array_add(env, json_object_new_string(kv));
}

/*
 * DIR/process.json for runv exec --process: the container's own process
 * (its env, cwd and user) with the command, env, workdir and user given;
 * a user by name is looked up in the container's /etc/passwd, and a tty
 * gets the client's size from the start (runv sends no later resize of an
 * exec's pty to the guest).
 */
static int exec_process_file(struct hyperd *hd, const char *container_id, const struct exec_body *b,
                             const char *path, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *spec = NULL;
        _cleanup_free_ char *config = container_bundle(hd, container_id, "config.json"), *text = NULL;
        struct json_object *proc, *root, *rp, *args = json_object_new_array(), *env, *cwd = NULL;
        const char *out;
        size_t len;
        int r;

        if (!config || !args) {
                json_object_put(args);
                return -ENOMEM;
        }
        r = read_full_file(config, 1024 * 1024, &text, &len);
        if (r < 0 || json_parse_object(text, len, &spec) < 0 || !json_object_object_get_ex(spec, "process", &proc) ||
            !json_object_object_get_ex(spec, "root", &root) || !json_object_object_get_ex(root, "path", &rp)) {
                json_object_put(args);
                return r < 0 ? r : -EBADMSG;
        }
        for (char **a = b->cmd; *a; a++)
                json_object_array_add(args, json_object_new_string(*a));
        json_object_object_add(proc, "args", args);
        if (!json_object_object_get_ex(proc, "env", &env) || !json_object_is_type(env, json_type_array)) {
                env = json_object_new_array();
                json_object_object_add(proc, "env", env);
        }
        for (char **e = b->env; e && *e; e++)
                exec_env_set(env, *e);
        if (b->workdir)
                json_object_object_add(proc, "cwd", json_object_new_string(b->workdir));
        else if (!json_object_object_get_ex(proc, "cwd", &cwd))
                json_object_object_add(proc, "cwd", json_object_new_string("/"));
        json_object_object_add(proc, "terminal", json_object_new_boolean(b->tty));
        if (b->user) {
                _cleanup_close_ int fd = open(json_object_get_string(rp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct json_object *u = json_object_new_object();
                uint32_t uid, gid;

                r = fd < 0 ? -errno : container_user(fd, b->user, &uid, &gid, ret_error);
                if (r < 0 || !u) {
                        json_object_put(u);
                        return r < 0 ? r : -ENOMEM;
                }
                json_object_object_add(u, "uid", json_object_new_int64(uid));
                json_object_object_add(u, "gid", json_object_new_int64(gid));
                json_object_object_add(proc, "user", u);
        }
        json_object_object_del(proc, "consoleSize");
        if (b->tty && b->rows > 0 && b->cols > 0) {
                struct json_object *cs = json_object_new_object();

                json_object_object_add(cs, "height", json_object_new_int64(b->rows));
                json_object_object_add(cs, "width", json_object_new_int64(b->cols));
                json_object_object_add(proc, "consoleSize", cs);
        }
        out = json_object_to_json_string_ext(proc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return out ? write_file_atomic(path, out, strlen(out), 0600) : -ENOMEM;
}

/* The exec's row (execs table): its command, tty and detach; the exit code comes later, from its shim. */
static int exec_record(struct hyperd *hd, const char *eid, const char *container_id, const struct exec_body *b)
{
        _cleanup_(json_object_putp) struct json_object *a = json_object_new_array();
        struct db_exec e;

        for (char **p = b->cmd; a && *p; p++)
                json_object_array_add(a, json_object_new_string(*p));
        if (!a)
                return -ENOMEM;
        e = (struct db_exec){.id = (char *)eid, .container_id = (char *)container_id,
                             .command = (char *)json_object_to_json_string_ext(
                                     a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                             .tty = b->tty, .detach = b->detach, .created = time(NULL)};
        return e.command ? db_exec_add(hd->db, &e) : -ENOMEM;
}

enum MHD_Result api_container_exec_io(struct hyperd *hd, struct MHD_Connection *c, struct request *req,
                                      const char *container_id, bool *handled)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL, *reply = NULL;
        _cleanup_free_ char *dir = NULL, *process = NULL, *bundle = container_bundle(hd, container_id, NULL);
        struct exec_body b;
        struct shim_options so = {0};
        const char *error = NULL;
        char *serror = NULL, eid[EXEC_ID_LEN + 1];
        struct relay *rl;
        int upgrade = io_wants_upgrade(c, req);
        int r, fd;

        *handled = false;
        if (upgrade < 0) {
                *handled = true;
                return io_need_upgrade(c);
        }
        if (exec_parse_body(req, &o, &b, &error) < 0) {
                exec_body_done(&b);
                if (!upgrade && !(o && json_object_object_get_ex(o, "detach", NULL)))
                        return MHD_NO; /* the plain exec gives the same message */
                *handled = true;
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "%s", error);
        }
        if (!upgrade && !b.detach) {
                exec_body_done(&b);
                return MHD_NO;
        }
        *handled = true;
        if (upgrade && b.detach) {
                exec_body_done(&b);
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "\"detach\" and an upgraded connection exclude each other");
        }
        if (!bundle || random_hex(eid, EXEC_ID_LEN) < 0 || asprintf(&dir, "%s/exec/%s", bundle, eid) < 0 ||
            asprintf(&process, "%s/process.json", dir) < 0) {
                exec_body_done(&b);
                return MHD_NO;
        }
        char *args[] = {(char *)"exec", (char *)"--process", process, (char *)"--console-socket",
                        (char *)SHIM_CONSOLE_SOCKET, (char *)container_id, NULL};
        if (!b.tty) {
                args[3] = (char *)container_id;
                args[4] = NULL;
        }
        r = exec_record(hd, eid, container_id, &b);
        if (r >= 0)
                r = mkdir_p(dir, 0700);
        if (r >= 0)
                r = exec_process_file(hd, container_id, &b, process, &serror);
        so = (struct shim_options){.dir = dir, .tty = b.tty, .stdin_open = b.stdin_ && upgrade,
                                   .stdin_once = b.stdin_ && upgrade, .wait_attach = upgrade, .exit_file = true};
        if (r >= 0)
                r = container_shim_start(hd, &so, args, &serror);
        if (r < 0) {
                exec_body_done(&b);
                rm_rf(dir);
                db_exec_remove(hd->db, eid);
                return http_reply_errno(c, r, serror, "cannot start the exec");
        }
        log_info("exec %s in container %s (%s)", eid, container_id, upgrade ? "attached" : "detached");
        if (!upgrade) {
                exec_body_done(&b);
                reply = json_object_new_object();
                if (!reply)
                        return MHD_NO;
                json_object_object_add(reply, "id", json_object_new_string(eid));
                return http_reply_json(c, MHD_HTTP_CREATED, reply);
        }
        fd = container_shim_attach(dir, (b.stdin_ ? SHIM_STDIN : 0) | SHIM_STDOUT | SHIM_STDERR);
        rl = fd >= 0 ? calloc(1, sizeof(*rl)) : NULL;
        if (!rl) {
                safe_close(fd);
                exec_body_done(&b);
                return http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot reach the exec's shim in %s", dir);
        }
        *rl = (struct relay){.shim = fd, .tty = b.tty, .stdin_ = b.stdin_, .stream = true, .lr = {.fd = -1}};
        exec_body_done(&b);
        return io_upgrade(c, rl, eid);
}

/* B/exec/EID of the container that has it; -ENOENT when none has. */
static int exec_find(struct hyperd *hd, const char *eid, char **ret_dir, char **ret_container)
{
        _cleanup_free_ char *root = NULL;
        struct dirent *de;
        DIR *d;
        int r = -ENOENT;

        if (strlen(eid) != EXEC_ID_LEN || strspn(eid, "0123456789abcdef") != EXEC_ID_LEN)
                return -ENOENT;
        if (asprintf(&root, "%s/containers", hd->config->root) < 0)
                return -ENOMEM;
        d = opendir(root);
        if (!d)
                return -ENOENT;
        while ((de = readdir(d))) {
                char *p;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&p, "%s/%s/exec/%s", root, de->d_name, eid) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (stat(p, &st) == 0) {
                        *ret_dir = p;
                        *ret_container = strdup(de->d_name);
                        r = *ret_container ? 0 : -ENOMEM;
                        break;
                }
                free(p);
        }
        closedir(d);
        return r;
}

/*
 * An exec's record: its row, with the exit code read from the shim's exit
 * file (the source) and recorded into the row the first time it is there;
 * an exec without a row (made before the execs table) from its folder only.
 */
static struct json_object *exec_json(struct hyperd *hd, const char *eid, const char *container, const char *dir,
                                     struct db_exec *e)
{
        _cleanup_free_ char *exit_path = NULL, *text = NULL;
        struct json_object *o = json_object_new_object(), *cmd = NULL;
        int64_t code = e ? e->exit_code : -1;
        size_t len;
        bool running = false;
        int fd;

        if (!o)
                return NULL;
        if (dir && code < 0 && asprintf(&exit_path, "%s/%s", dir, SHIM_EXIT_FILE) >= 0 &&
            read_full_file(exit_path, 64, &text, &len) >= 0) {
                code = strtol(text, NULL, 10);
                if (e && code >= 0 && db_exec_set_exit(hd->db, eid, code) >= 0)
                        e->exit_code = code;
        }
        if (dir && code < 0) {
                fd = container_shim_attach(dir, -1);
                running = fd >= 0;
                safe_close(fd);
        }
        json_object_object_add(o, "id", json_object_new_string(eid));
        json_object_object_add(o, "containerId", json_object_new_string(container));
        json_object_object_add(o, "running", json_object_new_boolean(running));
        json_object_object_add(o, "exitCode", code >= 0 ? json_object_new_int((int)code) : NULL);
        if (e) {
                cmd = json_tokener_parse(e->command);
                json_object_object_add(o, "cmd", cmd);
                json_object_object_add(o, "tty", json_object_new_boolean(e->tty));
                json_object_object_add(o, "detach", json_object_new_boolean(e->detach));
                json_object_object_add(o, "created", json_object_new_int64(e->created));
        }
        return o;
}

static char *exec_dir(struct hyperd *hd, const char *container, const char *eid)
{
        _cleanup_free_ char *bundle = container_bundle(hd, container, NULL);
        char *p;

        return bundle && asprintf(&p, "%s/exec/%s", bundle, eid) >= 0 ? p : NULL;
}

enum MHD_Result api_exec_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *dir = NULL, *container = NULL;
        _cleanup_(db_exec_done) struct db_exec e = {.exit_code = -1};
        bool have_row = false;
        int r;

        r = db_exec_get(hd->db, req->route.ref, &e);
        if (r >= 0) {
                have_row = true;
                container = strdup(e.container_id);
                dir = exec_dir(hd, e.container_id, e.id);
                if (!container || !dir)
                        return MHD_NO;
        } else if (exec_find(hd, req->route.ref, &dir, &container) < 0)
                return http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such exec: %s", req->route.ref);
        o = exec_json(hd, req->route.ref, container, dir, have_row ? &e : NULL);
        return o ? http_reply_json(c, MHD_HTTP_OK, o) : MHD_NO;
}

enum MHD_Result api_container_execs(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();
        struct db_container ct;
        struct db_exec *a = NULL;
        char *error = NULL;
        size_t n = 0;
        int r;

        if (!arr)
                return MHD_NO;
        r = api_container_lookup(hd, req->route.ref, &ct, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot find the container");
        r = db_exec_list(hd->db, ct.id, &a, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *dir = exec_dir(hd, ct.id, a[i].id);
                struct json_object *o = exec_json(hd, a[i].id, ct.id, dir, &a[i]);

                if (o)
                        json_object_array_add(arr, o);
        }
        db_exec_free_array(a, n);
        db_container_done(&ct);
        if (r < 0)
                return http_reply_errno(c, r, NULL, "cannot list the container's execs");
        return http_reply_json(c, MHD_HTTP_OK, arr);
}

enum MHD_Result api_exec_resize(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_free_ char *dir = NULL, *container = NULL;

        if (exec_find(hd, req->route.ref, &dir, &container) < 0)
                return http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such exec: %s", req->route.ref);
        /* The shim of an exec without a tty takes the resize and ignores it. */
        return io_resize(c, dir, req->route.ref, true);
}
