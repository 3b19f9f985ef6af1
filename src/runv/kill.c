/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json-util.h"
#include "runv.h"
#include "status.h"

int runv_parse_signal(const char *s)
{
        char *end;
        long n;

        errno = 0;
        n = strtol(s, &end, 10);
        if (*s && !*end && errno == 0)
                return n > 0 && n < NSIG ? (int)n : -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (int sig = 1; sig < NSIG; sig++) {
                const char *name = sigabbrev_np(sig);
                if (name && strcasecmp(s, name) == 0)
                        return sig;
        }
        return -EINVAL;
}

/* runv kill [--all] ID [SIGNAL]: SIGTERM unless told otherwise, as runc. */
int runv_cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, {} };
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_(json_object_putp) struct json_object *req = NULL;
        bool all = false;
        int c, sig = SIGTERM, r;

        while ((c = getopt_long(argc, argv, "a", opts, NULL)) >= 0) {
                if (c != 'a')
                        return runv_error("usage: runv kill [--all] ID [SIGNAL]");
                all = true;
        }
        if (optind >= argc || argc - optind > 2)
                return runv_error("usage: runv kill [--all] ID [SIGNAL]");
        if (argc - optind == 2 && (sig = runv_parse_signal(argv[optind + 1])) < 0)
                return runv_error("unknown signal \"%s\"", argv[optind + 1]);
        r = runv_load_existing(argv[optind], &st);
        if (r != 0)
                return r;
        if (st->status == RUNV_STOPPED)
                return runv_error("container not running");
        req = json_object_new_object();
        if (!req)
                return runv_error("out of memory");
        json_object_object_add(req, "op", json_object_new_string("kill"));
        json_object_object_add(req, "signal", json_object_new_int(sig));
        json_object_object_add(req, "all", json_object_new_boolean(all));
        return runv_state_request(st, req);
}
