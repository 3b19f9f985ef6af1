/* SPDX-License-Identifier: Apache-2.0 */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "container.h"
#include "fd-util.h"
#include "log.h"
#include "mounts.h"
#include "stream.h"

#define PROCESS_MAX 1024

/* Our ends of a new process's stdio, and what the child gets as fds 0, 1 and 2. */
struct stdio {
        int child[3];
        int in;
        int out;
        int err;
        int pty;
};

/* Namespaces a new process joins (-1: not joined), and whether it starts its container's pid namespace. */
struct nsfds {
        int pid;
        int ipc;
        int uts;
        int mnt;
        bool first;
};

/* What the child tells the parent when it fails before exec. */
struct child_error {
        int err;
        char what[64];
};

struct process *process_find(struct agent *a, uint32_t id)
{
        for (struct process *p = a->processes; p; p = p->next)
                if (p->id == id)
                        return p;
        return NULL;
}

static struct process *process_find_pid(struct agent *a, pid_t pid)
{
        for (struct process *p = a->processes; p; p = p->next)
                if (p->pid == pid && !p->exited)
                        return p;
        return NULL;
}

void process_free(struct agent *a, struct process *p)
{
        struct process **pp;

        for (pp = &a->processes; *pp; pp = &(*pp)->next)
                if (*pp == p) {
                        *pp = p->next;
                        break;
                }
        stream_in_free(a, p->in);
        stream_out_free(a, p->out);
        stream_out_free(a, p->err);
        safe_close(p->pty_fd);
        a->n_processes--;
        free(p);
}

int process_signal(struct process *p, int sig)
{
        /* Exited but not yet reported: the signal came too late, which is no error. */
        if (p->exited || p->pid <= 0)
                return 0;
        if (kill(p->pid, sig) < 0)
                return -errno;
        return 0;
}

int process_winsize(struct process *p, uint16_t rows, uint16_t cols)
{
        struct winsize ws = { .ws_row = rows, .ws_col = cols };

        if (p->pty_fd < 0)
                return -ENOTTY;
        if (ioctl(p->pty_fd, TIOCSWINSZ, &ws) < 0)
                return -errno;
        return 0;
}

void spawn_done(struct spawn *s)
{
        strv_free(s->args);
        strv_free(s->env);
        free(s->groups);
}

static void stdio_close(struct stdio *st)
{
        /* With a pty the three child fds are one. */
        for (int i = 0; i < 3; i++)
                if (st->child[i] >= 0 && (i == 0 || st->child[i] != st->child[i - 1]))
                        safe_close(st->child[i]);
        safe_close(st->in);
        safe_close(st->out);
        safe_close(st->err);
        safe_close(st->pty);
        *st = (struct stdio){ { -1, -1, -1 }, -1, -1, -1, -1 };
}

static int stdio_pipe(uint32_t sid, bool child_reads, int *ret_child, int *ret_ours)
{
        int p[2];

        if (sid == 0) {
                *ret_child = open("/dev/null", O_RDWR | O_CLOEXEC);
                return *ret_child < 0 ? -errno : 0;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        *ret_child = child_reads ? p[0] : p[1];
        *ret_ours = child_reads ? p[1] : p[0];
        return 0;
}

static int stdio_pipes(const struct spawn *s, struct stdio *st)
{
        int r;

        r = stdio_pipe(s->sid_in, true, &st->child[0], &st->in);
        if (r >= 0)
                r = stdio_pipe(s->sid_out, false, &st->child[1], &st->out);
        if (r >= 0)
                r = stdio_pipe(s->sid_err, false, &st->child[2], &st->err);
        return r;
}

static int stdio_pty(struct agent *a, struct container *c, const struct spawn *s, struct stdio *st)
{
        _cleanup_free_ char *ptmx = NULL;
        struct winsize ws = { .ws_row = (uint16_t)s->rows, .ws_col = (uint16_t)s->cols };
        int unlock = 0, slave;

        /* The pty comes from the container's own devpts, so the process finds it at /dev/pts/N. */
        if (a->opts.sandbox && asprintf(&ptmx, "%s/dev/pts/ptmx", c->root) < 0)
                return -ENOMEM;
        st->pty = open(ptmx ? ptmx : "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (st->pty < 0)
                return -errno;
        if (ioctl(st->pty, TIOCSPTLCK, &unlock) < 0 || ioctl(st->pty, TIOCSWINSZ, &ws) < 0)
                return -errno;
        slave = ioctl(st->pty, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        st->child[0] = st->child[1] = st->child[2] = slave;
        st->out = fcntl(st->pty, F_DUPFD_CLOEXEC, 3);
        if (st->out < 0)
                return -errno;
        if (s->sid_in != 0) {
                st->in = fcntl(st->pty, F_DUPFD_CLOEXEC, 3);
                if (st->in < 0)
                        return -errno;
        }
        return 0;
}

static int process_check(struct agent *a, const struct spawn *s, struct request *req)
{
        if (a->n_processes >= PROCESS_MAX)
                return request_fail(req, -EAGAIN, "too many processes");
        if (process_find(a, s->id))
                return request_fail(req, -EEXIST, "process %u already exists", s->id);
        if (s->terminal && s->sid_out == 0)
                return request_fail(req, -EINVAL, "a terminal needs a stdout stream");
        if (!s->terminal && s->sid_out != 0 && s->sid_out == s->sid_err)
                return request_fail(req, -EINVAL, "stdout and stderr need different streams");
        if ((s->sid_out != 0 && stream_out_find(a, s->sid_out)) ||
            (!s->terminal && s->sid_err != 0 && stream_out_find(a, s->sid_err)))
                return request_fail(req, -EEXIST, "an output stream id is already in use");
        if (s->sid_in != 0 && stream_in_find(a, s->sid_in))
                return request_fail(req, -EEXIST, "stdin stream %u is already in use", s->sid_in);
        return 0;
}

/* Makes the process and its streams; the streams take our ends of stdio. */
static int process_new(struct agent *a, struct container *c, const struct spawn *s, struct stdio *st,
                       struct process **ret)
{
        struct process *p;
        int r = 0;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->id = s->id;
        p->container = c;
        p->pty_fd = TAKE_FD(st->pty);
        p->next = a->processes;
        a->processes = p;
        a->n_processes++;
        if (st->out >= 0)
                r = stream_out_new(a, s->sid_out, TAKE_FD(st->out), &p->out);
        if (r >= 0 && st->err >= 0)
                r = stream_out_new(a, s->sid_err, TAKE_FD(st->err), &p->err);
        if (r >= 0 && st->in >= 0)
                r = stream_in_new(a, s->sid_in, TAKE_FD(st->in), &p->in);
        if (r < 0) {
                process_free(a, p);
                return r;
        }
        *ret = p;
        return 0;
}

static _noreturn_ void child_fail(int sync_fd, const char *what)
{
        struct child_error e = { .err = errno };

        snprintf(e.what, sizeof(e.what), "%s", what);
        (void)!write(sync_fd, &e, sizeof(e));
        _exit(125);
}

/* The container's first process makes its own mount namespace, mounts a /proc of its pid namespace and moves into its root. */
static int child_enter_root(const struct container *c, const char **ret_what)
{
        _cleanup_free_ char *proc = NULL;
        int r;

        *ret_what = "unshare";
        if (c->hostname && (unshare(CLONE_NEWUTS) < 0 || sethostname(c->hostname, strlen(c->hostname)) < 0))
                return -errno;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        *ret_what = "mount /proc";
        if (asprintf(&proc, "%s/proc", c->root) < 0)
                return -ENOMEM;
        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -errno;
        /* Most masked and read-only paths are in /proc, which exists only from here on. */
        r = mounts_protect(c->root, c->masked, c->readonly_paths, ret_what);
        if (r < 0) {
                errno = -r;
                return r;
        }
        /* The initramfs cannot be pivoted away from: move the root over it and chroot, as switch_root does. */
        *ret_what = "enter the root";
        if (chdir(c->root) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return -errno;
        return 0;
}

static void child_sandbox(const struct container *c, const struct nsfds *ns, int sync_fd)
{
        const char *what = NULL;

        if ((ns->ipc >= 0 && setns(ns->ipc, CLONE_NEWIPC) < 0) || (ns->uts >= 0 && setns(ns->uts, CLONE_NEWUTS) < 0))
                child_fail(sync_fd, "join the pod's namespaces");
        if (ns->mnt >= 0 && setns(ns->mnt, CLONE_NEWNS) < 0)
                child_fail(sync_fd, "join the container's mount namespace");
        if (ns->first && child_enter_root(c, &what) < 0)
                child_fail(sync_fd, what);
}

static void child_identity(const struct spawn *s, int sync_fd)
{
        gid_t groups[256];

        for (size_t i = 0; i < s->n_groups && i < ARRAY_SIZE(groups); i++)
                groups[i] = s->groups[i];
        if (setgroups(MIN(s->n_groups, ARRAY_SIZE(groups)), groups) < 0)
                child_fail(sync_fd, "setgroups");
        if (setgid(s->gid) < 0)
                child_fail(sync_fd, "setgid");
        if (setuid(s->uid) < 0)
                child_fail(sync_fd, "setuid");
}

static void child_stdio(const struct spawn *s, const int fds[3], int sync_fd)
{
        int high[3];

        /* Moved above 2 first, so that no dup2() below overwrites a source. */
        for (int i = 0; i < 3; i++) {
                high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                if (high[i] < 0)
                        child_fail(sync_fd, "duplicate stdio");
        }
        for (int i = 0; i < 3; i++)
                if (dup2(high[i], i) < 0)
                        child_fail(sync_fd, "set up stdio");
        if (setsid() < 0)
                child_fail(sync_fd, "setsid");
        if (s->terminal && ioctl(0, TIOCSCTTY, 0) < 0)
                child_fail(sync_fd, "set the controlling terminal");
}

static void child_reset_signals(void)
{
        sigset_t none;

        /* Ignored signals stay ignored across exec, and blocked ones blocked. */
        for (int sig = 1; sig < NSIG; sig++)
                (void)signal(sig, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * runc's rule: without HOME in the environment, the process gets the home
 * folder of its uid from the container's /etc/passwd, or "/". Runs in the
 * child after the chroot, so the file read is the container's.
 */
static char **child_env_with_home(char **env, uid_t uid)
{
        const char *home = "/";
        struct passwd *pw;
        char **out;
        size_t n = 0;
        FILE *f;

        for (; env[n]; n++)
                if (strncmp(env[n], "HOME=", 5) == 0)
                        return env;
        f = fopen("/etc/passwd", "re");
        while (f && (pw = fgetpwent(f)))
                if (pw->pw_uid == uid && pw->pw_dir && pw->pw_dir[0]) {
                        home = pw->pw_dir;
                        break;
                }
        out = calloc(n + 2, sizeof(char *));
        if (!out || asprintf(&out[n], "HOME=%s", home) < 0)
                return env;
        memcpy(out, env, n * sizeof(char *));
        return out;
}

static _noreturn_ void child_main(struct agent *a, const struct container *c, const struct spawn *s,
                                  const struct nsfds *ns, const int fds[3], int sync_fd)
{
        extern char **environ;
        static char *empty_env[] = { NULL };
        int r;

        /* The first message: its credentials carry our pid to hyperstart. */
        if (write(sync_fd, "P", 1) != 1)
                _exit(125);
        child_reset_signals();
        if (a->opts.sandbox)
                child_sandbox(c, ns, sync_fd);
        child_stdio(s, fds, sync_fd);
        if (a->opts.sandbox)
                child_identity(s, sync_fd);
        if (chdir(s->cwd) < 0)
                child_fail(sync_fd, "change to the working directory");
        (void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        /* execvp() searches the PATH of environ: the process's own environment, as it should. */
        environ = child_env_with_home(s->env ? s->env : empty_env, s->uid);
        execvp(s->args[0], s->args);
        r = errno;
        /* The message goes to the process's own stderr, where a user of runc would look. */
        dprintf(STDERR_FILENO, "exec \"%s\": %s\n", s->args[0],
                r == ENOENT ? "executable file not found in $PATH" : strerror(r));
        _exit(r == ENOENT || r == ENOTDIR ? 127 : 126);
}

static void nsfds_close(struct nsfds *ns)
{
        ns->pid = safe_close(ns->pid);
        ns->ipc = safe_close(ns->ipc);
        ns->uts = safe_close(ns->uts);
        ns->mnt = safe_close(ns->mnt);
}

static int nsfd_open(pid_t pid, const char *name, int *ret)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
        *ret = open(path, O_RDONLY | O_CLOEXEC);
        return *ret < 0 ? -errno : 0;
}

/*
 * The container's first process starts a pid namespace of its own, nested
 * in the pod's, and is its PID 1 as under runc; later processes join that
 * one and the first process's mount namespace.
 */
static int nsfds_open(struct agent *a, const struct container *c, struct nsfds *ns)
{
        pid_t holder = c->init_pid > 0 ? c->init_pid : a->pod.init_pid;
        int r;

        if (holder <= 0)
                return -ESRCH;
        ns->first = c->init_pid <= 0;
        r = nsfd_open(holder, "pid", &ns->pid);
        if (r >= 0)
                r = nsfd_open(holder, "ipc", &ns->ipc);
        if (r >= 0)
                r = nsfd_open(holder, "uts", &ns->uts);
        if (r >= 0 && !ns->first)
                r = nsfd_open(holder, "mnt", &ns->mnt);
        return r;
}

/* Forks with the children's pid namespace set to pidns_fd (when given), then sets it back. */
static pid_t process_clone(int pidns_fd)
{
        _cleanup_close_ int self = -1;
        pid_t pid;
        int saved;

        if (pidns_fd < 0)
                return fork();
        self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (self < 0 || setns(pidns_fd, CLONE_NEWPID) < 0)
                return -1;
        pid = fork();
        saved = errno;
        if (pid != 0 && setns(self, CLONE_NEWPID) < 0)
                log_error_errno(errno, "Cannot return to our own pid namespace");
        errno = saved;
        return pid;
}

/*
 * Runs in an intermediate child inside the pod's pid namespace. The kernel
 * makes a new pid namespace only below the caller's own (clone() with
 * CLONE_NEWPID after setns() fails), so this child unshares one and forks
 * the real process into it as its PID 1, handing it to hyperstart as its
 * parent with CLONE_PARENT. The process's pid reaches hyperstart through
 * the credentials of its first message on the sync socket.
 */
static _noreturn_ void process_fork_init(struct agent *a, const struct container *c, const struct spawn *s,
                                         const struct nsfds *ns, const int fds[3], int sync_fd)
{
        long pid;

        if (unshare(CLONE_NEWPID) < 0)
                child_fail(sync_fd, "unshare the pid namespace");
        pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid == 0)
                child_main(a, c, s, ns, fds, sync_fd);
        if (pid < 0)
                child_fail(sync_fd, "fork into the pid namespace");
        _exit(0);
}

static int process_sync_socket(int sync[2])
{
        int one = 1;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
                return -errno;
        /* The kernel then stamps each message with the sender's pid, as seen from our namespace. */
        if (setsockopt(sync[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
                safe_close(sync[0]);
                safe_close(sync[1]);
                return -errno;
        }
        return 0;
}

/* Receives one message from the child; a pid in its credentials goes to *ret_pid. */
static ssize_t process_recv(int sync_fd, struct child_error *e, pid_t *ret_pid)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control;
        struct iovec iov = { .iov_base = e, .iov_len = sizeof(*e) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        ssize_t n;

        do
                n = recvmsg(sync_fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred uc;
                        memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
                        *ret_pid = uc.pid;
                }
        return n;
}

/*
 * Waits for the child to exec (the sync socket closes after its first,
 * one-byte message) or to report why it could not (a struct child_error,
 * possibly from the intermediate child before the process existed).
 */
static int process_wait_start(int sync_fd, pid_t *ret_pid, struct request *req)
{
        struct child_error e;
        pid_t pid = 0, ignored;
        ssize_t n;

        n = process_recv(sync_fd, &e, &pid);
        if (n == 1 && pid > 0) {
                n = process_recv(sync_fd, &e, &ignored);
                if (n == 0) {
                        *ret_pid = pid;
                        return 0;
                }
                (void)waitpid(pid, NULL, 0);
        }
        if (n != (ssize_t)sizeof(e))
                return request_fail(req, -ECHILD, "the process died before it started");
        e.what[sizeof(e.what) - 1] = '\0';
        return request_fail(req, e.err > 0 ? -e.err : -EIO, "cannot start the process: %s: %s", e.what,
                            strerror(e.err));
}

/* Opens the namespaces the process joins and the socket it reports its start on. */
static int process_prepare(struct agent *a, const struct container *c, struct nsfds *ns, int sync[2],
                           struct request *req)
{
        int r;

        if (a->opts.sandbox) {
                r = nsfds_open(a, c, ns);
                if (r < 0) {
                        nsfds_close(ns);
                        return request_fail(req, r, "cannot find the pod's namespaces: %s", strerror(-r));
                }
        }
        r = process_sync_socket(sync);
        if (r < 0)
                nsfds_close(ns);
        return r;
}

static int process_start(struct agent *a, struct container *c, const struct spawn *s, const struct stdio *st,
                         struct request *req, pid_t *ret_pid)
{
        struct nsfds ns = { -1, -1, -1, -1, false };
        int sync[2] = { -1, -1 };
        pid_t pid;
        int r;

        r = process_prepare(a, c, &ns, sync, req);
        if (r < 0)
                return r;
        pid = process_clone(ns.pid);
        if (pid == 0) {
                close(sync[0]);
                if (ns.first)
                        process_fork_init(a, c, s, &ns, st->child, sync[1]);
                child_main(a, c, s, &ns, st->child, sync[1]);
        }
        r = pid < 0 ? request_fail(req, -errno, "cannot fork: %m") : 0;
        nsfds_close(&ns);
        safe_close(sync[1]);
        /* The intermediate child exits at once; its status is of no interest. */
        if (r >= 0 && ns.first)
                (void)waitpid(pid, NULL, 0);
        if (r >= 0)
                r = process_wait_start(sync[0], &pid, req);
        safe_close(sync[0]);
        if (r < 0)
                return r;
        if (ns.first)
                c->init_pid = pid;
        *ret_pid = pid;
        return 0;
}

int process_spawn(struct agent *a, struct container *c, const struct spawn *s, struct request *req)
{
        struct stdio st = { { -1, -1, -1 }, -1, -1, -1, -1 };
        struct process *p = NULL;
        pid_t pid = 0;
        int r;

        /* A container's first process that has just exited must not be joined as a zombie. */
        process_reap(a);
        r = process_check(a, s, req);
        if (r < 0)
                return r;
        /* Without spawning (fuzzing) there are no ptys either: pipes exercise the same streams. */
        r = s->terminal && a->opts.spawn ? stdio_pty(a, c, s, &st) : stdio_pipes(s, &st);
        if (r >= 0 && a->opts.spawn)
                r = process_start(a, c, s, &st, req, &pid);
        if (r >= 0)
                r = process_new(a, c, s, &st, &p);
        stdio_close(&st);
        if (r < 0) {
                if (pid > 0)
                        (void)kill(pid, SIGKILL);
                return req->error[0] ? r : request_fail(req, r, "cannot start the process: %s", strerror(-r));
        }
        p->pid = pid;
        p->exited = !a->opts.spawn;
        stream_out_pump(a, p->out);
        stream_out_pump(a, p->err);
        if (p->exited) {
                stream_out_source_exited(a, p->out);
                stream_out_source_exited(a, p->err);
        }
        json_object_object_add(req->reply, "pid", json_object_new_int(pid));
        return 0;
}

static void process_exited(struct agent *a, pid_t pid, int status)
{
        struct process *p = process_find_pid(a, pid);

        for (struct container *c = a->containers; c; c = c->next)
                if (c->init_pid == pid)
                        c->init_pid = 0;
        if (pid == a->pod.init_pid) {
                log_error("The pod init (pid %d) exited", (int)pid);
                a->pod.init_pid = 0;
        }
        if (!p)
                return;
        p->exited = true;
        p->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        log_debug("Process %u (pid %d) exited with status %d", p->id, (int)pid, p->status);
        /* What the pipes still hold is sent, then EOF, then EXIT. */
        stream_out_source_exited(a, p->out);
        stream_out_source_exited(a, p->err);
        stream_in_reader_exited(a, p->in);
}

void process_reap(struct agent *a)
{
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);

                if (pid < 0 && errno == EINTR)
                        continue;
                if (pid <= 0)
                        break;
                process_exited(a, pid, status);
        }
        process_report_exits(a);
}

void process_report_exits(struct agent *a)
{
        struct process *p = a->processes, *next;

        for (; p; p = next) {
                next = p->next;
                /* Every EOF about the process's streams goes out before its EXIT. */
                if (!p->exited || !stream_out_done(a, p->out) || !stream_out_done(a, p->err) ||
                    !stream_in_done(a, p->in))
                        continue;
                request_send_exit(a, p->id, p->status);
                process_free(a, p);
        }
}
