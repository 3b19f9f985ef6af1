/* SPDX-License-Identifier: Apache-2.0 */
#include "blockdev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "fd-util.h"
#include "log.h"
#include "mounts.h"

#define BLOCKDEV_SYS "/sys/block"

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

struct blockdev_req {
        struct container *c;
        const char *serial;
        char *destination; /* normalized */
        const char *fstype; /* NULL: probed */
        bool readonly;
};

static bool blockdev_serial_valid(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n <= BLOCKDEV_MAX_SERIAL &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static bool blockdev_fstype_valid(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n <= 16 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == n;
}

static int blockdev_parse(struct agent *a, struct request *req, struct blockdev_req *ret)
{
        const char *id, *dest;
        int r;

        r = body_string(req, "container", true, 256, &id);
        if (r >= 0)
                r = body_string(req, "serial", true, 64, &ret->serial);
        if (r >= 0)
                r = body_string(req, "destination", true, 4096, &dest);
        if (r >= 0)
                r = body_string(req, "fstype", false, 64, &ret->fstype);
        if (r >= 0)
                r = body_bool(req, "readonly", &ret->readonly);
        if (r < 0)
                return r;
        if (!blockdev_serial_valid(ret->serial))
                return request_fail(req, -EINVAL, "field \"serial\" must be 1 to %d letters, digits, '_' or '-'",
                                    BLOCKDEV_MAX_SERIAL);
        if (ret->fstype && !blockdev_fstype_valid(ret->fstype))
                return request_fail(req, -EINVAL, "field \"fstype\" must be a file system name such as ext4");
        r = mounts_normalize_path(dest, &ret->destination);
        if (r < 0 || strcmp(ret->destination, "/") == 0)
                return request_fail(req, -EINVAL,
                                    "field \"destination\" must be an absolute path other than \"/\", without \"..\"");
        ret->c = container_find(a, id);
        if (!ret->c)
                return request_fail(req, -ENOENT, "container %s does not exist", id);
        return 0;
}

/* The vdX whose serial is serial, into name; -ENOENT when none (yet). */
static int blockdev_find_once(const char *serial, char name[64])
{
        _cleanup_(closedirp) DIR *d = opendir(BLOCKDEV_SYS);
        struct dirent *e;

        if (!d)
                return -errno;
        while ((e = readdir(d))) {
                char path[128], buf[64] = {0};
                _cleanup_close_ int fd = -1;
                ssize_t n;

                if (strncmp(e->d_name, "vd", 2) != 0 || strlen(e->d_name) >= 32)
                        continue;
                snprintf(path, sizeof(path), BLOCKDEV_SYS "/%s/serial", e->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (n <= 0)
                        continue;
                buf[strcspn(buf, "\n")] = '\0';
                if (strcmp(buf, serial) == 0) {
                        snprintf(name, 64, "%s", e->d_name);
                        return 0;
                }
        }
        return -ENOENT;
}

/* The file system on the disk, from its superblock: only what the guest kernel mounts is named. */
static int blockdev_probe(int fd, const char **ret)
{
        unsigned char sb[2];

        if (pread(fd, sb, sizeof(sb), 1024 + 56) != (ssize_t)sizeof(sb))
                return -EIO;
        if (sb[0] == 0x53 && sb[1] == 0xEF) {
                *ret = "ext4";
                return 0;
        }
        return -EMEDIUMTYPE;
}

/* A detached mount of the disk's file system (the new mount API: nothing is attached anywhere yet). */
static int blockdev_fsmount(const char *dev, const char *fstype, bool readonly)
{
        _cleanup_close_ int fs = -1;
        long m;

        fs = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", dev, 0) < 0 ||
            (readonly && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0) ||
            syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        m = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0));
        return m < 0 ? -errno : (int)m;
}

/* Attaches the mount at dest inside root (created if missing; symlinks resolved inside root). */
static int blockdev_attach(int mfd, int rootfd, const char *dest)
{
        _cleanup_close_ int dst = mounts_make_dir_in(rootfd, dest);

        if (dst < 0)
                return dst;
        if (syscall(SYS_move_mount, mfd, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* Runs fn in a child that sees the container's files as "/": its mount namespace, or a chroot to its root. */
static int blockdev_in_container(const struct container *c, int (*fn)(void *), void *userdata)
{
        _cleanup_close_ int ns = -1;
        char path[64];
        pid_t pid;
        int status;

        if (c->init_pid > 0) {
                snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)c->init_pid);
                ns = open(path, O_RDONLY | O_CLOEXEC);
                if (ns < 0)
                        return -errno;
        }
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int r;

                if (ns >= 0 ? setns(ns, CLONE_NEWNS) < 0 : chroot(c->root) < 0 || chdir("/") < 0)
                        _exit(errno);
                r = fn(userdata);
                _exit(r < 0 ? -r : 0);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status))
                return -EINTR;
        return -WEXITSTATUS(status);
}

struct blockdev_attach_args {
        int mfd;
        const char *dest;
};

/* In blockdev_in_container's child, where "/" is the container's root. */
static int blockdev_attach_in(void *userdata)
{
        const struct blockdev_attach_args *a = userdata;
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        return root < 0 ? -errno : blockdev_attach(a->mfd, root, a->dest);
}

/* Mounts the disk vdX (name) that has the serial. */
static int blockdev_do(struct blockdev_req *b, struct request *req, const char *name)
{
        _cleanup_close_ int fd = -1, mfd = -1, rootfd = -1;
        char dev[96];
        int r;

        snprintf(dev, sizeof(dev), "/dev/%s", name);
        fd = open(dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return request_fail(req, -errno, "cannot open %s: %m", dev);
        if (!b->fstype && blockdev_probe(fd, &b->fstype) < 0)
                return request_fail(req, -EMEDIUMTYPE,
                                    "the disk has no ext2/3/4 file system, the kind the guest mounts: make one "
                                    "(mkfs.ext4) or give its type");
        mfd = blockdev_fsmount(dev, b->fstype, b->readonly);
        if (mfd < 0)
                return request_fail(req, mfd, "cannot mount the %s file system of %s: %s", b->fstype, dev,
                                    strerror(-mfd));
        /* A running container: a child joins its mount namespace. */
        if (b->c->init_pid > 0)
                r = blockdev_in_container(b->c, blockdev_attach_in,
                                          &(struct blockdev_attach_args){.mfd = mfd, .dest = b->destination});
        else if ((rootfd = open(b->c->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                r = -errno;
        else
                r = blockdev_attach(mfd, rootfd, b->destination);
        if (r < 0)
                return request_fail(req, r, "cannot mount %s at %s: %s", dev, b->destination, strerror(-r));
        log_info("Disk %s (%s, %s) mounted at %s in container %s", dev, b->serial, b->fstype, b->destination,
                 b->c->id);
        return 0;
}

/* A MOUNT whose disk has not appeared yet (PCIe hot-plug and the disk's probe take a moment). */
struct blockdev_wait {
        struct blockdev_wait *next;
        uint32_t id;
        char *container, *serial, *destination, *fstype;
        bool readonly;
        int64_t deadline_ms;
};

static int64_t blockdev_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void blockdev_wait_free(struct blockdev_wait *w)
{
        free(w->container);
        free(w->serial);
        free(w->destination);
        free(w->fstype);
        free(w);
}

void blockdev_waits_free(struct agent *a)
{
        while (a->blockdev_waits) {
                struct blockdev_wait *w = a->blockdev_waits;

                a->blockdev_waits = w->next;
                blockdev_wait_free(w);
        }
}

static int blockdev_defer(struct agent *a, struct request *req, struct blockdev_req *b)
{
        struct blockdev_wait *w;
        size_t n = 0;

        for (w = a->blockdev_waits; w; w = w->next)
                n++;
        if (n >= BLOCKDEV_MAX_WAITS)
                return request_fail(req, -EBUSY, "too many disks awaited at once");
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (struct blockdev_wait){.id = req->id, .container = strdup(b->c->id), .serial = strdup(b->serial),
                                    .destination = b->destination, .fstype = b->fstype ? strdup(b->fstype) : NULL,
                                    .readonly = b->readonly, .deadline_ms = blockdev_now_ms() + BLOCKDEV_WAIT_MS};
        b->destination = NULL;
        if (!w->container || !w->serial || (b->fstype && !w->fstype)) {
                blockdev_wait_free(w);
                return -ENOMEM;
        }
        w->next = a->blockdev_waits;
        a->blockdev_waits = w;
        return REQUEST_DEFERRED;
}

int blockdev_mount(struct agent *a, struct request *req)
{
        struct blockdev_req b = {0};
        char name[64];
        int r;

        r = blockdev_parse(a, req, &b);
        if (r >= 0 && a->opts.sandbox) {
                r = blockdev_find_once(b.serial, name);
                if (r >= 0)
                        r = blockdev_do(&b, req, name);
                else if (r == -ENOENT)
                        r = blockdev_defer(a, req, &b);
                else
                        r = request_fail(req, r, "cannot look for the disk %s: %s", b.serial, strerror(-r));
        }
        free(b.destination);
        return r;
}

int blockdev_timeout_ms(const struct agent *a)
{
        return a->blockdev_waits ? BLOCKDEV_POLL_MS : -1;
}

/* Answers a waiting MOUNT: its disk is there (found >= 0, name), or it never came. */
static void blockdev_wait_finish(struct agent *a, struct blockdev_wait *w, int found, const char *name)
{
        struct request req = {.id = w->id, .type = HYPER_AGENT_MOUNT, .reply = json_object_new_object()};
        struct blockdev_req b = {.c = container_find(a, w->container), .serial = w->serial,
                                 .destination = w->destination, .fstype = w->fstype, .readonly = w->readonly};
        int r;

        if (found < 0)
                r = request_fail(&req, found, "no disk with serial %s appeared: %s", w->serial, strerror(-found));
        else if (!b.c)
                r = request_fail(&req, -ENOENT, "container %s does not exist", w->container);
        else if (!req.reply)
                r = -ENOMEM;
        else
                r = blockdev_do(&b, &req, name);
        request_finish(a, &req, r);
}

void blockdev_poll(struct agent *a)
{
        int64_t now = blockdev_now_ms();

        for (struct blockdev_wait **p = &a->blockdev_waits; *p;) {
                struct blockdev_wait *w = *p;
                char name[64];
                int r = blockdev_find_once(w->serial, name);

                if (r == -ENOENT && now < w->deadline_ms) {
                        p = &w->next;
                        continue;
                }
                *p = w->next;
                blockdev_wait_finish(a, w, r, name);
                blockdev_wait_free(w);
        }
}

struct blockdev_umount {
        const char *destination;
        dev_t dev;
};

/* Only the disk's own file system is unmounted: whatever else a symlink of the rootfs may name is left. */
static int blockdev_umount_in(void *userdata)
{
        const struct blockdev_umount *u = userdata;
        struct stat st;

        if (lstat(u->destination, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_dev != u->dev)
                return -ENOENT;
        /* <sys/mount.h> clashes with <linux/mount.h> in glibc 2.36: the raw call, 8 is UMOUNT_NOFOLLOW. */
        if (syscall(SYS_umount2, u->destination, 8) < 0)
                return -errno;
        return 0;
}

static int blockdev_unmount_do(struct blockdev_req *b, struct request *req)
{
        struct blockdev_umount u = {.destination = b->destination};
        char name[64], dev[96];
        struct stat st;
        int r;

        r = blockdev_find_once(b->serial, name);
        if (r < 0)
                return request_fail(req, r, "no disk with serial %s", b->serial);
        snprintf(dev, sizeof(dev), "/dev/%s", name);
        if (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
                return request_fail(req, -ENODEV, "%s is not a block device", dev);
        u.dev = st.st_rdev;
        r = blockdev_in_container(b->c, blockdev_umount_in, &u);
        if (r == -ENOENT)
                return request_fail(req, r, "the disk %s is not mounted at %s", b->serial, b->destination);
        if (r == -EBUSY)
                return request_fail(req, r, "%s is busy: a process of the container uses it", b->destination);
        if (r < 0)
                return request_fail(req, r, "cannot unmount %s: %s", b->destination, strerror(-r));
        log_info("Disk %s (%s) unmounted from %s in container %s", dev, b->serial, b->destination, b->c->id);
        return 0;
}

int blockdev_unmount(struct agent *a, struct request *req)
{
        struct blockdev_req b = {0};
        int r;

        r = blockdev_parse(a, req, &b);
        if (r >= 0 && a->opts.sandbox)
                r = blockdev_unmount_do(&b, req);
        free(b.destination);
        return r;
}
