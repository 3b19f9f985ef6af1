/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /v1/containers/run's work: the row first (so that a name is taken
 * once, and a crash part way leaves something `rm` can find), then the
 * network (container-net.c), the rootfs, the bundle, `runv create` under
 * a hyperd-shim that holds the container's stdio and writes
 * ROOT/containers/ID/log (it outlives hyperd: docs/shim.md), and, for run,
 * `runv start`. Any failure removes all of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "container-io.h"
#include "containers.h"
#include "error-util.h"
#include "fd-util.h"
#include "pods.h"
#include "fs-util.h"
#include "image-store.h"
#include "json-util.h"
#include "log.h"
#include "random-util.h"
#include "rootfs.h"
#include "shim-proto.h"
#include "volumes.h"

#define CREATE_HOST_RESOLV "/etc/resolv.conf"
#define CREATE_MAX_RESOLV  65536

static char *create_command_json(char **args)
{
        _cleanup_(json_object_putp) struct json_object *a = json_object_new_array();

        for (; a && *args; args++)
                json_object_array_add(a, json_object_new_string(*args));
        return a ? strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
                 : NULL;
}

static int create_record(struct hyperd *hd, const struct container_run *run, const char *id, const char *image_id,
                         char **args, char **ret_error)
{
        _cleanup_free_ char *command = create_command_json(args), *name = NULL;
        struct db_container c;
        int r;

        name = run->name ? strdup(run->name) : strndup(id, 12);
        if (!command || !name)
                return -ENOMEM;
        c = (struct db_container){.id = (char *)id,
                                  .name = name,
                                  .image = run->image,
                                  .image_id = (char *)image_id,
                                  .command = command,
                                  .created = time(NULL),
                                  .auto_remove = run->auto_remove};
        r = db_container_add(hd->db, &c);
        if (r == -EEXIST)
                return error_set(ret_error, r,
                                 "the name \"%s\" is already in use by another container; "
                                 "remove it or choose another name",
                                 name);
        return r;
}

static int create_config(const struct container_spec_input *in, const char *path, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *spec = NULL;
        const char *text;
        int r;

        r = container_spec(in, &spec, ret_error);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = text ? write_file_atomic(path, text, strlen(text), 0600) : -ENOMEM;
        if (r < 0)
                return error_set(ret_error, r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}

static int create_etc_file(const char *bundle, const char *name, char *text, char **ret_error)
{
        _cleanup_free_ char *owned = text, *path = NULL;
        int r;

        if (!text || asprintf(&path, "%s/%s", bundle, name) < 0)
                return -ENOMEM;
        r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return error_set(ret_error, r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}

/* The host's resolv.conf, or NULL when it has none (or it cannot be read). */
static char *create_host_resolv(void)
{
        _cleanup_close_ int fd = open(CREATE_HOST_RESOLV, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        ssize_t n;

        if (fd < 0 || !(buf = malloc(CREATE_MAX_RESOLV + 1)))
                return NULL;
        while (len < CREATE_MAX_RESOLV && (n = read(fd, buf + len, CREATE_MAX_RESOLV - len)) > 0)
                len += (size_t)n;
        buf[len] = '\0';
        return TAKE_PTR(buf);
}

/* BUNDLE/hosts, resolv.conf and hostname; addr is the container's address, or NULL. */
static int create_etc(const char *bundle, const struct container_run *run, const char *id, const char *addr,
                      char **ret_error)
{
        _cleanup_free_ char *host_resolv = create_host_resolv();
        char hostname[13] = {0};
        int r;

        memcpy(hostname, id, sizeof(hostname) - 1);
        r = create_etc_file(bundle, "hosts", container_hosts(run, hostname, addr), ret_error);
        if (r >= 0)
                r = create_etc_file(bundle, "resolv.conf", container_resolv(run, host_resolv), ret_error);
        if (r >= 0) {
                char *text = NULL;

                r = create_etc_file(bundle, "hostname", asprintf(&text, "%s\n", hostname) < 0 ? NULL : text,
                                    ret_error);
        }
        return r;
}

/* join: the pod the container joins (its namespaces and /etc files), or NULL. */
static int create_bundle(struct hyperd *hd, struct image_store *s, const struct container_run *run,
                         const struct image_config *ic, const char *id, const char *image_id, const char *netns,
                         const char *addr, struct container_volumes *cv, const struct pod_join *join,
                         char **ret_error)
{
        _cleanup_free_ char *bundle = container_bundle(hd, id, NULL), *config = container_bundle(hd, id, "config.json"),
                            *rootfs = NULL;
        _cleanup_close_ int fd = -1;
        struct container_spec_input in = {.image = ic, .run = run, .id = id, .netns = netns, .etc = bundle,
                                          .volumes = cv->mounts, .n_volumes = cv->n_mounts,
                                          .mounts = run->mounts};
        int r;

        if (!bundle || !config)
                return -ENOMEM;
        r = mkdir_p(bundle, 0700);
        if (r < 0)
                return error_set(ret_error, r, "cannot make %s: %s", bundle, strerror(-r));
        if (join) {
                in.netns = join->netns;
                in.etc = join->etc;
                in.ipc_ns = join->ipc;
                in.uts_ns = join->uts;
        } else {
                r = create_etc(bundle, run, id, addr, ret_error);
                if (r < 0)
                        return r;
        }
        r = image_rootfs_create(s, image_id, id, NULL, &rootfs, ret_error);
        if (r < 0)
                return r;
        fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(ret_error, -errno, "cannot open %s: %m", rootfs);
        r = container_user(fd, run->user ? run->user : ic->user, &in.uid, &in.gid, ret_error);
        if (r >= 0)
                r = container_volumes_record(hd, id, cv, fd, ret_error);
        if (r < 0)
                return r;
        in.rootfs = rootfs;
        return create_config(&in, config, ret_error);
}

/*
 * runv create under a hyperd-shim of the container's own, which holds its
 * stdio from then on (a pty with a tty; pipes without) and writes B/log.
 */
static int create_runv_create(struct hyperd *hd, const struct container_run *run, const char *id, char **ret_error)
{
        _cleanup_free_ char *bundle = container_bundle(hd, id, NULL), *log_path = container_bundle(hd, id, "log"),
                            *pid = container_bundle(hd, id, "pid"), *error = NULL;
        char *args[] = {(char *)"create", (char *)"--bundle", bundle, (char *)"--pid-file", pid,
                        (char *)"--console-socket", (char *)SHIM_CONSOLE_SOCKET, (char *)id, NULL};
        struct shim_options o = {.dir = bundle, .log = log_path, .tty = run->tty, .stdin_open = run->stdin_open,
                                 .stdin_once = run->stdin_once, .ready_on_exit = true};
        int r;

        if (!bundle || !log_path || !pid)
                return -ENOMEM;
        if (!run->tty) {
                args[5] = (char *)id;
                args[6] = NULL;
        }
        r = container_shim_start(hd, &o, args, &error);
        if (r < 0)
                return error_set(ret_error, r, "cannot create the container: %s", error ? error : "runv create failed");
        return 0;
}

int container_start(struct hyperd *hd, const char *id, char **ret_error)
{
        char *args[] = {(char *)"start", (char *)id, NULL};
        struct runv_driver d = {.runv = hd->runv, .root = hd->config->runv_root};
        struct runv_call call = {.args = args, .out_fd = -1, .err_fd = -1, .max = 65536, .cancel_fd = -1};
        struct runv_result res;
        int r;

        r = runv_driver_run(&d, &call, &res);
        if (r < 0)
                return error_set(ret_error, r, "cannot run %s: %s", hd->runv, strerror(-r));
        if (res.status != 0)
                r = error_set(ret_error, -EIO, "cannot start the container: %s",
                              runv_result_message(&res) ? runv_result_message(&res) : "runv start failed");
        runv_result_done(&res);
        return r;
}

static int runv_start(struct hyperd *hd, const char *id, bool reattach, char **ret_error);

int container_runv_start(struct hyperd *hd, const char *id, char **ret_error)
{
        return runv_start(hd, id, false, ret_error);
}

int container_runv_start_reattach(struct hyperd *hd, const char *id, char **ret_error)
{
        return runv_start(hd, id, true, ret_error);
}

static int runv_start(struct hyperd *hd, const char *id, bool reattach, char **ret_error)
{
        /* A pod's sandbox, or a pod's container started again: a terminal and stdin as it was made with. */
        _cleanup_free_ char *bundle = container_bundle(hd, id, NULL);
        struct container_run run = {0};
        int r;

        if (!bundle)
                return -ENOMEM;
        container_config_io(hd, id, &run.tty, &run.stdin_open, &run.stdin_once);
        /* The shim of its last run unlinks its socket as it ends: it must be gone before a new one binds. */
        container_shims_wait(bundle, 5000);
        r = create_runv_create(hd, &run, id, ret_error);
        /* A new VM has none of the disks the container had hot-plugged: again before its process starts. */
        if (r >= 0 && reattach)
                r = container_blocks_reattach(hd, id, ret_error);
        return r < 0 ? r : container_start(hd, id, ret_error);
}

/* Writes the bundle (recording the volumes), creates, hot-plugs block volumes. */
static int create_rest(struct hyperd *hd, struct image_store *s, const struct container_run *run,
                       const struct image_config *ic, const char *id, const char *image_id, const char *netns,
                       const char *addr, struct container_volumes *cv, const struct pod_join *join, char **ret_error)
{
        /* The volumes are recorded (and filled) in create_bundle, once the rootfs is there. */
        int r = create_bundle(hd, s, run, ic, id, image_id, netns, addr, cv, join, ret_error);

        if (r >= 0)
                r = create_runv_create(hd, run, id, ret_error);
        /* Block volumes are hot-plugged into the created VM, mounted before the process starts. */
        if (r >= 0)
                r = container_volumes_attach(hd, id, cv, ret_error);
        return r;
}

/* A container that joins a pod: the pod's network, ipc, uts and /etc files instead of its own. */
static int create_member(struct hyperd *hd, struct image_store *s, const struct container_run *run,
                         const struct image_config *ic, const char *id, const char *image_id,
                         struct container_volumes *cv, char **ret_error)
{
        _cleanup_(pod_join_done) struct pod_join join = {0};
        int r;

        if (run->publish || run->network_none || run->bridge || run->tap || run->ip || run->dns || run->add_host)
                return error_set(ret_error, -EINVAL,
                                 "a container in a pod shares the pod's network: publish ports, set the network "
                                 "and the DNS in the pod file, not on the container");
        r = pod_join_prepare(hd, run->pod, &join, ret_error);
        if (r >= 0)
                r = db_member_add(hd->db, id, run->pod);
        if (r >= 0)
                r = create_rest(hd, s, run, ic, id, image_id, NULL, NULL, cv, &join, ret_error);
        return r;
}

static int create_all(struct hyperd *hd, struct image_store *s, const struct container_run *run,
                      const struct image_config *ic, const char *id, const char *image_id,
                      struct container_volumes *cv, char **ret_error)
{
        _cleanup_free_ char *netns = NULL;
        struct in_addr a = {0};
        char addr[INET_ADDRSTRLEN];
        int r;

        if (run->pod)
                return create_member(hd, s, run, ic, id, image_id, cv, ret_error);
        r = container_net_create(hd, id, run, &netns, &a, ret_error);
        /* No address: --network none, or a bridge or tap of the user's without --ip. */
        if (r >= 0 && a.s_addr != INADDR_ANY && !inet_ntop(AF_INET, &a, addr, sizeof(addr)))
                r = -errno;
        if (r >= 0)
                r = create_rest(hd, s, run, ic, id, image_id, netns, a.s_addr != INADDR_ANY ? addr : NULL, cv, NULL,
                                ret_error);
        return r;
}

/* The image's config; an unknown image gets a message that says what to do. */
static int create_image(struct image_store *s, const char *ref, char **ret_id, struct image_config **ret,
                        char **ret_error)
{
        _cleanup_free_ char *error = NULL;
        int r = image_store_config(s, ref, ret_id, ret, &error);

        if (r == -ENOENT)
                return error_set(ret_error, r, "%s: pull or load it first (hyperctl pull %s)",
                                 error ? error : "no such image", ref);
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(error);
        return r;
}

int container_make(struct hyperd *hd, const struct container_run *run, bool start, char **ret_id, char **ret_name,
                   char **ret_error)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(image_config_freep) struct image_config *ic = NULL;
        _cleanup_(strv_freep) char **args = NULL;
        _cleanup_free_ char *image_id = NULL;
        _cleanup_(container_volumes_done) struct container_volumes cv = {0};
        char id[CONTAINER_ID_LEN + 1];
        int r;

        if (!hd->runv)
                return error_set(ret_error, -ENOENT,
                                 "hyperd found no runv to run containers with "
                                 "(install it beside hyperd, or set HYPER_RUNV)");
        r = image_store_open(hd->config->root, &s, ret_error);
        if (r >= 0)
                r = create_image(s, run->image, &image_id, &ic, ret_error);
        if (r >= 0)
                r = container_args(ic, run, &args, ret_error);
        if (r >= 0)
                r = container_volumes_check(hd, run->volumes, &cv, ret_error);
        if (r >= 0)
                r = random_hex(id, CONTAINER_ID_LEN);
        if (r < 0)
                return r;
        /*
         * Until it is made, runv has no state for it ("unknown"): the exit watcher, which removes an
         * autoRemove container that ended, leaves it alone from before its row is there.
         */
        watcher_hold(id);
        r = create_record(hd, run, id, image_id, args, ret_error);
        if (r < 0) {
                watcher_release(id);
                return r;
        }
        /* A pod's member is made (and on failure removed) under the pods' lock: a pod rm waits for it. */
        if (run->pod)
                pods_lock();
        r = create_all(hd, s, run, ic, id, image_id, &cv, ret_error);
        if (r >= 0 && start)
                r = container_start(hd, id, ret_error);
        if (r < 0) {
                log_warning("container %s: %s; removing what was made", id, ret_error && *ret_error ? *ret_error : "");
                container_remove(hd, id, NULL);
                container_volumes_forget(hd, &cv);
        }
        if (run->pod)
                pods_unlock();
        watcher_release(id);
        if (r < 0)
                return r;
        log_info("container %s (%s) %s from %s", id, run->name ? run->name : "", start ? "started" : "created",
                 run->image);
        *ret_id = strdup(id);
        *ret_name = run->name ? strdup(run->name) : strndup(id, 12);
        return *ret_id && *ret_name ? 0 : -ENOMEM;
}

int container_create(struct hyperd *hd, const struct container_run *run, char **ret_id, char **ret_name,
                     char **ret_error)
{
        return container_make(hd, run, true, ret_id, ret_name, ret_error);
}
