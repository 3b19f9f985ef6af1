/* SPDX-License-Identifier: Apache-2.0 */
#include "pod-spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json-util.h"

/* Room for the longest field name we build, "containers[63].volumes[63].readonly" and the like. */
#define FIELD_MAX           96
#define PATH_MAX_LEN        4095
#define USER_MAX_LEN        256
#define LABEL_KEY_MAX_LEN   253
#define LABEL_VALUE_MAX_LEN 4096
#define ENV_KEY_MAX_LEN     255
#define IFNAME_MAX_LEN      15

/* What a parse carries from one container to the next. */
struct ps_context {
        struct pod_spec *spec;
        size_t n_ports;
        uint8_t ports_seen[2][65536 / 8]; /* by protocol, then host port */
};

static int ps_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);

static int ps_error(char **ret_error, const char *fmt, ...)
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

/* Field names are built from our own constants and indexes below the bounds: they always fit. */
static const char *ps_field(char buf[static FIELD_MAX], const char *prefix, const char *key)
{
        if (snprintf(buf, FIELD_MAX, "%s%s%s", prefix, prefix[0] ? "." : "", key) < 0)
                buf[0] = '\0';
        return buf;
}

static const char *ps_index(char buf[static FIELD_MAX], const char *prefix, size_t i)
{
        if (snprintf(buf, FIELD_MAX, "%s[%zu]", prefix, i) < 0)
                buf[0] = '\0';
        return buf;
}

/* A key from the file, fit to quote in a message: short, and printable. */
static const char *ps_quote(char buf[static 40], const char *s)
{
        size_t i;

        for (i = 0; s[i] && i < 32; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
        if (s[i])
                buf[i++] = '~';
        buf[i] = '\0';
        return buf;
}

static bool strv_contains(const char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

/* Every object in a pod file is checked for fields we do not know: a typo must not pass silently. */
static int ps_check_object(struct json_object *o, const char *field, const char *const *known, char **ret_error)
{
        char q[40];

        if (!json_object_is_type(o, json_type_object))
                return ps_error(ret_error, "%s must be an object", field[0] ? field : "the pod file");
        json_object_object_foreach(o, key, v)
        {
                (void)v;
                if (!strv_contains(known, key))
                        return ps_error(ret_error, "%s%sunknown field \"%s\"", field, field[0] ? ": " : "",
                                        ps_quote(q, key));
        }
        return 0;
}

/* The value at key: 0 and NULL when absent or null, -EINVAL with a message when of another type. */
static int ps_get(struct json_object *o, const char *key, json_type type, const char *field, struct json_object **ret,
                  char **ret_error)
{
        static const char *const what[] = {
                [json_type_boolean] = "true or false", [json_type_int] = "an integer",
                [json_type_object] = "an object",      [json_type_array] = "an array",
                [json_type_string] = "a string",
        };
        struct json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, type))
                return ps_error(ret_error, "%s must be %s", field, what[type]);
        *ret = v;
        return 0;
}

/* An optional string, bounded; 1 when present. */
static int ps_string(struct json_object *o, const char *key, const char *field, size_t max, char **ret,
                     char **ret_error)
{
        struct json_object *v;
        size_t len;
        int r;

        r = ps_get(o, key, json_type_string, field, &v, ret_error);
        if (r < 0 || !v)
                return r;
        len = (size_t)json_object_get_string_len(v);
        if (strlen(json_object_get_string(v)) != len)
                return ps_error(ret_error, "%s must not contain a NUL character", field);
        if (len > max)
                return ps_error(ret_error, "%s is longer than %zu characters", field, max);
        *ret = strdup(json_object_get_string(v));
        return *ret ? 1 : -ENOMEM;
}

static int ps_bool(struct json_object *o, const char *key, const char *field, bool *ret, char **ret_error)
{
        struct json_object *v;
        int r;

        r = ps_get(o, key, json_type_boolean, field, &v, ret_error);
        if (r >= 0 && v)
                *ret = json_object_get_boolean(v);
        return r;
}

/* An optional integer in [min, max]; 1 when present. */
static int ps_int(struct json_object *o, const char *key, const char *field, int64_t min, int64_t max, int64_t *ret,
                  char **ret_error)
{
        struct json_object *v;
        int64_t n;
        int r;

        r = ps_get(o, key, json_type_int, field, &v, ret_error);
        if (r < 0 || !v)
                return r;
        errno = 0;
        n = json_object_get_int64(v);
        /* json-c saturates numbers out of range; the bounds below are well inside. */
        if (errno != 0 || n < min || n > max)
                return ps_error(ret_error, "%s must be an integer from %" PRId64 " to %" PRId64, field, min, max);
        *ret = n;
        return 1;
}

static int ps_strv(struct json_object *o, const char *key, const char *field, size_t max, char ***ret, char **ret_error)
{
        int r = json_get_strv(o, key, max, ret);

        if (r == -ENOENT)
                return 0;
        if (r == -E2BIG)
                return ps_error(ret_error, "%s has more than %zu entries", field, max);
        if (r == -EINVAL)
                return ps_error(ret_error, "%s must be an array of strings without NUL characters", field);
        return r;
}

/* An optional array of at most max entries; its length, or 0 when absent. */
static int ps_array(struct json_object *o, const char *key, const char *field, size_t max, struct json_object **ret,
                    size_t *ret_n, char **ret_error)
{
        int r;

        *ret_n = 0;
        r = ps_get(o, key, json_type_array, field, ret, ret_error);
        if (r < 0 || !*ret)
                return r;
        *ret_n = json_object_array_length(*ret);
        if (*ret_n > max)
                return ps_error(ret_error, "%s has more than %zu entries", field, max);
        return 0;
}

/* Pod ids, container names and volume names: [a-z0-9][a-z0-9_.-]{0,62}. */
static bool ps_valid_name(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 63 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9') && !strchr("_.-", s[i]))
                        return false;
        return true;
}

#define NAME_RULE "1 to 63 characters of a-z, 0-9, '_', '.' and '-', the first a-z or 0-9"

/* Hostnames: as names, with upper case letters too (the kernel takes any 64 bytes; we take fewer). */
static bool ps_valid_hostname(const char *s)
{
        _cleanup_free_ char *lower = strdup(s);

        if (!lower)
                return false;
        for (char *p = lower; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return ps_valid_name(lower);
}

/* An absolute path with no ".." component. */
static bool ps_valid_path(const char *s)
{
        if (s[0] != '/')
                return false;
        for (const char *p = s; (p = strstr(p, "..")); p += 2)
                if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
                        return false;
        return true;
}

static bool ps_valid_chars(const char *s, const char *extra)
{
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
                        return false;
        return true;
}

/* Environment names: a letter or '_', then letters, digits, '_', '.' and '-'. */
static bool ps_valid_env_key(const char *s, size_t n)
{
        if (n == 0 || n > ENV_KEY_MAX_LEN || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

static bool ps_valid_ip(const char *s)
{
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Network interface names: what the kernel takes, within the printable characters we allow. */
static bool ps_valid_ifname(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n <= IFNAME_MAX_LEN && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && ps_valid_chars(s, "_.-");
}

/* "KEY=VALUE" entries with valid, unique keys. */
static int ps_check_env(char **env, const char *field, char **ret_error)
{
        for (size_t i = 0; env[i]; i++) {
                const char *eq = strchr(env[i], '=');
                size_t n = eq ? (size_t)(eq - env[i]) : 0;

                if (!eq)
                        return ps_error(ret_error, "%s[%zu] must be of the form KEY=VALUE", field, i);
                if (!ps_valid_env_key(env[i], n))
                        return ps_error(ret_error,
                                        "%s[%zu] has an invalid name: up to %d letters, digits, '_', '.' and "
                                        "'-', the first a letter or '_'",
                                        field, i, ENV_KEY_MAX_LEN);
                for (size_t j = 0; j < i; j++)
                        if (strncmp(env[j], env[i], n + 1) == 0)
                                return ps_error(ret_error, "%s[%zu] sets %.*s again", field, i, (int)n, env[i]);
        }
        return 0;
}

/* Docker's -u: "user", "uid", "user:group" or "uid:gid". */
static bool ps_valid_user(const char *s)
{
        const char *colon = strchr(s, ':');

        if (!s[0] || s[0] == ':' || (colon && (!colon[1] || strchr(colon + 1, ':'))))
                return false;
        return ps_valid_chars(s, "_.-:$");
}

static int ps_parse_mount(struct ps_context *ctx, struct pod_container *c, struct json_object *o, const char *field,
                          char **ret_error)
{
        static const char *const keys[] = {"volume", "path", "readonly", NULL};
        struct pod_mount *m = &c->mounts[c->n_mounts];
        char f[FIELD_MAX];
        int r;

        r = ps_check_object(o, field, keys, ret_error);
        if (r >= 0)
                r = ps_string(o, "volume", ps_field(f, field, "volume"), 63, &m->volume, ret_error);
        if (r == 0)
                r = ps_error(ret_error, "%s is missing", f);
        if (r >= 0 && !pod_spec_find_volume(ctx->spec, m->volume))
                r = ps_error(ret_error, "%s names no volume of the pod", f);
        if (r >= 0)
                r = ps_string(o, "path", ps_field(f, field, "path"), PATH_MAX_LEN, &m->path, ret_error);
        if (r == 0)
                r = ps_error(ret_error, "%s is missing", f);
        if (r >= 0 && (!ps_valid_path(m->path) || strcmp(m->path, "/") == 0))
                r = ps_error(ret_error, "%s must be an absolute path other than / and without \"..\"", f);
        if (r >= 0)
                r = ps_bool(o, "readonly", ps_field(f, field, "readonly"), &m->readonly, ret_error);
        c->n_mounts++;
        for (size_t i = 0; r >= 0 && i + 1 < c->n_mounts; i++)
                if (strcmp(c->mounts[i].path, m->path) == 0)
                        r = ps_error(ret_error, "%s.path is already mounted", field);
        return r;
}

static int ps_parse_mounts(struct ps_context *ctx, struct pod_container *c, struct json_object *o, const char *field,
                           char **ret_error)
{
        struct json_object *a;
        char f[FIELD_MAX], fi[FIELD_MAX];
        size_t n;
        int r;

        r = ps_array(o, "volumes", ps_field(f, field, "volumes"), POD_SPEC_MAX_MOUNTS, &a, &n, ret_error);
        if (r < 0)
                return r;
        c->mounts = calloc(n + 1, sizeof(struct pod_mount));
        if (!c->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = ps_parse_mount(ctx, c, json_object_array_get_idx(a, i), ps_index(fi, f, i), ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int ps_parse_protocol(struct json_object *o, const char *field, enum pod_protocol *ret, char **ret_error)
{
        _cleanup_free_ char *s = NULL;
        int r;

        *ret = POD_PROTOCOL_TCP;
        r = ps_string(o, "protocol", field, 16, &s, ret_error);
        if (r <= 0)
                return r;
        if (strcasecmp(s, "tcp") == 0)
                return 0;
        if (strcasecmp(s, "udp") == 0) {
                *ret = POD_PROTOCOL_UDP;
                return 0;
        }
        return ps_error(ret_error, "%s must be \"tcp\" or \"udp\"", field);
}

/* A pod's containers share one network: a host port and protocol can be published only once in it. */
static int ps_claim_port(struct ps_context *ctx, const struct pod_port *p, const char *field, char **ret_error)
{
        uint8_t *byte = &ctx->ports_seen[p->protocol][p->host_port / 8];
        uint8_t bit = (uint8_t)(1u << (p->host_port % 8));

        if (*byte & bit)
                return ps_error(ret_error, "%s: host port %u/%s is already published", field, p->host_port,
                                pod_protocol_to_string(p->protocol));
        *byte |= bit;
        return 0;
}

static int ps_parse_port(struct ps_context *ctx, struct pod_port *p, struct json_object *o, const char *field,
                         char **ret_error)
{
        static const char *const keys[] = {"containerPort", "hostPort", "hostIP", "protocol", NULL};
        char f[FIELD_MAX];
        int64_t v = 0;
        int r;

        r = ps_check_object(o, field, keys, ret_error);
        if (r >= 0)
                r = ps_int(o, "containerPort", ps_field(f, field, "containerPort"), 1, 65535, &v, ret_error);
        if (r == 0)
                r = ps_error(ret_error, "%s is missing", f);
        p->container_port = p->host_port = (uint16_t)v;
        if (r >= 0)
                r = ps_int(o, "hostPort", ps_field(f, field, "hostPort"), 1, 65535, &v, ret_error);
        p->host_port = (uint16_t)v;
        if (r >= 0)
                r = ps_string(o, "hostIP", ps_field(f, field, "hostIP"), 64, &p->host_ip, ret_error);
        if (r > 0 && !ps_valid_ip(p->host_ip))
                r = ps_error(ret_error, "%s must be an IPv4 or IPv6 address", f);
        if (r >= 0)
                r = ps_parse_protocol(o, ps_field(f, field, "protocol"), &p->protocol, ret_error);
        if (r >= 0)
                r = ps_claim_port(ctx, p, field, ret_error);
        return r;
}

static int ps_parse_ports(struct ps_context *ctx, struct pod_container *c, struct json_object *o, const char *field,
                          char **ret_error)
{
        struct json_object *a;
        char f[FIELD_MAX], fi[FIELD_MAX];
        size_t n;
        int r;

        r = ps_array(o, "ports", ps_field(f, field, "ports"), POD_SPEC_MAX_PORTS, &a, &n, ret_error);
        if (r < 0)
                return r;
        if (n > POD_SPEC_MAX_PORTS - ctx->n_ports)
                return ps_error(ret_error, "%s: the pod publishes more than %d ports", f, POD_SPEC_MAX_PORTS);
        if (n > 0 && ctx->spec->network_mode == POD_NETWORK_NONE)
                return ps_error(ret_error, "%s: publishing ports needs a network, and network.mode is \"none\"", f);
        ctx->n_ports += n;
        c->ports = calloc(n + 1, sizeof(struct pod_port));
        if (!c->ports)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                c->n_ports++;
                r = ps_parse_port(ctx, &c->ports[i], json_object_array_get_idx(a, i), ps_index(fi, f, i), ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What runs: the image's entrypoint and command, overridden; env, workdir, user, terminal. */
static int ps_parse_process(struct pod_container *c, struct json_object *o, const char *field, char **ret_error)
{
        char f[FIELD_MAX];
        int r;

        r = ps_strv(o, "entrypoint", ps_field(f, field, "entrypoint"), POD_SPEC_MAX_ARGS, &c->entrypoint, ret_error);
        if (r >= 0)
                r = ps_strv(o, "command", ps_field(f, field, "command"), POD_SPEC_MAX_ARGS, &c->command, ret_error);
        if (r >= 0)
                r = ps_strv(o, "env", ps_field(f, field, "env"), POD_SPEC_MAX_ENV, &c->env, ret_error);
        if (r >= 0 && !c->env && !(c->env = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r >= 0)
                r = ps_check_env(c->env, f, ret_error);
        while (r >= 0 && c->env[c->n_env])
                c->n_env++;
        if (r >= 0)
                r = ps_string(o, "workdir", ps_field(f, field, "workdir"), PATH_MAX_LEN, &c->workdir, ret_error);
        if (r > 0 && !ps_valid_path(c->workdir))
                r = ps_error(ret_error, "%s must be an absolute path without \"..\"", f);
        if (r >= 0)
                r = ps_string(o, "user", ps_field(f, field, "user"), USER_MAX_LEN, &c->user, ret_error);
        if (r > 0 && !ps_valid_user(c->user))
                r = ps_error(ret_error, "%s must be a user or uid, optionally followed by :group or :gid", f);
        if (r >= 0)
                r = ps_bool(o, "tty", ps_field(f, field, "tty"), &c->tty, ret_error);
        if (r >= 0)
                r = ps_bool(o, "stdin", ps_field(f, field, "stdin"), &c->stdin, ret_error);
        return r;
}

static int ps_parse_container(struct ps_context *ctx, size_t idx, struct json_object *o, const char *field,
                              char **ret_error)
{
        static const char *const keys[] = {"name", "image", "entrypoint", "command", "env",   "workdir",
                                           "user", "tty",   "stdin",      "volumes", "ports", NULL};
        struct pod_container *c = &ctx->spec->containers[idx];
        char f[FIELD_MAX];
        int r;

        r = ps_check_object(o, field, keys, ret_error);
        if (r >= 0)
                r = ps_string(o, "name", ps_field(f, field, "name"), 63, &c->name, ret_error);
        if (r == 0)
                r = ps_error(ret_error, "%s is missing", f);
        if (r >= 0 && !ps_valid_name(c->name))
                r = ps_error(ret_error, "%s must be " NAME_RULE, f);
        for (size_t i = 0; r >= 0 && i < idx; i++)
                if (strcmp(ctx->spec->containers[i].name, c->name) == 0)
                        r = ps_error(ret_error, "%s \"%s\" is also the name of containers[%zu]", f, c->name, i);
        if (r >= 0)
                r = ps_string(o, "image", ps_field(f, field, "image"), PATH_MAX_LEN, &c->image, ret_error);
        if (r == 0)
                r = ps_error(ret_error, "%s is missing", f);
        if (r >= 0 && !c->image[0])
                r = ps_error(ret_error, "%s must not be empty", f);
        if (r >= 0)
                r = ps_parse_process(c, o, field, ret_error);
        if (r >= 0)
                r = ps_parse_mounts(ctx, c, o, field, ret_error);
        if (r >= 0)
                r = ps_parse_ports(ctx, c, o, field, ret_error);
        return r;
}

static int ps_parse_containers(struct ps_context *ctx, struct json_object *doc, char **ret_error)
{
        struct pod_spec *spec = ctx->spec;
        struct json_object *a;
        char f[FIELD_MAX];
        size_t n;
        int r;

        r = ps_array(doc, "containers", "containers", POD_SPEC_MAX_CONTAINERS, &a, &n, ret_error);
        if (r < 0)
                return r;
        if (n == 0)
                return ps_error(ret_error, "containers must list at least one container");
        spec->containers = calloc(n + 1, sizeof(struct pod_container));
        if (!spec->containers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                spec->n_containers++;
                r = ps_parse_container(ctx, i, json_object_array_get_idx(a, i), ps_index(f, "containers", i),
                                       ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int ps_parse_driver(struct json_object *o, const char *field, struct pod_volume *v, char **ret_error)
{
        static const char *const names[] = {[POD_VOLUME_HOST] = "host",
                                            [POD_VOLUME_NAMED] = "named",
                                            [POD_VOLUME_RAW] = "raw",
                                            [POD_VOLUME_QCOW2] = "qcow2"};
        _cleanup_free_ char *s = NULL;
        int r;

        /* Left out, the source says: a path is a host folder or file, anything else a named volume. */
        v->driver = v->source && v->source[0] == '/' ? POD_VOLUME_HOST : POD_VOLUME_NAMED;
        r = ps_string(o, "driver", field, 16, &s, ret_error);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (strcmp(s, names[i]) == 0) {
                        v->driver = (enum pod_volume_driver)i;
                        return 0;
                }
        return ps_error(ret_error, "%s must be \"host\", \"named\", \"raw\" or \"qcow2\"", field);
}

static int ps_check_source(struct pod_volume *v, const char *field, char **ret_error)
{
        if (v->driver == POD_VOLUME_NAMED) {
                if (!v->source && !(v->source = strdup(v->name)))
                        return -ENOMEM;
                if (!ps_valid_name(v->source))
                        return ps_error(ret_error, "%s of a named volume must be " NAME_RULE, field);
                return 0;
        }
        if (!v->source)
                return ps_error(ret_error, "%s is missing", field);
        if (!ps_valid_path(v->source))
                return ps_error(ret_error, "%s must be an absolute host path without \"..\"", field);
        return 0;
}

static int ps_parse_volume(struct pod_spec *spec, struct json_object *o, const char *field, char **ret_error)
{
        static const char *const keys[] = {"name", "source", "driver", "readonly", NULL};
        struct pod_volume *v = &spec->volumes[spec->n_volumes++];
        char f[FIELD_MAX];
        int r;

        r = ps_check_object(o, field, keys, ret_error);
        if (r >= 0)
                r = ps_string(o, "name", ps_field(f, field, "name"), 63, &v->name, ret_error);
        if (r == 0)
                r = ps_error(ret_error, "%s is missing", f);
        if (r >= 0 && !ps_valid_name(v->name))
                r = ps_error(ret_error, "%s must be " NAME_RULE, f);
        for (size_t i = 0; r >= 0 && i + 1 < spec->n_volumes; i++)
                if (strcmp(spec->volumes[i].name, v->name) == 0)
                        r = ps_error(ret_error, "%s \"%s\" is also the name of volumes[%zu]", f, v->name, i);
        if (r >= 0)
                r = ps_string(o, "source", ps_field(f, field, "source"), PATH_MAX_LEN, &v->source, ret_error);
        if (r >= 0)
                r = ps_parse_driver(o, ps_field(f, field, "driver"), v, ret_error);
        if (r >= 0)
                r = ps_check_source(v, ps_field(f, field, "source"), ret_error);
        if (r >= 0)
                r = ps_bool(o, "readonly", ps_field(f, field, "readonly"), &v->readonly, ret_error);
        return r;
}

static int ps_parse_volumes(struct pod_spec *spec, struct json_object *doc, char **ret_error)
{
        struct json_object *a;
        char f[FIELD_MAX];
        size_t n;
        int r;

        r = ps_array(doc, "volumes", "volumes", POD_SPEC_MAX_VOLUMES, &a, &n, ret_error);
        if (r < 0)
                return r;
        spec->volumes = calloc(n + 1, sizeof(struct pod_volume));
        if (!spec->volumes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = ps_parse_volume(spec, json_object_array_get_idx(a, i), ps_index(f, "volumes", i), ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Digits, then a binary unit or none: "128Mi", "1Gi", "134217728". -ERANGE past 64 bits. */
static int ps_parse_size(const char *s, uint64_t *ret)
{
        static const struct {
                const char *unit;
                unsigned shift;
        } units[] = {{"", 0}, {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}};
        uint64_t v = 0;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        for (; isdigit((unsigned char)*s); s++) {
                if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (strcmp(s, units[i].unit) == 0) {
                        if (v > (UINT64_MAX >> units[i].shift))
                                return -ERANGE;
                        *ret = v << units[i].shift;
                        return 0;
                }
        return -EBADMSG;
}

static int ps_parse_memory(struct pod_spec *spec, struct json_object *res, char **ret_error)
{
        struct json_object *v;
        uint64_t bytes = 0;
        int64_t n;
        int r = 0;

        if (!json_object_object_get_ex(res, "memory", &v) || !v)
                return 0;
        if (json_object_is_type(v, json_type_int)) {
                n = json_object_get_int64(v);
                if (n < 0)
                        return ps_error(ret_error, "resources.memory must not be negative");
                bytes = (uint64_t)n;
        } else if (json_object_is_type(v, json_type_string)) {
                r = ps_parse_size(json_object_get_string(v), &bytes);
                if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
                        r = -EINVAL;
        } else
                return ps_error(ret_error, "resources.memory must be a number of bytes or a string like \"128Mi\"");
        if (r == -EBADMSG)
                return ps_error(ret_error,
                                "resources.memory has an unknown unit: use Ki, Mi, Gi or Ti, or none for bytes");
        if (r == -EINVAL)
                return ps_error(ret_error, "resources.memory must be digits and a unit, like \"128Mi\" or \"1Gi\"");
        if (r == -ERANGE || bytes > (uint64_t)POD_SPEC_MAX_MEMORY_MIB << 20)
                return ps_error(ret_error, "resources.memory is too large: at most 1Ti");
        if (bytes < (uint64_t)POD_SPEC_MIN_MEMORY_MIB << 20)
                return ps_error(ret_error, "resources.memory must be at least %uMi", POD_SPEC_MIN_MEMORY_MIB);
        /* The VM is sized in MiB: a size between two is rounded up. */
        spec->memory_mib = (bytes + (1u << 20) - 1) >> 20;
        return 0;
}

static int ps_parse_resources(struct pod_spec *spec, struct json_object *doc, char **ret_error)
{
        static const char *const keys[] = {"vcpu", "memory", NULL};
        struct json_object *res;
        int64_t v;
        int r;

        r = ps_get(doc, "resources", json_type_object, "resources", &res, ret_error);
        if (r < 0 || !res)
                return r;
        r = ps_check_object(res, "resources", keys, ret_error);
        if (r >= 0)
                r = ps_int(res, "vcpu", "resources.vcpu", 1, POD_SPEC_MAX_VCPUS, &v, ret_error);
        if (r > 0)
                spec->vcpus = (unsigned)v;
        if (r >= 0)
                r = ps_parse_memory(spec, res, ret_error);
        return r;
}

static int ps_check_strv(char **v, const char *field, bool (*valid)(const char *), const char *what, char **ret_error)
{
        for (size_t i = 0; v[i]; i++)
                if (!valid(v[i]))
                        return ps_error(ret_error, "%s[%zu] must be %s", field, i, what);
        return 0;
}

/* Search domains: dot-separated labels of letters, digits, '-' and '_', at most 253 characters. */
static bool ps_valid_domain(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 253 || s[0] == '.' || strstr(s, "..") || !ps_valid_chars(s, "-_."))
                return false;
        for (const char *p = s;; p++) {
                size_t label = strcspn(p, ".");
                if (label > 63)
                        return false;
                p += label;
                if (!*p)
                        return true;
        }
}

/* Resolver options go into resolv.conf: one word each, "ndots:2", "rotate". */
static bool ps_valid_dns_option(const char *s)
{
        return s[0] && strlen(s) <= 64 && ps_valid_chars(s, "_:.-");
}

static int ps_parse_dns_list(struct json_object *dns, const char *key, size_t max, char ***ret, char **ret_error)
{
        char f[FIELD_MAX];
        int r;

        r = ps_strv(dns, key, ps_field(f, "dns", key), max, ret, ret_error);
        if (r >= 0 && !*ret && !(*ret = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        return r;
}

static int ps_parse_dns(struct pod_spec *spec, struct json_object *doc, char **ret_error)
{
        static const char *const keys[] = {"servers", "search", "options", NULL};
        struct json_object *dns;
        int r;

        r = ps_get(doc, "dns", json_type_object, "dns", &dns, ret_error);
        if (r >= 0 && dns)
                r = ps_check_object(dns, "dns", keys, ret_error);
        if (r >= 0)
                r = ps_parse_dns_list(dns, "servers", POD_SPEC_MAX_DNS_SERVERS, &spec->dns_servers, ret_error);
        if (r >= 0)
                r = ps_parse_dns_list(dns, "search", POD_SPEC_MAX_DNS_SEARCH, &spec->dns_search, ret_error);
        if (r >= 0)
                r = ps_parse_dns_list(dns, "options", POD_SPEC_MAX_DNS_OPTIONS, &spec->dns_options, ret_error);
        if (r >= 0)
                r = ps_check_strv(spec->dns_servers, "dns.servers", ps_valid_ip, "an IPv4 or IPv6 address", ret_error);
        if (r >= 0)
                r = ps_check_strv(spec->dns_search, "dns.search", ps_valid_domain, "a domain name", ret_error);
        if (r >= 0)
                r = ps_check_strv(spec->dns_options, "dns.options", ps_valid_dns_option,
                                  "one word of letters, digits, '_', ':', '.' and '-'", ret_error);
        return r;
}

static bool ps_valid_label_key(const char *s)
{
        return isalnum((unsigned char)s[0]) && strlen(s) <= LABEL_KEY_MAX_LEN && ps_valid_chars(s, "_./-");
}

static int ps_parse_labels(struct pod_spec *spec, struct json_object *doc, char **ret_error)
{
        struct json_object *labels;
        char q[40];
        int r;

        r = ps_get(doc, "labels", json_type_object, "labels", &labels, ret_error);
        if (r < 0 || !labels)
                return r;
        if (json_object_object_length(labels) > POD_SPEC_MAX_LABELS)
                return ps_error(ret_error, "labels has more than %d entries", POD_SPEC_MAX_LABELS);
        spec->labels = calloc((size_t)json_object_object_length(labels) + 1, sizeof(struct pod_label));
        if (!spec->labels)
                return -ENOMEM;
        json_object_object_foreach(labels, key, v)
        {
                struct pod_label *l = &spec->labels[spec->n_labels];
                if (!ps_valid_label_key(key))
                        return ps_error(ret_error,
                                        "labels: the key \"%s\" must be 1 to %d letters, digits, '_', "
                                        "'.', '/' and '-', the first a letter or digit",
                                        ps_quote(q, key), LABEL_KEY_MAX_LEN);
                if (!json_object_is_type(v, json_type_string) ||
                    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v) ||
                    json_object_get_string_len(v) > LABEL_VALUE_MAX_LEN)
                        return ps_error(ret_error, "labels.%s must be a string of at most %d characters", key,
                                        LABEL_VALUE_MAX_LEN);
                l->key = strdup(key);
                l->value = strdup(json_object_get_string(v));
                spec->n_labels++;
                if (!l->key || !l->value)
                        return -ENOMEM;
        }
        return 0;
}

static int ps_parse_restart_policy(struct pod_spec *spec, struct json_object *doc, char **ret_error)
{
        _cleanup_free_ char *s = NULL;
        int r;

        r = ps_string(doc, "restartPolicy", "restartPolicy", 16, &s, ret_error);
        if (r <= 0)
                return r;
        for (int p = POD_RESTART_NEVER; p <= POD_RESTART_ON_FAILURE; p++)
                if (strcmp(s, pod_restart_policy_to_string((enum pod_restart_policy)p)) == 0) {
                        spec->restart_policy = (enum pod_restart_policy)p;
                        return 0;
                }
        return ps_error(ret_error, "restartPolicy must be \"never\", \"always\" or \"onFailure\"");
}

static int ps_parse_network_mode(struct pod_spec *spec, struct json_object *net, char **ret_error)
{
        _cleanup_free_ char *s = NULL;
        int r;

        r = ps_string(net, "mode", "network.mode", 16, &s, ret_error);
        if (r <= 0)
                return r;
        for (int m = POD_NETWORK_BRIDGE; m <= POD_NETWORK_TAP; m++)
                if (strcmp(s, pod_network_mode_to_string((enum pod_network_mode)m)) == 0) {
                        spec->network_mode = (enum pod_network_mode)m;
                        return 0;
                }
        return ps_error(ret_error, "network.mode must be \"bridge\", \"none\" or \"tap\"");
}

static int ps_parse_network(struct pod_spec *spec, struct json_object *doc, char **ret_error)
{
        static const char *const keys[] = {"mode", "bridge", "tap", NULL};
        struct json_object *net;
        int r;

        r = ps_get(doc, "network", json_type_object, "network", &net, ret_error);
        if (r < 0 || !net)
                return r;
        r = ps_check_object(net, "network", keys, ret_error);
        if (r >= 0)
                r = ps_parse_network_mode(spec, net, ret_error);
        if (r >= 0)
                r = ps_string(net, "bridge", "network.bridge", IFNAME_MAX_LEN, &spec->network_bridge, ret_error);
        if (r >= 0)
                r = ps_string(net, "tap", "network.tap", IFNAME_MAX_LEN, &spec->network_tap, ret_error);
        if (r < 0)
                return r;
        if (spec->network_bridge && spec->network_mode != POD_NETWORK_BRIDGE)
                return ps_error(ret_error, "network.bridge is only for network.mode \"bridge\"");
        if (spec->network_tap && spec->network_mode != POD_NETWORK_TAP)
                return ps_error(ret_error, "network.tap is only for network.mode \"tap\"");
        if (spec->network_mode == POD_NETWORK_TAP && !spec->network_tap)
                return ps_error(ret_error, "network.tap is missing: network.mode \"tap\" needs a device");
        if ((spec->network_bridge && !ps_valid_ifname(spec->network_bridge)) ||
            (spec->network_tap && !ps_valid_ifname(spec->network_tap)))
                return ps_error(ret_error,
                                "network.%s must be an interface name: 1 to %d letters, digits, '_', "
                                "'.' and '-'",
                                spec->network_bridge ? "bridge" : "tap", IFNAME_MAX_LEN);
        return 0;
}

static int ps_parse_identity(struct pod_spec *spec, struct json_object *doc, char **ret_error)
{
        int r;

        r = ps_string(doc, "id", "id", 63, &spec->id, ret_error);
        if (r == 0)
                return ps_error(ret_error, "id is missing");
        if (r > 0 && !ps_valid_name(spec->id))
                return ps_error(ret_error, "id must be " NAME_RULE);
        if (r >= 0)
                r = ps_string(doc, "hostname", "hostname", 63, &spec->hostname, ret_error);
        if (r > 0 && !ps_valid_hostname(spec->hostname))
                return ps_error(ret_error, "hostname must be 1 to 63 letters, digits, '_', '.' and '-', the first a "
                                           "letter or digit");
        if (r == 0 && !(spec->hostname = strdup(spec->id)))
                return -ENOMEM;
        return r < 0 ? r : 0;
}

static int ps_parse_doc(struct ps_context *ctx, struct json_object *doc, char **ret_error)
{
        static const char *const keys[] = {"id",     "hostname", "containers",    "resources", "dns",
                                           "labels", "volumes",  "restartPolicy", "network",   NULL};
        struct pod_spec *spec = ctx->spec;
        int r;

        r = ps_check_object(doc, "", keys, ret_error);
        if (r >= 0)
                r = ps_parse_identity(spec, doc, ret_error);
        if (r >= 0)
                r = ps_parse_resources(spec, doc, ret_error);
        if (r >= 0)
                r = ps_parse_restart_policy(spec, doc, ret_error);
        if (r >= 0)
                r = ps_parse_labels(spec, doc, ret_error);
        if (r >= 0)
                r = ps_parse_dns(spec, doc, ret_error);
        if (r >= 0)
                r = ps_parse_network(spec, doc, ret_error);
        if (r >= 0)
                r = ps_parse_volumes(spec, doc, ret_error);
        if (r >= 0)
                r = ps_parse_containers(ctx, doc, ret_error);
        return r;
}

/* Exactly one JSON object, nested no deeper than a pod file needs; json-c's own words when it is not. */
static int ps_tokenize(const char *data, size_t len, struct json_object **ret, char **ret_error)
{
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        struct json_object *o;
        size_t end;

        tok = json_tokener_new_ex(POD_SPEC_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, data, (int)len);
        end = json_tokener_get_parse_end(tok);
        if (!o && json_tokener_get_error(tok) == json_tokener_continue)
                return ps_error(ret_error, "the pod file is not valid JSON: it ends too early");
        if (!o)
                return ps_error(ret_error, "the pod file is not valid JSON: %s at byte %zu",
                                json_tokener_error_desc(json_tokener_get_error(tok)), end);
        for (; end < len && data[end] && strchr(" \t\r\n", data[end]); end++)
                ;
        if (end < len) {
                json_object_put(o);
                return ps_error(ret_error, "the pod file has data after its JSON object, at byte %zu", end);
        }
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return ps_error(ret_error, "the pod file must be a JSON object");
        }
        *ret = o;
        return 0;
}

int pod_spec_parse(const char *data, size_t len, struct pod_spec **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        _cleanup_free_ struct ps_context *ctx = NULL;
        _cleanup_(pod_spec_freep) struct pod_spec *spec = NULL;
        int r;

        if (len > POD_SPEC_MAX_SIZE)
                return ps_error(ret_error, "the pod file is larger than %u bytes", POD_SPEC_MAX_SIZE);
        r = ps_tokenize(data, len, &doc, ret_error);
        if (r < 0)
                return r;
        ctx = calloc(1, sizeof(*ctx));
        spec = calloc(1, sizeof(*spec));
        if (!ctx || !spec)
                return -ENOMEM;
        spec->vcpus = POD_SPEC_DEFAULT_VCPUS;
        spec->memory_mib = POD_SPEC_DEFAULT_MEMORY_MIB;
        ctx->spec = spec;
        r = ps_parse_doc(ctx, doc, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(spec);
        return 0;
}

static void pod_container_done(struct pod_container *c)
{
        free(c->name);
        free(c->image);
        strv_free(c->entrypoint);
        strv_free(c->command);
        strv_free(c->env);
        free(c->workdir);
        free(c->user);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].volume);
                free(c->mounts[i].path);
        }
        free(c->mounts);
        for (size_t i = 0; i < c->n_ports; i++)
                free(c->ports[i].host_ip);
        free(c->ports);
}

void pod_spec_free(struct pod_spec *spec)
{
        if (!spec)
                return;
        free(spec->id);
        free(spec->hostname);
        for (size_t i = 0; i < spec->n_containers; i++)
                pod_container_done(&spec->containers[i]);
        free(spec->containers);
        strv_free(spec->dns_servers);
        strv_free(spec->dns_search);
        strv_free(spec->dns_options);
        for (size_t i = 0; i < spec->n_labels; i++) {
                free(spec->labels[i].key);
                free(spec->labels[i].value);
        }
        free(spec->labels);
        for (size_t i = 0; i < spec->n_volumes; i++) {
                free(spec->volumes[i].name);
                free(spec->volumes[i].source);
        }
        free(spec->volumes);
        free(spec->network_bridge);
        free(spec->network_tap);
        free(spec);
}

const struct pod_volume *pod_spec_find_volume(const struct pod_spec *spec, const char *name)
{
        for (size_t i = 0; i < spec->n_volumes; i++)
                if (spec->volumes[i].name && strcmp(spec->volumes[i].name, name) == 0)
                        return &spec->volumes[i];
        return NULL;
}

const char *pod_restart_policy_to_string(enum pod_restart_policy p)
{
        static const char *const s[] = {
                [POD_RESTART_NEVER] = "never", [POD_RESTART_ALWAYS] = "always", [POD_RESTART_ON_FAILURE] = "onFailure"};

        return (size_t)p < ARRAY_SIZE(s) ? s[p] : NULL;
}

const char *pod_volume_driver_to_string(enum pod_volume_driver d)
{
        static const char *const s[] = {[POD_VOLUME_HOST] = "host",
                                        [POD_VOLUME_NAMED] = "named",
                                        [POD_VOLUME_RAW] = "raw",
                                        [POD_VOLUME_QCOW2] = "qcow2"};

        return (size_t)d < ARRAY_SIZE(s) ? s[d] : NULL;
}

const char *pod_network_mode_to_string(enum pod_network_mode m)
{
        static const char *const s[] = {
                [POD_NETWORK_BRIDGE] = "bridge", [POD_NETWORK_NONE] = "none", [POD_NETWORK_TAP] = "tap"};

        return (size_t)m < ARRAY_SIZE(s) ? s[m] : NULL;
}

const char *pod_protocol_to_string(enum pod_protocol p)
{
        return p == POD_PROTOCOL_UDP ? "udp" : "tcp";
}

/* The canonical form. json-c returns NULL when out of memory: every add checks its value. */

static int js_add(struct json_object *o, const char *key, struct json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int js_add_string(struct json_object *o, const char *key, const char *s)
{
        return s ? js_add(o, key, json_object_new_string(s)) : 0;
}

static int js_append(struct json_object *a, struct json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static struct json_object *js_strv(char **v)
{
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; a && v && v[i]; i++)
                if (js_append(a, json_object_new_string(v[i])) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

static struct json_object *js_mount(const struct pod_mount *m)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o || js_add_string(o, "volume", m->volume) < 0 || js_add_string(o, "path", m->path) < 0 ||
            js_add(o, "readonly", json_object_new_boolean(m->readonly)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static struct json_object *js_port(const struct pod_port *p)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o || js_add(o, "containerPort", json_object_new_int(p->container_port)) < 0 ||
            js_add(o, "hostPort", json_object_new_int(p->host_port)) < 0 ||
            js_add_string(o, "hostIP", p->host_ip) < 0 ||
            js_add_string(o, "protocol", pod_protocol_to_string(p->protocol)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int js_add_list(struct json_object *o, const char *key, const void *items, size_t size, size_t n,
                       struct json_object *(*one)(const void *))
{
        struct json_object *a = json_object_new_array();
        int r = js_add(o, key, a);

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = js_append(a, one((const char *)items + i * size));
        return r;
}

static struct json_object *js_mount_v(const void *p)
{
        return js_mount(p);
}

static struct json_object *js_port_v(const void *p)
{
        return js_port(p);
}

static struct json_object *js_container(const void *p)
{
        const struct pod_container *c = p;
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = js_add_string(o, "name", c->name);
        if (r >= 0)
                r = js_add_string(o, "image", c->image);
        if (r >= 0 && c->entrypoint)
                r = js_add(o, "entrypoint", js_strv(c->entrypoint));
        if (r >= 0 && c->command)
                r = js_add(o, "command", js_strv(c->command));
        if (r >= 0)
                r = js_add(o, "env", js_strv(c->env));
        if (r >= 0)
                r = js_add_string(o, "workdir", c->workdir);
        if (r >= 0)
                r = js_add_string(o, "user", c->user);
        if (r >= 0)
                r = js_add(o, "tty", json_object_new_boolean(c->tty));
        if (r >= 0)
                r = js_add(o, "stdin", json_object_new_boolean(c->stdin));
        if (r >= 0)
                r = js_add_list(o, "volumes", c->mounts, sizeof(*c->mounts), c->n_mounts, js_mount_v);
        if (r >= 0)
                r = js_add_list(o, "ports", c->ports, sizeof(*c->ports), c->n_ports, js_port_v);
        return r < 0 ? NULL : TAKE_PTR(o);
}

static struct json_object *js_volume(const void *p)
{
        const struct pod_volume *v = p;
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o || js_add_string(o, "name", v->name) < 0 || js_add_string(o, "source", v->source) < 0 ||
            js_add_string(o, "driver", pod_volume_driver_to_string(v->driver)) < 0 ||
            js_add(o, "readonly", json_object_new_boolean(v->readonly)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int js_add_pod_settings(struct json_object *o, const struct pod_spec *spec)
{
        _cleanup_free_ char *memory = NULL;
        struct json_object *res, *dns, *labels, *net;
        int r;

        if (asprintf(&memory, "%" PRIu64 "Mi", spec->memory_mib) < 0)
                return -ENOMEM;
        r = js_add(o, "resources", res = json_object_new_object());
        if (r >= 0)
                r = js_add(res, "vcpu", json_object_new_int((int)spec->vcpus));
        if (r >= 0)
                r = js_add_string(res, "memory", memory);
        if (r >= 0)
                r = js_add(o, "dns", dns = json_object_new_object());
        if (r >= 0)
                r = js_add(dns, "servers", js_strv(spec->dns_servers));
        if (r >= 0)
                r = js_add(dns, "search", js_strv(spec->dns_search));
        if (r >= 0)
                r = js_add(dns, "options", js_strv(spec->dns_options));
        if (r >= 0)
                r = js_add(o, "labels", labels = json_object_new_object());
        for (size_t i = 0; r >= 0 && i < spec->n_labels; i++)
                r = js_add_string(labels, spec->labels[i].key, spec->labels[i].value);
        if (r >= 0)
                r = js_add_string(o, "restartPolicy", pod_restart_policy_to_string(spec->restart_policy));
        if (r >= 0)
                r = js_add(o, "network", net = json_object_new_object());
        if (r >= 0)
                r = js_add_string(net, "mode", pod_network_mode_to_string(spec->network_mode));
        if (r >= 0)
                r = js_add_string(net, "bridge", spec->network_bridge);
        if (r >= 0)
                r = js_add_string(net, "tap", spec->network_tap);
        return r;
}

int pod_spec_to_json(const struct pod_spec *spec, char **ret)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        const char *s;
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = js_add_string(o, "id", spec->id);
        if (r >= 0)
                r = js_add_string(o, "hostname", spec->hostname);
        if (r >= 0)
                r = js_add_pod_settings(o, spec);
        if (r >= 0)
                r = js_add_list(o, "volumes", spec->volumes, sizeof(*spec->volumes), spec->n_volumes, js_volume);
        if (r >= 0)
                r = js_add_list(o, "containers", spec->containers, sizeof(*spec->containers), spec->n_containers,
                                js_container);
        if (r < 0)
                return r;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || !(*ret = strdup(s)))
                return -ENOMEM;
        return 0;
}
