/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperstart's dispatcher and stream engine on arbitrary bytes from the
 * host. The agent runs without sandbox and without spawning (no mount, no
 * namespace, no exec; EXEC only makes streams over pipes), so any input is
 * safe to run here. The input is a series of chunks, each one byte then up
 * to 128 bytes: the byte's low bit picks the channel (0 control, 1 stream)
 * and the rest is the chunk's length less one, so frames on both channels
 * interleave as they would on the wire. Without the sandbox, CONTAINER
 * (with its mounts, maskedPaths, readonlyPaths) and NETWORK are parsed and
 * validated in full, then neither mount nor touch a link. The seeds in
 * corpus/fuzz-hyperstart carry such requests.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        signal(SIGPIPE, SIG_IGN);
        log_setup("fuzz-hyperstart", LOG_LEVEL_ERROR);
        return 0;
}

/* What the agent sends is read and dropped, so that its queues move. */
static void fuzz_drain(int fd)
{
        uint8_t junk[65536];

        while (read(fd, junk, sizeof(junk)) > 0)
                ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct agent_options opts = { .exit_on_hangup = true };
        struct agent *a = NULL;
        int c[2], s[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, c) < 0)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s) < 0) {
                close(c[0]);
                close(c[1]);
                return 0;
        }
        if (agent_new(&opts, c[0], s[0], &a) >= 0) {
                while (size > 1 && !a->quit) {
                        size_t n = (size_t)(data[0] >> 1) + 1;
                        struct channel *ch = data[0] & 1 ? &a->stream : &a->ctl;

                        n = n < size - 1 ? n : size - 1;
                        agent_input(a, ch, data + 1, n);
                        agent_flush(a);
                        fuzz_drain(c[1]);
                        fuzz_drain(s[1]);
                        data += 1 + n;
                        size -= 1 + n;
                }
                agent_free(a);
        }
        close(c[1]);
        close(s[1]);
        return 0;
}
