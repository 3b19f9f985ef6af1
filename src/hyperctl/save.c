/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "hyperctl.h"

/* Downloads into a temporary file beside output, renamed once complete. */
static int save_run(const char *path, const char *output)
{
        _cleanup_free_ char *tmp = NULL;
        struct hc_call call = { .method = "GET", .path = path };
        struct hc_reply reply;
        FILE *f;
        int fd, r;

        if (asprintf(&tmp, "%s.XXXXXX", output) < 0)
                return hc_error("out of memory");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
                r = hc_error("cannot write %s: %s", output, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        call.download = f;
        r = hc_request(&call, &reply);
        if (r == 0 && reply.status != 200)
                r = hc_reply_fail(&reply);
        hc_reply_done(&reply);
        if (fclose(f) != 0 && r == 0)
                r = hc_error("cannot write %s: %s", output, strerror(errno));
        if (r == 0 && (fchmodat(AT_FDCWD, tmp, 0644, 0) < 0 || rename(tmp, output) < 0))
                r = hc_error("cannot write %s: %s", output, strerror(errno));
        if (r != 0)
                unlink(tmp);
        return r;
}

int hc_cmd_save(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "format", required_argument, NULL, 'f' },
                {},
        };
        _cleanup_free_ char *ref = NULL, *path = NULL;
        const char *output = NULL, *format = "docker";
        int c;

        while ((c = getopt_long(argc, argv, "o:", opts, NULL)) >= 0) {
                if (c == 'o')
                        output = optarg;
                else if (c == 'f')
                        format = optarg;
                else
                        return HC_EXIT_USAGE;
        }
        if (!output || optind + 1 != argc)
                return hc_usage_error("usage: hyperctl save -o FILE [--format docker|oci] IMAGE");
        if (strcmp(format, "docker") != 0 && strcmp(format, "oci") != 0)
                return hc_usage_error("--format must be docker or oci");
        ref = hc_escape(argv[optind]);
        if (!ref || asprintf(&path, "/v1/images/%s/save?format=%s", ref, format) < 0)
                return hc_error("out of memory");
        return save_run(path, output);
}
