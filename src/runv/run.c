/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "oci-spec.h"
#include "pod.h"
#include "runv.h"

#define RUN_STOP_TIMEOUT_MS 10000

/* The signals runv passes on to the container's process, as runc run does. */
static const int run_forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT };

struct run {
        const char *id;
        const char *bundle;
        const char *pid_file;
        struct oci_spec *spec;
        char *rootfs;
        char *state_dir;
        struct pod *pod;
        uint32_t process;
        struct pod_stdio stdio;
        bool exited;
        int status;
        int sigfd;
        bool raw;
        struct termios saved_tty;
};

static void run_on_exit(struct agent *a, uint32_t process, int status, void *userdata)
{
        struct run *run = userdata;

        if (process != run->process)
                return;
        run->exited = true;
        run->status = status;
}

static void run_send_winsize(struct run *run)
{
        struct winsize ws;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                pod_winsize(run->pod, run->process, ws.ws_row, ws.ws_col);
}

static void run_on_signal(struct agent *a, int fd, void *userdata)
{
        struct run *run = userdata;
        struct signalfd_siginfo si;

        while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGWINCH)
                        run_send_winsize(run);
                else if (!run->exited)
                        pod_signal(run->pod, run->process, (int)si.ssi_signo);
        }
}

static int run_block_signals(struct run *run)
{
        sigset_t mask;

        sigemptyset(&mask);
        for (size_t i = 0; i < ARRAY_SIZE(run_forwarded); i++)
                sigaddset(&mask, run_forwarded[i]);
        sigaddset(&mask, SIGWINCH);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        run->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        return run->sigfd < 0 ? -errno : 0;
}

/* With a terminal, the caller's own tty goes raw so that keys reach the guest's pty unchanged. */
static void run_tty_raw(struct run *run)
{
        struct termios raw;

        if (!run->spec->process->terminal || !isatty(STDIN_FILENO))
                return;
        if (tcgetattr(STDIN_FILENO, &run->saved_tty) < 0)
                return;
        raw = run->saved_tty;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
                run->raw = true;
}

static int run_parse(struct run *run, int argc, char **argv)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },   { "pid-file", required_argument, NULL, 'p' },
                { "detach", no_argument, NULL, 'd' },         { "console-socket", required_argument, NULL, 'c' },
                { "no-pivot", no_argument, NULL, 'P' },       { "no-new-keyring", no_argument, NULL, 'K' },
                { "preserve-fds", required_argument, NULL, 'F' }, { "keep", no_argument, NULL, 'k' },
                { "no-subreaper", no_argument, NULL, 'S' },   {}
        };
        int c;

        run->bundle = ".";
        while ((c = getopt_long(argc, argv, "b:d", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        run->bundle = optarg;
                        break;
                case 'p':
                        run->pid_file = optarg;
                        break;
                case 'd':
                        return runv_error("run --detach is not supported yet: the process runs in the foreground");
                case 'c':
                        return runv_error("run --console-socket is not supported yet");
                case 'P':
                case 'K':
                case 'F':
                case 'k':
                case 'S':
                        break;
                default:
                        return runv_error("usage: runv run [--bundle DIR] [--pid-file FILE] ID");
                }
        }
        if (optind != argc - 1)
                return runv_error("run needs exactly one container id; usage: runv run [--bundle DIR] ID");
        run->id = argv[optind];
        if (!runv_id_valid(run->id))
                return runv_error("invalid container id %s: use letters, digits and _+-.", run->id);
        return 0;
}

static int run_load(struct run *run)
{
        _cleanup_free_ char *err = NULL, *joined = NULL;
        char resolved[PATH_MAX];
        int r;

        r = oci_spec_load(run->bundle, &run->spec, &err);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        if (!run->spec->process)
                return runv_error("config.json: process is missing");
        if (run->spec->root_path[0] == '/')
                joined = strdup(run->spec->root_path);
        else if (asprintf(&joined, "%s/%s", run->bundle, run->spec->root_path) < 0)
                joined = NULL;
        if (!joined)
                return runv_error("out of memory");
        if (!realpath(joined, resolved))
                return runv_error("rootfs %s: %s", joined, strerror(errno));
        run->rootfs = strdup(resolved);
        return run->rootfs ? 0 : runv_error("out of memory");
}

static int run_claim_state(struct run *run)
{
        int r;

        r = mkdir_p(runv.root, 0700);
        if (r < 0)
                return runv_error("cannot create %s: %s", runv.root, strerror(-r));
        run->state_dir = runv_state_dir(run->id);
        if (!run->state_dir)
                return runv_error("out of memory");
        if (mkdir(run->state_dir, 0700) < 0) {
                free(TAKE_PTR(run->state_dir));
                if (errno == EEXIST)
                        return runv_error("container with given ID already exists");
                return runv_error("cannot create the state folder: %s", strerror(errno));
        }
        return 0;
}

static int run_start_pod(struct run *run)
{
        _cleanup_free_ char *err = NULL, *target = NULL;
        struct pod_bind bind;
        struct pod_config cfg = {
                .id = run->id,
                .state_dir = run->state_dir,
                .hostname = run->spec->hostname,
                .vcpus = oci_spec_vcpus(run->spec),
                .memory_mib = oci_spec_memory_mib(run->spec),
                .binds = &bind,
                .n_binds = 1,
        };
        int r;

        if (asprintf(&target, "%s/rootfs", run->id) < 0)
                return runv_error("out of memory");
        bind = (struct pod_bind){ .source = run->rootfs, .target = target };
        r = pod_private_mounts();
        if (r < 0)
                return runv_error("cannot make a private mount namespace: %s", strerror(-r));
        r = pod_start(&cfg, &run->pod, &err);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        runv_debug("guest kernel %s is up", run->pod->kernel_version ? run->pod->kernel_version : "?");
        r = pod_add_container(run->pod, run->id, target, run->spec->root_readonly, run->spec->hostname, &err);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        return 0;
}

static int run_attach_stdio(struct run *run)
{
        struct agent *a = run->pod->agent;
        int r = 0;

        /*
         * A closed fd of the caller's is /dev/null to the process. Output
         * streams are attached before EXEC, since output can follow at once;
         * stdin only after the guest knows the stream (run_process).
         */
        if (fcntl(STDIN_FILENO, F_GETFD) >= 0)
                run->stdio.in = agent_stream_id(a);
        if (fcntl(STDOUT_FILENO, F_GETFD) >= 0) {
                run->stdio.out = agent_stream_id(a);
                r = agent_stream_output(a, run->stdio.out, STDOUT_FILENO);
        }
        if (r >= 0 && !run->spec->process->terminal && fcntl(STDERR_FILENO, F_GETFD) >= 0) {
                run->stdio.err = agent_stream_id(a);
                r = agent_stream_output(a, run->stdio.err, STDERR_FILENO);
        }
        if (r >= 0)
                r = agent_watch(a, run->sigfd, run_on_signal, run);
        return r < 0 ? runv_error("cannot set up the container's stdio: %s", strerror(-r)) : 0;
}

static int run_write_pid_file(struct run *run)
{
        char pid[32];
        int r, n;

        if (!run->pid_file)
                return 0;
        n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
        r = write_file_atomic(run->pid_file, pid, (size_t)n, 0644);
        return r < 0 ? runv_error("cannot write %s: %s", run->pid_file, strerror(-r)) : 0;
}

static int run_process(struct run *run)
{
        struct oci_process *p = run->spec->process;
        _cleanup_free_ char *err = NULL;
        struct winsize ws;
        int r;

        if (p->terminal && !p->rows && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                p->rows = ws.ws_row;
                p->cols = ws.ws_col;
        }
        run->process = 1;
        agent_on_exit(run->pod->agent, run_on_exit, run);
        r = pod_exec(run->pod, run->id, run->process, p, &run->stdio, &err);
        if (r < 0)
                return runv_error("%s", err ? err : strerror(-r));
        if (run->stdio.in) {
                r = agent_stream_input(run->pod->agent, run->stdio.in, STDIN_FILENO);
                if (r < 0)
                        return runv_error("cannot relay stdin: %s", strerror(-r));
        }
        r = run_write_pid_file(run);
        if (r != 0)
                return r;
        run_tty_raw(run);
        /* All output is in once the process exited and both streams saw EOF. */
        while (!run->exited || !agent_stream_done(run->pod->agent, run->stdio.out) ||
               !agent_stream_done(run->pod->agent, run->stdio.err)) {
                r = agent_process(run->pod->agent, -1);
                if (r < 0)
                        return runv_error("lost the guest: %s",
                                          agent_error(run->pod->agent) ? agent_error(run->pod->agent)
                                                                       : strerror(-r));
        }
        return 0;
}

static void run_cleanup(struct run *run)
{
        if (run->raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &run->saved_tty);
        if (run->pod) {
                pod_stop(run->pod, RUN_STOP_TIMEOUT_MS);
                pod_free(run->pod);
        }
        if (run->state_dir) {
                _cleanup_free_ char *bind = NULL;
                if (asprintf(&bind, "%s/share/%s/rootfs", run->state_dir, run->id) >= 0)
                        umount2(bind, MNT_DETACH);
                rm_rf(run->state_dir);
                free(run->state_dir);
        }
        safe_close(run->sigfd);
        free(run->rootfs);
        oci_spec_free(run->spec);
}

int runv_cmd_run(int argc, char **argv)
{
        struct run run = { .sigfd = -1 };
        int r;

        r = run_parse(&run, argc, argv);
        if (r == 0)
                r = run_load(&run);
        if (r == 0 && run_block_signals(&run) < 0)
                r = runv_error("cannot set up signal handling: %s", strerror(errno));
        if (r == 0)
                r = run_claim_state(&run);
        if (r == 0)
                r = run_start_pod(&run);
        if (r == 0)
                r = run_attach_stdio(&run);
        if (r == 0)
                r = run_process(&run);
        run_cleanup(&run);
        return r != 0 ? r : run.status;
}
