/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The REST API's routes: a method and a path (already percent-decoded by
 * libmicrohttpd, query string removed) become a route id and, for the
 * routes about one image or container, the reference or id found in the
 * path. Pure
 * string work, so that unit tests and a fuzzer can drive it without a
 * server. docs/api.md lists the routes.
 *
 * An image reference may itself hold slashes ("host:5000/a/b:tag"), so
 * the routes about one image match by prefix and suffix, as Docker's do:
 * GET /v1/images/a/b:tag/json inspects "a/b:tag".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_VERSION "1"
#define API_PREFIX "/v1"
/* The longest path accepted; longer ones get 414. */
#define ROUTER_MAX_PATH 4096

enum route_id {
        ROUTE_VERSION,
        ROUTE_INFO,
        ROUTE_IMAGES_LIST,
        ROUTE_IMAGES_PULL,
        ROUTE_IMAGES_LOAD,
        ROUTE_IMAGE_INSPECT,
        ROUTE_IMAGE_SAVE,
        ROUTE_IMAGE_TAG,
        ROUTE_IMAGE_DELETE,
        ROUTE_CONTAINERS_LIST,
        ROUTE_CONTAINERS_RUN,
        ROUTE_CONTAINER_INSPECT,
        ROUTE_CONTAINER_LOGS,
        ROUTE_CONTAINER_WAIT,
        ROUTE_CONTAINER_STOP,
        ROUTE_CONTAINER_KILL,
        ROUTE_CONTAINER_EXEC,
        ROUTE_CONTAINER_DELETE,
        ROUTE_CONTAINER_VOLUME_ATTACH,
        ROUTE_CONTAINER_VOLUME_DETACH,
        ROUTE_VOLUMES_LIST,
        ROUTE_VOLUMES_CREATE,
        ROUTE_VOLUME_INSPECT,
        ROUTE_VOLUME_DELETE,
        ROUTE_CONTAINERS_CREATE,
        ROUTE_CONTAINER_START,
        ROUTE_CONTAINER_ATTACH,
        ROUTE_CONTAINER_RESIZE,
        ROUTE_CONTAINER_EXECS,
        ROUTE_EXEC_INSPECT,
        ROUTE_EXEC_RESIZE,
        ROUTE_PODS_LIST,
        ROUTE_PODS_CREATE,
        ROUTE_POD_INSPECT,
        ROUTE_POD_STOP,
        ROUTE_POD_START,
        ROUTE_POD_DELETE,
        _ROUTE_MAX,
};

struct route {
        enum route_id id;
        bool takes_body; /* the request body is the payload (an archive) */
        bool json_body;  /* the request body is a JSON document, kept in memory */
        char *ref;       /* the image or container named in the path, or NULL; owned */
};

/*
 * Returns 0 and fills *ret; -ENOENT for a path no route has (404),
 * -EOPNOTSUPP for a known path with another method (405), -ENAMETOOLONG
 * (414) and -EINVAL (400) for a path with an empty, over-long or
 * control-character reference.
 */
int router_match(const char *method, const char *path, struct route *ret);
void route_done(struct route *r);
const char *route_name(enum route_id id);

/*
 * Query values. A boolean is "1", "true", "0", "false" or empty (true,
 * as for a bare "?insecure"); NULL is -EINVAL; a size is a decimal count of bytes with an
 * optional K, M or G suffix (powers of 1024), at most max.
 */
int router_parse_bool(const char *s, bool *ret);
int router_parse_size(const char *s, uint64_t max, uint64_t *ret);
