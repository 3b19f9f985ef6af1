/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

/*
 * One route per row. A pattern is a literal path, or a prefix and a
 * suffix around one "*" that stands for the image reference.
 */
struct router_entry {
        const char *method;
        const char *pattern;
        enum route_id id;
        bool takes_body;
        bool json_body;
};

/* Literal paths first: "/v1/images/pull" is the pull route, not an image named "pull". */
static const struct router_entry router_table[] = {
        { "GET", API_PREFIX "/version", ROUTE_VERSION, false },
        { "GET", API_PREFIX "/info", ROUTE_INFO, false },
        { "GET", API_PREFIX "/images", ROUTE_IMAGES_LIST, false },
        { "POST", API_PREFIX "/images/pull", ROUTE_IMAGES_PULL, false },
        { "POST", API_PREFIX "/images/load", ROUTE_IMAGES_LOAD, true },
        { "GET", API_PREFIX "/images/*/json", ROUTE_IMAGE_INSPECT, false },
        { "GET", API_PREFIX "/images/*/save", ROUTE_IMAGE_SAVE, false },
        { "POST", API_PREFIX "/images/*/tag", ROUTE_IMAGE_TAG, false },
        { "DELETE", API_PREFIX "/images/*", ROUTE_IMAGE_DELETE, false },
        { "GET", API_PREFIX "/containers", ROUTE_CONTAINERS_LIST, false },
        { "POST", API_PREFIX "/containers/run", ROUTE_CONTAINERS_RUN, false, true },
        { "POST", API_PREFIX "/containers/create", ROUTE_CONTAINERS_CREATE, false, true },
        { "GET", API_PREFIX "/containers/*/json", ROUTE_CONTAINER_INSPECT, false },
        { "GET", API_PREFIX "/containers/*/logs", ROUTE_CONTAINER_LOGS, false },
        { "POST", API_PREFIX "/containers/*/wait", ROUTE_CONTAINER_WAIT, false },
        { "POST", API_PREFIX "/containers/*/stop", ROUTE_CONTAINER_STOP, false },
        { "POST", API_PREFIX "/containers/*/kill", ROUTE_CONTAINER_KILL, false },
        { "POST", API_PREFIX "/containers/*/exec", ROUTE_CONTAINER_EXEC, false, true },
        { "POST", API_PREFIX "/containers/*/volumes", ROUTE_CONTAINER_VOLUME_ATTACH, false, true },
        { "POST", API_PREFIX "/containers/*/start", ROUTE_CONTAINER_START, false },
        { "POST", API_PREFIX "/containers/*/attach", ROUTE_CONTAINER_ATTACH, false },
        { "POST", API_PREFIX "/containers/*/resize", ROUTE_CONTAINER_RESIZE, false },
        { "GET", API_PREFIX "/containers/*/execs", ROUTE_CONTAINER_EXECS, false },
        { "GET", API_PREFIX "/exec/*/json", ROUTE_EXEC_INSPECT, false },
        { "POST", API_PREFIX "/exec/*/resize", ROUTE_EXEC_RESIZE, false },
        { "DELETE", API_PREFIX "/containers/*/volumes", ROUTE_CONTAINER_VOLUME_DETACH, false },
        { "DELETE", API_PREFIX "/containers/*", ROUTE_CONTAINER_DELETE, false },
        { "GET", API_PREFIX "/volumes", ROUTE_VOLUMES_LIST, false },
        { "POST", API_PREFIX "/volumes/create", ROUTE_VOLUMES_CREATE, false, true },
        { "GET", API_PREFIX "/volumes/*", ROUTE_VOLUME_INSPECT, false },
        { "DELETE", API_PREFIX "/volumes/*", ROUTE_VOLUME_DELETE, false },
        { "GET", API_PREFIX "/pods", ROUTE_PODS_LIST, false },
        { "POST", API_PREFIX "/pods", ROUTE_PODS_CREATE, false, true },
        { "GET", API_PREFIX "/pods/*/json", ROUTE_POD_INSPECT, false },
        { "POST", API_PREFIX "/pods/*/stop", ROUTE_POD_STOP, false },
        { "POST", API_PREFIX "/pods/*/start", ROUTE_POD_START, false },
        { "DELETE", API_PREFIX "/pods/*", ROUTE_POD_DELETE, false },
};

static const char *const route_names[_ROUTE_MAX] = {
        [ROUTE_VERSION] = "version",          [ROUTE_INFO] = "info",
        [ROUTE_IMAGES_LIST] = "images-list",  [ROUTE_IMAGES_PULL] = "images-pull",
        [ROUTE_IMAGES_LOAD] = "images-load",  [ROUTE_IMAGE_INSPECT] = "image-inspect",
        [ROUTE_IMAGE_SAVE] = "image-save",    [ROUTE_IMAGE_TAG] = "image-tag",
        [ROUTE_IMAGE_DELETE] = "image-delete",
        [ROUTE_CONTAINERS_LIST] = "containers-list", [ROUTE_CONTAINERS_RUN] = "containers-run",
        [ROUTE_CONTAINER_INSPECT] = "container-inspect", [ROUTE_CONTAINER_LOGS] = "container-logs",
        [ROUTE_CONTAINER_WAIT] = "container-wait", [ROUTE_CONTAINER_STOP] = "container-stop",
        [ROUTE_CONTAINER_KILL] = "container-kill", [ROUTE_CONTAINER_EXEC] = "container-exec",
        [ROUTE_CONTAINER_DELETE] = "container-delete",
        [ROUTE_CONTAINER_VOLUME_ATTACH] = "container-volume-attach",
        [ROUTE_CONTAINER_VOLUME_DETACH] = "container-volume-detach",
        [ROUTE_VOLUMES_LIST] = "volumes-list", [ROUTE_VOLUMES_CREATE] = "volumes-create",
        [ROUTE_VOLUME_INSPECT] = "volume-inspect", [ROUTE_VOLUME_DELETE] = "volume-delete",
        [ROUTE_CONTAINERS_CREATE] = "containers-create", [ROUTE_CONTAINER_START] = "container-start",
        [ROUTE_CONTAINER_ATTACH] = "container-attach", [ROUTE_CONTAINER_RESIZE] = "container-resize",
        [ROUTE_CONTAINER_EXECS] = "container-execs", [ROUTE_EXEC_INSPECT] = "exec-inspect", [ROUTE_EXEC_RESIZE] = "exec-resize",
        [ROUTE_PODS_LIST] = "pods-list", [ROUTE_PODS_CREATE] = "pods-create",
        [ROUTE_POD_INSPECT] = "pod-inspect", [ROUTE_POD_STOP] = "pod-stop", [ROUTE_POD_START] = "pod-start",
        [ROUTE_POD_DELETE] = "pod-delete",
};

const char *route_name(enum route_id id)
{
        return id < _ROUTE_MAX ? route_names[id] : "unknown";
}

/* Matches path against one pattern; *ret_start and *ret_len give the "*" part, if any. */
static bool router_pattern_match(const char *pattern, const char *path, size_t *ret_start, size_t *ret_len)
{
        const char *star = strchr(pattern, '*');
        size_t plen, slen, n = strlen(path);

        if (!star) {
                *ret_len = 0;
                return strcmp(pattern, path) == 0;
        }
        plen = (size_t)(star - pattern);
        slen = strlen(star + 1);
        if (n < plen + slen || strncmp(path, pattern, plen) != 0 || strcmp(path + n - slen, star + 1) != 0)
                return false;
        *ret_start = plen;
        *ret_len = n - plen - slen;
        return true;
}

/* A reference from a path: not empty, printable, no spaces. libimage checks the rest. */
static int router_check_ref(const char *s, size_t len)
{
        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
                        return -EINVAL;
        return 0;
}

static int router_fill(const struct router_entry *e, const char *path, size_t start, size_t len, struct route *ret)
{
        char *ref = NULL;

        if (strchr(e->pattern, '*')) {
                if (router_check_ref(path + start, len) < 0)
                        return -EINVAL;
                ref = strndup(path + start, len);
                if (!ref)
                        return -ENOMEM;
        }
        *ret = (struct route){ .id = e->id, .takes_body = e->takes_body, .json_body = e->json_body, .ref = ref };
        return 0;
}

int router_match(const char *method, const char *path, struct route *ret)
{
        bool other_method = false;
        size_t start = 0, len = 0;

        if (!method || !path)
                return -EINVAL;
        if (strnlen(path, ROUTER_MAX_PATH + 1) > ROUTER_MAX_PATH)
                return -ENAMETOOLONG;
        for (size_t i = 0; i < sizeof(router_table) / sizeof(router_table[0]); i++) {
                const struct router_entry *e = &router_table[i];

                if (!router_pattern_match(e->pattern, path, &start, &len))
                        continue;
                /* An empty "*" is no match: "/v1/images//json" names no image. */
                if (strchr(e->pattern, '*') && len == 0)
                        return -EINVAL;
                if (strcmp(method, e->method) != 0) {
                        other_method = true;
                        continue;
                }
                return router_fill(e, path, start, len, ret);
        }
        return other_method ? -EOPNOTSUPP : -ENOENT;
}

void route_done(struct route *r)
{
        free(r->ref);
        r->ref = NULL;
}

int router_parse_bool(const char *s, bool *ret)
{
        if (!s)
                return -EINVAL;
        if (strcmp(s, "") == 0 || strcmp(s, "1") == 0 || strcmp(s, "true") == 0) {
                *ret = true;
                return 0;
        }
        if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

int router_parse_size(const char *s, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0, mult = 1;
        const char *p = s;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (*p == 'K' || *p == 'k')
                mult = 1ULL << 10;
        else if (*p == 'M' || *p == 'm')
                mult = 1ULL << 20;
        else if (*p == 'G' || *p == 'g')
                mult = 1ULL << 30;
        else if (*p != '\0')
                return -EINVAL;
        if (*p != '\0' && p[1] != '\0')
                return -EINVAL;
        if (v > max / mult)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}
