/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "runv-driver.h"
#include "spawn-util.h"

void runv_result_done(struct runv_result *r)
{
        free(r->out);
        free(r->err);
        *r = (struct runv_result){0};
}

int runv_driver_find(char **ret)
{
        char exe[PATH_MAX], *p;
        const char *env = getenv("HYPER_RUNV");
        ssize_t n;

        if (env && *env)
                /* Absolute: hyperd-shim runs it from the container's folder. */
                return access(env, X_OK) < 0 ? -errno : (*ret = realpath(env, NULL)) ? 0 : -errno;
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0)
                return -errno;
        exe[n] = '\0';
        if (asprintf(&p, "%s/../bin/runv", dirname(exe)) < 0)
                return -ENOMEM;
        if (access(p, X_OK) < 0) {
                free(p);
                return -ENOENT;
        }
        *ret = p;
        return 0;
}

/* The argv: runv --root ROOT ARGS... (the strings are borrowed). */
static char **runv_argv(const struct runv_driver *d, char **args)
{
        size_t n = 0;
        char **v;

        while (args[n])
                n++;
        v = calloc(n + 4, sizeof(char *));
        if (!v)
                return NULL;
        v[0] = (char *)d->runv;
        v[1] = (char *)"--root";
        v[2] = (char *)d->root;
        memcpy(v + 3, args, n * sizeof(char *));
        return v;
}

/* stdin /dev/null, fds 1 and 2 as given, the rest closed; default signals, none blocked. */
static int runv_spawn(const struct runv_driver *d, char **args, int out, int err, pid_t *ret_pid)
{
        _cleanup_free_ char **argv = runv_argv(d, args);

        if (!argv)
                return -ENOMEM;
        return spawn_with_fds(d->runv, argv, (const int[]){out, err}, 2, ret_pid);
}

/* Appends what fd has to (buf, len) up to max; returns 0 at end of file. */
static int runv_collect(int fd, char **buf, size_t *len, size_t max, bool *truncated)
{
        char chunk[16384], *b;
        ssize_t n = read(fd, chunk, sizeof(chunk));
        size_t keep;

        if (n <= 0)
                return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : 0;
        keep = *len + (size_t)n > max ? max - *len : (size_t)n;
        *truncated = *truncated || keep < (size_t)n;
        b = realloc(*buf, *len + keep + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + *len, chunk, keep);
        *len += keep;
        b[*len] = '\0';
        *buf = b;
        return 1;
}

/* Reads both pipes (either may be -1) to their end; a hang-up on cancel_fd sends SIGTERM to pid, once. */
static int runv_pump(int out, int err, int cancel_fd, pid_t pid, size_t max, struct runv_result *ret)
{
        struct pollfd p[3] = {
                {.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN}, {.fd = cancel_fd, .events = POLLRDHUP}};
        int r;

        while (p[0].fd >= 0 || p[1].fd >= 0) {
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[2].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                        kill(pid, SIGTERM);
                        p[2].fd = -1;
                }
                for (int i = 0; i < 2; i++) {
                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        r = i == 0 ? runv_collect(p[i].fd, &ret->out, &ret->out_len, max, &ret->out_truncated)
                                   : runv_collect(p[i].fd, &ret->err, &ret->err_len, max, &ret->err_truncated);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                p[i].fd = -1;
                }
        }
        return 0;
}

static int runv_reap(pid_t pid, int *ret_status)
{
        int st;

        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
}

int runv_driver_run(const struct runv_driver *d, const struct runv_call *call, struct runv_result *ret)
{
        int po[2] = {-1, -1}, pe[2] = {-1, -1}, r;
        pid_t pid;

        *ret = (struct runv_result){0};
        if (!d->runv)
                return -ENOENT;
        if ((call->out_fd < 0 && pipe2(po, O_CLOEXEC) < 0) || (call->err_fd < 0 && pipe2(pe, O_CLOEXEC) < 0)) {
                r = -errno;
                goto out;
        }
        r = runv_spawn(d, call->args, call->out_fd >= 0 ? call->out_fd : po[1],
                       call->err_fd >= 0 ? call->err_fd : pe[1], &pid);
        po[1] = safe_close(po[1]);
        pe[1] = safe_close(pe[1]);
        if (r < 0)
                goto out;
        r = runv_pump(po[0], pe[0], call->cancel_fd, pid, call->max, ret);
        if (r < 0)
                kill(pid, SIGKILL);
        if (runv_reap(pid, &ret->status) < 0 && r >= 0)
                r = -ECHILD;
out:
        safe_close(po[0]);
        safe_close(po[1]);
        safe_close(pe[0]);
        safe_close(pe[1]);
        if (r < 0)
                runv_result_done(ret);
        return r;
}

const char *runv_result_message(struct runv_result *r)
{
        char *m = r->err, *nl;

        if (!m || !*m)
                return NULL;
        while (r->err_len > 0 && (m[r->err_len - 1] == '\n' || m[r->err_len - 1] == '\r'))
                m[--r->err_len] = '\0';
        /* The last line is runv's own message; earlier ones may be debug output. */
        nl = strrchr(m, '\n');
        m = nl ? nl + 1 : m;
        return strncmp(m, "runv: ", 6) == 0 ? m + 6 : m;
}
