/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recvtty SOCKET [ROWS COLS DELAY_MS]: a console-socket client for tests,
 * as runc's own test tool is. It listens on SOCKET, takes the one pty
 * master a runtime sends, and copies the pty's output to stdout and its
 * own stdin to the pty, until the pty closes. With ROWS and COLS it
 * resizes the terminal DELAY_MS after it got the master, as a user
 * resizing their window would.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket-util.h"

static int copy_once(int from, int to)
{
        char buf[4096];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0)
                return -1;
        return write(to, buf, (size_t)n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
        int lfd, conn, master;
        size_t n_fds = 0;
        char name[256];
        struct pollfd p[2];

        struct winsize ws = { 0 };
        int delay_ms = -1;

        if (argc != 2 && argc != 5) {
                fprintf(stderr, "usage: recvtty SOCKET [ROWS COLS DELAY_MS]\n");
                return 2;
        }
        if (argc == 5) {
                ws.ws_row = (unsigned short)atoi(argv[2]);
                ws.ws_col = (unsigned short)atoi(argv[3]);
                delay_ms = atoi(argv[4]);
        }
        lfd = socket_listen_unix(argv[1], SOCK_STREAM);
        if (lfd < 0) {
                fprintf(stderr, "recvtty: listen %s: %s\n", argv[1], strerror(-lfd));
                return 1;
        }
        p[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        poll(p, 1, -1);
        conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0 || socket_recv_fds(conn, name, sizeof(name) - 1, &master, 1, &n_fds) < 0 || n_fds != 1) {
                fprintf(stderr, "recvtty: no pty received\n");
                return 1;
        }
        unlink(argv[1]);
        p[0] = (struct pollfd){ .fd = master, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
        for (;;) {
                int n = poll(p, 2, delay_ms);
                if (n < 0 && errno != EINTR)
                        return 1;
                if (n == 0 && delay_ms >= 0) {
                        ioctl(master, TIOCSWINSZ, &ws);
                        delay_ms = -1;
                        continue;
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
                        if (copy_once(master, STDOUT_FILENO) < 0)
                                return 0;
                if (p[1].revents & (POLLIN | POLLHUP))
                        if (copy_once(STDIN_FILENO, master) < 0)
                                p[1].fd = -1;
        }
}
