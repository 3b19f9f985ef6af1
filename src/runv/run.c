/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fd-util.h"
#include "monitor.h"
#include "runv.h"

struct run_opts {
        const char *id;
        const char *bundle;
        const char *pid_file;
        const char *console;
        bool detach;
        bool keep;
};

static int run_parse(struct run_opts *o, int argc, char **argv)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },   { "pid-file", required_argument, NULL, 'p' },
                { "detach", no_argument, NULL, 'd' },         { "console-socket", required_argument, NULL, 'c' },
                { "no-pivot", no_argument, NULL, 'P' },       { "no-new-keyring", no_argument, NULL, 'K' },
                { "preserve-fds", required_argument, NULL, 'F' }, { "keep", no_argument, NULL, 'k' },
                { "no-subreaper", no_argument, NULL, 'S' },   {}
        };
        int c;

        o->bundle = ".";
        while ((c = getopt_long(argc, argv, "b:d", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        o->bundle = optarg;
                        break;
                case 'p':
                        o->pid_file = optarg;
                        break;
                case 'd':
                        o->detach = true;
                        break;
                case 'c':
                        o->console = optarg;
                        break;
                case 'k':
                        o->keep = true;
                        break;
                case 'P':
                case 'K':
                case 'F':
                case 'S':
                        break;
                default:
                        return runv_error("usage: runv run [--bundle DIR] [--pid-file FILE] [--detach] ID");
                }
        }
        if (optind != argc - 1)
                return runv_error("run needs exactly one container id; usage: runv run [--bundle DIR] ID");
        o->id = argv[optind];
        if (!runv_id_valid(o->id))
                return runv_error("invalid container id %s: use letters, digits and _+-.", o->id);
        return 0;
}

/*
 * In the foreground runv itself is the monitor: its stdio are the
 * container's, it answers kill, exec and state like any monitor, and it
 * exits with the container's status.
 */
static int run_foreground(struct run_opts *o, struct runv_bundle *b)
{
        struct monitor_config cfg = {
                .id = o->id, .bundle = b->bundle, .rootfs = b->rootfs, .spec = b->spec,
                .console_fd = -1, .start = true, .ready_fd = -1,
        };
        struct termios saved, raw;
        bool restore = false;
        int r;

        if (o->console)
                return runv_error("run --console-socket needs --detach");
        r = runv_claim_state(o->id);
        if (r != 0)
                return r;
        r = runv_write_pid_file(o->pid_file, getpid());
        if (r == 0 && b->spec->process->terminal && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                /* Keys go to the guest's pty unchanged; its line discipline is the one that counts. */
                raw = saved;
                cfmakeraw(&raw);
                restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        if (r == 0)
                r = monitor_main(&cfg);
        if (restore)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        if (!o->keep)
                runv_remove_state(o->id);
        return r;
}

int runv_cmd_run(int argc, char **argv)
{
        struct run_opts o = { 0 };
        struct runv_bundle b = { 0 };
        int r;

        r = run_parse(&o, argc, argv);
        if (r == 0)
                r = runv_bundle_load(o.bundle, &b);
        if (r == 0)
                r = o.detach ? runv_spawn_monitor(o.id, &b, o.console, o.pid_file, true) : run_foreground(&o, &b);
        runv_bundle_free(&b);
        return r;
}
