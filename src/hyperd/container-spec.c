/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container-spec.h"
#include "error-util.h"
#include "netbridge.h"
#include "json-util.h"
#include "oci-spec.h"
#include "tapnet.h"

#define CONTAINER_MAX_PASSWD   (1024 * 1024)
#define CONTAINER_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void container_run_done(struct container_run *r)
{
        free(r->image);
        free(r->name);
        free(r->workdir);
        free(r->user);
        strv_free(r->cmd);
        strv_free(r->entrypoint);
        strv_free(r->env);
        strv_free(r->publish);
        strv_free(r->dns);
        strv_free(r->add_host);
        strv_free(r->volumes);
        free(r->bridge);
        free(r->tap);
        free(r->ip);
        free(r->gateway);
        free(r->pod);
        *r = (struct container_run){0};
}

bool container_name_valid(const char *name)
{
        size_t n = strlen(name);
        const char *first = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

        return n > 0 && n <= CONTAINER_MAX_NAME && strchr(first, name[0]) &&
               strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* An optional string field: absent or null leaves *ret NULL. */
static int run_string(struct json_object *o, const char *key, char **ret, char **ret_error)
{
        const char *s;
        int r = json_get_string(o, key, &s);

        if (r == -ENOENT)
                return 0;
        if (r < 0 || strlen(s) > CONTAINER_MAX_STRING)
                return error_set(ret_error, -EINVAL, "\"%s\" must be a string of at most %d bytes", key,
                                 CONTAINER_MAX_STRING);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int run_strv(struct json_object *o, const char *key, size_t max, char ***ret, char **ret_error)
{
        int r = json_get_strv(o, key, max, ret);

        if (r == -ENOENT)
                return 0;
        if (r == -E2BIG)
                return error_set(ret_error, -EINVAL, "\"%s\" has more than %zu entries", key, max);
        if (r < 0)
                return error_set(ret_error, r == -ENOMEM ? r : -EINVAL, "\"%s\" must be an array of strings", key);
        for (char **p = *ret; *p; p++)
                if (strlen(*p) > CONTAINER_MAX_STRING)
                        return error_set(ret_error, -EINVAL, "an entry of \"%s\" is over %d bytes", key,
                                         CONTAINER_MAX_STRING);
        return 0;
}

static int run_check_keys(struct json_object *o, char **ret_error)
{
        static const char *const known[] = {"image",   "name",     "workdir", "user",   "cmd",  "entrypoint",
                                            "env",     "rm",       "publish", "network", "dns", "add_host",
                                            "volumes", "memory",   "cpus",    "ip",      "gateway",
                                            "tty",     "stdin",    "stdin_once", "pod"};

        json_object_object_foreach(o, key, val)
        {
                size_t i;

                (void)val;
                for (i = 0; i < ARRAY_SIZE(known) && strcmp(key, known[i]) != 0; i++)
                        ;
                if (i == ARRAY_SIZE(known))
                        return error_set(ret_error, -EINVAL, "unknown field \"%.64s\"", key);
        }
        return 0;
}

bool container_ip_valid(const char *s)
{
        unsigned char buf[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool container_add_host_valid(const char *s)
{
        const char *colon = strchr(s, ':');
        size_t n = colon ? (size_t)(colon - s) : 0;

        return n > 0 && n <= 253 && s[0] != '-' &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n &&
               container_ip_valid(colon + 1);
}

static int run_check_names(const struct container_run *r, char **ret_error)
{
        for (char **p = r->dns; p && *p; p++)
                if (!container_ip_valid(*p))
                        return error_set(ret_error, -EINVAL,
                                         "invalid \"dns\" entry \"%.200s\": an IPv4 or IPv6 address", *p);
        for (char **p = r->add_host; p && *p; p++)
                if (!container_add_host_valid(*p))
                        return error_set(ret_error, -EINVAL,
                                         "invalid \"add_host\" entry \"%.200s\": NAME:IP, an IPv4 or IPv6 address", *p);
        return 0;
}

/* Each -v well formed, each container path once. */
static int run_check_volumes(const struct container_run *r, char **ret_error)
{
        for (size_t i = 0; r->volumes && r->volumes[i]; i++) {
                struct volume_spec v = {0};
                int k = volume_spec_parse(r->volumes[i], &v, ret_error);

                if (k < 0)
                        return k;
                for (size_t j = 0; k >= 0 && j < i; j++) {
                        struct volume_spec w;

                        if (volume_spec_parse(r->volumes[j], &w, NULL) < 0)
                                continue;
                        if (strcmp(v.destination, w.destination) == 0)
                                k = error_set(ret_error, -EINVAL,
                                              "two volumes at %.200s: one container path, one volume", v.destination);
                        volume_spec_done(&w);
                }
                /* Parsed, so freed whatever the verdict. */
                volume_spec_done(&v);
                if (k < 0)
                        return k;
        }
        return 0;
}

bool container_ifname_valid(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n < 16 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* "A.B.C.D/N", N 1..32, into an address and a prefix length. */
int container_cidr_parse(const char *s, struct in_addr *ret_addr, unsigned *ret_prefix)
{
        char buf[INET_ADDRSTRLEN + 4], *slash, *end;
        unsigned long n;

        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (!slash || slash[1] < '0' || slash[1] > '9')
                return -EINVAL;
        *slash = '\0';
        n = strtoul(slash + 1, &end, 10);
        if (*end || n < 1 || n > 32 || inet_pton(AF_INET, buf, ret_addr) != 1)
                return -EINVAL;
        *ret_prefix = (unsigned)n;
        return 0;
}

/* "ip" and "gateway": only with a bridge or tap of the user's, IPv4, the gateway inside the address's subnet. */
static int run_check_address(const struct container_run *r, char **ret_error)
{
        struct in_addr a, gw;
        unsigned prefix;
        uint32_t mask;

        if ((r->ip || r->gateway) && !r->bridge && !r->tap)
                return error_set(ret_error, -EINVAL,
                                 "\"%s\" is only for \"network\": \"bridge:NAME\" or \"tap:NAME\" (an interface of "
                                 "yours): on hyperd's own bridge hyperd gives the address and the route",
                                 r->ip ? "ip" : "gateway");
        if (r->gateway && !r->ip)
                return error_set(ret_error, -EINVAL, "\"gateway\" needs \"ip\": the container's own address first");
        if (r->ip && container_cidr_parse(r->ip, &a, &prefix) < 0)
                return error_set(ret_error, -EINVAL,
                                 "invalid \"ip\" \"%.64s\": an IPv4 address with its prefix length, e.g. "
                                 "192.168.50.10/24",
                                 r->ip);
        if (!r->gateway)
                return 0;
        if (inet_pton(AF_INET, r->gateway, &gw) != 1)
                return error_set(ret_error, -EINVAL,
                                 "invalid \"gateway\" \"%.64s\": an IPv4 address, e.g. 192.168.50.1", r->gateway);
        mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
        if ((ntohl(a.s_addr) & mask) != (ntohl(gw.s_addr) & mask) || gw.s_addr == a.s_addr)
                return error_set(ret_error, -EINVAL, "\"gateway\" %.64s is not another address in %.64s's subnet",
                                 r->gateway, r->ip);
        return 0;
}

static int run_check(const struct container_run *r, char **ret_error)
{
        int r_volumes;

        if (!r->image || !*r->image)
                return error_set(ret_error, -EINVAL, "\"image\" is required: the image to run");
        if (r->name && !container_name_valid(r->name))
                return error_set(ret_error, -EINVAL,
                                 "invalid name \"%.200s\": letters, digits, '_', '.' and '-', at most %d, "
                                 "starting with a letter or digit",
                                 r->name, CONTAINER_MAX_NAME);
        if (r->workdir && r->workdir[0] != '/')
                return error_set(ret_error, -EINVAL, "\"workdir\" must be an absolute path, not \"%.200s\"",
                                 r->workdir);
        for (char **p = r->env; p && *p; p++)
                if (**p == '=' || !strchr(*p, '='))
                        return error_set(ret_error, -EINVAL, "env entry \"%.200s\" is not KEY=VALUE", *p);
        if (r->network_none && r->publish && r->publish[0])
                return error_set(ret_error, -EINVAL, "\"publish\" needs a network: not with \"network\": \"none\"");
        if ((r->bridge || r->tap) && r->publish && r->publish[0])
                return error_set(ret_error, -EINVAL,
                                 "\"publish\" is only for hyperd's own bridge: on a %s of your own (\"%s:%s\") "
                                 "hyperd adds no rules; reach the container at its address, or forward the port "
                                 "yourself",
                                 r->bridge ? "bridge" : "tap", r->bridge ? "bridge" : "tap",
                                 r->bridge ? r->bridge : r->tap);
        for (char **p = r->publish; p && *p; p++) {
                struct netbridge_port port;
                int k = container_port_parse(*p, &port, ret_error);

                if (k < 0)
                        return k;
        }
        r_volumes = run_check_volumes(r, ret_error);
        if (r_volumes < 0)
                return r_volumes;
        /* Both return -EINVAL or 0. */
        return run_check_address(r, ret_error) < 0 ? -EINVAL : run_check_names(r, ret_error);
}

static int run_network(struct json_object *o, struct container_run *ret, char **ret_error)
{
        _cleanup_free_ char *net = NULL;
        int r = run_string(o, "network", &net, ret_error);

        if (r < 0 || !net)
                return r;
        if (strcmp(net, "none") == 0)
                ret->network_none = true;
        else if (strncmp(net, "bridge:", 7) == 0 || strncmp(net, "tap:", 4) == 0) {
                bool bridge = net[0] == 'b';
                const char *name = net + (bridge ? strlen("bridge:") : strlen("tap:"));

                if (!container_ifname_valid(name))
                        return error_set(ret_error, -EINVAL,
                                         "invalid %s name \"%.64s\" in \"network\": the name of an existing "
                                         "interface, 1 to 15 letters, digits, '_', '.' or '-'",
                                         bridge ? "bridge" : "tap", name);
                *(bridge ? &ret->bridge : &ret->tap) = strdup(name);
                if (!ret->bridge && !ret->tap)
                        return -ENOMEM;
        } else if (strcmp(net, "bridge") != 0)
                return error_set(ret_error, -EINVAL,
                                 "\"network\" must be \"bridge\" (the default), \"none\", \"bridge:NAME\" "
                                 "(a bridge of yours) or \"tap:NAME\" (a tap of yours), not \"%.64s\"",
                                 net);
        return 0;
}

/* "memory": Docker's size string or a number of bytes; "cpus": a number or its string. */
static int run_resources(struct json_object *o, struct container_run *ret, char **ret_error)
{
        struct json_object *v;
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        char buf[64];
        int r = 0;

        if (json_object_object_get_ex(o, "memory", &v) && !json_object_is_type(v, json_type_null)) {
                if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string))
                        snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
                else
                        snprintf(buf, sizeof(buf), "?");
                r = resources_memory_parse(buf, &ret->memory, ret_error);
        }
        if (r >= 0 && json_object_object_get_ex(o, "cpus", &v) && !json_object_is_type(v, json_type_null)) {
                if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string))
                        snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
                else if (json_object_is_type(v, json_type_double))
                        snprintf(buf, sizeof(buf), "%.3f", json_object_get_double(v));
                else
                        snprintf(buf, sizeof(buf), "?");
                r = resources_cpus_parse(buf, n > 0 ? (unsigned)MIN(n, 64) : 1, &ret->millicpus, ret_error);
        }
        return r;
}

static int run_io_flags(struct json_object *o, struct container_run *ret, char **ret_error)
{
        static const char *const keys[] = {"tty", "stdin", "stdin_once"};
        bool *flags[] = {&ret->tty, &ret->stdin_open, &ret->stdin_once};

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                int r = json_get_bool(o, keys[i], flags[i]);

                if (r == -EINVAL)
                        return error_set(ret_error, -EINVAL, "\"%s\" must be true or false", keys[i]);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (ret->stdin_once && !ret->stdin_open)
                return error_set(ret_error, -EINVAL, "\"stdin_once\" needs \"stdin\": true");
        return 0;
}

static int run_fields(struct json_object *o, struct container_run *ret, char **ret_error)
{
        int r;

        r = run_check_keys(o, ret_error);
        if (r >= 0)
                r = run_string(o, "image", &ret->image, ret_error);
        if (r >= 0)
                r = run_string(o, "name", &ret->name, ret_error);
        if (r >= 0)
                r = run_string(o, "workdir", &ret->workdir, ret_error);
        if (r >= 0)
                r = run_string(o, "user", &ret->user, ret_error);
        if (r >= 0)
                r = run_strv(o, "cmd", CONTAINER_MAX_ARGS, &ret->cmd, ret_error);
        if (r >= 0)
                r = run_strv(o, "entrypoint", CONTAINER_MAX_ARGS, &ret->entrypoint, ret_error);
        if (r >= 0)
                r = run_strv(o, "env", CONTAINER_MAX_ENV, &ret->env, ret_error);
        if (r >= 0)
                r = run_strv(o, "publish", CONTAINER_MAX_PUBLISH, &ret->publish, ret_error);
        if (r >= 0)
                r = run_network(o, ret, ret_error);
        if (r >= 0)
                r = run_strv(o, "dns", CONTAINER_MAX_DNS, &ret->dns, ret_error);
        if (r >= 0)
                r = run_strv(o, "add_host", CONTAINER_MAX_ADD_HOST, &ret->add_host, ret_error);
        if (r >= 0)
                r = run_strv(o, "volumes", VOLUME_MAX_PER_CONTAINER, &ret->volumes, ret_error);
        if (r >= 0)
                r = run_resources(o, ret, ret_error);
        if (r >= 0)
                r = run_string(o, "ip", &ret->ip, ret_error);
        if (r >= 0)
                r = run_string(o, "gateway", &ret->gateway, ret_error);
        if (r >= 0)
                r = run_string(o, "pod", &ret->pod, ret_error);
        if (r < 0)
                return r;
        r = json_get_bool(o, "rm", &ret->auto_remove);
        if (r == -EINVAL)
                return error_set(ret_error, -EINVAL, "\"rm\" must be true or false");
        if (r < 0 && r != -ENOENT)
                return r;
        return run_io_flags(o, ret, ret_error);
}

int container_run_parse(const char *body, size_t len, struct container_run *ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        struct container_run run = {0};
        int r;

        if (!body || len == 0)
                return error_set(ret_error, -EINVAL, "the request needs a JSON body: {\"image\": ..., \"cmd\": [...]}");
        if (json_parse_object(body, len, &o) < 0)
                return error_set(ret_error, -EINVAL, "the request body is not a JSON object");
        r = run_fields(o, &run, ret_error);
        if (r >= 0)
                r = run_check(&run, ret_error);
        if (r < 0) {
                container_run_done(&run);
                return r;
        }
        *ret = run;
        return 0;
}

static int strv_append(char ***v, size_t *n, char *const *add)
{
        for (; add && *add; add++) {
                char **b = realloc(*v, (*n + 2) * sizeof(char *));

                if (!b)
                        return -ENOMEM;
                *v = b;
                b[*n] = strdup(*add);
                if (!b[*n])
                        return -ENOMEM;
                b[++*n] = NULL;
        }
        return 0;
}

int container_args(const struct image_config *ic, const struct container_run *r, char ***ret, char **ret_error)
{
        _cleanup_(strv_freep) char **v = calloc(1, sizeof(char *));
        char **entry = r->entrypoint ? r->entrypoint : ic ? ic->entrypoint : NULL;
        char **cmd = r->cmd && r->cmd[0] ? r->cmd : r->entrypoint ? NULL : ic ? ic->cmd : NULL;
        size_t n = 0;

        if (!v || strv_append(&v, &n, entry) < 0 || strv_append(&v, &n, cmd) < 0)
                return -ENOMEM;
        if (n == 0)
                return error_set(ret_error, -EINVAL,
                                 "no command to run: the image has no Cmd or Entrypoint "
                                 "and none was given");
        *ret = TAKE_PTR(v);
        return 0;
}

/* Opens path inside root: links resolve as if root were "/", and ".." stops there. */
static int open_in_root(int root_fd, const char *path)
{
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

        return fd < 0 ? -errno : (int)fd;
}

static int read_in_root(int root_fd, const char *path, char **ret)
{
        _cleanup_close_ int fd = open_in_root(root_fd, path);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        ssize_t n;

        if (fd < 0)
                return fd;
        buf = malloc(CONTAINER_MAX_PASSWD + 1);
        if (!buf)
                return -ENOMEM;
        while (len < CONTAINER_MAX_PASSWD && (n = read(fd, buf + len, CONTAINER_MAX_PASSWD - len)) > 0)
                len += (size_t)n;
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Finds name in a passwd or group file; *ret_id gets field 3, *ret_gid (if not NULL) field 4. */
static int db_lookup(const char *text, const char *name, uint32_t *ret_id, uint32_t *ret_gid)
{
        size_t nlen = strlen(name);

        for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                unsigned long id, gid = 0;
                char *end;
                const char *p;

                if (strncmp(line, name, nlen) != 0 || line[nlen] != ':' || !(p = strchr(line + nlen + 1, ':')))
                        continue;
                id = strtoul(p + 1, &end, 10);
                if (end == p + 1 || *end != ':' || id > UINT32_MAX)
                        continue;
                if (ret_gid && ((gid = strtoul(end + 1, &end, 10)) > UINT32_MAX || *end != ':'))
                        continue;
                *ret_id = (uint32_t)id;
                if (ret_gid)
                        *ret_gid = (uint32_t)gid;
                return 0;
        }
        return -ENOENT;
}

static bool parse_u32(const char *s, uint32_t *ret)
{
        char *end;
        unsigned long v;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (*end || errno || v > UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

static int user_part(int rootfs_fd, const char *file, const char *name, uint32_t *ret, uint32_t *ret_gid,
                     char **ret_error)
{
        _cleanup_free_ char *text = NULL;

        if (parse_u32(name, ret))
                return 1;
        if (rootfs_fd < 0 || read_in_root(rootfs_fd, file, &text) < 0 || db_lookup(text, name, ret, ret_gid) < 0)
                return error_set(ret_error, -EINVAL, "unable to find %s %.200s: no matching entries in %s",
                                 ret_gid ? "user" : "group", name, file);
        return 0;
}

int container_user(int rootfs_fd, const char *user, uint32_t *ret_uid, uint32_t *ret_gid, char **ret_error)
{
        _cleanup_free_ char *u = NULL;
        uint32_t uid = 0, gid = 0, pw_gid = 0;
        char *colon;
        int r;

        if (!user || !*user) {
                *ret_uid = *ret_gid = 0;
                return 0;
        }
        u = strdup(user);
        if (!u)
                return -ENOMEM;
        colon = strchr(u, ':');
        if (colon)
                *colon++ = '\0';
        r = user_part(rootfs_fd, "/etc/passwd", u, &uid, &pw_gid, ret_error);
        if (r < 0)
                return r;
        /* A numeric uid without a group gets gid 0, as Docker gives; a name gets its passwd group. */
        gid = r == 1 ? 0 : pw_gid;
        if (colon && (r = user_part(rootfs_fd, "/etc/group", colon, &gid, NULL, ret_error)) < 0)
                return r;
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

static bool env_has_key(char **env, size_t n, const char *kv)
{
        size_t klen = (size_t)(strchr(kv, '=') - kv);

        for (size_t i = 0; i < n; i++)
                if (strncmp(env[i], kv, klen + 1) == 0)
                        return true;
        return false;
}

/* The image's env, PATH when it has none, then the request's, each key once (the last one wins). */
static struct json_object *spec_env(const struct image_config *ic, const struct container_run *r)
{
        struct json_object *a = json_object_new_array();
        char *path[] = {(char *)CONTAINER_DEFAULT_PATH, NULL};
        char **all = NULL;
        size_t n = 0;

        if (!a || strv_append(&all, &n, ic ? ic->env : NULL) < 0 ||
            (!env_has_key(all, n, "PATH=") && strv_append(&all, &n, path) < 0) || strv_append(&all, &n, r->env) < 0) {
                strv_free(all);
                json_object_put(a);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (!env_has_key(all + i + 1, n - i - 1, all[i]))
                        json_object_array_add(a, json_object_new_string(all[i]));
        strv_free(all);
        return a;
}

static struct json_object *spec_strv(char **v)
{
        struct json_object *a = json_object_new_array();

        for (; a && v && *v; v++)
                json_object_array_add(a, json_object_new_string(*v));
        return a;
}

static int spec_process(struct json_object *spec, const struct container_spec_input *in, char **ret_error)
{
        _cleanup_(strv_freep) char **args = NULL;
        struct json_object *proc, *user = json_object_new_object();
        const char *cwd = in->run->workdir                                                 ? in->run->workdir
                          : in->image && in->image->working_dir && *in->image->working_dir ? in->image->working_dir
                                                                                           : "/";
        int r;

        if (!user)
                return -ENOMEM;
        r = container_args(in->image, in->run, &args, ret_error);
        if (r < 0 || !json_object_object_get_ex(spec, "process", &proc)) {
                json_object_put(user);
                return r < 0 ? r : -EINVAL;
        }
        json_object_object_add(user, "uid", json_object_new_int64(in->uid));
        json_object_object_add(user, "gid", json_object_new_int64(in->gid));
        json_object_object_add(proc, "user", user);
        json_object_object_add(proc, "terminal", json_object_new_boolean(in->run && in->run->tty));
        json_object_object_add(proc, "args", spec_strv(args));
        json_object_object_add(proc, "env", spec_env(in->image, in->run));
        json_object_object_add(proc, "cwd", json_object_new_string(cwd));
        return 0;
}

/* The entry of type in linux.namespaces joins the namespace at path. */
static int spec_ns(struct json_object *spec, const char *ns_type, const char *path)
{
        struct json_object *linux_o, *nss, *type;

        if (!json_object_object_get_ex(spec, "linux", &linux_o) ||
            !json_object_object_get_ex(linux_o, "namespaces", &nss) || !json_object_is_type(nss, json_type_array))
                return -EINVAL;
        for (size_t i = 0; i < json_object_array_length(nss); i++) {
                struct json_object *e = json_object_array_get_idx(nss, i);

                if (json_object_object_get_ex(e, "type", &type) &&
                    strcmp(json_object_get_string(type), ns_type) == 0)
                        return json_object_object_add(e, "path", json_object_new_string(path)) < 0 ? -ENOMEM : 0;
        }
        return -EINVAL;
}

static int spec_annotation(struct json_object *spec, const char *key, const char *value)
{
        struct json_object *a;

        if (!json_object_object_get_ex(spec, "annotations", &a)) {
                a = json_object_new_object();
                if (!a || json_object_object_add(spec, "annotations", a) < 0) {
                        json_object_put(a);
                        return -ENOMEM;
                }
        }
        if (!json_object_is_type(a, json_type_object))
                return -EINVAL;
        return json_object_object_add(a, key, json_object_new_string(value)) < 0 ? -ENOMEM : 0;
}

/*
 * What runv's monitor needs for an interface of the user's (tapnet.h): on a bridge, eth0 is carried into the VM
 * even without an address; a tap is named, with the guest's address and gateway.
 */
static int spec_network_annotations(struct json_object *spec, const struct container_run *run)
{
        int r;

        if (run->bridge)
                return spec_annotation(spec, TAPNET_ANNOTATION_UNADDRESSED, "true");
        if (!run->tap)
                return 0;
        r = spec_annotation(spec, TAPNET_ANNOTATION_TAP, run->tap);
        if (r >= 0 && run->ip)
                r = spec_annotation(spec, TAPNET_ANNOTATION_TAP_ADDRESS, run->ip);
        if (r >= 0 && run->gateway)
                r = spec_annotation(spec, TAPNET_ANNOTATION_TAP_GATEWAY, run->gateway);
        return r;
}

static int spec_etc_bind(struct json_object *mounts, const char *etc, const char *name)
{
        struct json_object *m = json_object_new_object(), *opts = json_object_new_array();
        _cleanup_free_ char *source = NULL, *dest = NULL;

        if (!m || !opts || asprintf(&source, "%s/%s", etc, name) < 0 || asprintf(&dest, "/etc/%s", name) < 0) {
                json_object_put(m);
                json_object_put(opts);
                return -ENOMEM;
        }
        json_object_array_add(opts, json_object_new_string("bind"));
        json_object_array_add(opts, json_object_new_string("ro"));
        json_object_object_add(m, "destination", json_object_new_string(dest));
        json_object_object_add(m, "type", json_object_new_string("bind"));
        json_object_object_add(m, "source", json_object_new_string(source));
        json_object_object_add(m, "options", opts);
        return json_object_array_add(mounts, m) < 0 ? -ENOMEM : 0;
}

/* Read-only file binds of etc/hosts, etc/resolv.conf and etc/hostname at /etc. */
static int spec_etc(struct json_object *spec, const char *etc)
{
        static const char *const names[] = {"hosts", "resolv.conf", "hostname"};
        struct json_object *mounts;
        int r = volume_spec_mounts_array(spec, &mounts);

        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(names); i++)
                r = spec_etc_bind(mounts, etc, names[i]);
        return r;
}

static int spec_mounts_append(struct json_object *spec, struct json_object *more)
{
        struct json_object *mounts;
        int r = volume_spec_mounts_array(spec, &mounts);

        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(more); i++)
                if (json_object_array_add(mounts, json_object_get(json_object_array_get_idx(more, i))) < 0)
                        return -ENOMEM;
        return 0;
}

int container_spec(const struct container_spec_input *in, struct json_object **ret, char **ret_error)
{
        const char *def = oci_spec_default();
        _cleanup_(json_object_putp) struct json_object *spec = NULL;
        struct json_object *root = json_object_new_object();
        char host[13];
        int r;

        if (!root || json_parse_object(def, strlen(def), &spec) < 0) {
                json_object_put(root);
                return -ENOMEM;
        }
        json_object_object_add(root, "path", json_object_new_string(in->rootfs));
        json_object_object_add(root, "readonly", json_object_new_boolean(false));
        json_object_object_add(spec, "root", root);
        snprintf(host, sizeof(host), "%s", in->id);
        json_object_object_add(spec, "hostname", json_object_new_string(host));
        r = spec_process(spec, in, ret_error);
        if (r >= 0 && in->netns)
                r = spec_ns(spec, "network", in->netns);
        if (r >= 0 && in->ipc_ns)
                r = spec_ns(spec, "ipc", in->ipc_ns);
        if (r >= 0 && in->uts_ns)
                r = spec_ns(spec, "uts", in->uts_ns);
        if (r >= 0)
                r = spec_network_annotations(spec, in->run);
        if (r >= 0 && in->run->stdin_open)
                r = spec_annotation(spec, CONTAINER_ANNOTATION_STDIN, in->run->stdin_once ? "once" : "open");
        if (r >= 0 && in->etc)
                r = spec_etc(spec, in->etc);
        if (r >= 0)
                r = volume_spec_mounts(spec, in->volumes, in->n_volumes);
        if (r >= 0)
                r = resources_spec_apply(spec, in->run->memory, in->run->millicpus);
        if (r >= 0 && in->mounts)
                r = spec_mounts_append(spec, in->mounts);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(spec);
        return 0;
}

/* "N" or "N-M", 1..65535, N <= M. */
static int port_range(const char *s, uint16_t *ret_lo, uint16_t *ret_hi)
{
        unsigned long lo, hi;
        char *end;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        lo = strtoul(s, &end, 10);
        hi = lo;
        if (*end == '-') {
                if (end[1] < '0' || end[1] > '9')
                        return -EINVAL;
                hi = strtoul(end + 1, &end, 10);
        }
        if (*end != '\0' || lo == 0 || hi > 65535 || lo > hi)
                return -EINVAL;
        *ret_lo = (uint16_t)lo;
        *ret_hi = (uint16_t)hi;
        return 0;
}

static int port_protocol(char *s, enum netbridge_protocol *ret)
{
        char *slash = strrchr(s, '/');

        *ret = NETBRIDGE_TCP;
        if (!slash)
                return 0;
        *slash = '\0';
        if (strcmp(slash + 1, "udp") == 0)
                *ret = NETBRIDGE_UDP;
        else if (strcmp(slash + 1, "tcp") != 0)
                return -EINVAL;
        return 0;
}

/* Splits "[IP:]HOST:POD" in place; a missing IP is "every address". */
static int port_split(char *s, struct netbridge_port *p, char **ret_host, char **ret_pod)
{
        char *last = strrchr(s, ':'), *first;

        if (!last)
                return -EINVAL;
        *last = '\0';
        *ret_pod = last + 1;
        first = strrchr(s, ':');
        p->host_ip.s_addr = htonl(INADDR_ANY);
        *ret_host = first ? first + 1 : s;
        if (!first)
                return 0;
        *first = '\0';
        return inet_pton(AF_INET, s, &p->host_ip) == 1 ? 0 : -EINVAL;
}

int container_port_parse(const char *s, struct netbridge_port *ret, char **ret_error)
{
        _cleanup_free_ char *copy = strdup(s);
        struct netbridge_port p = {0};
        char *host, *pod;
        uint16_t pod_end;
        int r;

        if (!copy)
                return -ENOMEM;
        r = port_protocol(copy, &p.protocol);
        if (r >= 0)
                r = port_split(copy, &p, &host, &pod);
        if (r >= 0)
                r = port_range(host, &p.host_port, &p.host_port_end);
        if (r >= 0)
                r = port_range(pod, &p.pod_port, &pod_end);
        if (r >= 0 && pod_end - p.pod_port != p.host_port_end - p.host_port)
                r = -EINVAL;
        if (r >= 0 && p.host_port_end - p.host_port >= NETBRIDGE_PORT_RANGE_MAX)
                r = -EINVAL;
        if (r < 0)
                return error_set(ret_error, -EINVAL,
                                 "invalid published port \"%.200s\": [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp], "
                                 "ranges of the same length, at most %d ports",
                                 s, NETBRIDGE_PORT_RANGE_MAX);
        *ret = p;
        return 0;
}

/* Appends to a text buffer; *t NULL after a failure, which later calls carry. */
_printf_(2, 3) static void text_add(char **t, const char *fmt, ...)
{
        _cleanup_free_ char *old = *t, *add = NULL;
        va_list ap;
        int n;

        *t = NULL;
        if (!old)
                return;
        va_start(ap, fmt);
        n = vasprintf(&add, fmt, ap);
        va_end(ap);
        if (n >= 0 && asprintf(t, "%s%s", old, add) < 0)
                *t = NULL;
}

char *container_hosts(const struct container_run *run, const char *hostname, const char *addr)
{
        char *t = strdup("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");

        if (addr && run->name && strcmp(run->name, hostname) != 0)
                text_add(&t, "%s\t%s %s\n", addr, hostname, run->name);
        else if (addr)
                text_add(&t, "%s\t%s\n", addr, hostname);
        for (char **p = run->add_host; p && *p; p++) {
                const char *colon = strchr(*p, ':');

                text_add(&t, "%s\t%.*s\n", colon + 1, (int)(colon - *p), *p);
        }
        return t;
}

/* line starts with key and a blank. */
static bool resolv_key(const char *line, const char *key)
{
        size_t n = strlen(key);

        return strncmp(line, key, n) == 0 && (line[n] == ' ' || line[n] == '\t');
}

/* A host nameserver that is the loopback would be the VM's own. */
static bool resolv_loopback(const char *line)
{
        const char *ip = line + strlen("nameserver");

        ip += strspn(ip, " \t");
        return strncmp(ip, "127.", 4) == 0 || (strncmp(ip, "::1", 3) == 0 && strchr(" \t\n", ip[3]));
}

static void resolv_host_lines(char **t, const char *host, bool nameservers)
{
        for (const char *line = host; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                size_t n = strcspn(line, "\n");
                bool ns = resolv_key(line, "nameserver");
                bool keep = resolv_key(line, "search") || resolv_key(line, "options") || resolv_key(line, "domain");

                if (nameservers ? ns && !resolv_loopback(line) : keep)
                        text_add(t, "%.*s\n", (int)n, line);
        }
}

char *container_resolv(const struct container_run *run, const char *host_resolv)
{
        char *t = strdup("");

        resolv_host_lines(&t, host_resolv, false);
        for (char **p = run->dns; p && *p; p++)
                text_add(&t, "nameserver %s\n", *p);
        if (!run->dns || !run->dns[0])
                resolv_host_lines(&t, host_resolv, true);
        return t;
}
