/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyperctl.h"
#include "json-util.h"

static void load_print(const struct hc_reply *reply)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        struct json_object *arr = NULL;

        if (!reply->body || json_parse_object(reply->body, reply->len, &o) < 0 ||
            !json_object_object_get_ex(o, "Loaded", &arr) || !json_object_is_type(arr, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                struct json_object *e = json_object_array_get_idx(arr, i);
                const char *id = NULL, *name = NULL;

                json_get_string(e, "Id", &id);
                json_get_string(e, "Name", &name);
                if (name)
                        printf("Loaded image: %s\n", name);
                else
                        printf("Loaded image ID: %s\n", id ? id : "?");
        }
}

/* The archive from -i FILE, or from stdin (sent chunked, its size unknown). */
int hc_cmd_load(int argc, char **argv)
{
        static const struct option opts[] = { { "input", required_argument, NULL, 'i' }, {} };
        struct hc_call call = { .method = "POST", .path = "/v1/images/load", .upload = stdin, .upload_size = -1 };
        _cleanup_fclose_ FILE *f = NULL;
        struct hc_reply reply;
        const char *input = NULL;
        struct stat st;
        int c, r;

        while ((c = getopt_long(argc, argv, "i:", opts, NULL)) >= 0) {
                if (c != 'i')
                        return HC_EXIT_USAGE;
                input = optarg;
        }
        if (optind != argc)
                return hc_usage_error("usage: hyperctl load [-i FILE]");
        if (!input && isatty(STDIN_FILENO))
                return hc_usage_error("requested load from stdin, but stdin is a terminal: use -i FILE");
        if (input) {
                f = fopen(input, "re");
                if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode))
                        return hc_error("cannot read %s: %s", input, f ? "not a regular file" : strerror(errno));
                call.upload = f;
                call.upload_size = st.st_size;
        }
        r = hc_request(&call, &reply);
        if (r == 0 && reply.status != 200)
                r = hc_reply_fail(&reply);
        else if (r == 0)
                load_print(&reply);
        hc_reply_done(&reply);
        return r;
}
