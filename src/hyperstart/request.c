/* SPDX-License-Identifier: Apache-2.0 */
#include "request.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/utsname.h>

#include "blockdev.h"
#include "container.h"
#include "log.h"
#include "network.h"
#include "process.h"
#include "stream.h"

/* Limits on what one request may make us allocate. */
#define REQUEST_MAX_ARGS 4096
#define REQUEST_MAX_ENV 4096
#define REQUEST_MAX_GROUPS 256
#define REQUEST_MAX_PATH 4096

int request_fail(struct request *req, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(req->error, sizeof(req->error), fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

static void request_send(struct agent *a, uint16_t type, uint32_t id, struct json_object *body)
{
        size_t len;
        const char *s = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);

        if (!s || agent_send(a, &a->ctl, type, id, s, len) < 0)
                log_error("Cannot queue the answer to request %u", id);
}

static void request_send_error(struct agent *a, uint32_t id, const char *msg)
{
        struct json_object *o = json_object_new_object();

        if (!o)
                return;
        json_object_object_add(o, "error", json_object_new_string(msg));
        request_send(a, HYPER_AGENT_ERROR, id, o);
        json_object_put(o);
}

void request_send_exit(struct agent *a, uint32_t process, int status)
{
        struct json_object *o = json_object_new_object();

        if (!o)
                return;
        json_object_object_add(o, "process", json_object_new_int64(process));
        json_object_object_add(o, "status", json_object_new_int(status));
        request_send(a, HYPER_AGENT_EXIT, 0, o);
        json_object_put(o);
}

void request_reject(struct agent *a, const struct hyper_agent_header *h, const char *reason)
{
        /* Events carry id 0: an ERROR with id 0 would answer nothing. */
        if (h->id != 0)
                request_send_error(a, h->id, reason);
}

static int request_hello(struct agent *a, struct request *req)
{
        struct utsname u;
        uint32_t version;
        int r;

        r = body_u32(req, "version", true, UINT32_MAX, &version);
        if (r < 0)
                return r;
        if (version != HYPER_AGENT_VERSION)
                return request_fail(req, -EPROTONOSUPPORT, "protocol version %u is not supported, hyperstart speaks %d",
                                    version, HYPER_AGENT_VERSION);
        a->hello_done = true;
        json_object_object_add(req->reply, "version", json_object_new_int(HYPER_AGENT_VERSION));
        if (uname(&u) == 0)
                json_object_object_add(req->reply, "kernel", json_object_new_string(u.release));
        return 0;
}

static int request_pod(struct agent *a, struct request *req)
{
        const char *hostname = NULL, *share = "virtiofs";
        int r;

        r = body_string(req, "hostname", false, 64, &hostname);
        if (r < 0)
                return r;
        r = body_string(req, "share", false, 16, &share);
        if (r < 0)
                return r;
        return pod_start(a, hostname, share, req);
}

static int request_container(struct agent *a, struct request *req)
{
        return container_create(a, req);
}

static int request_exec_ids(struct request *req, struct spawn *s)
{
        int r;

        r = body_u32(req, "process", true, UINT32_MAX, &s->id);
        if (r >= 0)
                r = body_u32(req, "uid", false, UINT32_MAX - 1, &s->uid);
        if (r >= 0)
                r = body_u32(req, "gid", false, UINT32_MAX - 1, &s->gid);
        if (r >= 0)
                r = body_u32v(req, "groups", REQUEST_MAX_GROUPS, &s->groups, &s->n_groups);
        if (r >= 0)
                r = body_bool(req, "terminal", &s->terminal);
        if (r >= 0)
                r = body_u32(req, "rows", false, UINT16_MAX, &s->rows);
        if (r >= 0)
                r = body_u32(req, "cols", false, UINT16_MAX, &s->cols);
        if (r >= 0)
                r = body_u32(req, "stdin", false, UINT32_MAX, &s->sid_in);
        if (r >= 0)
                r = body_u32(req, "stdout", false, UINT32_MAX, &s->sid_out);
        if (r >= 0)
                r = body_u32(req, "stderr", false, UINT32_MAX, &s->sid_err);
        return r;
}

static int request_exec_parse(struct request *req, struct spawn *s)
{
        int r;

        s->cwd = "/";
        r = body_strv(req, "args", true, REQUEST_MAX_ARGS, &s->args);
        if (r < 0)
                return r;
        if (!s->args[0] || s->args[0][0] == '\0')
                return request_fail(req, -EINVAL, "field \"args\" needs a program name");
        r = body_strv(req, "env", false, REQUEST_MAX_ENV, &s->env);
        if (r < 0)
                return r;
        r = body_string(req, "cwd", false, REQUEST_MAX_PATH, &s->cwd);
        if (r < 0)
                return r;
        if (s->cwd[0] != '/')
                return request_fail(req, -EINVAL, "field \"cwd\" must be an absolute path");
        return request_exec_ids(req, s);
}

static int request_exec(struct agent *a, struct request *req)
{
        struct spawn s = { 0 };
        struct container *c;
        const char *id;
        int r;

        r = body_string(req, "container", true, 256, &id);
        if (r < 0)
                return r;
        c = container_find(a, id);
        if (!c)
                return request_fail(req, -ENOENT, "container %s does not exist", id);
        r = request_exec_parse(req, &s);
        if (r >= 0)
                r = process_spawn(a, c, &s, req);
        spawn_done(&s);
        return r;
}

static int request_find_process(struct agent *a, struct request *req, struct process **ret)
{
        uint32_t id;
        int r;

        r = body_u32(req, "process", true, UINT32_MAX, &id);
        if (r < 0)
                return r;
        *ret = process_find(a, id);
        if (!*ret)
                return request_fail(req, -ESRCH, "process %u does not exist", id);
        return 0;
}

static int request_signal(struct agent *a, struct request *req)
{
        struct process *p;
        uint32_t sig;
        int r;

        r = request_find_process(a, req, &p);
        if (r < 0)
                return r;
        r = body_u32(req, "signal", true, (uint32_t)SIGRTMAX, &sig);
        if (r < 0)
                return r;
        if (sig == 0)
                return request_fail(req, -EINVAL, "signal 0 is not a signal");
        r = process_signal(p, (int)sig);
        if (r < 0)
                return request_fail(req, r, "cannot signal process %u: %s", p->id, strerror(-r));
        return 0;
}

static int request_winsize(struct agent *a, struct request *req)
{
        struct process *p;
        uint32_t rows, cols;
        int r;

        r = request_find_process(a, req, &p);
        if (r < 0)
                return r;
        r = body_u32(req, "rows", true, UINT16_MAX, &rows);
        if (r < 0)
                return r;
        r = body_u32(req, "cols", true, UINT16_MAX, &cols);
        if (r < 0)
                return r;
        r = process_winsize(p, (uint16_t)rows, (uint16_t)cols);
        if (r < 0)
                return request_fail(req, r, "process %u has no terminal", p->id);
        return 0;
}

static int request_remove(struct agent *a, struct request *req)
{
        struct container *c;
        const char *id;
        int r;

        r = body_string(req, "id", true, 256, &id);
        if (r < 0)
                return r;
        c = container_find(a, id);
        if (!c)
                return request_fail(req, -ENOENT, "container %s does not exist", id);
        return container_remove(a, c, req);
}

static int request_poweroff(struct agent *a, struct request *req)
{
        a->poweroff = true;
        a->quit = true;
        return 0;
}

static int request_ping(struct agent *a, struct request *req)
{
        return 0;
}

static int request_network(struct agent *a, struct request *req)
{
        return network_configure(a, req);
}

static const struct {
        uint16_t type;
        int (*handle)(struct agent *a, struct request *req);
} request_handlers[] = {
        { HYPER_AGENT_HELLO, request_hello },
        { HYPER_AGENT_POD, request_pod },
        { HYPER_AGENT_CONTAINER, request_container },
        { HYPER_AGENT_EXEC, request_exec },
        { HYPER_AGENT_SIGNAL, request_signal },
        { HYPER_AGENT_WINSIZE, request_winsize },
        { HYPER_AGENT_REMOVE, request_remove },
        { HYPER_AGENT_POWEROFF, request_poweroff },
        { HYPER_AGENT_PING, request_ping },
        { HYPER_AGENT_NETWORK, request_network },
        { HYPER_AGENT_MOUNT, blockdev_mount },
        { HYPER_AGENT_UNMOUNT, blockdev_unmount },
};

static int request_parse_body(struct request *req, const uint8_t *payload, size_t len)
{
        struct json_tokener *tok;
        size_t end;

        if (len == 0) {
                req->body = json_object_new_object();
                return req->body ? 0 : -ENOMEM;
        }
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        req->body = json_tokener_parse_ex(tok, (const char *)payload, (int)len);
        if (!req->body || json_tokener_get_error(tok) != json_tokener_success) {
                request_fail(req, -EBADMSG, "body is not valid JSON: %s",
                             json_tokener_error_desc(json_tokener_get_error(tok)));
                json_tokener_free(tok);
                return -EBADMSG;
        }
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        /* json-c stops after the first value: anything but blanks after it is garbage. */
        for (; end < len; end++)
                if (!strchr(" \t\r\n", payload[end]) || payload[end] == '\0')
                        return request_fail(req, -EBADMSG, "body has bytes after its JSON value");
        if (!json_object_is_type(req->body, json_type_object))
                return request_fail(req, -EBADMSG, "body is not a JSON object");
        return 0;
}

static int request_handle(struct agent *a, struct request *req, const uint8_t *payload, size_t len)
{
        int r;

        r = request_parse_body(req, payload, len);
        if (r < 0)
                return r;
        if (!a->hello_done && req->type != HYPER_AGENT_HELLO)
                return request_fail(req, -EPROTO, "HELLO must come first");
        req->reply = json_object_new_object();
        if (!req->reply)
                return -ENOMEM;
        for (size_t i = 0; i < ARRAY_SIZE(request_handlers); i++)
                if (request_handlers[i].type == req->type)
                        return request_handlers[i].handle(a, req);
        return request_fail(req, -EOPNOTSUPP, "frame type 0x%x is not a request", req->type);
}

void request_dispatch(struct agent *a, const struct hyper_agent_header *h, const uint8_t *payload)
{
        struct request req = { .id = h->id, .type = h->type };
        int r;

        if (h->id == 0) {
                log_warning("%s frame without a request id dropped", frame_type_name(h->type));
                return;
        }
        r = request_handle(a, &req, payload, h->length);
        if (r == REQUEST_DEFERRED) {
                log_debug("%s request %u answered later", frame_type_name(h->type), h->id);
                json_object_put(req.body);
                json_object_put(req.reply);
                return;
        }
        request_finish(a, &req, r);
}

void request_finish(struct agent *a, struct request *req, int r)
{
        if (r < 0) {
                if (req->error[0] == '\0')
                        snprintf(req->error, sizeof(req->error), "%s", strerror(-r));
                log_warning("%s request %u failed: %s", frame_type_name(req->type), req->id, req->error);
                request_send_error(a, req->id, req->error);
        } else {
                log_debug("%s request %u done", frame_type_name(req->type), req->id);
                request_send(a, HYPER_AGENT_REPLY, req->id, req->reply);
        }
        json_object_put(req->body);
        json_object_put(req->reply);
        req->body = req->reply = NULL;
}
