/* SPDX-License-Identifier: Apache-2.0 */
#include "fs-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macros.h"

int mkdir_p(const char *path, unsigned mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static bool fs_is_mount_root(int dirfd, const char *name)
{
        struct statx sx;

        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) < 0)
                return false;
        return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int rm_rf_children(int fd)
{
        DIR *d = fdopendir(fd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (de->d_type == DT_DIR) {
                        int sub;
                        if (fs_is_mount_root(dirfd(d), de->d_name)) {
                                r = -EBUSY;
                                continue;
                        }
                        sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0) {
                                int k = rm_rf_children(sub);
                                if (k < 0)
                                        r = k;
                        }
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && r >= 0)
                                r = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r >= 0) {
                        r = -errno;
                }
        }
        closedir(d);
        return r;
}

int rm_rf(const char *path)
{
        int fd, r;

        if (fs_is_mount_root(AT_FDCWD, path))
                return -EBUSY;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? (unlink(path) < 0 ? -errno : 0) : errno == ENOENT ? 0 : -errno;
        r = rm_rf_children(fd);
        if (rmdir(path) < 0 && r >= 0)
                r = -errno;
        return r;
}

static int fs_openat_in_root(int root, const char *path, int flags, mode_t mode)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .mode = mode,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        long fd = syscall(SYS_openat2, root, path, &how, sizeof(how));

        return fd < 0 ? -errno : (int)fd;
}

int mkdir_in_root(const char *root, const char *path, bool file)
{
        _cleanup_close_ int rfd = -1;
        _cleanup_free_ char *p = strdup(path);
        char *name, *slash;

        if (!p)
                return -ENOMEM;
        rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return -errno;
        /*
         * Each component is created in its parent, and each parent is
         * opened afresh from root as if root were "/": a symlink in the
         * tree resolves inside it, never out of it.
         */
        for (name = p + strspn(p, "/"); *name; name = slash + strspn(slash, "/")) {
                _cleanup_close_ int parent = -1;
                bool last;
                char saved;
                int r;

                slash = name + strcspn(name, "/");
                last = slash[strspn(slash, "/")] == '\0';
                saved = *name;
                *name = '\0';
                parent = fs_openat_in_root(rfd, *p ? p : ".", O_RDONLY | O_DIRECTORY, 0);
                *name = saved;
                if (parent < 0)
                        return parent;
                saved = *slash;
                *slash = '\0';
                if (strcmp(name, "..") == 0)
                        return -EINVAL;
                if (last && file) {
                        r = fs_openat_in_root(parent, name, O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
                        if (r < 0 && r != -EISDIR && r != -ELOOP)
                                return r;
                        safe_close(r);
                } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                        return -errno;
                }
                *slash = saved;
                if (last)
                        break;
        }
        return 0;
}
