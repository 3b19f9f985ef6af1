/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "hyperctl.h"
#include "json-util.h"

static const char *version_field(struct json_object *o, const char *key)
{
        const char *s = NULL;

        json_get_string(o, key, &s);
        return s ? s : "?";
}

int hc_cmd_version(int argc, char **argv)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        int r;

        if (argc != 1)
                return hc_usage_error("usage: hyperctl version");
        printf("Client:\n Version:     %s\n API version: 1\n\n", HYPER_VERSION);
        fflush(stdout);
        r = hc_get_json("/v1/version", &o);
        if (r != 0)
                return r;
        printf("Server:\n Version:     %s\n API version: %s\n OS/Arch:     %s/%s\n Kernel:      %s\n",
               version_field(o, "Version"), version_field(o, "ApiVersion"), version_field(o, "Os"),
               version_field(o, "Arch"), version_field(o, "KernelVersion"));
        return 0;
}
