/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Encoding and incremental decoding of agent protocol frames
 * (see agent-proto.h). Shared by the host and hyperstart; no I/O here.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent-proto.h"
#include "buf.h"

/* Largest payload the protocol allows for a frame type; 0 for unknown types. */
uint32_t frame_max_payload(uint16_t type);
const char *frame_type_name(uint16_t type);
bool frame_type_is_request(uint16_t type);

void frame_header_encode(uint8_t out[HYPER_AGENT_HEADER_SIZE], const struct hyper_agent_header *h);
void frame_header_decode(const uint8_t in[HYPER_AGENT_HEADER_SIZE], struct hyper_agent_header *ret);

/* Appends a whole frame to an output buffer. */
int frame_append(struct buf *out, uint16_t type, uint32_t id, const void *payload, size_t len);

enum frame_result {
        FRAME_NONE,     /* need more bytes */
        FRAME_OK,       /* a frame: header and payload are set */
        FRAME_REJECTED, /* a frame that broke the rules: header and reason are set, payload skipped */
};

/*
 * The decoder keeps what it has read of the current frame. A frame that is
 * too long for its type is skipped byte by byte as it arrives, so a hostile
 * length never makes the reader allocate it and never loses sync.
 */
struct frame_reader {
        struct buf in;
        struct hyper_agent_header cur;
        bool have_header;
        uint64_t skip; /* payload bytes of a rejected frame still to discard */
};

int frame_reader_feed(struct frame_reader *r, const void *data, size_t len);
/*
 * Takes the next frame out of what was fed. On FRAME_OK, *ret_payload
 * points into the reader and stays valid until the next frame_reader_feed().
 */
enum frame_result frame_reader_next(struct frame_reader *r, struct hyper_agent_header *ret_header,
                                    const uint8_t **ret_payload, const char **ret_reason);
void frame_reader_free(struct frame_reader *r);
