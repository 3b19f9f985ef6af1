/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"

/* A signal (SIGKILL unless -s says otherwise) to each container's process. */
int hc_cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = {{"signal", required_argument, NULL, 's'}, {}};
        const char *sig = "KILL";
        int c;

        while ((c = getopt_long(argc, argv, "s:", opts, NULL)) >= 0) {
                if (c != 's')
                        return HC_EXIT_USAGE;
                sig = optarg;
        }
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl kill [-s SIGNAL] CONTAINER...");
        return hc_post_each(argv, optind, argc, "kill", "signal", sig);
}
