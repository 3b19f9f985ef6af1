/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pod file is outside input: any bytes parse or fail with a message,
 * nothing leaks, and what parses has a canonical form that parses again
 * to the same canonical form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pod-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct pod_spec *spec)
{
        struct pod_spec *again = NULL;
        char *json = NULL, *json2 = NULL, *err = NULL;

        if (pod_spec_to_json(spec, &json) < 0)
                return; /* out of memory */
        if (pod_spec_parse(json, strlen(json), &again, &err) < 0 || pod_spec_to_json(again, &json2) < 0 ||
            strcmp(json, json2) != 0)
                abort();
        pod_spec_free(again);
        free(json);
        free(json2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pod_spec *spec = NULL;
        char *err = NULL;

        if (pod_spec_parse((const char *)data, size, &spec, &err) >= 0) {
                if (err)
                        abort();
                check_round_trip(spec);
                pod_spec_free(spec);
        } else if (!err) {
                /* Every rejection says why, except running out of memory. */
                abort();
        }
        free(err);
        return 0;
}
