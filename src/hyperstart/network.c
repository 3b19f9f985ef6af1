/* SPDX-License-Identifier: Apache-2.0 */
#include "network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define NETWORK_MAX_IFACES 16
#define NETWORK_MAX_ADDRS  16
#define NETWORK_MAX_ROUTES 64
/* A hot-plugged nic takes a moment to probe; QEMU's device_add returns before the guest sees it. */
#define NETWORK_WAIT_MS 3000
#define NETWORK_POLL_MS 50

struct net_addr {
        int family;
        uint8_t bytes[16];
        uint8_t prefix;
};

struct net_iface {
        const char *mac_text;
        uint8_t mac[6];
        const char *name;
        uint32_t mtu; /* 0: leave it */
        struct net_addr addrs[NETWORK_MAX_ADDRS];
        size_t n_addrs;
};

struct net_route {
        const char *dest_text;
        struct net_addr dst; /* prefix 0: the default route */
        struct net_addr gw;  /* family 0: none */
        const char *device;  /* NULL: the kernel picks it from the gateway */
};

struct net_spec {
        struct net_iface ifaces[NETWORK_MAX_IFACES];
        size_t n_ifaces;
        struct net_route routes[NETWORK_MAX_ROUTES];
        size_t n_routes;
};

static int network_parse_mac(const char *s, uint8_t mac[6])
{
        for (int i = 0; i < 6; i++) {
                char *end;
                unsigned long v;

                if (!strchr("0123456789abcdefABCDEF", s[0]) || !s[0] || !strchr("0123456789abcdefABCDEF", s[1]) ||
                    !s[1])
                        return -EINVAL;
                v = strtoul(s, &end, 16);
                if (end != s + 2 || *end != (i == 5 ? '\0' : ':'))
                        return -EINVAL;
                mac[i] = (uint8_t)v;
                s = end + (i < 5);
        }
        return 0;
}

static int network_parse_ip(const char *s, struct net_addr *a)
{
        if (inet_pton(AF_INET, s, a->bytes) == 1)
                a->family = AF_INET;
        else if (inet_pton(AF_INET6, s, a->bytes) == 1)
                a->family = AF_INET6;
        else
                return -EINVAL;
        a->prefix = a->family == AF_INET ? 32 : 128;
        return 0;
}

/* "address/prefix"; the prefix is required, as for "ip addr add" it would silently be /32. */
static int network_parse_cidr(const char *s, struct net_addr *a)
{
        char ip[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        char *end;
        unsigned long prefix;

        if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1] || !strchr("0123456789", slash[1]))
                return -EINVAL;
        memcpy(ip, s, (size_t)(slash - s));
        ip[slash - s] = '\0';
        if (network_parse_ip(ip, a) < 0)
                return -EINVAL;
        errno = 0;
        prefix = strtoul(slash + 1, &end, 10);
        if (*end || errno || prefix > a->prefix)
                return -EINVAL;
        a->prefix = (uint8_t)prefix;
        return 0;
}

static bool network_host_bits_clear(const struct net_addr *a)
{
        size_t len = a->family == AF_INET ? 4 : 16;

        for (size_t bit = a->prefix; bit < len * 8; bit++)
                if (a->bytes[bit / 8] & (0x80 >> (bit % 8)))
                        return false;
        return true;
}

/* The kernel's own rule for names (dev_valid_name), so a bad one fails here with a message. */
static bool network_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || *p == ' ' || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                        return false;
        return true;
}

static int network_parse_addrs(struct request *req, struct json_object *o, const char *where, struct net_iface *i)
{
        _cleanup_strv_free_ char **addrs = NULL;
        int r;

        r = body_object_strv(req, o, where, "addresses", false, NETWORK_MAX_ADDRS, &addrs);
        if (r < 0)
                return r;
        for (char **a = addrs; a && *a; a++) {
                if (network_parse_cidr(*a, &i->addrs[i->n_addrs]) < 0)
                        return request_fail(req, -EINVAL, "interface %s: address \"%s\" is not an address/prefix",
                                            i->name, *a);
                i->n_addrs++;
        }
        return 0;
}

static int network_parse_iface(struct request *req, struct json_object *o, size_t idx, struct net_iface *i)
{
        char where[48];
        int r;

        if (!json_object_is_type(o, json_type_object))
                return request_fail(req, -EINVAL, "interfaces[%zu] is not an object", idx);
        snprintf(where, sizeof(where), "interfaces[%zu]: ", idx);
        r = body_object_string(req, o, where, "mac", true, 32, &i->mac_text);
        if (r >= 0)
                r = body_object_string(req, o, where, "name", true, 64, &i->name);
        if (r >= 0)
                r = body_object_u32(req, o, where, "mtu", false, 65535, &i->mtu);
        if (r < 0)
                return r;
        if (!network_name_valid(i->name))
                return request_fail(req, -EINVAL, "interface name \"%s\" is not valid", i->name);
        if (network_parse_mac(i->mac_text, i->mac) < 0)
                return request_fail(req, -EINVAL, "interface %s: mac \"%s\" is not aa:bb:cc:dd:ee:ff", i->name,
                                    i->mac_text);
        if (i->mtu != 0 && i->mtu < 68)
                return request_fail(req, -ERANGE, "interface %s: mtu %u is below 68", i->name, i->mtu);
        return network_parse_addrs(req, o, where, i);
}

static int network_parse_route_fields(struct request *req, struct net_route *rt, const char *gateway)
{
        const char *d = rt->dest_text;

        if (strcmp(d, "default") == 0)
                rt->dst.family = 0; /* taken from the gateway below */
        else if (network_parse_cidr(d, &rt->dst) < 0)
                return request_fail(req, -EINVAL, "route %s: dest is not \"default\" or an address/prefix", d);
        else if (!network_host_bits_clear(&rt->dst))
                return request_fail(req, -EINVAL, "route %s: dest has bits set beyond its prefix", d);
        if (gateway && network_parse_ip(gateway, &rt->gw) < 0)
                return request_fail(req, -EINVAL, "route %s: gateway \"%s\" is not an address", d, gateway);
        if (!gateway && !rt->device)
                return request_fail(req, -EINVAL, "route %s: needs a gateway or a device", d);
        if (rt->device && !network_name_valid(rt->device))
                return request_fail(req, -EINVAL, "route %s: device name \"%s\" is not valid", d, rt->device);
        if (rt->dst.family == 0)
                rt->dst.family = gateway ? rt->gw.family : AF_INET;
        if (gateway && rt->gw.family != rt->dst.family)
                return request_fail(req, -EINVAL, "route %s: gateway %s is of another address family", d, gateway);
        return 0;
}

static int network_parse_route(struct request *req, struct json_object *o, size_t idx, struct net_route *rt)
{
        const char *gateway = NULL;
        char where[48];
        int r;

        if (!json_object_is_type(o, json_type_object))
                return request_fail(req, -EINVAL, "routes[%zu] is not an object", idx);
        snprintf(where, sizeof(where), "routes[%zu]: ", idx);
        r = body_object_string(req, o, where, "dest", true, 64, &rt->dest_text);
        if (r >= 0)
                r = body_object_string(req, o, where, "gateway", false, 64, &gateway);
        if (r >= 0)
                r = body_object_string(req, o, where, "device", false, 64, &rt->device);
        if (r < 0)
                return r;
        return network_parse_route_fields(req, rt, gateway);
}

static int network_parse(struct request *req, struct net_spec *spec)
{
        struct json_object *ifaces = NULL, *routes = NULL;
        int r;

        r = body_object_array(req, req->body, "", "interfaces", NETWORK_MAX_IFACES, &ifaces, &spec->n_ifaces);
        if (r >= 0)
                r = body_object_array(req, req->body, "", "routes", NETWORK_MAX_ROUTES, &routes, &spec->n_routes);
        for (size_t i = 0; r >= 0 && i < spec->n_ifaces; i++)
                r = network_parse_iface(req, json_object_array_get_idx(ifaces, i), i, &spec->ifaces[i]);
        for (size_t i = 0; r >= 0 && i < spec->n_routes; i++)
                r = network_parse_route(req, json_object_array_get_idx(routes, i), i, &spec->routes[i]);
        return r;
}

/* A netlink request: the header, the family's fixed part and attributes, built in place. */
struct nl_msg {
        union {
                struct nlmsghdr h;
                uint8_t buf[1024];
        };
};

static void *network_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags, size_t fixed)
{
        memset(m, 0, sizeof(*m));
        m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed);
        m->h.nlmsg_type = type;
        m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
        return NLMSG_DATA(&m->h);
}

static int network_msg_attr(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
        size_t off = NLMSG_ALIGN(m->h.nlmsg_len);
        struct rtattr *rta;

        if (off + RTA_SPACE(len) > sizeof(m->buf))
                return -E2BIG;
        rta = (struct rtattr *)(m->buf + off);
        rta->rta_type = type;
        rta->rta_len = (unsigned short)RTA_LENGTH(len);
        memcpy(RTA_DATA(rta), data, len);
        m->h.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
        return 0;
}

/* Sends one request and waits for its acknowledgement: 0, or the kernel's negative errno. */
static int network_talk(int fd, struct nl_msg *m)
{
        static uint32_t seq;
        uint8_t buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
        ssize_t n;

        m->h.nlmsg_seq = ++seq;
        if (send(fd, m, m->h.nlmsg_len, 0) < 0)
                return -errno;
        for (;;) {
                n = recv(fd, buf, sizeof(buf), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
                                continue;
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                                return -EBADMSG;
                        return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
                }
        }
}

static int network_link(int fd, int index, bool up, const char *name, uint32_t mtu)
{
        struct nl_msg m;
        struct ifinfomsg *ifi = network_msg_init(&m, RTM_NEWLINK, 0, sizeof(*ifi));
        int r = 0;

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = up ? IFF_UP : 0;
        if (name)
                r = network_msg_attr(&m, IFLA_IFNAME, name, strlen(name) + 1);
        if (r >= 0 && mtu)
                r = network_msg_attr(&m, IFLA_MTU, &mtu, sizeof(mtu));
        return r < 0 ? r : network_talk(fd, &m);
}

static int network_addr(int fd, int index, const struct net_addr *a)
{
        size_t len = a->family == AF_INET ? 4 : 16;
        struct nl_msg m;
        struct ifaddrmsg *ifa = network_msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
        int r;

        ifa->ifa_family = (uint8_t)a->family;
        ifa->ifa_prefixlen = a->prefix;
        /* Duplicate address detection would hold an IPv6 address back for a second; the host owns the link. */
        ifa->ifa_flags = a->family == AF_INET6 ? IFA_F_NODAD : 0;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t)index;
        r = network_msg_attr(&m, IFA_ADDRESS, a->bytes, len);
        if (r >= 0 && a->family == AF_INET)
                r = network_msg_attr(&m, IFA_LOCAL, a->bytes, len);
        return r < 0 ? r : network_talk(fd, &m);
}

static int network_route(int fd, const struct net_route *rt, int oif)
{
        size_t len = rt->dst.family == AF_INET ? 4 : 16;
        struct nl_msg m;
        struct rtmsg *rtm = network_msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*rtm));
        uint32_t o = (uint32_t)oif;
        int r = 0;

        rtm->rtm_family = (uint8_t)rt->dst.family;
        rtm->rtm_dst_len = rt->dst.prefix;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = rt->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
        rtm->rtm_type = RTN_UNICAST;
        if (rt->dst.prefix > 0)
                r = network_msg_attr(&m, RTA_DST, rt->dst.bytes, len);
        if (r >= 0 && rt->gw.family)
                r = network_msg_attr(&m, RTA_GATEWAY, rt->gw.bytes, len);
        if (r >= 0 && oif > 0)
                r = network_msg_attr(&m, RTA_OIF, &o, sizeof(o));
        return r < 0 ? r : network_talk(fd, &m);
}

static bool network_dev_has_mac(const char *dev, const uint8_t mac[6])
{
        char path[sizeof("/sys/class/net//address") + 256], text[64] = "";
        uint8_t found[6];
        FILE *f;

        snprintf(path, sizeof(path), "/sys/class/net/%s/address", dev);
        f = fopen(path, "re");
        if (!f)
                return false;
        if (!fgets(text, sizeof(text), f))
                text[0] = '\0';
        fclose(f);
        text[strcspn(text, "\n")] = '\0';
        return network_parse_mac(text, found) >= 0 && memcmp(found, mac, 6) == 0;
}

static int network_find_once(const uint8_t mac[6])
{
        DIR *d = opendir("/sys/class/net");
        struct dirent *de;
        int index = -ENODEV;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && network_dev_has_mac(de->d_name, mac)) {
                        index = (int)if_nametoindex(de->d_name);
                        if (index == 0)
                                index = -errno;
                        break;
                }
        closedir(d);
        return index;
}

/* The index of the device with this MAC, waiting for one still probing. */
static int network_find(const uint8_t mac[6])
{
        struct timespec pause = {0, NETWORK_POLL_MS * 1000000L};
        int index = -ENODEV;

        for (int waited = 0; waited <= NETWORK_WAIT_MS; waited += NETWORK_POLL_MS) {
                index = network_find_once(mac);
                if (index != -ENODEV)
                        break;
                nanosleep(&pause, NULL);
        }
        return index;
}

static bool network_name_is(int index, const char *name)
{
        char cur[IF_NAMESIZE];

        return if_indextoname((unsigned)index, cur) && strcmp(cur, name) == 0;
}

/* A rename needs the link down; it comes up last, with its addresses in place. */
static int network_setup_iface(int fd, const struct net_iface *i, const char **ret_what)
{
        int index, r;

        *ret_what = "not found among the guest's network devices";
        index = network_find(i->mac);
        if (index < 0)
                return index;
        *ret_what = "cannot rename it or set its MTU";
        if (!network_name_is(index, i->name)) {
                r = network_link(fd, index, false, NULL, 0);
                if (r >= 0)
                        r = network_link(fd, index, false, i->name, i->mtu);
        } else {
                r = network_link(fd, index, true, NULL, i->mtu);
        }
        if (r < 0)
                return r;
        *ret_what = "cannot add an address";
        for (size_t k = 0; k < i->n_addrs; k++) {
                r = network_addr(fd, index, &i->addrs[k]);
                if (r < 0)
                        return r;
        }
        *ret_what = "cannot bring it up";
        return network_link(fd, index, true, NULL, 0);
}

static int network_setup_route(int fd, const struct net_route *rt, const char **ret_what)
{
        int oif = 0;

        if (rt->device) {
                *ret_what = "no such device";
                oif = (int)if_nametoindex(rt->device);
                if (oif == 0)
                        return -ENODEV;
        }
        *ret_what = "cannot add it";
        return network_route(fd, rt, oif);
}

static int network_apply(const struct net_spec *spec, struct request *req)
{
        _cleanup_close_ int fd = -1;
        const char *what = "";
        int r, lo;

        struct timeval tv = {.tv_sec = 5};

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return request_fail(req, -errno, "cannot open a netlink socket: %s", strerror(errno));
        /* The kernel acknowledges every request; the timeout only keeps a surprise from hanging PID 1. */
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (size_t i = 0; i < spec->n_ifaces; i++) {
                const struct net_iface *f = &spec->ifaces[i];

                r = network_setup_iface(fd, f, &what);
                if (r < 0)
                        return request_fail(req, r, "interface %s (%s): %s: %s", f->name, f->mac_text, what,
                                            strerror(-r));
        }
        lo = (int)if_nametoindex("lo");
        r = lo > 0 ? network_link(fd, lo, true, NULL, 0) : -ENODEV;
        if (r < 0)
                return request_fail(req, r, "interface lo: cannot bring it up: %s", strerror(-r));
        for (size_t i = 0; i < spec->n_routes; i++) {
                r = network_setup_route(fd, &spec->routes[i], &what);
                if (r < 0)
                        return request_fail(req, r, "route %s: %s: %s", spec->routes[i].dest_text, what, strerror(-r));
        }
        return 0;
}

int network_configure(struct agent *a, struct request *req)
{
        _cleanup_free_ struct net_spec *spec = calloc(1, sizeof(*spec));
        int r;

        if (!spec)
                return -ENOMEM;
        r = network_parse(req, spec);
        if (r < 0 || !a->opts.sandbox)
                return r;
        return network_apply(spec, req);
}
