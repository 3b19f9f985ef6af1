/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperctl.h"
#include "json-util.h"

struct pull_state {
        bool quiet;
        char *error;
        char *ref;
};

/* One JSON line of hyperd's progress stream. */
static int pull_line(const char *line, void *userdata)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        struct pull_state *st = userdata;
        const char *s = NULL;

        if (json_parse_object(line, strlen(line), &o) < 0)
                return 0;
        if (json_get_string(o, "error", &s) >= 0) {
                free(st->error);
                st->error = strdup(s);
        } else if (json_get_string(o, "ref", &s) >= 0) {
                free(st->ref);
                st->ref = strdup(s);
        } else if (!st->quiet && json_get_string(o, "status", &s) >= 0) {
                printf("%s\n", s);
                fflush(stdout);
        }
        return 0;
}

static int pull_run(const char *path, struct pull_state *st)
{
        struct hc_call call = { .method = "POST", .path = path, .on_line = pull_line, .userdata = st };
        struct hc_reply reply;
        int r;

        r = hc_request(&call, &reply);
        if (r == 0 && reply.status != 200)
                r = hc_reply_fail(&reply);
        else if (r == 0 && st->error)
                r = hc_error("Error response from daemon: %s", st->error);
        else if (r == 0 && !st->ref)
                r = hc_error("hyperd ended the pull without a result");
        else if (r == 0)
                printf("%s\n", st->ref);
        hc_reply_done(&reply);
        return r;
}

int hc_cmd_pull(int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "insecure", no_argument, NULL, 'k' },
                {},
        };
        struct pull_state st = { 0 };
        _cleanup_free_ char *ref = NULL, *path = NULL;
        bool insecure = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                if (c == 'q')
                        st.quiet = true;
                else if (c == 'k')
                        insecure = true;
                else
                        return HC_EXIT_USAGE;
        }
        if (optind + 1 != argc)
                return hc_usage_error("usage: hyperctl pull [-q] [--insecure] IMAGE");
        ref = hc_escape(argv[optind]);
        if (!ref || asprintf(&path, "/v1/images/pull?ref=%s%s", ref, insecure ? "&insecure=1" : "") < 0)
                return hc_error("out of memory");
        r = pull_run(path, &st);
        free(st.error);
        free(st.ref);
        return r;
}
