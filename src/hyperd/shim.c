/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperd-shim: the holder of one container's (or one exec's) stdio, as
 * Podman's conmon is. hyperd starts one per container and per exec that
 * is attached to or detached; it leaves hyperd's session at once, so that
 * hyperd can be stopped, killed and started again while the container
 * runs and prints.
 *
 *   hyperd-shim --dir DIR [--log FILE] [--tty] [--stdin] [--stdin-once]
 *               [--wait-attach] [--exit-file] [--ready-fd N] [--ready-on-exit]
 *               -- PROGRAM [ARG...]
 *
 * It runs PROGRAM (runv create or runv exec) in DIR with the stdio it
 * holds: pipes for stdout and stderr (and stdin with --stdin), or, with
 * --tty, the master of the pty that runv sends to DIR/console.sock. It
 * writes every output to FILE, one record a line in CRI's format
 * ("2026-11-29T21:55:49.123456789Z stdout F text"), and serves
 * DIR/attach.sock (shim-proto.h) to any number of clients. It exits when
 * the output has ended and PROGRAM has been reaped. docs/shim.md.
 *
 * --wait-attach: PROGRAM starts once the first client says hello (an
 * exec hyperd attaches to, so no output comes before anyone listens); the
 * shim gives up after a minute without one.
 *
 * --ready-fd: where hyperd waits for "ok" or "error MESSAGE": at once
 * (the socket listens), or with --ready-on-exit once PROGRAM has exited
 * (runv create: its status and its last line on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "macros.h"
#include "shim-proto.h"
#include "socket-util.h"

#define SHIM_MAX_CLIENTS 128
#define SHIM_LAST_LINE   512
#define SHIM_ATTACH_TIMEOUT 60 /* seconds --wait-attach waits for its first client */

struct shim_client {
        int fd;
        int flags;
        bool hello;
        char *pending; /* an output message that did not fit yet */
        size_t pending_len;
};

struct shim {
        const char *log_path;
        bool tty, stdin_open, stdin_once, wait_attach, exit_file, ready_on_exit;
        int ready_fd;
        char **argv;

        int listen_fd, console_fd, log_fd;
        int out_fd[2]; /* stdout (or the pty master), stderr */
        int in_fd;     /* stdin's pipe, or the pty master; -1 */
        bool close_in_after_flush;
        char *in_buf;
        size_t in_len;

        pid_t child;  /* 0: not started yet, -1: reaped */
        int child_fd; /* its pidfd */
        int status;
        time_t give_up; /* with --wait-attach: when to stop waiting for the first client */

        char line[SHIM_LAST_LINE]; /* the stderr line being read, and the last complete one */
        size_t line_len;
        char last_line[SHIM_LAST_LINE];

        struct shim_client clients[SHIM_MAX_CLIENTS];
        size_t n_clients;
};

/* The sockets this shim bound (st_dev, st_ino): a shim that ends unlinks its own, never a newer shim's. */
static struct stat shim_attach_st, shim_console_st;

static void shim_unlink_own(const char *name, const struct stat *own)
{
        struct stat st;

        if (own->st_ino != 0 && stat(name, &st) >= 0 && st.st_dev == own->st_dev && st.st_ino == own->st_ino)
                unlink(name);
}

/* The pid file, when it still names this process. */
static void shim_unlink_pid(void)
{
        char buf[32] = {0}, pid[32];
        int fd = open(SHIM_PID_FILE, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        if (n > 0 && strcmp(buf, pid) == 0)
                unlink(SHIM_PID_FILE);
}

static void shim_ready(struct shim *s, const char *msg)
{
        if (s->ready_fd < 0)
                return;
        (void)!write(s->ready_fd, msg, strlen(msg));
        s->ready_fd = safe_close(s->ready_fd);
}

_printf_(2, 3) static _noreturn_ void shim_fail(struct shim *s, const char *fmt, ...)
{
        char msg[1024] = "error ";
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg + 6, sizeof(msg) - 6, fmt, ap);
        va_end(ap);
        shim_ready(s, msg);
        shim_unlink_own(SHIM_ATTACH_SOCKET, &shim_attach_st);
        shim_unlink_own(SHIM_CONSOLE_SOCKET, &shim_console_st);
        shim_unlink_pid();
        _exit(1);
}

/* One record per line of data, a P record for what is left without a newline. */
static void shim_log(struct shim *s, const char *stream, const char *data, size_t n)
{
        _cleanup_free_ char *buf = NULL;
        char ts[64];
        struct timespec now;
        struct tm tm;
        size_t len = 0, tslen;

        if (s->log_fd < 0 || n == 0)
                return;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        tslen = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        tslen += (size_t)snprintf(ts + tslen, sizeof(ts) - tslen, ".%09ldZ %s ", now.tv_nsec, stream);
        /* At worst every byte is a line of its own. */
        buf = malloc(n * (tslen + 3) + n + 1);
        if (!buf)
                return;
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t piece = nl ? (size_t)(nl - data) : n;

                memcpy(buf + len, ts, tslen);
                len += tslen;
                buf[len++] = nl ? 'F' : 'P';
                buf[len++] = ' ';
                memcpy(buf + len, data, piece);
                len += piece;
                buf[len++] = '\n';
                piece += nl ? 1 : 0;
                data += piece;
                n -= piece;
        }
        (void)loop_write(s->log_fd, buf, len);
}

static void shim_keep_line(struct shim *s, const char *data, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (data[i] == '\n') {
                        if (s->line_len > 0) {
                                memcpy(s->last_line, s->line, s->line_len);
                                s->last_line[s->line_len] = '\0';
                        }
                        s->line_len = 0;
                } else if (s->line_len < sizeof(s->line) - 1)
                        s->line[s->line_len++] = data[i];
        }
}

static void shim_drop_client(struct shim *s, size_t i)
{
        struct shim_client *c = &s->clients[i];

        /* A client whose input ends this way ends it as 'c' would. */
        if (c->hello && (c->flags & SHIM_STDIN) && s->stdin_once && !s->tty)
                s->close_in_after_flush = true;
        safe_close(c->fd);
        free(c->pending);
        s->clients[i] = s->clients[--s->n_clients];
}

static void shim_broadcast(struct shim *s, int stream, const char *data, size_t n)
{
        char msg[SHIM_MAX_MESSAGE];
        int want = stream == 1 ? SHIM_STDOUT : SHIM_STDERR;

        msg[0] = stream == 1 ? '1' : '2';
        memcpy(msg + 1, data, n);
        for (size_t i = 0; i < s->n_clients;) {
                struct shim_client *c = &s->clients[i];

                if (c->hello && (c->flags & want) &&
                    send(c->fd, msg, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                        if (errno != EAGAIN || !(c->pending = malloc(n + 1))) {
                                shim_drop_client(s, i);
                                continue;
                        }
                        memcpy(c->pending, msg, n + 1);
                        c->pending_len = n + 1;
                }
                i++;
        }
}

static bool shim_clients_pending(struct shim *s)
{
        for (size_t i = 0; i < s->n_clients; i++)
                if (s->clients[i].pending)
                        return true;
        return false;
}

static void shim_read_output(struct shim *s, int k)
{
        char buf[SHIM_MAX_MESSAGE - 1];
        ssize_t n = read(s->out_fd[k], buf, sizeof(buf));

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                /* EOF, or EIO from a pty master whose slave is closed everywhere. */
                if (s->in_fd == s->out_fd[k])
                        s->in_fd = -1;
                s->out_fd[k] = safe_close(s->out_fd[k]);
                return;
        }
        if (k == 1)
                shim_keep_line(s, buf, (size_t)n);
        shim_log(s, k == 0 ? "stdout" : "stderr", buf, (size_t)n);
        shim_broadcast(s, k == 0 ? 1 : 2, buf, (size_t)n);
}

static void shim_close_stdin(struct shim *s)
{
        if (s->in_fd >= 0 && !s->tty)
                s->in_fd = safe_close(s->in_fd);
        free(s->in_buf);
        s->in_buf = NULL;
        s->in_len = 0;
        s->close_in_after_flush = false;
}

static void shim_write_stdin(struct shim *s)
{
        while (s->in_len > 0 && s->in_fd >= 0) {
                ssize_t n = write(s->in_fd, s->in_buf, s->in_len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        /* The process is gone, or its stdin closed: nothing more goes in. */
                        shim_close_stdin(s);
                        return;
                }
                memmove(s->in_buf, s->in_buf + n, s->in_len - (size_t)n);
                s->in_len -= (size_t)n;
        }
        if (s->in_len == 0 && s->close_in_after_flush)
                shim_close_stdin(s);
}

static int shim_spawn(struct shim *s);

static void shim_read_client(struct shim *s, size_t i)
{
        struct shim_client *c = &s->clients[i];
        char buf[SHIM_MAX_MESSAGE];
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                shim_drop_client(s, i);
                return;
        }
        switch (buf[0]) {
        case 'h':
                c->flags = n > 1 ? buf[1] : 0;
                c->hello = true;
                if (s->child == 0 && shim_spawn(s) < 0)
                        shim_fail(s, "cannot start %s: %m", s->argv[0]);
                break;
        case '0': {
                char *b;

                if (s->in_fd < 0 || !s->stdin_open || !(c->flags & SHIM_STDIN) || n == 1)
                        break;
                b = realloc(s->in_buf, s->in_len + (size_t)n - 1);
                if (!b)
                        break;
                memcpy(b + s->in_len, buf + 1, (size_t)n - 1);
                s->in_buf = b;
                s->in_len += (size_t)n - 1;
                shim_write_stdin(s);
                break;
        }
        case 'c':
                if (s->stdin_once && !s->tty) {
                        s->close_in_after_flush = true;
                        shim_write_stdin(s);
                }
                break;
        case 'r':
                if (s->tty && s->out_fd[0] >= 0 && n >= 5) {
                        struct winsize ws = {0};
                        uint16_t rows, cols;

                        memcpy(&rows, buf + 1, 2);
                        memcpy(&cols, buf + 3, 2);
                        ws.ws_row = rows;
                        ws.ws_col = cols;
                        ioctl(s->out_fd[0], TIOCSWINSZ, &ws);
                        /*
                         * A container's monitor leads the pty's session and gets
                         * SIGWINCH from the kernel; runv exec does not, so it is told.
                         */
                        if (s->child > 0)
                                kill(s->child, SIGWINCH);
                }
                break;
        default:
                break;
        }
}

static void shim_flush_client(struct shim *s, size_t i)
{
        struct shim_client *c = &s->clients[i];

        if (send(c->fd, c->pending, c->pending_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                if (errno != EAGAIN)
                        shim_drop_client(s, i);
                return;
        }
        free(c->pending);
        c->pending = NULL;
        c->pending_len = 0;
}

static void shim_accept(struct shim *s)
{
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        if (s->n_clients >= SHIM_MAX_CLIENTS) {
                close(fd);
                return;
        }
        s->clients[s->n_clients++] = (struct shim_client){.fd = fd};
}

/* runv connects to console.sock and sends the pty's master. */
static void shim_accept_console(struct shim *s)
{
        _cleanup_close_ int fd = accept4(s->console_fd, NULL, NULL, SOCK_CLOEXEC);
        char name[128];
        int master = -1;
        size_t n_fds = 0;

        if (fd < 0 || socket_recv_fds(fd, name, sizeof(name), &master, 1, &n_fds) < 0 || n_fds != 1)
                return;
        fd_nonblock(master, true);
        s->out_fd[0] = master;
        if (s->stdin_open)
                s->in_fd = master;
        s->console_fd = safe_close(s->console_fd);
        shim_unlink_own(SHIM_CONSOLE_SOCKET, &shim_console_st);
}

static int shim_spawn(struct shim *s)
{
        int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, r = 0;
        pid_t pid;

        if (pipe2(err, O_CLOEXEC) < 0 || (!s->tty && pipe2(out, O_CLOEXEC) < 0) ||
            (!s->tty && s->stdin_open && pipe2(in, O_CLOEXEC) < 0)) {
                r = -errno;
                goto out;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto out;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                dup2(in[0] >= 0 ? in[0] : null, 0);
                dup2(out[1] >= 0 ? out[1] : err[1], 1);
                dup2(err[1], 2);
                closefrom(3);
                signal(SIGPIPE, SIG_DFL);
                execv(s->argv[0], s->argv);
                dprintf(2, "hyperd-shim: cannot run %s: %m\n", s->argv[0]);
                _exit(127);
        }
        s->child = pid;
        s->child_fd = (int)syscall(SYS_pidfd_open, pid, 0);
        s->out_fd[1] = TAKE_FD(err[0]);
        fd_nonblock(s->out_fd[1], true);
        if (!s->tty) {
                s->out_fd[0] = TAKE_FD(out[0]);
                fd_nonblock(s->out_fd[0], true);
        }
        if (in[1] >= 0) {
                s->in_fd = TAKE_FD(in[1]);
                fd_nonblock(s->in_fd, true);
        }
out:
        for (int i = 0; i < 2; i++) {
                safe_close(out[i]);
                safe_close(err[i]);
                safe_close(in[i]);
        }
        return r;
}

static void shim_write_exit(int status)
{
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", status);

        write_file_atomic(SHIM_EXIT_FILE, buf, (size_t)n, 0644);
}

static void shim_reap(struct shim *s)
{
        int st;

        if (waitpid(s->child, &st, WNOHANG) <= 0)
                return;
        s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        s->child = -1;
        s->child_fd = safe_close(s->child_fd);
        if (s->exit_file)
                shim_write_exit(s->status);
        if (s->console_fd >= 0 && s->out_fd[0] < 0) {
                /* It never sent a console, and never will. */
                s->console_fd = safe_close(s->console_fd);
                shim_unlink_own(SHIM_CONSOLE_SOCKET, &shim_console_st);
        }
        if (s->ready_on_exit) {
                char msg[SHIM_LAST_LINE + 32];

                /* Its message may still be in the pipe. */
                while (s->out_fd[1] >= 0 && s->status != 0) {
                        char buf[4096];
                        ssize_t n = read(s->out_fd[1], buf, sizeof(buf));

                        if (n <= 0)
                                break;
                        shim_keep_line(s, buf, (size_t)n);
                        shim_log(s, "stderr", buf, (size_t)n);
                        shim_broadcast(s, 2, buf, (size_t)n);
                }
                if (s->line_len > 0) {
                        memcpy(s->last_line, s->line, s->line_len);
                        s->last_line[s->line_len] = '\0';
                }
                if (s->status == 0)
                        snprintf(msg, sizeof(msg), "ok");
                else
                        snprintf(msg, sizeof(msg), "error %s", *s->last_line ? s->last_line : "exited with a failure");
                shim_ready(s, msg);
        }
}

static bool shim_done(struct shim *s)
{
        return s->child < 0 && s->out_fd[0] < 0 && s->out_fd[1] < 0 && s->console_fd < 0;
}

static int shim_loop(struct shim *s)
{
        struct pollfd p[SHIM_MAX_CLIENTS + 8];

        while (!shim_done(s)) {
                bool pending = shim_clients_pending(s);
                size_t n = 0, first_client;
                int idx_listen, idx_console, idx_out[2], idx_in, idx_child;

                idx_listen = (int)n;
                p[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
                idx_console = (int)n;
                p[n++] = (struct pollfd){.fd = s->console_fd, .events = POLLIN};
                for (int k = 0; k < 2; k++) {
                        idx_out[k] = (int)n;
                        p[n++] = (struct pollfd){.fd = pending ? -1 : s->out_fd[k], .events = POLLIN};
                }
                idx_in = (int)n;
                p[n++] = (struct pollfd){.fd = s->in_len > 0 && s->in_fd != s->out_fd[0] ? s->in_fd : -1,
                                         .events = POLLOUT};
                if (s->in_len > 0 && s->in_fd >= 0 && s->in_fd == s->out_fd[0] && !pending)
                        p[idx_out[0]].events |= POLLOUT;
                idx_child = (int)n;
                p[n++] = (struct pollfd){.fd = s->child > 0 ? s->child_fd : -1, .events = POLLIN};
                first_client = n;
                for (size_t i = 0; i < s->n_clients; i++)
                        p[n++] = (struct pollfd){.fd = s->clients[i].fd,
                                                 .events = (s->in_len > 0 ? 0 : POLLIN) |
                                                           (s->clients[i].pending ? POLLOUT : 0)};
                int timeout = s->child > 0 && s->child_fd < 0 ? 100 : -1;

                /* Nobody came to the exec it waits for (hyperd died before it attached): give up. */
                if (s->child == 0) {
                        time_t left = s->give_up - time(NULL);

                        if (left <= 0)
                                return -ETIMEDOUT;
                        timeout = (int)left * 1000;
                }
                if (poll(p, n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (s->child > 0 && (s->child_fd < 0 || p[idx_child].revents))
                        shim_reap(s);
                if (p[idx_in].revents || (p[idx_out[0]].revents & POLLOUT))
                        shim_write_stdin(s);
                for (int k = 0; k < 2; k++)
                        if (p[idx_out[k]].fd >= 0 && (p[idx_out[k]].revents & (POLLIN | POLLHUP | POLLERR)))
                                shim_read_output(s, k);
                /* Clients last, from the end: dropping one moves the last into its place. */
                for (size_t i = s->n_clients; i > 0; i--) {
                        size_t k = first_client + i - 1;

                        if (k >= n || p[k].fd != s->clients[i - 1].fd)
                                continue;
                        if (p[k].revents & POLLOUT)
                                shim_flush_client(s, i - 1);
                        else if (p[k].revents)
                                shim_read_client(s, i - 1);
                }
                if (p[idx_console].revents)
                        shim_accept_console(s);
                if (p[idx_listen].revents)
                        shim_accept(s);
        }
        return 0;
}

static int shim_listen(const char *name, int type, struct stat *ret_own)
{
        int fd;

        unlink(name);
        fd = socket_listen_unix(name, type);
        if (fd < 0)
                return fd;
        fd_nonblock(fd, true);
        if (stat(name, ret_own) < 0)
                *ret_own = (struct stat){0};
        return fd;
}

static int shim_parse(struct shim *s, int argc, char **argv, const char **ret_dir)
{
        static const struct option opts[] = {
                {"dir", required_argument, NULL, 'D'},   {"log", required_argument, NULL, 'l'},
                {"tty", no_argument, NULL, 't'},         {"stdin", no_argument, NULL, 'i'},
                {"stdin-once", no_argument, NULL, 'o'},  {"wait-attach", no_argument, NULL, 'w'},
                {"exit-file", no_argument, NULL, 'x'},   {"ready-fd", required_argument, NULL, 'r'},
                {"ready-on-exit", no_argument, NULL, 'e'}, {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+", opts, NULL)) >= 0) {
                switch (c) {
                case 'D': *ret_dir = optarg; break;
                case 'l': s->log_path = optarg; break;
                case 't': s->tty = true; break;
                case 'i': s->stdin_open = true; break;
                case 'o': s->stdin_once = true; break;
                case 'w': s->wait_attach = true; break;
                case 'x': s->exit_file = true; break;
                case 'r': s->ready_fd = atoi(optarg); break;
                case 'e': s->ready_on_exit = true; break;
                default: return -EINVAL;
                }
        }
        if (!*ret_dir || optind >= argc || argv[optind][0] != '/')
                return -EINVAL;
        s->argv = argv + optind;
        return 0;
}

int main(int argc, char **argv)
{
        struct shim s = {.ready_fd = -1, .listen_fd = -1, .console_fd = -1, .log_fd = -1,
                         .out_fd = {-1, -1}, .in_fd = -1, .child_fd = -1};
        const char *dir = NULL;
        char pid[32];
        pid_t p;
        int null;

        if (shim_parse(&s, argc, argv, &dir) < 0) {
                fprintf(stderr, "usage: hyperd-shim --dir DIR [--log FILE] [--tty] [--stdin] [--stdin-once] "
                                "[--wait-attach] [--exit-file] [--ready-fd N] [--ready-on-exit] -- /PROGRAM [ARG...]\n"
                                "(hyperd's helper: see docs/shim.md)\n");
                return 2;
        }
        if (s.ready_fd >= 0)
                fd_cloexec(s.ready_fd, true);
        signal(SIGPIPE, SIG_IGN);
        if (chdir(dir) < 0)
                shim_fail(&s, "cannot enter %s: %m", dir);
        if (s.log_path && (s.log_fd = open(s.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600)) < 0)
                shim_fail(&s, "cannot open %s: %m", s.log_path);
        s.listen_fd = shim_listen(SHIM_ATTACH_SOCKET, SOCK_SEQPACKET, &shim_attach_st);
        if (s.listen_fd < 0)
                shim_fail(&s, "cannot listen on %s/%s: %s", dir, SHIM_ATTACH_SOCKET, strerror(-s.listen_fd));
        if (s.tty && (s.console_fd = shim_listen(SHIM_CONSOLE_SOCKET, SOCK_STREAM, &shim_console_st)) < 0)
                shim_fail(&s, "cannot listen on %s/%s: %s", dir, SHIM_CONSOLE_SOCKET, strerror(-s.console_fd));
        /* Out of hyperd's session: the parent returns at once, its child goes on alone. */
        p = fork();
        if (p < 0)
                shim_fail(&s, "cannot fork: %m");
        if (p > 0)
                _exit(0);
        setsid();
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3 && null >= 0; fd++)
                dup2(null, fd);
        safe_close(null);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        write_file_atomic(SHIM_PID_FILE, pid, strlen(pid), 0644);
        s.give_up = time(NULL) + SHIM_ATTACH_TIMEOUT;
        if (!s.wait_attach && shim_spawn(&s) < 0)
                shim_fail(&s, "cannot start %s: %m", s.argv[0]);
        if (!s.ready_on_exit)
                shim_ready(&s, "ok");
        shim_loop(&s);
        shim_ready(&s, "error the shim ended before its program did");
        /* The socket goes first, then the clients: a client that sees the end cannot reach a stale socket. */
        shim_unlink_own(SHIM_ATTACH_SOCKET, &shim_attach_st);
        shim_unlink_pid();
        for (size_t i = 0; i < s.n_clients; i++)
                close(s.clients[i].fd);
        return 0;
}
