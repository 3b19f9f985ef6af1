/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hyper-image.h"

static void images_print(const struct image_summary *e, const char *name, bool quiet)
{
        char when[32];
        struct tm tm;
        time_t t = (time_t)e->created;

        if (quiet) {
                printf("%s\n", e->id);
                return;
        }
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
        printf("%-50s %-19.19s %-19s %6zu %10.1f MB\n", name ? name : "<none>", e->id + 7, when, e->n_layers,
               (double)e->size / 1e6);
}

int hi_cmd_images(int argc, char **argv)
{
        static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' }, {} };
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        struct image_summary *a = NULL;
        char *error = NULL;
        bool quiet = false;
        size_t n;
        int c, r;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                if (c != 'q')
                        return 2;
                quiet = true;
        }
        if (hi_open_store(&s) < 0)
                return 1;
        r = image_store_list(s, &a, &n, &error);
        if (r < 0)
                return hi_fail(r, error, "cannot list images");
        if (!quiet)
                printf("%-50s %-19s %-19s %6s %13s\n", "NAME", "ID", "CREATED", "LAYERS", "SIZE");
        for (size_t i = 0; i < n; i++) {
                bool any = false;
                for (char **p = a[i].names; !quiet && *p; p++) {
                        if (strchr(*p, '@'))
                                continue;
                        images_print(&a[i], *p, quiet);
                        any = true;
                }
                if (!any)
                        images_print(&a[i], NULL, quiet);
        }
        image_summary_free_array(a, n);
        return 0;
}
