/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"

/* Removes containers (-f: running ones too, killing them); goes on after a failure. */
int hc_cmd_rm(int argc, char **argv)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {}};
        bool force = false;
        int c;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0) {
                if (c != 'f')
                        return HC_EXIT_USAGE;
                force = true;
        }
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl rm [-f] CONTAINER...");
        return hc_call_each("DELETE", "/v1/containers/", argv + optind, argc - optind, force ? "?force=1" : "");
}
