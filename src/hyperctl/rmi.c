/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"

static int rmi_one(const char *ref)
{
        _cleanup_free_ char *esc = hc_escape(ref), *path = NULL;
        struct hc_call call = { .method = "DELETE" };
        struct hc_reply reply;
        int r;

        if (!esc || asprintf(&path, "/v1/images/%s", esc) < 0)
                return hc_error("out of memory");
        call.path = path;
        r = hc_request(&call, &reply);
        if (r == 0 && reply.status != 200)
                r = hc_reply_fail(&reply);
        else if (r == 0)
                printf("Untagged: %s\n", ref);
        hc_reply_done(&reply);
        return r;
}

/* Goes on after a failure, as `docker rmi` does, and exits 1 if any failed. */
int hc_cmd_rmi(int argc, char **argv)
{
        int status = 0;

        if (argc < 2)
                return hc_usage_error("usage: hyperctl rmi IMAGE...");
        for (int i = 1; i < argc; i++) {
                int r = rmi_one(argv[i]);

                if (r != 0)
                        status = r;
        }
        return status;
}
