/* SPDX-License-Identifier: Apache-2.0 */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor-internal.h"
#include "macros.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

/* Everything below runs between fork() and exec(): async-signal-safe calls only. */
static void process_child_signals(void)
{
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                (void)sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static int process_child_fds(const struct process_spec *spec, int devnull)
{
        int first = 3 + (int)spec->n_fds;
        int out = spec->output_fd >= 0 ? spec->output_fd : devnull;
        int moved[16];

        if (spec->n_fds > ARRAY_SIZE(moved))
                return -E2BIG;
        /* Move every fd above the targets first, so no dup2() overwrites a source. */
        for (size_t i = 0; i < spec->n_fds; i++) {
                moved[i] = fcntl(spec->fds[i], F_DUPFD_CLOEXEC, first + 16);
                if (moved[i] < 0)
                        return -errno;
        }
        if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                return -errno;
        for (size_t i = 0; i < spec->n_fds; i++)
                if (dup2(moved[i], 3 + (int)i) < 0)
                        return -errno;
        /* Whatever else the owner left inheritable stays behind at exec. */
        (void)syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC);
        return 0;
}

static _noreturn_ void process_child(const struct process_spec *spec, pid_t parent, int devnull,
                                     int errpipe)
{
        int r;

        process_child_signals();
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        (void)setsid();
        r = process_child_fds(spec, devnull);
        if (r == 0) {
                execve(spec->argv[0], spec->argv, environ);
                r = -errno;
        }
        (void)!write(errpipe, &r, sizeof(r));
        _exit(127);
}

/* The child writes its exec error to a close-on-exec pipe; EOF means exec worked. */
static int process_exec_result(int errpipe, pid_t pid)
{
        int err = 0;
        ssize_t n;

        do
                n = read(errpipe, &err, sizeof(err));
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof(err) && err < 0) {
                (void)waitpid(pid, NULL, 0);
                return err;
        }
        return 0;
}

int process_open(pid_t pid, int *ret_pidfd)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (fd < 0)
                return -errno;
        *ret_pidfd = fd; /* pidfds are always close-on-exec */
        return 0;
}

int process_spawn(const struct process_spec *spec, pid_t *ret_pid, int *ret_pidfd)
{
        _cleanup_close_ int devnull = -1;
        int pipefd[2];
        pid_t parent = getpid(), pid;
        int r;

        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0)
                return -errno;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return r;
        }
        if (pid == 0)
                process_child(spec, parent, devnull, pipefd[1]);
        safe_close(pipefd[1]);
        r = process_exec_result(pipefd[0], pid);
        safe_close(pipefd[0]);
        if (r < 0)
                return r;
        if (process_open(pid, ret_pidfd) < 0)
                *ret_pidfd = -1; /* an old kernel: process_wait() polls instead */
        *ret_pid = pid;
        return 0;
}

static int process_status(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return -1;
}

/* One look: 1 and the status if it ended, 0 if it runs, negative errno on error. */
static int process_check(pid_t pid, int pidfd, bool owned, int *ret_status)
{
        if (owned) {
                int st;
                pid_t r = waitpid(pid, &st, WNOHANG);
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return 0;
                *ret_status = process_status(st);
                return 1;
        }
        if (pidfd >= 0) {
                struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
                if (poll(&pfd, 1, 0) < 0)
                        return -errno;
                *ret_status = -1;
                return pfd.revents ? 1 : 0;
        }
        *ret_status = -1;
        return kill(pid, 0) < 0 && errno == ESRCH ? 1 : 0;
}

int process_wait(pid_t pid, int pidfd, bool owned, int timeout_ms, int *ret_status)
{
        int64_t deadline = hypervisor_deadline(timeout_ms);
        int status = -1;

        for (;;) {
                int left, r = process_check(pid, pidfd, owned, &status);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
                left = hypervisor_remaining_ms(deadline);
                if (left == 0)
                        return -ETIMEDOUT;
                if (pidfd >= 0) {
                        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
                        if (poll(&pfd, 1, left) < 0 && errno != EINTR)
                                return -errno;
                } else {
                        usleep(10 * 1000);
                }
        }
        if (ret_status)
                *ret_status = status;
        return 0;
}

int process_signal(pid_t pid, int pidfd, int sig)
{
        if (pidfd >= 0) {
                if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                        return -errno;
                return 0;
        }
        if (kill(pid, sig) < 0)
                return -errno;
        return 0;
}

int process_kill_wait(pid_t pid, int pidfd, bool owned)
{
        int r = process_signal(pid, pidfd, SIGKILL);

        if (r < 0 && r != -ESRCH)
                return r;
        /* SIGKILL cannot be ignored; the bound only guards against a stuck exit. */
        return process_wait(pid, pidfd, owned, 10 * 1000, NULL);
}

int process_start_time(pid_t pid, unsigned long long *ret)
{
        char path[64], buf[1024];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        char *p;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return n < 0 ? -errno : -EIO;
        buf[n] = '\0';
        /* The command name may hold spaces and parentheses: fields start after the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return -EIO;
        /* After ')' come field 3 (state) onwards; starttime is field 22. */
        for (int field = 3; field <= 22 && p; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p + 1, "%llu", ret) != 1)
                return -EIO;
        return 0;
}
