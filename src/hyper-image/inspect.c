/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "hyper-image.h"
#include "json-util.h"

int hi_cmd_inspect(int argc, char **argv)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        struct json_object *out = json_object_new_array(), *o;
        char *error = NULL;
        int r;

        if (argc < 2)
                return hi_error("usage: hyper-image inspect REF...");
        if (!out || hi_open_store(&s) < 0)
                return json_object_put(out), 1;
        for (int i = 1; i < argc; i++) {
                r = image_store_inspect(s, argv[i], &o, &error);
                if (r < 0) {
                        json_object_put(out);
                        return hi_fail(r, error, "inspect failed");
                }
                json_object_array_add(out, o);
        }
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out);
        return 0;
}
