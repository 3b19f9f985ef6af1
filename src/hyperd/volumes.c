/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "containers.h"
#include "error-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "runv-driver.h"
#include "volumes.h"

static void *mfree(void *p)
{
        free(p);
        return NULL;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

char *volume_path(struct hyperd *hd, const char *name)
{
        char *p;

        return asprintf(&p, "%s/volumes/%s", hd->config->root, name) < 0 ? NULL : p;
}

int volume_create(struct hyperd *hd, const char *name, bool *ret_created, char **ret_error)
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (!volume_name_valid(name))
                return error_set(ret_error, -EINVAL,
                                 "invalid volume name \"%.200s\": letters, digits, '_', '.' and '-', 2 to %d, "
                                 "starting with a letter or digit",
                                 name, VOLUME_MAX_NAME);
        path = volume_path(hd, name);
        if (!path)
                return -ENOMEM;
        pthread_mutex_lock(&hd->volume_lock);
        r = db_volume_add(hd->db, name, time(NULL));
        if (r < 0 && r != -EEXIST) {
                pthread_mutex_unlock(&hd->volume_lock);
                return error_set(ret_error, r, "cannot record volume %s: %s", name, strerror(-r));
        }
        *ret_created = r >= 0;
        /* Made again if it went missing: the row is the truth. */
        r = mkdir_p(path, 0755);
        if (r < 0 && *ret_created)
                db_volume_remove(hd->db, name);
        pthread_mutex_unlock(&hd->volume_lock);
        if (r < 0)
                return error_set(ret_error, r, "cannot make %s: %s", path, strerror(-r));
        if (*ret_created)
                log_info("volume %s made at %s", name, path);
        return 0;
}

void volumes_clean(struct hyperd *hd)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *e;

        if (asprintf(&dir, "%s/volumes", hd->config->root) < 0 || !(d = opendir(dir)))
                return;
        /* Volume names start with a letter or digit: these names are never a volume's. */
        while ((e = readdir(d))) {
                _cleanup_free_ char *path = NULL;

                if ((strncmp(e->d_name, ".copy-", 6) != 0 && strncmp(e->d_name, ".rm-", 4) != 0) ||
                    asprintf(&path, "%s/%s", dir, e->d_name) < 0)
                        continue;
                if (rm_rf(path) >= 0)
                        log_info("removed %s, left by a hyperd that ended part way", path);
        }
}

/* "a, b and 2 more": the names of the containers that use a volume. */
static char *vol_users(struct hyperd *hd, const char *kind, const char *source)
{
        struct db_container_volume *a = NULL;
        char *t = NULL;
        size_t n = 0;

        if (db_container_volumes(hd->db, NULL, kind, source, &a, &n) < 0 || n == 0)
                return strdup("a container");
        for (size_t i = 0; i < n && i < 3; i++) {
                struct db_container c;
                char *old = t;

                if (db_container_get(hd->db, a[i].container_id, &c) < 0)
                        continue;
                if (asprintf(&t, "%s%s%s", old ? old : "", old ? ", " : "", c.name) < 0)
                        t = NULL;
                free(old);
                db_container_done(&c);
        }
        if (n > 3 && t) {
                char *old = t;

                if (asprintf(&t, "%s and %zu more", old, n - 3) < 0)
                        t = NULL;
                free(old);
        }
        db_container_volume_free_array(a, n);
        return t ? t : strdup("a container");
}

/*
 * The row goes first, in a transaction that finds no user; then, under the
 * same lock a create takes to record a use and make the folder, the folder
 * is renamed aside, so a create that comes next makes a new, empty one
 * that the removal below cannot touch.
 */
int volume_remove(struct hyperd *hd, const char *name, char **ret_error)
{
        _cleanup_free_ char *path = volume_path(hd, name), *users = NULL, *aside = NULL;
        int r;

        if (!path || asprintf(&aside, "%s/volumes/.rm-XXXXXX", hd->config->root) < 0)
                return -ENOMEM;
        pthread_mutex_lock(&hd->volume_lock);
        r = db_volume_remove(hd->db, name);
        if (r >= 0 && !mkdtemp(aside)) {
                log_warning("volume %s: cannot make %s: %m", name, aside);
                aside = mfree(aside);
        } else if (r >= 0 && rename(path, aside) < 0) {
                if (errno != ENOENT)
                        log_warning("volume %s: cannot move %s aside: %m", name, path);
                (void)rmdir(aside);
                aside = mfree(aside);
        }
        pthread_mutex_unlock(&hd->volume_lock);
        if (r == -ENOENT)
                return error_set(ret_error, r, "no such volume: %s", name);
        if (r == -EBUSY) {
                users = vol_users(hd, "volume", name);
                return error_set(ret_error, r, "volume %s is in use by %s: remove the container%s first", name,
                                 users ? users : "a container", users && strchr(users, ',') ? "s" : "");
        }
        if (r < 0)
                return error_set(ret_error, r, "cannot remove volume %s: %s", name, strerror(-r));
        r = aside ? rm_rf(aside) : 0;
        if (r < 0 && r != -ENOENT)
                log_warning("volume %s: cannot remove %s: %s", name, aside, strerror(-r));
        log_info("volume %s removed", name);
        return 0;
}

struct json_object *volume_json(struct hyperd *hd, const struct db_volume *v)
{
        struct json_object *o = json_object_new_object(), *users = json_object_new_array();
        struct db_container_volume *a = NULL;
        _cleanup_free_ char *path = volume_path(hd, v->name);
        size_t n = 0;

        if (!o || !users || !path) {
                json_object_put(o);
                json_object_put(users);
                return NULL;
        }
        if (db_container_volumes(hd->db, NULL, "volume", v->name, &a, &n) >= 0)
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(users, json_object_new_string(a[i].container_id));
        db_container_volume_free_array(a, n);
        json_object_object_add(o, "name", json_object_new_string(v->name));
        json_object_object_add(o, "driver", json_object_new_string("local"));
        json_object_object_add(o, "mountpoint", json_object_new_string(path));
        json_object_object_add(o, "created", json_object_new_int64(v->created));
        json_object_object_add(o, "containers", users);
        return o;
}

/* The format of a disk image file, or NULL for a file that is not one. */
static int vol_probe(const char *path, const char **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ unsigned char *head = malloc(VOLUME_PROBE_SIZE);
        size_t len = 0;
        ssize_t n;

        if (fd < 0)
                return -errno;
        if (!head)
                return -ENOMEM;
        while (len < VOLUME_PROBE_SIZE && (n = read(fd, head + len, VOLUME_PROBE_SIZE - len)) > 0)
                len += (size_t)n;
        *ret = volume_probe_format(head, len, path);
        return 0;
}

/* A host path of -v: it exists; a folder or a plain file is bound, a disk image is a block volume. */
static int vol_check_host(struct container_volume *v, char **ret_error)
{
        struct stat st;
        int r;

        /* Whatever stat says (missing, not a folder on the way, no access), the request is what is wrong. */
        if (stat(v->spec.source, &st) < 0)
                return error_set(ret_error, -EINVAL,
                                 "the host path %.200s %s (volume for %.200s): make it first, or give "
                                 "a name (no '/') for a named volume",
                                 v->spec.source, errno == ENOENT ? "does not exist" : strerror(errno),
                                 v->spec.destination);
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return error_set(ret_error, -EINVAL,
                                 "the host path %.200s is neither a folder nor a regular file: only those can "
                                 "be volumes",
                                 v->spec.source);
        v->host_path = realpath(v->spec.source, NULL);
        if (!v->host_path)
                return error_set(ret_error, errno == ENOMEM ? -ENOMEM : -EINVAL, "the host path %.200s: %s",
                                 v->spec.source, strerror(errno));
        if (S_ISREG(st.st_mode)) {
                r = vol_probe(v->host_path, &v->format);
                if (r < 0)
                        return error_set(ret_error, r, "cannot read %s: %s", v->host_path, strerror(-r));
        }
        return 0;
}

static int vol_check_block_free(struct hyperd *hd, const struct container_volume *v, char **ret_error)
{
        _cleanup_free_ char *users = NULL;
        struct db_container_volume *a = NULL;
        size_t n = 0;
        int r = db_container_volumes(hd->db, NULL, "block", v->host_path, &a, &n);

        db_container_volume_free_array(a, n);
        if (r < 0 || n == 0)
                return r;
        users = vol_users(hd, "block", v->host_path);
        return error_set(ret_error, -EBUSY, "the disk image %s is attached to %s already: one VM at a time",
                         v->host_path, users ? users : "a container");
}

int container_volumes_check(struct hyperd *hd, char **specs, struct container_volumes *ret, char **ret_error)
{
        struct container_volumes cv = {0};
        size_t n = 0;
        int r = 0;

        while (specs && specs[n])
                n++;
        cv.v = calloc(n + 1, sizeof(*cv.v));
        cv.mounts = calloc(n + 1, sizeof(*cv.mounts));
        if (!cv.v || !cv.mounts)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct container_volume *v = &cv.v[cv.n];

                r = volume_spec_parse(specs[i], &v->spec, ret_error);
                if (r < 0)
                        break;
                cv.n++;
                if (v->spec.kind == VOLUME_NAMED)
                        r = (v->host_path = volume_path(hd, v->spec.source)) ? 0 : -ENOMEM;
                else
                        r = vol_check_host(v, ret_error);
                if (r >= 0 && v->format)
                        r = vol_check_block_free(hd, v, ret_error);
                if (r >= 0 && !v->format)
                        cv.mounts[cv.n_mounts++] = (struct volume_mount){
                                .source = v->host_path, .destination = v->spec.destination, .readonly = v->spec.readonly};
        }
        if (r < 0) {
                container_volumes_done(&cv);
                return r;
        }
        *ret = cv;
        return 0;
}

void container_volumes_forget(struct hyperd *hd, const struct container_volumes *cv)
{
        for (size_t i = 0; i < cv->n; i++)
                /* -EBUSY: another container took it up meanwhile, and keeps it. */
                if (cv->v[i].created && volume_remove(hd, cv->v[i].spec.source, NULL) >= 0)
                        log_info("volume %s removed: the container it was made for was not created",
                                 cv->v[i].spec.source);
}

int container_volumes_attach(struct hyperd *hd, const char *id, const struct container_volumes *cv, char **ret_error)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < cv->n; i++)
                if (cv->v[i].format)
                        r = container_block_attach(hd, id, cv->v[i].host_path, cv->v[i].spec.destination,
                                                   cv->v[i].format, cv->v[i].spec.readonly, ret_error);
        return r;
}

void container_volumes_done(struct container_volumes *cv)
{
        for (size_t i = 0; cv->v && i < cv->n; i++) {
                volume_spec_done(&cv->v[i].spec);
                free(cv->v[i].host_path);
        }
        free(cv->v);
        free(cv->mounts);
        *cv = (struct container_volumes){0};
}

/* runv umount-block: the guest unmounts it, the monitor unplugs it. */
static int vol_runv_umount(struct hyperd *hd, const char *id, const char *destination, char **ret_error)
{
        char *args[] = {(char *)"umount-block", (char *)id, (char *)destination, NULL};
        struct runv_driver d = {.runv = hd->runv, .root = hd->config->runv_root};
        struct runv_call call = {.args = args, .out_fd = -1, .err_fd = -1, .max = 65536, .cancel_fd = -1};
        struct runv_result res;
        int r;

        r = runv_driver_run(&d, &call, &res);
        if (r < 0)
                return error_set(ret_error, r, "cannot run %s: %s", hd->runv, strerror(-r));
        if (res.status != 0)
                r = error_set(ret_error, -EBUSY, "cannot detach %s: %s", destination,
                              runv_result_message(&res) ? runv_result_message(&res) : "runv umount-block failed");
        runv_result_done(&res);
        return r;
}

int container_block_detach(struct hyperd *hd, const char *id, const char *destination, bool live,
                           char **ret_error)
{
        struct db_container_volume *a = NULL;
        bool found = false;
        size_t n = 0;
        int r;

        r = db_container_volumes(hd->db, id, NULL, NULL, &a, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                found = found || (strcmp(a[i].kind, "block") == 0 && strcmp(a[i].destination, destination) == 0);
        db_container_volume_free_array(a, n);
        if (!found)
                return error_set(ret_error, -ENOENT, "the container has no block volume at %.200s", destination);
        /* A container that is not live has no VM: the disk is free already. */
        if (live && (r = vol_runv_umount(hd, id, destination, ret_error)) < 0)
                return r;
        r = db_container_volume_remove(hd->db, id, destination);
        if (r >= 0)
                log_info("container %s: the block volume at %s detached", id, destination);
        return r;
}

/* runv mount-block: the monitor hot-plugs the file and has the guest mount it. */
static int vol_runv_mount(struct hyperd *hd, const char *id, const char *file, const char *destination,
                          const char *format, bool readonly, char **ret_error)
{
        char *args[8] = {(char *)"mount-block", (char *)"--format", (char *)format};
        size_t n = 3;
        struct runv_driver d = {.runv = hd->runv, .root = hd->config->runv_root};
        struct runv_call call = {.args = args, .out_fd = -1, .err_fd = -1, .max = 65536, .cancel_fd = -1};
        struct runv_result res;
        int r;

        if (readonly)
                args[n++] = (char *)"--readonly";
        args[n++] = (char *)id;
        args[n++] = (char *)file;
        args[n++] = (char *)destination;
        r = runv_driver_run(&d, &call, &res);
        if (r < 0)
                return error_set(ret_error, r, "cannot run %s: %s", hd->runv, strerror(-r));
        if (res.status != 0)
                r = error_set(ret_error, volume_mount_error(runv_result_message(&res)), "cannot attach %s at %s: %s",
                              file, destination,
                              runv_result_message(&res) ? runv_result_message(&res) : "runv mount-block failed");
        runv_result_done(&res);
        return r;
}

static int vol_block_file(const char *file, const char *format, char **ret_path, const char **ret_format,
                          char **ret_error)
{
        _cleanup_free_ char *path = NULL;
        const char *probed = NULL;
        struct stat st;
        int r;

        if (!file || file[0] != '/')
                return error_set(ret_error, -EINVAL, "the disk image must be an absolute host path");
        if (format && !volume_format_valid(format))
                return error_set(ret_error, -EINVAL, "invalid format \"%.32s\": raw or qcow2", format);
        if (stat(file, &st) < 0)
                return error_set(ret_error, errno == ENOENT ? -ENOENT : -EINVAL, "the disk image %.200s: %s", file,
                                 strerror(errno));
        if (!S_ISREG(st.st_mode))
                return error_set(ret_error, -EINVAL,
                                 "%.200s is not a regular file: a block volume is a disk image file", file);
        path = realpath(file, NULL);
        if (!path)
                return error_set(ret_error, errno == ENOMEM ? -ENOMEM : -EINVAL, "the disk image %.200s: %s", file,
                                 strerror(errno));
        r = format ? 0 : vol_probe(path, &probed);
        if (r < 0)
                return error_set(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        *ret_format = format ? format : probed ? probed : "raw";
        *ret_path = TAKE_PTR(path);
        return 0;
}

int container_block_attach(struct hyperd *hd, const char *id, const char *file, const char *destination,
                           const char *format, bool readonly, char **ret_error)
{
        _cleanup_free_ char *path = NULL, *users = NULL;
        struct db_container_volume row;
        int r;

        if (!destination || !volume_destination_valid(destination))
                return error_set(ret_error, -EINVAL,
                                 "invalid destination \"%.200s\": an absolute container path, not \"/\", "
                                 "without \".\" or \"..\" parts",
                                 destination ? destination : "");
        r = vol_block_file(file, format, &path, &format, ret_error);
        if (r < 0)
                return r;
        row = (struct db_container_volume){.container_id = (char *)id, .kind = "block", .source = path,
                                           .destination = (char *)destination, .readonly = readonly,
                                           .format = (char *)format};
        r = db_container_volume_add_block(hd->db, &row);
        if (r == -EBUSY) {
                users = vol_users(hd, "block", path);
                return error_set(ret_error, r, "the disk image %s is attached to %s already: one VM at a time", path,
                                 users ? users : "a container");
        }
        if (r == -EEXIST)
                return error_set(ret_error, -EBUSY, "the container has a volume at %s already", destination);
        if (r < 0)
                return error_set(ret_error, r, "cannot record the block volume: %s", strerror(-r));
        r = vol_runv_mount(hd, id, path, destination, format, readonly, ret_error);
        /* A disk the VM kept keeps its row: the file is refused elsewhere until the container goes. */
        if (r == -ENOTRECOVERABLE)
                log_warning("container %s: the VM kept %s after a failed mount; it is free once the container is "
                            "removed", id, path);
        else if (r < 0)
                db_container_volume_remove(hd->db, id, destination);
        if (r < 0)
                return r;
        log_info("container %s: %s (%s%s) attached at %s", id, path, format, readonly ? ", read-only" : "",
                 destination);
        return 0;
}

int container_blocks_reattach(struct hyperd *hd, const char *id, char **ret_error)
{
        struct db_container_volume *a = NULL;
        size_t n = 0;
        int r = db_container_volumes(hd->db, id, NULL, NULL, &a, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (strcmp(a[i].kind, "block") != 0)
                        continue;
                r = vol_runv_mount(hd, id, a[i].source, a[i].destination, a[i].format ? a[i].format : "raw",
                                   a[i].readonly, ret_error);
                if (r >= 0)
                        log_info("container %s: %s attached again at %s", id, a[i].source, a[i].destination);
        }
        db_container_volume_free_array(a, n);
        return r;
}

struct json_object *container_volumes_json(struct hyperd *hd, const char *id)
{
        struct json_object *arr = json_object_new_array();
        struct db_container_volume *a = NULL;
        size_t n = 0;

        if (!arr || db_container_volumes(hd->db, id, NULL, NULL, &a, &n) < 0)
                return arr;
        for (size_t i = 0; i < n; i++) {
                struct json_object *o = json_object_new_object();

                if (!o)
                        break;
                json_object_object_add(o, "type", json_object_new_string(a[i].kind));
                json_object_object_add(o, "source", json_object_new_string(a[i].source));
                json_object_object_add(o, "destination", json_object_new_string(a[i].destination));
                json_object_object_add(o, "readonly", json_object_new_boolean(a[i].readonly));
                if (a[i].format)
                        json_object_object_add(o, "format", json_object_new_string(a[i].format));
                json_object_array_add(arr, o);
        }
        db_container_volume_free_array(a, n);
        return arr;
}

/*
 * Docker's copy-up: a new, empty named volume gets what the image has at
 * its container path. The rootfs is untrusted: the path is resolved inside
 * it (openat2, RESOLVE_IN_ROOT), and below it nothing is followed: links
 * are copied as links, and only folders, regular files and symlinks are
 * copied. The copy is made in a private folder under ROOT/volumes that no
 * VM sees, owners and modes set through the fds just opened (never by
 * name), and renamed over the empty volume folder at the end: a failure
 * leaves the volume empty (copied up next time), never half full, and a
 * guest that has the volume cannot swap a path for a link meanwhile (only
 * a volume no other container uses is filled at all, as Docker does).
 */
#define VOLUME_COPY_MAX_DEPTH 64

static int vol_copy_dir(int src, int dst, unsigned depth);

static int vol_copy_meta(int fd, const struct stat *st)
{
        if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
                return -errno;
        return 0;
}

static int vol_copy_file(int src, int dst, const char *name, const struct stat *st)
{
        _cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        _cleanup_close_ int out = -1;
        char buf[65536];
        ssize_t n;
        int r;

        if (in < 0)
                return -errno;
        out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if ((r = loop_write(out, buf, (size_t)n)) < 0)
                        return r;
        return n < 0 ? -errno : vol_copy_meta(out, st);
}

static int vol_copy_link(int src, int dst, const char *name, const struct stat *st)
{
        char target[4096];
        ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);

        if (n < 0)
                return -errno;
        target[n] = '\0';
        if (symlinkat(target, dst, name) < 0)
                return -errno;
        /* A link has no mode of its own; its owner is set on the link itself. */
        if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int vol_copy_entry(int src, int dst, const char *name, unsigned depth)
{
        _cleanup_close_ int s = -1, d = -1;
        struct stat st;
        int r;

        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISREG(st.st_mode))
                return vol_copy_file(src, dst, name, &st);
        if (S_ISLNK(st.st_mode))
                return vol_copy_link(src, dst, name, &st);
        if (!S_ISDIR(st.st_mode))
                return 0;
        if (depth >= VOLUME_COPY_MAX_DEPTH)
                return -ELOOP;
        if (mkdirat(dst, name, 0700) < 0)
                return -errno;
        s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
                return -errno;
        r = vol_copy_dir(s, d, depth + 1);
        return r < 0 ? r : vol_copy_meta(d, &st);
}

static int vol_copy_dir(int src, int dst, unsigned depth)
{
        _cleanup_(closedirp) DIR *dir = NULL;
        int fd = fcntl(src, F_DUPFD_CLOEXEC, 3), r = 0;
        struct dirent *e;

        if (fd < 0)
                return -errno;
        dir = fdopendir(fd);
        if (!dir) {
                close(fd);
                return -errno;
        }
        while (r >= 0 && (e = readdir(dir)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        r = vol_copy_entry(src, dst, e->d_name, depth);
        return r;
}

/* An empty folder: nothing in it but "." and "..". */
static bool vol_dir_empty(int fd)
{
        _cleanup_(closedirp) DIR *dir = NULL;
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        struct dirent *e;

        if (dup < 0 || !(dir = fdopendir(dup))) {
                if (dup >= 0)
                        close(dup);
                return false;
        }
        while ((e = readdir(dir)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        return false;
        return true;
}

/* Whether a container other than id has the named volume. */
static int vol_used_by_other(struct hyperd *hd, const char *name, const char *id)
{
        struct db_container_volume *a = NULL;
        size_t n = 0;
        int r = db_container_volumes(hd->db, NULL, "volume", name, &a, &n);

        for (size_t i = 0; r >= 0 && i < n; i++)
                if (strcmp(a[i].container_id, id) != 0)
                        r = 1;
        db_container_volume_free_array(a, n);
        return r;
}

/* Copies src (the image's folder) into a private folder, then renames it over the empty volume folder. */
static int vol_copy_into(struct hyperd *hd, const struct container_volume *v, int src)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int dst = -1;
        struct stat st;
        int r;

        if (fstat(src, &st) < 0)
                return -errno;
        if (asprintf(&tmp, "%s/volumes/.copy-XXXXXX", hd->config->root) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return -errno;
        dst = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = dst < 0 ? -errno : vol_copy_dir(src, dst, 0);
        /* The volume's folder takes the owner and mode of the image's, as Docker's does. */
        if (r >= 0)
                r = vol_copy_meta(dst, &st);
        /* Over an empty folder only: one that something was written into meanwhile is kept. */
        if (r >= 0 && rename(tmp, v->host_path) == 0)
                return 0;
        if (r >= 0 && errno != ENOTEMPTY && errno != EEXIST)
                r = -errno;
        (void)rm_rf(tmp);
        return r;
}

static int vol_populate_one(struct hyperd *hd, const char *id, const struct container_volume *v, int rootfs_fd)
{
        struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        _cleanup_close_ int src = -1, dst = -1;
        int r;

        r = vol_used_by_other(hd, v->spec.source, id);
        if (r != 0)
                return r < 0 ? r : 0;
        dst = open(v->host_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return -errno;
        if (!vol_dir_empty(dst))
                return 0;
        src = (int)syscall(SYS_openat2, rootfs_fd, v->spec.destination, &how, sizeof(how));
        if (src < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        return vol_copy_into(hd, v, src);
}

/* A named volume's row, its use by id, its folder and its copy-up: the caller holds volume_lock. */
static int vol_record_named(struct hyperd *hd, const char *id, struct container_volume *v,
                            const struct db_container_volume *row, int rootfs_fd, char **ret_error)
{
        int r = db_container_volume_add_named(hd->db, row, time(NULL), &v->created);

        if (r < 0)
                return error_set(ret_error, r, "cannot record volume %s: %s", v->spec.source, strerror(-r));
        if (v->created)
                log_info("volume %s made at %s", v->spec.source, v->host_path);
        r = mkdir_p(v->host_path, 0755);
        if (r < 0)
                return error_set(ret_error, r, "cannot make %s: %s", v->host_path, strerror(-r));
        r = vol_populate_one(hd, id, v, rootfs_fd);
        if (r < 0)
                return error_set(ret_error, r, "cannot copy the image's %s into volume %s: %s", v->spec.destination,
                                 v->spec.source, strerror(-r));
        return 0;
}

int container_volumes_record(struct hyperd *hd, const char *id, struct container_volumes *cv, int rootfs_fd,
                             char **ret_error)
{
        int r = 0;

        /*
         * All under one lock, which `volume rm` takes too: no other create
         * records a use of a volume while it is being filled, so no VM has
         * its folder before the copy is renamed into place.
         */
        pthread_mutex_lock(&hd->volume_lock);
        for (size_t i = 0; r >= 0 && i < cv->n; i++) {
                struct container_volume *v = &cv->v[i];
                bool named = v->spec.kind == VOLUME_NAMED;
                struct db_container_volume row = {.container_id = (char *)id,
                                                  .kind = named ? "volume" : "bind",
                                                  .source = named ? v->spec.source : v->host_path,
                                                  .destination = v->spec.destination,
                                                  .readonly = v->spec.readonly};

                if (v->format)
                        continue;
                if (named)
                        r = vol_record_named(hd, id, v, &row, rootfs_fd, ret_error);
                else if ((r = db_container_volume_add(hd->db, &row)) < 0)
                        r = error_set(ret_error, r, "cannot record volume %s: %s", v->spec.destination, strerror(-r));
        }
        pthread_mutex_unlock(&hd->volume_lock);
        return r;
}
