/* SPDX-License-Identifier: Apache-2.0 */
/* hyperd's request routing, query values and configuration file, hostile input included. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "router.h"
#include "test.h"

static void check_route(const char *method, const char *path, enum route_id id, const char *ref)
{
        struct route r = { 0 };

        CHECK(router_match(method, path, &r) == 0);
        CHECK(r.id == id);
        CHECK(ref ? r.ref && strcmp(r.ref, ref) == 0 : !r.ref);
        CHECK(r.takes_body == (id == ROUTE_IMAGES_LOAD));
        CHECK(r.json_body == (id == ROUTE_CONTAINERS_RUN || id == ROUTE_CONTAINER_EXEC ||
                              id == ROUTE_CONTAINER_VOLUME_ATTACH || id == ROUTE_VOLUMES_CREATE ||
                              id == ROUTE_CONTAINERS_CREATE || id == ROUTE_PODS_CREATE));
        route_done(&r);
}

static void check_refused(const char *method, const char *path, int error)
{
        struct route r = { 0 };

        CHECK(router_match(method, path, &r) == error);
        CHECK(!r.ref);
}

static void test_routes(void)
{
        check_route("GET", "/v1/version", ROUTE_VERSION, NULL);
        check_route("GET", "/v1/info", ROUTE_INFO, NULL);
        check_route("GET", "/v1/images", ROUTE_IMAGES_LIST, NULL);
        check_route("POST", "/v1/images/pull", ROUTE_IMAGES_PULL, NULL);
        check_route("POST", "/v1/images/load", ROUTE_IMAGES_LOAD, NULL);
        check_route("GET", "/v1/images/busybox/json", ROUTE_IMAGE_INSPECT, "busybox");
        check_route("GET", "/v1/images/127.0.0.1:5000/a/b:tag/json", ROUTE_IMAGE_INSPECT, "127.0.0.1:5000/a/b:tag");
        check_route("GET", "/v1/images/a@sha256:00/save", ROUTE_IMAGE_SAVE, "a@sha256:00");
        check_route("POST", "/v1/images/busybox:1/tag", ROUTE_IMAGE_TAG, "busybox:1");
        check_route("DELETE", "/v1/images/host:5000/x/y", ROUTE_IMAGE_DELETE, "host:5000/x/y");
        /* A literal route wins for its method; another method falls to the reference routes. */
        check_route("DELETE", "/v1/images/pull", ROUTE_IMAGE_DELETE, "pull");
        check_route("DELETE", "/v1/images/a/json", ROUTE_IMAGE_DELETE, "a/json");
        check_route("GET", "/v1/containers", ROUTE_CONTAINERS_LIST, NULL);
        check_route("POST", "/v1/containers/run", ROUTE_CONTAINERS_RUN, NULL);
        check_route("GET", "/v1/containers/web/json", ROUTE_CONTAINER_INSPECT, "web");
        check_route("GET", "/v1/containers/0123abcd/logs", ROUTE_CONTAINER_LOGS, "0123abcd");
        check_route("POST", "/v1/containers/web/wait", ROUTE_CONTAINER_WAIT, "web");
        check_route("POST", "/v1/containers/web/stop", ROUTE_CONTAINER_STOP, "web");
        check_route("POST", "/v1/containers/web/kill", ROUTE_CONTAINER_KILL, "web");
        check_route("POST", "/v1/containers/web/exec", ROUTE_CONTAINER_EXEC, "web");
        check_route("POST", "/v1/containers/create", ROUTE_CONTAINERS_CREATE, NULL);
        check_route("POST", "/v1/containers/web/start", ROUTE_CONTAINER_START, "web");
        check_route("POST", "/v1/containers/web/attach", ROUTE_CONTAINER_ATTACH, "web");
        check_route("POST", "/v1/containers/web/resize", ROUTE_CONTAINER_RESIZE, "web");
        check_route("GET", "/v1/containers/web/execs", ROUTE_CONTAINER_EXECS, "web");
        check_route("GET", "/v1/exec/0123abcd/json", ROUTE_EXEC_INSPECT, "0123abcd");
        check_route("POST", "/v1/exec/0123abcd/resize", ROUTE_EXEC_RESIZE, "0123abcd");
        check_route("DELETE", "/v1/containers/web", ROUTE_CONTAINER_DELETE, "web");
        check_route("POST", "/v1/containers/web/volumes", ROUTE_CONTAINER_VOLUME_ATTACH, "web");
        check_route("DELETE", "/v1/containers/web/volumes", ROUTE_CONTAINER_VOLUME_DETACH, "web");
        check_route("GET", "/v1/volumes", ROUTE_VOLUMES_LIST, NULL);
        check_route("POST", "/v1/volumes/create", ROUTE_VOLUMES_CREATE, NULL);
        check_route("GET", "/v1/volumes/create", ROUTE_VOLUME_INSPECT, "create");
        check_route("GET", "/v1/volumes/data", ROUTE_VOLUME_INSPECT, "data");
        check_route("DELETE", "/v1/volumes/data", ROUTE_VOLUME_DELETE, "data");
        check_route("GET", "/v1/pods", ROUTE_PODS_LIST, NULL);
        check_route("POST", "/v1/pods", ROUTE_PODS_CREATE, NULL);
        check_route("GET", "/v1/pods/web/json", ROUTE_POD_INSPECT, "web");
        check_route("POST", "/v1/pods/web/stop", ROUTE_POD_STOP, "web");
        check_route("POST", "/v1/pods/web/start", ROUTE_POD_START, "web");
        check_route("DELETE", "/v1/pods/web", ROUTE_POD_DELETE, "web");
        check_refused("PUT", "/v1/pods", -EOPNOTSUPP);
        check_refused("GET", "/v1/pods//json", -EINVAL);
        /* "run" is the literal route for POST only; a container may not be named by the empty string. */
        check_route("DELETE", "/v1/containers/run", ROUTE_CONTAINER_DELETE, "run");
        check_refused("GET", "/v1/containers/run", -EOPNOTSUPP);
        check_refused("GET", "/v1/containers//json", -EINVAL);
        check_refused("PUT", "/v1/containers/web", -EOPNOTSUPP);
        check_refused("GET", "/v1/containers/web/wait", -EOPNOTSUPP);
        check_refused("POST", "/v1/containers/a b/exec", -EINVAL);
        CHECK(strcmp(route_name(ROUTE_CONTAINER_EXEC), "container-exec") == 0);
        CHECK(strcmp(route_name(ROUTE_CONTAINER_ATTACH), "container-attach") == 0);
}

static void test_refusals(void)
{
        struct route r = { 0 };
        char *long_path;

        check_refused("GET", "/", -ENOENT);
        check_refused("GET", "/version", -ENOENT);
        check_refused("GET", "/v2/version", -ENOENT);
        check_refused("GET", "/v1/version/", -ENOENT);
        check_refused("GET", "/v1/images/", -EINVAL);
        check_refused("POST", "/v1/version", -EOPNOTSUPP);
        check_refused("GET", "/v1/images/pull", -EOPNOTSUPP);
        check_refused("PUT", "/v1/images/x", -EOPNOTSUPP);
        check_refused("get", "/v1/version", -EOPNOTSUPP);
        check_refused("GET", "/v1/images//json", -EINVAL);
        check_refused("POST", "/v1/images//tag", -EINVAL);
        check_refused("GET", "/v1/images/a b/json", -EINVAL);
        check_refused("GET", "/v1/images/a\tb/json", -EINVAL);
        check_refused("DELETE", "/v1/images/a\x7f", -EINVAL);
        check_refused("DELETE", "/v1/images/a\nb", -EINVAL);
        CHECK(router_match(NULL, "/v1/version", &r) == -EINVAL);
        CHECK(router_match("GET", NULL, &r) == -EINVAL);
        long_path = malloc(ROUTER_MAX_PATH + 2);
        CHECK(long_path);
        memset(long_path, 'a', ROUTER_MAX_PATH + 1);
        memcpy(long_path, "/v1/images/", 11);
        long_path[ROUTER_MAX_PATH + 1] = '\0';
        check_refused("DELETE", long_path, -ENAMETOOLONG);
        long_path[ROUTER_MAX_PATH] = '\0';
        check_route("DELETE", long_path, ROUTE_IMAGE_DELETE, long_path + 11);
        free(long_path);
        CHECK(strcmp(route_name(ROUTE_IMAGE_TAG), "image-tag") == 0);
        CHECK(strcmp(route_name(_ROUTE_MAX), "unknown") == 0);
}

static void test_values(void)
{
        uint64_t n = 0;
        bool b = false;

        CHECK(router_parse_bool("", &b) == 0 && b);
        CHECK(router_parse_bool("1", &b) == 0 && b);
        CHECK(router_parse_bool("false", &b) == 0 && !b);
        CHECK(router_parse_bool("true", &b) == 0 && b);
        CHECK(router_parse_bool("0", &b) == 0 && !b);
        CHECK(router_parse_bool("yes", &b) == -EINVAL);
        CHECK(router_parse_bool(NULL, &b) == -EINVAL);
        CHECK(router_parse_size("0", 10, &n) == 0 && n == 0);
        CHECK(router_parse_size("4K", UINT64_MAX, &n) == 0 && n == 4096);
        CHECK(router_parse_size("2g", UINT64_MAX, &n) == 0 && n == 2ULL << 30);
        CHECK(router_parse_size("11", 10, &n) == -ERANGE);
        CHECK(router_parse_size("1K", 1000, &n) == -ERANGE);
        CHECK(router_parse_size("99999999999999999999999", UINT64_MAX, &n) == -ERANGE);
        CHECK(router_parse_size("18446744073709551615", UINT64_MAX, &n) == -ERANGE);
        CHECK(router_parse_size("-1", UINT64_MAX, &n) == -EINVAL);
        CHECK(router_parse_size("", UINT64_MAX, &n) == -EINVAL);
        CHECK(router_parse_size("1KB", UINT64_MAX, &n) == -EINVAL);
        CHECK(router_parse_size("1 ", UINT64_MAX, &n) == -EINVAL);
        CHECK(router_parse_size("K", UINT64_MAX, &n) == -EINVAL);
        CHECK(router_parse_size(NULL, UINT64_MAX, &n) == -EINVAL);
}

static void check_config_error(const char *text, const char *want)
{
        struct config c;
        char *error = NULL;

        CHECK(config_init(&c) == 0);
        CHECK(config_parse(&c, text, strlen(text), &error) < 0);
        CHECK(error && strstr(error, want));
        free(error);
        config_done(&c);
}

static void test_config(void)
{
        const char *text = "# hyperd\n\n  socket = /tmp/x.sock \nroot=/srv/hyper\ngroup = hyper\r\n"
                           "log-file = /var/log/hyperd.log\ndebug = true\nmax-upload = 16M\nmax-clients = 8";
        struct config c;
        char *error = NULL;

        CHECK(config_init(&c) == 0);
        CHECK(strcmp(c.socket, HYPERD_DEFAULT_SOCKET) == 0 && strcmp(c.root, HYPERD_DEFAULT_ROOT) == 0);
        CHECK(strcmp(c.runv_root, HYPERD_DEFAULT_RUNV_ROOT) == 0);
        CHECK(config_set(&c, "runv-root", "relative") == -EINVAL);
        CHECK(config_set(&c, "runv-root", "/tmp/runv") == 0 && strcmp(c.runv_root, "/tmp/runv") == 0);
        CHECK(!c.bridge && !c.subnet && !c.network_state);
        CHECK(config_set(&c, "bridge", "hyt-br1") == 0 && strcmp(c.bridge, "hyt-br1") == 0);
        CHECK(config_set(&c, "bridge", "a-name-over-15ch") == -EINVAL);
        CHECK(config_set(&c, "bridge", "a/b") == -EINVAL);
        CHECK(config_set(&c, "subnet", "10.213.0.0/24") == 0 && strcmp(c.subnet, "10.213.0.0/24") == 0);
        CHECK(config_set(&c, "subnet", "10.213.0.0") == -EINVAL);
        CHECK(config_set(&c, "subnet", "10.213.0.0/33") == -EINVAL);
        CHECK(config_set(&c, "subnet", "10.213.0/24") == -EINVAL);
        CHECK(config_set(&c, "network-state", "net") == -EINVAL);
        CHECK(config_set(&c, "network-state", "/tmp/net") == 0 && strcmp(c.network_state, "/tmp/net") == 0);
        CHECK(!c.group && !c.log_file && !c.debug && c.max_upload == 8ULL << 30);
        CHECK(config_parse(&c, text, strlen(text), &error) == 0);
        CHECK(strcmp(c.socket, "/tmp/x.sock") == 0 && strcmp(c.root, "/srv/hyper") == 0);
        CHECK(strcmp(c.group, "hyper") == 0 && strcmp(c.log_file, "/var/log/hyperd.log") == 0);
        CHECK(c.debug && c.max_upload == 16ULL << 20 && c.max_clients == 8);
        config_done(&c);

        check_config_error("bogus = 1\n", "line 1: unknown key \"bogus\"");
        check_config_error("\n\nroot\n", "line 3: expected key = value");
        check_config_error("root = relative/path\n", "line 1: bad value for root");
        check_config_error("debug = maybe\n", "bad value for debug");
        check_config_error("debug =\n", "bad value for debug");
        check_config_error("max-clients = 0\n", "bad value for max-clients");
        check_config_error("max-clients = 100000\n", "bad value for max-clients");
        check_config_error("group =\n", "bad value for group");
}

static void test_config_hostile(void)
{
        struct config c;
        char *error = NULL, *big;
        const char nul[] = "root = /a\0b\n";

        CHECK(config_init(&c) == 0);
        CHECK(config_parse(&c, nul, sizeof(nul) - 1, &error) == -EINVAL);
        CHECK(error && strstr(error, "NUL"));
        free(error);
        error = NULL;
        big = malloc(CONFIG_MAX_FILE + 1);
        CHECK(big);
        memset(big, '#', CONFIG_MAX_FILE + 1);
        CHECK(config_parse(&c, big, CONFIG_MAX_FILE + 1, &error) == -EFBIG);
        free(error);
        error = NULL;
        CHECK(config_parse(&c, big, CONFIG_MAX_LINE + 1, &error) == -EINVAL);
        CHECK(error && strstr(error, "longer than"));
        free(error);
        error = NULL;
        CHECK(config_parse(&c, big, CONFIG_MAX_LINE, &error) == 0);
        free(big);
        CHECK(config_load(&c, "/nonexistent/hyperd.conf", true, &error) == 0);
        CHECK(config_load(&c, "/nonexistent/hyperd.conf", false, &error) == -ENOENT);
        CHECK(error && strstr(error, "/nonexistent/hyperd.conf"));
        free(error);
        config_done(&c);
}

int main(void)
{
        test_routes();
        test_refusals();
        test_values();
        test_config();
        test_config_hostile();
        printf("ok\n");
        return 0;
}
