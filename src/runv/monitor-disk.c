/* SPDX-License-Identifier: Apache-2.0 */
/*
 * {"op":"mount-block"}: a disk image file hot-plugged into the pod's VM and
 * mounted in one of its containers (a block volume). The monitor names the
 * disk (its serial in the guest), so a guest cannot make it pick another.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "monitor-internal.h"

static bool disk_format_valid(const char *f)
{
        return strcmp(f, "raw") == 0 || strcmp(f, "qcow2") == 0;
}

/* The container the request names, and whether it can take a disk now. */
static const char *disk_container(struct monitor *m, struct json_object *req, const char **ret_id)
{
        const char *id = NULL;
        enum runv_status status = m->st.status;

        if (json_get_string(req, "container", &id) >= 0 && strcmp(id, m->cfg->id) != 0) {
                struct monitor_member *mb = monitor_member_find(m, id);

                if (!mb)
                        return "container does not exist in this pod";
                status = mb->st.status;
        } else {
                id = m->cfg->id;
        }
        if (status != RUNV_CREATED && status != RUNV_RUNNING)
                return "the container is not running";
        *ret_id = id;
        return NULL;
}

const char *monitor_mount_block(struct monitor *m, struct json_object *req)
{
        _cleanup_free_ char *err = NULL;
        static char msg[512];
        struct pod_disk d = {.format = "raw"};
        char disk_id[16];
        const char *e;
        int r;

        e = disk_container(m, req, &d.container);
        if (e)
                return e;
        if (json_get_string(req, "source", &d.path) < 0 || d.path[0] != '/')
                return "source must be the absolute path of a disk image file";
        if (json_get_string(req, "destination", &d.destination) < 0 || d.destination[0] != '/')
                return "destination must be an absolute path in the container";
        if (json_get_string(req, "format", &d.format) == -EINVAL || !disk_format_valid(d.format))
                return "format must be raw or qcow2";
        if (json_get_string(req, "fstype", &d.fstype) == -EINVAL)
                return "fstype must be a string";
        if (json_get_bool(req, "readonly", &d.readonly) == -EINVAL)
                return "readonly must be true or false";
        snprintf(disk_id, sizeof(disk_id), "vol%u", ++m->n_disks);
        d.disk_id = disk_id;
        runv_debug("hot-plugging %s (%s) as %s for %s", d.path, d.format, disk_id, d.destination);
        r = pod_mount_disk(m->pod, &d, &err);
        if (r < 0) {
                snprintf(msg, sizeof(msg), "%s", err ? err : strerror(-r));
                return msg;
        }
        return NULL;
}
