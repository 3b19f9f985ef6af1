/* SPDX-License-Identifier: Apache-2.0 */
/* The frame codec both sides share: round trips, split input, hostile headers. */
#include <errno.h>

#include "frame.h"
#include "test.h"

static void test_round_trip(void)
{
        struct buf out = { 0 };
        struct frame_reader rd = { 0 };
        struct hyper_agent_header h;
        const uint8_t *payload;
        const char *reason;

        CHECK(frame_append(&out, HYPER_AGENT_EXEC, 7, "{\"a\":1}", 7) == 0);
        CHECK(frame_append(&out, HYPER_AGENT_EOF, 3, NULL, 0) == 0);
        CHECK(frame_reader_feed(&rd, buf_head(&out), buf_len(&out)) == 0);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_OK);
        CHECK_EQ_INT(h.type, HYPER_AGENT_EXEC);
        CHECK_EQ_INT(h.id, 7);
        CHECK_EQ_INT(h.length, 7);
        CHECK(memcmp(payload, "{\"a\":1}", 7) == 0);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_OK);
        CHECK_EQ_INT(h.type, HYPER_AGENT_EOF);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_NONE);
        buf_free(&out);
        frame_reader_free(&rd);
}

/* Bytes arriving one at a time must decode to the same frames. */
static void test_byte_by_byte(void)
{
        struct buf out = { 0 };
        struct frame_reader rd = { 0 };
        struct hyper_agent_header h;
        const uint8_t *payload;
        const char *reason;
        int frames = 0;

        CHECK(frame_append(&out, HYPER_AGENT_DATA, 1, "hello", 5) == 0);
        CHECK(frame_append(&out, HYPER_AGENT_DATA, 2, "world!", 6) == 0);
        for (size_t i = 0; i < buf_len(&out); i++) {
                CHECK(frame_reader_feed(&rd, buf_head(&out) + i, 1) == 0);
                if (frame_reader_next(&rd, &h, &payload, &reason) == FRAME_OK) {
                        frames++;
                        CHECK_EQ_INT(h.id, frames);
                        CHECK(memcmp(payload, frames == 1 ? "hello" : "world!", h.length) == 0);
                }
        }
        CHECK_EQ_INT(frames, 2);
        buf_free(&out);
        frame_reader_free(&rd);
}

static void feed_header(struct frame_reader *rd, uint32_t len, uint16_t type, uint16_t flags, uint32_t id)
{
        uint8_t hdr[HYPER_AGENT_HEADER_SIZE];
        struct hyper_agent_header h = { .length = len, .type = type, .flags = flags, .id = id };

        frame_header_encode(hdr, &h);
        CHECK(frame_reader_feed(rd, hdr, sizeof(hdr)) == 0);
}

/* A hostile length is skipped as it arrives, never allocated, and the next frame still decodes. */
static void test_oversized_is_skipped(void)
{
        struct frame_reader rd = { 0 };
        struct hyper_agent_header h;
        const uint8_t *payload;
        const char *reason;
        static uint8_t junk[64 * 1024];
        struct buf ok = { 0 };

        feed_header(&rd, HYPER_AGENT_MAX_DATA + 1 + 3 * sizeof(junk), HYPER_AGENT_DATA, 0, 9);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_REJECTED);
        CHECK_EQ_INT(h.id, 9);
        CHECK(strstr(reason, "too long"));
        for (int i = 0; i < 3; i++) {
                CHECK(frame_reader_feed(&rd, junk, sizeof(junk)) == 0);
                CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_NONE);
        }
        CHECK(rd.in.cap < sizeof(junk));
        CHECK(frame_append(&ok, HYPER_AGENT_PING, 10, NULL, 0) == 0);
        /* The last skipped byte and the next frame arrive together. */
        CHECK(frame_reader_feed(&rd, junk, HYPER_AGENT_MAX_DATA + 1) == 0);
        CHECK(frame_reader_feed(&rd, buf_head(&ok), buf_len(&ok)) == 0);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_OK);
        CHECK_EQ_INT(h.type, HYPER_AGENT_PING);
        CHECK_EQ_INT(h.id, 10);
        buf_free(&ok);
        frame_reader_free(&rd);
}

static void test_unknown_type_and_flags(void)
{
        struct frame_reader rd = { 0 };
        struct hyper_agent_header h;
        const uint8_t *payload;
        const char *reason;

        feed_header(&rd, 2, 0x7777, 0, 1);
        CHECK(frame_reader_feed(&rd, "xx", 2) == 0);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_REJECTED);
        CHECK(strstr(reason, "unknown frame type"));
        feed_header(&rd, 0, HYPER_AGENT_PING, 1, 2);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_REJECTED);
        CHECK(strstr(reason, "flags"));
        feed_header(&rd, 5, HYPER_AGENT_CREDIT, 0, 3);
        CHECK(frame_reader_feed(&rd, "12345", 5) == 0);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_REJECTED);
        feed_header(&rd, 0, HYPER_AGENT_PING, 0, 4);
        CHECK_EQ_INT(frame_reader_next(&rd, &h, &payload, &reason), FRAME_OK);
        CHECK_EQ_INT(h.id, 4);
        frame_reader_free(&rd);
}

static void test_append_refuses_too_long(void)
{
        struct buf out = { 0 };
        static uint8_t big[HYPER_AGENT_MAX_DATA + 1];

        CHECK_EQ_INT(frame_append(&out, HYPER_AGENT_DATA, 1, big, sizeof(big)), -EMSGSIZE);
        CHECK_EQ_INT(frame_append(&out, 0x9999, 1, NULL, 0), -EINVAL);
        CHECK_EQ_INT(buf_len(&out), 0);
        buf_free(&out);
}

/* Every request type is named and known as a request; replies and events are not requests. */
static void test_types(void)
{
        CHECK_STREQ(frame_type_name(HYPER_AGENT_MOUNT), "MOUNT");
        CHECK_STREQ(frame_type_name(HYPER_AGENT_UNMOUNT), "UNMOUNT");
        CHECK_STREQ(frame_type_name(0x0D), "unknown");
        for (uint16_t t = HYPER_AGENT_HELLO; t <= HYPER_AGENT_UNMOUNT; t++) {
                CHECK(frame_type_is_request(t));
                CHECK(frame_max_payload(t) == HYPER_AGENT_MAX_CTL_PAYLOAD);
        }
        CHECK(!frame_type_is_request(HYPER_AGENT_UNMOUNT + 1));
        CHECK(!frame_type_is_request(HYPER_AGENT_REPLY));
        CHECK(!frame_type_is_request(HYPER_AGENT_EXIT));
}

int main(void)
{
        RUN_TEST(test_round_trip);
        RUN_TEST(test_byte_by_byte);
        RUN_TEST(test_oversized_is_skipped);
        RUN_TEST(test_unknown_type_and_flags);
        RUN_TEST(test_append_refuses_too_long);
        RUN_TEST(test_types);
        return 0;
}
