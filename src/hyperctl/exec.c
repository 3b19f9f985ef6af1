/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl exec: a command in a running container. Plain, its output is
 * printed once it ends (hyperd keeps up to 1 MiB of each stream); with -i
 * and/or -t it streams through an upgraded connection (stdin, a terminal,
 * resizes), with -d it is left running and hyperctl returns at once.
 * hyperctl exits with the command's exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hyperctl.h"
#include "json-util.h"

#define EXEC_MAX_ENV 1024

struct exec_opts {
        bool interactive, tty, detach;
        const char *workdir, *user;
        const char *env[EXEC_MAX_ENV];
        size_t n_env;
};

static int exec_parse(int argc, char **argv, struct exec_opts *o)
{
        static const struct option opts[] = {
                {"env", required_argument, NULL, 'e'},
                {"workdir", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},
                {"interactive", no_argument, NULL, 'i'},
                {"tty", no_argument, NULL, 't'},
                {"detach", no_argument, NULL, 'd'},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+e:w:u:itd", opts, NULL)) >= 0) {
                switch (c) {
                case 'w':
                        o->workdir = optarg;
                        break;
                case 'u':
                        o->user = optarg;
                        break;
                case 'e':
                        if (o->n_env >= EXEC_MAX_ENV)
                                return hc_usage_error("too many -e");
                        o->env[o->n_env++] = optarg;
                        break;
                case 'i':
                        o->interactive = true;
                        break;
                case 't':
                        o->tty = true;
                        break;
                case 'd':
                        o->detach = true;
                        break;
                default:
                        return HC_EXIT_USAGE;
                }
        }
        if (argc - optind < 2)
                return hc_usage_error("usage: hyperctl exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER "
                                      "COMMAND [ARG...]");
        if (o->detach && o->interactive)
                return hc_usage_error("-d leaves the command running without hyperctl: -i has no stdin to give it");
        if (!o->detach)
                return hc_check_tty(o->tty, o->interactive);
        return 0;
}

static struct json_object *exec_body(const struct exec_opts *o, int argc, char **argv)
{
        struct json_object *b = json_object_new_object(), *cmd = json_object_new_array(),
                           *env = json_object_new_array();

        if (!b || !cmd || !env) {
                json_object_put(b);
                json_object_put(cmd);
                json_object_put(env);
                return NULL;
        }
        for (int i = optind + 1; i < argc; i++)
                json_object_array_add(cmd, json_object_new_string(argv[i]));
        for (size_t i = 0; i < o->n_env; i++)
                json_object_array_add(env, json_object_new_string(o->env[i]));
        json_object_object_add(b, "cmd", cmd);
        json_object_object_add(b, "env", env);
        if (o->workdir)
                json_object_object_add(b, "workdir", json_object_new_string(o->workdir));
        if (o->user)
                json_object_object_add(b, "user", json_object_new_string(o->user));
        if (o->tty) {
                struct winsize ws;

                json_object_object_add(b, "tty", json_object_new_boolean(true));
                /* The size from the start: runv gives an exec's pty no later resize. */
                if ((ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) &&
                    ws.ws_row > 0) {
                        struct json_object *size = json_object_new_array();

                        json_object_array_add(size, json_object_new_int(ws.ws_row));
                        json_object_array_add(size, json_object_new_int(ws.ws_col));
                        json_object_object_add(b, "console_size", size);
                }
        }
        if (o->interactive)
                json_object_object_add(b, "stdin", json_object_new_boolean(true));
        if (o->detach)
                json_object_object_add(b, "detach", json_object_new_boolean(true));
        return b;
}

static void exec_write(struct json_object *reply, const char *key, FILE *f)
{
        struct json_object *v;

        if (json_object_object_get_ex(reply, key, &v) && json_object_is_type(v, json_type_string))
                fwrite(json_object_get_string(v), 1, (size_t)json_object_get_string_len(v), f);
        fflush(f);
}

/* The exec's exit code, once its shim has written it (the stream ends a moment before). */
static int exec_exit_code(const char *eid)
{
        _cleanup_free_ char *esc = hc_escape(eid), *path = NULL;

        if (!esc || asprintf(&path, "/v1/exec/%s/json", esc) < 0)
                return hc_error("out of memory");
        for (int i = 0; i < 600; i++) {
                _cleanup_(json_object_putp) struct json_object *o = NULL;
                bool running = true;
                int64_t code = -1;
                int r = hc_get_json(path, &o);

                if (r != 0)
                        return r;
                json_get_bool(o, "running", &running);
                if (json_get_int(o, "exitCode", 0, 255, &code) >= 0)
                        return (int)code;
                if (!running)
                        return hc_error("the exec ended without an exit code");
                usleep(50 * 1000);
        }
        return hc_error("the exec's output ended but it has not exited after 30 s");
}

static int exec_stream(const struct exec_opts *o, const char *path, const char *body)
{
        _cleanup_free_ char *eid = NULL, *resize = NULL, *esc = NULL;
        struct hc_stream_opts so = {.tty = o->tty, .stdin = o->interactive, .detach_keys = false};
        int fd, r;

        r = hc_upgrade(path, body, &fd, &eid);
        if (r != 0)
                return r;
        if (!eid) {
                close(fd);
                return hc_error("hyperd's reply has no exec id");
        }
        if (o->tty && (!(esc = hc_escape(eid)) || asprintf(&resize, "/v1/exec/%s/resize", esc) < 0)) {
                close(fd);
                return hc_error("out of memory");
        }
        so.resize_path = resize;
        r = hc_stream(fd, &so);
        close(fd);
        return r != 0 ? r : exec_exit_code(eid);
}

int hc_cmd_exec(int argc, char **argv)
{
        _cleanup_(json_object_putp) struct json_object *body = NULL, *reply = NULL;
        _cleanup_free_ char *path = NULL;
        struct exec_opts o = {0};
        bool truncated = false;
        int64_t code = 1;
        int r;

        r = exec_parse(argc, argv, &o);
        if (r != 0)
                return r;
        body = exec_body(&o, argc, argv);
        path = hc_container_path(argv[optind], "exec");
        if (!body || !path)
                return hc_error("out of memory");
        if (o.interactive || o.tty)
                return exec_stream(&o, path, json_object_to_json_string(body));
        r = hc_call_json("POST", path, json_object_to_json_string(body), &reply);
        if (r != 0 || o.detach)
                return r;
        exec_write(reply, "stdout", stdout);
        exec_write(reply, "stderr", stderr);
        if (json_get_bool(reply, "truncated", &truncated) >= 0 && truncated)
                fprintf(stderr, "hyperctl: the output was cut at hyperd's limit\n");
        if (json_get_int(reply, "exitCode", 0, 255, &code) < 0)
                return hc_error("hyperd's reply has no exit code");
        return (int)code;
}
