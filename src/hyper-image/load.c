/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>

#include "hyper-image.h"
#include "json-util.h"

int hi_cmd_load(int argc, char **argv)
{
        static const struct option opts[] = { { "input", required_argument, NULL, 'i' }, {} };
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(strv_freep) char **loaded = NULL;
        const char *input = NULL;
        char *error = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "i:", opts, NULL)) >= 0) {
                if (c != 'i')
                        return 2;
                input = optarg;
        }
        if (!input || optind != argc)
                return hi_error("usage: hyper-image load -i FILE|DIR");
        if (hi_open_store(&s) < 0)
                return 1;
        r = image_store_load(s, input, &loaded, &error);
        if (r < 0)
                return hi_fail(r, error, "load failed");
        for (char **p = loaded; *p; p++)
                printf("Loaded %s\n", *p);
        return 0;
}
