/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl exec: a command in a running container, not interactive: its
 * output is printed once it ends (hyperd keeps up to 1 MiB of each
 * stream), and hyperctl exits with its exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperctl.h"
#include "json-util.h"

#define EXEC_MAX_ENV 1024

struct exec_opts {
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
                case 't':
                case 'd':
                        return hc_usage_error("-i, -t and -d are not supported by exec yet");
                default:
                        return HC_EXIT_USAGE;
                }
        }
        if (argc - optind < 2)
                return hc_usage_error("usage: hyperctl exec [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]");
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
        return b;
}

static void exec_write(struct json_object *reply, const char *key, FILE *f)
{
        struct json_object *v;

        if (json_object_object_get_ex(reply, key, &v) && json_object_is_type(v, json_type_string))
                fwrite(json_object_get_string(v), 1, (size_t)json_object_get_string_len(v), f);
        fflush(f);
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
        r = hc_call_json("POST", path, json_object_to_json_string(body), &reply);
        if (r != 0)
                return r;
        exec_write(reply, "stdout", stdout);
        exec_write(reply, "stderr", stderr);
        if (json_get_bool(reply, "truncated", &truncated) >= 0 && truncated)
                fprintf(stderr, "hyperctl: the output was cut at hyperd's limit\n");
        if (json_get_int(reply, "exitCode", 0, 255, &code) < 0)
                return hc_error("hyperd's reply has no exit code");
        return (int)code;
}
