/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pods (docs/pods.md). POST /v1/pods checks the whole pod file first (the
 * parser, what hyperd supports, the images, the names), so that a refused
 * file leaves nothing behind; then the row, the sandbox (its network, its
 * /etc files, a rootfs holding only hyper-pause, `runv create` and
 * `start`), and each container through container_create() with "pod" set.
 * Any failure after the row removes all of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "image-store.h"
#include "json-util.h"
#include "log.h"
#include "pods.h"
#include "random-util.h"
#include "volume-spec.h"
#include "volumes.h"

#define POD_PAUSE_NAME     "hyper-pause"
#define POD_HOST_RESOLV    "/etc/resolv.conf"
#define POD_MAX_RESOLV     65536
#define POD_MAX_PAUSE_SIZE (16u << 20)
#define POD_KILL_WAIT_MS   10000

void pod_join_done(struct pod_join *j)
{
        free(j->netns);
        free(j->etc);
        *j = (struct pod_join){0};
}

int pod_lookup(struct hyperd *hd, const char *id, struct db_pod *ret, char **ret_error)
{
        int r = db_pod_get(hd->db, id, ret);

        if (r == -ENOENT)
                return error_set_first(ret_error, r, "no such pod: %s", id);
        return r;
}

const char *pod_status(struct hyperd *hd, const struct db_pod *p)
{
        struct container_status st;

        if (container_state(hd, p->sandbox, &st) < 0 || !container_is_live(&st))
                return "exited";
        return "running";
}

int pod_join_prepare(struct hyperd *hd, const char *pod, struct pod_join *ret, char **ret_error)
{
        _cleanup_(db_pod_done) struct db_pod p = {0};
        struct container_status st;
        struct stat sb;
        int r;

        r = pod_lookup(hd, pod, &p, ret_error);
        if (r < 0)
                return r;
        r = container_state(hd, p.sandbox, &st);
        if (r >= 0 && (!container_is_live(&st) || st.pid <= 0))
                return error_set_first(ret_error, -EBUSY,
                                       "pod %s is not running: start it first (hyperctl pod start %s)", pod, pod);
        if (r < 0)
                return r;
        *ret = (struct pod_join){0};
        ret->etc = container_bundle(hd, p.sandbox, NULL);
        ret->netns = container_netns_path(hd, p.sandbox);
        if (!ret->etc || !ret->netns) {
                pod_join_done(ret);
                return -ENOMEM;
        }
        /* A pod without network has no namespace file: the VM's network is shared all the same. */
        if (stat(ret->netns, &sb) < 0) {
                free(ret->netns);
                ret->netns = NULL;
        }
        snprintf(ret->ipc, sizeof(ret->ipc), "/proc/%d/ns/ipc", (int)st.pid);
        snprintf(ret->uts, sizeof(ret->uts), "/proc/%d/ns/uts", (int)st.pid);
        return 0;
}

/* $HYPER_PAUSE, else hyper-pause beside hyperd (a build tree), else PREFIX/libexec/hyper/hyper-pause. */
static int pod_find_pause(char **ret)
{
        const char *env = getenv("HYPER_PAUSE");
        const char *const rel[] = {"", "/../libexec/hyper"};
        char exe[PATH_MAX], *dir, *p;
        ssize_t n;

        if (env && *env)
                return access(env, R_OK) < 0 ? -errno : (*ret = strdup(env)) ? 0 : -ENOMEM;
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0)
                return -errno;
        exe[n] = '\0';
        dir = dirname(exe);
        for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
                if (asprintf(&p, "%s%s/" POD_PAUSE_NAME, dir, rel[i]) < 0)
                        return -ENOMEM;
                if (access(p, R_OK) == 0) {
                        *ret = p;
                        return 0;
                }
                free(p);
        }
        return -ENOENT;
}

/* The name a pod's container gets among hyperd's containers: POD-NAME, as `podman kube play` names them. */
static char *pod_container_name(const char *pod, const char *name)
{
        char *s;

        return asprintf(&s, "%s-%s", pod, name) < 0 ? NULL : s;
}

/* A disk image is in one VM at a time: one a container has attached already is refused before anything is made. */
static int pod_check_block_free(struct hyperd *hd, size_t i, const char *source, char **ret_error)
{
        _cleanup_free_ char *path = realpath(source, NULL);
        struct db_container_volume *a = NULL;
        struct db_container c = {0};
        size_t n = 0;
        int r;

        if (!path)
                return error_set_first(ret_error, -EINVAL, "volumes[%zu]: the host path %s: %m", i, source);
        r = db_container_volumes(hd->db, NULL, "block", path, &a, &n);
        if (r >= 0 && n > 0) {
                bool named = db_container_get(hd->db, a[0].container_id, &c) >= 0;

                r = error_set_first(ret_error, -EBUSY,
                                    "volumes[%zu]: the disk image %s is attached to %s already: one VM "
                                    "at a time",
                                    i, path, named ? c.name : a[0].container_id);
                if (named)
                        db_container_done(&c);
        }
        db_container_volume_free_array(a, n);
        return r;
}

/* What hyperd does not do with a pod file the parser accepts, refused before anything is made. */
static int pod_check_supported(struct hyperd *hd, const struct pod_spec *spec, char **ret_error)
{
        struct stat sb;

        if (spec->network_mode == POD_NETWORK_TAP)
                return error_set_first(ret_error, -EINVAL,
                                       "network.mode \"tap\" is not supported by hyperd: use \"bridge\" or \"none\"");
        if (spec->network_mode == POD_NETWORK_BRIDGE && spec->network_bridge && hd->net &&
            strcmp(spec->network_bridge, netbridge_name(hd->net)) != 0)
                return error_set_first(ret_error, -EINVAL,
                                       "network.bridge: hyperd's pods use its own bridge %s; leave the field out",
                                       netbridge_name(hd->net));
        for (size_t i = 0; i < spec->n_containers; i++)
                if (spec->containers[i].tty || spec->containers[i].stdin)
                        return error_set_first(ret_error, -EINVAL,
                                               "containers[%zu]: tty and stdin are not supported in hyperd's pod files "
                                               "yet; add such a container with hyperctl run -it --pod",
                                               i);
        for (size_t i = 0; i < spec->n_volumes; i++) {
                const struct pod_volume *v = &spec->volumes[i];
                _cleanup_free_ unsigned char *head = NULL;
                _cleanup_close_ int fd = -1;
                const char *format;
                size_t users = 0;
                ssize_t len;
                int r;

                if (v->driver == POD_VOLUME_NAMED) {
                        if (!volume_name_valid(v->source))
                                return error_set_first(
                                        ret_error, -EINVAL,
                                        "volumes[%zu].source: \"%s\" is no volume name: letters, digits, "
                                        "'_', '.' and '-', two characters at least",
                                        i, v->source);
                        continue;
                }
                if (stat(v->source, &sb) < 0)
                        return error_set_first(ret_error, -EINVAL, "volumes[%zu]: the host path %s: %m", i, v->source);
                if (v->driver == POD_VOLUME_HOST)
                        continue;
                /* A disk image: hot-plugged into the VM for the one container that mounts it. */
                for (size_t c = 0; c < spec->n_containers; c++)
                        for (size_t m = 0; m < spec->containers[c].n_mounts; m++)
                                users += strcmp(spec->containers[c].mounts[m].volume, v->name) == 0;
                if (users > 1)
                        return error_set_first(
                                ret_error, -EINVAL,
                                "volumes[%zu]: the %s volume \"%s\" is mounted by %zu containers: a disk "
                                "image is mounted by one container at a time; use a named volume to share "
                                "files",
                                i, pod_volume_driver_to_string(v->driver), v->name, users);
                if (!S_ISREG(sb.st_mode))
                        return error_set_first(ret_error, -EINVAL, "volumes[%zu]: %s is not a disk image file", i,
                                               v->source);
                fd = open(v->source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                head = malloc(VOLUME_PROBE_SIZE);
                if (!head)
                        return -ENOMEM;
                len = fd < 0 ? -1 : read(fd, head, VOLUME_PROBE_SIZE);
                if (len < 0)
                        return error_set_first(ret_error, -EINVAL, "volumes[%zu]: cannot read %s: %m", i, v->source);
                format = volume_probe_format(head, (size_t)len, v->source);
                if (!format || strcmp(format, pod_volume_driver_to_string(v->driver)) != 0)
                        return error_set_first(
                                ret_error, -EINVAL,
                                "volumes[%zu]: %s is not a %s disk image (hyperd takes a qcow2 file by its "
                                "name ending in .qcow2; a raw one holds a file system or ends in .img or "
                                ".raw)",
                                i, v->source, pod_volume_driver_to_string(v->driver));
                r = pod_check_block_free(hd, i, v->source, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every image is in the store and every name is free, so that a refusal comes before anything is made. */
static int pod_check_refs(struct hyperd *hd, const struct pod_spec *spec, char **ret_error)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(db_pod_done) struct db_pod p = {0};
        int r;

        if (db_pod_get(hd->db, spec->id, &p) >= 0)
                return error_set_first(ret_error, -EEXIST,
                                       "a pod named \"%s\" already exists: remove it or choose another id", spec->id);
        r = image_store_open(hd->config->root, &s, ret_error);
        for (size_t i = 0; r >= 0 && i < spec->n_containers; i++) {
                _cleanup_(image_config_freep) struct image_config *ic = NULL;
                _cleanup_free_ char *id = NULL, *error = NULL, *name = NULL;
                struct db_container c;

                r = image_store_config(s, spec->containers[i].image, &id, &ic, &error);
                if (r == -ENOENT)
                        return error_set_first(ret_error, r,
                                               "containers[%zu].image: %s: pull or load it first (hyperctl pull %s)", i,
                                               error ? error : "no such image", spec->containers[i].image);
                if (r < 0)
                        return error_set_first(ret_error, r, "containers[%zu].image: %s", i,
                                               error ? error : strerror(-r));
                name = pod_container_name(spec->id, spec->containers[i].name);
                if (!name)
                        return -ENOMEM;
                if (db_container_get(hd->db, name, &c) >= 0) {
                        db_container_done(&c);
                        return error_set_first(
                                ret_error, -EEXIST,
                                "containers[%zu]: the name \"%s\" is already in use by another container", i, name);
                }
        }
        return r;
}

/* The published ports of every container, in -p's syntax, for container_net_create(). */
static char **pod_publish(const struct pod_spec *spec)
{
        _cleanup_(strv_freep) char **v = calloc(POD_SPEC_MAX_PORTS + 1, sizeof(char *));
        size_t n = 0;

        if (!v)
                return NULL;
        for (size_t i = 0; i < spec->n_containers; i++)
                for (size_t j = 0; j < spec->containers[i].n_ports && n < POD_SPEC_MAX_PORTS; j++) {
                        const struct pod_port *p = &spec->containers[i].ports[j];

                        if (asprintf(&v[n], "%s%s%u:%u/%s", p->host_ip ? p->host_ip : "", p->host_ip ? ":" : "",
                                     p->host_port, p->container_port, pod_protocol_to_string(p->protocol)) < 0)
                                return NULL;
                        n++;
                }
        return TAKE_PTR(v);
}

static char *pod_host_resolv(void)
{
        _cleanup_free_ char *text = NULL;
        size_t len;

        return read_full_file(POD_HOST_RESOLV, POD_MAX_RESOLV, &text, &len) < 0 ? NULL : TAKE_PTR(text);
}

/* resolv.conf: the pod's servers, else the host's (container_resolv's rules), then its search and options. */
static char *pod_resolv(const struct pod_spec *spec)
{
        struct container_run run = {.dns = spec->dns_servers[0] ? spec->dns_servers : NULL};
        _cleanup_free_ char *host = pod_host_resolv(), *base = container_resolv(&run, host);
        char *text = NULL, *line = NULL, *next;
        char *const *lists[] = {spec->dns_search, spec->dns_options};
        const char *keys[] = {"search", "options"};

        if (!base)
                return NULL;
        text = TAKE_PTR(base);
        for (size_t k = 0; k < 2; k++) {
                if (!lists[k][0])
                        continue;
                line = strdup(keys[k]);
                for (char *const *w = lists[k]; line && *w; w++) {
                        next = NULL;
                        if (asprintf(&next, "%s %s", line, *w) < 0)
                                next = NULL;
                        free(line);
                        line = next;
                }
                next = NULL;
                if (!line || asprintf(&next, "%s%s\n", text, line) < 0)
                        next = NULL;
                free(line);
                free(text);
                text = next;
                if (!text)
                        return NULL;
        }
        return text;
}

static int pod_write(const char *dir, const char *name, char *text, char **ret_error)
{
        _cleanup_free_ char *owned = text, *path = NULL;
        int r;

        if (!text || asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = write_file_atomic(path, text, strlen(text), 0644);
        return r < 0 ? error_set_first(ret_error, r, "cannot write %s: %s", path, strerror(-r)) : 0;
}

/* The sandbox's bundle: hosts, resolv.conf and hostname for the members, and rootfs/pause. */
static int pod_sandbox_files(struct hyperd *hd, const struct pod_spec *spec, const char *dir, const char *addr,
                             char **ret_error)
{
        _cleanup_free_ char *pause = NULL, *rootfs = NULL, *data = NULL, *dest = NULL, *hostname = NULL;
        struct container_run run = {0};
        size_t len;
        int r;

        r = pod_find_pause(&pause);
        if (r < 0)
                return error_set_first(ret_error, r,
                                       "hyperd found no %s to hold the pod's VM (install it beside hyperd, "
                                       "or set HYPER_PAUSE)",
                                       POD_PAUSE_NAME);
        if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&dest, "%s/pause", rootfs) < 0 ||
            asprintf(&hostname, "%s\n", spec->hostname) < 0)
                return -ENOMEM;
        r = mkdir_p(rootfs, 0755);
        if (r >= 0)
                r = read_full_file(pause, POD_MAX_PAUSE_SIZE, &data, &len);
        if (r >= 0)
                r = write_file_atomic(dest, data, len, 0755);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot put %s in the sandbox: %s", pause, strerror(-r));
        r = pod_write(dir, "hosts", container_hosts(&run, spec->hostname, addr), ret_error);
        if (r >= 0)
                r = pod_write(dir, "resolv.conf", pod_resolv(spec), ret_error);
        if (r >= 0)
                r = pod_write(dir, "hostname", TAKE_PTR(hostname), ret_error);
        return r;
}

static int pod_sandbox_config(const struct pod_spec *spec, const char *sandbox, const char *dir, const char *netns,
                              char **ret_error)
{
        char *cmd[] = {(char *)"/pause", NULL}, *none[] = {NULL};
        /* runv sizes the pod's VM from its first container's linux.resources. */
        struct container_run run = {.cmd = cmd, .entrypoint = none, .memory = spec->memory_mib << 20,
                                    .millicpus = 1000ull * spec->vcpus};
        struct image_config ic = {0};
        _cleanup_free_ char *rootfs = NULL, *path = NULL;
        _cleanup_(json_object_putp) struct json_object *oci = NULL;
        struct container_spec_input in = {.image = &ic, .run = &run, .id = sandbox, .netns = netns};
        const char *text;
        int r;

        if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&path, "%s/config.json", dir) < 0)
                return -ENOMEM;
        in.rootfs = rootfs;
        r = container_spec(&in, &oci, ret_error);
        if (r < 0)
                return r;
        json_object_object_add(oci, "hostname", json_object_new_string(spec->hostname));
        text = json_object_to_json_string_ext(oci, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = text ? write_file_atomic(path, text, strlen(text), 0600) : -ENOMEM;
        return r < 0 ? error_set_first(ret_error, r, "cannot write %s: %s", path, strerror(-r)) : 0;
}

static int pod_sandbox_start(struct hyperd *hd, const struct pod_spec *spec, const char *sandbox, char **ret_error)
{
        _cleanup_(strv_freep) char **publish = pod_publish(spec);
        _cleanup_free_ char *dir = container_bundle(hd, sandbox, NULL), *netns = NULL;
        struct container_run run = {.publish = publish, .network_none = spec->network_mode == POD_NETWORK_NONE};
        struct in_addr a = {0};
        char addr[INET_ADDRSTRLEN];
        int r;

        if (!publish || !dir)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot make %s: %s", dir, strerror(-r));
        r = container_net_create(hd, sandbox, &run, &netns, &a, ret_error);
        if (r >= 0 && netns && !inet_ntop(AF_INET, &a, addr, sizeof(addr)))
                r = -errno;
        if (r >= 0)
                r = pod_sandbox_files(hd, spec, dir, netns ? addr : NULL, ret_error);
        if (r >= 0)
                r = pod_sandbox_config(spec, sandbox, dir, netns, ret_error);
        if (r >= 0)
                r = container_runv_start(hd, sandbox, ret_error);
        return r;
}

/* A pod's host folders and files mounted by one container, as OCI bind mounts. */
static struct json_object *pod_mounts(const struct pod_spec *spec, const struct pod_container *c)
{
        _cleanup_(json_object_putp) struct json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < c->n_mounts; i++) {
                const struct pod_volume *v = pod_spec_find_volume(spec, c->mounts[i].volume);
                struct json_object *m, *opts;

                if (!v)
                        return NULL;
                if (v->driver != POD_VOLUME_HOST)
                        continue;
                m = json_object_new_object();
                opts = json_object_new_array();
                if (!m || !opts) {
                        json_object_put(m);
                        json_object_put(opts);
                        return NULL;
                }
                json_object_array_add(opts, json_object_new_string("rbind"));
                json_object_array_add(opts, json_object_new_string(v->readonly || c->mounts[i].readonly ? "ro" : "rw"));
                json_object_object_add(m, "destination", json_object_new_string(c->mounts[i].path));
                json_object_object_add(m, "type", json_object_new_string("bind"));
                json_object_object_add(m, "source", json_object_new_string(v->source));
                json_object_object_add(m, "options", opts);
                json_object_array_add(a, m);
        }
        return TAKE_PTR(a);
}

/*
 * A pod's named volumes and disk images mounted by one container, as -v
 * specs (NAME:/PATH or /FILE:/PATH, ":ro" when read-only): container_make()
 * makes, records, fills and attaches them as it does for run -v.
 */
static char **pod_volume_specs(const struct pod_spec *spec, const struct pod_container *c)
{
        _cleanup_(strv_freep) char **v = calloc(c->n_mounts + 1, sizeof(char *));
        size_t n = 0;

        for (size_t i = 0; v && i < c->n_mounts; i++) {
                const struct pod_volume *pv = pod_spec_find_volume(spec, c->mounts[i].volume);

                if (!pv)
                        return NULL;
                if (pv->driver == POD_VOLUME_HOST)
                        continue;
                if (asprintf(&v[n], "%s:%s%s", pv->source, c->mounts[i].path,
                             pv->readonly || c->mounts[i].readonly ? ":ro" : "") < 0)
                        return NULL;
                n++;
        }
        return TAKE_PTR(v);
}

static int pod_start_container(struct hyperd *hd, const struct pod_spec *spec, const struct pod_container *pc,
                               char **ret_error)
{
        _cleanup_free_ char *name = pod_container_name(spec->id, pc->name), *id = NULL, *cname = NULL;
        _cleanup_(json_object_putp) struct json_object *mounts = pod_mounts(spec, pc);
        _cleanup_(strv_freep) char **volumes = pod_volume_specs(spec, pc);
        struct container_run run = {.image = pc->image, .name = name, .workdir = pc->workdir, .user = pc->user,
                                    .cmd = pc->command, .entrypoint = pc->entrypoint,
                                    .env = pc->n_env ? pc->env : NULL, .pod = spec->id, .mounts = mounts};

        if (!name || !mounts || !volumes)
                return -ENOMEM;
        run.volumes = volumes[0] ? volumes : NULL;
        return container_create(hd, &run, &id, &cname, ret_error);
}

static int pod_start_all(struct hyperd *hd, const struct pod_spec *spec, const char *sandbox, char **ret_error)
{
        int r = pod_sandbox_start(hd, spec, sandbox, ret_error);

        for (size_t i = 0; r >= 0 && i < spec->n_containers; i++)
                r = pod_start_container(hd, spec, &spec->containers[i], ret_error);
        return r;
}

/* The named volumes of the pod file that do not exist yet: those pod_create() makes, and removes if it fails. */
static int pod_new_volumes(struct hyperd *hd, const struct pod_spec *spec, char ***ret)
{
        _cleanup_(strv_freep) char **v = calloc(spec->n_volumes + 1, sizeof(char *));
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_volumes; i++) {
                struct db_volume dv = {0};

                if (spec->volumes[i].driver != POD_VOLUME_NAMED)
                        continue;
                if (db_volume_get(hd->db, spec->volumes[i].source, &dv) >= 0) {
                        free(dv.name);
                        continue;
                }
                if (!(v[n++] = strdup(spec->volumes[i].source)))
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int pod_create(struct hyperd *hd, const char *body, size_t len, char **ret_id, char **ret_error)
{
        _cleanup_(strv_freep) char **made = NULL;
        _cleanup_(pod_spec_freep) struct pod_spec *spec = NULL;
        _cleanup_free_ char *canonical = NULL;
        char sandbox[CONTAINER_ID_LEN + 1];
        struct db_pod p;
        int r;

        if (!hd->runv)
                return error_set_first(ret_error, -ENOENT, "hyperd found no runv to run pods with (set HYPER_RUNV)");
        r = pod_spec_parse(body, len, &spec, ret_error);
        if (r < 0)
                return error_set_first(ret_error, r, "the pod file is not valid: %s", strerror(-r));
        r = pod_check_supported(hd, spec, ret_error);
        if (r >= 0)
                r = pod_check_refs(hd, spec, ret_error);
        if (r >= 0)
                r = pod_spec_to_json(spec, &canonical);
        if (r >= 0)
                r = random_hex(sandbox, CONTAINER_ID_LEN);
        if (r < 0)
                return r;
        p = (struct db_pod){.id = spec->id, .sandbox = sandbox, .spec = canonical, .created = time(NULL)};
        r = db_pod_add(hd->db, &p);
        if (r == -EEXIST)
                return error_set_first(ret_error, r, "a pod named \"%s\" already exists", spec->id);
        if (r < 0)
                return r;
        r = pod_new_volumes(hd, spec, &made);
        if (r >= 0)
                r = pod_start_all(hd, spec, sandbox, ret_error);
        if (r < 0) {
                log_warning("pod %s: %s; removing what was made", spec->id, ret_error && *ret_error ? *ret_error : "");
                pods_lock();
                pod_remove(hd, &p, NULL);
                pods_unlock();
                /* The named volumes the pod made go too (one a container took up meanwhile stays: -EBUSY). */
                for (size_t i = 0; made && made[i]; i++)
                        volume_remove(hd, made[i], NULL);
                return r;
        }
        log_info("pod %s started (%zu containers)", spec->id, spec->n_containers);
        *ret_id = strdup(spec->id);
        return *ret_id ? 0 : -ENOMEM;
}

/* SIGKILL to what is still live once the deadline has passed, then its end. */
static void pod_stop_wait(struct hyperd *hd, const char *id, int64_t deadline_ms)
{
        struct container_status st;
        struct timespec ts;
        int64_t left;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        left = deadline_ms - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        if (container_wait(hd, id, (int)MAX(left, 0), -1, &st) != -ETIMEDOUT)
                return;
        container_signal(hd, id, SIGKILL, NULL);
        container_wait(hd, id, POD_KILL_WAIT_MS, -1, &st);
}

int pod_stop(struct hyperd *hd, const struct db_pod *p, int timeout_s, char **ret_error)
{
        struct db_container *a = NULL;
        struct container_status st;
        struct timespec ts;
        int64_t deadline;
        size_t n = 0;
        int r;

        r = db_member_list(hd->db, p->id, &a, &n);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot list the containers of pod %s: %s", p->id, strerror(-r));
        /* All at once, as `podman pod stop` does: SIGTERM to each, one deadline, then SIGKILL to the rest. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (int64_t)timeout_s * 1000;
        /* Marked under the lock, which the watcher reads them under; signalled and waited for outside it. */
        pods_lock();
        for (size_t i = 0; i < n; i++)
                db_member_set_stopped(hd->db, a[i].id, true);
        pods_unlock();
        for (size_t i = 0; i < n; i++) {
                if (container_state(hd, a[i].id, &st) >= 0 && container_is_live(&st))
                        container_signal(hd, a[i].id, SIGTERM, NULL);
        }
        for (size_t i = 0; i < n; i++)
                pod_stop_wait(hd, a[i].id, deadline);
        db_container_free_array(a, n);
        r = container_stop(hd, p->sandbox, timeout_s, &st);
        return r < 0 ? error_set_first(ret_error, r, "cannot stop pod %s: %s", p->id, strerror(-r)) : 0;
}

/* A member's config.json joins the sandbox's new monitor: its ipc and uts namespace paths name that PID. */
static int pod_rejoin(struct hyperd *hd, const char *id, const struct pod_join *join, char **ret_error)
{
        _cleanup_free_ char *path = container_bundle(hd, id, "config.json"), *text = NULL;
        _cleanup_(json_object_putp) struct json_object *spec = NULL;
        struct json_object *linux_o, *nss, *type;
        const char *out;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, 1u << 24, &text, &len);
        if (r >= 0)
                r = json_parse_object(text, len, &spec);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        if (!json_object_object_get_ex(spec, "linux", &linux_o) ||
            !json_object_object_get_ex(linux_o, "namespaces", &nss) || !json_object_is_type(nss, json_type_array))
                return error_set_first(ret_error, -EINVAL, "%s has no linux.namespaces", path);
        for (size_t i = 0; i < json_object_array_length(nss); i++) {
                struct json_object *e = json_object_array_get_idx(nss, i);
                const char *t;

                if (!json_object_object_get_ex(e, "type", &type) || !(t = json_object_get_string(type)))
                        continue;
                if (strcmp(t, "ipc") == 0)
                        json_object_object_add(e, "path", json_object_new_string(join->ipc));
                else if (strcmp(t, "uts") == 0)
                        json_object_object_add(e, "path", json_object_new_string(join->uts));
        }
        out = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = out ? write_file_atomic(path, out, strlen(out), 0600) : -ENOMEM;
        return r < 0 ? error_set_first(ret_error, r, "cannot write %s: %s", path, strerror(-r)) : 0;
}

int pod_start(struct hyperd *hd, const struct db_pod *p, char **ret_error)
{
        _cleanup_(pod_join_done) struct pod_join join = {0};
        struct db_container *a = NULL;
        struct container_status st;
        size_t n = 0;
        int r;

        if (container_state(hd, p->sandbox, &st) >= 0 && container_is_live(&st))
                return 0; /* running already: nothing to do, as with podman pod start */
        r = db_member_list(hd->db, p->id, &a, &n);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot list the containers of pod %s: %s", p->id, strerror(-r));
        /* The sandbox again from its bundle: its network namespace, address and ports are still there. */
        r = container_restart(hd, p->sandbox, ret_error);
        if (r >= 0)
                r = pod_join_prepare(hd, p->id, &join, ret_error);
        /* Then each container, from its bundle and rootfs (what it wrote stays), in the order they were made. */
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = pod_rejoin(hd, a[i].id, &join, ret_error);
                if (r >= 0)
                        r = container_restart_reattach(hd, a[i].id, ret_error);
                if (r >= 0) {
                        db_member_set_stopped(hd->db, a[i].id, false);
                        db_member_set_restarts(hd->db, a[i].id, 0);
                }
        }
        if (r < 0) {
                /* Not half-started: what was started ends with the VM, as in pod_remove(). */
                if (container_state(hd, p->sandbox, &st) >= 0 && container_is_live(&st) &&
                    container_signal(hd, p->sandbox, SIGKILL, NULL) >= 0)
                        container_wait(hd, p->sandbox, POD_KILL_WAIT_MS, -1, &st);
                for (size_t i = 0; i < n; i++)
                        container_wait(hd, a[i].id, POD_KILL_WAIT_MS, -1, &st);
        }
        db_container_free_array(a, n);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot start pod %s: %s", p->id, strerror(-r));
        log_info("pod %s started again (%zu containers)", p->id, n);
        return 0;
}

int pod_remove(struct hyperd *hd, const struct db_pod *p, char **ret_error)
{
        struct container_status st;
        struct db_container *a = NULL;
        size_t n = 0;
        int r;

        r = db_member_list(hd->db, p->id, &a, &n);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot list the containers of pod %s: %s", p->id, strerror(-r));
        /* The VM first: its containers end with it at once, instead of one by one inside it. */
        if (container_state(hd, p->sandbox, &st) >= 0 && container_is_live(&st) &&
            container_signal(hd, p->sandbox, SIGKILL, NULL) >= 0)
                container_wait(hd, p->sandbox, POD_KILL_WAIT_MS, -1, &st);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = container_remove(hd, a[i].id, ret_error);
        db_container_free_array(a, n);
        if (r >= 0)
                r = container_remove(hd, p->sandbox, ret_error);
        if (r >= 0)
                r = db_pod_remove(hd->db, p->id);
        return r;
}

static struct json_object *pod_labels_json(const struct pod_spec *spec)
{
        struct json_object *o = json_object_new_object();

        for (size_t i = 0; o && i < spec->n_labels; i++)
                json_object_object_add(o, spec->labels[i].key, json_object_new_string(spec->labels[i].value));
        return o;
}

static struct json_object *pod_containers_json(struct hyperd *hd, const struct db_pod *p)
{
        struct json_object *arr = json_object_new_array();
        struct db_container *a = NULL;
        size_t n = 0;

        if (!arr || db_member_list(hd->db, p->id, &a, &n) < 0)
                return arr;
        for (size_t i = 0; i < n; i++) {
                struct container_status st;
                struct db_member m;
                struct json_object *o;

                if (container_state(hd, a[i].id, &st) < 0)
                        snprintf(st.status, sizeof(st.status), "unknown");
                o = api_container_json(&a[i], &st);
                if (o && db_member_get(hd->db, a[i].id, &m) >= 0) {
                        json_object_object_add(o, "restartCount", json_object_new_int64(m.restarts));
                        free(m.pod);
                }
                json_object_array_add(arr, o);
        }
        db_container_free_array(a, n);
        return arr;
}

struct json_object *pod_json(struct hyperd *hd, const struct db_pod *p)
{
        _cleanup_(pod_spec_freep) struct pod_spec *spec = NULL;
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        struct json_object *parsed = NULL;

        if (!o || pod_spec_parse(p->spec, strlen(p->spec), &spec, NULL) < 0)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(p->id));
        json_object_object_add(o, "hostname", json_object_new_string(spec->hostname));
        json_object_object_add(o, "status", json_object_new_string(pod_status(hd, p)));
        json_object_object_add(o, "created", json_object_new_int64(p->created));
        json_object_object_add(o, "sandbox", json_object_new_string(p->sandbox));
        json_object_object_add(o, "vcpu", json_object_new_int((int)spec->vcpus));
        json_object_object_add(o, "memoryMiB", json_object_new_int64((int64_t)spec->memory_mib));
        json_object_object_add(o, "restartPolicy",
                               json_object_new_string(pod_restart_policy_to_string(spec->restart_policy)));
        json_object_object_add(o, "labels", pod_labels_json(spec));
        json_object_object_add(o, "containers", pod_containers_json(hd, p));
        if (json_parse_object(p->spec, strlen(p->spec), &parsed) >= 0)
                json_object_object_add(o, "spec", parsed);
        return TAKE_PTR(o);
}

/*
 * Whether path is the root of a mount in our namespace: the kernel's STATX_ATTR_MOUNT_ROOT, else a mount id
 * (or, on old kernels, a device) other than its parent's. Asked of the folder itself, not of a string
 * compared with mountinfo (which a trailing slash, a symlink or an escaped space would miss).
 */
static int pod_is_mount_point(const char *path)
{
        _cleanup_free_ char *parent = NULL;
        struct statx a, b;

        if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &a) < 0)
                return -errno;
        if (a.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
                return !!(a.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        if (asprintf(&parent, "%s/..", path) < 0)
                return -ENOMEM;
        if (statx(AT_FDCWD, parent, AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &b) < 0)
                return -errno;
        if ((a.stx_mask & STATX_MNT_ID) && (b.stx_mask & STATX_MNT_ID))
                return a.stx_mnt_id != b.stx_mnt_id;
        return a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor;
}

/* ROOT/rootfs, with the root's symlinks and slashes resolved (it is made when missing). */
static char *pod_rootfs_dir(struct hyperd *hd)
{
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/rootfs", hd->config->root) < 0)
                return NULL;
        if (mkdir_p(p, 0700) < 0)
                return NULL;
        return realpath(p, NULL);
}

int pod_rootfs_share(struct hyperd *hd)
{
        _cleanup_free_ char *dir = pod_rootfs_dir(hd);
        int r;

        if (!dir)
                return log_error_errno(errno > 0 ? -errno : -ENOMEM, "cannot make %s/rootfs", hd->config->root);
        r = pod_is_mount_point(dir);
        if (r < 0)
                return log_error_errno(r, "cannot tell whether %s is a mount point", dir);
        /* Recursive: bound while containers run (after a kill -9 of hyperd), their overlays stay seen. */
        if (r == 0 && mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
                return log_error_errno(-errno, "cannot bind %s on itself", dir);
        if (mount(NULL, dir, NULL, MS_SHARED, NULL) < 0)
                return log_error_errno(-errno, "cannot make %s a shared mount", dir);
        return 0;
}

void pod_rootfs_unshare(struct hyperd *hd)
{
        _cleanup_free_ char *dir = pod_rootfs_dir(hd);
        struct db_container *cs = NULL;
        struct db_pod *ps = NULL;
        size_t nc = 0, np = 0;

        if (!dir || db_container_list(hd->db, &cs, &nc) < 0 || db_pod_list(hd->db, &ps, &np) < 0 || nc + np > 0) {
                db_container_free_array(cs, nc);
                db_pod_free_array(ps, np);
                return;
        }
        if (pod_is_mount_point(dir) > 0 && umount2(dir, MNT_DETACH) < 0)
                log_warning_errno(-errno, "cannot unmount %s", dir);
}
