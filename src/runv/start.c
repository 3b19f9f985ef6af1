/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "runv.h"
#include "status.h"

/* runv start ID: the created container's process starts in its VM. */
int runv_cmd_start(int argc, char **argv)
{
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        if (argc != 2)
                return runv_error("usage: runv start ID");
        r = runv_load_existing(argv[1], &st);
        if (r != 0)
                return r;
        switch (st->status) {
        case RUNV_CREATED:
                break;
        case RUNV_STOPPED:
                return runv_error("cannot start a container that has stopped");
        case RUNV_CREATING:
                return runv_error("cannot start a container that is still being created");
        default:
                return runv_error("cannot start an already running container");
        }
        r = runv_state_op(st, "start", &err);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        return 0;
}
