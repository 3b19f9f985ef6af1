/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Helpers every file of libimage shares: error messages for the user,
 * sha256 digests in their "sha256:<hex>" form, and small string vectors.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

/* "sha256:" and 64 hex digits, with the NUL. */
#define DIGEST_STRING_MAX 72

/*
 * Sets *ret_error to the formatted message unless a message is already
 * there (the innermost failure says the most), and returns r, which must
 * be a negative errno.
 */
int image_error(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

/* True for "sha256:" followed by exactly 64 lowercase hex digits. */
bool digest_valid(const char *d);
/* The hex part of a valid digest. */
const char *digest_hex(const char *d);
/* The digest of a buffer, as "sha256:<hex>". */
int digest_buffer(const void *p, size_t n, char ret[DIGEST_STRING_MAX]);

/* A running sha256 over streamed bytes. */
struct digester;
int digester_new(struct digester **ret);
int digester_update(struct digester *d, const void *p, size_t n);
/* Writes "sha256:<hex>" of what was fed so far; the digester may not be fed again. */
int digester_final(struct digester *d, char ret[DIGEST_STRING_MAX]);
/* Copies the state of src, so that a resumed download can go on from it. */
int digester_copy(struct digester *dst, const struct digester *src);
void digester_free(struct digester *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct digester *, digester_free)

/* The digest of everything left to read in fd. */
int digest_fd(int fd, char ret[DIGEST_STRING_MAX], uint64_t *ret_size);
/* Copies in to out (none when out is -1), hashing and counting; -EFBIG past max bytes. */
int digest_copy(int in, int out, uint64_t max, char ret[DIGEST_STRING_MAX], uint64_t *ret_size);

/* Appends a copy of s to a NULL-terminated vector. */
int strv_push(char ***v, size_t *n, const char *s);
bool strv_contains(char **v, const char *s);

/* 32 random hex digits, for names of temporary and container folders. */
int random_hex_id(char ret[33]);

/* Writes data to dirfd/name atomically: a temporary name, fsync, rename, fsync of the folder. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, unsigned mode);
/* fsync() of a folder, so that a rename in it is on disk. */
int fsync_dir(int dirfd);
