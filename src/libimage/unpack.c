/* SPDX-License-Identifier: Apache-2.0 */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fd-util.h"

#define UNPACK_BUF_SIZE (256u * 1024u)
#define UNPACK_MAX_XATTRS 128

/*
 * Two libarchive readers in a pipe: "outer" only decompresses (the raw
 * format), and "tar" reads the tar from what outer produces. The bytes in
 * between are exactly the uncompressed layer, so they are counted for the
 * bomb limits and hashed for the DiffID in the same single pass.
 */
struct unpack {
        struct archive *outer;
        struct archive *tar;
        struct digester *diff;
        const struct unpack_options *o;
        int root_fd;
        uint64_t bytes;
        uint64_t entries;
        char *limit_error; /* set when a bound stopped the read */
        char *buf;
};

static int unpack_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
        struct open_how how = {
                .flags = (uint64_t)flags | O_CLOEXEC,
                .resolve = resolve,
        };
        int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

        return fd < 0 ? -errno : fd;
}

int unpack_open_beneath(int root_fd, const char *path, int flags)
{
        return unpack_openat2(root_fd, path, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

static void unpack_free(struct unpack *u)
{
        if (u->tar)
                archive_read_free(u->tar);
        if (u->outer)
                archive_read_free(u->outer);
        digester_free(u->diff);
        free(u->limit_error);
        free(u->buf);
}

static uint64_t opt_or(uint64_t v, uint64_t def)
{
        return v ? v : def;
}

/* Checks the bounds on uncompressed bytes after every read from outer. */
static int unpack_check_bomb(struct unpack *u)
{
        uint64_t packed = (uint64_t)archive_filter_bytes(u->outer, -1);
        uint64_t max_bytes = opt_or(u->o->max_bytes, UNPACK_MAX_BYTES);
        uint64_t ratio = opt_or(u->o->max_ratio, UNPACK_MAX_RATIO);

        if (u->bytes > max_bytes) {
                if (asprintf(&u->limit_error, "layer is larger than %llu bytes uncompressed (a decompression bomb?)",
                             (unsigned long long)max_bytes) < 0)
                        u->limit_error = NULL;
                return -EFBIG;
        }
        if (u->bytes > UNPACK_RATIO_FLOOR && u->bytes / (packed ? packed : 1) > ratio) {
                if (asprintf(&u->limit_error,
                             "layer expands more than %llu times (%llu bytes from %llu): a decompression bomb",
                             (unsigned long long)ratio, (unsigned long long)u->bytes,
                             (unsigned long long)packed) < 0)
                        u->limit_error = NULL;
                return -EFBIG;
        }
        return 0;
}

static la_ssize_t unpack_tar_read(struct archive *a, void *userdata, const void **ret_buf)
{
        struct unpack *u = userdata;
        la_ssize_t n = archive_read_data(u->outer, u->buf, UNPACK_BUF_SIZE);

        if (n < 0) {
                archive_set_error(a, EIO, "%s", archive_error_string(u->outer));
                return -1;
        }
        u->bytes += (uint64_t)n;
        if (digester_update(u->diff, u->buf, (size_t)n) < 0 || unpack_check_bomb(u) < 0) {
                archive_set_error(a, EFBIG, "%s", u->limit_error ? u->limit_error : "out of memory");
                return -1;
        }
        *ret_buf = u->buf;
        return n;
}

static int unpack_open_outer(struct unpack *u, int fd, char **ret_error)
{
        struct archive_entry *e;

        u->outer = archive_read_new();
        if (!u->outer)
                return -ENOMEM;
        /* Only what layers may use: no program filters, no other formats. */
        archive_read_support_filter_gzip(u->outer);
        archive_read_support_filter_zstd(u->outer);
        archive_read_support_filter_none(u->outer);
        archive_read_support_format_raw(u->outer);
        if (archive_read_open_fd(u->outer, fd, UNPACK_BUF_SIZE) != ARCHIVE_OK ||
            archive_read_next_header(u->outer, &e) != ARCHIVE_OK)
                return image_error(ret_error, -EINVAL, "cannot read layer: %s", archive_error_string(u->outer));
        return 0;
}

static int unpack_open(struct unpack *u, int fd, char **ret_error)
{
        int r;

        u->buf = malloc(UNPACK_BUF_SIZE);
        if (!u->buf)
                return -ENOMEM;
        r = digester_new(&u->diff);
        if (r < 0)
                return r;
        r = unpack_open_outer(u, fd, ret_error);
        if (r < 0)
                return r;
        u->tar = archive_read_new();
        if (!u->tar)
                return -ENOMEM;
        archive_read_support_format_tar(u->tar);
        archive_read_support_format_gnutar(u->tar);
        if (archive_read_open(u->tar, u, NULL, unpack_tar_read, NULL) != ARCHIVE_OK)
                return image_error(ret_error, -EINVAL, "layer is not a tar archive: %s",
                                   archive_error_string(u->tar));
        return 0;
}

/*
 * Normalizes an entry name: "./a//b/" becomes "a/b", and the archive's
 * root becomes "". Absolute names and ".." components are refused, not
 * rewritten: an archive that has them was made to attack its reader.
 * (A name of only slashes and dots is the root, whatever it says.)
 */
static int unpack_clean_path(const char *in, char **ret, char **ret_error)
{
        _cleanup_free_ char *out = NULL;
        size_t n = 0, len;

        if (!in)
                return image_error(ret_error, -EINVAL, "entry without a name");
        len = strlen(in);
        if (len >= PATH_MAX)
                return image_error(ret_error, -ENAMETOOLONG, "entry name longer than %d bytes", PATH_MAX);
        /* umoci names the root "/": that one is harmless, any other absolute name is not. */
        if (in[0] == '/' && strspn(in, "/.") != len)
                return image_error(ret_error, -EPERM, "entry \"%s\" has an absolute path", in);
        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p;) {
                const char *end = strchrnul(p, '/');
                size_t cl = end - p;

                if (cl == 2 && strncmp(p, "..", 2) == 0)
                        return image_error(ret_error, -EPERM, "entry \"%s\" has a \"..\" component", in);
                if (cl > 0 && !(cl == 1 && *p == '.')) {
                        if (n)
                                out[n++] = '/';
                        memcpy(out + n, p, cl);
                        n += cl;
                }
                p = *end ? end + 1 : end;
        }
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static int unpack_path_error(char **ret_error, int r, const char *path)
{
        /* O_NOFOLLOW | O_DIRECTORY on a symlink is ENOTDIR, RESOLVE_NO_SYMLINKS on one within the path ELOOP. */
        if (r == -ELOOP || r == -ENOTDIR)
                return image_error(ret_error, -EPERM,
                                   "entry \"%s\" goes through a symlink or a non-folder (refused: it could lead outside the layer)",
                                   path);
        if (r == -EXDEV)
                return image_error(ret_error, -EPERM, "entry \"%s\" leads outside the layer", path);
        return image_error(ret_error, r, "entry \"%s\": %s", path, strerror(-r));
}

/* Opens one folder below dirfd, never through a symlink. */
static int unpack_open_dir_at(int dirfd, const char *name)
{
        return unpack_openat2(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                              RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

/* Walks dir one component at a time, making the folders that are missing (root-owned, 0755, as Docker does). */
static int unpack_make_parents(int root_fd, char *dir)
{
        _cleanup_close_ int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);

        if (cur < 0)
                return -errno;
        for (char *p = dir; *p;) {
                char *end = strchrnul(p, '/');
                bool last = !*end;
                int next;

                *end = '\0';
                next = unpack_open_dir_at(cur, p);
                if (next == -ENOENT) {
                        if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        next = unpack_open_dir_at(cur, p);
                }
                if (!last)
                        *end = '/';
                if (next < 0)
                        return next;
                safe_close(cur);
                cur = next;
                p = last ? end : end + 1;
        }
        return TAKE_FD(cur);
}

/* Opens the folder that holds path (making it when create is set) and points *ret_base at the last component. */
static int unpack_open_parent(struct unpack *u, char *path, bool create, const char **ret_base)
{
        char *slash = strrchr(path, '/');
        int fd;

        if (!slash) {
                *ret_base = path;
                fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? -errno : fd;
        }
        *slash = '\0';
        fd = unpack_open_dir_at(u->root_fd, path);
        if (fd == -ENOENT && create)
                fd = unpack_make_parents(u->root_fd, path);
        *slash = '/';
        *ret_base = slash + 1;
        return fd;
}

/*
 * Ownership, mode, xattrs and times of a file or folder open as fd. The
 * mode goes last: chown() clears set-uid and set-gid bits.
 */
static int unpack_apply_fd(struct unpack *u, int fd, struct archive_entry *e)
{
        struct timespec ts[2] = {
                { .tv_sec = archive_entry_atime(e), .tv_nsec = archive_entry_atime_nsec(e) },
                { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
        };
        mode_t mode = archive_entry_perm(e) & 07777;
        const char *name;
        const void *value;
        size_t size;
        int n = 0;

        if (!archive_entry_atime_is_set(e))
                ts[0] = ts[1];
        if (u->o->plain)
                mode = archive_entry_filetype(e) == AE_IFDIR ? 0755 : 0644;
        else if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
                return -errno;
        if (!u->o->plain && archive_entry_xattr_reset(e) > 0) {
                while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                        /* trusted.* would let a layer forge overlayfs metadata; system.* is ACLs. */
                        if (strncmp(name, "user.", 5) != 0 && strncmp(name, "security.", 9) != 0)
                                continue;
                        if (++n > UNPACK_MAX_XATTRS)
                                return -E2BIG;
                        if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP)
                                return -errno;
                }
        }
        if (fchmod(fd, mode) < 0)
                return -errno;
        if (archive_entry_mtime_is_set(e) && futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

/* Ownership and times of something that cannot be opened (symlinks, device nodes), by name in its folder. */
static int unpack_apply_at(struct unpack *u, int dirfd, const char *base, struct archive_entry *e, bool chmod_too)
{
        struct timespec ts[2] = {
                { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
                { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
        };

        if (!u->o->plain &&
            fchownat(dirfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* The node was just made by mknodat() in a folder opened without symlinks: it is not one. */
        if (chmod_too && fchmodat(dirfd, base, archive_entry_perm(e) & 07777, 0) < 0)
                return -errno;
        if (utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int unpack_write_data(struct unpack *u, int fd, struct archive_entry *e)
{
        const void *block;
        size_t size;
        la_int64_t offset;
        int r;

        while ((r = archive_read_data_block(u->tar, &block, &size, &offset)) == ARCHIVE_OK) {
                const char *p = block;
                while (size > 0) {
                        ssize_t n = pwrite(fd, p, size, offset);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return -errno;
                        p += n;
                        offset += n;
                        size -= (size_t)n;
                }
        }
        if (r != ARCHIVE_EOF)
                return -EIO;
        /* A sparse file may end in a hole. */
        if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
                return -errno;
        return 0;
}

static int unpack_regular(struct unpack *u, int dirfd, const char *base, struct archive_entry *e)
{
        _cleanup_close_ int fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        int r;

        if (fd < 0)
                return -errno;
        r = unpack_write_data(u, fd, e);
        if (r < 0)
                return r;
        return unpack_apply_fd(u, fd, e);
}

static int unpack_directory(struct unpack *u, int dirfd, const char *base, struct archive_entry *e)
{
        _cleanup_close_ int fd = -1;

        if (mkdirat(dirfd, base, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = unpack_open_dir_at(dirfd, base);
        if (fd < 0)
                return fd;
        return unpack_apply_fd(u, fd, e);
}

/* A hard link's target must already be in this layer, and be reached without symlinks. */
static int unpack_hardlink(struct unpack *u, int dirfd, const char *base, const char *target, char **ret_error)
{
        _cleanup_free_ char *clean = NULL;
        _cleanup_close_ int tdir = -1;
        const char *tbase;
        struct stat st;
        int r;

        r = unpack_clean_path(target, &clean, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "hard link to \"%s\" refused", target);
        if (!*clean)
                return image_error(ret_error, -EPERM, "hard link to the layer's root refused");
        tdir = unpack_open_parent(u, clean, false, &tbase);
        if (tdir < 0)
                return unpack_path_error(ret_error, tdir, clean);
        if (fstatat(tdir, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return image_error(ret_error, -errno, "hard link to \"%s\", which is not in the layer", clean);
        if (S_ISDIR(st.st_mode))
                return image_error(ret_error, -EPERM, "hard link to the folder \"%s\" refused", clean);
        if (linkat(tdir, tbase, dirfd, base, 0) < 0)
                return -errno;
        return 0;
}

static int unpack_device(struct unpack *u, int dirfd, const char *base, struct archive_entry *e)
{
        mode_t type = archive_entry_filetype(e) == AE_IFCHR   ? S_IFCHR
                      : archive_entry_filetype(e) == AE_IFBLK ? S_IFBLK
                                                              : S_IFIFO;

        if (mknodat(dirfd, base, type | 0600, archive_entry_rdev(e)) < 0)
                return -errno;
        return unpack_apply_at(u, dirfd, base, e, true);
}

static int unpack_symlink(struct unpack *u, int dirfd, const char *base, struct archive_entry *e)
{
        const char *target = archive_entry_symlink(e);

        /* The target is never followed here: it means something only inside the container. */
        if (!target || !*target || strlen(target) >= PATH_MAX)
                return -EINVAL;
        if (symlinkat(target, dirfd, base) < 0)
                return -errno;
        return unpack_apply_at(u, dirfd, base, e, false);
}

/* ".wh..wh..opq" makes its folder opaque; ".wh.NAME" hides NAME of the layers below. */
static int unpack_whiteout(struct unpack *u, int dirfd, const char *base, const char *path, char **ret_error)
{
        const char *name = base + 4;

        if (strcmp(base, ".wh..wh..opq") == 0) {
                _cleanup_close_ int fd = unpack_open_dir_at(dirfd, ".");
                if (fd < 0)
                        return fd;
                if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return image_error(ret_error, -errno, "cannot mark \"%s\" opaque: %m", path);
                return 0;
        }
        /* Other ".wh..wh." names are aufs bookkeeping with no meaning for overlayfs. */
        if (strncmp(base, ".wh..wh.", 8) == 0)
                return 0;
        if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return image_error(ret_error, -EPERM, "invalid whiteout \"%s\"", path);
        if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return image_error(ret_error, -EEXIST, "whiteout \"%s\" hides an entry of its own layer", path);
        if (mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
                return image_error(ret_error, -errno, "cannot make whiteout for \"%s\": %m", path);
        return 0;
}

/*
 * Tar lets a later entry replace an earlier one. That is how a file turns
 * into a symlink mid-archive so that the next entry writes through it,
 * and layers made from a file system never need it: a second entry for a
 * name is refused, except a folder named again as a folder.
 */
static int unpack_check_new(int dirfd, const char *base, struct archive_entry *e, const char *path, char **ret_error)
{
        struct stat st;

        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode) && archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e))
                return 0;
        return image_error(ret_error, -EEXIST,
                           "entry \"%s\" replaces an earlier entry of the same layer (refused: it could redirect later writes)",
                           path);
}

static int unpack_create(struct unpack *u, int dirfd, const char *base, struct archive_entry *e, const char *path,
                         char **ret_error)
{
        unsigned type = archive_entry_filetype(e);
        int r;

        if (archive_entry_hardlink(e))
                return unpack_hardlink(u, dirfd, base, archive_entry_hardlink(e), ret_error);
        if (u->o->plain && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
                return image_error(ret_error, -EPERM, "entry \"%s\": only files, folders and symlinks are allowed here",
                                   path);
        switch (type) {
        case AE_IFREG:
                r = unpack_regular(u, dirfd, base, e);
                break;
        case AE_IFDIR:
                r = unpack_directory(u, dirfd, base, e);
                break;
        case AE_IFLNK:
                r = unpack_symlink(u, dirfd, base, e);
                break;
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
                r = unpack_device(u, dirfd, base, e);
                break;
        default:
                /* Sockets mean nothing in an image. */
                return 0;
        }
        if (r < 0 && u->limit_error)
                return image_error(ret_error, -EFBIG, "%s", u->limit_error);
        if (r == -EIO)
                return image_error(ret_error, r, "corrupt or truncated layer at \"%s\": %s", path,
                                   archive_error_string(u->tar));
        if (r < 0)
                return image_error(ret_error, r, "entry \"%s\": %s", path, strerror(-r));
        return 0;
}

static int unpack_entry(struct unpack *u, struct archive_entry *e, char **ret_error)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int dirfd = -1;
        const char *base;
        int r;

        r = unpack_clean_path(archive_entry_pathname(e), &path, ret_error);
        if (r < 0)
                return r;
        /* The layer's root is the folder itself; its own metadata stays the store's. */
        if (!*path)
                return 0;
        dirfd = unpack_open_parent(u, path, true, &base);
        if (dirfd < 0)
                return unpack_path_error(ret_error, dirfd, path);
        if (u->o->whiteouts && strncmp(base, ".wh.", 4) == 0)
                return unpack_whiteout(u, dirfd, base, path, ret_error);
        r = unpack_check_new(dirfd, base, e, path, ret_error);
        if (r < 0)
                return r;
        return unpack_create(u, dirfd, base, e, path, ret_error);
}

/* Reads what is left of the decompressed stream (the tar's end padding), so that the DiffID covers all of it. */
static int unpack_drain(struct unpack *u, char **ret_error)
{
        const void *p;

        for (;;) {
                la_ssize_t n = unpack_tar_read(u->tar, u, &p);
                if (n < 0)
                        return image_error(ret_error, -EIO, "%s", archive_error_string(u->tar));
                if (n == 0)
                        return 0;
        }
}

static int unpack_read_error(struct unpack *u, char **ret_error)
{
        if (u->limit_error)
                return image_error(ret_error, -EFBIG, "%s", u->limit_error);
        return image_error(ret_error, -EIO, "corrupt or truncated layer: %s", archive_error_string(u->tar));
}

int unpack_layer(int fd, int root_fd, const struct unpack_options *o, struct unpack_result *ret, char **ret_error)
{
        _cleanup_(unpack_free) struct unpack u = { .o = o, .root_fd = root_fd };
        struct archive_entry *e;
        int r;

        r = unpack_open(&u, fd, ret_error);
        if (r < 0)
                return r;
        while ((r = archive_read_next_header(u.tar, &e)) != ARCHIVE_EOF) {
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return unpack_read_error(&u, ret_error);
                if (++u.entries > opt_or(o->max_entries, UNPACK_MAX_ENTRIES))
                        return image_error(ret_error, -EFBIG, "layer has more than %llu entries",
                                           (unsigned long long)opt_or(o->max_entries, UNPACK_MAX_ENTRIES));
                r = unpack_entry(&u, e, ret_error);
                if (r < 0)
                        return u.limit_error ? image_error(ret_error, -EFBIG, "%s", u.limit_error) : r;
        }
        r = unpack_drain(&u, ret_error);
        if (r < 0)
                return r;
        ret->bytes = u.bytes;
        ret->entries = u.entries;
        return digester_final(u.diff, ret->diff_id);
}

int unpack_decompress(int fd, int out_fd, uint64_t max_bytes, char ret_diff_id[DIGEST_STRING_MAX], char **ret_error)
{
        const struct unpack_options o = { .max_bytes = max_bytes };
        _cleanup_(unpack_free) struct unpack u = { .o = &o };
        int r;

        u.buf = malloc(UNPACK_BUF_SIZE);
        if (!u.buf)
                return -ENOMEM;
        r = digester_new(&u.diff);
        if (r < 0)
                return r;
        r = unpack_open_outer(&u, fd, ret_error);
        if (r < 0)
                return r;
        for (;;) {
                la_ssize_t n = archive_read_data(u.outer, u.buf, UNPACK_BUF_SIZE);
                if (n < 0)
                        return image_error(ret_error, -EIO, "corrupt layer: %s", archive_error_string(u.outer));
                if (n == 0)
                        break;
                u.bytes += (uint64_t)n;
                if (unpack_check_bomb(&u) < 0)
                        return image_error(ret_error, -EFBIG, "%s", u.limit_error);
                if ((r = digester_update(u.diff, u.buf, (size_t)n)) < 0 || (r = loop_write(out_fd, u.buf, n)) < 0)
                        return r;
        }
        return digester_final(u.diff, ret_diff_id);
}
