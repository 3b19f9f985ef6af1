/* SPDX-License-Identifier: Apache-2.0 */
#include "mounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "json-util.h"

/*
 * What the spec asks of the host before the VM starts: the rootfs and every
 * bind source put into the shared folder, and the mounts list the guest
 * gets, with bind sources rewritten to their place in that folder.
 */
static int mounts_plan_binds(struct runv_mounts *plan, const char *id, const char *bundle, const char *rootfs,
                             const struct oci_spec *spec)
{

        plan->mounts = json_object_new_array();
        if (!plan->mounts || asprintf(&plan->targets[0], "%s/rootfs", id) < 0)
                return -ENOMEM;
        plan->binds[0] = (struct pod_bind){ .source = rootfs, .target = plan->targets[0],
                                            .readonly = spec->root_readonly };
        plan->n_binds = 1;
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct oci_mount *om = &spec->mounts[i];
                struct json_object *e = json_object_new_object(), *opts = json_object_new_array();
                const char *source = om->source;

                if (!e || !opts)
                        return -ENOMEM;
                for (char **o = om->options; o && *o; o++)
                        json_object_array_add(opts, json_object_new_string(*o));
                if (oci_mount_is_bind(om)) {
                        size_t k = plan->n_binds;
                        if (!om->source)
                                return -EINVAL;
                        if (om->source[0] == '/')
                                plan->sources[k] = strdup(om->source);
                        else if (asprintf(&plan->sources[k], "%s/%s", bundle, om->source) < 0)
                                plan->sources[k] = NULL;
                        if (!plan->sources[k] || asprintf(&plan->targets[k], "%s/mounts/%zu", id, i) < 0)
                                return -ENOMEM;
                        plan->binds[k] = (struct pod_bind){ .source = plan->sources[k],
                                                            .target = plan->targets[k],
                                                            .readonly = oci_mount_has_option(om, "ro") };
                        plan->n_binds++;
                        plan->mount_source[i] = plan->sources[k];
                        source = plan->targets[k];
                }
                json_object_object_add(e, "destination", json_object_new_string(om->destination));
                if (om->type)
                        json_object_object_add(e, "type", json_object_new_string(om->type));
                if (source)
                        json_object_object_add(e, "source", json_object_new_string(source));
                json_object_object_add(e, "options", opts);
                json_object_array_add(plan->mounts, e);
        }
        return 0;
}

/* File systems the guest makes: mounts under them never land on the rootfs itself. */
static const char *const mounts_guest_dirs[] = { "/proc", "/dev", "/sys" };

static bool mounts_guest_made(const char *dest)
{
        for (size_t i = 0; i < ARRAY_SIZE(mounts_guest_dirs); i++) {
                size_t n = strlen(mounts_guest_dirs[i]);
                if (strncmp(dest, mounts_guest_dirs[i], n) == 0 && (dest[n] == '\0' || dest[n] == '/'))
                        return true;
        }
        return false;
}

/*
 * A read-only rootfs is read-only on the host side too, so the guest cannot
 * make mount points in it: they are made here first, as runc makes them
 * before it remounts the root read-only.
 */
static int mounts_points(const struct runv_mounts *plan, const char *rootfs, const struct oci_spec *spec,
                         char **ret_error)
{
        struct stat st;
        int r;

        if (!spec->root_readonly)
                return 0;
        /* The guest mounts its own /proc, /sys and /dev on these. */
        for (size_t i = 0; i < ARRAY_SIZE(mounts_guest_dirs); i++) {
                r = mkdir_in_root(rootfs, mounts_guest_dirs[i], false);
                if (r < 0) {
                        if (asprintf(ret_error, "cannot make %s in the rootfs: %s", mounts_guest_dirs[i],
                                     strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
        }
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct oci_mount *om = &spec->mounts[i];
                const char *source = plan->mount_source[i];
                bool file = source && stat(source, &st) == 0 && !S_ISDIR(st.st_mode);
                if (mounts_guest_made(om->destination))
                        continue;
                r = mkdir_in_root(rootfs, om->destination, file);
                if (r < 0) {
                        if (asprintf(ret_error, "mount %s: cannot make the mount point: %s", om->destination,
                                     strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
        }
        return 0;
}

int runv_mounts_plan(struct runv_mounts *plan, const char *id, const char *bundle, const char *rootfs,
                     const struct oci_spec *spec, char **ret_error)
{
        int r;

        *plan = (struct runv_mounts){ 0 };
        r = mounts_plan_binds(plan, id, bundle, rootfs, spec);
        if (r == -EINVAL && asprintf(ret_error, "a bind mount in config.json has no source") < 0)
                *ret_error = NULL;
        if (r < 0)
                return r;
        return mounts_points(plan, rootfs, spec, ret_error);
}

void runv_mounts_free(struct runv_mounts *plan)
{
        for (size_t i = 0; i < ARRAY_SIZE(plan->targets); i++) {
                free(plan->targets[i]);
                free(plan->sources[i]);
        }
        json_object_put(plan->mounts);
        *plan = (struct runv_mounts){ 0 };
}
