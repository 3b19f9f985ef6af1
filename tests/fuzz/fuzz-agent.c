/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's decoder of what a guest sends: arbitrary bytes on the
 * control and stream channels must never crash the host, only break the
 * connection with a reason. The first byte splits the input between the
 * two channels.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct agent *a = NULL;
        int c[2], s[2], null_fd;
        size_t split;

        if (size < 1)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c) < 0)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0) {
                close(c[0]), close(c[1]);
                return 0;
        }
        if (agent_new(c[0], s[0], &a) < 0)
                goto out;
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        /* Streams 1 and 2 exist, so that DATA and CREDIT reach the stream code. */
        agent_stream_output(a, agent_stream_id(a), null_fd);
        agent_stream_input(a, agent_stream_id(a), null_fd);
        close(null_fd);
        split = data[0] * (size - 1) / 255;
        agent_feed(a, true, data + 1, split);
        agent_feed(a, false, data + 1 + split, size - 1 - split);
        agent_free(a);
out:
        close(c[1]);
        close(s[1]);
        return 0;
}
