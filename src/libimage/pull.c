/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull: manifest (through an index when there is one), config, then the
 * layers, downloaded in parallel into tmp/partial (kept across failed
 * pulls, so the next one resumes), each verified, moved into blobs/ and
 * unpacked while the others still download. Nothing is visible until
 * store_commit() replaces images.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "json-util.h"
#include "reference.h"
#include "registry.h"
#include "store-internal.h"

/* What the registry said, kept together for the rest of the pull. */
struct pull {
        struct image_store *s;
        struct image_ref *ref;
        struct registry *reg;
        const struct image_pull_options *o;
        char *data; /* the image manifest */
        size_t len;
        char *media_type;
        char top_digest[DIGEST_STRING_MAX];      /* of what the tag named: an index or the manifest */
        char manifest_digest[DIGEST_STRING_MAX]; /* of the image manifest */
        struct image_manifest *m;
        struct image_config *c;
        struct store_txn t;
        int partial_fd;
};

static void pull_done(struct pull *p)
{
        image_ref_free(p->ref);
        registry_free(p->reg);
        free(p->data);
        free(p->media_type);
        image_manifest_free(p->m);
        image_config_free(p->c);
        if (p->t.s)
                store_txn_end(&p->t);
        safe_close(p->partial_fd);
}

/* True when ROOT/registries.json lists domain under "insecure". */
static bool pull_insecure_listed(struct image_store *s, const char *domain)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(strv_freep) char **v = NULL;
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t len;

        if (asprintf(&path, "%s/registries.json", image_store_root(s)) < 0 ||
            read_full_file(path, 1 << 20, &data, &len) < 0 || json_parse_object(data, len, &o) < 0 ||
            json_get_strv(o, "insecure", 4096, &v) < 0)
                return false;
        return strv_contains(v, domain);
}

static int pull_registry(struct pull *p, char **ret_error)
{
        _cleanup_free_ char *auth = NULL;
        struct registry_options ro = {
                .insecure = p->o->insecure || pull_insecure_listed(p->s, p->ref->domain),
                .auth_file = p->o->auth_file,
                .max_parallel = p->o->max_parallel,
        };

        if (!ro.auth_file) {
                if (asprintf(&auth, "%s/auth.json", image_store_root(p->s)) < 0)
                        return -ENOMEM;
                ro.auth_file = auth;
        }
        return registry_new(p->ref, &ro, &p->reg, ret_error);
}

/* An index leads to the manifest for the wanted platform, fetched by its digest. */
static int pull_pick(struct pull *p, char **ret_error)
{
        _cleanup_(image_index_freep) struct image_index *idx = NULL;
        const struct image_descriptor *d;
        const char *os = p->o->os ? p->o->os : "linux", *arch = p->o->arch ? p->o->arch : image_host_arch();
        int r;

        r = image_index_parse(p->data, p->len, &idx, ret_error);
        if (r < 0)
                return r;
        r = image_index_pick(idx, os, arch, p->o->variant, &d, ret_error);
        if (r < 0)
                return r;
        free(p->data);
        free(p->media_type);
        p->data = p->media_type = NULL;
        r = registry_get_manifest(p->reg, d->digest, &p->data, &p->len, &p->media_type, ret_error);
        if (r < 0)
                return r;
        if (manifest_kind(p->media_type, p->data, p->len) != MANIFEST_KIND_IMAGE)
                return image_error(ret_error, -EPROTONOSUPPORT, "index entry %s is not an image manifest", d->digest);
        memcpy(p->manifest_digest, d->digest, DIGEST_STRING_MAX);
        return 0;
}

static int pull_manifest(struct pull *p, char **ret_error)
{
        int r;

        r = registry_get_manifest(p->reg, p->ref->digest ? p->ref->digest : p->ref->tag, &p->data, &p->len,
                                  &p->media_type, ret_error);
        if (r < 0)
                return r;
        r = digest_buffer(p->data, p->len, p->top_digest);
        if (r < 0)
                return r;
        memcpy(p->manifest_digest, p->top_digest, DIGEST_STRING_MAX);
        switch (manifest_kind(p->media_type, p->data, p->len)) {
        case MANIFEST_KIND_INDEX:
                r = pull_pick(p, ret_error);
                break;
        case MANIFEST_KIND_IMAGE:
                break;
        default:
                return image_error(ret_error, -EPROTONOSUPPORT,
                                   "unsupported manifest type %s (schema 1 manifests are not supported)",
                                   p->media_type ? p->media_type : "(none)");
        }
        if (r < 0)
                return r;
        return image_manifest_parse(p->data, p->len, &p->m, ret_error);
}

static int pull_config(struct pull *p, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        const char *digest = p->m->config.digest;
        size_t len;
        int r;

        if (store_blob_exists(p->s, digest))
                r = store_blob_read(p->s, digest, CONFIG_MAX_SIZE, &data, &len, ret_error);
        else {
                r = registry_get_blob(p->reg, digest, CONFIG_MAX_SIZE, &data, &len, ret_error);
                if (r >= 0)
                        r = store_blob_put(p->s, digest, data, len, ret_error);
        }
        if (r < 0)
                return r;
        r = image_config_parse(data, len, &p->c, ret_error);
        if (r < 0)
                return r;
        if (p->c->n_diff_ids != p->m->n_layers)
                return image_error(ret_error, -EINVAL, "the manifest has %zu layers but the config %zu DiffIDs",
                                   p->m->n_layers, p->c->n_diff_ids);
        return 0;
}

/* The layer downloads of one pull. */
struct pull_fetch {
        struct pull *p;
        struct unpack_pipe *pipe;
        struct registry_blob *blobs;
        int *lock_fds;
        char (*names)[80];
        size_t n;
        int result;
        char *error;
};

static void pull_fetch_free(struct pull_fetch *f)
{
        for (size_t i = 0; i < f->n; i++) {
                safe_close(f->lock_fds[i]);
                free(f->blobs[i].error);
        }
        free(f->blobs);
        free(f->lock_fds);
        free(f->names);
        free(f->error);
}

static void pull_mark_ready(struct pull_fetch *f, const char *digest)
{
        for (size_t i = 0; i < f->p->m->n_layers; i++)
                if (strcmp(f->p->m->layers[i].digest, digest) == 0) {
                        if (f->p->o->progress)
                                progress_update(f->p->o->progress, i, PROGRESS_DOWNLOADED, 0, 0);
                        unpack_pipe_ready(f->pipe, i);
                }
}

static void pull_on_progress(void *userdata, size_t index, uint64_t done, uint64_t total)
{
        struct pull_fetch *f = userdata;
        const char *digest = f->blobs[index].digest;

        for (size_t i = 0; f->p->o->progress && i < f->p->m->n_layers; i++)
                if (strcmp(f->p->m->layers[i].digest, digest) == 0)
                        progress_update(f->p->o->progress, i, PROGRESS_DOWNLOADING, done, total);
}

/* A verified download becomes a blob, and its layers may unpack. */
static void pull_on_done(void *userdata, size_t index, int result)
{
        struct pull_fetch *f = userdata;
        struct registry_blob *b = &f->blobs[index];
        char *err = NULL;
        int r = result;

        if (r >= 0)
                r = store_blob_adopt(f->p->s, b->dir_fd, b->name, b->digest, &err);
        if (r >= 0) {
                pull_mark_ready(f, b->digest);
                return;
        }
        if (f->result >= 0) {
                f->result = r;
                f->error = err ? err : (b->error ? strdup(b->error) : NULL);
        } else {
                free(err);
        }
}

/* Where blob i downloads: tmp/partial/<hex>, unless another pull is fetching it there right now. */
static int pull_fetch_target(struct pull_fetch *f, size_t i, const char *digest)
{
        struct registry_blob *b = &f->blobs[i];
        int fd;

        b->digest = digest;
        snprintf(f->names[i], sizeof(f->names[i]), "%s", digest_hex(digest));
        fd = openat(f->p->partial_fd, f->names[i], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
                f->lock_fds[i] = fd;
                b->dir_fd = f->p->partial_fd;
        } else {
                safe_close(fd);
                store_txn_name(&f->p->t, "blob", f->names[i]);
                b->dir_fd = f->p->t.dir_fd;
        }
        b->name = f->names[i];
        return 0;
}

/* Lists each missing blob once (a manifest may name one twice); layers whose blob is here are ready at once. */
static int pull_fetch_plan(struct pull_fetch *f)
{
        const struct image_manifest *m = f->p->m;

        f->blobs = calloc(m->n_layers + 1, sizeof(*f->blobs));
        f->lock_fds = calloc(m->n_layers + 1, sizeof(int));
        f->names = calloc(m->n_layers + 1, sizeof(*f->names));
        if (!f->blobs || !f->lock_fds || !f->names)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_layers; i++) {
                const struct image_descriptor *d = &m->layers[i];
                bool listed = false;

                if (store_blob_exists(f->p->s, d->digest)) {
                        if (f->p->o->progress)
                                progress_update(f->p->o->progress, i, PROGRESS_EXISTS, 0, 0);
                        unpack_pipe_ready(f->pipe, i);
                        continue;
                }
                for (size_t j = 0; j < f->n; j++)
                        listed = listed || strcmp(f->blobs[j].digest, d->digest) == 0;
                if (listed)
                        continue;
                f->lock_fds[f->n] = -1;
                f->blobs[f->n].size = d->size;
                pull_fetch_target(f, f->n++, d->digest);
        }
        return 0;
}

static int pull_layers(struct pull *p, char **ret_error)
{
        struct pull_fetch f = { .p = p };
        int r, k;

        r = unpack_pipe_start(&p->t, p->m, p->c, p->o->progress, &f.pipe, ret_error);
        if (r < 0)
                return r;
        r = pull_fetch_plan(&f);
        if (r >= 0)
                r = registry_fetch_blobs(p->reg, f.blobs, f.n, pull_on_progress, pull_on_done, &f, ret_error);
        if (r >= 0 && f.result < 0)
                r = image_error(ret_error, f.result, "%s", f.error ? f.error : "cannot store a layer");
        /* Always wait for the workers: they use the transaction's folder. */
        k = unpack_pipe_finish(f.pipe, r < 0 ? NULL : ret_error);
        pull_fetch_free(&f);
        return r < 0 ? r : k;
}

static int pull_names(struct pull *p, char ***ret)
{
        _cleanup_free_ char *name = image_ref_name(p->ref), *canon = image_ref_string(p->ref), *by_digest = NULL;
        char **v = NULL;
        size_t n = 0;

        if (!name || !canon || asprintf(&by_digest, "%s@%s", name, p->top_digest) < 0)
                return -ENOMEM;
        if (strv_push(&v, &n, canon) < 0 || (strcmp(canon, by_digest) != 0 && strv_push(&v, &n, by_digest) < 0)) {
                strv_free(v);
                return -ENOMEM;
        }
        *ret = v;
        return 0;
}

static int pull_commit(struct pull *p, char **ret_error)
{
        _cleanup_(strv_freep) char **names = NULL;
        struct store_image img = {
                .manifest_digest = p->manifest_digest,
                .manifest = p->m,
                .config = p->c,
        };
        int r;

        img.manifest_media_type = p->m->media_type ? p->m->media_type
                                  : p->media_type  ? p->media_type
                                                   : MEDIA_DOCKER_MANIFEST;
        r = store_blob_put(p->s, p->manifest_digest, p->data, p->len, ret_error);
        if (r < 0)
                return r;
        r = pull_names(p, &names);
        if (r < 0)
                return r;
        img.names = names;
        return store_commit(p->s, &img, ret_error);
}

static int pull_run(struct pull *p, char **ret_error)
{
        char **digests = NULL;
        int r;

        if ((r = pull_registry(p, ret_error)) < 0 || (r = pull_manifest(p, ret_error)) < 0)
                return r;
        if ((r = store_txn_begin(p->s, &p->t, ret_error)) < 0 || (r = pull_config(p, ret_error)) < 0)
                return r;
        if (mkdirat(p->s->tmp_fd, "partial", 0700) < 0 && errno != EEXIST)
                return image_error(ret_error, -errno, "cannot make %s/tmp/partial: %m", image_store_root(p->s));
        p->partial_fd = openat(p->s->tmp_fd, "partial", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (p->partial_fd < 0)
                return image_error(ret_error, -errno, "cannot open %s/tmp/partial: %m", image_store_root(p->s));
        if (p->o->progress) {
                digests = calloc(p->m->n_layers + 1, sizeof(char *));
                for (size_t i = 0; digests && i < p->m->n_layers; i++)
                        digests[i] = p->m->layers[i].digest;
                progress_begin(p->o->progress, p->m->config.digest, digests, p->m->n_layers);
                free(digests);
        }
        r = pull_layers(p, ret_error);
        if (p->o->progress)
                progress_end(p->o->progress);
        if (r < 0)
                return r;
        return pull_commit(p, ret_error);
}

int image_store_pull(struct image_store *s, const char *ref, const struct image_pull_options *o, char **ret_id,
                     char **ret_error)
{
        static const struct image_pull_options none = { 0 };
        _cleanup_(pull_done) struct pull p = { .s = s, .o = o ? o : &none, .partial_fd = -1 };
        int r;

        r = image_ref_parse(ref, &p.ref, ret_error);
        if (r < 0)
                return r;
        r = pull_run(&p, ret_error);
        if (r < 0) {
                _cleanup_free_ char *canon = image_ref_string(p.ref);
                /* What this pull stored and no image uses goes again: the store is as it was before. */
                if (p.t.s) {
                        store_txn_end(&p.t);
                        p.t.s = NULL;
                }
                image_store_gc(s, NULL);
                return image_error(ret_error, r, "cannot pull %s", canon ? canon : ref);
        }
        if (ret_id && !(*ret_id = strdup(p.m->config.digest)))
                return -ENOMEM;
        return 0;
}
