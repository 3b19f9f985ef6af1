/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hyper-image.h"

struct hyper_image_globals hyper_image = {
        .root = NULL,
};

struct hi_verb {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

static const struct hi_verb hi_verbs[] = {
        { "pull", hi_cmd_pull, "pull an image from a registry" },
        { "images", hi_cmd_images, "list images" },
        { "list", hi_cmd_images, "list images (same as images)" },
        { "inspect", hi_cmd_inspect, "show an image's record and config as JSON" },
        { "rmi", hi_cmd_rmi, "remove an image name, and the image when no name is left" },
        { "tag", hi_cmd_tag, "give an image another name" },
        { "load", hi_cmd_load, "load images from a docker save archive or an OCI layout/archive" },
        { "save", hi_cmd_save, "save images to a docker save archive or an OCI archive" },
        { "mount", hi_cmd_mount, "mount a container rootfs of an image" },
        { "umount", hi_cmd_umount, "unmount and delete a container rootfs" },
        { "gc", hi_cmd_gc, "delete unused blobs, layers and leftovers" },
};

int hi_error(const char *fmt, ...)
{
        va_list ap;

        fputs("hyper-image: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return 1;
}

int hi_fail(int r, char *error, const char *what)
{
        if (error)
                hi_error("%s", error);
        else
                hi_error("%s: %s", what, strerror(-r));
        free(error);
        return 1;
}

int hi_open_store(struct image_store **ret)
{
        char *error = NULL;
        int r = image_store_open(hyper_image.root, ret, &error);

        return r < 0 ? -hi_fail(r, error, "cannot open the image store") : 0;
}

static void hi_usage(FILE *f)
{
        fprintf(f, "Usage: hyper-image [--root DIR] COMMAND [options] [arguments]\n\n"
                   "Keeps the OCI and Docker images that Hyper runs.\n\nCommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(hi_verbs); i++)
                fprintf(f, "  %-8s %s\n", hi_verbs[i].name, hi_verbs[i].summary);
        fprintf(f, "\nGlobal options:\n"
                   "  --root DIR     the store (default " IMAGE_STORE_DEFAULT_ROOT ")\n"
                   "  -v, --version  print the version\n"
                   "  -h, --help     print this help\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        hyper_image.root = optarg;
                        break;
                case 'v':
                        printf("hyper-image version %s\n", HYPER_VERSION);
                        return 0;
                case 'h':
                        hi_usage(stdout);
                        return 0;
                default:
                        hi_usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                hi_usage(stderr);
                return 2;
        }
        for (size_t i = 0; i < ARRAY_SIZE(hi_verbs); i++) {
                if (strcmp(argv[optind], hi_verbs[i].name) != 0)
                        continue;
                optind++;
                /* Each verb parses its own options from argv[optind - 1] on, as its own argv[0]. */
                argc -= optind - 1;
                argv += optind - 1;
                optind = 0;
                return hi_verbs[i].run(argc, argv);
        }
        hi_error("unknown command \"%s\"; see hyper-image --help", argv[optind]);
        return 2;
}
