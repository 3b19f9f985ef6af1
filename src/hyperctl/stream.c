/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The streams of attach, run and exec: an upgraded HTTP connection to
 * hyperd (Connection: Upgrade, Upgrade: tcp; 101), spoken by hand since
 * libcurl has no use for a connection after the response. With a tty the
 * stream is raw both ways; without, what comes back is Docker's frames
 * (8 bytes: stream, 0, 0, 0, length big-endian) and what goes in is raw.
 *
 * The terminal: raw while a tty stream runs, restored on every way out
 * (the end, an error, a signal), SIGWINCH sent on as a resize, and Docker's
 * detach keys (ctrl-p ctrl-q) leave the container running.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "hyperctl.h"
#include "json-util.h"

#define HC_HEAD_MAX  16384
#define HC_CHUNK     32768
#define HC_KEY_CTRL_P 0x10
#define HC_KEY_CTRL_Q 0x11

static struct termios hc_saved_tty;
static volatile sig_atomic_t hc_tty_raw;
static int hc_winch_pipe[2] = {-1, -1};

static int hc_write_all(int fd, const void *p, size_t n)
{
        const char *c = p;

        while (n > 0) {
                ssize_t k = write(fd, c, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        struct pollfd pf = {.fd = fd, .events = POLLOUT};

                        poll(&pf, 1, -1);
                        continue;
                }
                if (k < 0)
                        return -errno;
                c += k;
                n -= (size_t)k;
        }
        return 0;
}

/* The request, and the response's head: 0 with *ret_fd on 101, else an exit code after saying why. */
int hc_upgrade(const char *path, const char *body, int *ret_fd, char **ret_exec_id)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_free_ char *req = NULL;
        char head[HC_HEAD_MAX + 1], *end = NULL;
        size_t len = 0;
        long status = 0;
        int fd, n;

        if (strlen(hc_socket) >= sizeof(sa.sun_path))
                return hc_usage_error("the socket path %s is too long", hc_socket);
        strcpy(sa.sun_path, hc_socket);
        n = asprintf(&req,
                     "POST %s HTTP/1.1\r\nHost: hyperd\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     path, body ? strlen(body) : 0, body ? body : "");
        if (n < 0)
                return hc_error("out of memory");
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                if (fd >= 0)
                        close(fd);
                return hc_error("cannot connect to hyperd at %s: is it running? (start it with: hyperd)", hc_socket);
        }
        if (hc_write_all(fd, req, (size_t)n) < 0)
                goto broken;
        /* Byte by byte up to the blank line: whatever follows is the stream's. */
        while (len < HC_HEAD_MAX) {
                ssize_t k = read(fd, head + len, 1);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len++;
                head[len] = '\0';
                if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0) {
                        end = head + len;
                        break;
                }
        }
        if (!end || sscanf(head, "HTTP/1.%*c %ld", &status) != 1)
                goto broken;
        if (status == 101) {
                char *h = strcasestr(head, "\r\nHyper-Exec-Id:");

                if (ret_exec_id && h) {
                        h += 16;
                        h += strspn(h, " ");
                        *ret_exec_id = strndup(h, strcspn(h, "\r\n"));
                }
                *ret_fd = fd;
                return 0;
        } else {
                /* An error: its JSON body, as long as Content-Length says. */
                struct hc_reply reply = {.status = status};
                char *cl = strcasestr(head, "\r\nContent-Length:");
                size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0, got = 0;
                int r;

                want = want > HC_HEAD_MAX ? HC_HEAD_MAX : want;
                reply.body = calloc(1, want + 1);
                while (reply.body && got < want) {
                        ssize_t k = read(fd, reply.body + got, want - got);

                        if (k <= 0)
                                break;
                        got += (size_t)k;
                }
                reply.len = got;
                close(fd);
                r = hc_reply_fail(&reply);
                free(reply.body);
                return r;
        }
broken:
        close(fd);
        return hc_error("hyperd at %s answered the stream request with something that is not HTTP", hc_socket);
}

void hc_tty_restore(void)
{
        if (hc_tty_raw) {
                tcsetattr(STDIN_FILENO, TCSADRAIN, &hc_saved_tty);
                hc_tty_raw = 0;
        }
}

static void hc_on_signal(int sig)
{
        hc_tty_restore();
        signal(sig, SIG_DFL);
        raise(sig);
}

static void hc_on_winch(int sig)
{
        int saved = errno;

        (void)!write(hc_winch_pipe[1], "w", 1);
        errno = saved;
}

void hc_tty_raw_on(void)
{
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
        struct termios raw;

        if (hc_tty_raw || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &hc_saved_tty) < 0)
                return;
        raw = hc_saved_tty;
        cfmakeraw(&raw);
        atexit(hc_tty_restore);
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                signal(sigs[i], hc_on_signal);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0)
                hc_tty_raw = 1;
}

int hc_resize(const char *resize_path)
{
        struct winsize ws;
        _cleanup_free_ char *path = NULL;

        if (!resize_path || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                if (!resize_path || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                        return 0;
        if (asprintf(&path, "%s?h=%u&w=%u", resize_path, ws.ws_row, ws.ws_col) < 0)
                return -ENOMEM;
        return hc_call_quiet("POST", path);
}

/* Frames to stdout and stderr; *frame keeps a header cut between two reads. */
struct hc_demux {
        uint8_t hdr[8];
        size_t hdr_len;
        size_t left; /* bytes of the current frame still to come */
        int out;
};

static int hc_demux_feed(struct hc_demux *d, const char *p, size_t n)
{
        while (n > 0) {
                if (d->left == 0) {
                        size_t take = MIN(n, sizeof(d->hdr) - d->hdr_len);

                        memcpy(d->hdr + d->hdr_len, p, take);
                        d->hdr_len += take;
                        p += take;
                        n -= take;
                        if (d->hdr_len < sizeof(d->hdr))
                                return 0;
                        d->out = d->hdr[0] == 2 ? STDERR_FILENO : STDOUT_FILENO;
                        d->left = (size_t)d->hdr[4] << 24 | (size_t)d->hdr[5] << 16 | (size_t)d->hdr[6] << 8 |
                                  d->hdr[7];
                        d->hdr_len = 0;
                        continue;
                }
                size_t take = MIN(n, d->left);

                if (hc_write_all(d->out, p, take) < 0)
                        return -EIO;
                p += take;
                n -= take;
                d->left -= take;
        }
        return 0;
}

/*
 * Runs the stream on fd until hyperd ends it: stdin to the connection
 * (when opts->stdin; its end is a half-close), the connection to stdout
 * (and stderr). Returns 0 at the end, 1 when the user detached, or an
 * exit code.
 */
int hc_stream(int fd, const struct hc_stream_opts *opts)
{
        struct hc_demux demux = {0};
        char in[HC_CHUNK], out[HC_CHUNK];
        size_t in_len = 0, in_off = 0;
        bool in_open = opts->stdin, held_p = false;
        int r = 0;

        /*
         * The size first, so that the process starts with it; the terminal
         * raw before the start, so that nothing typed is echoed twice.
         */
        if (opts->tty && opts->resize_path && pipe2(hc_winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
                signal(SIGWINCH, hc_on_winch);
                hc_resize(opts->resize_path);
        }
        if (opts->tty && opts->stdin)
                hc_tty_raw_on();
        if (opts->on_attached && (r = opts->on_attached(opts->userdata)) != 0)
                goto out;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        for (;;) {
                struct pollfd p[3] = {
                        {.fd = in_open && in_len == 0 ? STDIN_FILENO : -1, .events = POLLIN},
                        {.fd = fd, .events = POLLIN | (in_len > 0 ? POLLOUT : 0)},
                        {.fd = hc_winch_pipe[0], .events = POLLIN},
                };

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = hc_error("poll: %m");
                        break;
                }
                if (p[2].revents) {
                        char w[64];

                        while (read(hc_winch_pipe[0], w, sizeof(w)) > 0)
                                ;
                        hc_resize(opts->resize_path);
                }
                if (p[0].revents) {
                        /* One byte short: a ctrl-p held back from the last read may go in front. */
                        ssize_t n = read(STDIN_FILENO, in, sizeof(in) - 1);

                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                in_open = false;
                                shutdown(fd, SHUT_WR);
                        } else {
                                in_len = (size_t)n;
                                in_off = 0;
                                if (opts->tty && opts->detach_keys) {
                                        /* ctrl-p ctrl-q: detach; a ctrl-p held back goes on with what follows. */
                                        size_t k = 0;
                                        char buf[HC_CHUNK];
                                        size_t m = 0;

                                        for (k = 0; k < in_len; k++) {
                                                if (held_p) {
                                                        held_p = false;
                                                        if (in[k] == HC_KEY_CTRL_Q) {
                                                                r = HC_STREAM_DETACHED;
                                                                goto out;
                                                        }
                                                        buf[m++] = HC_KEY_CTRL_P;
                                                }
                                                if (in[k] == HC_KEY_CTRL_P)
                                                        held_p = true;
                                                else
                                                        buf[m++] = in[k];
                                        }
                                        memcpy(in, buf, m);
                                        in_len = m;
                                }
                        }
                }
                if (p[1].revents & POLLOUT && in_len > 0) {
                        ssize_t n = write(fd, in + in_off, in_len - in_off);

                        if (n > 0) {
                                in_off += (size_t)n;
                                if (in_off == in_len)
                                        in_len = in_off = 0;
                        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                                in_len = 0;
                                in_open = false;
                        }
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(fd, out, sizeof(out));

                        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                                continue;
                        if (n <= 0)
                                break;
                        if (opts->tty ? hc_write_all(STDOUT_FILENO, out, (size_t)n) < 0
                                      : hc_demux_feed(&demux, out, (size_t)n) < 0) {
                                r = hc_error("cannot write the output: %m");
                                break;
                        }
                }
        }
out:
        hc_tty_restore();
        if (hc_winch_pipe[0] >= 0) {
                signal(SIGWINCH, SIG_DFL);
                close(hc_winch_pipe[0]);
                close(hc_winch_pipe[1]);
                hc_winch_pipe[0] = hc_winch_pipe[1] = -1;
        }
        return r;
}
