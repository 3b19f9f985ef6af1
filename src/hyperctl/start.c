/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl start [-a] [-i] CONTAINER...: starts created containers. With
 * -a (one container) it attaches first, streams the output (stdin too with
 * -i) and exits with the container's exit code, as `docker start -a`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"
#include "json-util.h"

/* Whether the container has a tty, from its record. */
int hc_container_tty(const char *id, bool *ret)
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
        return 0;
}

int hc_cmd_start(int argc, char **argv)
{
        static const struct option opts[] = {
                {"attach", no_argument, NULL, 'a'}, {"interactive", no_argument, NULL, 'i'}, {}};
        bool attach = false, interactive = false, tty = false;
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
        r = hc_container_tty(argv[optind], &tty);
        if (r == 0)
                r = hc_check_tty(tty, interactive);
        if (r != 0)
                return r;
        return hc_attach_and_wait(argv[optind], tty, interactive, true, false);
}
