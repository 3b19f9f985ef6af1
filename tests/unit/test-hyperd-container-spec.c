/* SPDX-License-Identifier: Apache-2.0 */
/* What hyperd's containers run: the run request checked, Docker's command and env rules, users from the rootfs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-spec.h"
#include "json-util.h"
#include "netbridge.h"
#include "test.h"

static void check_refused(const char *body, const char *want)
{
        struct container_run r = {0};
        char *error = NULL;

        CHECK_EQ_INT(container_run_parse(body, body ? strlen(body) : 0, &r, &error), -EINVAL);
        CHECK(error && strstr(error, want));
        CHECK(!r.image);
        free(error);
}

static void test_parse(void)
{
        const char *body = "{\"image\":\"busybox\",\"cmd\":[\"sh\",\"-c\",\"true\"],\"entrypoint\":[],"
                           "\"env\":[\"A=1\",\"B=\"],\"workdir\":\"/tmp\",\"user\":\"1000:10\",\"name\":\"web.1\","
                           "\"rm\":true}";
        struct container_run r = {0};

        CHECK(container_run_parse(body, strlen(body), &r, NULL) == 0);
        CHECK_STREQ(r.image, "busybox");
        CHECK_STREQ(r.cmd[2], "true");
        CHECK(r.entrypoint && !r.entrypoint[0]);
        CHECK_STREQ(r.env[1], "B=");
        CHECK_STREQ(r.workdir, "/tmp");
        CHECK_STREQ(r.user, "1000:10");
        CHECK_STREQ(r.name, "web.1");
        CHECK(r.auto_remove);
        container_run_done(&r);
        body = "{\"image\":\"busybox\",\"name\":null}";
        CHECK(container_run_parse(body, strlen(body), &r, NULL) == 0);
        CHECK(!r.cmd && !r.entrypoint && !r.env && !r.name && !r.auto_remove);
        container_run_done(&r);

        check_refused(NULL, "needs a JSON body");
        check_refused("[1]", "not a JSON object");
        check_refused("{\"image\":\"x\"", "not a JSON object");
        check_refused("{\"cmd\":[\"sh\"]}", "\"image\" is required");
        check_refused("{\"image\":\"\"}", "\"image\" is required");
        check_refused("{\"image\":1}", "\"image\" must be a string");
        check_refused("{\"image\":\"x\",\"cmd\":\"sh\"}", "\"cmd\" must be an array of strings");
        check_refused("{\"image\":\"x\",\"cmd\":[\"sh\",1]}", "\"cmd\" must be an array of strings");
        check_refused("{\"image\":\"x\",\"env\":[\"NOEQUALS\"]}", "is not KEY=VALUE");
        check_refused("{\"image\":\"x\",\"env\":[\"=v\"]}", "is not KEY=VALUE");
        check_refused("{\"image\":\"x\",\"workdir\":\"tmp\"}", "absolute path");
        check_refused("{\"image\":\"x\",\"name\":\"-x\"}", "invalid name");
        check_refused("{\"image\":\"x\",\"name\":\"a/b\"}", "invalid name");
        check_refused("{\"image\":\"x\",\"rm\":\"yes\"}", "\"rm\" must be true or false");
        check_refused("{\"image\":\"x\",\"tty\":\"yes\"}", "\"tty\" must be true or false");
        check_refused("{\"image\":\"x\",\"stdin_once\":true}", "\"stdin_once\" needs \"stdin\": true");
        check_refused("{\"image\":\"x\",\"interactive\":true}", "unknown field \"interactive\"");
        {
                const char *io = "{\"image\":\"x\",\"tty\":true,\"stdin\":true,\"stdin_once\":true}";
                struct container_run rio = {0};
                char *err = NULL;

                CHECK_EQ_INT(container_run_parse(io, strlen(io), &rio, &err), 0);
                CHECK(rio.tty && rio.stdin_open && rio.stdin_once);
                container_run_done(&rio);
        }
}

static void test_limits(void)
{
        size_t n = CONTAINER_MAX_ARGS + 1, len = 64 + n * 4;
        char *body = malloc(len), *p = body;

        CHECK(body);
        p += sprintf(p, "{\"image\":\"x\",\"cmd\":[");
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s\"a\"", i ? "," : "");
        sprintf(p, "]}");
        check_refused(body, "more than 1024 entries");
        free(body);
        body = malloc(CONTAINER_MAX_STRING + 64);
        CHECK(body);
        p = body + sprintf(body, "{\"image\":\"");
        memset(p, 'a', CONTAINER_MAX_STRING + 1);
        strcpy(p + CONTAINER_MAX_STRING + 1, "\"}");
        check_refused(body, "at most 4096 bytes");
        free(body);
        CHECK(container_name_valid("a") && container_name_valid("A9_.-"));
        CHECK(!container_name_valid("") && !container_name_valid(".a") && !container_name_valid("a b"));
}

static void check_args(char **ientry, char **icmd, char **entry, char **cmd, const char *want)
{
        struct image_config ic = {.entrypoint = ientry, .cmd = icmd};
        struct container_run r = {.entrypoint = entry, .cmd = cmd};
        char **args = NULL, *error = NULL, joined[256] = "";
        int ret = container_args(&ic, &r, &args, &error);

        if (!want) {
                CHECK(ret == -EINVAL && error && strstr(error, "no command to run"));
                free(error);
                return;
        }
        CHECK(ret == 0);
        for (char **p = args; *p; p++)
                snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", p == args ? "" : " ", *p);
        CHECK_STREQ(joined, want);
        strv_free(args);
}

static void test_args(void)
{
        char *sh[] = {"/bin/sh", NULL}, *ep[] = {"/init", "-v", NULL}, *c[] = {"echo", "hi", NULL}, *none[] = {NULL};

        check_args(NULL, sh, NULL, NULL, "/bin/sh");
        check_args(NULL, sh, NULL, c, "echo hi");
        check_args(NULL, sh, NULL, none, "/bin/sh");
        check_args(ep, sh, NULL, NULL, "/init -v /bin/sh");
        check_args(ep, sh, NULL, c, "/init -v echo hi");
        /* An entrypoint given drops the image's Cmd; an empty one drops the image's entrypoint. */
        check_args(ep, sh, c, NULL, "echo hi");
        check_args(ep, sh, none, c, "echo hi");
        check_args(ep, sh, none, NULL, NULL);
        check_args(NULL, NULL, NULL, NULL, NULL);
}

static char dir[] = "/tmp/test-hyperd-spec.XXXXXX";

static void write_file(const char *name, const char *text)
{
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        CHECK(f);
        fputs(text, f);
        fclose(f);
}

static void check_user(int fd, const char *user, int uid, int gid, const char *error_want)
{
        uint32_t u = 99, g = 99;
        char *error = NULL;
        int r = container_user(fd, user, &u, &g, &error);

        if (error_want) {
                CHECK(r == -EINVAL && error && strstr(error, error_want));
                free(error);
                return;
        }
        CHECK(r == 0);
        CHECK_EQ_INT(u, uid);
        CHECK_EQ_INT(g, gid);
}

static void test_user(void)
{
        char etc[300], outside[300];
        int fd;

        CHECK(mkdtemp(dir));
        snprintf(etc, sizeof(etc), "%s/etc", dir);
        CHECK(mkdir(etc, 0755) == 0);
        write_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1001::/home:/bin/sh\nbad:x:nope:1::/:\n");
        write_file("etc/group", "root:x:0:\nwheel:x:10:user\n");
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        check_user(fd, NULL, 0, 0, NULL);
        check_user(fd, "", 0, 0, NULL);
        check_user(fd, "1000", 1000, 0, NULL);
        check_user(fd, "1000:7", 1000, 7, NULL);
        check_user(fd, "user", 1000, 1001, NULL);
        check_user(fd, "user:wheel", 1000, 10, NULL);
        check_user(fd, "0:wheel", 0, 10, NULL);
        check_user(fd, "nobody", 0, 0, "unable to find user nobody");
        check_user(fd, "user:staff", 0, 0, "unable to find group staff");
        check_user(fd, "bad", 0, 0, "unable to find user bad");
        check_user(fd, "us", 0, 0, "unable to find user us");
        check_user(fd, "99999999999", 0, 0, "unable to find user");
        /* A passwd that is a link out of the rootfs resolves inside it. */
        snprintf(outside, sizeof(outside), "%s/etc/passwd", dir);
        CHECK(unlink(outside) == 0);
        CHECK(symlink("/etc/passwd", outside) == 0);
        check_user(fd, "root", 0, 0, "unable to find user root");
        close(fd);
}

static void test_spec(void)
{
        char *ienv[] = {"PATH=/bin", "A=image", "B=image", NULL}, *env[] = {"A=run", "C=run", NULL},
             *cmd[] = {"/bin/sh", NULL};
        struct image_config ic = {.cmd = cmd, .env = ienv, .working_dir = "/srv"};
        struct container_run r = {.image = "busybox", .env = env};
        struct container_spec_input in = {
                .image = &ic, .run = &r, .id = "0123456789abcdef", .rootfs = "/x/merged", .uid = 5, .gid = 6};
        struct json_object *spec = NULL, *proc, *root, *user, *e;
        const char *s;

        CHECK(container_spec(&in, &spec, NULL) == 0);
        CHECK(json_get_string(spec, "hostname", &s) == 0 && strcmp(s, "0123456789ab") == 0);
        CHECK(json_object_object_get_ex(spec, "root", &root));
        CHECK(json_get_string(root, "path", &s) == 0 && strcmp(s, "/x/merged") == 0);
        CHECK(json_object_object_get_ex(spec, "process", &proc));
        CHECK(json_get_string(proc, "cwd", &s) == 0 && strcmp(s, "/srv") == 0);
        CHECK(json_object_object_get_ex(proc, "user", &user));
        CHECK(json_object_get_int(json_object_object_get(user, "uid")) == 5);
        CHECK(json_object_get_int(json_object_object_get(user, "gid")) == 6);
        CHECK(json_object_object_get_ex(proc, "env", &e));
        CHECK_STREQ(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "[\"PATH=/bin\",\"B=image\",\"A=run\",\"C=run\"]");
        CHECK(!json_object_get_boolean(json_object_object_get(proc, "terminal")));
        json_object_put(spec);

        /* No PATH in the image: the default one; no working dir: "/". */
        ic.env = NULL;
        ic.working_dir = NULL;
        r.env = NULL;
        CHECK(container_spec(&in, &spec, NULL) == 0);
        proc = json_object_object_get(spec, "process");
        CHECK(json_get_string(proc, "cwd", &s) == 0 && strcmp(s, "/") == 0);
        s = json_object_get_string(json_object_array_get_idx(json_object_object_get(proc, "env"), 0));
        CHECK(s && strncmp(s, "PATH=/usr/local/sbin:", 21) == 0);
        json_object_put(spec);
}

static void check_port(const char *text, const char *ip, int proto, int host, int host_end, int pod)
{
        struct netbridge_port p;
        char buf[INET_ADDRSTRLEN];

        CHECK(container_port_parse(text, &p, NULL) == 0);
        CHECK_STREQ(inet_ntop(AF_INET, &p.host_ip, buf, sizeof(buf)), ip);
        CHECK_EQ_INT((int)p.protocol, proto);
        CHECK_EQ_INT(p.host_port, host);
        CHECK_EQ_INT(p.host_port_end, host_end);
        CHECK_EQ_INT(p.pod_port, pod);
        CHECK(p.pod_ip.s_addr == 0);
}

static void test_ports(void)
{
        const char *bad[] = {"", "80", ":80", "80:", "0:80", "80:0", "65536:80", "a:80", "80:80/sctp",
                             "1.2.3:80:80", "80-79:80", "80-81:90", "80:90-92", "::80", "1-2000:1-2000"};
        const char *body = "{\"image\":\"x\",\"publish\":[\"8080:80\"],\"network\":\"bridge\"}";
        struct container_run r = {0};
        char *error = NULL;

        check_port("8080:80", "0.0.0.0", NETBRIDGE_TCP, 8080, 8080, 80);
        check_port("127.0.0.1:8080:80/tcp", "127.0.0.1", NETBRIDGE_TCP, 8080, 8080, 80);
        check_port("5353:53/udp", "0.0.0.0", NETBRIDGE_UDP, 5353, 5353, 53);
        check_port("10.0.0.1:9000-9002:7000-7002", "10.0.0.1", NETBRIDGE_TCP, 9000, 9002, 7000);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct netbridge_port p;

                CHECK_EQ_INT(container_port_parse(bad[i], &p, &error), -EINVAL);
                CHECK(error && strstr(error, "invalid published port"));
                free(error);
                error = NULL;
        }
        CHECK(container_run_parse(body, strlen(body), &r, NULL) == 0);
        CHECK_STREQ(r.publish[0], "8080:80");
        CHECK(!r.network_none);
        container_run_done(&r);
        body = "{\"image\":\"x\",\"network\":\"none\"}";
        CHECK(container_run_parse(body, strlen(body), &r, NULL) == 0);
        CHECK(r.network_none && !r.publish);
        container_run_done(&r);
        check_refused("{\"image\":\"x\",\"network\":\"host\"}", "\"network\" must be \"bridge\"");
        check_refused("{\"image\":\"x\",\"network\":\"none\",\"publish\":[\"1:1\"]}", "needs a network");
        check_refused("{\"image\":\"x\",\"publish\":[\"80\"]}", "invalid published port \"80\"");
        check_refused("{\"image\":\"x\",\"publish\":\"80:80\"}", "\"publish\" must be an array");
}

static void test_spec_netns(void)
{
        struct image_config ic = {0};
        char *cmd[] = {"sh", NULL};
        struct container_run r = {.image = "busybox", .cmd = cmd};
        struct container_spec_input in = {.image = &ic, .run = &r, .id = "0123456789abcdef", .rootfs = "/x",
                                          .netns = "/run/hyper/netns/0123"};
        struct json_object *spec = NULL, *nss, *e;
        size_t found = 0;

        CHECK(container_spec(&in, &spec, NULL) == 0);
        nss = json_object_object_get(json_object_object_get(spec, "linux"), "namespaces");
        for (size_t i = 0; i < json_object_array_length(nss); i++) {
                e = json_object_array_get_idx(nss, i);
                if (strcmp(json_object_get_string(json_object_object_get(e, "type")), "network") != 0)
                        continue;
                CHECK_STREQ(json_object_get_string(json_object_object_get(e, "path")), "/run/hyper/netns/0123");
                found++;
        }
        CHECK_EQ_INT((int)found, 1);
        json_object_put(spec);
}

/* "network": "bridge:NAME" / "tap:NAME" with "ip" and "gateway"; what runv is told in the annotations. */
static void test_user_network(void)
{
        const char *body = "{\"image\":\"x\",\"cmd\":[\"sh\"],\"network\":\"bridge:br-lan\","
                           "\"ip\":\"192.168.5.10/24\",\"gateway\":\"192.168.5.1\"}";
        struct image_config ic = {0};
        struct container_run r = {0};
        struct container_spec_input in = {.image = &ic, .run = &r, .id = "0123456789abcdef", .rootfs = "/x"};
        struct json_object *spec = NULL, *a;
        struct in_addr addr;
        unsigned prefix;

        CHECK(container_run_parse(body, strlen(body), &r, NULL) == 0);
        CHECK_STREQ(r.bridge, "br-lan");
        CHECK(!r.tap && !r.network_none);
        CHECK_STREQ(r.ip, "192.168.5.10/24");
        CHECK_STREQ(r.gateway, "192.168.5.1");
        CHECK(container_spec(&in, &spec, NULL) == 0);
        a = json_object_object_get(spec, "annotations");
        CHECK_STREQ(json_object_get_string(json_object_object_get(a, "io.hyper.network.unaddressed")), "true");
        CHECK(!json_object_object_get(a, "io.hyper.network.tap"));
        json_object_put(spec);
        container_run_done(&r);

        body = "{\"image\":\"x\",\"cmd\":[\"sh\"],\"network\":\"tap:tap0\",\"ip\":\"10.1.2.3/8\"}";
        CHECK(container_run_parse(body, strlen(body), &r, NULL) == 0);
        CHECK_STREQ(r.tap, "tap0");
        CHECK(!r.bridge && !r.gateway);
        CHECK(container_spec(&in, &spec, NULL) == 0);
        a = json_object_object_get(spec, "annotations");
        CHECK_STREQ(json_object_get_string(json_object_object_get(a, "io.hyper.network.tap")), "tap0");
        CHECK_STREQ(json_object_get_string(json_object_object_get(a, "io.hyper.network.tap.address")), "10.1.2.3/8");
        CHECK(!json_object_object_get(a, "io.hyper.network.tap.gateway"));
        CHECK(!json_object_object_get(a, "io.hyper.network.unaddressed"));
        json_object_put(spec);
        container_run_done(&r);

        CHECK(container_cidr_parse("10.0.0.1/32", &addr, &prefix) == 0 && prefix == 32);
        CHECK(container_cidr_parse("10.0.0.1", &addr, &prefix) < 0);
        CHECK(container_cidr_parse("10.0.0.1/0", &addr, &prefix) < 0);
        CHECK(container_cidr_parse("10.0.0.1/33", &addr, &prefix) < 0);
        CHECK(container_cidr_parse("fd00::1/64", &addr, &prefix) < 0);
        CHECK(container_cidr_parse("10.0.0.1/24x", &addr, &prefix) < 0);
        check_refused("{\"image\":\"x\",\"network\":\"bridge:\"}", "invalid bridge name \"\"");
        check_refused("{\"image\":\"x\",\"network\":\"bridge:ip=10.0.0.1\"}", "invalid bridge name");
        check_refused("{\"image\":\"x\",\"network\":\"tap:a-name-too-long-for-linux\"}", "invalid tap name");
        check_refused("{\"image\":\"x\",\"network\":\"tap:..\"}", "invalid tap name");
        check_refused("{\"image\":\"x\",\"network\":\"bridge:b\",\"publish\":[\"80:80\"]}",
                      "\"publish\" is only for hyperd's own bridge");
        check_refused("{\"image\":\"x\",\"ip\":\"10.0.0.2/24\"}", "\"ip\" is only for");
        check_refused("{\"image\":\"x\",\"network\":\"none\",\"gateway\":\"10.0.0.1\"}", "\"gateway\" is only for");
        check_refused("{\"image\":\"x\",\"network\":\"tap:t\",\"gateway\":\"10.0.0.1\"}", "\"gateway\" needs \"ip\"");
        check_refused("{\"image\":\"x\",\"network\":\"tap:t\",\"ip\":\"10.0.0.2\"}", "with its prefix length");
        check_refused("{\"image\":\"x\",\"network\":\"tap:t\",\"ip\":\"10.0.0.2/24\",\"gateway\":\"10.0.1.1\"}",
                      "not another address in 10.0.0.2/24's subnet");
        check_refused("{\"image\":\"x\",\"network\":\"tap:t\",\"ip\":\"10.0.0.2/24\",\"gateway\":\"10.0.0.2\"}",
                      "not another address");
        check_refused("{\"image\":\"x\",\"network\":\"tap:t\",\"ip\":\"10.0.0.2/24\",\"gateway\":\"gw\"}",
                      "invalid \"gateway\" \"gw\"");
        check_refused("{\"image\":\"x\",\"network\":\"macvlan:x\"}", "\"tap:NAME\" (a tap of yours)");
}

static void test_dns(void)
{
        const char *body = "{\"image\":\"b\",\"dns\":[\"192.0.2.53\",\"2001:db8::1\"],\"add_host\":[\"db:192.0.2.7\"]}";
        const char *host = "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch example.com\noptions ndots:2\n";
        struct container_run r = {0};
        char *t;

        CHECK(container_run_parse(body, strlen(body), &r, NULL) == 0);
        CHECK_STREQ(r.dns[1], "2001:db8::1");
        t = container_resolv(&r, host);
        CHECK_STREQ(t, "search example.com\noptions ndots:2\nnameserver 192.0.2.53\nnameserver 2001:db8::1\n");
        free(t);
        r.name = strdup("web");
        t = container_hosts(&r, "0123456789ab", "10.0.0.5");
        CHECK(strstr(t, "127.0.0.1\tlocalhost\n") && strstr(t, "10.0.0.5\t0123456789ab web\n") &&
              strstr(t, "192.0.2.7\tdb\n"));
        free(t);
        container_run_done(&r);
        t = container_resolv(&r, host);
        CHECK_STREQ(t, "search example.com\noptions ndots:2\nnameserver 10.0.0.1\n");
        free(t);
        t = container_hosts(&r, "0123456789ab", NULL);
        CHECK(!strstr(t, "0123456789ab"));
        free(t);
        check_refused("{\"image\":\"b\",\"dns\":[\"8.8.8\"]}", "invalid \"dns\" entry \"8.8.8\"");
        check_refused("{\"image\":\"b\",\"add_host\":[\"db\"]}", "invalid \"add_host\" entry \"db\"");
        check_refused("{\"image\":\"b\",\"add_host\":[\"db:x\"]}", "invalid \"add_host\"");
        check_refused("{\"image\":\"b\",\"add_host\":[\":1.2.3.4\"]}", "invalid \"add_host\"");
}

static void test_spec_etc(void)
{
        struct image_config ic = {0};
        char *cmd[] = {"sh", NULL};
        struct container_run r = {.image = "busybox", .cmd = cmd};
        struct container_spec_input in = {.image = &ic, .run = &r, .id = "0123456789abcdef", .rootfs = "/x",
                                          .etc = "/b"};
        struct json_object *spec = NULL, *mounts, *m;
        size_t n;

        CHECK(container_spec(&in, &spec, NULL) == 0);
        mounts = json_object_object_get(spec, "mounts");
        n = json_object_array_length(mounts);
        CHECK(n >= 3);
        m = json_object_array_get_idx(mounts, n - 2);
        CHECK_STREQ(json_object_get_string(json_object_object_get(m, "destination")), "/etc/resolv.conf");
        CHECK_STREQ(json_object_get_string(json_object_object_get(m, "source")), "/b/resolv.conf");
        CHECK_STREQ(json_object_get_string(json_object_object_get(m, "type")), "bind");
        CHECK_STREQ(json_object_get_string(json_object_array_get_idx(json_object_object_get(m, "options"), 1)), "ro");
        json_object_put(spec);
}

int main(void)
{
        char cmd[300];

        test_parse();
        test_limits();
        test_args();
        test_user();
        test_spec();
        test_ports();
        test_spec_netns();
        test_user_network();
        test_dns();
        test_spec_etc();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
        printf("ok\n");
        return 0;
}
