/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Image references as Docker spells them: [DOMAIN/]PATH[:TAG][@DIGEST],
 * with Docker's defaults (docker.io, library/ for one-word names on
 * docker.io, and :latest when neither a tag nor a digest is given).
 */

#include "macros.h"

#define IMAGE_REF_MAX_NAME 255
#define IMAGE_REF_MAX_TAG 128

struct image_ref {
        char *domain; /* "docker.io", "127.0.0.1:5000" */
        char *path;   /* "library/busybox" */
        char *tag;    /* NULL when only a digest was given */
        char *digest; /* "sha256:<hex>" or NULL */
};

int image_ref_parse(const char *s, struct image_ref **ret, char **ret_error);
void image_ref_free(struct image_ref *ref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct image_ref *, image_ref_free)

/* "domain/path" */
char *image_ref_name(const struct image_ref *ref);
/* The canonical form: "domain/path:tag", or "domain/path@digest" when a digest was given. */
char *image_ref_string(const struct image_ref *ref);
/* The host to talk to: registry-1.docker.io for docker.io, the domain otherwise. */
const char *image_ref_registry_host(const struct image_ref *ref);
