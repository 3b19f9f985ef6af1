/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>

#include "hyperctl.h"
#include "json-util.h"

/* GET path: 1 with *ret on 200, 0 on 404, or an exit code (the failure said). */
static int inspect_try(const char *path, struct json_object **ret)
{
        struct hc_call call = { .method = "GET", .path = path };
        struct hc_reply reply;
        int r;

        r = hc_request(&call, &reply);
        if (r != 0)
                return -r;
        if (reply.status == 200 && reply.body && (*ret = json_tokener_parse(reply.body)))
                r = 1;
        else if (reply.status == 200)
                r = -hc_error("hyperd sent a reply that is not JSON");
        else
                r = reply.status == 404 ? 0 : -hc_reply_fail(&reply);
        hc_reply_done(&reply);
        return r;
}

/* A container of that name or id first, then an image (whose error, if none, is the one printed). */
static int inspect_one(const char *name, struct json_object **ret)
{
        _cleanup_free_ char *cpath = hc_container_path(name, "json"), *ref = hc_escape(name), *ipath = NULL;
        int r;

        if (!cpath || !ref || asprintf(&ipath, "/v1/images/%s/json", ref) < 0)
                return hc_error("out of memory");
        r = inspect_try(cpath, ret);
        if (r == 0)
                return hc_get_json(ipath, ret);
        return r < 0 ? -r : 0;
}

/* Prints a JSON array of the containers and images found, as `docker inspect` does; exits 1 if any was not. */
int hc_cmd_inspect(int argc, char **argv)
{
        if (argc < 2)
                return hc_usage_error("usage: hyperctl inspect CONTAINER|IMAGE...");
        return hc_inspect_each(argv + 1, argc - 1, inspect_one);
}
