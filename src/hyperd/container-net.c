/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's network on hyperd's bridge (netbridge.h): a network
 * namespace of its own, kept as a bind mount at RUNTIME/netns/ID, a veth
 * pair whose host end is enslaved to the bridge and whose other end is
 * eth0 in the namespace with the container's address and a default route
 * via the gateway, and the published ports as DNAT rules. runv's monitor
 * joins the namespace (config.json's linux.namespaces) and carries eth0
 * into the VM (docs/runv.md, "Networking under a client").
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers.h"
#include "error-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "netbridge.h"
#include "netlink-util.h"
#include "tapnet.h"

#define NET_IFNAME "eth0"

/* libnl's result as 0 or a negative errno. */
static int net_nl(int r)
{
        return r < 0 ? netlink_errno(r) : 0;
}

static void net_sock_freep(struct nl_sock **s)
{
        nl_socket_free(*s);
}

static void net_link_putp(struct rtnl_link **l)
{
        if (*l)
                rtnl_link_put(*l);
}

static int net_connect(struct nl_sock **ret)
{
        struct nl_sock *s = nl_socket_alloc();
        int r;

        if (!s)
                return -ENOMEM;
        r = nl_connect(s, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(s);
                return netlink_errno(r);
        }
        *ret = s;
        return 0;
}

/* The netbridge pod id of a container: ids are 64 hex digits, pod ids at most 63 characters. */
void container_net_pod_id(const char *id, char ret[CONTAINER_NET_POD_ID_LEN + 1])
{
        snprintf(ret, CONTAINER_NET_POD_ID_LEN + 1, "%s", id);
}

char *container_netns_path(struct hyperd *hd, const char *id)
{
        char *p;

        return asprintf(&p, "%s/%s", hd->netns_dir, id) < 0 ? NULL : p;
}

static void net_veth_name(const char *id, char ret[IFNAMSIZ])
{
        snprintf(ret, IFNAMSIZ, "hv%.12s", id);
}

/* A child unshares its network namespace and bind-mounts it on path (an empty file made here), then exits. */
static int net_ns_create(const char *path)
{
        int fd, status;
        pid_t pid;

        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0444);
        if (fd < 0)
                return -errno;
        close(fd);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0 || mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                        _exit(errno & 0x7f);
                _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        unlink(path);
        return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
}

static void net_ns_remove(const char *path)
{
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                log_warning_errno(-errno, "cannot unmount %s", path);
        if (unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "cannot remove %s", path);
}

static int net_link_index(struct nl_sock *s, const char *name, int *ret)
{
        _cleanup_(net_link_putp) struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(s, 0, name, &l);

        if (r < 0)
                return netlink_errno(r);
        *ret = rtnl_link_get_ifindex(l);
        return 0;
}

/* The pair: the host end on the bridge and up, the other end made as eth0 in the namespace nsfd. */
static int net_veth_create(const char *bridge, unsigned mtu, const char *id, int nsfd)
{
        _cleanup_(net_sock_freep) struct nl_sock *s = NULL;
        _cleanup_(net_link_putp) struct rtnl_link *veth = NULL, *peer = NULL;
        char name[IFNAMSIZ];
        int r, master = 0;

        r = net_connect(&s);
        if (r >= 0)
                r = net_link_index(s, bridge, &master);
        if (r < 0)
                return r;
        veth = rtnl_link_veth_alloc();
        if (!veth)
                return -ENOMEM;
        peer = rtnl_link_veth_get_peer(veth);
        net_veth_name(id, name);
        rtnl_link_set_name(veth, name);
        rtnl_link_set_master(veth, master);
        rtnl_link_set_mtu(veth, mtu);
        rtnl_link_set_flags(veth, IFF_UP);
        rtnl_link_set_name(peer, NET_IFNAME);
        rtnl_link_set_mtu(peer, mtu);
        rtnl_link_set_ns_fd(peer, nsfd);
        r = rtnl_link_add(s, veth, NLM_F_CREATE | NLM_F_EXCL);
        return r < 0 ? netlink_errno(r) : 0;
}

static void net_veth_delete(const char *id)
{
        _cleanup_(net_sock_freep) struct nl_sock *s = NULL;
        _cleanup_(net_link_putp) struct rtnl_link *l = NULL;
        char name[IFNAMSIZ];
        int r;

        net_veth_name(id, name);
        r = net_connect(&s);
        if (r >= 0 && rtnl_link_get_kernel(s, 0, name, &l) >= 0)
                r = net_nl(rtnl_link_delete(s, l));
        if (r < 0)
                log_warning_errno(r, "cannot delete the veth %s", name);
}

static int net_link_up(struct nl_sock *s, const char *name, int *ret_index)
{
        _cleanup_(net_link_putp) struct rtnl_link *l = NULL, *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        r = rtnl_link_get_kernel(s, 0, name, &l);
        if (r >= 0) {
                rtnl_link_set_flags(change, IFF_UP);
                r = rtnl_link_change(s, l, change, 0);
        }
        if (r < 0)
                return netlink_errno(r);
        if (ret_index)
                *ret_index = rtnl_link_get_ifindex(l);
        return 0;
}

struct net_inside {
        int nsfd;
        struct in_addr addr, gateway; /* INADDR_ANY: none */
        unsigned prefix;
        int r;
        const char *step;
};

static int net_addr_add(struct nl_sock *s, int ifindex, struct in_addr a, unsigned prefix)
{
        struct rtnl_addr *addr = rtnl_addr_alloc();
        struct nl_addr *local = nl_addr_build(AF_INET, &a, sizeof(a));
        int r = -ENOMEM;

        if (addr && local) {
                nl_addr_set_prefixlen(local, (int)prefix);
                rtnl_addr_set_ifindex(addr, ifindex);
                r = rtnl_addr_set_local(addr, local);
                r = r < 0 ? netlink_errno(r) : net_nl(rtnl_addr_add(s, addr, 0));
        }
        nl_addr_put(local);
        if (addr)
                rtnl_addr_put(addr);
        return r;
}

static int net_route_add(struct nl_sock *s, int ifindex, struct in_addr gw)
{
        struct in_addr any = {0};
        struct rtnl_route *rt = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        struct nl_addr *dst = nl_addr_build(AF_INET, &any, sizeof(any)), *via = nl_addr_build(AF_INET, &gw, sizeof(gw));
        int r = -ENOMEM;

        if (rt && nh && dst && via) {
                nl_addr_set_prefixlen(dst, 0);
                rtnl_route_set_family(rt, AF_INET);
                rtnl_route_set_dst(rt, dst);
                rtnl_route_nh_set_ifindex(nh, ifindex);
                rtnl_route_nh_set_gateway(nh, via);
                rtnl_route_add_nexthop(rt, TAKE_PTR(nh));
                r = net_nl(rtnl_route_add(s, rt, NLM_F_CREATE | NLM_F_EXCL));
        }
        if (nh)
                rtnl_route_nh_free(nh);
        nl_addr_put(dst);
        nl_addr_put(via);
        if (rt)
                rtnl_route_put(rt);
        return r;
}

static int net_inside_configure(struct net_inside *in)
{
        _cleanup_(net_sock_freep) struct nl_sock *s = NULL;
        int r, ifindex;

        in->step = "enter the namespace";
        if (setns(in->nsfd, CLONE_NEWNET) < 0)
                return -errno;
        in->step = "connect to netlink";
        r = net_connect(&s);
        if (r < 0)
                return r;
        in->step = "bring lo up";
        r = net_link_up(s, "lo", NULL);
        if (r < 0)
                return r;
        in->step = "bring " NET_IFNAME " up";
        r = net_link_up(s, NET_IFNAME, &ifindex);
        if (r < 0)
                return r;
        if (in->addr.s_addr == INADDR_ANY)
                return 0;
        in->step = "give " NET_IFNAME " its address";
        r = net_addr_add(s, ifindex, in->addr, in->prefix);
        if (r < 0 || in->gateway.s_addr == INADDR_ANY)
                return r;
        in->step = "add the default route";
        return net_route_add(s, ifindex, in->gateway);
}

/* In a thread of its own: setns() moves only that thread, which then ends. */
static void *net_inside_thread(void *p)
{
        struct net_inside *in = p;

        in->r = net_inside_configure(in);
        return NULL;
}

static unsigned net_prefix(struct hyperd *hd)
{
        const char *subnet = hd->config->subnet ? hd->config->subnet : NETBRIDGE_DEFAULT_SUBNET;

        return (unsigned)strtoul(strrchr(subnet, '/') + 1, NULL, 10);
}

static int net_inside(int nsfd, struct in_addr addr, unsigned prefix, struct in_addr gateway, char **ret_error)
{
        struct net_inside in = {.nsfd = nsfd, .addr = addr, .gateway = gateway, .prefix = prefix};
        pthread_t t;
        int r;

        r = -pthread_create(&t, NULL, net_inside_thread, &in);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot start a thread: %s", strerror(-r));
        pthread_join(t, NULL);
        if (in.r < 0)
                return error_set_first(ret_error, in.r, "cannot %s in the container's network namespace: %s", in.step,
                                       strerror(-in.r));
        return 0;
}

static int net_publish(struct hyperd *hd, const char *pod, char **publish, char **ret_error)
{
        for (char **p = publish; p && *p; p++) {
                struct netbridge_port port;
                int r = container_port_parse(*p, &port, ret_error);

                if (r >= 0)
                        r = netbridge_port_add(hd->net, pod, &port, ret_error);
                if (r < 0)
                        return error_set_first(ret_error, r, "cannot publish %s: %s", *p, strerror(-r));
        }
        return 0;
}

static int net_ns_open(const char *path, int *ret_fd, char **ret_error)
{
        int r = net_ns_create(path);

        if (r < 0)
                return error_set_first(ret_error, r, "cannot make the network namespace %s: %s", path, strerror(-r));
        *ret_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*ret_fd < 0)
                return error_set_first(ret_error, -errno, "cannot open %s: %m", path);
        return 0;
}

static int net_setup(struct hyperd *hd, const char *id, const char *path, char **publish, struct in_addr *ret_addr,
                     char **ret_error)
{
        char pod[CONTAINER_NET_POD_ID_LEN + 1];
        _cleanup_close_ int nsfd = -1;
        struct in_addr addr;
        int r;

        container_net_pod_id(id, pod);
        r = net_ns_open(path, &nsfd, ret_error);
        if (r < 0)
                return r;
        r = netbridge_ip_alloc(hd->net, pod, &addr, ret_error);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot allocate an address: %s", strerror(-r));
        *ret_addr = addr;
        r = net_veth_create(netbridge_name(hd->net), NETBRIDGE_DEFAULT_MTU, id, nsfd);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot make the container's veth pair: %s", strerror(-r));
        r = net_inside(nsfd, addr, net_prefix(hd), netbridge_gateway(hd->net), ret_error);
        if (r < 0)
                return r;
        return net_publish(hd, pod, publish, ret_error);
}

/*
 * A link of the user's that the container uses (kind "bridge" or "tun"): it must exist (-ENOENT, a 404) and be
 * of that kind (-EINVAL), a tap open nowhere (-EBUSY, a 409: tapnet_tap_probe()) and without multi_queue
 * (-EINVAL); *ret_mtu its MTU. hyperd's own bridge is refused: its addresses are hyperd's to give.
 */
static int net_user_link(struct hyperd *hd, const char *name, const char *kind, unsigned *ret_mtu, char **ret_error)
{
        _cleanup_(net_sock_freep) struct nl_sock *s = NULL;
        _cleanup_(net_link_putp) struct rtnl_link *l = NULL;
        const char *what = strcmp(kind, "bridge") == 0 ? "bridge" : "tap";
        const char *type;
        int r;

        if (hd->net && strcmp(name, netbridge_name(hd->net)) == 0)
                return error_set_first(ret_error, -EINVAL,
                                       "%s is hyperd's own bridge: use --network bridge (the default) to be given an "
                                       "address on it",
                                       name);
        r = net_connect(&s);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot open a netlink socket: %s", strerror(-r));
        r = rtnl_link_get_kernel(s, 0, name, &l);
        if (r < 0)
                return error_set_first(ret_error, -ENOENT, "there is no %s %s: make it first (%s)", what, name,
                                       strcmp(what, "bridge") == 0 ? "ip link add NAME type bridge"
                                                                   : "ip tuntap add NAME mode tap");
        type = rtnl_link_get_type(l);
        if (!type || strcmp(type, kind) != 0 || (strcmp(kind, "tun") == 0 && rtnl_link_get_arptype(l) != ARPHRD_ETHER))
                return error_set_first(ret_error, -EINVAL, "%s is not a %s", name, what);
        /* Open already, a VM's NIC or anyone's, up or down (carrier shows only on a tap that is up). */
        if (strcmp(kind, "tun") == 0) {
                r = tapnet_tap_probe(name);
                if (r == -EBUSY)
                        return error_set_first(ret_error, r,
                                               "the tap %s is in use: a VM or another program has it open; give each "
                                               "container a tap of its own",
                                               name);
                if (r == -EINVAL)
                        return error_set_first(ret_error, r,
                                               "the tap %s is multi_queue: a VM's NIC needs a tap made without it (ip "
                                               "tuntap add NAME mode tap)",
                                               name);
                if (r < 0)
                        return error_set_first(ret_error, r, "cannot open the tap %s: %s", name, strerror(-r));
        }
        *ret_mtu = rtnl_link_get_mtu(l);
        return 0;
}

static int net_address(const struct container_run *run, struct in_addr *ret_addr, unsigned *ret_prefix,
                       struct in_addr *ret_gateway)
{
        *ret_addr = *ret_gateway = (struct in_addr){INADDR_ANY};
        *ret_prefix = 0;
        if (run->ip && container_cidr_parse(run->ip, ret_addr, ret_prefix) < 0)
                return -EINVAL;
        if (run->gateway && inet_pton(AF_INET, run->gateway, ret_gateway) != 1)
                return -EINVAL;
        return 0;
}

/* A veth on the user's bridge, eth0 in its namespace with run->ip and run->gateway (or none); nothing of hyperd's. */
static int net_setup_user_bridge(struct hyperd *hd, const char *id, const char *path, const struct container_run *run,
                                 struct in_addr *ret_addr, char **ret_error)
{
        _cleanup_close_ int nsfd = -1;
        struct in_addr addr, gateway;
        unsigned prefix, mtu;
        int r;

        r = net_user_link(hd, run->bridge, "bridge", &mtu, ret_error);
        if (r < 0)
                return r;
        if (net_address(run, &addr, &prefix, &gateway) < 0)
                return error_set_first(ret_error, -EINVAL, "invalid --ip or --gateway");
        r = net_ns_open(path, &nsfd, ret_error);
        if (r < 0)
                return r;
        r = net_veth_create(run->bridge, mtu, id, nsfd);
        if (r < 0)
                return error_set_first(ret_error, r, "cannot make the container's veth pair on %s: %s", run->bridge,
                                       strerror(-r));
        r = net_inside(nsfd, addr, prefix, gateway, ret_error);
        if (r < 0)
                return r;
        *ret_addr = addr;
        return 0;
}

int container_net_create(struct hyperd *hd, const char *id, const struct container_run *run, char **ret_netns,
                         struct in_addr *ret_addr, char **ret_error)
{
        _cleanup_free_ char *path = NULL;
        int r;

        *ret_netns = NULL;
        if (run->network_none)
                return 0;
        if (run->tap) {
                /* runv's monitor hands the tap to the VM (container_spec()'s annotations); nothing to make. */
                struct in_addr gateway;
                unsigned mtu, prefix;

                r = net_user_link(hd, run->tap, "tun", &mtu, ret_error);
                if (r < 0)
                        return r;
                return net_address(run, ret_addr, &prefix, &gateway) < 0
                               ? error_set_first(ret_error, -EINVAL, "invalid --ip or --gateway")
                               : 0;
        }
        if (!hd->net && !run->bridge)
                return error_set_first(ret_error, -ENONET, "hyperd has no network for containers");
        path = container_netns_path(hd, id);
        if (!path)
                return -ENOMEM;
        if (run->bridge)
                r = net_setup_user_bridge(hd, id, path, run, ret_addr, ret_error);
        else
                r = net_setup(hd, id, path, run->publish, ret_addr, ret_error);
        if (r < 0) {
                container_net_remove(hd, id);
                return r;
        }
        *ret_netns = TAKE_PTR(path);
        return 0;
}

void container_net_remove(struct hyperd *hd, const char *id)
{
        _cleanup_free_ char *path = NULL, *error = NULL;
        char pod[CONTAINER_NET_POD_ID_LEN + 1];
        int r;

        container_net_pod_id(id, pod);
        /* A no-op for a container on a bridge or tap of the user's: netbridge holds nothing of it. */
        r = hd->net ? netbridge_pod_remove(hd->net, pod, &error) : 0;
        if (r < 0)
                log_warning_errno(r, "container %s: %s", id, error ? error : "cannot remove its network");
        path = container_netns_path(hd, id);
        if (!path)
                return;
        if (access(path, F_OK) < 0)
                return;
        net_veth_delete(id);
        net_ns_remove(path);
}

static int net_ensure(struct hyperd *hd)
{
        struct netbridge_config cfg = {.name = hd->config->bridge, .subnet = hd->config->subnet,
                                       .state_dir = hd->config->network_state};
        _cleanup_free_ char *error = NULL;
        int r;

        r = mkdir_p(hd->netns_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "cannot make %s", hd->netns_dir);
        r = netbridge_ensure(&cfg, &hd->net, &error);
        if (r < 0)
                return log_error_errno(r, "cannot set up the containers' bridge: %s", error ? error : strerror(-r));
        return 0;
}

/* Namespaces (and their veths) of containers no longer in the database. */
static void net_sweep(struct hyperd *hd, char **live, size_t n)
{
        DIR *d = opendir(hd->netns_dir);
        struct dirent *e;
        size_t i;

        if (!d)
                return;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                for (i = 0; i < n && strcmp(live[i], e->d_name) != 0; i++)
                        ;
                if (i == n)
                        container_net_remove(hd, e->d_name);
        }
        closedir(d);
}

static void net_gc(struct hyperd *hd, const struct db_container *cs, size_t n)
{
        _cleanup_free_ char *error = NULL, *pods = calloc(n + 1, CONTAINER_NET_POD_ID_LEN + 1);
        _cleanup_free_ const char **live = calloc(n + 1, sizeof(char *));
        _cleanup_free_ char **ids = calloc(n + 1, sizeof(char *));
        int r;

        if (!pods || !live || !ids)
                return;
        for (size_t i = 0; i < n; i++) {
                ids[i] = cs[i].id;
                live[i] = pods + i * (CONTAINER_NET_POD_ID_LEN + 1);
                container_net_pod_id(cs[i].id, pods + i * (CONTAINER_NET_POD_ID_LEN + 1));
        }
        net_sweep(hd, ids, n);
        r = netbridge_gc(hd->net, live, n, &error);
        if (r < 0)
                log_warning_errno(r, "cannot collect the network of removed containers: %s",
                                  error ? error : strerror(-r));
}

/* A pod's network is its sandbox's (pods.h), which has no row of containers: added as rows with only the id. */
static int net_add_sandboxes(struct hyperd *hd, struct db_container **cs, size_t *n)
{
        struct db_pod *pods = NULL;
        struct db_container *b;
        size_t np = 0;
        int r;

        r = db_pod_list(hd->db, &pods, &np);
        if (r < 0)
                return r;
        b = realloc(*cs, (*n + np + 1) * sizeof(**cs));
        if (!b) {
                db_pod_free_array(pods, np);
                return -ENOMEM;
        }
        *cs = b;
        for (size_t i = 0; i < np; i++) {
                b[*n] = (struct db_container){.id = pods[i].sandbox};
                pods[i].sandbox = NULL;
                ++*n;
        }
        db_pod_free_array(pods, np);
        return 0;
}

int container_net_start(struct hyperd *hd)
{
        struct db_container *cs = NULL;
        size_t n = 0;
        int r;

        r = net_ensure(hd);
        if (r < 0)
                return r;
        r = db_container_list(hd->db, &cs, &n);
        if (r < 0)
                return log_error_errno(r, "cannot list the containers");
        r = net_add_sandboxes(hd, &cs, &n);
        if (r < 0) {
                db_container_free_array(cs, n);
                return log_error_errno(r, "cannot list the pods");
        }
        net_gc(hd, cs, n);
        db_container_free_array(cs, n);
        return 0;
}

int container_net_destroy(struct hyperd *hd)
{
        _cleanup_free_ char *error = NULL;
        int r;

        r = net_ensure(hd);
        if (r < 0)
                return r;
        r = netbridge_destroy(hd->net, &error);
        if (r < 0)
                return log_error_errno(r, "cannot remove the containers' bridge: %s", error ? error : strerror(-r));
        log_info("removed the bridge %s, its rules and its state", netbridge_name(hd->net));
        return 0;
}
