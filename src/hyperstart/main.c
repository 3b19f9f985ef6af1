/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperstart: the guest's PID 1. It mounts the basics, finds its two
 * virtio-serial channels and serves the agent protocol (agent-proto.h)
 * until POWEROFF. It never exits: a PID 1 that exits panics the guest.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "agent.h"
#include "boot.h"
#include "log.h"

int main(int argc, char **argv)
{
        struct agent_options opts = { .sandbox = true, .spawn = true };
        struct agent *a = NULL;
        int ctl, stream, r;

        if (getpid() != 1) {
                fprintf(stderr, "hyperstart: this is the guest's init; it only runs as PID 1\n");
                return 1;
        }
        log_setup("hyperstart", LOG_LEVEL_INFO);
        boot_setup();
        /* A host that goes away mid-write must not kill us with SIGPIPE. */
        signal(SIGPIPE, SIG_IGN);
        log_info("hyperstart %s, agent protocol %d", HYPER_VERSION, HYPER_AGENT_VERSION);
        ctl = boot_open_port(HYPER_AGENT_CTL_PORT);
        stream = boot_open_port(HYPER_AGENT_STREAM_PORT);
        r = agent_new(&opts, ctl, stream, &a);
        if (r < 0)
                log_error_errno(r, "Cannot start the agent");
        else
                (void)agent_run(a);
        boot_poweroff();
}
