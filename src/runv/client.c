/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>

#include "json-util.h"
#include "monitor.h"
#include "runv.h"
#include "socket-util.h"
#include "status.h"

int runv_monitor_connect(const char *id, int *ret_fd)
{
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s/monitor.sock", runv.root, id) < 0)
                return -ENOMEM;
        fd = socket_connect_unix(path, SOCK_SEQPACKET);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int runv_monitor_send(int fd, struct json_object *req, const int *fds, size_t n_fds)
{
        const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);

        if (strlen(text) > MONITOR_MAX_MESSAGE)
                return -EMSGSIZE;
        return socket_send_fds(fd, text, strlen(text), fds, n_fds);
}

int runv_monitor_recv(int fd, struct json_object **ret)
{
        _cleanup_free_ char *buf = malloc(MONITOR_MAX_MESSAGE);
        int fds[SOCKET_MAX_FDS];
        size_t n_fds = 0;
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        n = socket_recv_fds(fd, buf, MONITOR_MAX_MESSAGE, fds, 0, &n_fds);
        if (n < 0)
                return (int)n;
        if (n == 0)
                return -ECONNRESET;
        return json_parse_object(buf, (size_t)n, ret);
}

int runv_monitor_call(const char *id, struct json_object *req, char **ret_error, struct json_object **ret_reply)
{
        _cleanup_(json_object_putp) struct json_object *reply = NULL;
        _cleanup_close_ int fd = -1;
        const char *err;
        int r;

        r = runv_monitor_connect(id, &fd);
        if (r >= 0)
                r = runv_monitor_send(fd, req, NULL, 0);
        if (r >= 0)
                r = runv_monitor_recv(fd, &reply);
        if (r < 0)
                return r;
        if (json_get_string(reply, "error", &err) >= 0) {
                *ret_error = strdup(err);
                return -EREMOTEIO;
        }
        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

int runv_monitor_op(const char *id, const char *op, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "op", json_object_new_string(op));
        return runv_monitor_call(id, req, ret_error, NULL);
}

int runv_load_existing(const char *id, struct runv_state **ret)
{
        int r = state_load(id, ret);

        if (r == -ENOENT)
                return runv_error("container %s does not exist", id);
        if (r < 0)
                return runv_error("cannot read the state of %s: %s", id, strerror(-r));
        return 0;
}

/* The monitor that serves a container: its own, or that of the pod it joined. */
const char *runv_monitor_of(const struct runv_state *st)
{
        return st->pod ? st->pod : st->id;
}

int runv_state_call(const struct runv_state *st, struct json_object *req, char **ret_error,
                    struct json_object **ret_reply)
{
        if (st->pod)
                json_object_object_add(req, "container", json_object_new_string(st->id));
        return runv_monitor_call(runv_monitor_of(st), req, ret_error, ret_reply);
}

int runv_state_request(const struct runv_state *st, struct json_object *req)
{
        _cleanup_free_ char *err = NULL;
        int r = runv_state_call(st, req, &err, NULL);

        if (r == -ECONNREFUSED || r == -ENOENT)
                return runv_error("container not running");
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        return 0;
}

int runv_state_op(const struct runv_state *st, const char *op, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "op", json_object_new_string(op));
        return runv_state_call(st, req, ret_error, NULL);
}

/*
 * The host process that stands for an exec'd process or a pod member: it
 * waits for the exit status on its monitor connection, forwarding the
 * signals it gets meanwhile, and returns the status to exit with.
 */
int runv_wait_exit(int sock, bool forward)
{
        return runv_wait_exit_tty(sock, forward, -1);
}

int runv_wait_exit_tty(int sock, bool forward, int tty)
{
        _cleanup_(json_object_putp) struct json_object *msg = NULL;
        _cleanup_close_ int sigfd = -1;
        struct pollfd pfd[2];
        sigset_t mask;
        int64_t code;

        sigemptyset(&mask);
        if (forward) {
                int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM };
                for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                        sigaddset(&mask, sigs[i]);
                if (tty >= 0)
                        sigaddset(&mask, SIGWINCH);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        }
        pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
        for (;;) {
                struct signalfd_siginfo si;
                if (poll(pfd, sigfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
                        return 255;
                if (sigfd >= 0 && (pfd[1].revents & POLLIN) && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
                        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();
                        struct winsize ws;

                        if (si.ssi_signo == SIGWINCH) {
                                if (ioctl(tty, TIOCGWINSZ, &ws) < 0)
                                        continue;
                                json_object_object_add(req, "op", json_object_new_string("winsize"));
                                json_object_object_add(req, "rows", json_object_new_int(ws.ws_row));
                                json_object_object_add(req, "cols", json_object_new_int(ws.ws_col));
                        } else {
                                json_object_object_add(req, "op", json_object_new_string("signal"));
                                json_object_object_add(req, "signal", json_object_new_int((int)si.ssi_signo));
                        }
                        runv_monitor_send(sock, req, NULL, 0);
                }
                if (!(pfd[0].revents & (POLLIN | POLLHUP)))
                        continue;
                json_object_put(TAKE_PTR(msg));
                if (runv_monitor_recv(sock, &msg) < 0)
                        return 255;
                if (json_get_int(msg, "exit", 0, 255, &code) >= 0)
                        return (int)code;
        }
}

