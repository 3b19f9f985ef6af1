/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load and save: `docker save` archives and OCI image layouts, as
 * folders or tars. Archives are outside input like registries are: they
 * are unpacked with the same safe unpacker (files only), every blob they
 * hold is checked against the digest that names it, and the images are
 * committed the way pulled images are.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "json-util.h"
#include "reference.h"
#include "store-internal.h"
#include "unpack.h"

#define LOAD_MAX_IMAGES 1024

struct load {
        struct image_store *s;
        struct store_txn t;
        int root_fd; /* the layout or the unpacked archive */
        char **loaded;
        size_t n_loaded;
};

/* Reads a small file of the archive, never from outside it. */
static int load_read(struct load *l, const char *path, size_t max, char **ret, size_t *ret_len, char **ret_error)
{
        _cleanup_close_ int fd = unpack_open_beneath(l->root_fd, path, O_RDONLY);
        _cleanup_free_ char *data = NULL;
        struct stat st;
        ssize_t n;

        if (fd < 0)
                return image_error(ret_error, fd, "archive has no usable %s: %s", path, strerror(-fd));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return image_error(ret_error, -EINVAL, "%s in the archive is not a file", path);
        if ((uint64_t)st.st_size > max)
                return image_error(ret_error, -E2BIG, "%s in the archive is larger than %zu bytes", path, max);
        if (!(data = malloc(st.st_size + 1)))
                return -ENOMEM;
        n = loop_read(fd, data, st.st_size);
        if (n < 0)
                return image_error(ret_error, (int)n, "cannot read %s", path);
        data[n] = '\0';
        *ret_len = n;
        *ret = TAKE_PTR(data);
        return 0;
}

/* Copies a file of the archive into the store as a blob; want (may be NULL) is the digest it must have. */
static int load_blob(struct load *l, const char *path, const char *want, char ret_digest[DIGEST_STRING_MAX],
                     uint64_t *ret_size, char **ret_error)
{
        _cleanup_close_ int fd = unpack_open_beneath(l->root_fd, path, O_RDONLY);
        int r;

        if (fd < 0)
                return image_error(ret_error, fd, "archive has no usable %s: %s", path, strerror(-fd));
        r = store_blob_import(&l->t, fd, want, BLOB_MAX_SIZE, ret_digest, ret_size, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "%s in the archive refused", path);
        return 0;
}

static int load_blob_path(const char *digest, char ret[100])
{
        if (!digest_valid(digest))
                return -EINVAL;
        snprintf(ret, 100, "blobs/sha256/%s", digest_hex(digest));
        return 0;
}

/* Unpacks, stores and commits one image whose manifest and config blobs are in the store already. */
static int load_commit(struct load *l, const char *manifest_digest, const char *data, size_t len, const char *name,
                       char **ret_error)
{
        _cleanup_(image_manifest_freep) struct image_manifest *m = NULL;
        _cleanup_(image_config_freep) struct image_config *c = NULL;
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        _cleanup_free_ char *cfg = NULL, *canon = NULL, *line = NULL;
        char *names[2] = { NULL, NULL };
        size_t cfg_len;
        int r;

        if ((r = image_manifest_parse(data, len, &m, ret_error)) < 0 ||
            (r = store_blob_read(l->s, m->config.digest, CONFIG_MAX_SIZE, &cfg, &cfg_len, ret_error)) < 0 ||
            (r = image_config_parse(cfg, cfg_len, &c, ret_error)) < 0 ||
            (r = store_unpack_layers(&l->t, m, c, NULL, ret_error)) < 0 ||
            (r = store_blob_put(l->s, manifest_digest, data, len, ret_error)) < 0)
                return r;
        /* A name the archive gives that is no valid reference is ignored: the image stays reachable by id. */
        if (name && image_ref_parse(name, &ref, NULL) >= 0 && !ref->digest && !(canon = image_ref_string(ref)))
                return -ENOMEM;
        names[0] = canon;
        struct store_image img = { .manifest_digest = manifest_digest, .manifest = m, .config = c, .names = names,
                                   .manifest_media_type = m->media_type ? m->media_type : MEDIA_OCI_MANIFEST };
        if ((r = store_commit(l->s, &img, ret_error)) < 0)
                return r;
        if (asprintf(&line, "%s %s", m->config.digest, canon ? canon : "") < 0)
                return -ENOMEM;
        return strv_push(&l->loaded, &l->n_loaded, line);
}

/* Reads and verifies the blob a descriptor names. */
static int load_doc(struct load *l, const char *digest, size_t max, char **ret, size_t *ret_len, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        char path[100], got[DIGEST_STRING_MAX];
        size_t len = 0;
        int r;

        if (load_blob_path(digest, path) < 0)
                return image_error(ret_error, -EINVAL, "invalid digest %s", digest);
        if ((r = load_read(l, path, max, &data, &len, ret_error)) < 0 || (r = digest_buffer(data, len, got)) < 0)
                return r;
        if (strcmp(got, digest) != 0)
                return image_error(ret_error, -EBADMSG, "%s in the archive has digest %s", path, got);
        *ret = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

static int load_oci_image(struct load *l, const struct image_descriptor *d, const char *name, char **ret_error)
{
        _cleanup_(image_manifest_freep) struct image_manifest *m = NULL;
        _cleanup_free_ char *data = NULL;
        char path[100];
        size_t len = 0;
        int r;

        if ((r = load_doc(l, d->digest, MANIFEST_MAX_SIZE, &data, &len, ret_error)) < 0)
                return r;
        if (manifest_kind(d->media_type, data, len) == MANIFEST_KIND_INDEX) {
                _cleanup_(image_index_freep) struct image_index *idx = NULL;
                const struct image_descriptor *pick;
                if ((r = image_index_parse(data, len, &idx, ret_error)) < 0 ||
                    (r = image_index_pick(idx, "linux", image_host_arch(), NULL, &pick, ret_error)) < 0)
                        return r;
                return load_oci_image(l, pick, name, ret_error);
        }
        if ((r = image_manifest_parse(data, len, &m, ret_error)) < 0)
                return r;
        load_blob_path(m->config.digest, path);
        if ((r = load_blob(l, path, m->config.digest, NULL, NULL, ret_error)) < 0)
                return r;
        for (size_t i = 0; i < m->n_layers; i++) {
                if (store_blob_exists(l->s, m->layers[i].digest))
                        continue;
                load_blob_path(m->layers[i].digest, path);
                if ((r = load_blob(l, path, m->layers[i].digest, NULL, NULL, ret_error)) < 0)
                        return r;
        }
        return load_commit(l, d->digest, data, len, name, ret_error);
}

static int load_oci(struct load *l, char **ret_error)
{
        _cleanup_(image_index_freep) struct image_index *idx = NULL;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        if ((r = load_read(l, "index.json", MANIFEST_MAX_SIZE, &data, &len, ret_error)) < 0 ||
            (r = image_index_parse(data, len, &idx, ret_error)) < 0)
                return image_error(ret_error, r, "invalid OCI layout");
        for (size_t i = 0; i < idx->n_manifests; i++) {
                /* A multi-platform image in a layout is an index inside the index: its platform is chosen below. */
                const struct image_descriptor *d = &idx->manifests[i];
                if (d->os && d->architecture &&
                    (strcmp(d->os, "linux") != 0 || strcmp(d->architecture, image_host_arch()) != 0))
                        continue;
                r = load_oci_image(l, d, d->ref_name, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Docker's layer.tar may be compressed: its media type says how. */
static const char *load_layer_media_type(struct load *l, const char *path)
{
        _cleanup_close_ int fd = unpack_open_beneath(l->root_fd, path, O_RDONLY);
        unsigned char magic[4] = { 0 };

        if (fd >= 0 && read(fd, magic, sizeof(magic)) == sizeof(magic)) {
                if (magic[0] == 0x1f && magic[1] == 0x8b)
                        return MEDIA_DOCKER_LAYER_GZIP;
                if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                        return MEDIA_OCI_LAYER_ZSTD;
        }
        return MEDIA_DOCKER_LAYER_TAR;
}

static struct json_object *load_descriptor(const char *media_type, const char *digest, uint64_t size)
{
        struct json_object *d = json_object_new_object();

        if (!d || json_object_object_add(d, "mediaType", json_object_new_string(media_type)) < 0 ||
            json_object_object_add(d, "digest", json_object_new_string(digest)) < 0 ||
            json_object_object_add(d, "size", json_object_new_int64((int64_t)size)) < 0) {
                json_object_put(d);
                return NULL;
        }
        return d;
}

/* Makes the schema2 manifest that `docker save` leaves out, from the files it has. */
static int load_docker_manifest(struct load *l, struct json_object *entry, struct json_object **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *m = json_object_new_object();
        struct json_object *layers = json_object_new_array(), *paths, *d;
        char digest[DIGEST_STRING_MAX];
        const char *config;
        uint64_t size;
        int r;

        if (!m || !layers || json_object_object_add(m, "layers", layers) < 0)
                return json_object_put(layers), -ENOMEM;
        if (json_get_string(entry, "Config", &config) < 0 || !json_object_object_get_ex(entry, "Layers", &paths) ||
            !json_object_is_type(paths, json_type_array) || json_object_array_length(paths) > MANIFEST_MAX_LAYERS)
                return image_error(ret_error, -EINVAL, "manifest.json: an entry without Config or Layers");
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_object_object_add(m, "mediaType", json_object_new_string(MEDIA_DOCKER_MANIFEST));
        if ((r = load_blob(l, config, NULL, digest, &size, ret_error)) < 0)
                return r;
        if (!(d = load_descriptor(MEDIA_DOCKER_CONFIG, digest, size)) || json_object_object_add(m, "config", d) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(paths); i++) {
                struct json_object *p = json_object_array_get_idx(paths, i);
                if (!json_object_is_type(p, json_type_string))
                        return image_error(ret_error, -EINVAL, "manifest.json: a layer path is not a string");
                if ((r = load_blob(l, json_object_get_string(p), NULL, digest, &size, ret_error)) < 0)
                        return r;
                d = load_descriptor(load_layer_media_type(l, json_object_get_string(p)), digest, size);
                if (!d || json_object_array_add(layers, d) < 0)
                        return json_object_put(d), -ENOMEM;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

static int load_docker_entry(struct load *l, struct json_object *entry, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *m = NULL;
        struct json_object *tags;
        char digest[DIGEST_STRING_MAX];
        const char *text;
        size_t len, n_tags;
        int r;

        if ((r = load_docker_manifest(l, entry, &m, ret_error)) < 0)
                return r;
        text = json_object_to_json_string_length(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!text || (r = digest_buffer(text, len, digest)) < 0)
                return -ENOMEM;
        if (!json_object_object_get_ex(entry, "RepoTags", &tags) || !json_object_is_type(tags, json_type_array))
                return load_commit(l, digest, text, len, NULL, ret_error);
        n_tags = json_object_array_length(tags);
        for (size_t i = 0; i < MAX(n_tags, (size_t)1); i++) {
                struct json_object *t = json_object_array_get_idx(tags, i);
                const char *name = t && json_object_is_type(t, json_type_string) ? json_object_get_string(t) : NULL;
                if ((r = load_commit(l, digest, text, len, name, ret_error)) < 0)
                        return r;
        }
        return 0;
}

static int load_docker(struct load *l, char **ret_error)
{
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        _cleanup_(json_object_putp) struct json_object *a = NULL;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        if (!tok)
                return -ENOMEM;
        if ((r = load_read(l, "manifest.json", MANIFEST_MAX_SIZE, &data, &len, ret_error)) < 0)
                return r;
        a = json_tokener_parse_ex(tok, data, (int)len);
        if (!a || !json_object_is_type(a, json_type_array) || json_object_array_length(a) > LOAD_MAX_IMAGES)
                return image_error(ret_error, -EINVAL, "manifest.json is not an array of at most %d images",
                                   LOAD_MAX_IMAGES);
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if ((r = load_docker_entry(l, json_object_array_get_idx(a, i), ret_error)) < 0)
                        return r;
        return 0;
}

/* A file is unpacked (files only, with the bomb limits) into the transaction's folder first. */
static int load_open_input(struct load *l, const char *path, char **ret_error)
{
        const struct unpack_options o = { .plain = true };
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct unpack_result res;
        struct stat st;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0)
                return image_error(ret_error, -errno, "cannot open %s: %m", path);
        if (S_ISDIR(st.st_mode)) {
                l->root_fd = TAKE_FD(fd);
                return 0;
        }
        if (mkdirat(l->t.dir_fd, "input", 0700) < 0)
                return image_error(ret_error, -errno, "cannot make a folder in the store: %m");
        l->root_fd = openat(l->t.dir_fd, "input", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (l->root_fd < 0)
                return -errno;
        r = unpack_layer(fd, l->root_fd, &o, &res, ret_error);
        return r < 0 ? image_error(ret_error, r, "%s is not a usable archive", path) : 0;
}

int image_store_load(struct image_store *s, const char *path, char ***ret_loaded, char **ret_error)
{
        struct load l = { .s = s, .root_fd = -1 };
        int r;

        if ((r = store_txn_begin(s, &l.t, ret_error)) < 0)
                return r;
        r = load_open_input(&l, path, ret_error);
        if (r >= 0 && faccessat(l.root_fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                r = load_oci(&l, ret_error);
        else if (r >= 0 && faccessat(l.root_fd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                r = load_docker(&l, ret_error);
        else if (r >= 0)
                r = image_error(ret_error, -EINVAL, "%s is neither an OCI layout nor a docker save archive", path);
        safe_close(l.root_fd);
        store_txn_end(&l.t);
        if (r >= 0 && l.n_loaded == 0)
                r = image_error(ret_error, -ENOENT, "%s holds no image for linux/%s", path, image_host_arch());
        if (r < 0) {
                /* Blobs of images that were not committed go again: the store is as it was before. */
                image_store_gc(s, NULL);
                strv_free(l.loaded);
                return r;
        }
        *ret_loaded = l.loaded;
        return 0;
}

/* One image to save: its record and the names it goes out under. */
struct save_image {
        char *id;
        struct json_object *rec;
        char **names;
        size_t n_names;
};

struct save {
        struct image_store *s;
        struct store_txn t;
        struct archive *a;
        struct save_image *images;
        size_t n;
        struct json_object *written; /* archive paths already in, so shared layers go in once */
};

static int save_add_fd(struct save *sv, const char *name, int fd, char **ret_error)
{
        _cleanup_free_ char *buf = malloc(1 << 20);
        struct archive_entry *e = archive_entry_new();
        struct stat st;
        int r = 0;

        if (!buf || !e) {
                archive_entry_free(e);
                return -ENOMEM;
        }
        if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                r = -errno;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st.st_size);
        if (r >= 0 && archive_write_header(sv->a, e) != ARCHIVE_OK)
                r = -EIO;
        archive_entry_free(e);
        while (r >= 0) {
                ssize_t n = read(fd, buf, 1 << 20);
                if (n <= 0) {
                        r = n < 0 ? -errno : 0;
                        break;
                }
                if (archive_write_data(sv->a, buf, n) != n)
                        r = -EIO;
        }
        if (r < 0)
                return image_error(ret_error, r, "cannot write %s: %s", name, archive_error_string(sv->a));
        return json_object_object_add(sv->written, name, json_object_new_boolean(1)) < 0 ? -ENOMEM : 0;
}

static int save_add_data(struct save *sv, const char *name, const char *data, size_t len, char **ret_error)
{
        struct archive_entry *e = archive_entry_new();
        int r = 0;

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        if (archive_write_header(sv->a, e) != ARCHIVE_OK || archive_write_data(sv->a, data, len) != (la_ssize_t)len)
                r = image_error(ret_error, -EIO, "cannot write %s: %s", name, archive_error_string(sv->a));
        archive_entry_free(e);
        return r;
}

static bool save_written(struct save *sv, const char *name)
{
        struct json_object *v;

        return json_object_object_get_ex(sv->written, name, &v);
}

/* A blob as blobs/sha256/<hex>, once. */
static int save_blob(struct save *sv, const char *digest, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        char path[100];

        if (load_blob_path(digest, path) < 0)
                return image_error(ret_error, -EINVAL, "invalid digest %s", digest);
        if (save_written(sv, path))
                return 0;
        fd = store_blob_open(sv->s, digest, ret_error);
        if (fd < 0)
                return fd;
        return save_add_fd(sv, path, fd, ret_error);
}

static const char *rec_string(struct json_object *o, const char *key)
{
        struct json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : "";
}

static int save_oci_entry(struct json_object *manifests, struct save_image *img, const char *name, int64_t size)
{
        struct json_object *d = load_descriptor(rec_string(img->rec, "manifest_media_type"),
                                                rec_string(img->rec, "manifest"), (uint64_t)size);
        struct json_object *ann;

        if (!d || json_object_array_add(manifests, d) < 0)
                return json_object_put(d), -ENOMEM;
        if (!name)
                return 0;
        ann = json_object_new_object();
        if (!ann || json_object_object_add(d, "annotations", ann) < 0)
                return json_object_put(ann), -ENOMEM;
        /* The full name: tools that read layouts (skopeo, containerd) take it as the image's name. */
        json_object_object_add(ann, "org.opencontainers.image.ref.name", json_object_new_string(name));
        json_object_object_add(ann, "io.containerd.image.name", json_object_new_string(name));
        return 0;
}

static int save_oci(struct save *sv, char **ret_error)
{
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        _cleanup_(json_object_putp) struct json_object *index = json_object_new_object();
        struct json_object *manifests = json_object_new_array(), *layers;
        const char *text;
        size_t len = 0;
        int r;

        if (!index || !manifests || json_object_object_add(index, "manifests", manifests) < 0)
                return json_object_put(manifests), -ENOMEM;
        json_object_object_add(index, "schemaVersion", json_object_new_int(2));
        if ((r = save_add_data(sv, "oci-layout", layout, strlen(layout), ret_error)) < 0)
                return r;
        for (size_t i = 0; i < sv->n; i++) {
                struct save_image *img = &sv->images[i];
                struct stat st;
                _cleanup_close_ int fd = store_blob_open(sv->s, rec_string(img->rec, "manifest"), ret_error);
                if (fd < 0 || fstat(fd, &st) < 0)
                        return fd < 0 ? fd : -errno;
                if ((r = save_blob(sv, rec_string(img->rec, "manifest"), ret_error)) < 0 ||
                    (r = save_blob(sv, img->id, ret_error)) < 0)
                        return r;
                layers = NULL;
                json_object_object_get_ex(img->rec, "layers", &layers);
                for (size_t j = 0; j < json_object_array_length(layers); j++)
                        if ((r = save_blob(sv, rec_string(json_object_array_get_idx(layers, j), "digest"),
                                           ret_error)) < 0)
                                return r;
                for (size_t j = 0; j < MAX(img->n_names, (size_t)1); j++)
                        if ((r = save_oci_entry(manifests, img, img->n_names ? img->names[j] : NULL, st.st_size)) < 0)
                                return r;
        }
        text = json_object_to_json_string_length(index, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        return text ? save_add_data(sv, "index.json", text, len, ret_error) : -ENOMEM;
}

/* Docker's format has uncompressed layers, named by DiffID. */
static int save_docker_layer(struct save *sv, struct json_object *layer, char path[100], char **ret_error)
{
        _cleanup_close_ int blob = -1, out = -1;
        const char *diff_id = rec_string(layer, "diff_id");
        char name[64], got[DIGEST_STRING_MAX];
        int r;

        if (!digest_valid(diff_id))
                return image_error(ret_error, -EINVAL, "corrupt image record");
        snprintf(path, 100, "%s/layer.tar", digest_hex(diff_id));
        if (save_written(sv, path))
                return 0;
        if ((blob = store_blob_open(sv->s, rec_string(layer, "digest"), ret_error)) < 0)
                return blob;
        store_txn_name(&sv->t, "layer", name);
        out = openat(sv->t.dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                return image_error(ret_error, -errno, "cannot write to the store: %m");
        if ((r = unpack_decompress(blob, out, 0, got, ret_error)) < 0)
                return r;
        if (strcmp(got, diff_id) != 0)
                return image_error(ret_error, -EBADMSG, "layer %s in the store is corrupt", diff_id);
        r = save_add_fd(sv, path, out, ret_error);
        unlinkat(sv->t.dir_fd, name, 0);
        return r;
}

static int save_docker_image(struct save *sv, struct save_image *img, struct json_object *entry, char **ret_error)
{
        struct json_object *layers = NULL, *paths = json_object_new_array(), *tags = json_object_new_array();
        char cfg[100], path[100];
        int r;

        if (!paths || !tags || json_object_object_add(entry, "Layers", paths) < 0 ||
            json_object_object_add(entry, "RepoTags", tags) < 0)
                return -ENOMEM;
        snprintf(cfg, sizeof(cfg), "%s.json", digest_hex(img->id));
        json_object_object_add(entry, "Config", json_object_new_string(cfg));
        for (size_t j = 0; j < img->n_names; j++)
                if (!strchr(img->names[j], '@'))
                        json_object_array_add(tags, json_object_new_string(img->names[j]));
        if (!save_written(sv, cfg)) {
                _cleanup_close_ int fd = store_blob_open(sv->s, img->id, ret_error);
                if (fd < 0 || (r = save_add_fd(sv, cfg, fd, ret_error)) < 0)
                        return fd < 0 ? fd : r;
        }
        json_object_object_get_ex(img->rec, "layers", &layers);
        for (size_t j = 0; j < json_object_array_length(layers); j++) {
                if ((r = save_docker_layer(sv, json_object_array_get_idx(layers, j), path, ret_error)) < 0)
                        return r;
                json_object_array_add(paths, json_object_new_string(path));
        }
        return 0;
}

static int save_docker(struct save *sv, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *list = json_object_new_array();
        const char *text;
        size_t len = 0;
        int r;

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < sv->n; i++) {
                struct json_object *entry = json_object_new_object();
                if (!entry || json_object_array_add(list, entry) < 0)
                        return json_object_put(entry), -ENOMEM;
                if ((r = save_docker_image(sv, &sv->images[i], entry, ret_error)) < 0)
                        return r;
        }
        text = json_object_to_json_string_length(list, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        return text ? save_add_data(sv, "manifest.json", text, len, ret_error) : -ENOMEM;
}

/* The names an image goes out under: the one the user gave, or all of them when it was named by id. */
static int save_collect(struct save *sv, struct json_object *meta, const char *ref, char **ret_error)
{
        _cleanup_(image_ref_freep) struct image_ref *parsed = NULL;
        struct save_image *img = &sv->images[sv->n];
        const char *id;
        int r;

        if ((r = store_resolve(meta, ref, &id, ret_error)) < 0)
                return r;
        img->id = strdup(id);
        img->rec = json_object_get(store_meta_image(meta, id));
        sv->n++;
        if (!img->id)
                return -ENOMEM;
        if (strncmp(ref, "sha256:", 7) != 0 && image_ref_parse(ref, &parsed, NULL) >= 0) {
                _cleanup_free_ char *canon = image_ref_string(parsed);
                struct json_object *names, *v;
                json_object_object_get_ex(meta, "names", &names);
                if (canon && json_object_object_get_ex(names, canon, &v) && strcmp(json_object_get_string(v), id) == 0)
                        return strv_push(&img->names, &img->n_names, canon);
        }
        if ((r = store_names_of(meta, id, &img->names)) < 0)
                return r;
        while (img->names[img->n_names])
                img->n_names++;
        return 0;
}

static void save_free(struct save *sv)
{
        for (size_t i = 0; i < sv->n; i++) {
                free(sv->images[i].id);
                json_object_put(sv->images[i].rec);
                strv_free(sv->images[i].names);
        }
        free(sv->images);
        json_object_put(sv->written);
        if (sv->a)
                archive_write_free(sv->a);
        if (sv->t.s)
                store_txn_end(&sv->t);
}

static int save_write(struct save *sv, int fd, enum image_archive_format format, char **ret_error)
{
        int r;

        sv->a = archive_write_new();
        sv->written = json_object_new_object();
        if (!sv->a || !sv->written)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(sv->a) != ARCHIVE_OK ||
            archive_write_open_fd(sv->a, fd) != ARCHIVE_OK)
                return image_error(ret_error, -EIO, "cannot write the archive: %s", archive_error_string(sv->a));
        r = format == IMAGE_ARCHIVE_OCI ? save_oci(sv, ret_error) : save_docker(sv, ret_error);
        if (r >= 0 && archive_write_close(sv->a) != ARCHIVE_OK)
                r = image_error(ret_error, -EIO, "cannot write the archive: %s", archive_error_string(sv->a));
        return r;
}

int image_store_save(struct image_store *s, char **refs, const char *path, enum image_archive_format format,
                     char **ret_error)
{
        _cleanup_(save_free) struct save sv = { .s = s };
        _cleanup_(json_object_putp) struct json_object *meta = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t n = 0;
        int r;

        while (refs && refs[n])
                n++;
        if (n == 0 || n > LOAD_MAX_IMAGES)
                return image_error(ret_error, -EINVAL, "name between 1 and %d images to save", LOAD_MAX_IMAGES);
        if (!(sv.images = calloc(n, sizeof(*sv.images))))
                return -ENOMEM;
        /* The transaction's hold on gc.lock keeps the blobs from going while they are copied out. */
        if ((r = store_txn_begin(s, &sv.t, ret_error)) < 0 || (r = store_meta_load(s, &meta, ret_error)) < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if ((r = save_collect(&sv, meta, refs[i], ret_error)) < 0)
                        return r;
        if (asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return image_error(ret_error, -errno, "cannot create %s: %m", tmp);
        r = save_write(&sv, fd, format, ret_error);
        if (r >= 0 && fsync(fd) < 0)
                r = image_error(ret_error, -errno, "cannot write %s: %m", path);
        if (r >= 0 && rename(tmp, path) < 0)
                r = image_error(ret_error, -errno, "cannot rename %s to %s: %m", tmp, path);
        if (r < 0)
                unlink(tmp);
        return r;
}
