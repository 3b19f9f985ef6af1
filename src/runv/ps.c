/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json-util.h"
#include "runv.h"
#include "status.h"

/*
 * The host processes that stand for the container's: its monitor and one
 * per running exec. The processes themselves live in the VM, where host
 * pids mean nothing.
 */
static int ps_table(struct json_object *pids, char **ps_args)
{
        char list[4096] = "";
        char *argv[64];
        size_t n = 0, len = 0;
        pid_t pid;
        int status;

        for (size_t i = 0; i < json_object_array_length(pids) && len < sizeof(list) - 16; i++)
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", i ? "," : "",
                                        json_object_get_int(json_object_array_get_idx(pids, i)));
        argv[n++] = "ps";
        for (; ps_args && *ps_args && n < ARRAY_SIZE(argv) - 4; ps_args++)
                argv[n++] = *ps_args;
        if (n == 1)
                argv[n++] = "-f";
        argv[n++] = "-p";
        argv[n++] = list[0] ? list : "0";
        argv[n] = NULL;
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                execvp("ps", argv);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return runv_error("cannot run ps: %s", strerror(errno));
        return 0;
}

int runv_cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, {} };
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_(json_object_putp) struct json_object *req = NULL, *reply = NULL;
        _cleanup_free_ char *err = NULL;
        struct json_object *pids;
        const char *format = "table";
        int c, r;

        while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) >= 0) {
                if (c != 'f')
                        return runv_error("usage: runv ps [--format table|json] ID [-- PS-ARGS]");
                format = optarg;
        }
        if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
                return runv_error("invalid format option %s", format);
        if (optind >= argc)
                return runv_error("usage: runv ps [--format table|json] ID [-- PS-ARGS]");
        r = runv_load_existing(argv[optind], &st);
        if (r != 0)
                return r;
        if (st->status == RUNV_STOPPED) {
                if (strcmp(format, "json") == 0)
                        printf("[]\n");
                return 0;
        }
        req = json_object_new_object();
        json_object_object_add(req, "op", json_object_new_string("ps"));
        r = runv_state_call(st, req, &err, &reply);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        if (!json_object_object_get_ex(reply, "pids", &pids) || !json_object_is_type(pids, json_type_array))
                return runv_error("the monitor sent no pids");
        if (strcmp(format, "json") == 0) {
                printf("%s\n", json_object_to_json_string_ext(pids, JSON_C_TO_STRING_PLAIN));
                return 0;
        }
        return ps_table(pids, argv + optind + 1);
}
