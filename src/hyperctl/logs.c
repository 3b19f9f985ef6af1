/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"

int hc_print_logs(const char *id, const char *tail)
{
        _cleanup_free_ char *path = hc_container_path(id, "logs"), *full = NULL, *esc = NULL;
        struct hc_call call = {.method = "GET", .download = stdout};
        struct hc_reply reply;
        int r;

        if (!path)
                return hc_error("out of memory");
        if (tail && (!(esc = hc_escape(tail)) || asprintf(&full, "%s?tail=%s", path, esc) < 0))
                return hc_error("out of memory");
        call.path = full ? full : path;
        r = hc_request(&call, &reply);
        if (r == 0 && reply.status != 200)
                r = hc_reply_fail(&reply);
        hc_reply_done(&reply);
        fflush(stdout);
        return r;
}

int hc_cmd_logs(int argc, char **argv)
{
        static const struct option opts[] = {{"tail", required_argument, NULL, 'n'}, {}};
        const char *tail = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "n:", opts, NULL)) >= 0) {
                if (c != 'n')
                        return HC_EXIT_USAGE;
                tail = optarg;
        }
        if (optind != argc - 1)
                return hc_usage_error("usage: hyperctl logs [--tail N] CONTAINER");
        return hc_print_logs(argv[optind], tail);
}
