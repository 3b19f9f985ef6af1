/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "json-util.h"
#include "runv.h"
#include "status.h"

/* runv state ID: the OCI state document, indented as runc prints it. */
int runv_cmd_state(int argc, char **argv)
{
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        int r;

        if (argc != 2)
                return runv_error("usage: runv state ID");
        r = runv_load_existing(argv[1], &st);
        if (r != 0)
                return r;
        doc = state_to_oci(st);
        if (!doc)
                return runv_error("out of memory");
        printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}
