/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Unpacks a layer (a tar, uncompressed or compressed with gzip or zstd)
 * into a folder, safely: every entry is created relative to the folder's
 * fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no path, link
 * or earlier entry can make a write land outside it. What is refused, and
 * why, is in docs/image-store.md.
 */

#include <stdbool.h>
#include <stdint.h>

#include "image-util.h"

/* Defaults for the bounds on what one layer can make us write. */
#define UNPACK_MAX_BYTES (32ull * 1024 * 1024 * 1024)
#define UNPACK_MAX_RATIO 200ull
#define UNPACK_RATIO_FLOOR (64ull * 1024 * 1024)
#define UNPACK_MAX_ENTRIES 2000000ull

struct unpack_options {
        /* Turn OCI whiteouts into overlayfs ones (layers); keep them as plain files otherwise. */
        bool whiteouts;
        /*
         * An archive of files rather than a layer (docker save, OCI archives):
         * folders, regular files and symlinks only, owned by root, no xattrs.
         */
        bool plain;
        uint64_t max_bytes;   /* uncompressed tar bytes; 0: UNPACK_MAX_BYTES */
        uint64_t max_ratio;   /* uncompressed / compressed beyond UNPACK_RATIO_FLOOR; 0: UNPACK_MAX_RATIO */
        uint64_t max_entries; /* 0: UNPACK_MAX_ENTRIES */
};

struct unpack_result {
        char diff_id[DIGEST_STRING_MAX]; /* sha256 of the uncompressed tar: the layer's DiffID */
        uint64_t bytes;                  /* uncompressed tar bytes */
        uint64_t entries;
};

/* Reads the layer from fd (from its current offset) into the folder root_fd. */
int unpack_layer(int fd, int root_fd, const struct unpack_options *o, struct unpack_result *ret, char **ret_error);

/*
 * Writes the uncompressed tar of a (possibly compressed) layer from fd to
 * out_fd, and its DiffID to ret_diff_id: for `save` in Docker's format.
 */
int unpack_decompress(int fd, int out_fd, uint64_t max_bytes, char ret_diff_id[DIGEST_STRING_MAX], char **ret_error);

/*
 * Opens path below root_fd for reading, refusing anything that leaves
 * root_fd (symlinks may be followed only while they stay below it).
 */
int unpack_open_beneath(int root_fd, const char *path, int flags);
