/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "runv.h"
#include "status.h"

/* pause and resume freeze and thaw the container's whole VM. */
static int pause_op(int argc, char **argv, const char *op)
{
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        if (argc != 2)
                return runv_error("usage: runv %s ID", op);
        r = runv_load_existing(argv[1], &st);
        if (r != 0)
                return r;
        if (st->status == RUNV_STOPPED)
                return runv_error("container not running");
        r = runv_state_op(st, op, &err);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        return 0;
}

int runv_cmd_pause(int argc, char **argv)
{
        return pause_op(argc, argv, "pause");
}

int runv_cmd_resume(int argc, char **argv)
{
        return pause_op(argc, argv, "resume");
}
