/* SPDX-License-Identifier: Apache-2.0 */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <string.h>

#include "image-util.h"
#include "json-util.h"

static void descriptor_clear(struct image_descriptor *d)
{
        free(d->media_type);
        free(d->digest);
        free(d->os);
        free(d->architecture);
        free(d->variant);
        free(d->ref_name);
        memset(d, 0, sizeof(*d));
}

static int dup_optional(struct json_object *o, const char *key, char **ret)
{
        const char *s;
        int r = json_get_string(o, key, &s);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int descriptor_platform(struct json_object *o, struct image_descriptor *d)
{
        struct json_object *p;
        int r;

        if (!json_object_object_get_ex(o, "platform", &p) || !p)
                return 0;
        if (!json_object_is_type(p, json_type_object))
                return -EINVAL;
        r = dup_optional(p, "os", &d->os);
        if (r >= 0)
                r = dup_optional(p, "architecture", &d->architecture);
        if (r >= 0)
                r = dup_optional(p, "variant", &d->variant);
        return r;
}

static int descriptor_parse(struct json_object *o, const char *what, struct image_descriptor *d, char **ret_error)
{
        struct json_object *ann;
        const char *digest;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return image_error(ret_error, -EINVAL, "%s is not an object", what);
        r = json_get_string(o, "digest", &digest);
        if (r < 0 || !digest_valid(digest))
                return image_error(ret_error, -EINVAL, "%s has no valid sha256 digest", what);
        r = json_get_int(o, "size", 0, (int64_t)BLOB_MAX_SIZE, &d->size);
        if (r < 0)
                return image_error(ret_error, -EINVAL, "%s has no valid size", what);
        d->digest = strdup(digest);
        if (!d->digest)
                return -ENOMEM;
        r = dup_optional(o, "mediaType", &d->media_type);
        if (r < 0)
                return image_error(ret_error, r, "%s has an invalid mediaType", what);
        r = descriptor_platform(o, d);
        if (r < 0)
                return image_error(ret_error, r, "%s has an invalid platform", what);
        if (json_object_object_get_ex(o, "annotations", &ann) && json_object_is_type(ann, json_type_object))
                r = dup_optional(ann, "org.opencontainers.image.ref.name", &d->ref_name);
        return r < 0 ? image_error(ret_error, r, "%s has invalid annotations", what) : 0;
}

/* Parses the array under key into descriptors, at most max of them. */
static int descriptor_array(struct json_object *o, const char *key, size_t max, struct image_descriptor **ret,
                            size_t *ret_n, char **ret_error)
{
        struct json_object *a;
        size_t n;
        int r;

        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
                return image_error(ret_error, -EINVAL, "no \"%s\" array", key);
        n = json_object_array_length(a);
        if (n > max)
                return image_error(ret_error, -E2BIG, "%zu %s, more than the %zu allowed", n, key, max);
        *ret = calloc(n ? n : 1, sizeof(**ret));
        if (!*ret)
                return -ENOMEM;
        *ret_n = n;
        for (size_t i = 0; i < n; i++) {
                char what[64];
                snprintf(what, sizeof(what), "%s[%zu]", key, i);
                r = descriptor_parse(json_object_array_get_idx(a, i), what, &(*ret)[i], ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int doc_parse(const char *data, size_t len, size_t max, struct json_object **ret, char **ret_error)
{
        int r;

        if (len > max)
                return image_error(ret_error, -E2BIG, "document of %zu bytes, more than the %zu allowed", len, max);
        r = json_parse_object(data, len, ret);
        if (r < 0)
                return image_error(ret_error, r, "not a JSON object");
        return 0;
}

static int schema_version_2(struct json_object *o, char **ret_error)
{
        int64_t v;

        if (json_get_int(o, "schemaVersion", 0, 100, &v) < 0 || v != 2)
                return image_error(ret_error, -EPROTONOSUPPORT,
                                   "unsupported schemaVersion (only schema 2 manifests and OCI documents)");
        return 0;
}

enum manifest_kind manifest_kind(const char *content_type, const char *data, size_t len)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        struct json_object *v;
        const char *mt = content_type;

        if (!mt || (strcmp(mt, MEDIA_DOCKER_MANIFEST) != 0 && strcmp(mt, MEDIA_OCI_MANIFEST) != 0 &&
                    strcmp(mt, MEDIA_DOCKER_LIST) != 0 && strcmp(mt, MEDIA_OCI_INDEX) != 0)) {
                if (len > MANIFEST_MAX_SIZE || json_parse_object(data, len, &o) < 0)
                        return MANIFEST_KIND_UNKNOWN;
                if (json_get_string(o, "mediaType", &mt) < 0) {
                        if (json_object_object_get_ex(o, "manifests", &v))
                                return MANIFEST_KIND_INDEX;
                        if (json_object_object_get_ex(o, "layers", &v))
                                return MANIFEST_KIND_IMAGE;
                        return MANIFEST_KIND_UNKNOWN;
                }
        }
        if (strcmp(mt, MEDIA_DOCKER_MANIFEST) == 0 || strcmp(mt, MEDIA_OCI_MANIFEST) == 0)
                return MANIFEST_KIND_IMAGE;
        if (strcmp(mt, MEDIA_DOCKER_LIST) == 0 || strcmp(mt, MEDIA_OCI_INDEX) == 0)
                return MANIFEST_KIND_INDEX;
        return MANIFEST_KIND_UNKNOWN;
}

bool media_type_is_layer(const char *mt)
{
        /* Non-distributable ("foreign") layers live elsewhere; the registry may still serve them. */
        return mt && (strncmp(mt, "application/vnd.oci.image.layer.", 32) == 0 ||
                      strncmp(mt, "application/vnd.docker.image.rootfs.", 36) == 0);
}

int image_manifest_parse(const char *data, size_t len, struct image_manifest **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(image_manifest_freep) struct image_manifest *m = NULL;
        struct json_object *cfg;
        int r;

        r = doc_parse(data, len, MANIFEST_MAX_SIZE, &o, ret_error);
        if (r < 0 || (r = schema_version_2(o, ret_error)) < 0)
                return image_error(ret_error, r, "invalid manifest");
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        r = dup_optional(o, "mediaType", &m->media_type);
        if (r < 0)
                return image_error(ret_error, r, "invalid manifest mediaType");
        if (m->media_type && manifest_kind(m->media_type, NULL, 0) != MANIFEST_KIND_IMAGE)
                return image_error(ret_error, -EINVAL, "manifest has mediaType %s", m->media_type);
        if (!json_object_object_get_ex(o, "config", &cfg))
                return image_error(ret_error, -EINVAL, "manifest has no config");
        r = descriptor_parse(cfg, "config", &m->config, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "invalid manifest");
        if (m->config.size > CONFIG_MAX_SIZE)
                return image_error(ret_error, -E2BIG, "image config of %" PRId64 " bytes is too large", m->config.size);
        r = descriptor_array(o, "layers", MANIFEST_MAX_LAYERS, &m->layers, &m->n_layers, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "invalid manifest");
        for (size_t i = 0; i < m->n_layers; i++)
                if (m->layers[i].media_type && !media_type_is_layer(m->layers[i].media_type))
                        return image_error(ret_error, -EPROTONOSUPPORT, "layer %zu has unsupported mediaType %s", i,
                                           m->layers[i].media_type);
        *ret = TAKE_PTR(m);
        return 0;
}

void image_manifest_free(struct image_manifest *m)
{
        if (!m)
                return;
        free(m->media_type);
        descriptor_clear(&m->config);
        for (size_t i = 0; m->layers && i < m->n_layers; i++)
                descriptor_clear(&m->layers[i]);
        free(m->layers);
        free(m);
}

int image_index_parse(const char *data, size_t len, struct image_index **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(image_index_freep) struct image_index *idx = NULL;
        int r;

        r = doc_parse(data, len, MANIFEST_MAX_SIZE, &o, ret_error);
        if (r < 0 || (r = schema_version_2(o, ret_error)) < 0)
                return image_error(ret_error, r, "invalid index");
        idx = calloc(1, sizeof(*idx));
        if (!idx)
                return -ENOMEM;
        r = dup_optional(o, "mediaType", &idx->media_type);
        if (r < 0)
                return image_error(ret_error, r, "invalid index mediaType");
        r = descriptor_array(o, "manifests", INDEX_MAX_MANIFESTS, &idx->manifests, &idx->n_manifests, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "invalid index");
        *ret = TAKE_PTR(idx);
        return 0;
}

void image_index_free(struct image_index *idx)
{
        if (!idx)
                return;
        free(idx->media_type);
        for (size_t i = 0; idx->manifests && i < idx->n_manifests; i++)
                descriptor_clear(&idx->manifests[i]);
        free(idx->manifests);
        free(idx);
}

static bool streq_null(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

/*
 * The first entry for os/arch whose variant matches; without a wanted
 * variant, one with no variant is preferred over the first with any.
 */
int image_index_pick(const struct image_index *idx, const char *os, const char *arch, const char *variant,
                     const struct image_descriptor **ret, char **ret_error)
{
        const struct image_descriptor *found = NULL;
        char seen[512] = "";

        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct image_descriptor *d = &idx->manifests[i];
                size_t n = strlen(seen);

                if (n + 80 < sizeof(seen))
                        snprintf(seen + n, sizeof(seen) - n, "%s%.30s/%.30s", n ? ", " : "",
                                 d->os ? d->os : "?", d->architecture ? d->architecture : "?");
                if (!streq_null(d->os, os) || !streq_null(d->architecture, arch))
                        continue;
                if (d->media_type && manifest_kind(d->media_type, NULL, 0) != MANIFEST_KIND_IMAGE)
                        continue;
                if (variant ? streq_null(d->variant, variant) : !d->variant) {
                        *ret = d;
                        return 0;
                }
                if (!found && !variant)
                        found = d;
        }
        if (!found)
                return image_error(ret_error, -ENOENT, "no manifest for %s/%s in the index (it has: %s)", os, arch,
                                   seen[0] ? seen : "nothing");
        *ret = found;
        return 0;
}

/* An array of strings under key in o, or NULL when absent or null. */
static int config_strv(struct json_object *o, const char *key, char ***ret)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        return json_get_strv(o, key, CONFIG_MAX_STRINGS, ret);
}

/* The keys of the object under key ("80/tcp": {}), or NULL when absent or null. */
static int config_keys(struct json_object *o, const char *key, char ***ret)
{
        _cleanup_(strv_freep) char **v = NULL;
        struct json_object *obj;
        size_t n = 0;
        int r;

        if (!json_object_object_get_ex(o, key, &obj) || !obj)
                return 0;
        if (!json_object_is_type(obj, json_type_object))
                return -EINVAL;
        if (json_object_object_length(obj) > CONFIG_MAX_STRINGS)
                return -E2BIG;
        json_object_object_foreach(obj, k, val)
        {
                (void)val;
                r = strv_push(&v, &n, k);
                if (r < 0)
                        return r;
        }
        if (!v) {
                v = calloc(1, sizeof(char *));
                if (!v)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static int config_parse_container(struct json_object *o, struct image_config *c, char **ret_error)
{
        struct json_object *cfg;
        int r;

        if (!json_object_object_get_ex(o, "config", &cfg) || !cfg)
                return 0;
        if (!json_object_is_type(cfg, json_type_object))
                return image_error(ret_error, -EINVAL, "image config: \"config\" is not an object");
        if ((r = config_strv(cfg, "Entrypoint", &c->entrypoint)) < 0)
                return image_error(ret_error, r, "image config: invalid Entrypoint");
        if ((r = config_strv(cfg, "Cmd", &c->cmd)) < 0)
                return image_error(ret_error, r, "image config: invalid Cmd");
        if ((r = config_strv(cfg, "Env", &c->env)) < 0)
                return image_error(ret_error, r, "image config: invalid Env");
        if ((r = dup_optional(cfg, "WorkingDir", &c->working_dir)) < 0)
                return image_error(ret_error, r, "image config: invalid WorkingDir");
        if ((r = dup_optional(cfg, "User", &c->user)) < 0)
                return image_error(ret_error, r, "image config: invalid User");
        if ((r = dup_optional(cfg, "StopSignal", &c->stop_signal)) < 0)
                return image_error(ret_error, r, "image config: invalid StopSignal");
        if ((r = config_keys(cfg, "ExposedPorts", &c->exposed_ports)) < 0)
                return image_error(ret_error, r, "image config: invalid ExposedPorts");
        if ((r = config_keys(cfg, "Volumes", &c->volumes)) < 0)
                return image_error(ret_error, r, "image config: invalid Volumes");
        return 0;
}

static int config_parse_rootfs(struct json_object *o, struct image_config *c, char **ret_error)
{
        struct json_object *rootfs;
        const char *type;
        int r;

        if (!json_object_object_get_ex(o, "rootfs", &rootfs) || json_get_string(rootfs, "type", &type) < 0 ||
            strcmp(type, "layers") != 0)
                return image_error(ret_error, -EINVAL, "image config: no rootfs of type \"layers\"");
        r = json_get_strv(rootfs, "diff_ids", MANIFEST_MAX_LAYERS, &c->diff_ids);
        if (r < 0)
                return image_error(ret_error, r, "image config: invalid rootfs.diff_ids (at most %d)",
                                   MANIFEST_MAX_LAYERS);
        for (c->n_diff_ids = 0; c->diff_ids[c->n_diff_ids]; c->n_diff_ids++)
                if (!digest_valid(c->diff_ids[c->n_diff_ids]))
                        return image_error(ret_error, -EINVAL, "image config: diff_id %zu is not a sha256 digest",
                                           c->n_diff_ids);
        return 0;
}

int image_config_parse(const char *data, size_t len, struct image_config **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(image_config_freep) struct image_config *c = NULL;
        int r;

        r = doc_parse(data, len, CONFIG_MAX_SIZE, &o, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "invalid image config");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if ((r = dup_optional(o, "architecture", &c->architecture)) < 0 || (r = dup_optional(o, "os", &c->os)) < 0 ||
            (r = dup_optional(o, "variant", &c->variant)) < 0)
                return image_error(ret_error, r, "image config: invalid platform");
        r = config_parse_container(o, c, ret_error);
        if (r < 0)
                return r;
        r = config_parse_rootfs(o, c, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

void image_config_free(struct image_config *c)
{
        if (!c)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        strv_free(c->diff_ids);
        free(c);
}

const char *image_host_arch(void)
{
        static const struct {
                const char *machine, *goarch;
        } map[] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" },     { "armv7l", "arm" },
                { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
        };
        struct utsname u;

        if (uname(&u) == 0)
                for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                        if (strcmp(u.machine, map[i].machine) == 0)
                                return map[i].goarch;
        return "amd64";
}
