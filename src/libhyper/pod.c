/* SPDX-License-Identifier: Apache-2.0 */
#include "pod.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "guest.h"
#include "agent-proto.h"
#include "json-util.h"

#define POD_BOOT_TIMEOUT_MS 60000
#define POD_CALL_TIMEOUT_MS 30000

int pod_private_mounts(void)
{
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        /* Slave, not private: mounts the host makes later still show up here. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return -errno;
        return 0;
}

static int pod_errorf(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

static int pod_errorf(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r < 0 ? r : -EINVAL;
}

/* Makes the mount point: a folder for a folder, an empty file for anything else. */
static int pod_bind_target(const char *source, const char *target)
{
        _cleanup_free_ char *parent = strdup(target);
        struct stat st;
        char *slash;
        int fd, r;

        if (stat(source, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return mkdir_p(target, 0755);
        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (slash)
                *slash = '\0';
        r = mkdir_p(parent, 0755);
        if (r < 0)
                return r;
        fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

/*
 * A read-only bind is read-only on the host too: the guest is not trusted
 * to honour "ro", and virtiofsd writes with the host's permissions.
 */
static int pod_bind_one(const struct pod_bind *b, const char *target, char **ret_error)
{
        int r = pod_bind_target(b->source, target);

        if (r < 0)
                return pod_errorf(ret_error, r, "cannot bind %s: %s", b->source, strerror(-r));
        if (mount(b->source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return pod_errorf(ret_error, -errno, "cannot bind %s: %s", b->source, strerror(errno));
        if (b->readonly && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                return pod_errorf(ret_error, -errno, "cannot make %s read-only: %s", b->source, strerror(errno));
        return 0;
}

int pod_add_binds(struct pod *pod, const struct pod_bind *binds, size_t n, char **ret_error)
{
        char **targets;

        targets = reallocarray(pod->bind_targets, pod->n_bind_targets + n + 1, sizeof(char *));
        if (!targets)
                return -ENOMEM;
        pod->bind_targets = targets;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *target = NULL;
                const char *t = binds[i].target;
                int r;

                if (t[0] == '/' || strstr(t, ".."))
                        return pod_errorf(ret_error, -EINVAL, "bad share path %s", t);
                if (asprintf(&target, "%s/%s", pod->share_dir, t) < 0)
                        return -ENOMEM;
                r = pod_bind_one(&binds[i], target, ret_error);
                if (r < 0)
                        return r;
                pod->bind_targets[pod->n_bind_targets++] = TAKE_PTR(target);
        }
        return 0;
}

void pod_remove_binds(struct pod *pod, const char *prefix)
{
        size_t len = strlen(pod->share_dir), plen = strlen(prefix);

        for (size_t i = pod->n_bind_targets; i-- > 0;) {
                const char *t = pod->bind_targets[i] + len + 1;
                if (strncmp(t, prefix, plen) != 0 || t[plen] != '/')
                        continue;
                umount2(pod->bind_targets[i], MNT_DETACH);
                free(pod->bind_targets[i]);
                pod->bind_targets[i] = pod->bind_targets[--pod->n_bind_targets];
        }
}

/*
 * The shared folder is a shared mount: binds added after virtiofsd started
 * (a container joining the pod) propagate into its mount namespace, which
 * it made as a slave copy of ours.
 */
static int pod_share_prepare(struct pod *pod, char **ret_error)
{
        if (mkdir(pod->share_dir, 0700) < 0 && errno != EEXIST)
                return pod_errorf(ret_error, -errno, "cannot create %s: %s", pod->share_dir, strerror(errno));
        if (mount(pod->share_dir, pod->share_dir, NULL, MS_BIND, NULL) < 0 ||
            mount(NULL, pod->share_dir, NULL, MS_SHARED, NULL) < 0)
                return pod_errorf(ret_error, -errno, "cannot prepare %s: %s", pod->share_dir, strerror(errno));
        pod->share_mounted = true;
        return 0;
}

static int pod_launch(struct pod *pod, const struct pod_config *cfg, char **ret_error)
{
        _cleanup_free_ char *kernel = NULL, *initrd = NULL;
        struct vm_config vc = {
                .id = cfg->id,
                .state_dir = cfg->state_dir,
                .vcpus = cfg->vcpus,
                .memory_mib = cfg->memory_mib,
                .share_dir = pod->share_dir,
                .share = VM_SHARE_AUTO,
                .accel = VM_ACCEL_AUTO,
                .nics = cfg->nics,
                .n_nics = cfg->n_nics,
        };
        int r;

        r = guest_find(&kernel, &initrd);
        if (r < 0)
                return pod_errorf(ret_error, r,
                                  "cannot find the guest kernel and initrd (set HYPER_KERNEL and HYPER_INITRD): %s",
                                  strerror(-r));
        vc.kernel = kernel;
        vc.initrd = initrd;
        r = qemu_ops.launch(&vc, &pod->vm);
        if (r < 0)
                return pod_errorf(ret_error, r, "cannot start the VM: %s", strerror(-r));
        return 0;
}

static int pod_handshake(struct pod *pod, const struct pod_config *cfg, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        r = agent_connect(pod->vm->ctl_socket, pod->vm->stream_socket, &pod->agent);
        if (r < 0)
                return pod_errorf(ret_error, r, "cannot connect to the guest agent: %s", strerror(-r));
        r = agent_hello(pod->agent, cfg->boot_timeout_ms ? cfg->boot_timeout_ms : POD_BOOT_TIMEOUT_MS,
                        &pod->kernel_version, &err);
        if (r == -ETIMEDOUT)
                return pod_errorf(ret_error, r, "the guest agent did not answer in time; see %s",
                                  pod->vm->console_log);
        if (r < 0)
                return pod_errorf(ret_error, r, "guest agent handshake failed: %s",
                                  err ? err : agent_error(pod->agent) ? agent_error(pod->agent) : strerror(-r));
        req = json_object_new_object();
        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "hostname", json_object_new_string(cfg->hostname ? cfg->hostname : cfg->id));
        json_object_object_add(req, "share",
                               json_object_new_string(pod->vm->share == VM_SHARE_9P ? "9p" : "virtiofs"));
        r = agent_call(pod->agent, HYPER_AGENT_POD, req, POD_CALL_TIMEOUT_MS, NULL, &err);
        if (r < 0)
                return pod_errorf(ret_error, r, "the guest could not set up the pod: %s",
                                  err ? err : strerror(-r));
        /* Sent even without interfaces: it brings up lo, which the pod's containers talk over. */
        r = agent_call(pod->agent, HYPER_AGENT_NETWORK, cfg->network, POD_CALL_TIMEOUT_MS, NULL, &err);
        if (r < 0)
                return pod_errorf(ret_error, r, "the guest could not set up its network: %s",
                                  err ? err : strerror(-r));
        return 0;
}

int pod_start(const struct pod_config *cfg, struct pod **ret, char **ret_error)
{
        _cleanup_(pod_freep) struct pod *pod = NULL;
        int r;

        pod = calloc(1, sizeof(*pod));
        if (!pod)
                return -ENOMEM;
        if (asprintf(&pod->share_dir, "%s/share", cfg->state_dir) < 0)
                return -ENOMEM;
        r = pod_share_prepare(pod, ret_error);
        if (r >= 0)
                r = pod_add_binds(pod, cfg->binds, cfg->n_binds, ret_error);
        if (r >= 0)
                r = pod_launch(pod, cfg, ret_error);
        if (r >= 0)
                r = pod_handshake(pod, cfg, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(pod);
        return 0;
}

static int pod_call(struct pod *pod, uint16_t type, struct json_object *req, const char *what, char **ret_error,
                    struct json_object **ret_reply)
{
        _cleanup_free_ char *err = NULL;
        int r;

        r = agent_call(pod->agent, type, req, POD_CALL_TIMEOUT_MS, ret_reply, &err);
        if (r == -EREMOTEIO)
                return pod_errorf(ret_error, r, "%s", err ? err : what);
        if (r < 0)
                return pod_errorf(ret_error, r, "%s: %s", what,
                                  agent_error(pod->agent) ? agent_error(pod->agent) : strerror(-r));
        return 0;
}

static struct json_object *pod_strv_json(char **v);

int pod_add_container(struct pod *pod, const struct pod_container *c, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "id", json_object_new_string(c->id));
        json_object_object_add(req, "rootfs", json_object_new_string(c->rootfs));
        json_object_object_add(req, "mode", json_object_new_string("bind"));
        json_object_object_add(req, "readonly", json_object_new_boolean(c->readonly));
        if (c->hostname)
                json_object_object_add(req, "hostname", json_object_new_string(c->hostname));
        if (c->mounts)
                json_object_object_add(req, "mounts", json_object_get(c->mounts));
        if (c->masked_paths)
                json_object_object_add(req, "maskedPaths", pod_strv_json(c->masked_paths));
        if (c->readonly_paths)
                json_object_object_add(req, "readonlyPaths", pod_strv_json(c->readonly_paths));
        return pod_call(pod, HYPER_AGENT_CONTAINER, req, "cannot prepare the container", ret_error, NULL);
}

static struct json_object *pod_strv_json(char **v)
{
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; a && v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

static struct json_object *pod_exec_body(const char *container, uint32_t process, const struct oci_process *p,
                                         const struct pod_stdio *stdio)
{
        struct json_object *req = json_object_new_object();
        struct json_object *groups = json_object_new_array();

        if (!req || !groups) {
                json_object_put(req);
                json_object_put(groups);
                return NULL;
        }
        for (size_t i = 0; i < p->n_groups; i++)
                json_object_array_add(groups, json_object_new_int64(p->groups[i]));
        json_object_object_add(req, "container", json_object_new_string(container));
        json_object_object_add(req, "process", json_object_new_int64(process));
        json_object_object_add(req, "args", pod_strv_json(p->args));
        json_object_object_add(req, "env", pod_strv_json(p->env));
        json_object_object_add(req, "cwd", json_object_new_string(p->cwd));
        json_object_object_add(req, "uid", json_object_new_int64(p->uid));
        json_object_object_add(req, "gid", json_object_new_int64(p->gid));
        json_object_object_add(req, "groups", groups);
        json_object_object_add(req, "terminal", json_object_new_boolean(p->terminal));
        json_object_object_add(req, "rows", json_object_new_int64(p->rows));
        json_object_object_add(req, "cols", json_object_new_int64(p->cols));
        json_object_object_add(req, "stdin", json_object_new_int64(stdio->in));
        json_object_object_add(req, "stdout", json_object_new_int64(stdio->out));
        json_object_object_add(req, "stderr", json_object_new_int64(stdio->err));
        return req;
}

int pod_exec(struct pod *pod, const char *container, uint32_t process, const struct oci_process *p,
             const struct pod_stdio *stdio, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = pod_exec_body(container, process, p, stdio);

        if (!req)
                return -ENOMEM;
        return pod_call(pod, HYPER_AGENT_EXEC, req, "cannot start the process", ret_error, NULL);
}

static struct json_object *pod_mount_body(const struct pod_disk *d)
{
        struct json_object *req = json_object_new_object();

        if (!req)
                return NULL;
        json_object_object_add(req, "container", json_object_new_string(d->container));
        json_object_object_add(req, "serial", json_object_new_string(d->disk_id));
        json_object_object_add(req, "destination", json_object_new_string(d->destination));
        json_object_object_add(req, "readonly", json_object_new_boolean(d->readonly));
        if (d->fstype)
                json_object_object_add(req, "fstype", json_object_new_string(d->fstype));
        return req;
}

int pod_mount_disk(struct pod *pod, const struct pod_disk *d, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = pod_mount_body(d);
        _cleanup_free_ char *qerr = NULL;
        int r;

        if (!req)
                return -ENOMEM;
        r = pod->vm->ops->hotplug_disk(pod->vm, d->disk_id, d->path, d->format, d->readonly, &qerr);
        if (r < 0)
                return pod_errorf(ret_error, r, "cannot hot-plug %s (%s) into the VM: %s", d->path, d->format,
                                  qerr ? qerr : r == -ENOSPC ? "no free hot-plug port" : strerror(-r));
        r = pod_call(pod, HYPER_AGENT_MOUNT, req, "cannot mount the disk", ret_error, NULL);
        if (r < 0) {
                int u = pod->vm->ops->unplug_disk(pod->vm, d->disk_id);

                /* QEMU still has the file (read-write unless readonly): the caller must not take it for free. */
                if (u < 0) {
                        _cleanup_free_ char *first = ret_error ? TAKE_PTR(*ret_error) : NULL;

                        return pod_errorf(ret_error, -ENOTRECOVERABLE, "%s; and the VM did not let go of the disk "
                                          "(%s): " POD_DISK_STUCK,
                                          first ? first : "cannot mount the disk", strerror(-u));
                }
        }
        return r;
}

int pod_unmount_disk(struct pod *pod, const char *disk_id, const char *container, const char *destination,
                     char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();
        int r;

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "container", json_object_new_string(container));
        json_object_object_add(req, "serial", json_object_new_string(disk_id));
        json_object_object_add(req, "destination", json_object_new_string(destination));
        r = pod_call(pod, HYPER_AGENT_UNMOUNT, req, "cannot unmount the disk", ret_error, NULL);
        if (r < 0)
                return r;
        r = pod->vm->ops->unplug_disk(pod->vm, disk_id);
        if (r < 0)
                return pod_errorf(ret_error, r, "cannot unplug the disk: %s", strerror(-r));
        return 0;
}

int pod_remove_container(struct pod *pod, const char *id)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "id", json_object_new_string(id));
        return agent_send(pod->agent, HYPER_AGENT_REMOVE, req);
}

int pod_signal(struct pod *pod, uint32_t process, int sig)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "process", json_object_new_int64(process));
        json_object_object_add(req, "signal", json_object_new_int(sig));
        return agent_send(pod->agent, HYPER_AGENT_SIGNAL, req);
}

int pod_winsize(struct pod *pod, uint32_t process, unsigned rows, unsigned cols)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "process", json_object_new_int64(process));
        json_object_object_add(req, "rows", json_object_new_int64(rows));
        json_object_object_add(req, "cols", json_object_new_int64(cols));
        return agent_send(pod->agent, HYPER_AGENT_WINSIZE, req);
}

int pod_stop(struct pod *pod, int timeout_ms)
{
        int status, r = -ETIMEDOUT;

        if (!pod->vm)
                return 0;
        /* A broken or hostile guest gets no say: it is killed. */
        if (pod->agent && !agent_error(pod->agent))
                r = agent_call(pod->agent, HYPER_AGENT_POWEROFF, NULL, timeout_ms, NULL, NULL);
        if (r >= 0)
                r = pod->vm->ops->wait(pod->vm, timeout_ms, &status);
        if (r < 0)
                return pod->vm->ops->kill(pod->vm);
        return 0;
}

void pod_free(struct pod *pod)
{
        if (!pod)
                return;
        agent_free(pod->agent);
        if (pod->vm)
                pod->vm->ops->free(pod->vm);
        /* The binds live in this process's mount namespace; undo them so the state folder can go. */
        for (size_t i = 0; i < pod->n_bind_targets; i++) {
                umount2(pod->bind_targets[i], MNT_DETACH);
                free(pod->bind_targets[i]);
        }
        free(pod->bind_targets);
        if (pod->share_mounted)
                umount2(pod->share_dir, MNT_DETACH);
        free(pod->share_dir);
        free(pod->kernel_version);
        free(pod);
}
