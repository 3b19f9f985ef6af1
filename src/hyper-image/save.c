/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "hyper-image.h"

int hi_cmd_save(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "format", required_argument, NULL, 'f' },
                {},
        };
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        enum image_archive_format format = IMAGE_ARCHIVE_DOCKER;
        const char *output = NULL;
        char *error = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:f:", opts, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        output = optarg;
                        break;
                case 'f':
                        if (strcmp(optarg, "oci") == 0 || strcmp(optarg, "oci-archive") == 0)
                                format = IMAGE_ARCHIVE_OCI;
                        else if (strcmp(optarg, "docker") == 0 || strcmp(optarg, "docker-archive") == 0)
                                format = IMAGE_ARCHIVE_DOCKER;
                        else
                                return hi_error("unknown --format %s: use docker or oci", optarg);
                        break;
                default:
                        return 2;
                }
        }
        if (!output || optind >= argc)
                return hi_error("usage: hyper-image save -o FILE [--format docker|oci] REF...");
        if (hi_open_store(&s) < 0)
                return 1;
        r = image_store_save(s, argv + optind, output, format, &error);
        return r < 0 ? hi_fail(r, error, "save failed") : 0;
}
