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
        int c, status = 0;

        while ((c = getopt_long(argc, argv, "t:", opts, NULL)) >= 0) {
                if (c != 't')
                        return HC_EXIT_USAGE;
                t = optarg;
        }
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl stop [-t SECONDS] CONTAINER...");
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *base = hc_container_path(argv[i], "stop"), *esc = hc_escape(t), *path = NULL;

                if (!base || !esc || asprintf(&path, "%s?t=%s", base, esc) < 0)
                        return hc_error("out of memory");
                if (hc_call_json("POST", path, NULL, NULL) != 0)
                        status = HC_EXIT_FAILURE;
                else
                        printf("%s\n", argv[i]);
        }
        return status;
}
