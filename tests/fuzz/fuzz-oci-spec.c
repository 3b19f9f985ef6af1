/* SPDX-License-Identifier: Apache-2.0 */
/* config.json is outside input: any bytes parse or fail with a message, and nothing leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "oci-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct oci_spec *spec = NULL;
        char *err = NULL;

        if (oci_spec_parse((const char *)data, size, &spec, &err) >= 0) {
                oci_spec_vcpus(spec);
                oci_spec_memory_mib(spec);
                oci_spec_free(spec);
        } else if (!err) {
                /* Every rejection says why, except running out of memory. */
                abort();
        }
        free(err);
        return 0;
}
