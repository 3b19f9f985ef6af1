/* SPDX-License-Identifier: Apache-2.0 */
#include "oci-spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fd-util.h"
#include "json-util.h"

static int spec_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);

static int spec_error(char **ret_error, const char *fmt, ...)
{
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

/* Reads an optional string field; on a wrong type the error names the field. */
static int spec_opt_string(struct json_object *o, const char *key, const char *field, char **ret, char **ret_error)
{
        const char *s;
        int r = json_get_string(o, key, &s);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return spec_error(ret_error, "%s must be a string", field);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int spec_opt_bool(struct json_object *o, const char *key, const char *field, bool *ret, char **ret_error)
{
        int r = json_get_bool(o, key, ret);

        if (r == -ENOENT)
                return 0;
        return r < 0 ? spec_error(ret_error, "%s must be true or false", field) : 0;
}

static int spec_opt_u32(struct json_object *o, const char *key, const char *field, uint32_t *ret, char **ret_error)
{
        int r = json_get_u32(o, key, ret);

        if (r == -ENOENT)
                return 0;
        return r < 0 ? spec_error(ret_error, "%s must be an integer from 0 to 4294967295", field) : 0;
}

static int spec_opt_strv(struct json_object *o, const char *key, const char *field, size_t max, char ***ret,
                         char **ret_error)
{
        int r = json_get_strv(o, key, max, ret);

        if (r == -ENOENT)
                return 0;
        if (r == -E2BIG)
                return spec_error(ret_error, "%s has more than %zu entries", field, max);
        return r < 0 ? spec_error(ret_error, "%s must be an array of strings", field) : 0;
}

static struct json_object *spec_opt_object(struct json_object *o, const char *key, const char *field, int *r,
                                           char **ret_error)
{
        struct json_object *v;

        *r = 0;
        if (!json_object_object_get_ex(o, key, &v) || !v)
                return NULL;
        if (!json_object_is_type(v, json_type_object)) {
                *r = spec_error(ret_error, "%s must be an object", field);
                return NULL;
        }
        return v;
}

static int spec_parse_user(struct oci_process *p, struct json_object *o, char **ret_error)
{
        struct json_object *user, *gids;
        int r;

        user = spec_opt_object(o, "user", "process.user", &r, ret_error);
        if (!user)
                return r;
        r = spec_opt_u32(user, "uid", "process.user.uid", &p->uid, ret_error);
        if (r >= 0)
                r = spec_opt_u32(user, "gid", "process.user.gid", &p->gid, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(user, "additionalGids", &gids) || !gids)
                return 0;
        if (!json_object_is_type(gids, json_type_array) ||
            json_object_array_length(gids) > OCI_SPEC_MAX_GROUPS)
                return spec_error(ret_error, "process.user.additionalGids must be an array of at most %d ids",
                                  OCI_SPEC_MAX_GROUPS);
        p->n_groups = json_object_array_length(gids);
        p->groups = calloc(p->n_groups + 1, sizeof(uint32_t));
        if (!p->groups)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_groups; i++) {
                struct json_object *e = json_object_array_get_idx(gids, i);
                int64_t g;
                errno = 0;
                g = json_object_get_int64(e);
                if (!json_object_is_type(e, json_type_int) || errno != 0 || g < 0 || g > UINT32_MAX)
                        return spec_error(ret_error, "process.user.additionalGids[%zu] is not a group id", i);
                p->groups[i] = (uint32_t)g;
        }
        return 0;
}

static int spec_check_process(const struct oci_process *p, char **ret_error)
{
        if (!p->args || !p->args[0])
                return spec_error(ret_error, "process.args must not be empty");
        if (p->args[0][0] == '\0')
                return spec_error(ret_error, "process.args[0] must not be empty");
        if (!p->cwd || p->cwd[0] != '/')
                return spec_error(ret_error, "process.cwd must be an absolute path");
        for (size_t i = 0; p->env && p->env[i]; i++)
                if (!strchr(p->env[i], '=') || p->env[i][0] == '=')
                        return spec_error(ret_error, "process.env[%zu] is not of the form KEY=VALUE", i);
        return 0;
}

int oci_process_parse(struct json_object *o, struct oci_process **ret, char **ret_error)
{
        _cleanup_(oci_process_freep) struct oci_process *p = NULL;
        struct json_object *size;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return spec_error(ret_error, "process must be an object");
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        r = spec_opt_bool(o, "terminal", "process.terminal", &p->terminal, ret_error);
        if (r >= 0)
                r = spec_opt_bool(o, "noNewPrivileges", "process.noNewPrivileges", &p->no_new_privileges, ret_error);
        if (r >= 0)
                r = spec_parse_user(p, o, ret_error);
        if (r >= 0)
                r = spec_opt_strv(o, "args", "process.args", OCI_SPEC_MAX_ARGS, &p->args, ret_error);
        if (r >= 0)
                r = spec_opt_strv(o, "env", "process.env", OCI_SPEC_MAX_ENV, &p->env, ret_error);
        if (r >= 0)
                r = spec_opt_string(o, "cwd", "process.cwd", &p->cwd, ret_error);
        if (r < 0)
                return r;
        size = spec_opt_object(o, "consoleSize", "process.consoleSize", &r, ret_error);
        if (r >= 0 && size)
                r = spec_opt_u32(size, "height", "process.consoleSize.height", &p->rows, ret_error);
        if (r >= 0 && size)
                r = spec_opt_u32(size, "width", "process.consoleSize.width", &p->cols, ret_error);
        if (r >= 0)
                r = spec_check_process(p, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

static int spec_parse_root(struct oci_spec *spec, struct json_object *doc, char **ret_error)
{
        struct json_object *root;
        int r;

        root = spec_opt_object(doc, "root", "root", &r, ret_error);
        if (r < 0)
                return r;
        if (!root)
                return spec_error(ret_error, "root is missing");
        r = spec_opt_string(root, "path", "root.path", &spec->root_path, ret_error);
        if (r >= 0)
                r = spec_opt_bool(root, "readonly", "root.readonly", &spec->root_readonly, ret_error);
        if (r < 0)
                return r;
        if (!spec->root_path || !spec->root_path[0])
                return spec_error(ret_error, "root.path must not be empty");
        return 0;
}

static int spec_parse_mount(struct oci_mount *m, struct json_object *o, size_t i, char **ret_error)
{
        char field[64];
        int r;

        if (!json_object_is_type(o, json_type_object))
                return spec_error(ret_error, "mounts[%zu] must be an object", i);
        snprintf(field, sizeof(field), "mounts[%zu].destination", i);
        r = spec_opt_string(o, "destination", field, &m->destination, ret_error);
        if (r >= 0 && (!m->destination || m->destination[0] != '/'))
                r = spec_error(ret_error, "%s must be an absolute path", field);
        snprintf(field, sizeof(field), "mounts[%zu].type", i);
        if (r >= 0)
                r = spec_opt_string(o, "type", field, &m->type, ret_error);
        snprintf(field, sizeof(field), "mounts[%zu].source", i);
        if (r >= 0)
                r = spec_opt_string(o, "source", field, &m->source, ret_error);
        snprintf(field, sizeof(field), "mounts[%zu].options", i);
        if (r >= 0)
                r = spec_opt_strv(o, "options", field, 64, &m->options, ret_error);
        return r;
}

static int spec_parse_mounts(struct oci_spec *spec, struct json_object *doc, char **ret_error)
{
        struct json_object *mounts;
        int r;

        if (!json_object_object_get_ex(doc, "mounts", &mounts) || !mounts)
                return 0;
        if (!json_object_is_type(mounts, json_type_array))
                return spec_error(ret_error, "mounts must be an array");
        if (json_object_array_length(mounts) > OCI_SPEC_MAX_MOUNTS)
                return spec_error(ret_error, "mounts has more than %d entries", OCI_SPEC_MAX_MOUNTS);
        spec->mounts = calloc(json_object_array_length(mounts) + 1, sizeof(struct oci_mount));
        if (!spec->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                spec->n_mounts++;
                r = spec_parse_mount(&spec->mounts[i], json_object_array_get_idx(mounts, i), i, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool spec_namespace_known(const char *type)
{
        static const char *const known[] = { "pid", "network", "ipc", "uts", "mount", "user", "cgroup", "time" };

        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (strcmp(type, known[i]) == 0)
                        return true;
        return false;
}

static int spec_parse_namespaces(struct oci_spec *spec, struct json_object *linux_o, char **ret_error)
{
        struct json_object *nss;
        char field[64];
        size_t n;
        int r;

        if (!json_object_object_get_ex(linux_o, "namespaces", &nss) || !nss)
                return 0;
        if (!json_object_is_type(nss, json_type_array) || json_object_array_length(nss) > 16)
                return spec_error(ret_error, "linux.namespaces must be an array of at most 16 entries");
        n = json_object_array_length(nss);
        spec->namespaces = calloc(n + 1, sizeof(struct oci_namespace));
        if (!spec->namespaces)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct oci_namespace *ns = &spec->namespaces[spec->n_namespaces++];
                struct json_object *e = json_object_array_get_idx(nss, i);
                snprintf(field, sizeof(field), "linux.namespaces[%zu].type", i);
                r = spec_opt_string(e, "type", field, &ns->type, ret_error);
                if (r >= 0 && (!ns->type || !spec_namespace_known(ns->type)))
                        r = spec_error(ret_error, "%s is not a namespace type", field);
                snprintf(field, sizeof(field), "linux.namespaces[%zu].path", i);
                if (r >= 0)
                        r = spec_opt_string(e, "path", field, &ns->path, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int spec_parse_resources(struct oci_spec *spec, struct json_object *linux_o, char **ret_error)
{
        struct json_object *res, *mem, *cpu;
        int64_t v;
        int r;

        res = spec_opt_object(linux_o, "resources", "linux.resources", &r, ret_error);
        if (!res)
                return r;
        mem = spec_opt_object(res, "memory", "linux.resources.memory", &r, ret_error);
        if (r < 0)
                return r;
        r = mem ? json_get_int(mem, "limit", -1, INT64_MAX, &v) : -ENOENT;
        if (r >= 0)
                spec->memory_limit = v;
        else if (r != -ENOENT)
                return spec_error(ret_error, "linux.resources.memory.limit must be an integer");
        cpu = spec_opt_object(res, "cpu", "linux.resources.cpu", &r, ret_error);
        if (r < 0 || !cpu)
                return r;
        r = json_get_int(cpu, "quota", -1, INT64_MAX, &v);
        if (r >= 0)
                spec->cpu_quota = v;
        else if (r != -ENOENT)
                return spec_error(ret_error, "linux.resources.cpu.quota must be an integer");
        r = json_get_int(cpu, "period", 0, INT64_MAX, &v);
        if (r >= 0)
                spec->cpu_period = (uint64_t)v;
        else if (r != -ENOENT)
                return spec_error(ret_error, "linux.resources.cpu.period must be a positive integer");
        return 0;
}

static int spec_parse_doc(struct oci_spec *spec, struct json_object *doc, char **ret_error)
{
        struct json_object *o;
        int r;

        r = spec_opt_string(doc, "ociVersion", "ociVersion", &spec->oci_version, ret_error);
        if (r >= 0)
                r = spec_opt_string(doc, "hostname", "hostname", &spec->hostname, ret_error);
        if (r >= 0)
                r = spec_parse_root(spec, doc, ret_error);
        if (r >= 0)
                r = spec_parse_mounts(spec, doc, ret_error);
        if (r < 0)
                return r;
        o = spec_opt_object(doc, "process", "process", &r, ret_error);
        if (o)
                r = oci_process_parse(o, &spec->process, ret_error);
        if (r < 0)
                return r;
        o = spec_opt_object(doc, "linux", "linux", &r, ret_error);
        if (o)
                r = spec_parse_namespaces(spec, o, ret_error);
        if (r >= 0 && o)
                r = spec_opt_strv(o, "maskedPaths", "linux.maskedPaths", 256, &spec->masked_paths, ret_error);
        if (r >= 0 && o)
                r = spec_opt_strv(o, "readonlyPaths", "linux.readonlyPaths", 256, &spec->readonly_paths, ret_error);
        if (r >= 0 && o)
                r = spec_parse_resources(spec, o, ret_error);
        if (r < 0)
                return r;
        o = spec_opt_object(doc, "annotations", "annotations", &r, ret_error);
        if (o)
                spec->annotations = json_object_get(o);
        return r;
}

int oci_spec_parse(const char *data, size_t len, struct oci_spec **ret, char **ret_error)
{
        _cleanup_(oci_spec_freep) struct oci_spec *spec = NULL;
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        int r;

        if (len > OCI_SPEC_MAX_SIZE)
                return spec_error(ret_error, "config.json is larger than %u bytes", OCI_SPEC_MAX_SIZE);
        if (json_parse_object(data, len, &doc) < 0)
                return spec_error(ret_error, "config.json is not a JSON object");
        spec = calloc(1, sizeof(*spec));
        if (!spec)
                return -ENOMEM;
        spec->memory_limit = -1;
        spec->cpu_quota = -1;
        r = spec_parse_doc(spec, doc, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(spec);
        return 0;
}

int oci_spec_load(const char *bundle, struct oci_spec **ret, char **ret_error)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t len;
        int r;

        if (asprintf(&path, "%s/config.json", bundle) < 0)
                return -ENOMEM;
        r = read_full_file(path, OCI_SPEC_MAX_SIZE, &data, &len);
        if (r == -EFBIG)
                return spec_error(ret_error, "%s is larger than %u bytes", path, OCI_SPEC_MAX_SIZE);
        if (r < 0) {
                spec_error(ret_error, "cannot read %s: %s", path, strerror(-r));
                return r;
        }
        return oci_spec_parse(data, len, ret, ret_error);
}

void oci_process_free(struct oci_process *p)
{
        if (!p)
                return;
        free(p->groups);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p);
}

void oci_spec_free(struct oci_spec *spec)
{
        if (!spec)
                return;
        free(spec->oci_version);
        oci_process_free(spec->process);
        free(spec->root_path);
        free(spec->hostname);
        for (size_t i = 0; i < spec->n_mounts; i++) {
                free(spec->mounts[i].destination);
                free(spec->mounts[i].type);
                free(spec->mounts[i].source);
                strv_free(spec->mounts[i].options);
        }
        free(spec->mounts);
        for (size_t i = 0; i < spec->n_namespaces; i++) {
                free(spec->namespaces[i].type);
                free(spec->namespaces[i].path);
        }
        free(spec->namespaces);
        strv_free(spec->masked_paths);
        strv_free(spec->readonly_paths);
        json_object_put(spec->annotations);
        free(spec);
}

const char *oci_spec_netns_path(const struct oci_spec *spec)
{
        for (size_t i = 0; i < spec->n_namespaces; i++)
                if (strcmp(spec->namespaces[i].type, "network") == 0)
                        return spec->namespaces[i].path;
        return NULL;
}

bool oci_mount_has_option(const struct oci_mount *m, const char *option)
{
        for (char **o = m->options; o && *o; o++)
                if (strcmp(*o, option) == 0)
                        return true;
        return false;
}

bool oci_mount_is_bind(const struct oci_mount *m)
{
        return (m->type && strcmp(m->type, "bind") == 0) || oci_mount_has_option(m, "bind") ||
               oci_mount_has_option(m, "rbind");
}

unsigned oci_spec_vcpus(const struct oci_spec *spec)
{
        uint64_t period = spec->cpu_period ? spec->cpu_period : 100000;
        uint64_t n;

        if (spec->cpu_quota <= 0)
                return 1;
        /* A quota of 1.5 CPUs needs two vCPUs to be reachable at all. */
        n = ((uint64_t)spec->cpu_quota + period - 1) / period;
        return (unsigned)MIN(MAX(n, 1u), 64u);
}

uint64_t oci_spec_memory_mib(const struct oci_spec *spec)
{
        uint64_t mib;

        if (spec->memory_limit <= 0)
                return 128;
        mib = ((uint64_t)spec->memory_limit + (1u << 20) - 1) >> 20;
        /* Below this the guest kernel and agent do not boot; the limit is kept inside by the guest. */
        return MAX(mib, 64u);
}

const char *oci_spec_default(void)
{
        return "{\n"
               "  \"ociVersion\": \"1.0.2-dev\",\n"
               "  \"process\": {\n"
               "    \"terminal\": true,\n"
               "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
               "    \"args\": [ \"sh\" ],\n"
               "    \"env\": [\n"
               "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
               "      \"TERM=xterm\"\n"
               "    ],\n"
               "    \"cwd\": \"/\",\n"
               "    \"capabilities\": {\n"
               "      \"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
               "      \"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
               "      \"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
               "      \"ambient\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
               "    },\n"
               "    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
               "    \"noNewPrivileges\": true\n"
               "  },\n"
               "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
               "  \"hostname\": \"runv\",\n"
               "  \"mounts\": [\n"
               "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
               "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
               "      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
               "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
               "      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", "
               "\"gid=5\" ] },\n"
               "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
               "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
               "    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
               "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
               "    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
               "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
               "    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
               "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }\n"
               "  ],\n"
               "  \"linux\": {\n"
               "    \"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },\n"
               "    \"namespaces\": [\n"
               "      { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },\n"
               "      { \"type\": \"uts\" }, { \"type\": \"mount\" }\n"
               "    ],\n"
               "    \"maskedPaths\": [\n"
               "      \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\",\n"
               "      \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\",\n"
               "      \"/proc/scsi\"\n"
               "    ],\n"
               "    \"readonlyPaths\": [\n"
               "      \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
               "    ]\n"
               "  }\n"
               "}\n";
}
