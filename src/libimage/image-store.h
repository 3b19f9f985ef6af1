/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The image store: what hyperd and hyper-image build on. Images come in
 * by pull or load, leave by save, and live under one root folder (by
 * default /var/lib/hyper): blobs by digest, each layer unpacked once and
 * shared, and one metadata file, images.json, whose atomic replacement is
 * the commit point of every change. docs/image-store.md has the layout.
 *
 * Every function that can fail returns a negative errno and, when
 * ret_error is not NULL, a message for the user in *ret_error (to free).
 * An image is named by a reference ("busybox", "host:5000/a/b:tag",
 * "name@sha256:...") or by its id (the config digest, or 12 or more of its
 * hex digits).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"
#include "manifest.h"
#include "progress.h"

#define IMAGE_STORE_DEFAULT_ROOT "/var/lib/hyper"

struct image_store;

/* Opens (making it if needed) the store under root; NULL means IMAGE_STORE_DEFAULT_ROOT. */
int image_store_open(const char *root, struct image_store **ret, char **ret_error);
void image_store_close(struct image_store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct image_store *, image_store_close)
const char *image_store_root(const struct image_store *s);

struct image_pull_options {
        bool insecure;         /* plain HTTP (also for registries listed in ROOT/registries.json) */
        const char *auth_file; /* Docker config.json; NULL: ROOT/auth.json when it exists */
        const char *os, *arch, *variant; /* platform to pick from an index; NULL: the host's */
        unsigned max_parallel; /* concurrent downloads; 0: 4 */
        struct progress *progress; /* NULL: none */
};

/* Pulls ref and tags it; *ret_id (when not NULL) gets the image id. */
int image_store_pull(struct image_store *s, const char *ref, const struct image_pull_options *o, char **ret_id,
                     char **ret_error);

enum image_archive_format {
        IMAGE_ARCHIVE_DOCKER, /* `docker save`: manifest.json, <config>.json, <layer>/layer.tar */
        IMAGE_ARCHIVE_OCI,    /* an OCI image layout in a tar (an "OCI archive") */
};

/*
 * Loads a `docker save` archive, an OCI archive (tar, optionally
 * compressed) or an OCI image layout folder. *ret_loaded gets one line per
 * image: "ID NAME" (NAME empty when the archive gave none).
 */
int image_store_load(struct image_store *s, const char *path, char ***ret_loaded, char **ret_error);
/* Writes the images named by refs (NULL-terminated) to path, atomically. */
int image_store_save(struct image_store *s, char **refs, const char *path, enum image_archive_format format,
                     char **ret_error);

int image_store_tag(struct image_store *s, const char *src, const char *dst, char **ret_error);

struct image_summary {
        char *id;
        char **names; /* tags and digests that point at it */
        int64_t created;
        uint64_t size; /* the sum of its layers' blob sizes */
        size_t n_layers;
};
int image_store_list(struct image_store *s, struct image_summary **ret, size_t *ret_n, char **ret_error);
void image_summary_free_array(struct image_summary *a, size_t n);

/* Id, names, manifest, layers and the image config (Entrypoint, Cmd, Env, ...), as a JSON object. */
int image_store_inspect(struct image_store *s, const char *ref, struct json_object **ret, char **ret_error);
/* What a runtime needs to start a container of the image. */
int image_store_config(struct image_store *s, const char *ref, char **ret_id, struct image_config **ret,
                       char **ret_error);
/* The unpacked layer folders of the image, lowest first. */
int image_store_layer_dirs(struct image_store *s, const char *ref, char ***ret_dirs, char **ret_error);

/*
 * Removes a name; an image left with no name goes, and so do its blobs
 * and layers that no other image uses. Removing by id removes every name.
 * Refused while a container's rootfs uses the image.
 */
int image_store_remove(struct image_store *s, const char *ref, char **ret_error);
/* Deletes blobs and layers no image uses, and leftovers of interrupted pulls. */
int image_store_gc(struct image_store *s, char **ret_error);
