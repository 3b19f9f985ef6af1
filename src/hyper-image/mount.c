/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>

#include "hyper-image.h"
#include "image-util.h"
#include "rootfs.h"

int hi_cmd_mount(int argc, char **argv)
{
        static const struct option opts[] = { { "name", required_argument, NULL, 'n' }, {} };
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_free_ char *path = NULL;
        char id[33], *error = NULL;
        const char *name = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "n:", opts, NULL)) >= 0) {
                if (c != 'n')
                        return 2;
                name = optarg;
        }
        if (optind + 1 != argc && optind + 2 != argc)
                return hi_error("usage: hyper-image mount [--name ID] REF [DIR]");
        if (!name) {
                if (random_hex_id(id) < 0)
                        return hi_error("cannot make an id");
                name = id;
        }
        if (hi_open_store(&s) < 0)
                return 1;
        r = image_rootfs_create(s, argv[optind], name, argv[optind + 1], &path, &error);
        if (r < 0)
                return hi_fail(r, error, "mount failed");
        printf("%s %s\n", name, path);
        return 0;
}

int hi_cmd_umount(int argc, char **argv)
{
        static const struct option opts[] = { { "name", required_argument, NULL, 'n' }, {} };
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_free_ char *found = NULL;
        const char *name = NULL;
        char *error = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "n:", opts, NULL)) >= 0) {
                if (c != 'n')
                        return 2;
                name = optarg;
        }
        if (!name && optind + 1 != argc)
                return hi_error("usage: hyper-image umount DIR | umount --name ID");
        if (hi_open_store(&s) < 0)
                return 1;
        if (!name) {
                r = image_rootfs_find(s, argv[optind], &found, &error);
                if (r < 0)
                        return hi_fail(r, error, "umount failed");
                name = found;
        }
        r = image_rootfs_remove(s, name, &error);
        return r < 0 ? hi_fail(r, error, "umount failed") : 0;
}
