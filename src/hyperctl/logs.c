/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl logs [-f] [-t] [--tail N] CONTAINER: the container's output,
 * stdout to stdout and stderr to stderr; -f follows it until the
 * container has ended, -t puts each line's time in front.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"

int hc_print_logs(const char *id, const char *tail)
{
        return hc_logs(id, tail, false, false);
}

int hc_logs(const char *id, const char *tail, bool follow, bool timestamps)
{
        _cleanup_free_ char *path = hc_container_path(id, "logs"), *full = NULL, *esc = NULL;
        struct hc_call call = {.method = "GET", .download = stdout, .demux = true};
        struct hc_reply reply;
        int r;

        if (!path || !(esc = hc_escape(tail ? tail : "all")) ||
            asprintf(&full, "%s?tail=%s&follow=%d&timestamps=%d", path, esc, follow, timestamps) < 0)
                return hc_error("out of memory");
        call.path = full;
        r = hc_request(&call, &reply);
        if (r == 0 && reply.status != 200)
                r = hc_reply_fail(&reply);
        hc_reply_done(&reply);
        fflush(stdout);
        return r;
}

int hc_cmd_logs(int argc, char **argv)
{
        static const struct option opts[] = {{"tail", required_argument, NULL, 'n'},
                                             {"follow", no_argument, NULL, 'f'},
                                             {"timestamps", no_argument, NULL, 't'},
                                             {}};
        const char *tail = NULL;
        bool follow = false, timestamps = false;
        int c;

        while ((c = getopt_long(argc, argv, "n:ft", opts, NULL)) >= 0) {
                switch (c) {
                case 'n': tail = optarg; break;
                case 'f': follow = true; break;
                case 't': timestamps = true; break;
                default: return HC_EXIT_USAGE;
                }
        }
        if (optind != argc - 1)
                return hc_usage_error("usage: hyperctl logs [-f] [-t] [--tail N] CONTAINER");
        return hc_logs(argv[optind], tail, follow, timestamps);
}
