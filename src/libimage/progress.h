/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Progress of a pull, per layer: redrawn in place on a terminal, one
 * plain line per state change otherwise. Thread-safe: unpacking threads
 * report too. The library calls it; only the program decides where it goes.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum progress_state {
        PROGRESS_WAITING,
        PROGRESS_DOWNLOADING,
        PROGRESS_DOWNLOADED,
        PROGRESS_EXISTS, /* blob and layer were in the store already */
        PROGRESS_UNPACKING,
        PROGRESS_DONE,
        PROGRESS_FAILED,
};

struct progress;

/* Writes to f; tty chooses the in-place display. */
struct progress *progress_new(FILE *f, bool tty);
void progress_free(struct progress *p);
/* Declares the layers (by digest) before any update. */
int progress_begin(struct progress *p, const char *title, char **digests, size_t n);
void progress_update(struct progress *p, size_t index, enum progress_state state, uint64_t done, uint64_t total);
void progress_end(struct progress *p);
