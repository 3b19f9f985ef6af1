/* SPDX-License-Identifier: Apache-2.0 */
/*
 * {"op":"mount-block"}: a disk image file hot-plugged into the pod's VM and
 * mounted in one of its containers (a block volume). The monitor names the
 * disk (its serial in the guest), so a guest cannot make it pick another.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
        struct monitor_disk *disk;
        char disk_id[16];
        const char *e;
        int r;

        e = disk_container(m, req, &d.container);
        if (e)
                return e;
        if (m->n_mounted >= MONITOR_MAX_DISKS)
                return "too many disks in this pod";
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
        disk = &m->disks[m->n_mounted];
        snprintf(disk->id, sizeof(disk->id), "%s", disk_id);
        disk->container = strdup(d.container);
        disk->destination = strdup(d.destination);
        /* Without the record the disk stays until the VM ends: only umount-block would miss it. */
        if (disk->container && disk->destination)
                m->n_mounted++;
        return NULL;
}

static void disk_free(struct monitor_disk *d)
{
        free(d->container);
        free(d->destination);
        *d = (struct monitor_disk){0};
}

const char *monitor_umount_block(struct monitor *m, struct json_object *req)
{
        _cleanup_free_ char *err = NULL;
        static char msg[512];
        const char *container, *dest, *e;
        size_t i;
        int r;

        e = disk_container(m, req, &container);
        if (e)
                return e;
        if (json_get_string(req, "destination", &dest) < 0)
                return "destination must be a path in the container";
        for (i = 0; i < m->n_mounted; i++)
                if (strcmp(m->disks[i].container, container) == 0 && strcmp(m->disks[i].destination, dest) == 0)
                        break;
        if (i == m->n_mounted)
                return "no disk was mounted there by mount-block";
        r = pod_unmount_disk(m->pod, m->disks[i].id, container, dest, &err);
        if (r < 0) {
                snprintf(msg, sizeof(msg), "%s", err ? err : strerror(-r));
                return msg;
        }
        disk_free(&m->disks[i]);
        m->disks[i] = m->disks[--m->n_mounted];
        m->disks[m->n_mounted] = (struct monitor_disk){0};
        return NULL;
}

void monitor_disks_free(struct monitor *m)
{
        for (size_t i = 0; i < m->n_mounted; i++)
                disk_free(&m->disks[i]);
        m->n_mounted = 0;
}
