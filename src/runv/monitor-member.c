/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers that join a pod: a spec that asks for another container's
 * namespaces (a Kubernetes pod's containers, a Podman pod's members) gets
 * no VM of its own. Its rootfs and bind sources are bound into the pod's
 * shared folder, the guest prepares it beside the others, and its process
 * shares the pod's network, ipc and uts namespaces in the guest.
 *
 * To clients the member's process is the member process that asked to
 * join: it holds nothing but its connection here, on which it gets the
 * exit status to exit with.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "monitor-internal.h"

struct monitor_member *monitor_member_find(struct monitor *m, const char *id)
{
        for (size_t i = 0; i < m->n_members; i++)
                if (strcmp(m->members[i]->st.id, id) == 0)
                        return m->members[i];
        return NULL;
}

static void member_save(struct monitor_member *mb, enum runv_status status)
{
        mb->st.status = status;
        if (state_save(&mb->st) < 0)
                runv_error("cannot write the state of %s", mb->st.id);
}

static void member_free(struct monitor_member *mb)
{
        for (size_t i = 0; i < mb->n_fds; i++)
                safe_close(mb->fds[i]);
        runv_mounts_free(&mb->mounts);
        runv_bundle_free(&mb->b);
        free(mb->st.id);
        free(mb->st.created);
        free(mb->st.pod);
        free(mb);
}

static int member_init_state(struct monitor *m, struct monitor_member *mb, const char *id, int fd)
{
        mb->st = (struct runv_state){
                .id = strdup(id),
                .bundle = mb->b.bundle,
                .rootfs = mb->b.rootfs,
                .status = RUNV_CREATED,
                .pid = monitor_peer_pid(fd),
                .exit_code = -1,
                .annotations = mb->b.spec->annotations,
                .pod = strdup(m->cfg->id),
        };
        mb->st.created = state_now();
        if (!mb->st.id || !mb->st.pod || !mb->st.created || mb->st.pid <= 0)
                return -ENOMEM;
        return proc_start_time(mb->st.pid, &mb->st.pid_start);
}

static bool member_joins_uts(const struct oci_spec *spec)
{
        for (size_t i = 0; i < spec->n_namespaces; i++)
                if (strcmp(spec->namespaces[i].type, "uts") == 0)
                        return spec->namespaces[i].path != NULL;
        /* No uts namespace of its own at all: the pod's. */
        return true;
}

/* Puts the member's files into the share and asks the guest to prepare its root. */
static int member_prepare(struct monitor *m, struct monitor_member *mb, char **ret_error)
{
        const struct oci_spec *spec = mb->b.spec;
        struct pod_container c;
        int r;

        r = runv_mounts_plan(&mb->mounts, mb->st.id, mb->b.bundle, mb->b.rootfs, spec, ret_error);
        if (r >= 0)
                r = pod_add_binds(m->pod, mb->mounts.binds, mb->mounts.n_binds, ret_error);
        if (r < 0)
                return r;
        /* Joined to the pod's uts namespace, a container has the pod's hostname, as runc refuses another. */
        c = (struct pod_container){
                .id = mb->st.id, .rootfs = mb->mounts.targets[0],
                .hostname = member_joins_uts(spec) ? NULL : spec->hostname,
                .readonly = spec->root_readonly, .mounts = mb->mounts.mounts,
                .masked_paths = spec->masked_paths, .readonly_paths = spec->readonly_paths,
        };
        return pod_add_container(m->pod, &c, ret_error);
}

const char *monitor_member_add(struct monitor *m, int fd, struct json_object *req, int *fds, size_t n_fds)
{
        _cleanup_free_ char *err = NULL;
        struct monitor_member *mb;
        const char *id, *bundle;
        static char msg[512];
        int r;

        if (m->st.status != RUNV_CREATED && m->st.status != RUNV_RUNNING)
                return "the pod's first container is not running";
        if (json_get_string(req, "container", &id) < 0 || !runv_id_valid(id) ||
            json_get_string(req, "bundle", &bundle) < 0)
                return "add needs a container id and a bundle";
        if (strcmp(id, m->cfg->id) == 0 || monitor_member_find(m, id))
                return "container with given ID already exists";
        if (m->n_members >= MONITOR_MAX_MEMBERS)
                return "too many containers in this pod";
        mb = calloc(1, sizeof(*mb));
        if (!mb)
                return "out of memory";
        mb->conn = fd;
        /* runv create checked the bundle already; failing here means it changed since. */
        if (runv_bundle_load(bundle, &mb->b) != 0 || member_init_state(m, mb, id, fd) < 0) {
                member_free(mb);
                return "cannot load the container's bundle";
        }
        if (n_fds != (mb->b.spec->process->terminal ? 1u : 3u)) {
                member_free(mb);
                return "add takes three stdio fds, or one pty with a terminal";
        }
        r = member_prepare(m, mb, &err);
        if (r < 0) {
                snprintf(msg, sizeof(msg), "%s", err ? err : strerror(-r));
                pod_remove_binds(m->pod, mb->st.id);
                member_free(mb);
                return msg;
        }
        /* The fds are closed by our caller: keep copies until the process starts. */
        for (size_t i = 0; i < n_fds; i++)
                mb->fds[mb->n_fds++] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
        m->members[m->n_members++] = mb;
        member_save(mb, RUNV_CREATED);
        return NULL;
}

static const char *member_start(struct monitor *m, struct monitor_member *mb)
{
        const struct oci_process *p = mb->b.spec->process;
        _cleanup_free_ char *err = NULL;
        static char msg[512];
        int r;

        if (mb->st.status != RUNV_CREATED)
                return mb->st.status == RUNV_STOPPED ? "cannot start a container that has stopped"
                                                     : "cannot start an already running container";
        mb->process = m->next_process++;
        r = monitor_exec(m, mb->st.id, mb->process, p, mb->fds[0], mb->fds[p->terminal ? 0 : 1],
                         p->terminal ? -1 : mb->fds[2], &mb->stdio, &err);
        if (r < 0) {
                snprintf(msg, sizeof(msg), "%s", err ? err : strerror(-r));
                return msg;
        }
        /* The agent has its own copies now. */
        for (size_t i = 0; i < mb->n_fds; i++)
                mb->fds[i] = safe_close(mb->fds[i]);
        member_save(mb, RUNV_RUNNING);
        return NULL;
}

static const char *member_kill(struct monitor *m, struct monitor_member *mb, int sig, bool all)
{
        if (mb->st.status == RUNV_CREATED) {
                if (!monitor_signal_ignored(sig)) {
                        mb->exited = true;
                        mb->status = 128 + sig;
                }
                return NULL;
        }
        if (mb->st.status != RUNV_RUNNING || mb->exited)
                return "container not running";
        pod_signal(m->pod, mb->process, sig);
        for (size_t i = 0; all && i < m->n_procs; i++)
                if (!m->procs[i].exited && strcmp(m->procs[i].container, mb->st.id) == 0)
                        pod_signal(m->pod, m->procs[i].id, sig);
        return NULL;
}

static void member_ps(struct monitor *m, struct monitor_member *mb, int fd)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        struct json_object *pids = json_object_new_array();

        if (!o || !pids) {
                json_object_put(pids);
                return;
        }
        if (mb->st.status == RUNV_RUNNING)
                json_object_array_add(pids, json_object_new_int(mb->st.pid));
        for (size_t i = 0; i < m->n_procs; i++)
                if (!m->procs[i].exited && m->procs[i].peer > 0 && strcmp(m->procs[i].container, mb->st.id) == 0)
                        json_object_array_add(pids, json_object_new_int(m->procs[i].peer));
        json_object_object_add(o, "pids", pids);
        monitor_reply_json(fd, o);
}

const char *monitor_member_dispatch(struct monitor *m, struct monitor_member *mb, const char *op, int fd,
                                    struct json_object *req, bool *replied)
{
        int64_t sig = SIGTERM;
        bool all = false;

        if (strcmp(op, "start") == 0)
                return member_start(m, mb);
        if (strcmp(op, "kill") == 0 || strcmp(op, "signal") == 0) {
                if (json_get_int(req, "signal", 0, 64, &sig) < 0 && json_object_object_get_ex(req, "signal", NULL))
                        return "signal must be a number from 0 to 64";
                (void)json_get_bool(req, "all", &all);
                return member_kill(m, mb, (int)sig, all);
        }
        if (strcmp(op, "stop") == 0)
                return member_kill(m, mb, SIGKILL, true);
        if (strcmp(op, "ps") == 0) {
                member_ps(m, mb, fd);
                *replied = true;
                return NULL;
        }
        if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0)
                return "this container shares its VM: pause or resume the pod's first container";
        return "unknown op";
}

void monitor_member_conn_closed(struct monitor *m, int fd)
{
        for (size_t i = 0; i < m->n_members; i++) {
                struct monitor_member *mb = m->members[i];
                if (mb->conn != fd)
                        continue;
                /* Its process for clients is gone: so is the container, as when runc's init dies. */
                mb->conn = -1;
                if (!mb->exited)
                        member_kill(m, mb, SIGKILL, true);
        }
}

bool monitor_member_on_exit(struct monitor *m, uint32_t process, int status)
{
        for (size_t i = 0; i < m->n_members; i++)
                if (m->members[i]->process == process && process != 0) {
                        m->members[i]->exited = true;
                        m->members[i]->status = status;
                        return true;
                }
        return false;
}

/* A member leaves the pod: its status recorded and sent, its root and binds gone. */
static void member_leave(struct monitor *m, struct monitor_member *mb, int status)
{
        mb->st.exit_code = status;
        member_save(mb, RUNV_STOPPED);
        if (mb->conn >= 0) {
                monitor_reply_exit(mb->conn, status);
                monitor_drop_client(m, mb->conn);
        }
        if (mb->process)
                monitor_release_stdio(m, &mb->stdio);
        pod_remove_container(m->pod, mb->st.id);
        pod_remove_binds(m->pod, mb->st.id);
}

void monitor_member_reap(struct monitor *m)
{
        for (size_t i = 0; i < m->n_members;) {
                struct monitor_member *mb = m->members[i];
                if (!mb->exited || (mb->process && !monitor_stdio_done(m, &mb->stdio))) {
                        i++;
                        continue;
                }
                member_leave(m, mb, mb->status);
                member_free(mb);
                m->members[i] = m->members[--m->n_members];
        }
}

void monitor_member_finish_all(struct monitor *m)
{
        while (m->n_members > 0) {
                struct monitor_member *mb = m->members[--m->n_members];
                member_leave(m, mb, mb->exited ? mb->status : 128 + SIGKILL);
                member_free(mb);
        }
}
