/* SPDX-License-Identifier: Apache-2.0 */
#include "guest.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"

static int guest_pick(const char *env, const char *exe_dir, const char *name, char **ret)
{
        const char *v = getenv(env);
        char *p = NULL;

        if (v && *v) {
                if (access(v, R_OK) < 0)
                        return -errno;
                p = strdup(v);
                goto found;
        }
        if (exe_dir) {
                if (asprintf(&p, "%s/../share/hyper/%s", exe_dir, name) < 0)
                        return -ENOMEM;
                if (access(p, R_OK) == 0)
                        goto found;
                free(p);
        }
        if (asprintf(&p, "%s/%s", HYPER_DATADIR, name) < 0)
                return -ENOMEM;
        if (access(p, R_OK) < 0) {
                free(p);
                return -ENOENT;
        }
found:
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int guest_find(char **ret_kernel, char **ret_initrd)
{
        _cleanup_free_ char *kernel = NULL;
        char exe[PATH_MAX];
        const char *dir = NULL;
        ssize_t n;
        int r;

        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                dir = dirname(exe);
        }
        r = guest_pick("HYPER_KERNEL", dir, "vmlinux", &kernel);
        if (r < 0)
                return r;
        r = guest_pick("HYPER_INITRD", dir, "initrd.img", ret_initrd);
        if (r < 0)
                return r;
        *ret_kernel = TAKE_PTR(kernel);
        return 0;
}
