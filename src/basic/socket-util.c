/* SPDX-License-Identifier: Apache-2.0 */
#include "socket-util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macros.h"

int socket_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * SOCKET_MAX_FDS)];
        } control = { 0 };
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct cmsghdr *cmsg;

        if (n_fds > SOCKET_MAX_FDS)
                return -E2BIG;
        if (n_fds > 0) {
                msg.msg_control = control.buf;
                msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                cmsg = CMSG_FIRSTHDR(&msg);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
        }
        for (;;) {
                ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                return (size_t)n == len ? 0 : -EMSGSIZE;
        }
}

static void socket_close_cmsg_fds(struct msghdr *msg)
{
        for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        close(fd);
                }
        }
}

ssize_t socket_recv_fds(int sock, void *buf, size_t cap, int *fds, size_t max_fds, size_t *ret_n_fds)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * SOCKET_MAX_FDS)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = cap };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                              .msg_controllen = sizeof(control.buf) };
        size_t n_fds = 0;
        ssize_t n;

        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                socket_close_cmsg_fds(&msg);
                return -EMSGSIZE;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                if (n_fds + k > max_fds) {
                        socket_close_cmsg_fds(&msg);
                        for (size_t i = 0; i < n_fds; i++)
                                close(fds[i]);
                        return -E2BIG;
                }
                memcpy(fds + n_fds, CMSG_DATA(c), k * sizeof(int));
                n_fds += k;
        }
        *ret_n_fds = n_fds;
        return n;
}

static int socket_address(const char *path, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        strcpy(sa->sun_path, path);
        return 0;
}

int socket_connect_unix(const char *path, int type)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa;
        int r;

        r = socket_address(path, &sa);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int socket_listen_unix(const char *path, int type)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa;
        int r;

        r = socket_address(path, &sa);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A socket file left by a process that died would block bind(). */
        (void)unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
                return -errno;
        return TAKE_FD(fd);
}
