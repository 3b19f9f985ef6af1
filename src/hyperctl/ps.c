/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hyperctl.h"
#include "json-util.h"

static void ps_status(struct json_object *c, char *buf, size_t size)
{
        const char *status = "?";
        int64_t code = -1;

        json_get_string(c, "status", &status);
        json_get_int(c, "exitCode", -1, 255, &code);
        if (strcmp(status, "running") == 0)
                snprintf(buf, size, "Up");
        else if (strcmp(status, "stopped") == 0 && code >= 0)
                snprintf(buf, size, "Exited (%lld)", (long long)code);
        else
                snprintf(buf, size, "%s", status);
}

static void ps_command(struct json_object *c, char *buf, size_t size)
{
        struct json_object *cmd = NULL;
        size_t len = 0;

        buf[0] = '\0';
        if (!json_object_object_get_ex(c, "command", &cmd) || !json_object_is_type(cmd, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(cmd) && len + 1 < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "",
                                        json_object_get_string(json_object_array_get_idx(cmd, i)));
}

static void ps_row(struct json_object *c, bool quiet)
{
        const char *id = "?", *image = "?", *name = "?", *pod = NULL;
        char status[32], cmd[64], quoted[72];
        int64_t created = 0;

        json_get_string(c, "id", &id);
        if (quiet) {
                printf("%.12s\n", id);
                return;
        }
        json_get_string(c, "image", &image);
        json_get_string(c, "name", &name);
        json_get_string(c, "pod", &pod);
        json_get_int(c, "created", 0, INT64_MAX, &created);
        ps_status(c, status, sizeof(status));
        ps_command(c, cmd, sizeof(cmd));
        snprintf(quoted, sizeof(quoted), "\"%.20s\"", cmd);
        printf("%-14.12s %-24.24s %-22s %-12lld %-16s %-16s %s\n", id, image, quoted, (long long)(time(NULL) - created),
               status, pod && *pod ? pod : "-", name);
}

/* Running containers, or all with -a; -q prints only their short ids. */
int hc_cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'},
                {"quiet", no_argument, NULL, 'q'},
                {},
        };
        _cleanup_(json_object_putp) struct json_object *arr = NULL;
        bool all = false, quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "aq", opts, NULL)) >= 0) {
                if (c == 'a')
                        all = true;
                else if (c == 'q')
                        quiet = true;
                else
                        return HC_EXIT_USAGE;
        }
        if (optind != argc)
                return hc_usage_error("usage: hyperctl ps [-a] [-q]");
        r = hc_get_list(all ? "/v1/containers?all=1" : "/v1/containers", "a container list", &arr);
        if (r != 0)
                return r;
        if (!quiet)
                printf("%-14s %-24s %-22s %-12s %-16s %-16s %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "AGE (S)",
                       "STATUS", "POD", "NAMES");
        for (size_t i = 0; i < json_object_array_length(arr); i++)
                ps_row(json_object_array_get_idx(arr, i), quiet);
        return 0;
}
