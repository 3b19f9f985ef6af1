/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl start [-a] [-i] CONTAINER...: starts created containers. With
 * -a (one container) it attaches first, streams the output (stdin too with
 * -i) and exits with the container's exit code, as `docker start -a`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperctl.h"
#include "json-util.h"

/* Whether the container has a tty, from its record. */
int hc_container_tty(const char *id, bool *ret, char *ret_status)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *path = hc_container_path(id, "json");
        int r;

        if (!path)
                return hc_error("out of memory");
        r = hc_get_json(path, &o);
        if (r != 0)
                return r;
        *ret = false;
        json_get_bool(o, "tty", ret);
        if (ret_status) {
                const char *status = NULL;

                snprintf(ret_status, 16, "%s", json_get_string(o, "status", &status) >= 0 ? status : "unknown");
        }
        return 0;
}

int hc_cmd_start(int argc, char **argv)
{
        static const struct option opts[] = {
                {"attach", no_argument, NULL, 'a'}, {"interactive", no_argument, NULL, 'i'}, {}};
        bool attach = false, interactive = false, tty = false;
        char status[16];
        int c, r;

        while ((c = getopt_long(argc, argv, "ai", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': attach = true; break;
                case 'i': interactive = true; break;
                default: return HC_EXIT_USAGE;
                }
        }
        if (optind >= argc || ((attach || interactive) && argc - optind != 1))
                return hc_usage_error("usage: hyperctl start [-a] [-i] CONTAINER (-a and -i take one container), "
                                      "or hyperctl start CONTAINER...");
        if (!attach && !interactive)
                return hc_post_each(argv, optind, argc, "start", "attach", "0");
        r = hc_container_tty(argv[optind], &tty, status);
        if (r == 0)
                r = hc_check_tty(tty, interactive);
        if (r != 0)
                return r;
        /* As docker start -a: a running one is attached to, not started again; hyperd refuses the others. */
        if (strcmp(status, "created") != 0 && strcmp(status, "running") != 0)
                return hc_post_each(argv, optind, optind + 1, "start", "attach", "1") ? HC_EXIT_FAILURE : 0;
        return hc_attach_and_wait(argv[optind], tty, interactive, strcmp(status, "created") == 0, false);
}
