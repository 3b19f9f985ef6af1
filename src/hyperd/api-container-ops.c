/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What is done to a container that exists: wait, stop, kill, exec (the
 * plain one, which collects the output; api-container-io.c has the rest).
 * wait and exec block the connection's thread; both notice a client
 * that goes away (its socket hangs up) and stop waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.h"
#include "pods.h"
#include "fd-util.h"
#include "hyperd.h"
#include "json-util.h"
#include "log.h"

#define EXEC_MAX_OUTPUT  (1024 * 1024)
#define STOP_MAX_TIMEOUT 3600

/* Looks the container up and reads its state; on failure a reply is queued and *ret_reply says which. */
static int ops_find(struct hyperd *hd, struct MHD_Connection *c, struct request *req, struct db_container *ret,
                    struct container_status *ret_st, enum MHD_Result *ret_reply)
{
        char *error = NULL;
        int r;

        r = api_container_lookup(hd, req->route.ref, ret, &error);
        if (r >= 0 && (r = container_state(hd, ret->id, ret_st)) < 0)
                db_container_done(ret);
        if (r < 0)
                *ret_reply = http_reply_errno(c, r, error, "cannot find the container");
        return r;
}

static enum MHD_Result ops_not_running(struct MHD_Connection *c, const struct db_container *ct,
                                       const struct container_status *st)
{
        return http_reply_error(c, MHD_HTTP_CONFLICT, "container %s is not running (it is %s)", ct->name, st->status);
}

static enum MHD_Result ops_reply_exit(struct MHD_Connection *c, const struct db_container *ct,
                                      const struct container_status *st)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o)
                return MHD_NO;
        json_object_object_add(o, "id", json_object_new_string(ct->id));
        json_object_object_add(o, "exitCode", st->exit_code >= 0 ? json_object_new_int(st->exit_code) : NULL);
        return http_reply_json(c, MHD_HTTP_OK, o);
}

enum MHD_Result api_container_wait(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        struct container_status st;
        struct db_container ct, again;
        enum MHD_Result ret;
        char *error = NULL;
        int r;

        r = api_container_lookup(hd, req->route.ref, &ct, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot find the container");
        /*
         * The exit watcher removes no autoRemove container before its waiter has the exit code: held first,
         * then (once a removal the watcher had begun is over: it removes under the pods' lock) found again.
         */
        watcher_hold(ct.id);
        pods_lock();
        pods_unlock();
        r = api_container_lookup(hd, ct.id, &again, &error);
        if (r >= 0) {
                db_container_done(&again);
                r = container_state(hd, ct.id, &st);
        }
        if (r < 0) {
                watcher_release(ct.id);
                ret = http_reply_errno(c, r, error, "cannot find the container");
                db_container_done(&ct);
                return ret;
        }
        /* The wait may outlast the idle timeout, which would drop the reply. */
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
        r = container_wait(hd, ct.id, -1, http_connection_fd(c), &st);
        if (r == -ECANCELED)
                ret = MHD_NO;
        else if (r < 0)
                ret = http_reply_errno(c, r, NULL, "cannot wait for the container");
        else
                ret = ops_reply_exit(c, &ct, &st);
        watcher_release(ct.id);
        db_container_done(&ct);
        return ret;
}

enum MHD_Result api_container_stop(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        const char *t = http_query(c, "t");
        struct container_status st;
        struct db_container ct;
        enum MHD_Result ret;
        uint64_t timeout = 10;
        int r;

        if (t &&
            (router_parse_size(t, STOP_MAX_TIMEOUT, &timeout) < 0 || t[strlen(t) - 1] < '0' || t[strlen(t) - 1] > '9'))
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "t must be a number of seconds, at most %d",
                                        STOP_MAX_TIMEOUT);
        if (ops_find(hd, c, req, &ct, &st, &ret) < 0)
                return ret;
        /*
         * A pod's restart policy leaves a container a user stopped stopped (a no-op outside pods). The mark
         * is made under the lock (the watcher reads it again under it); the stop, which may last the whole
         * timeout, is not, so other stops, removals and the watcher go on meanwhile.
         */
        pods_lock();
        db_member_set_stopped(hd->db, ct.id, true);
        pods_unlock();
        r = container_stop(hd, ct.id, (int)timeout, &st);
        if (r < 0)
                ret = http_reply_errno(c, r, NULL, "cannot stop the container");
        else
                ret = ops_reply_exit(c, &ct, &st);
        db_container_done(&ct);
        return ret;
}

/* The mark that a pod's restart policy leaves alone, under the lock the watcher reads it under. */
static int ops_mark_stopped(struct hyperd *hd, const char *id)
{
        int r;

        pods_lock();
        r = db_member_set_stopped(hd->db, id, true);
        pods_unlock();
        return r;
}

static int ops_parse_signal(const char *s)
{
        char *end;
        long n;

        if (!s || !*s)
                return SIGKILL;
        n = strtol(s, &end, 10);
        if (!*end)
                return n > 0 && n < NSIG ? (int)n : -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (int sig = 1; sig < NSIG; sig++)
                if (sigabbrev_np(sig) && strcasecmp(s, sigabbrev_np(sig)) == 0)
                        return sig;
        return -EINVAL;
}

enum MHD_Result api_container_kill(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        int sig = ops_parse_signal(http_query(c, "signal"));
        struct container_status st;
        struct db_container ct;
        enum MHD_Result ret;
        char *error = NULL;
        int r;

        if (sig < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "unknown signal \"%s\"", http_query(c, "signal"));
        if (ops_find(hd, c, req, &ct, &st, &ret) < 0)
                return ret;
        if (!container_is_live(&st))
                ret = ops_not_running(c, &ct, &st);
        else if ((sig == SIGKILL || sig == SIGTERM) && (r = ops_mark_stopped(hd, ct.id)) < 0)
                ret = http_reply_errno(c, r, NULL, "cannot record the container as stopped");
        else if ((r = container_signal(hd, ct.id, sig, &error)) < 0)
                ret = http_reply_errno(c, r, error, "cannot signal the container");
        else
                ret = ops_reply_exit(c, &ct, &st);
        db_container_done(&ct);
        return ret;
}

static int exec_error(char **ret_error, const char *msg)
{
        *ret_error = strdup(msg);
        return -EINVAL;
}

/* The body of an exec: {"cmd": [...], "env": [...], "workdir": "...", "user": "..."}. */
static int exec_args(struct request *req, const char *id, char ***ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(strv_freep) char **cmd = NULL, **env = NULL;
        const char *cwd = NULL, *user = NULL;
        char **v;
        size_t n = 0, i = 0;

        if (!req->body || json_parse_object(req->body, req->body_len, &o) < 0)
                return exec_error(ret_error, "the request needs a JSON body: {\"cmd\": [...]}");
        if (json_get_strv(o, "cmd", CONTAINER_MAX_ARGS, &cmd) < 0 || !cmd[0])
                return exec_error(ret_error, "\"cmd\" must be a non-empty array of strings");
        if (json_get_strv(o, "env", CONTAINER_MAX_ENV, &env) == -EINVAL ||
            json_get_string(o, "workdir", &cwd) == -EINVAL || json_get_string(o, "user", &user) == -EINVAL)
                return exec_error(ret_error, "\"env\" must be an array of strings, \"workdir\" and \"user\" strings");
        while (cmd[n])
                n++;
        for (char **p = env; p && *p; p++)
                n += 2;
        v = calloc(n + 8, sizeof(char *));
        if (!v)
                return -ENOMEM;
        v[i++] = strdup("exec");
        for (char **p = env; p && *p; p++) {
                v[i++] = strdup("--env");
                v[i++] = strdup(*p);
        }
        if (cwd) {
                v[i++] = strdup("--cwd");
                v[i++] = strdup(cwd);
        }
        if (user) {
                v[i++] = strdup("--user");
                v[i++] = strdup(user);
        }
        v[i++] = strdup(id);
        for (char **p = cmd; *p; p++)
                v[i++] = strdup(*p);
        for (size_t k = 0; k < i; k++)
                if (!v[k]) {
                        strv_free(v);
                        return -ENOMEM;
                }
        *ret = v;
        return 0;
}

static enum MHD_Result exec_reply(struct MHD_Connection *c, struct runv_result *res)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o)
                return MHD_NO;
        json_object_object_add(o, "exitCode", json_object_new_int(res->status));
        json_object_object_add(o, "stdout", json_object_new_string_len(res->out ? res->out : "", (int)res->out_len));
        json_object_object_add(o, "stderr", json_object_new_string_len(res->err ? res->err : "", (int)res->err_len));
        json_object_object_add(o, "truncated", json_object_new_boolean(res->out_truncated || res->err_truncated));
        return http_reply_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result exec_run(struct hyperd *hd, struct MHD_Connection *c, struct request *req, const char *id)
{
        _cleanup_(strv_freep) char **args = NULL;
        struct runv_driver d = {.runv = hd->runv, .root = hd->config->runv_root};
        struct runv_call call = {
                .out_fd = -1, .err_fd = -1, .max = EXEC_MAX_OUTPUT, .cancel_fd = http_connection_fd(c)};
        struct runv_result res;
        enum MHD_Result ret;
        char *error = NULL;
        int r;

        r = exec_args(req, id, &args, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot exec");
        call.args = args;
        r = runv_driver_run(&d, &call, &res);
        if (r < 0)
                return http_reply_errno(c, r, NULL, "cannot run runv exec");
        ret = exec_reply(c, &res);
        runv_result_done(&res);
        return ret;
}

enum MHD_Result api_container_exec(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        struct container_status st;
        struct db_container ct;
        enum MHD_Result ret;

        if (ops_find(hd, c, req, &ct, &st, &ret) < 0)
                return ret;
        if (strcmp(st.status, "running") != 0)
                ret = ops_not_running(c, &ct, &st);
        else {
                bool handled;

                ret = api_container_exec_io(hd, c, req, ct.id, &handled);
                if (!handled)
                        ret = exec_run(hd, c, req, ct.id);
        }
        db_container_done(&ct);
        return ret;
}
