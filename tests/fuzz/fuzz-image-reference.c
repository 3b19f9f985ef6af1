/* SPDX-License-Identifier: Apache-2.0 */
/* Image references come from users and archives: any bytes parse or fail with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct image_ref *ref = NULL;
        char *s = strndup((const char *)data, size), *err = NULL;

        if (!s)
                return 0;
        if (image_ref_parse(s, &ref, &err) >= 0) {
                char *canon = image_ref_string(ref);
                struct image_ref *again = NULL;
                /* The canonical form parses back to itself. */
                if (!canon || image_ref_parse(canon, &again, NULL) < 0)
                        abort();
                char *canon2 = image_ref_string(again);
                if (!canon2 || strcmp(canon, canon2) != 0)
                        abort();
                free(canon);
                free(canon2);
                image_ref_free(again);
                image_ref_free(ref);
        } else if (!err) {
                abort();
        }
        free(err);
        free(s);
        return 0;
}
