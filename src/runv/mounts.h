/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What a container's spec asks of the host before the guest mounts
 * anything: its rootfs and every bind-mount source bound into the pod's
 * shared folder under ID/, the mounts list the guest gets (bind sources
 * rewritten to their place in that folder), and, for a read-only rootfs,
 * the mount points made on the host first.
 */

#include <json-c/json.h>

#include "oci-spec.h"
#include "pod.h"

struct runv_mounts {
        struct pod_bind binds[1 + OCI_SPEC_MAX_MOUNTS]; /* [0] is the rootfs */
        char *targets[1 + OCI_SPEC_MAX_MOUNTS];
        char *sources[1 + OCI_SPEC_MAX_MOUNTS];
        size_t n_binds;
        const char *mount_source[OCI_SPEC_MAX_MOUNTS]; /* the host source of each bind mount, or NULL */
        struct json_object *mounts;
};

int runv_mounts_plan(struct runv_mounts *plan, const char *id, const char *bundle, const char *rootfs,
                     const struct oci_spec *spec, char **ret_error);
void runv_mounts_free(struct runv_mounts *plan);
