/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A growable byte buffer with a read offset, used for queued I/O. */

#include <stddef.h>
#include <stdint.h>

struct buf {
        uint8_t *data;
        size_t start; /* first unread byte */
        size_t end;   /* one past the last byte */
        size_t cap;
};

static inline size_t buf_len(const struct buf *b)
{
        return b->end - b->start;
}

static inline const uint8_t *buf_head(const struct buf *b)
{
        return b->data + b->start;
}

int buf_append(struct buf *b, const void *data, size_t len);
void buf_consume(struct buf *b, size_t len);
void buf_free(struct buf *b);
