/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>

#include "fd-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "store-internal.h"
#include "unpack.h"

#define STORE_META "images.json"
#define STORE_META_MAX (64u * 1024u * 1024u)

static int store_open_dir(int dirfd, const char *path, int *ret)
{
        if (mkdirat(dirfd, path, 0700) < 0 && errno != EEXIST)
                return -errno;
        *ret = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return *ret < 0 ? -errno : 0;
}

static int store_open_dirs(struct image_store *s)
{
        int fd, r;

        if ((r = store_open_dir(s->root_fd, "blobs", &fd)) < 0)
                return r;
        r = store_open_dir(fd, "sha256", &s->blobs_fd);
        safe_close(fd);
        if (r < 0 || (r = store_open_dir(s->root_fd, "layers", &fd)) < 0)
                return r;
        r = store_open_dir(fd, "sha256", &s->layers_fd);
        safe_close(fd);
        if (r < 0 || (r = store_open_dir(s->root_fd, "tmp", &s->tmp_fd)) < 0)
                return r;
        return store_open_dir(s->root_fd, "rootfs", &s->rootfs_fd);
}

int image_store_open(const char *root, struct image_store **ret, char **ret_error)
{
        struct image_store *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->root_fd = s->blobs_fd = s->layers_fd = s->tmp_fd = s->rootfs_fd = -1;
        s->root = strdup(root ? root : IMAGE_STORE_DEFAULT_ROOT);
        if (!s->root) {
                image_store_close(s);
                return -ENOMEM;
        }
        r = mkdir_p(s->root, 0700);
        if (r >= 0) {
                s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = s->root_fd < 0 ? -errno : store_open_dirs(s);
        }
        if (r < 0) {
                image_error(ret_error, r, "cannot open the image store %s: %s", s->root, strerror(-r));
                image_store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

void image_store_close(struct image_store *s)
{
        if (!s)
                return;
        safe_close(s->root_fd);
        safe_close(s->blobs_fd);
        safe_close(s->layers_fd);
        safe_close(s->tmp_fd);
        safe_close(s->rootfs_fd);
        free(s->root);
        free(s);
}

const char *image_store_root(const struct image_store *s)
{
        return s->root;
}

static int store_flock(struct image_store *s, const char *name, int op, int *ret_fd)
{
        _cleanup_close_ int fd = openat(s->root_fd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        while (flock(fd, op) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int store_txn_begin(struct image_store *s, struct store_txn *t, char **ret_error)
{
        int r;

        *t = (struct store_txn){ .s = s, .lock_fd = -1, .dir_fd = -1 };
        r = store_flock(s, "gc.lock", LOCK_SH, &t->lock_fd);
        if (r < 0)
                return image_error(ret_error, r, "cannot lock the image store: %s", strerror(-r));
        memcpy(t->name, "txn-", 4);
        r = random_hex_id(t->name + 4);
        if (r >= 0)
                r = store_open_dir(s->tmp_fd, t->name, &t->dir_fd);
        if (r < 0) {
                store_txn_end(t);
                return image_error(ret_error, r, "cannot make a folder in %s/tmp: %s", s->root, strerror(-r));
        }
        return 0;
}

static int store_remove_in(int dirfd, const char *name)
{
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "/proc/self/fd/%d/%s", dirfd, name) < 0)
                return -ENOMEM;
        return rm_rf(path);
}

void store_txn_end(struct store_txn *t)
{
        if (t->dir_fd >= 0) {
                t->dir_fd = safe_close(t->dir_fd);
                store_remove_in(t->s->tmp_fd, t->name);
        }
        t->lock_fd = safe_close(t->lock_fd);
}

void store_txn_name(struct store_txn *t, const char *prefix, char ret[64])
{
        /* Unpacking threads ask for names too. */
        snprintf(ret, 64, "%s-%u", prefix, __atomic_fetch_add(&t->counter, 1, __ATOMIC_RELAXED));
}

bool store_blob_exists(struct image_store *s, const char *digest)
{
        return digest_valid(digest) && faccessat(s->blobs_fd, digest_hex(digest), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int store_blob_put(struct image_store *s, const char *digest, const void *data, size_t len, char **ret_error)
{
        char got[DIGEST_STRING_MAX];
        int r;

        if (!digest_valid(digest))
                return image_error(ret_error, -EINVAL, "invalid digest %s", digest);
        r = digest_buffer(data, len, got);
        if (r < 0)
                return r;
        if (strcmp(got, digest) != 0)
                return image_error(ret_error, -EBADMSG, "blob has digest %s, expected %s", got, digest);
        if (store_blob_exists(s, digest))
                return 0;
        r = write_file_atomic_at(s->blobs_fd, digest_hex(digest), data, len, 0600);
        if (r < 0)
                return image_error(ret_error, r, "cannot store blob %s: %s", digest, strerror(-r));
        return 0;
}

int store_blob_adopt(struct image_store *s, int dirfd, const char *name, const char *digest, char **ret_error)
{
        if (renameat(dirfd, name, s->blobs_fd, digest_hex(digest)) < 0)
                return image_error(ret_error, -errno, "cannot store blob %s: %m", digest);
        return fsync_dir(s->blobs_fd);
}

int store_blob_import(struct store_txn *t, int fd, const char *want, uint64_t max, char ret_digest[DIGEST_STRING_MAX],
                      uint64_t *ret_size, char **ret_error)
{
        _cleanup_close_ int out = -1;
        char name[64], got[DIGEST_STRING_MAX];
        uint64_t size = 0;
        int r;

        store_txn_name(t, "import", name);
        out = openat(t->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                return image_error(ret_error, -errno, "cannot write to the store: %m");
        r = digest_copy(fd, out, max, got, &size);
        if (r == -EFBIG)
                return image_error(ret_error, r, "blob larger than %llu bytes", (unsigned long long)max);
        if (r < 0)
                return image_error(ret_error, r, "cannot copy blob: %s", strerror(-r));
        if (want && strcmp(got, want) != 0)
                return image_error(ret_error, -EBADMSG, "blob has digest %s, expected %s", got, want);
        if (ret_digest)
                memcpy(ret_digest, got, DIGEST_STRING_MAX);
        if (ret_size)
                *ret_size = size;
        if (store_blob_exists(t->s, got))
                return 0;
        if (fsync(out) < 0)
                return image_error(ret_error, -errno, "cannot write to the store: %m");
        return store_blob_adopt(t->s, t->dir_fd, name, got, ret_error);
}

int store_blob_open(struct image_store *s, const char *digest, char **ret_error)
{
        int fd;

        if (!digest_valid(digest))
                return image_error(ret_error, -EINVAL, "invalid digest %s", digest);
        fd = openat(s->blobs_fd, digest_hex(digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return image_error(ret_error, -errno, "blob %s is not in the store: %m", digest);
        return fd;
}

int store_blob_read(struct image_store *s, const char *digest, size_t max, char **ret_data, size_t *ret_len,
                    char **ret_error)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        char got[DIGEST_STRING_MAX];
        size_t len;
        int r;

        if (!digest_valid(digest))
                return image_error(ret_error, -EINVAL, "invalid digest %s", digest);
        if (asprintf(&path, "%s/blobs/sha256/%s", s->root, digest_hex(digest)) < 0)
                return -ENOMEM;
        r = read_full_file(path, max, &data, &len);
        if (r < 0)
                return image_error(ret_error, r, "cannot read blob %s: %s", digest, strerror(-r));
        r = digest_buffer(data, len, got);
        if (r < 0)
                return r;
        if (strcmp(got, digest) != 0)
                return image_error(ret_error, -EBADMSG, "blob %s in the store is corrupt", digest);
        *ret_data = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

bool store_layer_exists(struct image_store *s, const char *diff_id)
{
        return digest_valid(diff_id) &&
               faccessat(s->layers_fd, digest_hex(diff_id), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

char *store_layer_path(struct image_store *s, const char *diff_id)
{
        char *p;

        if (asprintf(&p, "%s/layers/sha256/%s", s->root, digest_hex(diff_id)) < 0)
                return NULL;
        return p;
}

/*
 * A layer is unpacked in the transaction's folder and appears in layers/
 * by one rename, so a layer folder is always complete. syncfs() first:
 * the rename must not reach the disk before the files it publishes.
 */
int store_layer_unpack(struct store_txn *t, const char *blob_digest, const char *diff_id, char **ret_error)
{
        const struct unpack_options o = { .whiteouts = true };
        _cleanup_close_ int blob = -1, dir = -1;
        struct unpack_result res = { 0 };
        char name[64];
        int r;

        if (!digest_valid(diff_id))
                return image_error(ret_error, -EINVAL, "invalid DiffID %s", diff_id);
        blob = store_blob_open(t->s, blob_digest, ret_error);
        if (blob < 0)
                return blob;
        store_txn_name(t, "layer", name);
        r = store_open_dir(t->dir_fd, name, &dir);
        if (r < 0)
                return image_error(ret_error, r, "cannot make a layer folder: %s", strerror(-r));
        r = unpack_layer(blob, dir, &o, &res, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "layer %s refused", blob_digest);
        if (strcmp(res.diff_id, diff_id) != 0)
                return image_error(ret_error, -EBADMSG, "layer %s unpacks to DiffID %s, but the image config says %s",
                                   blob_digest, res.diff_id, diff_id);
        if (fchmod(dir, 0755) < 0 || syncfs(dir) < 0)
                return image_error(ret_error, -errno, "cannot sync layer %s: %m", diff_id);
        if (renameat(t->dir_fd, name, t->s->layers_fd, digest_hex(diff_id)) < 0) {
                /* Another pull unpacked the same layer first: theirs is as good as ours. */
                if ((errno == EEXIST || errno == ENOTEMPTY) && store_layer_exists(t->s, diff_id))
                        return 0;
                return image_error(ret_error, -errno, "cannot store layer %s: %m", diff_id);
        }
        return fsync_dir(t->s->layers_fd);
}

/*
 * Layers are independent folders, so they unpack in parallel, one worker
 * per CPU, each as soon as its blob is in the store: a pull unpacks the
 * first layers while the others still download.
 */
struct unpack_pipe {
        struct store_txn *t;
        const struct image_manifest *m;
        const struct image_config *c;
        struct progress *p;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool *ready, *taken;
        bool over; /* no layer becomes ready any more */
        pthread_t threads[64];
        size_t n_threads;
        int result;
        char *error;
};

/* The next layer that is ready and not taken, or n_layers when there is none (after waiting, unless it is over). */
static size_t pipe_take(struct unpack_pipe *u)
{
        size_t i;

        pthread_mutex_lock(&u->lock);
        for (;;) {
                for (i = 0; i < u->m->n_layers; i++)
                        if (u->ready[i] && !u->taken[i])
                                break;
                if (i < u->m->n_layers || u->over || u->result < 0)
                        break;
                pthread_cond_wait(&u->cond, &u->lock);
        }
        if (i < u->m->n_layers)
                u->taken[i] = true;
        pthread_mutex_unlock(&u->lock);
        return u->result < 0 ? u->m->n_layers : i;
}

static void *pipe_worker(void *userdata)
{
        struct unpack_pipe *u = userdata;
        size_t i;

        while ((i = pipe_take(u)) < u->m->n_layers) {
                char *err = NULL;
                int r = 0;

                if (!store_layer_exists(u->t->s, u->c->diff_ids[i])) {
                        if (u->p)
                                progress_update(u->p, i, PROGRESS_UNPACKING, 0, 0);
                        r = store_layer_unpack(u->t, u->m->layers[i].digest, u->c->diff_ids[i], &err);
                }
                if (u->p)
                        progress_update(u->p, i, r < 0 ? PROGRESS_FAILED : PROGRESS_DONE, 0, 0);
                pthread_mutex_lock(&u->lock);
                if (r < 0 && u->result >= 0) {
                        u->result = r;
                        u->error = TAKE_PTR(err);
                        pthread_cond_broadcast(&u->cond);
                }
                pthread_mutex_unlock(&u->lock);
                free(err);
        }
        return NULL;
}

int unpack_pipe_start(struct store_txn *t, const struct image_manifest *m, const struct image_config *c,
                      struct progress *p, struct unpack_pipe **ret, char **ret_error)
{
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        struct unpack_pipe *u;
        size_t n;

        if (c->n_diff_ids != m->n_layers)
                return image_error(ret_error, -EINVAL, "the manifest has %zu layers but the config %zu DiffIDs",
                                   m->n_layers, c->n_diff_ids);
        u = calloc(1, sizeof(*u));
        if (!u || !(u->ready = calloc(m->n_layers + 1, 1)) || !(u->taken = calloc(m->n_layers + 1, 1))) {
                if (u)
                        free(u->ready);
                free(u);
                return -ENOMEM;
        }
        *u = (struct unpack_pipe){ .t = t, .m = m, .c = c, .p = p, .ready = u->ready, .taken = u->taken,
                                   .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
        n = MIN(MIN((size_t)(ncpu > 0 ? ncpu : 1), m->n_layers), ARRAY_SIZE(u->threads));
        for (; u->n_threads < n; u->n_threads++)
                if (pthread_create(&u->threads[u->n_threads], NULL, pipe_worker, u) != 0)
                        break;
        *ret = u;
        return 0;
}

void unpack_pipe_ready(struct unpack_pipe *u, size_t index)
{
        pthread_mutex_lock(&u->lock);
        u->ready[index] = true;
        pthread_cond_broadcast(&u->cond);
        pthread_mutex_unlock(&u->lock);
}

int unpack_pipe_finish(struct unpack_pipe *u, char **ret_error)
{
        int r;

        pthread_mutex_lock(&u->lock);
        u->over = true;
        pthread_cond_broadcast(&u->cond);
        pthread_mutex_unlock(&u->lock);
        /* Without any thread (pthread_create failed), the caller's thread does the work. */
        if (u->n_threads == 0)
                pipe_worker(u);
        for (size_t i = 0; i < u->n_threads; i++)
                pthread_join(u->threads[i], NULL);
        r = u->result;
        for (size_t i = 0; r >= 0 && i < u->m->n_layers; i++)
                if (!u->taken[i])
                        r = image_error(ret_error, -EIO, "layer %s was never unpacked", u->m->layers[i].digest);
        if (u->result < 0)
                image_error(ret_error, r, "%s", u->error ? u->error : "unpacking failed");
        free(u->error);
        free(u->ready);
        free(u->taken);
        free(u);
        return r;
}

int store_unpack_layers(struct store_txn *t, const struct image_manifest *m, const struct image_config *c,
                        struct progress *p, char **ret_error)
{
        struct unpack_pipe *u;
        int r = unpack_pipe_start(t, m, c, p, &u, ret_error);

        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_layers; i++)
                unpack_pipe_ready(u, i);
        return unpack_pipe_finish(u, ret_error);
}

int store_meta_lock(struct image_store *s, int *ret_lock_fd, char **ret_error)
{
        int r = store_flock(s, "images.lock", LOCK_EX, ret_lock_fd);

        return r < 0 ? image_error(ret_error, r, "cannot lock the image store: %s", strerror(-r)) : 0;
}

/* Holds gc.lock exclusively, without waiting: a pull in progress means "not now". */
int store_gc_lock(struct image_store *s, int *ret_fd)
{
        return store_flock(s, "gc.lock", LOCK_EX | LOCK_NB, ret_fd);
}

int store_remove_tmp(struct image_store *s, const char *name)
{
        return store_remove_in(s->tmp_fd, name);
}
