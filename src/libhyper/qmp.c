/* SPDX-License-Identifier: Apache-2.0 */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "hypervisor-internal.h"
#include "socket-util.h"
#include "macros.h"

/* QEMU's replies are short; a line longer than this is not a reply we expect. */
#define QMP_MAX_LINE (1024 * 1024)

struct qmp {
        int fd;
        char *buf;
        size_t len;
        size_t size;
        uint64_t next_id;
};

void qmp_close(struct qmp *qmp)
{
        if (!qmp)
                return;
        safe_close(qmp->fd);
        free(qmp->buf);
        free(qmp);
}

static int qmp_send(struct qmp *qmp, json_object *msg)
{
        const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
        size_t len = strlen(s);

        /* MSG_NOSIGNAL: a QEMU that went away is an error to return, not a SIGPIPE. */
        while (len > 0) {
                ssize_t n = send(qmp->fd, s, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                s += n;
                len -= (size_t)n;
        }
        if (send(qmp->fd, "\n", 1, MSG_NOSIGNAL) != 1)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

/* Takes the first complete line out of the buffer and parses it. */
static int qmp_take_line(struct qmp *qmp, json_object **ret)
{
        char *nl = qmp->len > 0 ? memchr(qmp->buf, '\n', qmp->len) : NULL;
        size_t n;
        json_object *o;

        if (!nl)
                return 0;
        *nl = '\0';
        n = (size_t)(nl - qmp->buf) + 1;
        o = json_tokener_parse(qmp->buf);
        memmove(qmp->buf, qmp->buf + n, qmp->len - n);
        qmp->len -= n;
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 1;
}

static int qmp_fill(struct qmp *qmp, int64_t deadline)
{
        struct pollfd pfd = { .fd = qmp->fd, .events = POLLIN };
        ssize_t n;
        int r;

        if (qmp->size - qmp->len < 4096) {
                size_t size = qmp->size ? qmp->size * 2 : 8192;
                char *p;

                if (size > QMP_MAX_LINE)
                        return -EMSGSIZE;
                p = realloc(qmp->buf, size);
                if (!p)
                        return -ENOMEM;
                qmp->buf = p;
                qmp->size = size;
        }
        r = poll(&pfd, 1, hypervisor_remaining_ms(deadline));
        if (r < 0)
                return errno == EINTR ? 0 : -errno;
        if (r == 0)
                return -ETIMEDOUT;
        n = recv(qmp->fd, qmp->buf + qmp->len, qmp->size - qmp->len, 0);
        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;
        qmp->len += (size_t)n;
        return 0;
}

static int qmp_read(struct qmp *qmp, int64_t deadline, json_object **ret)
{
        for (;;) {
                int r = qmp_take_line(qmp, ret);
                if (r != 0)
                        return r < 0 ? r : 0;
                r = qmp_fill(qmp, deadline);
                if (r < 0)
                        return r;
        }
}

static int qmp_reply(json_object *reply, json_object **ret_return, char **ret_error)
{
        json_object *v;

        if (json_object_object_get_ex(reply, "return", &v)) {
                if (ret_return)
                        *ret_return = json_object_get(v);
                return 0;
        }
        if (ret_error && json_object_object_get_ex(reply, "error", &v)) {
                json_object *desc;
                if (json_object_object_get_ex(v, "desc", &desc))
                        *ret_error = strdup(json_object_get_string(desc));
        }
        return -EIO;
}

static bool qmp_is_reply_to(json_object *msg, uint64_t id)
{
        json_object *v;

        return json_object_object_get_ex(msg, "id", &v) && json_object_is_type(v, json_type_int) &&
               (uint64_t)json_object_get_int64(v) == id;
}

int qmp_execute(struct qmp *qmp, const char *command, json_object *args, int timeout_ms,
                json_object **ret_return, char **ret_error)
{
        int64_t deadline = hypervisor_deadline(timeout_ms);
        uint64_t id = ++qmp->next_id;
        json_object *msg = json_object_new_object();
        int r;

        if (!msg) {
                json_object_put(args);
                return -ENOMEM;
        }
        json_object_object_add(msg, "execute", json_object_new_string(command));
        if (args)
                json_object_object_add(msg, "arguments", args);
        json_object_object_add(msg, "id", json_object_new_int64((int64_t)id));
        r = qmp_send(qmp, msg);
        json_object_put(msg);
        if (r < 0)
                return r;

        /* Events and replies to other ids come in between; they are skipped. */
        for (;;) {
                json_object *reply = NULL;

                r = qmp_read(qmp, deadline, &reply);
                if (r < 0)
                        return r;
                if (qmp_is_reply_to(reply, id)) {
                        r = qmp_reply(reply, ret_return, ret_error);
                        json_object_put(reply);
                        return r;
                }
                json_object_put(reply);
        }
}


int qmp_connect(const char *path, int timeout_ms, struct qmp **ret)
{
        int64_t deadline = hypervisor_deadline(timeout_ms);
        _cleanup_qmp_ struct qmp *qmp = NULL;
        json_object *greeting = NULL;
        bool ok;
        int r;

        qmp = calloc(1, sizeof(*qmp));
        if (!qmp)
                return -ENOMEM;
        qmp->fd = socket_connect_unix(path, SOCK_STREAM);
        if (qmp->fd < 0)
                return qmp->fd;
        r = qmp_read(qmp, deadline, &greeting);
        if (r < 0)
                return r;
        ok = json_object_object_get_ex(greeting, "QMP", NULL);
        json_object_put(greeting);
        if (!ok)
                return -EPROTO;
        r = qmp_execute(qmp, "qmp_capabilities", NULL, hypervisor_remaining_ms(deadline), NULL, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(qmp);
        return 0;
}

int qmp_execute_once(const char *path, const char *command, json_object *args, int timeout_ms,
                     char **ret_error)
{
        int64_t deadline = hypervisor_deadline(timeout_ms);
        _cleanup_qmp_ struct qmp *qmp = NULL;
        int r;

        r = qmp_connect(path, timeout_ms, &qmp);
        if (r < 0) {
                json_object_put(args);
                return r;
        }
        return qmp_execute(qmp, command, args, hypervisor_remaining_ms(deadline), NULL, ret_error);
}
