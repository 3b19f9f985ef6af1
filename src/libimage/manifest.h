/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Registry documents, all outside input: image manifests (Docker schema2
 * and OCI), manifest lists and OCI indexes, and image configs. Parsers
 * validate every field they keep and bound everything they allocate.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MEDIA_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MEDIA_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MEDIA_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

/* Bounds on what a registry or an archive can make us allocate. */
#define MANIFEST_MAX_SIZE (4u * 1024u * 1024u)
#define CONFIG_MAX_SIZE (16u * 1024u * 1024u)
#define MANIFEST_MAX_LAYERS 256
#define INDEX_MAX_MANIFESTS 1024
#define CONFIG_MAX_STRINGS 65536
#define BLOB_MAX_SIZE (64ull * 1024 * 1024 * 1024)

struct image_descriptor {
        char *media_type;
        char *digest;
        int64_t size;
        char *os, *architecture, *variant; /* from "platform", in indexes only */
        char *ref_name;                    /* org.opencontainers.image.ref.name, in OCI layouts */
};

enum manifest_kind {
        MANIFEST_KIND_UNKNOWN,
        MANIFEST_KIND_IMAGE, /* Docker schema2 or OCI manifest */
        MANIFEST_KIND_INDEX, /* manifest list or OCI index */
};

struct image_manifest {
        char *media_type;
        struct image_descriptor config;
        struct image_descriptor *layers;
        size_t n_layers;
};

struct image_index {
        char *media_type;
        struct image_descriptor *manifests;
        size_t n_manifests;
};

struct image_config {
        char *architecture, *os, *variant;
        char **entrypoint, **cmd, **env; /* NULL when unset */
        char *working_dir, *user, *stop_signal;
        char **exposed_ports, **volumes; /* the keys of those objects */
        char **diff_ids;
        size_t n_diff_ids;
};

/* Tells a manifest from an index, by the Content-Type when given, else by the document's own mediaType or shape. */
enum manifest_kind manifest_kind(const char *content_type, const char *data, size_t len);

int image_manifest_parse(const char *data, size_t len, struct image_manifest **ret, char **ret_error);
void image_manifest_free(struct image_manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct image_manifest *, image_manifest_free)

int image_index_parse(const char *data, size_t len, struct image_index **ret, char **ret_error);
void image_index_free(struct image_index *idx);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct image_index *, image_index_free)
/* The manifest for os/arch (and variant, if not NULL); -ENOENT with a message listing what there is. */
int image_index_pick(const struct image_index *idx, const char *os, const char *arch, const char *variant,
                     const struct image_descriptor **ret, char **ret_error);

int image_config_parse(const char *data, size_t len, struct image_config **ret, char **ret_error);
void image_config_free(struct image_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct image_config *, image_config_free)

/* The platform this host runs: "linux" and GOARCH names ("amd64", "arm64"). */
const char *image_host_arch(void);

bool media_type_is_layer(const char *mt);
