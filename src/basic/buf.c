/* SPDX-License-Identifier: Apache-2.0 */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(struct buf *b, size_t len)
{
        size_t need, cap;
        uint8_t *p;

        /* Compact first: most buffers drain completely between appends. */
        if (b->start > 0) {
                memmove(b->data, b->data + b->start, b->end - b->start);
                b->end -= b->start;
                b->start = 0;
        }
        if (len > SIZE_MAX - b->end)
                return -ENOMEM;
        need = b->end + len;
        if (need <= b->cap)
                return 0;
        cap = b->cap ? b->cap : 4096;
        while (cap < need)
                cap *= 2;
        p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
        int r;

        if (len == 0)
                return 0;
        if (b->cap - b->end < len) {
                r = buf_reserve(b, len);
                if (r < 0)
                        return r;
        }
        memcpy(b->data + b->end, data, len);
        b->end += len;
        return 0;
}

void buf_consume(struct buf *b, size_t len)
{
        if (len >= buf_len(b)) {
                b->start = b->end = 0;
                return;
        }
        b->start += len;
}

void buf_free(struct buf *b)
{
        free(b->data);
        *b = (struct buf){ 0 };
}
