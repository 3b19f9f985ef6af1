/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What pull.c, archive.c and rootfs.c share with store.c. */

#include <json-c/json.h>

#include "image-store.h"
#include "image-util.h"
#include "manifest.h"

struct image_store {
        char *root;
        int root_fd;
        int blobs_fd;  /* blobs/sha256: manifests, configs and layer blobs, named by digest */
        int layers_fd; /* layers/sha256: unpacked layers, named by DiffID */
        int tmp_fd;    /* tmp: one folder per pull or load in progress */
        int rootfs_fd; /* rootfs: one folder per container rootfs */
};

/*
 * A pull or a load in progress: its own folder under tmp/, and a shared
 * hold on gc.lock so that a garbage collection (which takes it
 * exclusively) never deletes a blob or layer staged for an image that is
 * not committed yet.
 */
struct store_txn {
        struct image_store *s;
        int lock_fd;
        int dir_fd;
        char name[40];
        unsigned counter;
};

int store_txn_begin(struct image_store *s, struct store_txn *t, char **ret_error);
void store_txn_end(struct store_txn *t);
/* A fresh name in the transaction's folder. */
void store_txn_name(struct store_txn *t, const char *prefix, char ret[64]);

bool store_blob_exists(struct image_store *s, const char *digest);
/* Stores data as the blob digest, after checking that it is. */
int store_blob_put(struct image_store *s, const char *digest, const void *data, size_t len, char **ret_error);
/* Moves an already verified and synced file dirfd/name in as blob digest. */
int store_blob_adopt(struct image_store *s, int dirfd, const char *name, const char *digest, char **ret_error);
/*
 * Copies fd into the store as a blob, hashing as it goes; with want set,
 * anything else is refused. ret_digest (may be NULL) gets the digest.
 */
int store_blob_import(struct store_txn *t, int fd, const char *want, uint64_t max, char ret_digest[DIGEST_STRING_MAX],
                      uint64_t *ret_size, char **ret_error);
int store_blob_open(struct image_store *s, const char *digest, char **ret_error);
/* Reads a small blob and checks its digest again (the disk is not trusted to keep it). */
int store_blob_read(struct image_store *s, const char *digest, size_t max, char **ret_data, size_t *ret_len,
                    char **ret_error);

bool store_layer_exists(struct image_store *s, const char *diff_id);
/* Unpacks blob into the transaction's folder, checks its DiffID, and moves it into layers/. */
int store_layer_unpack(struct store_txn *t, const char *blob_digest, const char *diff_id, char **ret_error);
char *store_layer_path(struct image_store *s, const char *diff_id);

/* An image ready to commit: every blob and layer it names is in the store. */
struct store_image {
        const char *manifest_digest;
        const char *manifest_media_type;
        const struct image_manifest *manifest;
        const struct image_config *config;
        char **names; /* canonical references to point at it */
};
int store_commit(struct image_store *s, const struct store_image *img, char **ret_error);

/* images.json, under the metadata lock (held by the fd that *ret_lock_fd gets). */
int store_meta_lock(struct image_store *s, int *ret_lock_fd, char **ret_error);
int store_meta_load(struct image_store *s, struct json_object **ret, char **ret_error);
int store_meta_save(struct image_store *s, struct json_object *meta, char **ret_error);
/* Finds the image named by ref (a reference or an id) in meta. */
int store_resolve(struct json_object *meta, const char *ref, const char **ret_id, char **ret_error);
struct json_object *store_meta_image(struct json_object *meta, const char *id);
/* True when a container rootfs uses the image. */
bool store_image_in_use(struct image_store *s, const char *id);
/* Unpacks every layer of the image that is not unpacked yet (pull and load share this). */
int store_unpack_layers(struct store_txn *t, const struct image_manifest *m, const struct image_config *c,
                        struct progress *p, char **ret_error);
/* gc.lock, exclusively; -EWOULDBLOCK while a pull or load is staging. */
int store_gc_lock(struct image_store *s, int *ret_fd);
int store_remove_tmp(struct image_store *s, const char *name);

/* Unpacking that starts before all blobs are in: pull marks each layer ready when its blob is stored. */
struct unpack_pipe;
int unpack_pipe_start(struct store_txn *t, const struct image_manifest *m, const struct image_config *c,
                      struct progress *p, struct unpack_pipe **ret, char **ret_error);
void unpack_pipe_ready(struct unpack_pipe *u, size_t index);
/* Waits for the workers; every layer must have been made ready (or the first failure is returned). */
int unpack_pipe_finish(struct unpack_pipe *u, char **ret_error);
/* Every name in meta that points at id, as a NULL-terminated vector. */
int store_names_of(struct json_object *meta, const char *id, char ***ret);
