/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl attach [--no-stdin] CONTAINER: the running container's output
 * from now on, and stdin to it (when it was made with -i); ctrl-p ctrl-q
 * detaches with a tty. Exits with the container's exit code once its
 * output has ended, as `docker attach`.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "hyperctl.h"

int hc_cmd_attach(int argc, char **argv)
{
        static const struct option opts[] = {{"no-stdin", no_argument, NULL, 'n'}, {}};
        bool no_stdin = false, tty = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c != 'n')
                        return HC_EXIT_USAGE;
                no_stdin = true;
        }
        if (argc - optind != 1)
                return hc_usage_error("usage: hyperctl attach [--no-stdin] CONTAINER");
        r = hc_container_tty(argv[optind], &tty, NULL);
        if (r != 0)
                return r;
        if (tty && !no_stdin && !isatty(STDIN_FILENO))
                return hc_usage_error("the input device is not a TTY: %s has a terminal; attach from one, or use "
                                      "--no-stdin to only see its output",
                                      argv[optind]);
        return hc_attach_and_wait(argv[optind], tty, !no_stdin, false, false);
}
