/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's netns plumbed into its VM (see tapnet.h). Everything goes
 * through one libnl route socket; the taps alone need /dev/net/tun, since
 * only its ioctls create a tap. The only classifier sure to exist in small
 * kernels (this host's has neither matchall nor flower) is u32, so the
 * redirect filters are u32 with one key that matches everything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/addr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "macros.h"
#include "netlink-util.h"
#include "tapnet.h"

#define TAPNET_INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)
#define TAPNET_FILTER_PRIO    1
/* A netns with more interfaces than a VM takes NICs is refused, not truncated. */
#define TAPNET_LINKS_MAX     VM_NICS_MAX
#define TAPNET_ADDRESSES_MAX 64
#define TAPNET_ROUTES_MAX    256

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_qdisc *, rtnl_qdisc_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_cls *, rtnl_cls_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_act *, rtnl_act_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tapnet *, tapnet_teardown);

/* Returns r, and says why in *ret_error for the first failure only. */
static _printf_(3, 4) int tapnet_fail(char **ret_error, int r, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int k;

        if (!ret_error || *ret_error)
                return r;
        va_start(ap, fmt);
        k = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (k < 0 || asprintf(ret_error, "%s: %s", what, strerror(-r)) < 0)
                *ret_error = NULL;
        return r;
}

static void tapnet_link_done(struct tapnet_link *l)
{
        free(l->name);
        free(l->tap);
        for (size_t i = 0; i < l->n_addresses; i++)
                free(l->addresses[i]);
        free(l->addresses);
}

void tapnet_free(struct tapnet *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n_links; i++)
                tapnet_link_done(&t->links[i]);
        free(t->links);
        for (size_t i = 0; i < t->n_routes; i++) {
                free(t->routes[i].dest);
                free(t->routes[i].gateway);
                free(t->routes[i].device);
        }
        free(t->routes);
        nl_socket_free(t->sock);
        free(t);
}

/* An address without its prefix length ("10.88.0.1"); NULL for other families. */
static char *tapnet_addr_string(const struct nl_addr *a)
{
        unsigned char bin[sizeof(struct in6_addr)] = {};
        char text[INET6_ADDRSTRLEN];
        int family = nl_addr_get_family(a);
        size_t len = nl_addr_get_len(a);

        if ((family != AF_INET && family != AF_INET6) || len > sizeof(bin))
                return NULL;
        memcpy(bin, nl_addr_get_binary_addr(a), len);
        if (!inet_ntop(family, bin, text, sizeof(text)))
                return NULL;
        return strdup(text);
}

/* "10.88.0.5/16": the prefix length is always written, even for /32. */
static char *tapnet_cidr_string(const struct nl_addr *a)
{
        _cleanup_free_ char *s = tapnet_addr_string(a);
        char *cidr;

        if (!s || asprintf(&cidr, "%s/%u", s, nl_addr_get_prefixlen(a)) < 0)
                return NULL;
        return cidr;
}

static int tapnet_strv_push(char ***v, size_t *n, char *s)
{
        char **nv;

        if (!s)
                return -ENOMEM;
        nv = realloc(*v, (*n + 1) * sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[(*n)++] = s;
        *v = nv;
        return 0;
}

/* The link's global addresses: link-local and host-scoped ones stay behind. */
static int tapnet_collect_addresses(struct nl_cache *addrs, struct tapnet_link *l)
{
        for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *)o;
                struct nl_addr *local = rtnl_addr_get_local(a);
                int r;

                if (rtnl_addr_get_ifindex(a) != l->ifindex || !local || rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
                        continue;
                if (rtnl_addr_get_family(a) != AF_INET && rtnl_addr_get_family(a) != AF_INET6)
                        continue;
                if (l->n_addresses >= TAPNET_ADDRESSES_MAX)
                        return -E2BIG;
                r = tapnet_strv_push(&l->addresses, &l->n_addresses, tapnet_cidr_string(local));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* An Ethernet link that is up and not loopback: a candidate veth. */
static bool tapnet_link_wanted(struct rtnl_link *link)
{
        struct nl_addr *mac = rtnl_link_get_addr(link);
        unsigned flags = rtnl_link_get_flags(link);

        return !(flags & IFF_LOOPBACK) && (flags & IFF_UP) && rtnl_link_get_arptype(link) == ARPHRD_ETHER && mac &&
               nl_addr_get_len(mac) == 6;
}

/* Taps are named after their veth; a long veth name falls back to its index. */
static char *tapnet_tap_name(const char *name, int ifindex)
{
        char *s;

        if (strlen(name) + strlen("tap_") < IFNAMSIZ)
                return asprintf(&s, "tap_%s", name) < 0 ? NULL : s;
        return asprintf(&s, "tap_if%d", ifindex) < 0 ? NULL : s;
}

static int tapnet_link_fill(struct rtnl_link *link, struct nl_cache *addrs, struct tapnet_link *l)
{
        const char *name = rtnl_link_get_name(link);

        l->ifindex = rtnl_link_get_ifindex(link);
        l->mtu = rtnl_link_get_mtu(link);
        memcpy(l->mac, nl_addr_get_binary_addr(rtnl_link_get_addr(link)), sizeof(l->mac));
        l->name = strdup(name ?: "");
        l->tap = tapnet_tap_name(l->name ?: "", l->ifindex);
        if (!l->name || !l->tap)
                return -ENOMEM;
        return tapnet_collect_addresses(addrs, l);
}

/* Moves *l into t->links; on failure *l stays the caller's. */
static int tapnet_links_push(struct tapnet *t, struct tapnet_link *l)
{
        struct tapnet_link *v;

        if (t->n_links >= TAPNET_LINKS_MAX)
                return -E2BIG;
        v = realloc(t->links, (t->n_links + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        t->links = v;
        t->links[t->n_links++] = *l;
        return 0;
}

/* Records the links worth plumbing: up, Ethernet, with a global address unless unaddressed. */
static int tapnet_scan_links(struct tapnet *t, bool unaddressed, char **ret_error)
{
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL, *addrs = NULL;
        int r;

        if ((r = rtnl_link_alloc_cache(t->sock, AF_UNSPEC, &links)) < 0 ||
            (r = rtnl_addr_alloc_cache(t->sock, &addrs)) < 0)
                return tapnet_fail(ret_error, netlink_errno(r), "listing links and addresses");
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct tapnet_link l = {};

                if (!tapnet_link_wanted((struct rtnl_link *)o))
                        continue;
                r = tapnet_link_fill((struct rtnl_link *)o, addrs, &l);
                if (r >= 0 && l.n_addresses == 0 && !unaddressed) {
                        tapnet_link_done(&l);
                        continue;
                }
                if (r >= 0)
                        r = tapnet_links_push(t, &l);
                if (r < 0) {
                        tapnet_link_done(&l);
                        return tapnet_fail(ret_error, r, "recording interface %s",
                                           rtnl_link_get_name((struct rtnl_link *)o));
                }
        }
        return 0;
}

static const struct tapnet_link *tapnet_find_link(const struct tapnet *t, int ifindex)
{
        for (size_t i = 0; i < t->n_links; i++)
                if (t->links[i].ifindex == ifindex)
                        return &t->links[i];
        return NULL;
}

/*
 * Routes the guest must add: the main table's unicast routes through one
 * of the plumbed links. The kernel's own routes (the subnets of the
 * addresses, fe80::/64) are left out: the guest's kernel makes them itself
 * when the agent adds the addresses.
 */
static const struct tapnet_link *tapnet_route_link(const struct tapnet *t, struct rtnl_route *rt)
{
        if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_type(rt) != RTN_UNICAST ||
            rtnl_route_get_protocol(rt) == RTPROT_KERNEL || rtnl_route_get_nnexthops(rt) != 1)
                return NULL;
        if (rtnl_route_get_family(rt) != AF_INET && rtnl_route_get_family(rt) != AF_INET6)
                return NULL;
        return tapnet_find_link(t, rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, 0)));
}

static char *tapnet_route_dest(struct rtnl_route *rt, bool has_gateway)
{
        struct nl_addr *dst = rtnl_route_get_dst(rt);

        if (!dst || nl_addr_get_prefixlen(dst) == 0)
                /* "default" alone cannot say IPv6 when no gateway does. */
                return strdup(rtnl_route_get_family(rt) == AF_INET6 && !has_gateway ? "::/0" : "default");
        return tapnet_cidr_string(dst);
}

static int tapnet_route_add(struct tapnet *t, struct rtnl_route *rt, const char *device)
{
        struct nl_addr *gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(rt, 0));
        struct tapnet_route r = {};
        struct tapnet_route *nr;

        if (t->n_routes >= TAPNET_ROUTES_MAX)
                return -E2BIG;
        r.dest = tapnet_route_dest(rt, gw != NULL);
        r.gateway = gw ? tapnet_addr_string(gw) : NULL;
        r.device = strdup(device);
        nr = realloc(t->routes, (t->n_routes + 1) * sizeof(*nr));
        if (!r.dest || (gw && !r.gateway) || !r.device || !nr) {
                free(r.dest);
                free(r.gateway);
                free(r.device);
                if (nr)
                        t->routes = nr;
                return -ENOMEM;
        }
        t->routes = nr;
        t->routes[t->n_routes++] = r;
        return 0;
}

/* Routes without a gateway first: a gateway may be reachable only through one. */
static int tapnet_scan_routes(struct tapnet *t, char **ret_error)
{
        _cleanup_(nl_cache_freep) struct nl_cache *routes = NULL;
        int r;

        r = rtnl_route_alloc_cache(t->sock, AF_UNSPEC, 0, &routes);
        if (r < 0)
                return tapnet_fail(ret_error, netlink_errno(r), "listing routes");
        for (int pass = 0; pass < 2; pass++)
                for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
                        struct rtnl_route *rt = (struct rtnl_route *)o;
                        const struct tapnet_link *l = tapnet_route_link(t, rt);
                        bool gw;

                        if (!l)
                                continue;
                        gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(rt, 0)) != NULL;
                        if (gw != (pass == 1))
                                continue;
                        r = tapnet_route_add(t, rt, l->name);
                        if (r < 0)
                                return tapnet_fail(ret_error, r, "recording routes");
                }
        return 0;
}

/* Sets the tap's MTU to the veth's and brings it up. */
static int tapnet_tap_configure(struct nl_sock *sock, struct rtnl_link *tap, unsigned mtu)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();

        if (!change)
                return -ENOMEM;
        rtnl_link_set_mtu(change, mtu);
        rtnl_link_set_flags(change, IFF_UP);
        return rtnl_link_change(sock, tap, change, 0);
}

/*
 * A persistent tap, closed again: QEMU attaches to it by name later.
 * IFF_TUN_EXCL: a tap of that name left by someone else is never adopted.
 */
static int tapnet_tap_create(struct tapnet *t, struct tapnet_link *l, char **ret_error)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *tap = NULL;
        const char *step;
        int fd, r;

        r = netlink_tap_create(l->tap, &fd, &step);
        if (r < 0)
                return tapnet_fail(ret_error, r, "%s %s", step, l->tap);
        r = rtnl_link_get_kernel(t->sock, 0, l->tap, &tap);
        if (r >= 0)
                r = tapnet_tap_configure(t->sock, tap, l->mtu);
        if (r < 0) {
                netlink_tap_abandon(fd);
                return tapnet_fail(ret_error, netlink_errno(r), "setting up tap %s", l->tap);
        }
        close(fd);
        l->tap_ifindex = rtnl_link_get_ifindex(tap);
        return 0;
}

static struct rtnl_qdisc *tapnet_ingress_new(int ifindex)
{
        struct rtnl_qdisc *q = rtnl_qdisc_alloc();

        if (!q)
                return NULL;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
        rtnl_tc_set_handle(TC_CAST(q), TAPNET_INGRESS_HANDLE);
        if (rtnl_tc_set_kind(TC_CAST(q), "ingress") < 0) {
                rtnl_qdisc_put(q);
                return NULL;
        }
        return q;
}

/* -EBUSY when the link has an ingress qdisc already: it is someone else's. */
static int tapnet_ingress_add(struct nl_sock *sock, int ifindex)
{
        _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = tapnet_ingress_new(ifindex);
        int r;

        if (!q)
                return -ENOMEM;
        r = rtnl_qdisc_add(sock, q, NLM_F_CREATE | NLM_F_EXCL);
        if (r == -NLE_EXIST)
                return -EBUSY;
        return r < 0 ? netlink_errno(r) : 0;
}

static void tapnet_ingress_del(struct nl_sock *sock, int ifindex)
{
        _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = tapnet_ingress_new(ifindex);

        /* The qdisc's filters go with it. */
        if (q)
                (void)rtnl_qdisc_delete(sock, q);
}

static struct rtnl_act *tapnet_mirred_new(int to)
{
        struct rtnl_act *act = rtnl_act_alloc();

        if (!act)
                return NULL;
        if (rtnl_tc_set_kind(TC_CAST(act), "mirred") < 0 || rtnl_mirred_set_action(act, TCA_EGRESS_REDIR) < 0 ||
            rtnl_mirred_set_policy(act, TC_ACT_STOLEN) < 0 || rtnl_mirred_set_ifindex(act, to) < 0) {
                rtnl_act_put(act);
                return NULL;
        }
        return act;
}

/* Every frame arriving on from leaves through to: u32, one key matching anything. */
static int tapnet_redirect_add(struct nl_sock *sock, int from, int to)
{
        _cleanup_(rtnl_cls_putp) struct rtnl_cls *cls = rtnl_cls_alloc();
        _cleanup_(rtnl_act_putp) struct rtnl_act *act = tapnet_mirred_new(to);
        int r;

        if (!cls || !act)
                return -ENOMEM;
        rtnl_tc_set_ifindex(TC_CAST(cls), from);
        rtnl_tc_set_parent(TC_CAST(cls), TAPNET_INGRESS_HANDLE);
        rtnl_cls_set_prio(cls, TAPNET_FILTER_PRIO);
        rtnl_cls_set_protocol(cls, ETH_P_ALL);
        if ((r = rtnl_tc_set_kind(TC_CAST(cls), "u32")) < 0 || (r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
            (r = rtnl_u32_set_cls_terminal(cls)) < 0 || (r = rtnl_u32_add_action(cls, act)) < 0 ||
            (r = rtnl_cls_add(sock, cls, NLM_F_CREATE | NLM_F_EXCL)) < 0)
                return netlink_errno(r);
        return 0;
}

/* Tap, then both qdiscs, then both filters; teardown undoes what got done. */
static int tapnet_plumb(struct tapnet *t, struct tapnet_link *l, char **ret_error)
{
        int r;

        r = tapnet_tap_create(t, l, ret_error);
        if (r < 0)
                return r;
        r = tapnet_ingress_add(t->sock, l->ifindex);
        if (r < 0)
                return tapnet_fail(ret_error, r, "adding an ingress qdisc to %s", l->name);
        l->veth_qdisc = true;
        r = tapnet_ingress_add(t->sock, l->tap_ifindex);
        if (r < 0)
                return tapnet_fail(ret_error, r, "adding an ingress qdisc to %s", l->tap);
        l->tap_qdisc = true;
        r = tapnet_redirect_add(t->sock, l->ifindex, l->tap_ifindex);
        if (r < 0)
                return tapnet_fail(ret_error, r, "redirecting %s to %s", l->name, l->tap);
        r = tapnet_redirect_add(t->sock, l->tap_ifindex, l->ifindex);
        if (r < 0)
                return tapnet_fail(ret_error, r, "redirecting %s to %s", l->tap, l->name);
        return 0;
}

static int tapnet_connect(struct tapnet *t, char **ret_error)
{
        int r;

        t->sock = nl_socket_alloc();
        if (!t->sock)
                return -ENOMEM;
        r = nl_connect(t->sock, NETLINK_ROUTE);
        if (r < 0)
                return tapnet_fail(ret_error, netlink_errno(r), "opening a netlink socket");
        return 0;
}

int tapnet_open(struct tapnet **ret, char **ret_error)
{
        _cleanup_(tapnet_teardownp) struct tapnet *t = calloc(1, sizeof(*t));
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!t)
                return -ENOMEM;
        r = tapnet_connect(t, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int tapnet_setup(struct tapnet **ret, char **ret_error)
{
        return tapnet_setup_links(ret, false, ret_error);
}

int tapnet_setup_links(struct tapnet **ret, bool unaddressed, char **ret_error)
{
        _cleanup_(tapnet_teardownp) struct tapnet *t = NULL;
        int r;

        r = tapnet_open(&t, ret_error);
        if (r < 0)
                return r;
        if ((r = tapnet_scan_links(t, unaddressed, ret_error)) < 0 || (r = tapnet_scan_routes(t, ret_error)) < 0)
                return r;
        for (size_t i = 0; i < t->n_links; i++) {
                r = tapnet_plumb(t, &t->links[i], ret_error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

/* A user's tap that runv brought up goes down as it was; nothing else of it is touched. */
static void tapnet_user_tap_down(struct nl_sock *sock, int ifindex)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_alloc(), *change = rtnl_link_alloc();

        if (!link || !change)
                return;
        rtnl_link_set_ifindex(link, ifindex);
        rtnl_link_unset_flags(change, IFF_UP);
        (void)rtnl_link_change(sock, link, change, 0);
}

int tapnet_tap_probe(const char *tap)
{
        _cleanup_close_ int fd = -1;
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};

        if (strlen(tap) >= sizeof(ifr.ifr_name))
                return -EINVAL;
        strncpy(ifr.ifr_name, tap, sizeof(ifr.ifr_name) - 1);
        fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /*
         * Attaching is the kernel's own answer: a tap without multi_queue takes one file at a time (EBUSY while
         * another holds it, up or down); one with multi_queue refuses a single-queue open (EINVAL), as QEMU's
         * would be. Closing detaches: the tap stays, persistent as it was made.
         */
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return -errno;
        return 0;
}

/* A tap of the user's: exists, is a tap (kind "tun", Ethernet frames), open nowhere; brought up when it is down. */
static int tapnet_user_tap_check(struct tapnet *t, const char *tap, struct tapnet_link *ret, char **ret_error)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        const char *kind;
        int r;

        r = rtnl_link_get_kernel(t->sock, 0, tap, &l);
        if (r < 0)
                return tapnet_fail(ret_error, netlink_errno(r), "finding the tap %s", tap);
        kind = rtnl_link_get_type(l);
        if (!kind || strcmp(kind, "tun") != 0 || rtnl_link_get_arptype(l) != ARPHRD_ETHER)
                return tapnet_fail(ret_error, -EMEDIUMTYPE, "%s is not a tap (ip tuntap add NAME mode tap makes one)",
                                   tap);
        /* Open already (a VM's NIC, anyone's): QEMU's own open would fail less clearly. */
        r = tapnet_tap_probe(tap);
        if (r == -EBUSY)
                return tapnet_fail(ret_error, r, "the tap %s is in use", tap);
        if (r == -EINVAL)
                return tapnet_fail(ret_error, -EMEDIUMTYPE,
                                   "the tap %s is multi_queue; a VM's NIC needs one made without it", tap);
        if (r < 0)
                return tapnet_fail(ret_error, r, "opening the tap %s", tap);
        if (!(rtnl_link_get_flags(l) & IFF_UP)) {
                _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();

                if (!change)
                        return -ENOMEM;
                rtnl_link_set_flags(change, IFF_UP);
                r = rtnl_link_change(t->sock, l, change, 0);
                if (r < 0)
                        return tapnet_fail(ret_error, netlink_errno(r), "bringing the tap %s up", tap);
                ret->user_tap_up = true;
        }
        ret->ifindex = rtnl_link_get_ifindex(l);
        ret->mtu = rtnl_link_get_mtu(l);
        return 0;
}

static int tapnet_user_tap_route(struct tapnet *t, const char *gateway, const char *device)
{
        struct tapnet_route r = {.dest = strdup("default"), .gateway = strdup(gateway), .device = strdup(device)};
        struct tapnet_route *nr = NULL;

        if (r.dest && r.gateway && r.device && t->n_routes < TAPNET_ROUTES_MAX)
                nr = realloc(t->routes, (t->n_routes + 1) * sizeof(*nr));
        if (!nr) {
                free(r.dest);
                free(r.gateway);
                free(r.device);
                return t->n_routes < TAPNET_ROUTES_MAX ? -ENOMEM : -E2BIG;
        }
        t->routes = nr;
        t->routes[t->n_routes++] = r;
        return 0;
}

int tapnet_add_user_tap(struct tapnet *t, const char *tap, const uint8_t mac[6], const char *address,
                        const char *gateway, char **ret_error)
{
        struct tapnet_link l = {.user_tap = true};
        int r;

        if (ret_error)
                *ret_error = NULL;
        r = tapnet_user_tap_check(t, tap, &l, ret_error);
        if (r < 0)
                return r;
        memcpy(l.mac, mac, sizeof(l.mac));
        if (asprintf(&l.name, "eth%zu", t->n_links) < 0)
                l.name = NULL;
        l.tap = strdup(tap);
        r = l.name && l.tap ? 0 : -ENOMEM;
        if (r >= 0 && address)
                r = tapnet_strv_push(&l.addresses, &l.n_addresses, strdup(address));
        if (r >= 0)
                r = tapnet_links_push(t, &l);
        if (r < 0) {
                if (l.user_tap_up)
                        tapnet_user_tap_down(t->sock, l.ifindex);
                tapnet_link_done(&l);
                return tapnet_fail(ret_error, r, "recording the tap %s", tap);
        }
        if (gateway) {
                r = tapnet_user_tap_route(t, gateway, t->links[t->n_links - 1].name);
                if (r < 0)
                        return tapnet_fail(ret_error, r, "recording the route through %s", tap);
        }
        return 0;
}

static void tapnet_tap_delete(struct nl_sock *sock, int ifindex)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_alloc();

        /* The tap's qdisc and filter go with it. */
        if (!link)
                return;
        rtnl_link_set_ifindex(link, ifindex);
        (void)rtnl_link_delete(sock, link);
}

void tapnet_teardown(struct tapnet *t)
{
        if (!t)
                return;
        for (size_t i = t->n_links; i > 0; i--) {
                struct tapnet_link *l = &t->links[i - 1];

                /* The veth's redirect first, so nothing is sent to a dying tap. */
                if (l->veth_qdisc)
                        tapnet_ingress_del(t->sock, l->ifindex);
                if (l->tap_ifindex > 0)
                        tapnet_tap_delete(t->sock, l->tap_ifindex);
                if (l->user_tap && l->user_tap_up)
                        tapnet_user_tap_down(t->sock, l->ifindex);
                l->veth_qdisc = l->tap_qdisc = l->user_tap_up = false;
                l->tap_ifindex = 0;
        }
        tapnet_free(t);
}

static json_object *tapnet_link_to_json(const struct tapnet_link *l)
{
        json_object *o = json_object_new_object(), *addrs = json_object_new_array();
        char mac[18];

        if (!o || !addrs) {
                json_object_put(o);
                json_object_put(addrs);
                return NULL;
        }
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", l->mac[0], l->mac[1], l->mac[2], l->mac[3],
                 l->mac[4], l->mac[5]);
        for (size_t i = 0; i < l->n_addresses; i++)
                json_object_array_add(addrs, json_object_new_string(l->addresses[i]));
        json_object_object_add(o, "mac", json_object_new_string(mac));
        json_object_object_add(o, "name", json_object_new_string(l->name));
        json_object_object_add(o, "addresses", addrs);
        json_object_object_add(o, "mtu", json_object_new_int64(l->mtu));
        return o;
}

static json_object *tapnet_route_to_json(const struct tapnet_route *r)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "dest", json_object_new_string(r->dest));
        if (r->gateway)
                json_object_object_add(o, "gateway", json_object_new_string(r->gateway));
        json_object_object_add(o, "device", json_object_new_string(r->device));
        return o;
}

struct json_object *tapnet_to_json(const struct tapnet *t)
{
        json_object *o = json_object_new_object(), *ifs = json_object_new_array(), *routes = json_object_new_array();

        if (!o || !ifs || !routes) {
                json_object_put(o);
                json_object_put(ifs);
                json_object_put(routes);
                return NULL;
        }
        json_object_object_add(o, "interfaces", ifs);
        json_object_object_add(o, "routes", routes);
        for (size_t i = 0; i < t->n_links; i++) {
                json_object *l = tapnet_link_to_json(&t->links[i]);
                if (!l || json_object_array_add(ifs, l) < 0) {
                        json_object_put(l);
                        json_object_put(o);
                        return NULL;
                }
        }
        for (size_t i = 0; i < t->n_routes; i++) {
                json_object *r = tapnet_route_to_json(&t->routes[i]);
                if (!r || json_object_array_add(routes, r) < 0) {
                        json_object_put(r);
                        json_object_put(o);
                        return NULL;
                }
        }
        return o;
}

int tapnet_vm_nics(const struct tapnet *t, struct vm_nic **ret)
{
        struct vm_nic *nics = calloc(t->n_links ?: 1, sizeof(*nics));

        if (!nics)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_links; i++) {
                nics[i].tap = t->links[i].tap;
                memcpy(nics[i].mac, t->links[i].mac, sizeof(nics[i].mac));
        }
        *ret = nics;
        return 0;
}
