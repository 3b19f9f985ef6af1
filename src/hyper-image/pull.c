/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hyper-image.h"

/* "os/arch[/variant]" split in place. */
static int pull_platform(char *s, struct image_pull_options *o)
{
        char *arch = strchr(s, '/'), *variant;

        if (!arch)
                return -1;
        *arch++ = '\0';
        variant = strchr(arch, '/');
        if (variant)
                *variant++ = '\0';
        o->os = s;
        o->arch = arch;
        o->variant = variant;
        return *s && *arch ? 0 : -1;
}

int hi_cmd_pull(int argc, char **argv)
{
        static const struct option opts[] = {
                { "insecure", no_argument, NULL, 'k' },      { "auth-file", required_argument, NULL, 'a' },
                { "platform", required_argument, NULL, 'p' }, { "quiet", no_argument, NULL, 'q' },
                { "parallel", required_argument, NULL, 'j' }, {},
        };
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        struct image_pull_options o = { 0 };
        _cleanup_free_ char *id = NULL;
        char *error = NULL;
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                switch (c) {
                case 'k':
                        o.insecure = true;
                        break;
                case 'a':
                        o.auth_file = optarg;
                        break;
                case 'p':
                        if (pull_platform(optarg, &o) < 0)
                                return hi_error("--platform wants OS/ARCH[/VARIANT]");
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'j':
                        o.max_parallel = (unsigned)atoi(optarg);
                        break;
                default:
                        return 2;
                }
        }
        if (optind + 1 != argc)
                return hi_error("usage: hyper-image pull [--insecure] [--auth-file FILE] [--platform OS/ARCH] REF");
        if (hi_open_store(&s) < 0)
                return 1;
        if (!quiet)
                o.progress = progress_new(stderr, isatty(STDERR_FILENO));
        r = image_store_pull(s, argv[optind], &o, &id, &error);
        progress_free(o.progress);
        if (r < 0)
                return hi_fail(r, error, "pull failed");
        printf("%s\n", id);
        return 0;
}
