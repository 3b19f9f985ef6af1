/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "json-util.h"
#include "monitor.h"
#include "runv.h"
#include "socket-util.h"
#include "status.h"

int runv_monitor_connect(const char *id, int *ret_fd)
{
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s/monitor.sock", runv.root, id) < 0)
                return -ENOMEM;
        fd = socket_connect_unix(path, SOCK_SEQPACKET);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int runv_monitor_send(int fd, struct json_object *req, const int *fds, size_t n_fds)
{
        const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);

        if (strlen(text) > MONITOR_MAX_MESSAGE)
                return -EMSGSIZE;
        return socket_send_fds(fd, text, strlen(text), fds, n_fds);
}

int runv_monitor_recv(int fd, struct json_object **ret)
{
        _cleanup_free_ char *buf = malloc(MONITOR_MAX_MESSAGE);
        int fds[SOCKET_MAX_FDS];
        size_t n_fds = 0;
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        n = socket_recv_fds(fd, buf, MONITOR_MAX_MESSAGE, fds, 0, &n_fds);
        if (n < 0)
                return (int)n;
        if (n == 0)
                return -ECONNRESET;
        return json_parse_object(buf, (size_t)n, ret);
}

int runv_monitor_call(const char *id, struct json_object *req, char **ret_error, struct json_object **ret_reply)
{
        _cleanup_(json_object_putp) struct json_object *reply = NULL;
        _cleanup_close_ int fd = -1;
        const char *err;
        int r;

        r = runv_monitor_connect(id, &fd);
        if (r >= 0)
                r = runv_monitor_send(fd, req, NULL, 0);
        if (r >= 0)
                r = runv_monitor_recv(fd, &reply);
        if (r < 0)
                return r;
        if (json_get_string(reply, "error", &err) >= 0) {
                *ret_error = strdup(err);
                return -EREMOTEIO;
        }
        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

int runv_monitor_op(const char *id, const char *op, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "op", json_object_new_string(op));
        return runv_monitor_call(id, req, ret_error, NULL);
}

int runv_load_existing(const char *id, struct runv_state **ret)
{
        int r = state_load(id, ret);

        if (r == -ENOENT)
                return runv_error("container %s does not exist", id);
        if (r < 0)
                return runv_error("cannot read the state of %s: %s", id, strerror(-r));
        return 0;
}
