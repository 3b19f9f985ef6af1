/* SPDX-License-Identifier: Apache-2.0 */
/* Registry and archive documents are outside input: any bytes parse or fail with a message, and nothing leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct image_manifest *v = NULL;
        char *err = NULL;

        manifest_kind(NULL, (const char *)data, size);
        if (image_manifest_parse((const char *)data, size, &v, &err) >= 0) {
                image_manifest_free(v);
        } else if (!err) {
                abort();
        }
        free(err);
        return 0;
}
