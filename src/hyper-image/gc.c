/* SPDX-License-Identifier: Apache-2.0 */
#include "hyper-image.h"

int hi_cmd_gc(int argc, char **argv)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        char *error = NULL;
        int r;

        if (argc != 1)
                return hi_error("usage: hyper-image gc");
        if (hi_open_store(&s) < 0)
                return 1;
        r = image_store_gc(s, &error);
        return r < 0 ? hi_fail(r, error, "garbage collection failed") : 0;
}
