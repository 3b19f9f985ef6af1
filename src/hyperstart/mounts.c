/* SPDX-License-Identifier: Apache-2.0 */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent-proto.h"
#include "log.h"

/* The kernel copies at most a page of mount data. */
#define MOUNTS_MAX_DATA 4095
/* The flags a bind can only get through a remount of the new mount. */
#define MOUNTS_BIND_FLAGS                                                                                              \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

static const struct {
        const char *name;
        bool clear;
        unsigned long flag;
} mounts_flags[] = {
        {"ro", false, MS_RDONLY},
        {"rw", true, MS_RDONLY},
        {"nosuid", false, MS_NOSUID},
        {"suid", true, MS_NOSUID},
        {"nodev", false, MS_NODEV},
        {"dev", true, MS_NODEV},
        {"noexec", false, MS_NOEXEC},
        {"exec", true, MS_NOEXEC},
        {"sync", false, MS_SYNCHRONOUS},
        {"async", true, MS_SYNCHRONOUS},
        {"dirsync", false, MS_DIRSYNC},
        {"noatime", false, MS_NOATIME},
        {"atime", true, MS_NOATIME},
        {"nodiratime", false, MS_NODIRATIME},
        {"diratime", true, MS_NODIRATIME},
        {"relatime", false, MS_RELATIME},
        {"norelatime", true, MS_RELATIME},
        {"strictatime", false, MS_STRICTATIME},
        {"nostrictatime", true, MS_STRICTATIME},
        /* runc's and crun's recursive forms; a bind's submounts keep their own flags here. */
        {"rro", false, MS_RDONLY},
        {"rrw", true, MS_RDONLY},
        {"rnosuid", false, MS_NOSUID},
        {"rnodev", false, MS_NODEV},
        {"rnoexec", false, MS_NOEXEC},
};

/*
 * Propagation options are accepted and ignored: every mount in the guest is
 * private already, and nothing outside the VM could receive a propagation.
 */
static const char *const mounts_propagation[] = {
        "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
};

/*
 * Options of runtimes rather than of the kernel (podman's --tmpfs passes
 * tmpcopyup): ignored, since a file system would refuse them as data.
 */
static const char *const mounts_runtime_options[] = {
        "tmpcopyup", "notmpcopyup", "copy-symlink", "z", "Z", "U",
};

static const char *const mounts_types[] = {
        "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2",
};

static bool mounts_in(const char *const *v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

/*
 * A copy of path with empty and "." names dropped; absolute ones start with
 * "/", relative ones must not. ".." is refused rather than interpreted: no
 * legitimate spec needs it, and a refusal is easier to read than a surprise.
 */
static int mounts_normalize(const char *path, bool absolute, char **ret)
{
        _cleanup_free_ char *out = NULL;
        size_t n = 0;

        if ((path[0] == '/') != absolute)
                return -EINVAL;
        out = malloc(strlen(path) + 2);
        if (!out)
                return -ENOMEM;
        for (const char *p = path; *p;) {
                size_t len;

                p += strspn(p, "/");
                len = strcspn(p, "/");
                if (len == 2 && strncmp(p, "..", 2) == 0)
                        return -EINVAL;
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (n > 0 || absolute)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len;
        }
        if (n == 0 && !absolute)
                return -EINVAL;
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static int mounts_add_data(struct spec_mount *m, const char *option)
{
        size_t old = m->data ? strlen(m->data) : 0;
        char *d;

        if (old + 1 + strlen(option) > MOUNTS_MAX_DATA)
                return -E2BIG;
        d = realloc(m->data, old + strlen(option) + 2);
        if (!d)
                return -ENOMEM;
        if (old > 0)
                d[old++] = ',';
        strcpy(d + old, option);
        m->data = d;
        return 0;
}

static bool mounts_apply_flag(struct spec_mount *m, const char *o)
{
        for (size_t i = 0; i < ARRAY_SIZE(mounts_flags); i++) {
                if (strcmp(mounts_flags[i].name, o) != 0)
                        continue;
                if (mounts_flags[i].clear)
                        m->flags &= ~mounts_flags[i].flag;
                else
                        m->flags |= mounts_flags[i].flag;
                return true;
        }
        return false;
}

/* Options as mount(8) and runc read them: flags, bind/rbind, and the rest for the file system. */
static int mounts_parse_options(struct request *req, struct spec_mount *m, const char *dest, char **options)
{
        for (char **o = options; o && *o; o++) {
                int r;

                if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0) {
                        m->bind = true;
                        m->recursive = m->recursive || strcmp(*o, "rbind") == 0;
                        continue;
                }
                if (mounts_apply_flag(m, *o) || mounts_in(mounts_propagation, ARRAY_SIZE(mounts_propagation), *o) ||
                    mounts_in(mounts_runtime_options, ARRAY_SIZE(mounts_runtime_options), *o))
                        continue;
                r = mounts_add_data(m, *o);
                if (r < 0)
                        return request_fail(req, r, "mount %s: options are longer than %d bytes", dest,
                                            MOUNTS_MAX_DATA);
        }
        return 0;
}

static int mounts_parse_kind(struct request *req, struct spec_mount *m, const char *dest, const char *type,
                             const char *source)
{
        if (type && strcmp(type, "bind") == 0)
                m->bind = true;
        if (m->bind) {
                if (!source)
                        return request_fail(req, -EINVAL, "mount %s: a bind mount needs a source", dest);
                if (mounts_normalize(source, false, &m->source) < 0)
                        return request_fail(req, -EINVAL,
                                            "mount %s: source \"%s\" is not a relative path inside the share "
                                            "without \"..\"",
                                            dest, source);
                return 0;
        }
        if (!type)
                return request_fail(req, -EINVAL, "mount %s: field \"type\" is missing", dest);
        if (!mounts_in(mounts_types, ARRAY_SIZE(mounts_types), type))
                return request_fail(req, -EOPNOTSUPP, "mount %s: type \"%s\" is not supported", dest, type);
        m->type = strdup(type);
        m->source = strdup(source ? source : type);
        return m->type && m->source ? 0 : -ENOMEM;
}

static int mounts_parse_one(struct request *req, struct json_object *o, size_t i, struct spec_mount *m)
{
        _cleanup_strv_free_ char **options = NULL;
        const char *dest = NULL, *type = NULL, *source = NULL;
        char where[48];
        int r;

        if (!json_object_is_type(o, json_type_object))
                return request_fail(req, -EINVAL, "mounts[%zu] is not an object", i);
        snprintf(where, sizeof(where), "mounts[%zu]: ", i);
        r = body_object_string(req, o, where, "destination", true, PATH_MAX, &dest);
        if (r >= 0)
                r = body_object_string(req, o, where, "type", false, 32, &type);
        if (r >= 0)
                r = body_object_string(req, o, where, "source", false, PATH_MAX, &source);
        if (r >= 0)
                r = body_object_strv(req, o, where, "options", false, 64, &options);
        if (r < 0)
                return r;
        if (mounts_normalize(dest, true, &m->destination) < 0 || strcmp(m->destination, "/") == 0)
                return request_fail(req, -EINVAL,
                                    "mount %s: the destination must be an absolute path below / without \"..\"", dest);
        r = mounts_parse_options(req, m, dest, options);
        if (r < 0)
                return r;
        return mounts_parse_kind(req, m, dest, type, source);
}

int mounts_parse(struct request *req, struct mounts *ret)
{
        struct json_object *arr = NULL;
        size_t n = 0;
        int r;

        r = body_object_array(req, req->body, "", "mounts", MOUNTS_MAX, &arr, &n);
        if (r < 0 || !arr || n == 0)
                return r;
        ret->v = calloc(n, sizeof(struct spec_mount));
        if (!ret->v)
                return -ENOMEM;
        ret->n = n;
        for (size_t i = 0; i < n; i++) {
                r = mounts_parse_one(req, json_object_array_get_idx(arr, i), i, &ret->v[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

void mounts_done(struct mounts *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].destination);
                free(m->v[i].type);
                free(m->v[i].source);
                free(m->v[i].data);
        }
        free(m->v);
        *m = (struct mounts){0};
}

int mounts_parse_paths(struct request *req, const char *key, char ***ret)
{
        _cleanup_strv_free_ char **v = NULL;
        int r;

        r = body_strv(req, key, false, MOUNTS_MAX_PATHS, &v);
        if (r < 0 || !v)
                return r;
        for (char **p = v; *p; p++) {
                char *n = NULL;

                if (mounts_normalize(*p, true, &n) < 0 || strcmp(n, "/") == 0) {
                        free(n);
                        return request_fail(req, -EINVAL, "%s: \"%s\" is not an absolute path below / without \"..\"",
                                            key, *p);
                }
                free(*p);
                *p = n;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Opens path inside root as if root were "/": neither ".." nor a symlink of the rootfs can leave it. */
static int mounts_open_in(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

/* The path mount(2) takes for an fd: the kernel resolves it to exactly what the fd names. */
static const char *mounts_fd_path(char buf[32], int fd)
{
        snprintf(buf, 32, "/proc/self/fd/%d", fd);
        return buf;
}

/* Splits a normalized absolute path: *ret_parent is a copy ("/" at the top), *ret_name points into path. */
static int mounts_split(const char *path, char **ret_parent, const char **ret_name)
{
        const char *slash = strrchr(path, '/');

        *ret_parent = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        *ret_name = slash + 1;
        return *ret_parent ? 0 : -ENOMEM;
}

/* Creates one missing name inside root; its parent must exist. mkdirat() never follows a symlink. */
static int mounts_create_in(int rootfd, const char *path, bool dir)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int pfd = -1, f = -1;
        const char *name;
        int r;

        r = mounts_split(path, &parent, &name);
        if (r < 0)
                return r;
        pfd = mounts_open_in(rootfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0)
                return pfd;
        if (dir)
                return mkdirat(pfd, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
        /* O_EXCL never follows a symlink: a planted one makes the reopen below fail instead. */
        f = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
        return f < 0 && errno != EEXIST ? -errno : 0;
}

static int mounts_mkdir_p_in(int rootfd, const char *path)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                char c = s[1];
                int r, fd;

                if (c != '/' && c != '\0')
                        continue;
                s[1] = '\0';
                fd = mounts_open_in(rootfd, p, O_PATH | O_DIRECTORY);
                r = fd == -ENOENT ? mounts_create_in(rootfd, p, true) : fd;
                safe_close(fd);
                s[1] = c;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Opens the destination inside root, creating it (a folder or an empty file) and its parents when missing. */
static int mounts_make_dest(int rootfd, const char *dest, bool dir)
{
        _cleanup_free_ char *parent = NULL;
        const char *name;
        int fd, r;

        fd = mounts_open_in(rootfd, dest, O_PATH);
        if (fd != -ENOENT)
                return fd;
        r = mounts_split(dest, &parent, &name);
        if (r >= 0)
                r = mounts_mkdir_p_in(rootfd, parent);
        if (r >= 0)
                r = mounts_create_in(rootfd, dest, dir);
        if (r < 0)
                return r;
        return mounts_open_in(rootfd, dest, O_PATH);
}

static unsigned long mounts_kept_flags(int fd)
{
        struct statvfs sv;
        unsigned long flags = 0;

        if (fstatvfs(fd, &sv) < 0)
                return 0;
        flags |= sv.f_flag & ST_NOSUID ? MS_NOSUID : 0;
        flags |= sv.f_flag & ST_NODEV ? MS_NODEV : 0;
        flags |= sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0;
        return flags;
}

static int mounts_bind(const struct spec_mount *m, int rootfd, int sharefd, const char **ret_what)
{
        _cleanup_close_ int src = -1, dst = -1, top = -1;
        char sp[32], dp[32];
        struct stat st;

        *ret_what = "cannot open the source in the share";
        src = mounts_open_in(sharefd, m->source, O_PATH);
        if (src < 0)
                return src;
        if (fstat(src, &st) < 0)
                return -errno;
        *ret_what = "cannot make the destination";
        dst = mounts_make_dest(rootfd, m->destination, S_ISDIR(st.st_mode));
        if (dst < 0)
                return dst;
        *ret_what = "cannot bind-mount";
        if (mount(mounts_fd_path(sp, src), mounts_fd_path(dp, dst), NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) <
            0)
                return -errno;
        if (!(m->flags & MOUNTS_BIND_FLAGS))
                return 0;
        /*
         * A bind keeps its source's flags until remounted; dst still names
         * what lies under the new mount. The remount sets every flag anew,
         * so the share's nodev is carried over, not dropped.
         */
        *ret_what = "cannot remount";
        top = mounts_open_in(rootfd, m->destination, O_PATH);
        if (top < 0)
                return top;
        if (mount(NULL, mounts_fd_path(dp, top), NULL,
                  MS_REMOUNT | MS_BIND | (m->flags & MOUNTS_BIND_FLAGS) | mounts_kept_flags(top), NULL) < 0)
                return -errno;
        return 0;
}

static int mounts_fs(const struct spec_mount *m, int rootfd, const char **ret_what)
{
        /* The guest has no cgroup v1 hierarchies: "cgroup" gets the unified one, as runc does on v2 hosts. */
        bool cgroup = strcmp(m->type, "cgroup") == 0;
        _cleanup_close_ int dst = -1;
        char dp[32];

        /* The spec's /dev/shm replaces the standard one (made by us on our own /dev tmpfs) rather than hiding it. */
        if (strcmp(m->destination, "/dev/shm") == 0) {
                dst = mounts_open_in(rootfd, m->destination, O_PATH);
                if (dst >= 0)
                        (void)umount2(mounts_fd_path(dp, dst), MNT_DETACH);
                dst = safe_close(dst);
        }

        *ret_what = "cannot make the destination";
        dst = mounts_make_dest(rootfd, m->destination, true);
        if (dst < 0)
                return dst;
        *ret_what = "cannot mount";
        if (mount(m->source, mounts_fd_path(dp, dst), cgroup ? "cgroup2" : m->type, m->flags, cgroup ? NULL : m->data) <
            0)
                return -errno;
        return 0;
}

/* What CONTAINER already mounted inside every root: a spec entry for it changes nothing. */
static bool mounts_is_standard(const struct spec_mount *m)
{
        static const char *const standard[][2] = {
                {"/proc", "proc"},
                {"/sys", "sysfs"},
                {"/dev", "tmpfs"},
                {"/dev/pts", "devpts"},
        };

        for (size_t i = 0; !m->bind && i < ARRAY_SIZE(standard); i++)
                if (strcmp(m->destination, standard[i][0]) == 0 && strcmp(m->type, standard[i][1]) == 0)
                        return true;
        return false;
}

/* runc's default list names file systems a slim guest kernel or a read-only /sys may not have room for. */
static bool mounts_optional(const struct spec_mount *m, int r)
{
        static const char *const optional[] = {"mqueue", "cgroup", "cgroup2"};

        return !m->bind && mounts_in(optional, ARRAY_SIZE(optional), m->type) &&
               (r == -ENODEV || r == -EROFS || r == -ENOENT);
}

static int mounts_apply_one(const struct spec_mount *m, int rootfd, int *sharefd, const char **ret_what)
{
        if (!m->bind)
                return mounts_fs(m, rootfd, ret_what);
        if (*sharefd < 0) {
                *ret_what = "cannot open the share";
                *sharefd = open(HYPER_AGENT_SHARE_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (*sharefd < 0)
                        return -errno;
        }
        return mounts_bind(m, rootfd, *sharefd, ret_what);
}

int mounts_apply(const struct mounts *ms, const char *root, struct request *req)
{
        _cleanup_close_ int rootfd = -1, sharefd = -1;

        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return request_fail(req, -errno, "cannot open the root %s: %s", root, strerror(errno));
        for (size_t i = 0; i < ms->n; i++) {
                const struct spec_mount *m = &ms->v[i];
                const char *what = "";
                int r;

                if (mounts_is_standard(m))
                        continue;
                r = mounts_apply_one(m, rootfd, &sharefd, &what);
                if (r < 0 && mounts_optional(m, r)) {
                        log_warning("Mount %s (%s) skipped: %s", m->destination, m->type, strerror(-r));
                        continue;
                }
                if (r < 0)
                        return request_fail(req, r, "mount %s: %s: %s", m->destination, what, strerror(-r));
        }
        return 0;
}

static int mounts_mask(int rootfd, const char *path)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        char p[32];

        fd = mounts_open_in(rootfd, path, O_PATH);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return mount("tmpfs", mounts_fd_path(p, fd), "tmpfs", MS_RDONLY, NULL) < 0 ? -errno : 0;
        return mount("/dev/null", mounts_fd_path(p, fd), NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

/* A bind of the path onto itself, remounted read-only; nosuid, nodev and noexec are kept. */
static int mounts_readonly(int rootfd, const char *path)
{
        _cleanup_close_ int fd = -1, top = -1;
        char p[32];

        fd = mounts_open_in(rootfd, path, O_PATH);
        if (fd < 0)
                return fd;
        if (mount(mounts_fd_path(p, fd), p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        top = mounts_open_in(rootfd, path, O_PATH);
        if (top < 0)
                return top;
        if (mount(NULL, mounts_fd_path(p, top), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | mounts_kept_flags(top), NULL) <
            0)
                return -errno;
        return 0;
}

int mounts_protect(const char *root, char *const *masked, char *const *readonly, const char **ret_what)
{
        _cleanup_close_ int rootfd = -1;

        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        for (int pass = 0; pass < 2; pass++) {
                char *const *v = pass == 0 ? masked : readonly;

                for (; v && *v; v++) {
                        int r = pass == 0 ? mounts_mask(rootfd, *v) : mounts_readonly(rootfd, *v);

                        /* runc skips what the rootfs does not have. */
                        if (r == -ENOENT || r == -ENOTDIR)
                                continue;
                        if (r < 0) {
                                *ret_what = *v;
                                return r;
                        }
                }
        }
        return 0;
}

int mounts_normalize_path(const char *path, char **ret)
{
        return mounts_normalize(path, true, ret);
}

int mounts_make_dir_in(int rootfd, const char *dest)
{
        return mounts_make_dest(rootfd, dest, true);
}
