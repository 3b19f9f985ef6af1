/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QEMU driver. launch() binds the VM's sockets itself and hands them to
 * QEMU (and virtiofsd) as listening fds, so they exist before either
 * program runs and no one ever waits for a socket file to appear. QMP is
 * opened per operation: QEMU serves one QMP client at a time, and a pod's
 * monitor and a restarted daemon must both be able to reach it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd-util.h"
#include "hypervisor-internal.h"
#include "macros.h"
#include "process.h"
#include "qemu-internal.h"
#include "qmp.h"
#include "socket-util.h"

#define QEMU_BINARY "qemu-system-x86_64"
#define QEMU_VIRTIOFSD "/usr/lib/qemu/virtiofsd"
#define QEMU_STATE_FILE "vm.json"
#define QEMU_LOG_FILE "qemu.log"
#define QEMU_VIRTIOFSD_LOG_FILE "virtiofsd.log"

/* QEMU answers QMP within milliseconds; these bound a hung or dying QEMU. */
#define QEMU_QMP_START_TIMEOUT_MS (30 * 1000)
#define QEMU_QMP_TIMEOUT_MS (10 * 1000)
#define QEMU_QUIT_TIMEOUT_MS (3 * 1000)
/* Linux's pciehp waits 5 s after the attention button before it ejects a device. */
#define QEMU_UNPLUG_TIMEOUT_MS (20 * 1000)

struct qemu_priv {
        enum qemu_machine machine;
        unsigned hotplug_ports;
        int pidfd;
        int helper_pidfd;
        bool ended; /* QEMU and virtiofsd are gone (and reaped, if owned) */
        int status; /* QEMU's exit status once ended; -1 when unknown */
        char *virtiofsd_socket;
        char *state_file;
};

static const char *const qemu_socket_names[] = { "qmp.sock", "ctl.sock", "stream.sock",
                                                 "virtiofsd.sock", QEMU_STATE_FILE };

static void qemu_priv_free(struct qemu_priv *p)
{
        if (!p)
                return;
        safe_close(p->pidfd);
        safe_close(p->helper_pidfd);
        free(p->virtiofsd_socket);
        free(p->state_file);
        free(p);
}

static void qemu_vm_free_memory(struct vm *vm)
{
        qemu_priv_free(vm->priv);
        free(vm->id);
        free(vm->state_dir);
        free(vm->ctl_socket);
        free(vm->stream_socket);
        free(vm->qmp_socket);
        free(vm->console_log);
        free(vm);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vm *, qemu_vm_free_memory);

static struct qemu_priv *qemu_priv(struct vm *vm)
{
        return vm->priv;
}

/* Allocates a vm with its paths under state_dir; processes come later. */
static int qemu_vm_new(const char *id, const char *state_dir, struct vm **ret)
{
        _cleanup_(qemu_vm_free_memoryp) struct vm *vm = calloc(1, sizeof(*vm));
        struct qemu_priv *p;

        if (!vm)
                return -ENOMEM;
        vm->ops = &qemu_ops;
        vm->priv = p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->pidfd = p->helper_pidfd = -1;
        p->status = -1;
        vm->id = strdup(id);
        vm->state_dir = strdup(state_dir);
        vm->qmp_socket = hypervisor_path_join(state_dir, "qmp.sock");
        vm->ctl_socket = hypervisor_path_join(state_dir, "ctl.sock");
        vm->stream_socket = hypervisor_path_join(state_dir, "stream.sock");
        vm->console_log = hypervisor_path_join(state_dir, "console.log");
        p->virtiofsd_socket = hypervisor_path_join(state_dir, "virtiofsd.sock");
        p->state_file = hypervisor_path_join(state_dir, QEMU_STATE_FILE);
        if (!vm->id || !vm->state_dir || !vm->qmp_socket || !vm->ctl_socket ||
            !vm->stream_socket || !vm->console_log || !p->virtiofsd_socket || !p->state_file)
                return -ENOMEM;
        *ret = TAKE_PTR(vm);
        return 0;
}

/* Removes the sockets and the state record; the logs stay for whoever asks why. */
static void qemu_remove_files(struct vm *vm)
{
        for (size_t i = 0; i < ARRAY_SIZE(qemu_socket_names); i++) {
                _cleanup_free_ char *path = hypervisor_path_join(vm->state_dir,
                                                                 qemu_socket_names[i]);
                if (path)
                        (void)unlink(path);
        }
}

static int qemu_listen(const char *path, int *ret_fd)
{
        int fd = socket_listen_unix(path, SOCK_STREAM);

        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

static int qemu_open_log(const char *state_dir, const char *name)
{
        _cleanup_free_ char *path = hypervisor_path_join(state_dir, name);
        int fd;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
        return fd < 0 ? -errno : fd;
}

/* HYPER_ACCEL=kvm|tcg decides when the caller left it to us. */
static int qemu_choose_accel(enum vm_accel want, enum vm_accel *ret)
{
        const char *env = getenv("HYPER_ACCEL");

        if (want == VM_ACCEL_AUTO && env && *env) {
                if (qemu_accel_from_string(env, &want) < 0)
                        return -EINVAL;
        }
        if (want == VM_ACCEL_AUTO)
                want = hypervisor_kvm_usable() ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        *ret = want;
        return 0;
}

/* HYPER_SHARE=virtiofs|9p decides when the caller left it to us. */
static int qemu_choose_share(const struct vm_config *cfg, enum vm_share *ret)
{
        const char *env = getenv("HYPER_SHARE");
        enum vm_share want = cfg->share;

        if (!cfg->share_dir) {
                *ret = VM_SHARE_NONE;
                return 0;
        }
        if (want == VM_SHARE_AUTO && env && *env) {
                if (qemu_share_from_string(env, &want) < 0)
                        return -EINVAL;
        }
        if (want == VM_SHARE_AUTO)
                want = access(QEMU_VIRTIOFSD, X_OK) == 0 ? VM_SHARE_VIRTIOFS : VM_SHARE_9P;
        *ret = want;
        return 0;
}

/* HYPER_MACHINE=q35 is for measurements and for guests without microvm support. */
static int qemu_choose_machine(enum qemu_machine *ret)
{
        const char *env = getenv("HYPER_MACHINE");

        if (env && *env)
                return qemu_machine_from_string(env, ret);
        *ret = QEMU_MACHINE_MICROVM;
        return 0;
}

static bool qemu_ifname_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n >= 16)
                return false;
        for (size_t i = 0; i < n; i++)
                if (name[i] == '/' || name[i] == ',' || name[i] <= ' ' || name[i] == ':')
                        return false;
        return true;
}

static bool qemu_nics_valid(const struct vm_config *cfg)
{
        if (cfg->n_nics > VM_NICS_MAX || (cfg->n_nics > 0 && !cfg->nics))
                return false;
        for (size_t i = 0; i < cfg->n_nics; i++)
                if (!qemu_ifname_valid(cfg->nics[i].tap))
                        return false;
        return true;
}

static int qemu_plan_init(const struct vm_config *cfg, struct qemu_plan *plan)
{
        int r;

        *plan = (struct qemu_plan){
                .binary = getenv("HYPER_QEMU") ?: QEMU_BINARY,
                .id = cfg->id,
                .vcpus = cfg->vcpus ?: 1,
                .memory_mib = cfg->memory_mib ?: 128,
                .kernel = cfg->kernel,
                .initrd = cfg->initrd,
                .cmdline_extra = cfg->cmdline_extra,
                .debug_console = cfg->debug_console,
                .share_dir = cfg->share_dir,
                .hotplug_ports = QEMU_HOTPLUG_PORTS,
                .nics = cfg->nics,
                .n_nics = cfg->n_nics,
        };
        if (!qemu_nics_valid(cfg))
                return -EINVAL;
        if ((r = qemu_choose_accel(cfg->accel, &plan->accel)) < 0 ||
            (r = qemu_choose_share(cfg, &plan->share)) < 0 ||
            (r = qemu_choose_machine(&plan->machine)) < 0)
                return r;
        if (plan->machine == QEMU_MACHINE_MICROVM)
                plan->tsc_khz = hypervisor_tsc_khz();
        return 0;
}

/* Resolves a bare program name on PATH, since the child calls execve(). */
static int qemu_find_program(const char *name, char **ret)
{
        _cleanup_free_ char *copy = NULL;
        const char *path = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";
        char *dir, *save = NULL;

        if (strchr(name, '/'))
                return (*ret = strdup(name)) ? 0 : -ENOMEM;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = hypervisor_path_join(dir, name);
                if (!p)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

static int qemu_spawn_virtiofsd(struct vm *vm, const char *source)
{
        struct qemu_priv *p = qemu_priv(vm);
        _cleanup_close_ int listen_fd = -1, log_fd = -1;
        char **argv = NULL;
        int r;

        r = qemu_listen(p->virtiofsd_socket, &listen_fd);
        if (r < 0)
                return r;
        log_fd = qemu_open_log(vm->state_dir, QEMU_VIRTIOFSD_LOG_FILE);
        if (log_fd < 0)
                return log_fd;
        r = qemu_argv_virtiofsd(getenv("HYPER_VIRTIOFSD") ?: QEMU_VIRTIOFSD, source, &argv);
        if (r < 0)
                return r;
        r = process_spawn(&(struct process_spec){ .argv = argv, .fds = &listen_fd, .n_fds = 1,
                                                  .output_fd = log_fd },
                          &vm->helper_pid, &p->helper_pidfd);
        qemu_argv_free(argv);
        return r;
}

static int qemu_spawn_qemu(struct vm *vm, struct qemu_plan *plan)
{
        _cleanup_close_ int qmp_fd = -1, ctl_fd = -1, stream_fd = -1, log_fd = -1;
        _cleanup_free_ char *binary = NULL;
        const char *name = plan->binary;
        char **argv = NULL;
        int r;

        if ((r = qemu_listen(vm->qmp_socket, &qmp_fd)) < 0 ||
            (r = qemu_listen(vm->ctl_socket, &ctl_fd)) < 0 ||
            (r = qemu_listen(vm->stream_socket, &stream_fd)) < 0)
                return r;
        log_fd = qemu_open_log(vm->state_dir, QEMU_LOG_FILE);
        if (log_fd < 0)
                return log_fd;
        r = qemu_find_program(plan->binary, &binary);
        if (r < 0)
                return r;
        plan->binary = binary;
        r = qemu_argv_build(plan, &argv);
        plan->binary = name;
        if (r < 0)
                return r;
        /* The order matches QEMU_FD_QMP, QEMU_FD_CTL and QEMU_FD_STREAM. */
        r = process_spawn(&(struct process_spec){ .argv = argv,
                                                  .fds = (int[]){ qmp_fd, ctl_fd, stream_fd },
                                                  .n_fds = 3,
                                                  .output_fd = log_fd },
                          &vm->pid, &qemu_priv(vm)->pidfd);
        qemu_argv_free(argv);
        return r;
}

static int qemu_write_state(struct vm *vm)
{
        struct qemu_priv *p = qemu_priv(vm);
        struct qemu_state st = {
                .id = vm->id,
                .machine = (char *)qemu_machine_to_string(p->machine),
                .accel = vm->accel,
                .share = vm->share,
                .pid = vm->pid,
                .helper_pid = vm->helper_pid,
                .qmp_socket = vm->qmp_socket,
                .ctl_socket = vm->ctl_socket,
                .stream_socket = vm->stream_socket,
                .console_log = vm->console_log,
                .virtiofsd_socket = vm->share == VM_SHARE_VIRTIOFS ? p->virtiofsd_socket : NULL,
                .hotplug_ports = p->hotplug_ports,
        };
        _cleanup_free_ char *text = NULL;
        int r;

        if ((r = process_start_time(vm->pid, &st.pid_start)) < 0)
                return r;
        if (vm->helper_pid > 0 && (r = process_start_time(vm->helper_pid, &st.helper_start)) < 0)
                return r;
        r = qemu_state_to_json(&st, &text);
        if (r < 0)
                return r;
        return write_file_atomic(p->state_file, text, strlen(text), 0600);
}

/* Ends whatever a failed or finished VM left: processes, then sockets. */
static void qemu_stop_processes(struct vm *vm)
{
        struct qemu_priv *p = qemu_priv(vm);

        if (p->ended)
                return;
        if (vm->pid > 0)
                (void)process_kill_wait(vm->pid, p->pidfd, vm->owned);
        if (vm->helper_pid > 0)
                (void)process_kill_wait(vm->helper_pid, p->helper_pidfd, vm->owned);
        p->ended = true;
        p->status = -1;
}

static int qemu_start(struct vm *vm, const struct vm_config *cfg, struct qemu_plan *plan)
{
        _cleanup_qmp_ struct qmp *qmp = NULL;
        int r;

        vm->accel = plan->accel;
        vm->share = plan->share;
        qemu_priv(vm)->machine = plan->machine;
        qemu_priv(vm)->hotplug_ports = plan->hotplug_ports;
        plan->console_log = vm->console_log;
        plan->virtiofsd_socket = qemu_priv(vm)->virtiofsd_socket;
        if (plan->share == VM_SHARE_VIRTIOFS && (r = qemu_spawn_virtiofsd(vm, cfg->share_dir)) < 0)
                return r;
        r = qemu_spawn_qemu(vm, plan);
        if (r < 0)
                return r;
        /* QEMU greets on QMP once its devices are realized: the VM is up. */
        r = qmp_connect(vm->qmp_socket, QEMU_QMP_START_TIMEOUT_MS, &qmp);
        if (r < 0)
                return r == -ECONNRESET || r == -EPIPE ? -ECHILD : r;
        return qemu_write_state(vm);
}

/* One attempt with the plan as it stands; on failure nothing is left running. */
static int qemu_launch_plan(const struct vm_config *cfg, struct qemu_plan *plan, struct vm **ret)
{
        _cleanup_(qemu_vm_free_memoryp) struct vm *vm = NULL;
        int r;

        r = qemu_vm_new(cfg->id, cfg->state_dir, &vm);
        if (r < 0)
                return r;
        vm->owned = true;
        r = qemu_start(vm, cfg, plan);
        if (r < 0) {
                qemu_stop_processes(vm);
                qemu_remove_files(vm);
                return r;
        }
        *ret = TAKE_PTR(vm);
        return 0;
}

static bool qemu_env_set(const char *name)
{
        const char *v = getenv(name);

        return v && *v;
}

/*
 * Falls back when the choice was ours: a /dev/kvm that creates VMs may still
 * fail to run one (nested KVM that rejects the host CPU's MSRs), and
 * virtiofsd may fail in a container. Each fallback ends the attempt before.
 */
static int qemu_launch(const struct vm_config *cfg, struct vm **ret)
{
        bool accel_ours = cfg && cfg->accel == VM_ACCEL_AUTO && !qemu_env_set("HYPER_ACCEL");
        bool share_ours = cfg && cfg->share == VM_SHARE_AUTO && !qemu_env_set("HYPER_SHARE");
        struct qemu_plan plan;
        int r;

        if (!cfg || !cfg->id || !cfg->state_dir || !cfg->kernel || !ret)
                return -EINVAL;
        if (access(cfg->kernel, R_OK) < 0 || (cfg->initrd && access(cfg->initrd, R_OK) < 0))
                return -errno;
        r = qemu_plan_init(cfg, &plan);
        if (r < 0)
                return r;
        r = qemu_launch_plan(cfg, &plan, ret);
        if (r < 0 && accel_ours && plan.accel == VM_ACCEL_KVM) {
                plan.accel = VM_ACCEL_TCG;
                r = qemu_launch_plan(cfg, &plan, ret);
        }
        if (r < 0 && share_ours && plan.share == VM_SHARE_VIRTIOFS) {
                plan.share = VM_SHARE_9P;
                r = qemu_launch_plan(cfg, &plan, ret);
        }
        return r;
}

/* A pidfd for a recorded process, if it is still the one recorded. */
static int qemu_open_recorded(pid_t pid, unsigned long long start, int *ret_pidfd)
{
        unsigned long long now;
        int r;

        r = process_start_time(pid, &now);
        if (r < 0)
                return r;
        if (now != start)
                return -ESRCH; /* the pid was recycled */
        r = process_open(pid, ret_pidfd);
        if (r < 0)
                return r;
        /* It could have died and its pid been reused between the two looks. */
        if (process_start_time(pid, &now) < 0 || now != start) {
                *ret_pidfd = safe_close(*ret_pidfd);
                return -ESRCH;
        }
        return 0;
}

static int qemu_associate_state(struct vm *vm, struct qemu_state *st)
{
        struct qemu_priv *p = qemu_priv(vm);
        enum qemu_machine machine;
        int r;

        if (qemu_machine_from_string(st->machine, &machine) < 0)
                return -EBADMSG;
        p->machine = machine;
        p->hotplug_ports = st->hotplug_ports;
        vm->accel = st->accel;
        vm->share = st->share;
        r = qemu_open_recorded(st->pid, st->pid_start, &p->pidfd);
        if (r < 0)
                return r;
        vm->pid = st->pid;
        /* A virtiofsd that is gone is not an error: QEMU is what the VM is. */
        if (st->helper_pid > 0 && qemu_open_recorded(st->helper_pid, st->helper_start,
                                                     &p->helper_pidfd) == 0)
                vm->helper_pid = st->helper_pid;
        return 0;
}

static int qemu_associate(const char *state_dir, struct vm **ret)
{
        _cleanup_(qemu_vm_free_memoryp) struct vm *vm = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct qemu_state st = {};
        int r;

        if (!state_dir || !ret)
                return -EINVAL;
        path = hypervisor_path_join(state_dir, QEMU_STATE_FILE);
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, 64 * 1024, &text, NULL);
        if (r < 0)
                return r;
        r = qemu_state_from_json(text, &st);
        if (r < 0)
                return r;
        r = qemu_vm_new(st.id, state_dir, &vm);
        if (r >= 0)
                r = qemu_associate_state(vm, &st);
        qemu_state_done(&st);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(vm);
        return 0;
}

static int qemu_wait(struct vm *vm, int timeout_ms, int *ret_status)
{
        struct qemu_priv *p = qemu_priv(vm);
        int status = -1, r;

        if (p->ended) {
                if (ret_status)
                        *ret_status = p->status;
                return 0;
        }
        r = process_wait(vm->pid, p->pidfd, vm->owned, timeout_ms, &status);
        if (r < 0)
                return r;
        /*
         * virtiofsd ends when QEMU hangs up; give it a moment, then make sure.
         * It must never outlive the VM it served.
         */
        if (vm->helper_pid > 0 &&
            process_wait(vm->helper_pid, p->helper_pidfd, vm->owned, 1000, NULL) < 0)
                (void)process_kill_wait(vm->helper_pid, p->helper_pidfd, vm->owned);
        p->ended = true;
        p->status = status;
        if (ret_status)
                *ret_status = status;
        return 0;
}

static int qemu_kill(struct vm *vm)
{
        struct qemu_priv *p = qemu_priv(vm);

        if (!p->ended) {
                /* quit lets QEMU close its files cleanly; SIGKILL covers a QEMU that hangs. */
                (void)qmp_execute_once(vm->qmp_socket, "quit", NULL, QEMU_QUIT_TIMEOUT_MS, NULL);
                if (qemu_wait(vm, QEMU_QUIT_TIMEOUT_MS, NULL) < 0)
                        qemu_stop_processes(vm);
        }
        qemu_remove_files(vm);
        return 0;
}

static void qemu_free(struct vm *vm)
{
        if (!vm)
                return;
        /* Only an owner ends the VM: a process that associated merely lets go. */
        if (vm->owned) {
                qemu_stop_processes(vm);
                qemu_remove_files(vm);
        }
        qemu_vm_free_memory(vm);
}

static int qemu_qmp(struct vm *vm, struct qmp **ret)
{
        if (qemu_priv(vm)->ended)
                return -ESRCH;
        return qmp_connect(vm->qmp_socket, QEMU_QMP_TIMEOUT_MS, ret);
}

static json_object *qemu_json_object(const char *first_key, ...)
{
        json_object *o = json_object_new_object();
        const char *key = first_key;
        va_list ap;

        va_start(ap, first_key);
        while (o && key) {
                json_object *v = va_arg(ap, json_object *);
                json_object_object_add(o, key, v);
                key = va_arg(ap, const char *);
        }
        va_end(ap);
        return o;
}

/* A device args object for device_add; the caller adds the bus. */
typedef json_object *(*qemu_device_args_fn)(const char *id, const char *backend, const void *extra);

/* Marks in busy[] each hot-plug port "hpN" (N < n) that holds a device, from query-pci. */
static int qemu_ports_busy(struct qmp *qmp, bool *busy, unsigned n)
{
        json_object *ret = NULL;
        int r = qmp_execute(qmp, "query-pci", NULL, QEMU_QMP_TIMEOUT_MS, &ret, NULL);

        if (r < 0)
                return r;
        for (size_t b = 0; json_object_is_type(ret, json_type_array) && b < json_object_array_length(ret); b++) {
                json_object *devs = NULL;

                json_object_object_get_ex(json_object_array_get_idx(ret, b), "devices", &devs);
                for (size_t i = 0; json_object_is_type(devs, json_type_array) && i < json_object_array_length(devs);
                     i++) {
                        json_object *d = json_object_array_get_idx(devs, i), *id = NULL, *br = NULL, *sub = NULL;
                        unsigned port;
                        char end;

                        if (!json_object_object_get_ex(d, "qdev_id", &id) ||
                            sscanf(json_object_get_string(id), "hp%u%c", &port, &end) != 1 || port >= n)
                                continue;
                        busy[port] = json_object_object_get_ex(d, "pci_bridge", &br) &&
                                     json_object_object_get_ex(br, "devices", &sub) &&
                                     json_object_is_type(sub, json_type_array) && json_object_array_length(sub) > 0;
                }
        }
        json_object_put(ret);
        return 0;
}

/*
 * Puts a device on the first free hot-plug port. QEMU knows which ports are
 * taken, and a second process may have plugged devices too, so the ports
 * are asked for (query-pci) rather than tracked here. A port that holds a
 * device must never be offered another: QEMU 7.2 accepts the device_add,
 * and the guest then loses both devices.
 */
static int qemu_device_add(struct vm *vm, struct qmp *qmp, qemu_device_args_fn fn, const char *id,
                           const char *backend, const void *extra)
{
        unsigned n = qemu_priv(vm)->hotplug_ports;
        bool busy[64] = {false};
        int r;

        if (n > ARRAY_SIZE(busy))
                n = ARRAY_SIZE(busy);
        r = qemu_ports_busy(qmp, busy, n);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < n; i++) {
                json_object *args;
                char bus[16];

                if (busy[i])
                        continue;
                args = fn(id, backend, extra);
                if (!args)
                        return -ENOMEM;
                snprintf(bus, sizeof(bus), "hp%u", i);
                json_object_object_add(args, "bus", json_object_new_string(bus));
                return qmp_execute(qmp, "device_add", args, QEMU_QMP_TIMEOUT_MS, NULL, NULL);
        }
        return -ENOSPC;
}

static char *qemu_node_name(const char *prefix, const char *id)
{
        char *s;

        if (asprintf(&s, "%s-%s", prefix, id) < 0)
                return NULL;
        return s;
}

static json_object *qemu_disk_args(const char *id, const char *node, const void *extra)
{
        json_object *o = qemu_json_object("driver", json_object_new_string("virtio-blk-pci"),
                                          "id", json_object_new_string(id),
                                          "drive", json_object_new_string(node), NULL);

        /* The serial lets the guest find the disk by id in /sys/block/vd?/serial (20 bytes max). */
        if (o && strlen(id) <= 20)
                json_object_object_add(o, "serial", json_object_new_string(id));
        return o;
}

json_object *qemu_blockdev_args(const char *node, const char *path, const char *format, bool readonly)
{
        json_object *file = qemu_json_object("driver", json_object_new_string("file"),
                                             "filename", json_object_new_string(path), NULL);
        json_object *o = qemu_json_object("driver", json_object_new_string(format),
                                          "node-name", json_object_new_string(node),
                                          "read-only", json_object_new_boolean(readonly),
                                          "file", file, NULL);

        /* A JSON null: no backing file, whatever the image's header says. */
        if (o && strcmp(format, "qcow2") == 0)
                json_object_object_add(o, "backing", NULL);
        return o;
}

static uint64_t qemu_be(const unsigned char *p, size_t n)
{
        uint64_t v = 0;

        for (size_t i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

_printf_(2, 3) static int qemu_qcow2_error(char **ret_error, const char *fmt, ...)
{
        va_list ap;

        if (!ret_error)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EINVAL;
}

int qemu_qcow2_check(const unsigned char *head, size_t len, char **ret_error)
{
        uint64_t version;

        if (len < 72 || memcmp(head, "QFI\xfb", 4) != 0)
                return qemu_qcow2_error(ret_error, "the file is not a qcow2 image (give --format raw for a raw one)");
        version = qemu_be(head + 4, 4);
        if (version != 2 && version != 3)
                return qemu_qcow2_error(ret_error, "qcow2 version %llu is not supported (2 or 3)",
                                        (unsigned long long)version);
        if (qemu_be(head + 8, 8) != 0)
                return qemu_qcow2_error(ret_error, "the qcow2 image has a backing file, which is never opened: "
                                                   "make it whole first (qemu-img convert -O qcow2)");
        if (version == 3 && len < QEMU_QCOW2_HEADER_SIZE)
                return qemu_qcow2_error(ret_error, "the file is not a qcow2 image (its header is cut short)");
        /* Version 3: incompatible feature bit 2 is an external data file, named in the header. */
        if (version == 3 && (qemu_be(head + 72, 8) & (1u << 2)))
                return qemu_qcow2_error(ret_error, "the qcow2 image has an external data file, which is never "
                                                   "opened: make it whole first (qemu-img convert -O qcow2)");
        return 0;
}

/* The qcow2 header of path, checked on the host before QEMU sees it. */
static int qemu_qcow2_check_file(const char *path, char **ret_error)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        unsigned char head[QEMU_QCOW2_HEADER_SIZE];
        size_t len = 0;
        ssize_t n;

        if (fd < 0)
                return -errno;
        while (len < sizeof(head) && (n = read(fd, head + len, sizeof(head) - len)) > 0)
                len += (size_t)n;
        return qemu_qcow2_check(head, len, ret_error);
}

/*
 * The device leaves QOM a moment before it lets go of its block node: under
 * load blockdev-del then says "in use", and is asked again until it takes.
 */
static int qemu_blockdev_del(struct qmp *qmp, const char *node)
{
        int64_t deadline = hypervisor_deadline(QEMU_UNPLUG_TIMEOUT_MS);

        for (;;) {
                _cleanup_free_ char *error = NULL;
                int r = qmp_execute(qmp, "blockdev-del",
                                    qemu_json_object("node-name", json_object_new_string(node), NULL),
                                    QEMU_QMP_TIMEOUT_MS, NULL, &error);
                if (r != -EIO || !error || !strstr(error, "in use"))
                        return r;
                if (hypervisor_remaining_ms(deadline) == 0)
                        return -EBUSY;
                usleep(50 * 1000);
        }
}

static int qemu_hotplug_disk(struct vm *vm, const char *id, const char *path, const char *format,
                             bool readonly, char **ret_error)
{
        _cleanup_qmp_ struct qmp *qmp = NULL;
        _cleanup_free_ char *node = NULL;
        int r;

        format = format ?: "raw";
        if (!hypervisor_id_valid(id) || !path || (strcmp(format, "raw") && strcmp(format, "qcow2")))
                return -EINVAL;
        if (strcmp(format, "qcow2") == 0 && (r = qemu_qcow2_check_file(path, ret_error)) < 0)
                return r;
        node = qemu_node_name("drive", id);
        if (!node)
                return -ENOMEM;
        r = qemu_qmp(vm, &qmp);
        if (r < 0)
                return r;
        /* QEMU's own message ("Image is not in qcow2 format", "Permission denied") is the user's answer. */
        r = qmp_execute(qmp, "blockdev-add", qemu_blockdev_args(node, path, format, readonly),
                        QEMU_QMP_TIMEOUT_MS, NULL, ret_error);
        if (r < 0)
                return r;
        r = qemu_device_add(vm, qmp, qemu_disk_args, id, node, NULL);
        if (r < 0)
                (void)qemu_blockdev_del(qmp, node);
        return r;
}

static int qemu_device_exists(struct qmp *qmp, const char *id)
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "/machine/peripheral/%s", id) < 0)
                return -ENOMEM;
        r = qmp_execute(qmp, "qom-get",
                        qemu_json_object("path", json_object_new_string(path),
                                         "property", json_object_new_string("type"), NULL),
                        QEMU_QMP_TIMEOUT_MS, NULL, NULL);
        if (r == -EIO)
                return 0;
        return r < 0 ? r : 1;
}

static void *mfree(void *p)
{
        free(p);
        return NULL;
}

/* device_del only asks the guest; the device is gone when the guest has let go of it. */
static int qemu_device_del(struct qmp *qmp, const char *id)
{
        int64_t deadline = hypervisor_deadline(QEMU_UNPLUG_TIMEOUT_MS);
        _cleanup_free_ char *error = NULL;
        int r;

        /* Right after a hot-plug the guest still blinks the slot's power indicator and
         * QEMU refuses the request as "guest is busy": it is asked again until it takes. */
        for (;;) {
                r = qmp_execute(qmp, "device_del",
                                qemu_json_object("id", json_object_new_string(id), NULL),
                                QEMU_QMP_TIMEOUT_MS, NULL, &error);
                if (r != -EIO || !error || !strstr(error, "busy"))
                        break;
                if (hypervisor_remaining_ms(deadline) == 0)
                        return -EBUSY;
                error = mfree(error);
                usleep(100 * 1000);
        }
        if (r == -EIO && error && strstr(error, "not found"))
                return -ENOENT;
        if (r < 0)
                return r;
        while ((r = qemu_device_exists(qmp, id)) > 0) {
                if (hypervisor_remaining_ms(deadline) == 0)
                        return -ETIMEDOUT;
                usleep(50 * 1000);
        }
        return r;
}

static int qemu_unplug_disk(struct vm *vm, const char *id)
{
        _cleanup_qmp_ struct qmp *qmp = NULL;
        _cleanup_free_ char *node = NULL;
        int r;

        if (!hypervisor_id_valid(id))
                return -EINVAL;
        node = qemu_node_name("drive", id);
        if (!node)
                return -ENOMEM;
        r = qemu_qmp(vm, &qmp);
        if (r < 0)
                return r;
        r = qemu_device_del(qmp, id);
        if (r < 0)
                return r;
        return qemu_blockdev_del(qmp, node);
}

static bool qemu_mac_valid(const char *mac)
{
        unsigned b[6];
        char end;

        return mac && strlen(mac) == 17 &&
               sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                      &end) == 6;
}

static json_object *qemu_nic_args(const char *id, const char *netdev, const void *mac)
{
        json_object *o = qemu_json_object("driver", json_object_new_string("virtio-net-pci"),
                                          "id", json_object_new_string(id),
                                          "netdev", json_object_new_string(netdev),
                                          /* No option ROM: the guest boots by -kernel, not PXE. */
                                          "romfile", json_object_new_string(""), NULL);

        if (o && mac)
                json_object_object_add(o, "mac", json_object_new_string(mac));
        return o;
}

static int qemu_hotplug_nic(struct vm *vm, const char *id, const char *tap, const char *mac)
{
        _cleanup_qmp_ struct qmp *qmp = NULL;
        _cleanup_free_ char *netdev = NULL;
        json_object *args;
        int r;

        if (!hypervisor_id_valid(id) || !qemu_ifname_valid(tap) || (mac && !qemu_mac_valid(mac)))
                return -EINVAL;
        netdev = qemu_node_name("net", id);
        if (!netdev)
                return -ENOMEM;
        r = qemu_qmp(vm, &qmp);
        if (r < 0)
                return r;
        /* script=no: the tap exists already, and QEMU's sandbox forbids spawning scripts. */
        args = qemu_json_object("type", json_object_new_string("tap"),
                                "id", json_object_new_string(netdev),
                                "ifname", json_object_new_string(tap),
                                "script", json_object_new_string("no"),
                                "downscript", json_object_new_string("no"), NULL);
        r = qmp_execute(qmp, "netdev_add", args, QEMU_QMP_TIMEOUT_MS, NULL, NULL);
        if (r < 0)
                return r;
        r = qemu_device_add(vm, qmp, qemu_nic_args, id, netdev, mac);
        if (r < 0)
                (void)qmp_execute(qmp, "netdev_del",
                                  qemu_json_object("id", json_object_new_string(netdev), NULL),
                                  QEMU_QMP_TIMEOUT_MS, NULL, NULL);
        return r;
}

/* Pausing stops the vCPUs: every process of the pod freezes at once, and time stands still for it. */
static int qemu_run_state(struct vm *vm, const char *command)
{
        _cleanup_qmp_ struct qmp *qmp = NULL;
        int r;

        r = qemu_qmp(vm, &qmp);
        if (r < 0)
                return r;
        return qmp_execute(qmp, command, NULL, QEMU_QMP_TIMEOUT_MS, NULL, NULL);
}

static int qemu_pause(struct vm *vm)
{
        return qemu_run_state(vm, "stop");
}

static int qemu_resume(struct vm *vm)
{
        return qemu_run_state(vm, "cont");
}

const struct hypervisor_ops qemu_ops = {
        .name = "qemu",
        .pause = qemu_pause,
        .resume = qemu_resume,
        .launch = qemu_launch,
        .associate = qemu_associate,
        .hotplug_disk = qemu_hotplug_disk,
        .unplug_disk = qemu_unplug_disk,
        .hotplug_nic = qemu_hotplug_nic,
        .wait = qemu_wait,
        .kill = qemu_kill,
        .free = qemu_free,
};
