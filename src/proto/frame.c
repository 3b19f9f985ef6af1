/* SPDX-License-Identifier: Apache-2.0 */
#include "frame.h"

#include <errno.h>
#include <string.h>

#include "macros.h"

static const struct {
        uint16_t type;
        const char *name;
        uint32_t max;
} frame_types[] = {
        { HYPER_AGENT_HELLO, "HELLO", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_POD, "POD", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_CONTAINER, "CONTAINER", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_EXEC, "EXEC", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_SIGNAL, "SIGNAL", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_WINSIZE, "WINSIZE", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_REMOVE, "REMOVE", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_POWEROFF, "POWEROFF", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_PING, "PING", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_NETWORK, "NETWORK", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_MOUNT, "MOUNT", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_UNMOUNT, "UNMOUNT", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_REPLY, "REPLY", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_ERROR, "ERROR", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_EXIT, "EXIT", HYPER_AGENT_MAX_CTL_PAYLOAD },
        { HYPER_AGENT_DATA, "DATA", HYPER_AGENT_MAX_DATA },
        { HYPER_AGENT_CREDIT, "CREDIT", 4 },
        { HYPER_AGENT_EOF, "EOF", 0 },
};

static int frame_type_index(uint16_t type)
{
        for (size_t i = 0; i < sizeof(frame_types) / sizeof(frame_types[0]); i++)
                if (frame_types[i].type == type)
                        return (int)i;
        return -1;
}

uint32_t frame_max_payload(uint16_t type)
{
        int i = frame_type_index(type);

        return i < 0 ? 0 : frame_types[i].max;
}

const char *frame_type_name(uint16_t type)
{
        int i = frame_type_index(type);

        return i < 0 ? "unknown" : frame_types[i].name;
}

bool frame_type_is_request(uint16_t type)
{
        return type >= HYPER_AGENT_HELLO && type <= HYPER_AGENT_UNMOUNT;
}

static void put_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void frame_header_encode(uint8_t out[HYPER_AGENT_HEADER_SIZE], const struct hyper_agent_header *h)
{
        put_be32(out, h->length);
        out[4] = (uint8_t)(h->type >> 8);
        out[5] = (uint8_t)h->type;
        out[6] = (uint8_t)(h->flags >> 8);
        out[7] = (uint8_t)h->flags;
        put_be32(out + 8, h->id);
}

void frame_header_decode(const uint8_t in[HYPER_AGENT_HEADER_SIZE], struct hyper_agent_header *ret)
{
        ret->length = get_be32(in);
        ret->type = (uint16_t)(in[4] << 8 | in[5]);
        ret->flags = (uint16_t)(in[6] << 8 | in[7]);
        ret->id = get_be32(in + 8);
}

int frame_append(struct buf *out, uint16_t type, uint32_t id, const void *payload, size_t len)
{
        uint8_t hdr[HYPER_AGENT_HEADER_SIZE];
        struct hyper_agent_header h = { .length = (uint32_t)len, .type = type, .id = id };
        int r;

        if (frame_type_index(type) < 0)
                return -EINVAL;
        if (len > frame_max_payload(type))
                return -EMSGSIZE;
        frame_header_encode(hdr, &h);
        r = buf_append(out, hdr, sizeof(hdr));
        if (r < 0)
                return r;
        return buf_append(out, payload, len);
}

int frame_reader_feed(struct frame_reader *r, const void *data, size_t len)
{
        const uint8_t *p = data;

        /* Bytes of a frame being skipped are dropped on arrival, never stored. */
        if (r->skip > 0) {
                size_t n = r->skip < len ? (size_t)r->skip : len;
                r->skip -= n;
                p += n;
                len -= n;
        }
        return buf_append(&r->in, p, len);
}

static const char *frame_check(const struct hyper_agent_header *h)
{
        int i = frame_type_index(h->type);

        if (i < 0)
                return "unknown frame type";
        if (h->flags != 0)
                return "unknown flags";
        if (h->length > frame_types[i].max)
                return "frame payload too long for its type";
        return NULL;
}

enum frame_result frame_reader_next(struct frame_reader *r, struct hyper_agent_header *ret_header,
                                    const uint8_t **ret_payload, const char **ret_reason)
{
        const char *reason;

        if (r->skip > 0)
                return FRAME_NONE;
        if (!r->have_header) {
                if (buf_len(&r->in) < HYPER_AGENT_HEADER_SIZE)
                        return FRAME_NONE;
                frame_header_decode(buf_head(&r->in), &r->cur);
                buf_consume(&r->in, HYPER_AGENT_HEADER_SIZE);
                r->have_header = true;
                reason = frame_check(&r->cur);
                if (reason) {
                        size_t n = MIN(buf_len(&r->in), (size_t)r->cur.length);
                        buf_consume(&r->in, n);
                        r->skip = r->cur.length - n;
                        r->have_header = false;
                        *ret_header = r->cur;
                        *ret_reason = reason;
                        return FRAME_REJECTED;
                }
        }
        if (buf_len(&r->in) < r->cur.length)
                return FRAME_NONE;
        *ret_header = r->cur;
        *ret_payload = buf_head(&r->in);
        /* The payload stays in place until the next call consumes it. */
        buf_consume(&r->in, r->cur.length);
        r->have_header = false;
        return FRAME_OK;
}

void frame_reader_free(struct frame_reader *r)
{
        buf_free(&r->in);
        *r = (struct frame_reader){ 0 };
}
