/* SPDX-License-Identifier: Apache-2.0 */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fd-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "store-internal.h"

static bool rootfs_id_valid(const char *id)
{
        size_t n = strlen(id);

        return n > 0 && n <= 128 && id[0] != '.' &&
               strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/*
 * The new mount API takes one lower folder per "lowerdir+" (Linux 6.8),
 * so neither the one-page limit of mount(2)'s options nor ':' and ',' in
 * paths get in the way. -EINVAL means an older kernel.
 */
static int rootfs_mount_fsconfig(char **lower, const char *upper, const char *work, const char *target)
{
        _cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC), mnt = -1;
        size_t n = 0;

        if (fs < 0)
                return -errno;
        while (lower[n])
                n++;
        /* overlayfs lists the top layer first. */
        for (size_t i = n; i > 0; i--)
                if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", lower[i - 1], 0) < 0)
                        return -errno;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
        if (mnt < 0 || syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

static int rootfs_mount_legacy(char **lower, const char *upper, const char *work, const char *target)
{
        _cleanup_free_ char *opts = NULL;
        size_t n = 0, len = 64 + strlen(upper) + strlen(work);

        while (lower[n])
                len += strlen(lower[n++]) + 1;
        if (len >= 4096)
                return -E2BIG;
        if (!(opts = malloc(len)))
                return -ENOMEM;
        strcpy(opts, "lowerdir=");
        for (size_t i = n; i > 0; i--) {
                if (strpbrk(lower[i - 1], ":,\\"))
                        return -EINVAL;
                strcat(opts, lower[i - 1]);
                if (i > 1)
                        strcat(opts, ":");
        }
        snprintf(opts + strlen(opts), len - strlen(opts), ",upperdir=%s,workdir=%s", upper, work);
        return mount("overlay", target, "overlay", 0, opts) < 0 ? -errno : 0;
}

static int rootfs_mount(char **lower, const char *dir, const char *target, char **ret_error)
{
        _cleanup_free_ char *upper = NULL, *work = NULL;
        int r;

        if (asprintf(&upper, "%s/upper", dir) < 0 || asprintf(&work, "%s/work", dir) < 0)
                return -ENOMEM;
        r = rootfs_mount_fsconfig(lower, upper, work, target);
        if (r == -EINVAL || r == -ENOSYS)
                r = rootfs_mount_legacy(lower, upper, work, target);
        if (r < 0)
                return image_error(ret_error, r, "cannot mount the overlay on %s: %s", target, strerror(-r));
        return 0;
}

/* Records the image (so that it cannot be removed) under the metadata lock, so that no rmi slips in between. */
static int rootfs_prepare(struct image_store *s, const char *ref, const char *id, char ***ret_lower, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        _cleanup_close_ int lock = -1, fd = -1;
        _cleanup_free_ char *image = NULL;
        const char *found;
        int r;

        if ((r = store_meta_lock(s, &lock, ret_error)) < 0 || (r = store_meta_load(s, &meta, ret_error)) < 0 ||
            (r = store_resolve(meta, ref, &found, ret_error)) < 0)
                return r;
        if (!(image = strdup(found)))
                return -ENOMEM;
        if ((r = image_store_layer_dirs(s, image, ret_lower, ret_error)) < 0)
                return r;
        if (mkdirat(s->rootfs_fd, id, 0700) < 0)
                return image_error(ret_error, -errno, errno == EEXIST ? "rootfs %s exists already" : "cannot make rootfs %s: %m",
                                   id);
        fd = openat(s->rootfs_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || mkdirat(fd, "upper", 0755) < 0 || mkdirat(fd, "work", 0700) < 0 || mkdirat(fd, "merged", 0755) < 0 ||
            mkdirat(fd, "empty", 0755) < 0)
                return image_error(ret_error, -errno, "cannot make rootfs %s: %m", id);
        r = write_file_atomic_at(fd, "image", image, strlen(image), 0600);
        return r < 0 ? image_error(ret_error, r, "cannot record the image of rootfs %s", id) : 0;
}

static int rootfs_record_target(struct image_store *s, const char *id, const char *target)
{
        _cleanup_close_ int fd = openat(s->rootfs_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return write_file_atomic_at(fd, "target", target, strlen(target), 0600);
}

static int rootfs_lower_or_empty(char ***lower, const char *dir)
{
        _cleanup_free_ char *empty = NULL;
        size_t n = 0;

        if ((*lower)[0])
                return 0;
        /* overlayfs needs a lower folder: an image without layers gets an empty one. */
        if (asprintf(&empty, "%s/empty", dir) < 0)
                return -ENOMEM;
        return strv_push(lower, &n, empty);
}

int image_rootfs_create(struct image_store *s, const char *ref, const char *id, const char *target, char **ret_path,
                        char **ret_error)
{
        _cleanup_(strv_freep) char **lower = NULL;
        _cleanup_free_ char *dir = NULL, *mnt = NULL;
        char real[PATH_MAX];
        int r;

        if (!rootfs_id_valid(id))
                return image_error(ret_error, -EINVAL, "invalid rootfs id \"%s\"", id);
        if (asprintf(&dir, "%s/rootfs/%s", s->root, id) < 0)
                return -ENOMEM;
        r = rootfs_prepare(s, ref, id, &lower, ret_error);
        if (r == -EEXIST)
                return r;
        if (r >= 0)
                r = rootfs_lower_or_empty(&lower, dir);
        if (r >= 0 && !target && asprintf(&mnt, "%s/merged", dir) < 0)
                r = -ENOMEM;
        if (r >= 0 && !realpath(mnt ? mnt : target, real))
                r = image_error(ret_error, -errno, "cannot find %s: %m", mnt ? mnt : target);
        if (r >= 0)
                r = rootfs_mount(lower, dir, real, ret_error);
        if (r >= 0 && (r = rootfs_record_target(s, id, real)) < 0)
                umount2(real, MNT_DETACH);
        if (r < 0) {
                rm_rf(dir);
                return r;
        }
        if (ret_path && !(*ret_path = strdup(real)))
                return -ENOMEM;
        return 0;
}

int image_rootfs_remove(struct image_store *s, const char *id, char **ret_error)
{
        _cleanup_free_ char *dir = NULL, *path = NULL, *target = NULL;
        int r;

        if (!rootfs_id_valid(id))
                return image_error(ret_error, -EINVAL, "invalid rootfs id \"%s\"", id);
        if (asprintf(&dir, "%s/rootfs/%s", s->root, id) < 0 || asprintf(&path, "%s/target", dir) < 0)
                return -ENOMEM;
        if (faccessat(s->rootfs_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return image_error(ret_error, -ENOENT, "no rootfs %s", id);
        if (read_full_file(path, PATH_MAX, &target, NULL) >= 0 && umount2(target, UMOUNT_NOFOLLOW) < 0 &&
            errno != EINVAL && errno != ENOENT)
                return image_error(ret_error, -errno, "cannot unmount %s: %m", target);
        r = rm_rf(dir);
        if (r < 0)
                return image_error(ret_error, r, "cannot remove %s: %s", dir, strerror(-r));
        return 0;
}

int image_rootfs_find(struct image_store *s, const char *target, char **ret_id, char **ret_error)
{
        _cleanup_close_ int fd = openat(s->rootfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        char real[PATH_MAX];
        struct dirent *de;
        int r = -ENOENT;

        if (!d)
                return -errno;
        TAKE_FD(fd);
        if (!realpath(target, real))
                snprintf(real, sizeof(real), "%s", target);
        while (r == -ENOENT && (de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/rootfs/%s/target", s->root, de->d_name) < 0)
                        r = -ENOMEM;
                else if (read_full_file(path, PATH_MAX, &data, NULL) >= 0 && strcmp(data, real) == 0)
                        r = (*ret_id = strdup(de->d_name)) ? 0 : -ENOMEM;
        }
        closedir(d);
        return r == -ENOENT ? image_error(ret_error, r, "no rootfs of this store is mounted on %s", real) : r;
}
