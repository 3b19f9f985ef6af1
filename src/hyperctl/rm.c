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
        int c, status = 0;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0) {
                if (c != 'f')
                        return HC_EXIT_USAGE;
                force = true;
        }
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl rm [-f] CONTAINER...");
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *base = hc_container_path(argv[i], NULL), *path = NULL;

                if (!base || asprintf(&path, "%s%s", base, force ? "?force=1" : "") < 0)
                        return hc_error("out of memory");
                if (hc_call_json("DELETE", path, NULL, NULL) != 0)
                        status = HC_EXIT_FAILURE;
                else
                        printf("%s\n", argv[i]);
        }
        return status;
}
