/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "runv.h"

int runv_bundle_load(const char *bundle, struct runv_bundle *ret)
{
        _cleanup_free_ char *err = NULL, *joined = NULL;
        char resolved[PATH_MAX];
        int r;

        *ret = (struct runv_bundle){ 0 };
        if (!realpath(bundle, resolved))
                return runv_error("bundle %s: %s", bundle, strerror(errno));
        ret->bundle = strdup(resolved);
        r = oci_spec_load(ret->bundle, &ret->spec, &err);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        if (!ret->spec->process)
                return runv_error("config.json: process is missing");
        if (ret->spec->root_path[0] == '/')
                joined = strdup(ret->spec->root_path);
        else if (asprintf(&joined, "%s/%s", ret->bundle, ret->spec->root_path) < 0)
                joined = NULL;
        if (!joined || !ret->bundle)
                return runv_error("out of memory");
        if (!realpath(joined, resolved))
                return runv_error("rootfs %s: %s", joined, strerror(errno));
        ret->rootfs = strdup(resolved);
        return ret->rootfs ? 0 : runv_error("out of memory");
}

void runv_bundle_free(struct runv_bundle *b)
{
        free(b->bundle);
        free(b->rootfs);
        oci_spec_free(b->spec);
        *b = (struct runv_bundle){ 0 };
}

int runv_claim_state(const char *id)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        r = mkdir_p(runv.root, 0700);
        if (r < 0)
                return runv_error("cannot create %s: %s", runv.root, strerror(-r));
        dir = runv_state_dir(id);
        if (!dir)
                return runv_error("out of memory");
        if (mkdir(dir, 0700) < 0) {
                if (errno == EEXIST)
                        return runv_error("container with given ID already exists");
                return runv_error("cannot create the state folder: %s", strerror(errno));
        }
        return 0;
}

void runv_remove_state(const char *id)
{
        _cleanup_free_ char *dir = runv_state_dir(id);

        if (dir)
                rm_rf(dir);
}
