/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"

/* SIGTERM, then SIGKILL after -t seconds (10); goes on after a failure and exits 1 if any failed. */
int hc_cmd_stop(int argc, char **argv)
{
        static const struct option opts[] = {{"time", required_argument, NULL, 't'}, {}};
        const char *t = "10";
        int c;

        while ((c = getopt_long(argc, argv, "t:", opts, NULL)) >= 0) {
                if (c != 't')
                        return HC_EXIT_USAGE;
                t = optarg;
        }
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl stop [-t SECONDS] CONTAINER...");
        return hc_post_each(argv, optind, argc, "stop", "t", t);
}
