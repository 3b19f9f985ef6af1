/* SPDX-License-Identifier: Apache-2.0 */
#include "hyper-image.h"

int hi_cmd_tag(int argc, char **argv)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        char *error = NULL;
        int r;

        if (argc != 3)
                return hi_error("usage: hyper-image tag SOURCE TARGET");
        if (hi_open_store(&s) < 0)
                return 1;
        r = image_store_tag(s, argv[1], argv[2], &error);
        return r < 0 ? hi_fail(r, error, "cannot tag the image") : 0;
}
