/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runv.h"
#include "status.h"

#define DELETE_TIMEOUT_MS 15000

/* Waits for a monitor (not our child) to end: its /proc entry goes, or names another process. */
static bool delete_wait_gone(const struct runv_state *st, int timeout_ms)
{
        uint64_t start;

        for (int waited = 0; waited < timeout_ms; waited += 20) {
                if (proc_start_time(st->pid, &start) < 0 || start != st->pid_start)
                        return true;
                usleep(20 * 1000);
        }
        return false;
}

static int delete_live(const char *id, struct runv_state *st)
{
        _cleanup_free_ char *err = NULL;

        /* The monitor powers the VM off and ends; if it cannot, it dies, and QEMU with it. */
        if (runv_state_op(st, "stop", &err) < 0 || !delete_wait_gone(st, DELETE_TIMEOUT_MS)) {
                kill(st->pid, SIGKILL);
                if (!delete_wait_gone(st, DELETE_TIMEOUT_MS))
                        return runv_error("the monitor of %s (pid %d) does not end", id, (int)st->pid);
        }
        return 0;
}

/* runv delete [--force] ID */
int runv_cmd_delete(int argc, char **argv)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        _cleanup_(state_freep) struct runv_state *st = NULL;
        bool force = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0) {
                if (c != 'f')
                        return runv_error("usage: runv delete [--force] ID");
                force = true;
        }
        if (optind != argc - 1)
                return runv_error("usage: runv delete [--force] ID");
        r = state_load(argv[optind], &st);
        if (r == -ENOENT && force)
                return 0;
        if (r != 0)
                return runv_load_existing(argv[optind], &st);
        if (st->status == RUNV_RUNNING || st->status == RUNV_PAUSED) {
                if (!force)
                        return runv_error("cannot delete container %s that is not stopped: %s", st->id,
                                          state_status_to_string(st->status));
        }
        if (st->status != RUNV_STOPPED) {
                r = delete_live(argv[optind], st);
                if (r != 0)
                        return r;
        }
        runv_remove_state(argv[optind]);
        return 0;
}
