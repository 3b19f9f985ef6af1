/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"
#include "json-util.h"

/* Prints a JSON array of the images found, as `docker inspect` does; exits 1 if any was not. */
int hc_cmd_inspect(int argc, char **argv)
{
        _cleanup_(json_object_putp) struct json_object *all = json_object_new_array();
        int status = 0;

        if (argc < 2)
                return hc_usage_error("usage: hyperctl inspect IMAGE...");
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *ref = hc_escape(argv[i]), *path = NULL;
                struct json_object *o = NULL;

                if (!ref || asprintf(&path, "/v1/images/%s/json", ref) < 0)
                        return hc_error("out of memory");
                if (hc_get_json(path, &o) != 0) {
                        status = HC_EXIT_FAILURE;
                        continue;
                }
                json_object_array_add(all, o);
        }
        printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        return status;
}
