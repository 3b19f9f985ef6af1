/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd-shim's attach socket (docs/shim.md): DIR/attach.sock, a
 * SOCK_SEQPACKET unix socket, one message per packet, its first byte the
 * type. A client says which streams it wants with a hello; until then it
 * gets nothing (a client that only watches for the shim's end, or sends a
 * resize, sends none).
 *
 *   client -> shim: 'h' FLAGS       hello: SHIM_STDIN | SHIM_STDOUT | SHIM_STDERR
 *                   '0' DATA        input for the process's stdin (or the tty)
 *                   'c'             this client's input ended (closes stdin with --stdin-once)
 *                   'r' ROWS COLS   resize the tty (two uint16, host order)
 *   shim -> client: '1' DATA        stdout (everything, with a tty)
 *                   '2' DATA        stderr
 *
 * The shim closes every client when the output has ended (and, with an
 * exit file, once the process's status is written there).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macros.h"

#define SHIM_ATTACH_SOCKET "attach.sock"
#define SHIM_CONSOLE_SOCKET "console.sock"
#define SHIM_PID_FILE "shim.pid"
#define SHIM_EXIT_FILE "exit"
#define SHIM_MAX_MESSAGE (32 * 1024 + 1)

#define SHIM_STDIN  0x1
#define SHIM_STDOUT 0x2
#define SHIM_STDERR 0x4

/*
 * Connects to DIR/NAME through /proc/self/fd, so that a long DIR does not
 * run into sun_path's 108 bytes.
 */
static inline int shim_connect(const char *dir, const char *name, int type)
{
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        if (dfd < 0)
                return -errno;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}
