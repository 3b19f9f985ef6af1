/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "hyper-image.h"

int hi_cmd_rmi(int argc, char **argv)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        int status = 0;

        if (argc < 2)
                return hi_error("usage: hyper-image rmi REF...");
        if (hi_open_store(&s) < 0)
                return 1;
        for (int i = 1; i < argc; i++) {
                char *error = NULL;
                int r = image_store_remove(s, argv[i], &error);
                if (r < 0)
                        status = hi_fail(r, error, "cannot remove the image");
                else
                        printf("removed %s\n", argv[i]);
        }
        return status;
}
