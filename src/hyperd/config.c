/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error-util.h"
#include "fd-util.h"
#include "router.h"

#define CONFIG_DEFAULT_MAX_UPLOAD (8ULL << 30)
#define CONFIG_DEFAULT_MAX_CLIENTS 64

static int config_set_string(char **field, const char *value)
{
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

int config_init(struct config *c)
{
        *c = (struct config){ .max_upload = CONFIG_DEFAULT_MAX_UPLOAD, .max_clients = CONFIG_DEFAULT_MAX_CLIENTS };
        if (config_set_string(&c->socket, HYPERD_DEFAULT_SOCKET) < 0 ||
            config_set_string(&c->root, HYPERD_DEFAULT_ROOT) < 0 ||
            config_set_string(&c->runv_root, HYPERD_DEFAULT_RUNV_ROOT) < 0) {
                config_done(c);
                return -ENOMEM;
        }
        return 0;
}

void config_done(struct config *c)
{
        free(c->socket);
        free(c->root);
        free(c->runv_root);
        free(c->group);
        free(c->log_file);
        free(c->bridge);
        free(c->subnet);
        free(c->network_state);
        *c = (struct config){ 0 };
}

/* Paths must be absolute: hyperd may be started from any folder. */
static int config_set_path(char **field, const char *value)
{
        if (value[0] != '/')
                return -EINVAL;
        return config_set_string(field, value);
}

/* An interface name: 1 to 15 characters, none of them '/', ':' or a space. */
static int config_set_bridge(char **field, const char *value)
{
        size_t n = strlen(value);

        if (n == 0 || n > 15 || strcspn(value, "/: \t") != n)
                return -EINVAL;
        return config_set_string(field, value);
}

/* A.B.C.D/N; netbridge checks the rest (the prefix's range) at start. */
static int config_set_subnet(char **field, const char *value)
{
        const char *slash = strchr(value, '/');
        char addr[INET_ADDRSTRLEN];
        struct in_addr a;

        if (!slash || (size_t)(slash - value) >= sizeof(addr) || slash[1] < '0' || slash[1] > '9')
                return -EINVAL;
        memcpy(addr, value, (size_t)(slash - value));
        addr[slash - value] = '\0';
        if (inet_pton(AF_INET, addr, &a) != 1 || strtoul(slash + 1, NULL, 10) > 32 ||
            strspn(slash + 1, "0123456789") != strlen(slash + 1))
                return -EINVAL;
        return config_set_string(field, value);
}

int config_set(struct config *c, const char *key, const char *value)
{
        uint64_t n;
        int r;

        if (strcmp(key, "socket") == 0)
                return config_set_path(&c->socket, value);
        if (strcmp(key, "root") == 0)
                return config_set_path(&c->root, value);
        if (strcmp(key, "runv-root") == 0)
                return config_set_path(&c->runv_root, value);
        if (strcmp(key, "log-file") == 0)
                return config_set_path(&c->log_file, value);
        if (strcmp(key, "network-state") == 0)
                return config_set_path(&c->network_state, value);
        if (strcmp(key, "bridge") == 0)
                return config_set_bridge(&c->bridge, value);
        if (strcmp(key, "subnet") == 0)
                return config_set_subnet(&c->subnet, value);
        if (strcmp(key, "group") == 0)
                return value[0] ? config_set_string(&c->group, value) : -EINVAL;
        if (strcmp(key, "debug") == 0)
                return value[0] ? router_parse_bool(value, &c->debug) : -EINVAL;
        if (strcmp(key, "max-upload") == 0)
                return router_parse_size(value, UINT64_MAX, &c->max_upload);
        if (strcmp(key, "max-clients") == 0) {
                r = router_parse_size(value, 4096, &n);
                if (r < 0 || n == 0)
                        return -EINVAL;
                c->max_clients = (unsigned)n;
                return 0;
        }
        return -ENOENT;
}

static char *config_trim(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

/* One line, NUL-terminated and without its newline. */
static int config_parse_line(struct config *c, char *line, unsigned no, char **ret_error)
{
        char *eq, *key, *value;
        int r;

        line = config_trim(line);
        if (*line == '\0' || *line == '#')
                return 0;
        eq = strchr(line, '=');
        if (!eq)
                return error_set(ret_error, -EINVAL, "line %u: expected key = value", no);
        *eq = '\0';
        key = config_trim(line);
        value = config_trim(eq + 1);
        r = config_set(c, key, value);
        if (r == -ENOENT)
                return error_set(ret_error, -EINVAL, "line %u: unknown key \"%s\"", no, key);
        if (r < 0 && r != -ENOMEM)
                return error_set(ret_error, r, "line %u: bad value for %s: \"%s\"", no, key, value);
        return r;
}

int config_parse(struct config *c, const char *text, size_t len, char **ret_error)
{
        char line[CONFIG_MAX_LINE + 1];
        unsigned no = 0;
        size_t i = 0;
        int r;

        if (len > CONFIG_MAX_FILE)
                return error_set(ret_error, -EFBIG, "the file is over %d bytes", CONFIG_MAX_FILE);
        while (i < len) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t n = nl ? (size_t)(nl - text - i) : len - i;

                no++;
                if (n > CONFIG_MAX_LINE)
                        return error_set(ret_error, -EINVAL, "line %u: longer than %d bytes", no, CONFIG_MAX_LINE);
                if (memchr(text + i, '\0', n))
                        return error_set(ret_error, -EINVAL, "line %u: holds a NUL byte", no);
                memcpy(line, text + i, n);
                line[n] = '\0';
                r = config_parse_line(c, line, no, ret_error);
                if (r < 0)
                        return r;
                i += n + 1;
        }
        return 0;
}

int config_load(struct config *c, const char *path, bool missing_ok, char **ret_error)
{
        _cleanup_free_ char *text = NULL, *error = NULL;
        size_t len;
        int r;

        r = read_full_file(path, CONFIG_MAX_FILE, &text, &len);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        r = config_parse(c, text, len, &error);
        if (r < 0)
                return error_set(ret_error, r, "%s: %s", path, error ? error : strerror(-r));
        return 0;
}
