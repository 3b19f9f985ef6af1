/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fd-util.h"
#include "monitor.h"
#include "runv.h"
#include "socket-util.h"

/*
 * With a terminal, the client gets the master of a host pty through
 * --console-socket, and the monitor relays the slave to the guest's own
 * pty. The host pty is raw: the guest's line discipline is the one that
 * counts, and doing it twice would echo twice.
 */
int runv_console_send(const char *console_socket, int *ret_slave)
{
        _cleanup_close_ int master = -1, slave = -1, sock = -1;
        struct termios t;
        char name[64];
        int r;

        if (openpty(&master, &slave, name, NULL, NULL) < 0)
                return runv_error("cannot allocate a pty: %s", strerror(errno));
        fd_cloexec(master, true);
        fd_cloexec(slave, true);
        if (tcgetattr(slave, &t) == 0) {
                cfmakeraw(&t);
                tcsetattr(slave, TCSANOW, &t);
        }
        sock = socket_connect_unix(console_socket, SOCK_STREAM);
        if (sock < 0)
                return runv_error("cannot connect to the console socket %s: %s", console_socket, strerror(-sock));
        r = socket_send_fds(sock, name, strlen(name), &master, 1);
        if (r < 0)
                return runv_error("cannot send the pty to the console socket: %s", strerror(-r));
        *ret_slave = TAKE_FD(slave);
        return 0;
}

struct create_child {
        const char *id;
        struct runv_bundle *b;
        int slave;
        bool start;
};

static _noreturn_ void create_child(void *userdata, int ready)
{
        struct create_child *c = userdata;
        struct monitor_config cfg = {
                .id = c->id,
                .bundle = c->b->bundle,
                .rootfs = c->b->rootfs,
                .spec = c->b->spec,
                .console_fd = c->slave,
                .start = c->start,
                .ready_fd = ready,
        };

        /* A session of its own: the client's terminal signals are not ours, the pty's SIGWINCH is. */
        setsid();
        if (c->slave >= 0) {
                (void)ioctl(c->slave, TIOCSCTTY, 0);
                /*
                 * With a terminal the container's stdio is the pty: our own fds 0-2
                 * are the caller's, and a shim waits for their end of file before
                 * it takes create as finished. Hold none of them.
                 */
                runv_drop_stdio();
        }
        _exit(monitor_main(&cfg) & 0xff);
}

int runv_spawn_monitor(const char *id, struct runv_bundle *b, const char *console_socket, const char *pid_file,
                       bool start)
{
        _cleanup_free_ char *pod = NULL;
        struct create_child c = { .id = id, .b = b, .slave = -1, .start = start };
        int r;

        if (b->spec->process->terminal && !console_socket)
                return runv_error("cannot allocate tty if runv will detach without setting console socket");
        if (!b->spec->process->terminal && console_socket)
                return runv_error("cannot use console socket if runv will not detach or allocate tty");
        pod = runv_join_target(b->spec);
        if (pod)
                return runv_spawn_member(id, b, console_socket, pid_file, pod, start);
        r = runv_claim_state(id);
        if (r != 0)
                return r;
        r = console_socket ? runv_console_send(console_socket, &c.slave) : 0;
        if (r == 0)
                r = runv_spawn(create_child, &c, pid_file, "the container monitor");
        safe_close(c.slave);
        if (r != 0)
                runv_remove_state(id);
        return r;
}

int runv_cmd_create(int argc, char **argv)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },      { "pid-file", required_argument, NULL, 'p' },
                { "console-socket", required_argument, NULL, 'c' }, { "no-pivot", no_argument, NULL, 'P' },
                { "no-new-keyring", no_argument, NULL, 'K' },    { "preserve-fds", required_argument, NULL, 'F' },
                {}
        };
        const char *bundle = ".", *pid_file = NULL, *console = NULL;
        struct runv_bundle b;
        int c, r;

        while ((c = getopt_long(argc, argv, "b:", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        bundle = optarg;
                        break;
                case 'p':
                        pid_file = optarg;
                        break;
                case 'c':
                        console = optarg;
                        break;
                case 'P':
                case 'K':
                case 'F':
                        break;
                default:
                        return runv_error("usage: runv create [--bundle DIR] [--pid-file FILE] "
                                          "[--console-socket SOCK] ID");
                }
        }
        if (optind != argc - 1 || !runv_id_valid(argv[optind]))
                return runv_error("create needs one valid container id");
        r = runv_bundle_load(bundle, &b);
        if (r == 0)
                r = runv_spawn_monitor(argv[optind], &b, console, pid_file, false);
        runv_bundle_free(&b);
        return r;
}
