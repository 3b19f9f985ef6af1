/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"

int hc_cmd_tag(int argc, char **argv)
{
        _cleanup_free_ char *src = NULL, *dst = NULL, *path = NULL;
        struct hc_reply reply;
        struct hc_call call = { .method = "POST" };
        int r;

        if (argc != 3)
                return hc_usage_error("usage: hyperctl tag SOURCE TARGET");
        src = hc_escape(argv[1]);
        dst = hc_escape(argv[2]);
        if (!src || !dst || asprintf(&path, "/v1/images/%s/tag?to=%s", src, dst) < 0)
                return hc_error("out of memory");
        call.path = path;
        r = hc_request(&call, &reply);
        if (r == 0 && reply.status != 201)
                r = hc_reply_fail(&reply);
        hc_reply_done(&reply);
        return r;
}
