/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "fd-util.h"
#include "oci-spec.h"
#include "runv.h"

/* runv spec [--bundle DIR]: writes runc's default config.json, refusing to overwrite one. */
int runv_cmd_spec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "rootless", no_argument, NULL, 'R' },
                {},
        };
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        const char *bundle = ".";
        const char *text = oci_spec_default();
        int c, r;

        while ((c = getopt_long(argc, argv, "b:", opts, NULL)) >= 0) {
                if (c == 'b')
                        bundle = optarg;
                else if (c != 'R')
                        return runv_error("usage: runv spec [--bundle DIR]");
        }
        if (asprintf(&path, "%s/config.json", bundle) < 0)
                return runv_error("out of memory");
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
                return runv_error("File %s exists. Remove it first", path);
        if (fd < 0)
                return runv_error("cannot create %s: %s", path, strerror(errno));
        r = loop_write(fd, text, strlen(text));
        if (r < 0)
                return runv_error("cannot write %s: %s", path, strerror(-r));
        return 0;
}
