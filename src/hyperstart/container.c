/* SPDX-License-Identifier: Apache-2.0 */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "mounts.h"
#include "process.h"

#define CONTAINER_MAX 256

/* What CONTAINER asks for beyond the container's identity; it lives only while the request is handled. */
struct container_spec {
        const char *rootfs;
        bool overlay;
        bool readonly;
        struct mounts mounts;
};

static int pod_mount_share(const char *share)
{
        const char *type, *options = NULL;
        int r;

        if (strcmp(share, "virtiofs") == 0) {
                type = "virtiofs";
        } else if (strcmp(share, "9p") == 0) {
                type = "9p";
                options = "trans=virtio,version=9p2000.L,msize=524288,cache=none";
        } else {
                return -EINVAL;
        }
        r = mkdir_p(HYPER_AGENT_SHARE_DIR, 0755);
        if (r < 0)
                return r;
        if (mount(HYPER_AGENT_SHARE_TAG, HYPER_AGENT_SHARE_DIR, type, MS_NODEV, options) < 0)
                return -errno;
        return 0;
}

/*
 * The pod init is PID 1 of the pod's pid namespace and the holder of its
 * ipc and uts namespaces. It only reaps: every signal stays blocked, so
 * only SIGKILL from hyperstart ends it.
 */
static _noreturn_ void pod_init_main(const char *hostname)
{
        sigset_t all, chld;
        int sig;

        if (hostname && sethostname(hostname, strlen(hostname)) < 0)
                log_warning_errno(errno, "Cannot set the pod's hostname");
        (void)close_range(3, ~0U, 0);
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        for (;;) {
                if (sigwait(&chld, &sig) != 0)
                        pause();
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        }
}

static int pod_start_init(struct agent *a, const char *hostname)
{
        long pid;

        /* A fork into new namespaces: the raw syscall returns in the child like fork(). */
        pid = syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0)
                return -errno;
        if (pid == 0)
                pod_init_main(hostname);
        a->pod.init_pid = (pid_t)pid;
        log_info("Pod init started as pid %ld", pid);
        return 0;
}

int pod_start(struct agent *a, const char *hostname, const char *share, struct request *req)
{
        int r;

        if (a->pod.started)
                return request_fail(req, -EEXIST, "the pod is already started");
        if (strcmp(share, "virtiofs") != 0 && strcmp(share, "9p") != 0)
                return request_fail(req, -EINVAL, "share must be \"virtiofs\" or \"9p\"");
        if (a->opts.sandbox) {
                r = pod_mount_share(share);
                if (r < 0)
                        return request_fail(req, r, "cannot mount the %s share %s: %s", share,
                                            HYPER_AGENT_SHARE_TAG, strerror(-r));
                r = pod_start_init(a, hostname);
                if (r < 0) {
                        (void)umount2(HYPER_AGENT_SHARE_DIR, MNT_DETACH);
                        return request_fail(req, r, "cannot start the pod init: %s", strerror(-r));
                }
        }
        a->pod.started = true;
        return 0;
}

bool container_id_valid(const char *id)
{
        size_t n = strlen(id);

        if (n == 0 || n > 128 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return false;
        for (const char *p = id; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
                        return false;
        return true;
}

/* A path inside the share: relative (a leading / is allowed and ignored), no "..", no empty name. */
static bool container_rootfs_valid(const char *path)
{
        const char *p = path;

        while (*p == '/')
                p++;
        if (*p == '\0')
                return false;
        while (*p) {
                size_t n = strcspn(p, "/");
                if ((n == 2 && strncmp(p, "..", 2) == 0))
                        return false;
                p += n;
                while (*p == '/')
                        p++;
        }
        /* Overlay options are comma- and colon-separated. */
        return !strpbrk(path, ",:\\");
}

struct container *container_find(struct agent *a, const char *id)
{
        for (struct container *c = a->containers; c; c = c->next)
                if (strcmp(c->id, id) == 0)
                        return c;
        return NULL;
}

void container_free(struct container *c)
{
        if (!c)
                return;
        free(c->id);
        free(c->dir);
        free(c->root);
        free(c->hostname);
        strv_free(c->masked);
        strv_free(c->readonly_paths);
        free(c);
}

static int container_path(char **ret, const char *base, const char *name)
{
        return asprintf(ret, "%s/%s", base, name) < 0 ? -ENOMEM : 0;
}

static int container_mount_at(const char *root, const char *name, const char *type, unsigned long flags,
                              const char *options, mode_t mode)
{
        _cleanup_free_ char *p = NULL;
        int r;

        r = container_path(&p, root, name);
        if (r < 0)
                return r;
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        if (mount(type, p, type, flags, options) < 0)
                return -errno;
        return 0;
}

static int container_make_dev(const char *dev)
{
        static const struct {
                const char *name;
                unsigned major, minor;
        } nodes[] = {
                { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
                { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
        };
        static const struct {
                const char *name, *target;
        } links[] = {
                { "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
                { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
        };
        int dfd;

        dfd = open(dev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
                /* The umask would take the bits every process needs on these. */
                if (mknodat(dfd, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 ||
                    fchmodat(dfd, nodes[i].name, 0666, 0) < 0) {
                        int r = -errno;
                        close(dfd);
                        return r;
                }
        }
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                (void)symlinkat(links[i].target, dfd, links[i].name);
        close(dfd);
        return 0;
}

static int container_mount_inside(const char *root)
{
        _cleanup_free_ char *dev = NULL, *proc = NULL;
        int r;

        /* /proc is mounted by the container's first process, inside its pid namespace. */
        r = container_path(&proc, root, "proc");
        if (r < 0)
                return r;
        if (mkdir(proc, 0555) < 0 && errno != EEXIST)
                return -errno;
        r = container_mount_at(root, "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555);
        if (r < 0)
                return r;
        r = container_mount_at(root, "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", 0755);
        if (r < 0)
                return r;
        r = container_path(&dev, root, "dev");
        if (r < 0)
                return r;
        r = container_make_dev(dev);
        if (r < 0)
                return r;
        r = container_mount_at(dev, "pts", "devpts", MS_NOSUID | MS_NOEXEC,
                               "newinstance,ptmxmode=0666,mode=0620,gid=5", 0755);
        if (r < 0)
                return r;
        return container_mount_at(dev, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                  "mode=1777,size=65536k", 01777);
}

static int container_mkdir_in(const char *base, const char *name)
{
        _cleanup_free_ char *p = NULL;
        int r;

        r = container_path(&p, base, name);
        if (r < 0)
                return r;
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int container_mount_overlay(struct container *c, const char *lower)
{
        _cleanup_free_ char *rw = NULL, *options = NULL;
        int r;

        /* The upper layer lives in guest memory: writes never reach the shared rootfs. */
        r = container_mount_at(c->dir, "rw", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755", 0755);
        if (r < 0)
                return r;
        r = container_path(&rw, c->dir, "rw");
        if (r < 0)
                return r;
        r = container_mkdir_in(rw, "upper");
        if (r >= 0)
                r = container_mkdir_in(rw, "work");
        if (r < 0)
                return r;
        if (asprintf(&options, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, rw, rw) < 0)
                return -ENOMEM;
        if (mount("overlay", c->root, "overlay", 0, options) < 0)
                return -errno;
        return 0;
}

static int container_mount_root(struct container *c, const char *rootfs, bool overlay)
{
        _cleanup_free_ char *src = NULL;
        int r;

        while (*rootfs == '/')
                rootfs++;
        if (asprintf(&src, "%s/%s", HYPER_AGENT_SHARE_DIR, rootfs) < 0)
                return -ENOMEM;
        r = mkdir_p(c->root, 0755);
        if (r < 0)
                return r;
        if (overlay)
                r = container_mount_overlay(c, src);
        else if (mount(src, c->root, NULL, MS_BIND | MS_REC, NULL) < 0)
                r = -errno;
        if (r < 0)
                return r;
        c->mounted = true;
        return container_mount_inside(c->root);
}

/* The spec's mounts come after the standard ones, and the read-only remount last, as runc orders them. */
static int container_mount(struct container *c, const struct container_spec *spec, struct request *req)
{
        int r;

        r = container_mount_root(c, spec->rootfs, spec->overlay);
        if (r < 0)
                return request_fail(req, r, "cannot prepare the root of container %s: %s", c->id, strerror(-r));
        r = mounts_apply(&spec->mounts, c->root, req);
        if (r < 0)
                return r;
        /* Read-only applies to the root itself; /dev, /dev/shm and the like stay writable. */
        if (spec->readonly && mount(NULL, c->root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                return request_fail(req, -errno, "cannot make the root of container %s read-only: %s", c->id,
                                    strerror(errno));
        return 0;
}

static void container_unmount(struct container *c)
{
        _cleanup_free_ char *rw = NULL;

        /* A lazy unmount takes every mount below the root with it. */
        if (c->mounted && umount2(c->root, MNT_DETACH) < 0)
                log_warning_errno(errno, "Cannot unmount %s", c->root);
        c->mounted = false;
        (void)rmdir(c->root);
        if (container_path(&rw, c->dir, "rw") >= 0 && umount2(rw, MNT_DETACH) == 0)
                (void)rmdir(rw);
        (void)rmdir(c->dir);
}

static int container_parse_ids(struct request *req, struct container *c, struct container_spec *spec)
{
        const char *id, *mode = "bind", *hostname = NULL;
        int r;

        r = body_string(req, "id", true, 128, &id);
        if (r >= 0)
                r = body_string(req, "rootfs", true, 4096, &spec->rootfs);
        if (r >= 0)
                r = body_string(req, "mode", false, 16, &mode);
        if (r >= 0)
                r = body_bool(req, "readonly", &spec->readonly);
        if (r >= 0)
                r = body_string(req, "hostname", false, 64, &hostname);
        if (r < 0)
                return r;
        if (!container_id_valid(id))
                return request_fail(req, -EINVAL, "container id \"%s\" is not valid", id);
        if (!container_rootfs_valid(spec->rootfs))
                return request_fail(req, -EINVAL, "rootfs \"%s\" is not a path inside the share", spec->rootfs);
        if (strcmp(mode, "bind") != 0 && strcmp(mode, "overlay") != 0)
                return request_fail(req, -EINVAL, "mode must be \"bind\" or \"overlay\"");
        spec->overlay = strcmp(mode, "overlay") == 0;
        c->id = strdup(id);
        c->hostname = hostname ? strdup(hostname) : NULL;
        if (!c->id || (hostname && !c->hostname) || asprintf(&c->dir, "%s/%s", CONTAINER_DIR, id) < 0 ||
            asprintf(&c->root, "%s/root", c->dir) < 0)
                return -ENOMEM;
        return 0;
}

static int container_parse(struct request *req, struct container *c, struct container_spec *spec)
{
        int r;

        r = container_parse_ids(req, c, spec);
        if (r >= 0)
                r = mounts_parse(req, &spec->mounts);
        if (r >= 0)
                r = mounts_parse_paths(req, "maskedPaths", &c->masked);
        if (r >= 0)
                r = mounts_parse_paths(req, "readonlyPaths", &c->readonly_paths);
        return r;
}

int container_create(struct agent *a, struct request *req)
{
        struct container_spec spec = { 0 };
        struct container *c;
        int r;

        if (!a->pod.started)
                return request_fail(req, -EPROTO, "POD must come before CONTAINER");
        if (a->n_containers >= CONTAINER_MAX)
                return request_fail(req, -EMFILE, "too many containers");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = container_parse(req, c, &spec);
        if (r >= 0 && container_find(a, c->id))
                r = request_fail(req, -EEXIST, "container %s already exists", c->id);
        if (r >= 0 && a->opts.sandbox) {
                r = container_mount(c, &spec, req);
                /* The lazy unmount of the root takes every mount made below it: nothing half-done stays. */
                if (r < 0)
                        container_unmount(c);
        }
        mounts_done(&spec.mounts);
        if (r < 0) {
                container_free(c);
                return r;
        }
        c->next = a->containers;
        a->containers = c;
        a->n_containers++;
        return 0;
}

int container_remove(struct agent *a, struct container *c, struct request *req)
{
        struct container **pp;

        /* Processes still running are killed; their EXIT events still come. */
        for (struct process *p = a->processes; p; p = p->next)
                if (p->container == c) {
                        if (!p->exited)
                                (void)process_signal(p, SIGKILL);
                        p->container = NULL;
                }
        if (a->opts.sandbox)
                container_unmount(c);
        for (pp = &a->containers; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        a->n_containers--;
        container_free(c);
        return 0;
}
