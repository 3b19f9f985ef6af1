/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A client of the Docker Registry HTTP API v2 (the OCI distribution
 * spec), on libcurl: manifests and small blobs in memory, layers to files
 * in parallel, resumed with Range where the registry allows and verified
 * against their digests. Authenticates as the registry's WWW-Authenticate
 * challenge asks: a bearer token from the realm it names, or basic auth,
 * with credentials from a Docker-format config.json ("auths").
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"
#include "reference.h"

#define REGISTRY_MAX_PARALLEL 16
#define REGISTRY_TOKEN_MAX_SIZE (1u << 20)
#define REGISTRY_RETRIES 3

struct registry_options {
        bool insecure;         /* plain HTTP: only for registries the user marked so */
        const char *auth_file; /* Docker config.json with "auths"; NULL: anonymous */
        unsigned max_parallel; /* concurrent blob downloads; 0: 4 */
};

struct registry;

int registry_new(const struct image_ref *ref, const struct registry_options *o, struct registry **ret,
                 char **ret_error);
void registry_free(struct registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct registry *, registry_free)

/*
 * Fetches a manifest or index by tag or digest (max MANIFEST_MAX_SIZE);
 * checked against reference when it is a digest.
 */
int registry_get_manifest(struct registry *r, const char *reference, char **ret_data, size_t *ret_len,
                          char **ret_content_type, char **ret_error);
/* Fetches a small blob (an image config) into memory, verified against its digest. */
int registry_get_blob(struct registry *r, const char *digest, size_t max, char **ret_data, size_t *ret_len,
                      char **ret_error);

struct registry_blob {
        const char *digest;
        int64_t size;
        int dir_fd;       /* the partial download is dir_fd/name; what is there already is resumed */
        const char *name;
        int result;       /* 0, or a negative errno with error set */
        char *error;
};

/* Called on the caller's thread as bytes arrive, and once per blob when it is complete and verified (or failed). */
typedef void (*registry_progress_fn)(void *userdata, size_t index, uint64_t done, uint64_t total);
typedef void (*registry_done_fn)(void *userdata, size_t index, int result);

/* Downloads all blobs; returns the first failure, and each blob's own result in blobs[i]. */
int registry_fetch_blobs(struct registry *r, struct registry_blob *blobs, size_t n, registry_progress_fn progress,
                         registry_done_fn done, void *userdata, char **ret_error);

/* Credentials for host from a Docker config.json: "user:password", or -ENOENT. */
int registry_auth_lookup(const char *auth_file, const char *domain, char **ret_userpass, char **ret_error);
/*
 * Parses a WWW-Authenticate value: scheme ("Bearer", "Basic") and the
 * realm, service and scope parameters (NULL when absent).
 */
int registry_parse_challenge(const char *value, char **ret_scheme, char **ret_realm, char **ret_service,
                             char **ret_scope);
