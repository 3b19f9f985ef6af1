/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "hyperctl.h"
#include "json-util.h"

/* Every field as "Key: value", in the order hyperd sent them; null as "-". */
int hc_cmd_info(int argc, char **argv)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        int r;

        if (argc != 1)
                return hc_usage_error("usage: hyperctl info");
        r = hc_get_json("/v1/info", &o);
        if (r != 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return hc_error("hyperd sent an info reply that is not an object");
        json_object_object_foreach(o, key, val)
                printf("%s: %s\n", key, val ? json_object_get_string(val) : "-");
        return 0;
}
