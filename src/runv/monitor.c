/* SPDX-License-Identifier: Apache-2.0 */
#include "monitor-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "mounts.h"
#include "pod.h"
#include "runv.h"
#include "socket-util.h"
#include "status.h"
#include "tapnet.h"

#define MONITOR_STOP_TIMEOUT_MS 10000

/* The signals the monitor passes on to the container's process, as runc's init would get them. */
static const int monitor_forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM };

static void monitor_save(struct monitor *m, enum runv_status status)
{
        m->st.status = status;
        if (state_save(&m->st) < 0)
                runv_error("cannot write the state of %s", m->cfg->id);
}

void monitor_reply(int fd, const char *error)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        const char *text;

        if (!o)
                return;
        if (error)
                json_object_object_add(o, "error", json_object_new_string(error));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        (void)socket_send_fds(fd, text, strlen(text), NULL, 0);
}

void monitor_reply_exit(int fd, int status)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o)
                return;
        json_object_object_add(o, "exit", json_object_new_int(status));
        monitor_reply_json(fd, o);
}

void monitor_reply_json(int fd, struct json_object *o)
{
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

        (void)socket_send_fds(fd, text, strlen(text), NULL, 0);
}

/* The terminal the container's process sees: the client's pty, or our own stdin. */
static int monitor_tty_fd(struct monitor *m)
{
        return m->cfg->console_fd >= 0 ? m->cfg->console_fd : STDIN_FILENO;
}

static void monitor_on_signal(struct agent *a, int fd, void *userdata)
{
        struct monitor *m = userdata;
        struct signalfd_siginfo si;
        struct winsize ws;

        while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGWINCH) {
                        if (ioctl(monitor_tty_fd(m), TIOCGWINSZ, &ws) == 0)
                                pod_winsize(m->pod, MONITOR_INIT, ws.ws_row, ws.ws_col);
                } else if (m->st.status == RUNV_RUNNING || m->st.status == RUNV_PAUSED) {
                        pod_signal(m->pod, MONITOR_INIT, (int)si.ssi_signo);
                }
        }
}

static struct monitor_proc *monitor_proc_find(struct monitor *m, uint32_t id)
{
        for (size_t i = 0; i < m->n_procs; i++)
                if (m->procs[i].id == id)
                        return &m->procs[i];
        return NULL;
}

static void monitor_on_exit(struct agent *a, uint32_t process, int status, void *userdata)
{
        struct monitor *m = userdata;
        struct monitor_proc *p;

        if (monitor_member_on_exit(m, process, status))
                return;
        if (process == MONITOR_INIT) {
                m->init_exited = true;
                m->init_status = status;
                return;
        }
        p = monitor_proc_find(m, process);
        if (p) {
                p->exited = true;
                p->status = status;
        }
}

bool monitor_stdio_done(struct monitor *m, const struct pod_stdio *io)
{
        return agent_stream_done(m->pod->agent, io->out) && agent_stream_done(m->pod->agent, io->err);
}

void monitor_release_stdio(struct monitor *m, const struct pod_stdio *io)
{
        agent_stream_release(m->pod->agent, io->in);
        agent_stream_release(m->pod->agent, io->out);
        agent_stream_release(m->pod->agent, io->err);
}

void monitor_drop_client(struct monitor *m, int fd)
{
        agent_unwatch(m->pod->agent, fd);
        close(fd);
        m->n_clients--;
        for (size_t i = 0; i < m->n_procs; i++)
                if (m->procs[i].conn == fd)
                        m->procs[i].conn = -1;
}

/* Tells each exec client whose process ended, once all its output is out, and forgets the process. */
static void monitor_reap_execs(struct monitor *m)
{
        for (size_t i = 0; i < m->n_procs;) {
                struct monitor_proc *p = &m->procs[i];
                if (!p->exited || !monitor_stdio_done(m, &p->stdio)) {
                        i++;
                        continue;
                }
                if (p->conn >= 0) {
                        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
                        if (o) {
                                json_object_object_add(o, "exit", json_object_new_int(p->status));
                                monitor_reply_json(p->conn, o);
                        }
                        monitor_drop_client(m, p->conn);
                }
                monitor_release_stdio(m, &p->stdio);
                m->procs[i] = m->procs[--m->n_procs];
        }
}

/* Attaches fds to fresh streams: outputs before EXEC, since output may follow at once. */
static int monitor_attach_outputs(struct monitor *m, bool terminal, int in, int out, int err,
                                  struct pod_stdio *io)
{
        struct agent *a = m->pod->agent;
        int r = 0;

        *io = (struct pod_stdio){ 0 };
        if (in >= 0 && fcntl(in, F_GETFD) >= 0)
                io->in = agent_stream_id(a);
        if (out >= 0 && fcntl(out, F_GETFD) >= 0) {
                io->out = agent_stream_id(a);
                r = agent_stream_output(a, io->out, out);
        }
        if (r >= 0 && !terminal && err >= 0 && fcntl(err, F_GETFD) >= 0) {
                io->err = agent_stream_id(a);
                r = agent_stream_output(a, io->err, err);
        }
        return r;
}

int monitor_exec(struct monitor *m, const char *container, uint32_t id, const struct oci_process *p, int in,
                 int out, int err, struct pod_stdio *io, char **ret_error)
{
        int r;

        r = monitor_attach_outputs(m, p->terminal, in, out, err, io);
        if (r < 0)
                return r;
        r = pod_exec(m->pod, container, id, p, io, ret_error);
        if (r >= 0 && io->in)
                r = agent_stream_input(m->pod->agent, io->in, in);
        if (r < 0)
                monitor_release_stdio(m, io);
        return r;
}

static int monitor_start(struct monitor *m, char **ret_error)
{
        struct oci_process *p = m->cfg->spec->process;
        int tty = m->cfg->console_fd;
        struct winsize ws;
        int r;

        if (m->st.status != RUNV_CREATED)
                return -EBUSY;
        if (p->terminal && !p->rows && ioctl(monitor_tty_fd(m), TIOCGWINSZ, &ws) == 0) {
                p->rows = ws.ws_row;
                p->cols = ws.ws_col;
        }
        if (tty >= 0)
                r = monitor_exec(m, m->cfg->id, MONITOR_INIT, p, tty, tty, -1, &m->init_stdio, ret_error);
        else
                r = monitor_exec(m, m->cfg->id, MONITOR_INIT, p, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, &m->init_stdio,
                                 ret_error);
        if (r < 0)
                return r;
        monitor_save(m, RUNV_RUNNING);
        runv_debug("process started");
        return 0;
}

/* Signals whose default action does nothing: they do not end a container that never started. */
bool monitor_signal_ignored(int sig)
{
        return sig == 0 || sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

static const char *monitor_kill(struct monitor *m, int sig, bool all)
{
        if (m->st.status == RUNV_CREATED) {
                /* runc's init waits before exec: a signal ends it as it would any process. */
                if (!monitor_signal_ignored(sig)) {
                        m->init_exited = true;
                        m->init_status = 128 + sig;
                }
                return NULL;
        }
        if (m->st.status != RUNV_RUNNING && m->st.status != RUNV_PAUSED)
                return "container not running";
        /* A paused VM cannot die of SIGKILL until it runs again. */
        if (m->st.status == RUNV_PAUSED && sig == SIGKILL && m->pod->vm->ops->resume(m->pod->vm) >= 0)
                monitor_save(m, RUNV_RUNNING);
        pod_signal(m->pod, MONITOR_INIT, sig);
        for (size_t i = 0; all && i < m->n_procs; i++)
                if (!m->procs[i].exited && strcmp(m->procs[i].container, m->cfg->id) == 0)
                        pod_signal(m->pod, m->procs[i].id, sig);
        return NULL;
}

static const char *monitor_pause(struct monitor *m, bool pause)
{
        struct vm *vm = m->pod->vm;

        if (pause && m->st.status != RUNV_RUNNING)
                return "container not running";
        if (!pause && m->st.status != RUNV_PAUSED)
                return "container not paused";
        if ((pause ? vm->ops->pause(vm) : vm->ops->resume(vm)) < 0)
                return pause ? "cannot pause the VM" : "cannot resume the VM";
        monitor_save(m, pause ? RUNV_PAUSED : RUNV_RUNNING);
        return NULL;
}

static void monitor_ps(struct monitor *m, int fd)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        struct json_object *pids = json_object_new_array();

        if (!o || !pids) {
                json_object_put(pids);
                return;
        }
        if (m->st.status == RUNV_RUNNING || m->st.status == RUNV_PAUSED)
                json_object_array_add(pids, json_object_new_int(getpid()));
        for (size_t i = 0; i < m->n_procs; i++)
                if (!m->procs[i].exited && m->procs[i].peer > 0 && strcmp(m->procs[i].container, m->cfg->id) == 0)
                        json_object_array_add(pids, json_object_new_int(m->procs[i].peer));
        json_object_object_add(o, "pids", pids);
        monitor_reply_json(fd, o);
}

pid_t monitor_peer_pid(int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return 0;
        return cred.pid;
}

static const char *monitor_exec_request(struct monitor *m, int fd, struct json_object *req, int *fds, size_t n_fds,
                                        const char *container, enum runv_status status)
{
        _cleanup_(oci_process_freep) struct oci_process *p = NULL;
        _cleanup_free_ char *err = NULL;
        static char msg[512];
        struct json_object *po;
        struct monitor_proc *proc;
        int r;

        if (status != RUNV_RUNNING)
                return "cannot exec in a container that is not running";
        if (m->n_procs >= MONITOR_MAX_CLIENTS)
                return "too many processes running through exec";
        if (!json_object_object_get_ex(req, "process", &po) || oci_process_parse(po, &p, &err) < 0) {
                snprintf(msg, sizeof(msg), "bad process: %s", err ? err : "missing");
                return msg;
        }
        if (n_fds != (p->terminal ? 1u : 3u))
                return p->terminal ? "exec with a terminal takes one pty" : "exec takes three stdio fds";
        /*
         * Known before the guest is asked: a short process's EXIT comes in
         * the same read as the EXEC's reply, and the agent hands it to
         * monitor_on_exit() while the call still runs. Unknown then, the
         * status was dropped and the client waited for it forever. Nothing
         * else adds or reaps a process while the call runs (watches wait).
         */
        proc = &m->procs[m->n_procs++];
        *proc = (struct monitor_proc){ .id = m->next_process++, .container = container, .conn = fd,
                                       .peer = monitor_peer_pid(fd) };
        r = monitor_exec(m, container, proc->id, p, fds[0], fds[0 + !p->terminal], p->terminal ? -1 : fds[2],
                         &proc->stdio, &err);
        if (r < 0) {
                m->n_procs--;
                snprintf(msg, sizeof(msg), "%s", err ? err : strerror(-r));
                return msg;
        }
        return NULL;
}

/* {"op":"winsize","rows","cols"} on an exec's connection: its terminal in the guest takes the size. */
static const char *monitor_winsize_request(struct monitor *m, int fd, struct json_object *req)
{
        int64_t rows, cols;

        if (json_get_int(req, "rows", 0, 65535, &rows) < 0 || json_get_int(req, "cols", 0, 65535, &cols) < 0)
                return "rows and cols must be numbers from 0 to 65535";
        for (size_t i = 0; i < m->n_procs; i++)
                if (m->procs[i].conn == fd && !m->procs[i].exited) {
                        pod_winsize(m->pod, m->procs[i].id, (unsigned)rows, (unsigned)cols);
                        return NULL;
                }
        return "no process of this connection is running";
}

static const char *monitor_signal_request(struct monitor *m, int fd, struct json_object *req)
{
        int64_t sig;

        if (json_get_int(req, "signal", 0, 64, &sig) < 0)
                return "signal must be a number from 0 to 64";
        for (size_t i = 0; i < m->n_members; i++)
                if (m->members[i]->conn == fd)
                        return monitor_member_dispatch(m, m->members[i], "kill", fd, req, NULL);
        for (size_t i = 0; i < m->n_procs; i++)
                if (m->procs[i].conn == fd && !m->procs[i].exited) {
                        pod_signal(m->pod, m->procs[i].id, (int)sig);
                        return NULL;
                }
        return "no process of this connection is running";
}

static const char *monitor_dispatch(struct monitor *m, int fd, struct json_object *req, int *fds, size_t n_fds,
                                    bool *replied)
{
        _cleanup_free_ char *err = NULL;
        static char msg[512];
        const char *op, *container;
        int64_t sig = SIGTERM;
        bool all = false;

        if (json_get_string(req, "op", &op) < 0)
                return "request without an op";
        if (strcmp(op, "add") == 0)
                return monitor_member_add(m, fd, req, fds, n_fds);
        if (strcmp(op, "mount-block") == 0)
                return monitor_mount_block(m, req);
        if (strcmp(op, "umount-block") == 0)
                return monitor_umount_block(m, req);
        if (json_get_string(req, "container", &container) >= 0 && strcmp(container, m->cfg->id) != 0) {
                struct monitor_member *mb = monitor_member_find(m, container);
                if (!mb)
                        return "container does not exist in this pod";
                if (strcmp(op, "exec") == 0)
                        return monitor_exec_request(m, fd, req, fds, n_fds, mb->st.id, mb->st.status);
                return monitor_member_dispatch(m, mb, op, fd, req, replied);
        }
        if (strcmp(op, "exec") == 0)
                return monitor_exec_request(m, fd, req, fds, n_fds, m->cfg->id, m->st.status);
        if (strcmp(op, "start") == 0) {
                if (m->st.status != RUNV_CREATED)
                        return m->st.status == RUNV_STOPPED ? "cannot start a container that has stopped"
                                                            : "cannot start an already running container";
                if (monitor_start(m, &err) < 0) {
                        snprintf(msg, sizeof(msg), "%s", err ? err : "cannot start the process");
                        return msg;
                }
                return NULL;
        }
        if (strcmp(op, "kill") == 0) {
                if (json_get_int(req, "signal", 0, 64, &sig) < 0 && json_object_object_get_ex(req, "signal", NULL))
                        return "signal must be a number from 0 to 64";
                (void)json_get_bool(req, "all", &all);
                return monitor_kill(m, (int)sig, all);
        }
        if (strcmp(op, "winsize") == 0)
                return monitor_winsize_request(m, fd, req);
        if (strcmp(op, "signal") == 0)
                return monitor_signal_request(m, fd, req);
        if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0)
                return monitor_pause(m, strcmp(op, "pause") == 0);
        if (strcmp(op, "ps") == 0) {
                monitor_ps(m, fd);
                *replied = true;
                return NULL;
        }
        if (strcmp(op, "stop") == 0) {
                if (!m->init_exited) {
                        m->init_exited = true;
                        m->init_status = 128 + SIGKILL;
                }
                m->done = true;
                return NULL;
        }
        return "unknown op";
}

static void monitor_on_client(struct agent *a, int fd, void *userdata)
{
        struct monitor *m = userdata;
        _cleanup_(json_object_putp) struct json_object *req = NULL;
        _cleanup_free_ char *buf = malloc(MONITOR_MAX_MESSAGE);
        int fds[SOCKET_MAX_FDS];
        size_t n_fds = 0;
        bool replied = false;
        const char *error;
        ssize_t n;

        if (!buf)
                return;
        n = socket_recv_fds(fd, buf, MONITOR_MAX_MESSAGE, fds, 3, &n_fds);
        if (n == -EAGAIN)
                return;
        if (n <= 0) {
                monitor_member_conn_closed(m, fd);
                monitor_drop_client(m, fd);
                return;
        }
        if (json_parse_object(buf, (size_t)n, &req) < 0)
                error = "request is not a JSON object";
        else
                error = monitor_dispatch(m, fd, req, fds, n_fds, &replied);
        /* The agent has its own copies of any stdio it kept. */
        for (size_t i = 0; i < n_fds; i++)
                close(fds[i]);
        if (!replied)
                monitor_reply(fd, error);
}

static void monitor_on_accept(struct agent *a, int fd, void *userdata)
{
        struct monitor *m = userdata;
        int c;

        for (;;) {
                c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (c < 0)
                        return;
                if (m->n_clients >= MONITOR_MAX_CLIENTS || agent_watch(a, c, monitor_on_client, m) < 0) {
                        monitor_reply(c, "too many clients");
                        close(c);
                        continue;
                }
                m->n_clients++;
        }
}

static int monitor_block_signals(struct monitor *m)
{
        sigset_t mask;

        sigemptyset(&mask);
        for (size_t i = 0; i < ARRAY_SIZE(monitor_forwarded); i++)
                sigaddset(&mask, monitor_forwarded[i]);
        sigaddset(&mask, SIGWINCH);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        m->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        return m->sigfd < 0 ? -errno : 0;
}

/*
 * A spec that joins a network namespace (the one CNI or Podman set up)
 * gets its interfaces carried into the VM: the monitor moves into that
 * namespace, so that QEMU opens the taps there too.
 */
static const char *monitor_annotation(const struct oci_spec *spec, const char *key)
{
        const char *v = NULL;

        if (spec->annotations)
                (void)json_get_string(spec->annotations, key, &v);
        return v;
}

/* A locally administered unicast MAC for a client's tap, the same for the same container id (FNV-1a). */
static void monitor_tap_mac(const char *id, uint8_t ret[6])
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (const char *p = id; *p; p++)
                h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        ret[0] = 0x02;
        for (int i = 1; i < 6; i++)
                ret[i] = (uint8_t)(h >> (8 * (i - 1)));
}

/*
 * The annotation TAPNET_ANNOTATION_TAP names a tap of the client's, in the
 * network namespace the monitor ends up in, that the VM gets as a NIC as it is.
 */
static int monitor_plan_user_tap(struct monitor *m, char **ret_error)
{
        const struct oci_spec *spec = m->cfg->spec;
        const char *tap = monitor_annotation(spec, TAPNET_ANNOTATION_TAP);
        uint8_t mac[6];

        if (!tap)
                return 0;
        monitor_tap_mac(m->cfg->id, mac);
        return tapnet_add_user_tap(m->plan.net, tap, mac, monitor_annotation(spec, TAPNET_ANNOTATION_TAP_ADDRESS),
                                   monitor_annotation(spec, TAPNET_ANNOTATION_TAP_GATEWAY), ret_error);
}

static int monitor_plan_network(struct monitor *m, char **ret_error)
{
        const char *path = oci_spec_netns_path(m->cfg->spec);
        const char *unaddressed = monitor_annotation(m->cfg->spec, TAPNET_ANNOTATION_UNADDRESSED);
        struct monitor_plan *plan = &m->plan;
        _cleanup_close_ int fd = -1;
        int r;

        if (!path && !monitor_annotation(m->cfg->spec, TAPNET_ANNOTATION_TAP))
                return 0;
        if (path) {
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
                        if (asprintf(ret_error, "cannot join the network namespace %s: %s", path, strerror(errno)) <
                            0)
                                *ret_error = NULL;
                        return -errno;
                }
                r = tapnet_setup_links(&plan->net, unaddressed && strcmp(unaddressed, "true") == 0, ret_error);
        } else
                r = tapnet_open(&plan->net, ret_error);
        if (r >= 0)
                r = monitor_plan_user_tap(m, ret_error);
        if (r < 0)
                return r;
        if (plan->net->n_links == 0)
                return 0;
        r = tapnet_vm_nics(plan->net, &plan->nics);
        if (r < 0)
                return r;
        plan->network = tapnet_to_json(plan->net);
        return plan->network ? 0 : -ENOMEM;
}

static void monitor_plan_free(struct monitor_plan *plan)
{
        runv_mounts_free(&plan->mounts);
        json_object_put(plan->network);
        free(plan->nics);
        /* The taps go once the VM that used them is gone. */
        tapnet_teardown(plan->net);
        *plan = (struct monitor_plan){ 0 };
}

static int monitor_boot(struct monitor *m, char **ret_error)
{
        _cleanup_free_ char *state_dir = runv_state_dir(m->cfg->id);
        const struct oci_spec *spec = m->cfg->spec;
        struct monitor_plan *plan = &m->plan;
        struct pod_container c;
        struct pod_config pc;
        int r;

        if (!state_dir)
                return -ENOMEM;
        r = runv_mounts_plan(&plan->mounts, m->cfg->id, m->cfg->bundle, m->cfg->rootfs, spec, ret_error);
        if (r >= 0)
                r = monitor_plan_network(m, ret_error);
        if (r >= 0)
                r = pod_private_mounts();
        if (r < 0)
                return r;
        pc = (struct pod_config){
                .id = m->cfg->id, .state_dir = state_dir, .hostname = spec->hostname,
                .vcpus = oci_spec_vcpus(spec), .memory_mib = oci_spec_memory_mib(spec),
                .binds = plan->mounts.binds, .n_binds = plan->mounts.n_binds,
                .nics = plan->nics, .n_nics = plan->nics ? plan->net->n_links : 0, .network = plan->network,
        };
        runv_debug("starting the pod");
        r = pod_start(&pc, &m->pod, ret_error);
        if (r < 0)
                return r;
        runv_debug("guest kernel %s is up", m->pod->kernel_version ? m->pod->kernel_version : "?");
        c = (struct pod_container){
                .id = m->cfg->id, .rootfs = plan->mounts.targets[0], .hostname = spec->hostname,
                .readonly = spec->root_readonly, .mounts = plan->mounts.mounts,
                .masked_paths = spec->masked_paths, .readonly_paths = spec->readonly_paths,
        };
        return pod_add_container(m->pod, &c, ret_error);
}

static int monitor_listen(struct monitor *m)
{
        int r;

        if (asprintf(&m->socket_path, "%s/%s/monitor.sock", runv.root, m->cfg->id) < 0)
                return -ENOMEM;
        m->listen_fd = socket_listen_unix(m->socket_path, SOCK_SEQPACKET);
        if (m->listen_fd < 0)
                return m->listen_fd;
        r = fd_nonblock(m->listen_fd, true);
        if (r < 0)
                return r;
        r = agent_watch(m->pod->agent, m->listen_fd, monitor_on_accept, m);
        if (r >= 0)
                r = agent_watch(m->pod->agent, m->sigfd, monitor_on_signal, m);
        return r;
}

static int monitor_init_state(struct monitor *m)
{
        m->st = (struct runv_state){
                .id = (char *)m->cfg->id,
                .bundle = (char *)m->cfg->bundle,
                .rootfs = (char *)m->cfg->rootfs,
                .status = RUNV_CREATING,
                .pid = getpid(),
                .exit_code = -1,
                .annotations = m->cfg->spec->annotations,
        };
        m->st.created = state_now();
        if (!m->st.created || proc_start_time(getpid(), &m->st.pid_start) < 0)
                return -ENOMEM;
        return state_save(&m->st);
}

static void monitor_ready(struct monitor *m, const char *error)
{
        const char *text = error ? error : "ok";

        if (m->cfg->ready_fd < 0)
                return;
        (void)loop_write(m->cfg->ready_fd, text, strlen(text));
        close(m->cfg->ready_fd);
}

/* The container ran: the loop lasts until its process ended and its output is all out. */
static int monitor_loop(struct monitor *m)
{
        int r;

        while (!m->done) {
                if (m->init_exited && (m->st.status == RUNV_CREATED || monitor_stdio_done(m, &m->init_stdio)))
                        break;
                r = agent_process(m->pod->agent, -1);
                if (r < 0) {
                        runv_error("lost the guest of %s: %s", m->cfg->id,
                                   agent_error(m->pod->agent) ? agent_error(m->pod->agent) : strerror(-r));
                        if (!m->init_exited)
                                m->init_status = 128 + SIGKILL;
                        break;
                }
                monitor_reap_execs(m);
                monitor_member_reap(m);
        }
        /* EXITs the agent held during a last call: the execs they end get their real status. */
        (void)agent_deliver_held_exits(m->pod->agent);
        return m->init_exited ? m->init_status : m->init_status ? m->init_status : 128 + SIGKILL;
}

static void monitor_finish(struct monitor *m, int status)
{
        m->st.exit_code = status;
        monitor_save(m, RUNV_STOPPED);
        monitor_member_finish_all(m);
        /* Exec clients whose processes died with the container get their status too. */
        for (size_t i = 0; i < m->n_procs; i++)
                if (m->procs[i].conn >= 0) {
                        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
                        json_object_object_add(o, "exit",
                                               json_object_new_int(m->procs[i].exited ? m->procs[i].status
                                                                                      : 128 + SIGKILL));
                        monitor_reply_json(m->procs[i].conn, o);
                }
        if (m->socket_path)
                unlink(m->socket_path);
        if (m->pod) {
                runv_debug("stopping the pod");
                pod_stop(m->pod, MONITOR_STOP_TIMEOUT_MS);
                pod_free(m->pod);
                runv_debug("pod stopped");
        }
        monitor_plan_free(&m->plan);
        monitor_disks_free(m);
        safe_close(m->listen_fd);
        safe_close(m->sigfd);
        free(m->socket_path);
        free(m->st.created);
}

int monitor_main(const struct monitor_config *cfg)
{
        struct monitor m = { .cfg = cfg, .listen_fd = -1, .sigfd = -1, .next_process = MONITOR_INIT + 1 };
        _cleanup_free_ char *err = NULL;
        int r, status;

        r = monitor_block_signals(&m);
        if (r >= 0)
                r = monitor_init_state(&m);
        if (r >= 0)
                r = monitor_boot(&m, &err);
        if (r >= 0)
                r = monitor_listen(&m);
        if (r >= 0) {
                agent_on_exit(m.pod->agent, monitor_on_exit, &m);
                monitor_save(&m, RUNV_CREATED);
                if (cfg->start)
                        r = monitor_start(&m, &err);
        }
        if (r < 0) {
                if (!err && asprintf(&err, "cannot create the container: %s", strerror(-r)) < 0)
                        err = NULL;
                monitor_ready(&m, err ? err : "cannot create the container");
                if (cfg->ready_fd < 0)
                        runv_error("%s", err ? err : strerror(-r));
                monitor_finish(&m, 1);
                return 1;
        }
        monitor_ready(&m, NULL);
        status = monitor_loop(&m);
        runv_debug("process exited with %d", status);
        monitor_finish(&m, status);
        return status;
}
