/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tapnet in a netns of its own: a forked child unshares its network
 * namespace, builds a veth pair the way CNI would (eth0 carries the
 * container's address and routes, peer0 stands in for the host's side),
 * and checks that tapnet finds them, plumbs a tap that really carries
 * frames both ways, undoes a half-done setup and leaves nothing behind.
 * The netns dies with the child, so the host keeps nothing either way.
 * Needs root; skips (77) without it or without network namespaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tapnet.h"
#include "test.h"

#define ETH0_MAC       "02:11:22:33:44:55"
#define TEST_ETHERTYPE 0x88b5 /* IEEE's "local experimental" */

static void sh(const char *cmd)
{
        int r = system(cmd);

        if (r != 0)
                fprintf(stderr, "command failed (%d): %s\n", r, cmd);
        CHECK(r == 0);
}

/* True when the command's output contains needle. */
static bool sh_output_has(const char *cmd, const char *needle)
{
        char buf[8192];
        size_t n;
        FILE *f = popen(cmd, "r");

        CHECK(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        pclose(f);
        return strstr(buf, needle) != NULL;
}

static int link_index(const char *name)
{
        struct nl_sock *sock = nl_socket_alloc();
        struct rtnl_link *link = NULL;
        int ifindex = 0;

        CHECK(sock && nl_connect(sock, NETLINK_ROUTE) == 0);
        if (rtnl_link_get_kernel(sock, 0, name, &link) == 0) {
                ifindex = rtnl_link_get_ifindex(link);
                rtnl_link_put(link);
        }
        nl_socket_free(sock);
        return ifindex;
}

static bool link_up(const char *name)
{
        struct nl_sock *sock = nl_socket_alloc();
        struct rtnl_link *link = NULL;
        bool up;

        CHECK(sock && nl_connect(sock, NETLINK_ROUTE) == 0);
        CHECK_EQ_INT(rtnl_link_get_kernel(sock, 0, name, &link), 0);
        up = rtnl_link_get_flags(link) & IFF_UP;
        rtnl_link_put(link);
        nl_socket_free(sock);
        return up;
}

static void check_link(const char *name, unsigned mtu)
{
        struct nl_sock *sock = nl_socket_alloc();
        struct rtnl_link *link = NULL;

        CHECK(sock && nl_connect(sock, NETLINK_ROUTE) == 0);
        CHECK_EQ_INT(rtnl_link_get_kernel(sock, 0, name, &link), 0);
        CHECK_EQ_INT(rtnl_link_get_mtu(link), mtu);
        CHECK(rtnl_link_get_flags(link) & IFF_UP);
        rtnl_link_put(link);
        nl_socket_free(sock);
}

static void make_netns_links(void)
{
        sh("ip link set lo up");
        sh("ip link add eth0 type veth peer name peer0");
        sh("ip link set eth0 address " ETH0_MAC " mtu 1400 up");
        sh("ip link set peer0 mtu 1400 up");
        sh("ip addr add 10.99.0.2/24 dev eth0");
        sh("ip addr add fd99::2/64 dev eth0 nodad");
        sh("ip route add default via 10.99.0.1");
        sh("ip route add 10.50.0.0/16 via 10.99.0.1");
        sh("ip route add 10.60.0.0/16 dev eth0");
        sh("ip -6 route add default via fd99::1");
}

/* A second veth whose ingress qdisc exists already: setup must fail and undo eth0. */
static void test_rollback(void)
{
        struct tapnet *t = NULL;
        char *error = NULL;

        sh("ip link add eth1 type veth peer name peer1");
        sh("ip link set eth1 up && ip link set peer1 up");
        sh("ip addr add 10.98.0.2/24 dev eth1");
        sh("tc qdisc add dev eth1 ingress");
        CHECK_EQ_INT(tapnet_setup(&t, &error), -EBUSY);
        CHECK(!t);
        CHECK(error && strstr(error, "eth1"));
        fprintf(stderr, "expected failure: %s\n", error);
        free(error);
        CHECK_EQ_INT(link_index("tap_eth0"), 0);
        CHECK_EQ_INT(link_index("tap_eth1"), 0);
        CHECK(!sh_output_has("tc qdisc show dev eth0", "ingress"));
        /* The qdisc that was there before is not ours to remove. */
        CHECK(sh_output_has("tc qdisc show dev eth1", "ingress"));
        sh("ip link del eth1");
}

static void check_result(const struct tapnet *t)
{
        const struct tapnet_link *l = &t->links[0];
        static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

        CHECK_EQ_INT(t->n_links, 1);
        CHECK_STREQ(l->name, "eth0");
        CHECK_STREQ(l->tap, "tap_eth0");
        CHECK(memcmp(l->mac, mac, 6) == 0);
        CHECK_EQ_INT(l->mtu, 1400);
        CHECK_EQ_INT(l->n_addresses, 2);
        CHECK_STREQ(l->addresses[0], "10.99.0.2/24");
        CHECK_STREQ(l->addresses[1], "fd99::2/64");
        CHECK_EQ_INT(l->tap_ifindex, link_index("tap_eth0"));
        check_link("tap_eth0", 1400);
        /* libnl's socket must not leak into QEMU or the container. */
        CHECK(fcntl(nl_socket_get_fd(t->sock), F_GETFD) & FD_CLOEXEC);
}

static void check_json(const struct tapnet *t)
{
        json_object *o = tapnet_to_json(t);

        CHECK(o);
        /* Routes without a gateway first; the kernel's subnet routes left out. */
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "{\"interfaces\":[{\"mac\":\"" ETH0_MAC "\",\"name\":\"eth0\","
                    "\"addresses\":[\"10.99.0.2/24\",\"fd99::2/64\"],\"mtu\":1400}],"
                    "\"routes\":[{\"dest\":\"10.60.0.0/16\",\"device\":\"eth0\"},"
                    "{\"dest\":\"default\",\"gateway\":\"10.99.0.1\",\"device\":\"eth0\"},"
                    "{\"dest\":\"10.50.0.0/16\",\"gateway\":\"10.99.0.1\",\"device\":\"eth0\"},"
                    "{\"dest\":\"default\",\"gateway\":\"fd99::1\",\"device\":\"eth0\"}]}");
        json_object_put(o);
}

static void check_filters(void)
{
        CHECK(sh_output_has("tc qdisc show dev eth0", "ingress"));
        CHECK(sh_output_has("tc qdisc show dev tap_eth0", "ingress"));
        CHECK(sh_output_has("tc filter show dev eth0 ingress", "mirred (Egress Redirect to device tap_eth0)"));
        CHECK(sh_output_has("tc filter show dev tap_eth0 ingress", "mirred (Egress Redirect to device eth0)"));
}

/* Attaches to the persistent tap by name, as QEMU's ifname= does. */
static int tap_open(const char *name)
{
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

        CHECK(fd >= 0);
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        CHECK_EQ_INT(ioctl(fd, TUNSETIFF, &ifr), 0);
        return fd;
}

static int packet_open(const char *name)
{
        struct sockaddr_ll sa = {
                .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = link_index(name)};
        int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));

        CHECK(fd >= 0);
        CHECK_EQ_INT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

/* An Ethernet frame of the test's own type carrying text. */
static size_t frame_build(uint8_t *buf, const uint8_t dst[6], const char *text)
{
        static const uint8_t src[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
        size_t n = strlen(text);

        memcpy(buf, dst, 6);
        memcpy(buf + 6, src, 6);
        buf[12] = TEST_ETHERTYPE >> 8;
        buf[13] = TEST_ETHERTYPE & 0xff;
        memcpy(buf + 14, text, n);
        return 14 + n;
}

/* Reads frames from fd for up to two seconds until one carries text. */
static bool frame_wait(int fd, const char *text)
{
        size_t n = strlen(text);

        for (int tries = 0; tries < 200; tries++) {
                uint8_t buf[2048];
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ssize_t k;

                if (poll(&p, 1, 10) <= 0)
                        continue;
                k = read(fd, buf, sizeof(buf));
                if (k >= (ssize_t)(14 + n) && buf[12] == (TEST_ETHERTYPE >> 8) && buf[13] == (TEST_ETHERTYPE & 0xff) &&
                    memcmp(buf + 14, text, n) == 0)
                        return true;
        }
        return false;
}

/* peer0 -> eth0 -> (redirect) -> tap, and tap -> (redirect) -> eth0 -> peer0. */
static void check_traffic(void)
{
        static const uint8_t eth0_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
        static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        int tap = tap_open("tap_eth0"), peer = packet_open("peer0");
        uint8_t frame[128];
        size_t n;

        n = frame_build(frame, eth0_mac, "to the guest");
        CHECK_EQ_INT(send(peer, frame, n, 0), n);
        CHECK(frame_wait(tap, "to the guest"));
        n = frame_build(frame, broadcast, "from the guest");
        CHECK_EQ_INT(write(tap, frame, n), n);
        CHECK(frame_wait(peer, "from the guest"));
        close(peer);
        close(tap);
}

static void check_nics(const struct tapnet *t)
{
        struct vm_nic *nics = NULL;

        CHECK_EQ_INT(tapnet_vm_nics(t, &nics), 0);
        CHECK_STREQ(nics[0].tap, "tap_eth0");
        CHECK(memcmp(nics[0].mac, t->links[0].mac, 6) == 0);
        free(nics);
}

static void test_setup_teardown(void)
{
        struct tapnet *t = NULL;
        char *error = NULL;

        CHECK_EQ_INT(tapnet_setup(&t, &error), 0);
        CHECK(!error);
        check_result(t);
        check_json(t);
        check_nics(t);
        check_filters();
        check_traffic();
        tapnet_teardown(t);
        CHECK_EQ_INT(link_index("tap_eth0"), 0);
        CHECK(!sh_output_has("tc qdisc show dev eth0", "ingress"));
        CHECK(!sh_output_has("tc filter show dev eth0 ingress", "mirred"));
        /* The veth and its addresses are CNI's: they stay. */
        CHECK(link_index("eth0") > 0);
        CHECK(sh_output_has("ip addr show dev eth0", "10.99.0.2/24"));
}

/* A netns with no plumbable link gives an empty result, not an error. */
static void test_empty(void)
{
        struct tapnet *t = NULL;
        json_object *o;

        sh("ip addr flush dev eth0");
        CHECK_EQ_INT(tapnet_setup(&t, NULL), 0);
        CHECK_EQ_INT(t->n_links, 0);
        CHECK_EQ_INT(t->n_routes, 0);
        o = tapnet_to_json(t);
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "{\"interfaces\":[],\"routes\":[]}");
        json_object_put(o);
        tapnet_teardown(t);
        tapnet_teardown(NULL);
        tapnet_free(NULL);
}

/* With unaddressed, eth0 (its addresses flushed by test_empty) is plumbed all the same, with no address. */
static void test_unaddressed(void)
{
        struct tapnet *t = NULL;
        json_object *o;

        /* peer0, the "host's" end, would be plumbed too while it is up. */
        sh("ip link set peer0 down");
        CHECK_EQ_INT(tapnet_setup_links(&t, true, NULL), 0);
        CHECK_EQ_INT(t->n_links, 1);
        CHECK_STREQ(t->links[0].name, "eth0");
        CHECK_EQ_INT(t->links[0].n_addresses, 0);
        CHECK(link_index("tap_eth0") > 0);
        o = tapnet_to_json(t);
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "{\"interfaces\":[{\"mac\":\"" ETH0_MAC "\",\"name\":\"eth0\",\"addresses\":[],\"mtu\":1400}],"
                    "\"routes\":[{\"dest\":\"default\",\"gateway\":\"fd99::1\",\"device\":\"eth0\"}]}");
        json_object_put(o);
        tapnet_teardown(t);
        CHECK_EQ_INT(link_index("tap_eth0"), 0);
        sh("ip link set peer0 up");
}

/* A tap of the user's: used as it is (brought up), described to the guest, never deleted; others refused. */
static void test_user_tap(void)
{
        static const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
        struct tapnet *t = NULL;
        char *error = NULL;
        json_object *o;

        sh("ip tuntap add utap0 mode tap && ip link set utap0 mtu 1300");
        CHECK_EQ_INT(tapnet_open(&t, NULL), 0);
        CHECK_EQ_INT(t->n_links, 0);
        CHECK_EQ_INT(tapnet_add_user_tap(t, "nosuch0", mac, NULL, NULL, &error), -ENODEV);
        CHECK(error && strstr(error, "nosuch0"));
        free(error);
        error = NULL;
        CHECK_EQ_INT(tapnet_add_user_tap(t, "peer0", mac, NULL, NULL, &error), -EMEDIUMTYPE);
        CHECK(error && strstr(error, "peer0 is not a tap"));
        free(error);
        CHECK_EQ_INT(t->n_links, 0);
        CHECK_EQ_INT(tapnet_add_user_tap(t, "utap0", mac, "10.97.0.2/24", "10.97.0.1", NULL), 0);
        CHECK_EQ_INT(t->n_links, 1);
        CHECK(t->links[0].user_tap);
        check_link("utap0", 1300);
        o = tapnet_to_json(t);
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "{\"interfaces\":[{\"mac\":\"02:aa:bb:cc:dd:ee\",\"name\":\"eth0\",\"addresses\":[\"10.97.0.2/24\"],"
                    "\"mtu\":1300}],\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.97.0.1\",\"device\":\"eth0\"}]}");
        json_object_put(o);
        CHECK(t->links[0].user_tap_up);
        tapnet_teardown(t);
        /* Down again, as the user made it; there still. */
        CHECK(!link_up("utap0"));
        CHECK_EQ_INT(link_index("utap0") > 0, 1);
        CHECK(!sh_output_has("tc qdisc show dev utap0", "ingress"));
        /* Up before: left up. */
        sh("ip link set utap0 up");
        CHECK_EQ_INT(tapnet_open(&t, NULL), 0);
        CHECK_EQ_INT(tapnet_add_user_tap(t, "utap0", mac, NULL, NULL, NULL), 0);
        CHECK(!t->links[0].user_tap_up);
        tapnet_teardown(t);
        check_link("utap0", 1300);
        sh("ip link del utap0");
}

/* A tap another program holds is in use whether it is up or not (carrier shows only when up); refused, untouched. */
static void test_user_tap_busy(void)
{
        static const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
        struct tapnet *t = NULL;
        char *error = NULL;
        int fd;

        sh("ip tuntap add utap1 mode tap && ip tuntap add utap2 mode tap multi_queue");
        /* Persistent with nobody attached: free, and still there after the probe. */
        CHECK_EQ_INT(tapnet_tap_probe("utap1"), 0);
        CHECK(link_index("utap1") > 0);
        fd = tap_open("utap1");
        CHECK(!link_up("utap1"));
        CHECK_EQ_INT(tapnet_tap_probe("utap1"), -EBUSY);
        CHECK_EQ_INT(tapnet_open(&t, NULL), 0);
        CHECK_EQ_INT(tapnet_add_user_tap(t, "utap1", mac, NULL, NULL, &error), -EBUSY);
        CHECK(error && strstr(error, "the tap utap1 is in use"));
        free(error);
        error = NULL;
        CHECK_EQ_INT(t->n_links, 0);
        CHECK(!link_up("utap1"));
        /* Up and held: the same. */
        sh("ip link set utap1 up");
        CHECK_EQ_INT(tapnet_tap_probe("utap1"), -EBUSY);
        close(fd);
        CHECK_EQ_INT(tapnet_tap_probe("utap1"), 0);
        /* multi_queue: QEMU's single-queue open would be refused. */
        CHECK_EQ_INT(tapnet_tap_probe("utap2"), -EINVAL);
        CHECK_EQ_INT(tapnet_add_user_tap(t, "utap2", mac, NULL, NULL, &error), -EMEDIUMTYPE);
        CHECK(error && strstr(error, "utap2 is multi_queue"));
        free(error);
        CHECK(!link_up("utap2"));
        tapnet_teardown(t);
        CHECK(link_up("utap1"));
        sh("ip link del utap1 && ip link del utap2");
}

static int child(void)
{
        if (unshare(CLONE_NEWNET) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWNET): %s: skipping\n", strerror(errno));
                return 77;
        }
        if (access("/dev/net/tun", R_OK | W_OK) < 0) {
                fprintf(stderr, "/dev/net/tun: %s: skipping\n", strerror(errno));
                return 77;
        }
        make_netns_links();
        RUN_TEST(test_rollback);
        RUN_TEST(test_setup_teardown);
        RUN_TEST(test_empty);
        RUN_TEST(test_unaddressed);
        RUN_TEST(test_user_tap);
        RUN_TEST(test_user_tap_busy);
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
