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
        int c, status = 0;

        while ((c = getopt_long(argc, argv, "s:", opts, NULL)) >= 0) {
                if (c != 's')
                        return HC_EXIT_USAGE;
                sig = optarg;
        }
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl kill [-s SIGNAL] CONTAINER...");
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *base = hc_container_path(argv[i], "kill"), *esc = hc_escape(sig), *path = NULL;

                if (!base || !esc || asprintf(&path, "%s?signal=%s", base, esc) < 0)
                        return hc_error("out of memory");
                if (hc_call_json("POST", path, NULL, NULL) != 0)
                        status = HC_EXIT_FAILURE;
                else
                        printf("%s\n", argv[i]);
        }
        return status;
}
