/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netbridge in a network namespace of its own: a forked child unshares
 * its netns (and keeps the state in a temporary folder), so nothing of
 * the machine is touched. It makes the bridge, gives fifty pods
 * addresses, taps and published ports, reopens the state and finds them
 * again, proves with real connections that DNAT reaches a pod (TCP and
 * UDP, from the host by the gateway's address and by 127.0.0.1, and from
 * an outside netns by a host address) and that a pod's own connections
 * leave masqueraded, then removes everything and checks with nft and ip
 * that nothing is left. Needs root; skips (77) without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netbridge.h"
#include "test.h"

#define N_PODS 50

static char state_dir[] = "/tmp/test-netbridge.XXXXXX";

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
        char cmd[1024];
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        r = system(cmd);
        if (r != 0)
                fprintf(stderr, "command failed (%d): %s\n", r, cmd);
        CHECK(r == 0);
}

/* The command's stdout parsed as JSON; NULL when it printed nothing (or failed). */
static json_object *sh_json(const char *cmd)
{
        static char buf[1 << 20];
        FILE *f = popen(cmd, "r");
        size_t n;

        CHECK(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        pclose(f);
        return n ? json_tokener_parse(buf) : NULL;
}

/* Rules of chain "ports" (those tagged with prefix, when given); -1 when the table is gone. */
static int count_port_rules(const char *prefix)
{
        json_object *o = sh_json("nft -j list chain ip hyper ports 2>/dev/null"), *items, *rule, *c;
        int n = 0;

        if (!o)
                return -1;
        CHECK(json_object_object_get_ex(o, "nftables", &items));
        for (size_t i = 0; i < json_object_array_length(items); i++) {
                if (!json_object_object_get_ex(json_object_array_get_idx(items, i), "rule", &rule))
                        continue;
                if (!prefix || (json_object_object_get_ex(rule, "comment", &c) &&
                                strncmp(json_object_get_string(c), prefix, strlen(prefix)) == 0))
                        n++;
        }
        json_object_put(o);
        return n;
}

static int count_bridge_ports(void)
{
        json_object *o = sh_json("ip -j link show master hyper0 2>/dev/null");
        int n = o ? (int)json_object_array_length(o) : 0;

        json_object_put(o);
        return n;
}

static bool link_exists(const char *name)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "ip link show %s >/dev/null 2>&1", name);
        return system(cmd) == 0;
}

static void check_file(const char *path, const char *want)
{
        char buf[64] = "";
        FILE *f = fopen(path, "re");

        CHECK(f);
        CHECK(fgets(buf, sizeof(buf), f));
        fclose(f);
        CHECK_EQ_INT(strncmp(buf, want, strlen(want)), 0);
}

static struct netbridge *open_bridge(void)
{
        struct netbridge_config cfg = {.state_dir = state_dir};
        struct netbridge *b = NULL;
        char *error = NULL;
        int r = netbridge_ensure(&cfg, &b, &error);

        if (r < 0)
                fprintf(stderr, "netbridge_ensure: %s\n", error ?: "(no message)");
        CHECK_EQ_INT(r, 0);
        CHECK(!error);
        return b;
}

static void pod_name(int i, char buf[16])
{
        snprintf(buf, 16, "pod%d", i);
}

static void test_config_errors(void)
{
        struct netbridge_config cfg = {.state_dir = state_dir, .subnet = "10.47.0.1/16"};
        struct netbridge *b = NULL;
        char *error = NULL;

        CHECK_EQ_INT(netbridge_ensure(&cfg, &b, &error), -EINVAL);
        CHECK(error && strstr(error, "10.47.0.1/16"));
        free(error);
        cfg = (struct netbridge_config){.state_dir = state_dir, .name = "bad name"};
        CHECK_EQ_INT(netbridge_ensure(&cfg, &b, &error), -EINVAL);
        CHECK(error && strstr(error, "bad name"));
        free(error);
        CHECK(!b);
}

static void test_ensure(void)
{
        struct netbridge *b = open_bridge();
        json_object *o, *a, *v;

        netbridge_free(b);
        b = open_bridge(); /* twice: idempotent */
        CHECK_STREQ(netbridge_table(b), "hyper");
        o = sh_json("ip -j addr show dev hyper0");
        CHECK(o && json_object_array_length(o) == 1);
        CHECK(json_object_object_get_ex(json_object_array_get_idx(o, 0), "addr_info", &a));
        CHECK_EQ_INT(json_object_array_length(a), 1);
        CHECK(json_object_object_get_ex(json_object_array_get_idx(a, 0), "local", &v));
        CHECK_STREQ(json_object_get_string(v), "10.47.0.1");
        CHECK(json_object_object_get_ex(json_object_array_get_idx(a, 0), "prefixlen", &v));
        CHECK_EQ_INT(json_object_get_int(v), 16);
        json_object_put(o);
        check_file("/proc/sys/net/ipv4/ip_forward", "1");
        check_file("/proc/sys/net/ipv4/conf/hyper0/route_localnet", "1");
        /* The base chains hold their rules once, however often ensure runs. */
        o = sh_json("nft -j list chain ip hyper postrouting");
        CHECK(o && json_object_object_get_ex(o, "nftables", &a));
        CHECK_EQ_INT(json_object_array_length(a), 2 + 3); /* metainfo, chain, three rules */
        json_object_put(o);
        CHECK_EQ_INT(count_port_rules(NULL), 0);
        netbridge_free(b);
}

static void add_pod(struct netbridge *b, int i, struct in_addr *ret)
{
        struct netbridge_port p = {.protocol = NETBRIDGE_TCP, .host_port = 20000 + i, .pod_port = 80};
        char id[16], *tap = NULL, *error = NULL;
        uint8_t mac[6];
        int r;

        pod_name(i, id);
        CHECK_EQ_INT(netbridge_ip_alloc(b, id, ret, &error), 0);
        r = netbridge_tap_add(b, id, 0, 1400, &tap, mac, &error);
        if (r < 0)
                fprintf(stderr, "tap_add: %s\n", error);
        CHECK_EQ_INT(r, 0);
        CHECK(strlen(tap) <= 15 && strncmp(tap, "hy", 2) == 0);
        CHECK_EQ_INT(mac[0], 0x02);
        CHECK(link_exists(tap));
        free(tap);
        r = netbridge_port_add(b, id, &p, &error);
        if (r < 0)
                fprintf(stderr, "port_add: %s\n", error);
        CHECK_EQ_INT(r, 0);
}

static void test_fifty_pods(struct in_addr addrs[N_PODS])
{
        struct netbridge *b = open_bridge();
        struct in_addr again;
        char id[16], *error = NULL;

        for (int i = 0; i < N_PODS; i++) {
                add_pod(b, i, &addrs[i]);
                for (int j = 0; j < i; j++)
                        CHECK(addrs[i].s_addr != addrs[j].s_addr);
                CHECK_EQ_INT(ntohl(addrs[i].s_addr) >> 16, (10u << 8) | 47u);
                CHECK(ntohl(addrs[i].s_addr) != ntohl(netbridge_gateway(b).s_addr));
        }
        CHECK_EQ_INT(count_bridge_ports(), N_PODS);
        CHECK_EQ_INT(count_port_rules("hyper:"), N_PODS);
        CHECK_EQ_INT(count_port_rules("hyper:pod7:"), 1);
        netbridge_free(b);

        /* Reopened (a restarted hyperd): every pod keeps its address. */
        b = open_bridge();
        for (int i = 0; i < N_PODS; i++) {
                pod_name(i, id);
                CHECK_EQ_INT(netbridge_ip_alloc(b, id, &again, &error), 0);
                CHECK_EQ_INT(again.s_addr, addrs[i].s_addr);
        }
        CHECK_EQ_INT(count_bridge_ports(), N_PODS);
        netbridge_free(b);
}

static void test_state_file(const struct in_addr addrs[N_PODS])
{
        char path[256];
        json_object *o, *pods, *pod, *v;

        snprintf(path, sizeof(path), "%s/hyper0.json", state_dir);
        o = json_object_from_file(path);
        CHECK(o && json_object_object_get_ex(o, "pods", &pods));
        CHECK_EQ_INT(json_object_object_length(pods), N_PODS);
        CHECK(json_object_object_get_ex(pods, "pod3", &pod));
        CHECK(json_object_object_get_ex(pod, "address", &v));
        CHECK_STREQ(json_object_get_string(v), inet_ntoa(addrs[3]));
        json_object_put(o);
}

static void test_ports(void)
{
        struct netbridge *b = open_bridge();
        struct netbridge_port p = {.protocol = NETBRIDGE_TCP, .host_port = 20003, .pod_port = 80};
        char *error = NULL;

        /* Published by pod3 already: refused, and the message says by whom. */
        CHECK_EQ_INT(netbridge_port_add(b, "pod1", &p, &error), -EADDRINUSE);
        CHECK(error && strstr(error, "pod3"));
        free(error);
        /* A range over it, or on one address while pod3 has them all, too. */
        p = (struct netbridge_port){
                .protocol = NETBRIDGE_TCP, .host_port = 19990, .host_port_end = 20010, .pod_port = 1};
        CHECK_EQ_INT(netbridge_port_add(b, "pod1", &p, &error), -EADDRINUSE);
        free(error);
        p = (struct netbridge_port){.protocol = NETBRIDGE_TCP, .host_port = 20003, .pod_port = 80};
        inet_pton(AF_INET, "10.47.0.1", &p.host_ip);
        CHECK_EQ_INT(netbridge_port_add(b, "pod1", &p, &error), -EADDRINUSE);
        free(error);
        /* The same again by its owner is fine; UDP on the same number is another port. */
        p.host_ip.s_addr = INADDR_ANY;
        CHECK_EQ_INT(netbridge_port_add(b, "pod3", &p, NULL), 0);
        CHECK_EQ_INT(count_port_rules("hyper:pod3:"), 1);
        p.protocol = NETBRIDGE_UDP;
        CHECK_EQ_INT(netbridge_port_add(b, "pod1", &p, NULL), 0);
        /* A range: one rule per port, removed together. */
        p = (struct netbridge_port){
                .protocol = NETBRIDGE_TCP, .host_port = 30000, .host_port_end = 30009, .pod_port = 8000};
        CHECK_EQ_INT(netbridge_port_add(b, "pod1", &p, NULL), 0);
        CHECK_EQ_INT(count_port_rules("hyper:pod1:"), 1 + 1 + 10);
        CHECK_EQ_INT(netbridge_port_del(b, "pod1", &p, NULL), 0);
        p = (struct netbridge_port){.protocol = NETBRIDGE_UDP, .host_port = 20003};
        CHECK_EQ_INT(netbridge_port_del(b, "pod1", &p, NULL), 0);
        CHECK_EQ_INT(netbridge_port_del(b, "pod1", &p, &error), -ENOENT);
        free(error);
        CHECK_EQ_INT(count_port_rules("hyper:pod1:"), 1);
        /* Hostile input. */
        p = (struct netbridge_port){.protocol = NETBRIDGE_TCP, .host_port = 1, .host_port_end = 2000, .pod_port = 1};
        CHECK_EQ_INT(netbridge_port_add(b, "pod1", &p, &error), -EINVAL);
        free(error);
        CHECK_EQ_INT(netbridge_port_add(b, "Pod\"; flush ruleset", &p, &error), -EINVAL);
        free(error);
        netbridge_free(b);
}

static void test_json(const struct in_addr addrs[N_PODS])
{
        struct netbridge *b = open_bridge();
        json_object *o = NULL, *ifs, *iface, *v;
        char *error = NULL;

        CHECK_EQ_INT(netbridge_pod_to_json(b, "pod0", &o, NULL), 0);
        CHECK(json_object_object_get_ex(o, "interfaces", &ifs) && json_object_array_length(ifs) == 1);
        iface = json_object_array_get_idx(ifs, 0);
        CHECK(json_object_object_get_ex(iface, "mac", &v) && strncmp(json_object_get_string(v), "02:", 3) == 0);
        json_object_object_del(iface, "mac");
        /* The first address handed out, the tap's MTU, the gateway. */
        CHECK_EQ_INT(addrs[0].s_addr, htonl(0x0a2f0002));
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "{\"interfaces\":[{\"name\":\"eth0\",\"addresses\":[\"10.47.0.2/16\"],\"mtu\":1400}],"
                    "\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.47.0.1\",\"device\":\"eth0\"}]}");
        json_object_put(o);
        CHECK_EQ_INT(netbridge_pod_to_json(b, "nosuchpod", &o, &error), -ENOENT);
        free(error);
        netbridge_free(b);
}

/* A process in a netns of its own, driven over two pipes. */
struct peer {
        pid_t pid;
        int cmd; /* ours to write */
        int res; /* ours to read */
};

static void reply(int fd, const char *s)
{
        CHECK_EQ_INT(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static int listen_on(int type, uint16_t port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

        CHECK(fd >= 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        CHECK_EQ_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        if (type == SOCK_STREAM)
                CHECK_EQ_INT(listen(fd, 16), 0);
        return fd;
}

/* Connects (or for UDP sends "?") and returns what came back, in buf. */
static void exchange(int type, const char *addr, uint16_t port, char *buf, size_t size)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct timeval tv = {.tv_sec = 3};
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        ssize_t n = -1;

        CHECK(fd >= 0);
        CHECK_EQ_INT(inet_pton(AF_INET, addr, &a.sin_addr), 1);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && (type == SOCK_STREAM || write(fd, "?", 1) == 1))
                n = read(fd, buf, size - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
}

/* Answers "hello" on TCP and UDP at port, and peer addresses on TCP 9000 (the outside). */
static void serve(struct peer *p, uint16_t tcp_port, bool tell_peer)
{
        int tcp = listen_on(SOCK_STREAM, tcp_port), udp = listen_on(SOCK_DGRAM, 53);
        struct pollfd fds[] = {{p->cmd, POLLIN, 0}, {tcp, POLLIN, 0}, {udp, POLLIN, 0}};
        char buf[64], cmd;

        reply(p->res, "r");
        for (;;) {
                CHECK(poll(fds, 3, -1) > 0);
                if (fds[1].revents) {
                        struct sockaddr_in a;
                        socklen_t len = sizeof(a);
                        int c = accept4(tcp, (struct sockaddr *)&a, &len, SOCK_CLOEXEC);
                        const char *s = tell_peer ? inet_ntoa(a.sin_addr) : "hello";

                        CHECK(c >= 0);
                        CHECK_EQ_INT(write(c, s, strlen(s)), (ssize_t)strlen(s));
                        close(c);
                }
                if (fds[2].revents) {
                        struct sockaddr_in a;
                        socklen_t len = sizeof(a);

                        if (recvfrom(udp, buf, sizeof(buf), 0, (struct sockaddr *)&a, &len) > 0)
                                (void)sendto(udp, "hello", 5, 0, (struct sockaddr *)&a, len);
                }
                if (fds[0].revents) {
                        if (read(p->cmd, &cmd, 1) != 1)
                                _exit(0);
                        /* "o": reach the outside's peer-address server; "p": the published port from outside. */
                        exchange(SOCK_STREAM, cmd == 'o' ? "192.0.2.2" : "192.0.2.1", cmd == 'o' ? 9000 : 8080, buf,
                                 sizeof(buf));
                        reply(p->res, buf[0] ? buf : "-");
                }
        }
}

static struct peer peer_start(uint16_t tcp_port, bool tell_peer)
{
        int cmd[2], res[2];
        struct peer p;
        char c;

        CHECK_EQ_INT(pipe2(cmd, O_CLOEXEC), 0);
        CHECK_EQ_INT(pipe2(res, O_CLOEXEC), 0);
        p.pid = fork();
        CHECK(p.pid >= 0);
        if (p.pid == 0) {
                p.cmd = cmd[0];
                p.res = res[1];
                close(cmd[1]);
                close(res[0]);
                CHECK_EQ_INT(unshare(CLONE_NEWNET), 0);
                reply(p.res, "u");
                CHECK_EQ_INT(read(p.cmd, &c, 1), 1); /* configured */
                serve(&p, tcp_port, tell_peer);
        }
        close(cmd[0]);
        close(res[1]);
        p.cmd = cmd[1];
        p.res = res[0];
        CHECK_EQ_INT(read(p.res, &c, 1), 1);
        return p;
}

static void peer_go(struct peer *p)
{
        char c;

        reply(p->cmd, "g");
        CHECK_EQ_INT(read(p->res, &c, 1), 1);
        CHECK_EQ_INT(c, 'r');
}

static void peer_ask(struct peer *p, char cmd, char *buf, size_t size)
{
        ssize_t n;

        CHECK_EQ_INT(write(p->cmd, &cmd, 1), 1);
        n = read(p->res, buf, size - 1);
        CHECK(n > 0);
        buf[n] = '\0';
}

static void peer_stop(struct peer *p)
{
        int status;

        /* A peer started later holds our pipe too: closing it alone would not end this one. */
        CHECK_EQ_INT(kill(p->pid, SIGKILL), 0);
        close(p->cmd);
        close(p->res);
        CHECK_EQ_INT(waitpid(p->pid, &status, 0), p->pid);
}

/*
 * "web" stands in for a pod: a veth end on the bridge where its tap
 * would be, the other end in its netns with the pod's address. "ext" is
 * a machine outside, on a link whose host side has 192.0.2.1.
 */
static void test_traffic(void)
{
        struct netbridge *b = open_bridge();
        struct netbridge_port tcp = {.protocol = NETBRIDGE_TCP, .host_port = 8080, .pod_port = 80};
        struct netbridge_port udp = {.protocol = NETBRIDGE_UDP, .host_port = 5353, .pod_port = 53};
        struct peer web = peer_start(80, false), ext = peer_start(9000, true);
        struct in_addr addr;
        char buf[64], ip[INET_ADDRSTRLEN];

        CHECK_EQ_INT(netbridge_ip_alloc(b, "web", &addr, NULL), 0);
        inet_ntop(AF_INET, &addr, ip, sizeof(ip));
        sh("ip link add vweb type veth peer name eth0 netns %d && ip link set vweb master hyper0 up", web.pid);
        sh("nsenter -t %d -n sh -c 'ip link set lo up && ip addr add %s/16 dev eth0 && ip link set eth0 up && "
           "ip route add default via 10.47.0.1'",
           web.pid, ip);
        sh("ip link add vext type veth peer name eth0 netns %d && ip addr add 192.0.2.1/24 dev vext && "
           "ip link set vext up",
           ext.pid);
        sh("nsenter -t %d -n sh -c 'ip link set lo up && ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up'",
           ext.pid);
        peer_go(&web);
        peer_go(&ext);
        CHECK_EQ_INT(netbridge_port_add(b, "web", &tcp, NULL), 0);
        CHECK_EQ_INT(netbridge_port_add(b, "web", &udp, NULL), 0);

        exchange(SOCK_STREAM, "10.47.0.1", 8080, buf, sizeof(buf));
        CHECK_STREQ(buf, "hello");
        exchange(SOCK_STREAM, "127.0.0.1", 8080, buf, sizeof(buf));
        CHECK_STREQ(buf, "hello");
        exchange(SOCK_STREAM, "192.0.2.1", 8080, buf, sizeof(buf));
        CHECK_STREQ(buf, "hello");
        exchange(SOCK_DGRAM, "127.0.0.1", 5353, buf, sizeof(buf));
        CHECK_STREQ(buf, "hello");
        exchange(SOCK_DGRAM, "10.47.0.1", 5353, buf, sizeof(buf));
        CHECK_STREQ(buf, "hello");
        /* From outside, through prerouting and forwarding. */
        peer_ask(&ext, 'p', buf, sizeof(buf));
        CHECK_STREQ(buf, "hello");
        /* The pod's own connection out arrives from the host's address. */
        peer_ask(&web, 'o', buf, sizeof(buf));
        CHECK_STREQ(buf, "192.0.2.1");

        /* Removed: the port answers no more. */
        CHECK_EQ_INT(netbridge_pod_remove(b, "web", NULL), 0);
        CHECK_EQ_INT(count_port_rules("hyper:web:"), 0);
        exchange(SOCK_STREAM, "127.0.0.1", 8080, buf, sizeof(buf));
        CHECK_STREQ(buf, "");
        peer_stop(&web);
        peer_stop(&ext);
        sh("ip link del vext");
        /* It dies with web's netns, but that happens later, in the kernel's own time. */
        (void)!system("ip link del vweb 2>/dev/null");
        netbridge_free(b);
}

static void test_gc_and_remove(void)
{
        struct netbridge *b = open_bridge();
        const char *live[N_PODS / 2];
        char ids[N_PODS][16], *error = NULL;

        for (int i = 0; i < N_PODS; i++)
                pod_name(i, ids[i]);
        for (int i = 0; i < N_PODS / 2; i++)
                live[i] = ids[i];
        /* Leftovers the state does not know of: a rule and a tap of a dead pod. */
        sh("nft add rule ip hyper ports tcp dport 40000 dnat to 10.47.9.9:1 comment "
           "'\"hyper:ghost:tcp:0.0.0.0:40000-40000\"'");
        sh("ip tuntap add dev hy0123456789ab mode tap && ip link set hy0123456789ab master hyper0");
        CHECK_EQ_INT(netbridge_gc(b, live, N_PODS / 2, &error), 0);
        CHECK_EQ_INT(count_bridge_ports(), N_PODS / 2);
        CHECK_EQ_INT(count_port_rules("hyper:"), N_PODS / 2);
        CHECK(!link_exists("hy0123456789ab"));
        for (int i = 0; i < N_PODS / 2; i++)
                CHECK_EQ_INT(netbridge_pod_remove(b, ids[i], NULL), 0);
        CHECK_EQ_INT(netbridge_pod_remove(b, "pod0", NULL), 0); /* again: nothing to do */
        CHECK_EQ_INT(count_bridge_ports(), 0);
        CHECK_EQ_INT(count_port_rules(NULL), 0);
        CHECK(link_exists("hyper0"));
        json_object *o = json_object_from_file(netbridge_state_path(b)), *pods;
        CHECK(o && json_object_object_get_ex(o, "pods", &pods));
        CHECK_EQ_INT(json_object_object_length(pods), 0);
        json_object_put(o);
        netbridge_free(b);
}

static void test_destroy(void)
{
        struct netbridge *b = open_bridge();
        struct in_addr a;
        char path[256];

        CHECK_EQ_INT(netbridge_ip_alloc(b, "last", &a, NULL), 0);
        CHECK_EQ_INT(netbridge_destroy(b, NULL), 0);
        netbridge_free(b);
        CHECK(!link_exists("hyper0"));
        CHECK_EQ_INT(count_port_rules(NULL), -1);
        CHECK(!sh_json("nft -j list table ip hyper 2>/dev/null"));
        snprintf(path, sizeof(path), "%s/hyper0.json", state_dir);
        CHECK(access(path, F_OK) < 0 && errno == ENOENT);
        CHECK_EQ_INT(rmdir(state_dir), 0);
}

static int child(void)
{
        struct in_addr addrs[N_PODS];

        if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK | W_OK) < 0 ||
            system("nft list tables >/dev/null 2>&1") != 0) {
                fprintf(stderr, "no netns, /dev/net/tun or nftables: skipping\n");
                return 77;
        }
        sh("ip link set lo up");
        CHECK(mkdtemp(state_dir));
        RUN_TEST(test_config_errors);
        RUN_TEST(test_ensure);
        test_fifty_pods(addrs);
        test_state_file(addrs);
        RUN_TEST(test_ports);
        test_json(addrs);
        RUN_TEST(test_traffic);
        RUN_TEST(test_gc_and_remove);
        RUN_TEST(test_destroy);
        return 0;
}

int main(void)
{
        int status;
        pid_t pid;

        if (geteuid() != 0) {
                fprintf(stderr, "not root: skipping\n");
                return 77;
        }
        pid = fork();
        CHECK(pid >= 0);
        /* exit(), not _exit(): LeakSanitizer checks the child at its exit. */
        if (pid == 0)
                exit(child());
        CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
        return 1;
}
