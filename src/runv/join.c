/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whether a new container joins another's VM, and the member process that
 * stands for it when it does (see monitor-member.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "json-util.h"
#include "runv.h"
#include "status.h"

static const char *join_annotation(const struct oci_spec *spec, const char *key)
{
        const char *v = NULL;

        if (spec->annotations)
                (void)json_get_string(spec->annotations, key, &v);
        return v;
}

/* A container that can take members: alive, and a pod's first container itself. */
static bool join_candidate(const struct runv_state *st)
{
        return !st->pod && (st->status == RUNV_CREATED || st->status == RUNV_RUNNING || st->status == RUNV_PAUSED);
}

static const char *join_ns_file(const char *type)
{
        if (strcmp(type, "network") == 0)
                return "net";
        if (strcmp(type, "mount") == 0)
                return "mnt";
        return type;
}

/* Is path the namespace of type that st's monitor is in (and not simply the host's, which we share)? */
static bool join_same_ns(const struct runv_state *st, const char *type, const struct stat *want)
{
        char path[64], own[64];
        struct stat ns, mine;

        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)st->pid, join_ns_file(type));
        snprintf(own, sizeof(own), "/proc/self/ns/%s", join_ns_file(type));
        if (stat(path, &ns) < 0 || stat(own, &mine) < 0)
                return false;
        if (ns.st_dev == mine.st_dev && ns.st_ino == mine.st_ino)
                return false;
        return ns.st_dev == want->st_dev && ns.st_ino == want->st_ino;
}

static char *join_by_namespaces(const struct oci_spec *spec)
{
        char *found = NULL;
        struct dirent *de;
        DIR *d = opendir(runv.root);

        while (d && !found && (de = readdir(d))) {
                _cleanup_(state_freep) struct runv_state *st = NULL;
                if (de->d_name[0] == '.' || state_load(de->d_name, &st) < 0 || !join_candidate(st))
                        continue;
                for (size_t i = 0; i < spec->n_namespaces && !found; i++) {
                        const struct oci_namespace *ns = &spec->namespaces[i];
                        struct stat want;
                        int pid;
                        char type[16];
                        if (!ns->path)
                                continue;
                        /* /proc/PID/ns/TYPE of a monitor names its container, whatever the namespace. */
                        if (sscanf(ns->path, "/proc/%d/ns/%15s", &pid, type) == 2 && pid == st->pid)
                                found = strdup(st->id);
                        else if (stat(ns->path, &want) == 0 && join_same_ns(st, ns->type, &want))
                                found = strdup(st->id);
                }
        }
        if (d)
                closedir(d);
        return found;
}

char *runv_join_target(const struct oci_spec *spec)
{
        const char *type = join_annotation(spec, "io.kubernetes.cri.container-type");
        const char *sandbox = join_annotation(spec, "io.kubernetes.cri.sandbox-id");
        _cleanup_(state_freep) struct runv_state *st = NULL;

        if (!type) {
                type = join_annotation(spec, "io.kubernetes.cri-o.ContainerType");
                sandbox = join_annotation(spec, "io.kubernetes.cri-o.SandboxID");
        }
        /* A CRI runtime names the sandbox outright. */
        if (type && strcmp(type, "container") == 0 && sandbox && state_load(sandbox, &st) >= 0 &&
            join_candidate(st))
                return strdup(sandbox);
        return join_by_namespaces(spec);
}

static int join_request(const char *id, struct runv_bundle *b, const char *pod, int slave, bool start,
                        int *ret_sock, int ready)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object(), *reply = NULL;
        _cleanup_close_ int sock = -1;
        int fds[3] = { 0, 1, 2 };
        _cleanup_free_ char *err = NULL;
        const char *msg;
        int r;

        r = runv_monitor_connect(pod, &sock);
        if (r < 0)
                return dprintf(ready, "cannot reach the pod of %s: %s", pod, strerror(-r)), -1;
        if (slave >= 0)
                fds[0] = slave;
        json_object_object_add(req, "op", json_object_new_string("add"));
        json_object_object_add(req, "container", json_object_new_string(id));
        json_object_object_add(req, "bundle", json_object_new_string(b->bundle));
        r = runv_monitor_send(sock, req, fds, slave >= 0 ? 1 : 3);
        if (r >= 0)
                r = runv_monitor_recv(sock, &reply);
        if (r < 0)
                return dprintf(ready, "the pod of %s did not answer: %s", pod, strerror(-r)), -1;
        if (json_get_string(reply, "error", &msg) >= 0)
                return dprintf(ready, "%s", msg), -1;
        if (start) {
                _cleanup_(json_object_putp) struct json_object *sreq = json_object_new_object();
                json_object_object_add(sreq, "op", json_object_new_string("start"));
                json_object_object_add(sreq, "container", json_object_new_string(id));
                if (runv_monitor_call(pod, sreq, &err, NULL) < 0)
                        return dprintf(ready, "%s", err ? err : "cannot start the container"), -1;
        }
        *ret_sock = TAKE_FD(sock);
        return 0;
}

struct join_child {
        const char *id;
        struct runv_bundle *b;
        const char *pod;
        int slave;
        bool start;
};

static _noreturn_ void join_child(void *userdata, int ready)
{
        struct join_child *c = userdata;
        int sock = -1;

        if (join_request(c->id, c->b, c->pod, c->slave, c->start, &sock, ready) < 0)
                _exit(1);
        dprintf(ready, "ok");
        close(ready);
        /* The container's stdio went to the pod's monitor: hold none of them. */
        runv_drop_stdio();
        setsid();
        _exit(runv_wait_exit(sock, true));
}

int runv_spawn_member(const char *id, struct runv_bundle *b, const char *console_socket, const char *pid_file,
                      const char *pod, bool start)
{
        struct join_child c = { .id = id, .b = b, .pod = pod, .slave = -1, .start = start };
        int r;

        r = runv_claim_state(id);
        if (r != 0)
                return r;
        r = console_socket ? runv_console_send(console_socket, &c.slave) : 0;
        if (r == 0)
                r = runv_spawn(join_child, &c, pid_file, "the member process");
        safe_close(c.slave);
        if (r != 0)
                runv_remove_state(id);
        return r;
}
