/* SPDX-License-Identifier: Apache-2.0 */
/*
 * images.json: every image's record and every name, in one file replaced
 * atomically under images.lock. Its rename is the commit point of a pull,
 * a load, a tag or a removal; blobs and layers are written before it and
 * deleted only after it, by the garbage collection.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fd-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "reference.h"
#include "store-internal.h"

#define STORE_META "images.json"
#define STORE_META_MAX (64u * 1024u * 1024u)

static int store_meta_new(struct json_object **ret)
{
        struct json_object *o = json_object_new_object();

        if (!o || json_object_object_add(o, "version", json_object_new_int(1)) < 0 ||
            json_object_object_add(o, "images", json_object_new_object()) < 0 ||
            json_object_object_add(o, "names", json_object_new_object()) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

static struct json_object *meta_get(struct json_object *meta, const char *key)
{
        struct json_object *v = NULL;

        json_object_object_get_ex(meta, key, &v);
        return v;
}

int store_meta_load(struct image_store *s, struct json_object **ret, char **ret_error)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        struct json_object *o;
        size_t len;
        int r;

        if (asprintf(&path, "%s/" STORE_META, s->root) < 0)
                return -ENOMEM;
        r = read_full_file(path, STORE_META_MAX, &data, &len);
        if (r == -ENOENT)
                return store_meta_new(ret);
        if (r < 0)
                return image_error(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        if (json_parse_object(data, len, &o) < 0 || !json_object_is_type(meta_get(o, "images"), json_type_object) ||
            !json_object_is_type(meta_get(o, "names"), json_type_object)) {
                if (o)
                        json_object_put(o);
                return image_error(ret_error, -EINVAL, "%s is corrupt", path);
        }
        *ret = o;
        return 0;
}

int store_meta_save(struct image_store *s, struct json_object *meta, char **ret_error)
{
        size_t len;
        const char *text = json_object_to_json_string_length(meta, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        int r;

        if (!text)
                return -ENOMEM;
        r = write_file_atomic_at(s->root_fd, STORE_META, text, len, 0600);
        if (r < 0)
                return image_error(ret_error, r, "cannot write %s/" STORE_META ": %s", s->root, strerror(-r));
        return 0;
}

struct json_object *store_meta_image(struct json_object *meta, const char *id)
{
        struct json_object *img = NULL;

        if (!json_object_object_get_ex(meta_get(meta, "images"), id, &img))
                return NULL;
        return img;
}

/* An id, or a unique prefix of at least 12 hex digits ("sha256:" optional). */
static const char *store_resolve_id(struct json_object *meta, const char *ref)
{
        const char *hex = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
        size_t n = strlen(hex);
        const char *found = NULL;

        if (n < 12 || n > 64 || strspn(hex, "0123456789abcdef") != n)
                return NULL;
        json_object_object_foreach(meta_get(meta, "images"), id, img)
        {
                (void)img;
                if (strlen(id) == 71 && strncmp(id + 7, hex, n) == 0) {
                        if (found)
                                return NULL;
                        found = id;
                }
        }
        return found;
}

int store_resolve(struct json_object *meta, const char *ref, const char **ret_id, char **ret_error)
{
        _cleanup_(image_ref_freep) struct image_ref *r = NULL;
        _cleanup_free_ char *canon = NULL;
        const char *id = store_resolve_id(meta, ref);
        struct json_object *v;
        int k;

        if (id) {
                *ret_id = id;
                return 0;
        }
        k = image_ref_parse(ref, &r, ret_error);
        if (k < 0)
                return k;
        canon = image_ref_string(r);
        if (!canon)
                return -ENOMEM;
        if (!json_object_object_get_ex(meta_get(meta, "names"), canon, &v) || !json_object_is_type(v, json_type_string) ||
            !store_meta_image(meta, json_object_get_string(v)))
                return image_error(ret_error, -ENOENT, "no image %s in the store", canon);
        *ret_id = json_object_get_string(v);
        return 0;
}

bool store_image_in_use(struct image_store *s, const char *id)
{
        _cleanup_close_ int fd = openat(s->rootfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        bool used = false;

        if (!d)
                return false;
        TAKE_FD(fd);
        while (!used && (de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/rootfs/%s/image", s->root, de->d_name) < 0)
                        break;
                if (read_full_file(path, 256, &data, NULL) >= 0 && strcmp(data, id) == 0)
                        used = true;
        }
        closedir(d);
        return used;
}

static int json_add_string(struct json_object *o, const char *key, const char *value)
{
        struct json_object *v = json_object_new_string(value ? value : "");

        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int store_record_layers(const struct store_image *img, struct json_object *rec, uint64_t *ret_size)
{
        struct json_object *layers = json_object_new_array();
        uint64_t size = 0;

        if (!layers || json_object_object_add(rec, "layers", layers) < 0) {
                json_object_put(layers);
                return -ENOMEM;
        }
        for (size_t i = 0; i < img->manifest->n_layers; i++) {
                const struct image_descriptor *d = &img->manifest->layers[i];
                struct json_object *l = json_object_new_object();
                if (!l || json_object_array_add(layers, l) < 0) {
                        json_object_put(l);
                        return -ENOMEM;
                }
                if (json_add_string(l, "digest", d->digest) < 0 ||
                    json_add_string(l, "media_type", d->media_type ? d->media_type : MEDIA_DOCKER_LAYER_GZIP) < 0 ||
                    json_object_object_add(l, "size", json_object_new_int64(d->size)) < 0 ||
                    json_add_string(l, "diff_id", img->config->diff_ids[i]) < 0)
                        return -ENOMEM;
                size += (uint64_t)d->size;
        }
        *ret_size = size;
        return 0;
}

static int store_record_new(const struct store_image *img, struct json_object **ret)
{
        _cleanup_(json_object_putp) struct json_object *rec = json_object_new_object();
        const struct image_config *c = img->config;
        uint64_t size = 0;

        if (!rec || json_add_string(rec, "manifest", img->manifest_digest) < 0 ||
            json_add_string(rec, "manifest_media_type", img->manifest_media_type) < 0 ||
            json_add_string(rec, "config_media_type", img->manifest->config.media_type) < 0 ||
            json_add_string(rec, "os", c->os) < 0 || json_add_string(rec, "architecture", c->architecture) < 0 ||
            json_object_object_add(rec, "created", json_object_new_int64((int64_t)time(NULL))) < 0 ||
            store_record_layers(img, rec, &size) < 0 ||
            json_object_object_add(rec, "size", json_object_new_int64((int64_t)size)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(rec);
        return 0;
}

static bool store_image_named(struct json_object *meta, const char *id)
{
        json_object_object_foreach(meta_get(meta, "names"), name, v)
        {
                (void)name;
                if (strcmp(json_object_get_string(v), id) == 0)
                        return true;
        }
        return false;
}

/* Whether some tag other than skip names id; names by digest do not keep an image, as in Docker. */
static bool store_image_tagged(struct json_object *meta, const char *id, const char *skip)
{
        json_object_object_foreach(meta_get(meta, "names"), name, v)
        {
                if (!strchr(name, '@') && strcmp(name, skip) != 0 && strcmp(json_object_get_string(v), id) == 0)
                        return true;
        }
        return false;
}

/* Points name at id; an image that loses its last name this way is dropped (its layers go at the next gc). */
static int store_set_name(struct image_store *s, struct json_object *meta, const char *name, const char *id)
{
        _cleanup_free_ char *old = NULL;
        struct json_object *names = meta_get(meta, "names"), *v;

        if (json_object_object_get_ex(names, name, &v) && !(old = strdup(json_object_get_string(v))))
                return -ENOMEM;
        if (json_add_string(names, name, id) < 0)
                return -ENOMEM;
        if (old && strcmp(old, id) != 0 && !store_image_named(meta, old) && !store_image_in_use(s, old))
                json_object_object_del(meta_get(meta, "images"), old);
        return 0;
}

int store_commit(struct image_store *s, const struct store_image *img, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL, *rec = NULL;
        _cleanup_close_ int lock = -1;
        const char *id = img->manifest->config.digest;
        int r;

        /* Everything the record names must be on disk before the record is. */
        if (syncfs(s->root_fd) < 0)
                return image_error(ret_error, -errno, "cannot sync the image store: %m");
        r = store_record_new(img, &rec);
        if (r < 0)
                return r;
        if ((r = store_meta_lock(s, &lock, ret_error)) < 0 || (r = store_meta_load(s, &meta, ret_error)) < 0)
                return r;
        if (json_object_object_add(meta_get(meta, "images"), id, TAKE_PTR(rec)) < 0)
                return -ENOMEM;
        for (char **n = img->names; n && *n; n++)
                if ((r = store_set_name(s, meta, *n, id)) < 0)
                        return r;
        return store_meta_save(s, meta, ret_error);
}

int image_store_tag(struct image_store *s, const char *src, const char *dst, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        _cleanup_free_ char *canon = NULL, *id = NULL;
        _cleanup_close_ int lock = -1;
        const char *found;
        int r;

        if ((r = image_ref_parse(dst, &ref, ret_error)) < 0)
                return r;
        if (ref->digest)
                return image_error(ret_error, -EINVAL, "a tag cannot be a digest: %s", dst);
        if (!(canon = image_ref_string(ref)))
                return -ENOMEM;
        if ((r = store_meta_lock(s, &lock, ret_error)) < 0 || (r = store_meta_load(s, &meta, ret_error)) < 0)
                return r;
        if ((r = store_resolve(meta, src, &found, ret_error)) < 0)
                return r;
        if (!(id = strdup(found)))
                return -ENOMEM;
        if ((r = store_set_name(s, meta, canon, id)) < 0)
                return r;
        r = store_meta_save(s, meta, ret_error);
        /* The collection takes the metadata lock itself. */
        lock = safe_close(lock);
        if (r >= 0)
                image_store_gc(s, NULL);
        return r;
}

static void store_drop_names(struct json_object *meta, const char *id)
{
        struct json_object *names = meta_get(meta, "names");
        bool again = true;

        /* Deleting while iterating a json-c object is not safe: restart after each. */
        while (again) {
                again = false;
                json_object_object_foreach(names, name, v)
                {
                        if (strcmp(json_object_get_string(v), id) == 0) {
                                json_object_object_del(names, name);
                                again = true;
                                break;
                        }
                }
        }
}

/* Drops name (or, for an id, every name) and the image when nothing names it any more. */
static int store_remove_locked(struct image_store *s, struct json_object *meta, const char *ref, char **ret_error)
{
        _cleanup_(image_ref_freep) struct image_ref *parsed = NULL;
        _cleanup_free_ char *id = NULL, *canon = NULL;
        const char *found;
        bool by_id = store_resolve_id(meta, ref) != NULL;
        int r;

        if ((r = store_resolve(meta, ref, &found, ret_error)) < 0)
                return r;
        if (!(id = strdup(found)))
                return -ENOMEM;
        if (!by_id) {
                if ((r = image_ref_parse(ref, &parsed, ret_error)) < 0 || !(canon = image_ref_string(parsed)))
                        return r < 0 ? r : -ENOMEM;
                if (store_image_tagged(meta, id, canon)) {
                        json_object_object_del(meta_get(meta, "names"), canon);
                        return 0;
                }
        }
        if (store_image_in_use(s, id))
                return image_error(ret_error, -EBUSY, "image %s is in use by a container rootfs", id);
        store_drop_names(meta, id);
        json_object_object_del(meta_get(meta, "images"), id);
        return 0;
}

int image_store_remove(struct image_store *s, const char *ref, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        if ((r = store_meta_lock(s, &lock, ret_error)) < 0 || (r = store_meta_load(s, &meta, ret_error)) < 0)
                return r;
        if ((r = store_remove_locked(s, meta, ref, ret_error)) < 0)
                return r;
        if ((r = store_meta_save(s, meta, ret_error)) < 0)
                return r;
        lock = safe_close(lock);
        return image_store_gc(s, ret_error);
}

/* The blob digests and DiffIDs that some image names, as the keys of two objects. */
static int store_referenced(struct json_object *meta, struct json_object *blobs, struct json_object *layers)
{
        struct json_object *t = json_object_new_boolean(1);

        if (!t)
                return -ENOMEM;
        json_object_object_foreach(meta_get(meta, "images"), id, img)
        {
                struct json_object *ls = meta_get(img, "layers"), *v;
                if (strlen(id) == 71)
                        json_object_object_add(blobs, id + 7, json_object_get(t));
                if (json_object_object_get_ex(img, "manifest", &v) && json_object_get_string_len(v) == 71)
                        json_object_object_add(blobs, json_object_get_string(v) + 7, json_object_get(t));
                for (size_t i = 0; json_object_is_type(ls, json_type_array) && i < json_object_array_length(ls); i++) {
                        struct json_object *l = json_object_array_get_idx(ls, i);
                        if (json_object_object_get_ex(l, "digest", &v) && json_object_get_string_len(v) == 71)
                                json_object_object_add(blobs, json_object_get_string(v) + 7, json_object_get(t));
                        if (json_object_object_get_ex(l, "diff_id", &v) && json_object_get_string_len(v) == 71)
                                json_object_object_add(layers, json_object_get_string(v) + 7, json_object_get(t));
                }
        }
        json_object_put(t);
        return 0;
}

/* Calls drop(s, dirfd, name) for every entry of dirfd whose name is not a key of keep. */
static int store_sweep(struct image_store *s, int dirfd, struct json_object *keep,
                       int (*drop)(struct image_store *s, int dirfd, const char *name))
{
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!d)
                return -errno;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                struct json_object *v;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    (keep && json_object_object_get_ex(keep, de->d_name, &v)))
                        continue;
                int k = drop(s, dirfd, de->d_name);
                if (k < 0 && r >= 0)
                        r = k;
        }
        closedir(d);
        return r;
}

static int store_drop_blob(struct image_store *s, int dirfd, const char *name)
{
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

/* A layer leaves layers/ by one rename, so no image can ever see half of one. */
static int store_drop_layer(struct image_store *s, int dirfd, const char *name)
{
        char tmp[128];

        snprintf(tmp, sizeof(tmp), "gc-%.64s", name);
        if (renameat(dirfd, name, s->tmp_fd, tmp) < 0)
                return -errno;
        return store_remove_tmp(s, tmp);
}

/* Interrupted downloads stay a day, for the next pull of the image to resume them. */
static int store_drop_partial(struct image_store *s, int dirfd, const char *name)
{
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (st.st_mtime + 24 * 3600 > time(NULL))
                return 0;
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

static int store_drop_tmp(struct image_store *s, int dirfd, const char *name)
{
        _cleanup_close_ int fd = -1;

        if (strcmp(name, "partial") != 0)
                return store_remove_tmp(s, name);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return store_sweep(s, fd, NULL, store_drop_partial);
}

int image_store_gc(struct image_store *s, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL, *blobs = NULL, *layers = NULL;
        _cleanup_close_ int gc = -1, lock = -1;
        int r;

        r = store_gc_lock(s, &gc);
        if (r == -EWOULDBLOCK)
                return 0;
        if (r < 0)
                return image_error(ret_error, r, "cannot lock the image store: %s", strerror(-r));
        if ((r = store_meta_lock(s, &lock, ret_error)) < 0 || (r = store_meta_load(s, &meta, ret_error)) < 0)
                return r;
        blobs = json_object_new_object();
        layers = json_object_new_object();
        if (!blobs || !layers || store_referenced(meta, blobs, layers) < 0)
                return -ENOMEM;
        r = store_sweep(s, s->blobs_fd, blobs, store_drop_blob);
        if (r >= 0)
                r = store_sweep(s, s->layers_fd, layers, store_drop_layer);
        if (r >= 0)
                r = store_sweep(s, s->tmp_fd, NULL, store_drop_tmp);
        if (r < 0)
                return image_error(ret_error, r, "garbage collection failed: %s", strerror(-r));
        return 0;
}

static int64_t json_int_or(struct json_object *o, const char *key, int64_t def)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return def;
        return json_object_get_int64(v);
}

int store_names_of(struct json_object *meta, const char *id, char ***ret)
{
        _cleanup_(strv_freep) char **v = calloc(1, sizeof(char *));
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        json_object_object_foreach(meta_get(meta, "names"), name, val)
        {
                if (strcmp(json_object_get_string(val), id) == 0 && strv_push(&v, &n, name) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int image_store_list(struct image_store *s, struct image_summary **ret, size_t *ret_n, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        struct image_summary *a;
        size_t n = 0;
        int r;

        if ((r = store_meta_load(s, &meta, ret_error)) < 0)
                return r;
        a = calloc(json_object_object_length(meta_get(meta, "images")) + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        json_object_object_foreach(meta_get(meta, "images"), id, img)
        {
                struct image_summary *e = &a[n++];
                e->id = strdup(id);
                e->created = json_int_or(img, "created", 0);
                e->size = (uint64_t)json_int_or(img, "size", 0);
                e->n_layers = json_object_array_length(meta_get(img, "layers"));
                if (!e->id || store_names_of(meta, id, &e->names) < 0) {
                        image_summary_free_array(a, n);
                        return -ENOMEM;
                }
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

void image_summary_free_array(struct image_summary *a, size_t n)
{
        for (size_t i = 0; a && i < n; i++) {
                free(a[i].id);
                strv_free(a[i].names);
        }
        free(a);
}

/* Loads images.json and resolves ref, copying the id out. */
static int store_lookup(struct image_store *s, const char *ref, struct json_object **ret_meta, char **ret_id,
                        char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        const char *id;
        int r;

        if ((r = store_meta_load(s, &meta, ret_error)) < 0 || (r = store_resolve(meta, ref, &id, ret_error)) < 0)
                return r;
        if (!(*ret_id = strdup(id)))
                return -ENOMEM;
        *ret_meta = TAKE_PTR(meta);
        return 0;
}

int image_store_config(struct image_store *s, const char *ref, char **ret_id, struct image_config **ret,
                       char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        _cleanup_free_ char *id = NULL, *data = NULL;
        size_t len;
        int r;

        if ((r = store_lookup(s, ref, &meta, &id, ret_error)) < 0)
                return r;
        if ((r = store_blob_read(s, id, CONFIG_MAX_SIZE, &data, &len, ret_error)) < 0)
                return r;
        if ((r = image_config_parse(data, len, ret, ret_error)) < 0)
                return r;
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

int image_store_layer_dirs(struct image_store *s, const char *ref, char ***ret_dirs, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        _cleanup_(strv_freep) char **dirs = calloc(1, sizeof(char *));
        _cleanup_free_ char *id = NULL;
        struct json_object *layers, *v;
        size_t n = 0;
        int r;

        if (!dirs)
                return -ENOMEM;
        if ((r = store_lookup(s, ref, &meta, &id, ret_error)) < 0)
                return r;
        layers = meta_get(store_meta_image(meta, id), "layers");
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                _cleanup_free_ char *p = NULL;
                if (!json_object_object_get_ex(json_object_array_get_idx(layers, i), "diff_id", &v) ||
                    !digest_valid(json_object_get_string(v)))
                        return image_error(ret_error, -EINVAL, "image %s has a corrupt record", id);
                if (!(p = store_layer_path(s, json_object_get_string(v))) || strv_push(&dirs, &n, p) < 0)
                        return -ENOMEM;
                if (!store_layer_exists(s, json_object_get_string(v)))
                        return image_error(ret_error, -ENOENT, "layer %s of image %s is missing",
                                           json_object_get_string(v), id);
        }
        *ret_dirs = TAKE_PTR(dirs);
        return 0;
}

static struct json_object *json_strv(char **v)
{
        struct json_object *a = json_object_new_array();

        for (char **p = v; a && p && *p; p++)
                if (json_object_array_add(a, json_object_new_string(*p)) < 0)
                        return json_object_put(a), NULL;
        return a;
}

/* The container config as Docker shows it: only the fields that matter to running the image. */
static int inspect_config(const char *data, size_t len, struct json_object *out)
{
        static const char *const keys[] = { "Entrypoint", "Cmd", "Env", "WorkingDir", "User",
                                            "ExposedPorts", "Volumes", "StopSignal", "Labels" };
        _cleanup_(json_object_putp) struct json_object *cfg = NULL;
        struct json_object *c, *v, *dst = json_object_new_object();

        if (!dst || json_object_object_add(out, "Config", dst) < 0)
                return json_object_put(dst), -ENOMEM;
        if (json_parse_object(data, len, &cfg) < 0)
                return -EINVAL;
        if (json_object_object_get_ex(cfg, "created", &v))
                json_object_object_add(out, "Created", json_object_get(v));
        if (!json_object_object_get_ex(cfg, "config", &c) || !json_object_is_type(c, json_type_object))
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (json_object_object_get_ex(c, keys[i], &v) && v)
                        json_object_object_add(dst, keys[i], json_object_get(v));
        return 0;
}

static int inspect_names(struct json_object *meta, const char *id, struct json_object *out)
{
        _cleanup_(strv_freep) char **names = NULL;
        struct json_object *tags = json_object_new_array(), *digests = json_object_new_array();

        if (!tags || !digests || json_object_object_add(out, "RepoTags", tags) < 0) {
                json_object_put(tags);
                json_object_put(digests);
                return -ENOMEM;
        }
        if (json_object_object_add(out, "RepoDigests", digests) < 0) {
                json_object_put(digests);
                return -ENOMEM;
        }
        if (store_names_of(meta, id, &names) < 0)
                return -ENOMEM;
        for (char **p = names; *p; p++)
                json_object_array_add(strchr(*p, '@') ? digests : tags, json_object_new_string(*p));
        return 0;
}

/* Record fields as inspect shows them, in Docker's style; "created" is when the image entered the store. */
static const char *const inspect_keys[][2] = {
        { "manifest", "ManifestDigest" }, { "manifest_media_type", "ManifestMediaType" },
        { "config_media_type", "ConfigMediaType" }, { "os", "Os" }, { "architecture", "Architecture" },
        { "size", "Size" }, { "created", "Added" },
};

int image_store_inspect(struct image_store *s, const char *ref, struct json_object **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *meta = NULL, *out = json_object_new_object();
        _cleanup_(strv_freep) char **dirs = NULL;
        _cleanup_free_ char *id = NULL, *data = NULL;
        struct json_object *img, *v;
        size_t len;
        int r;

        if (!out)
                return -ENOMEM;
        if ((r = store_lookup(s, ref, &meta, &id, ret_error)) < 0 ||
            (r = store_blob_read(s, id, CONFIG_MAX_SIZE, &data, &len, ret_error)) < 0 ||
            (r = image_store_layer_dirs(s, id, &dirs, ret_error)) < 0)
                return r;
        img = store_meta_image(meta, id);
        json_add_string(out, "Id", id);
        if ((r = inspect_names(meta, id, out)) < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(inspect_keys); i++)
                if (json_object_object_get_ex(img, inspect_keys[i][0], &v))
                        json_object_object_add(out, inspect_keys[i][1], json_object_get(v));
        if (json_object_object_get_ex(img, "layers", &v))
                json_object_object_add(out, "Layers", json_object_get(v));
        json_object_object_add(out, "LayerDirs", json_strv(dirs));
        if ((r = inspect_config(data, len, out)) < 0)
                return image_error(ret_error, r, "image %s has an invalid config", id);
        *ret = TAKE_PTR(out);
        return 0;
}
