/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hyper's bridge network (see netbridge.h and docs/networking.md): the
 * bridge and the taps through libnl-route-3 (the taps alone need
 * /dev/net/tun), the rules in netbridge-nft.c, the state file in
 * netbridge-state.c. Every public call takes the state lock first, so
 * calls from several processes are applied one after the other.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fd-util.h"
#include "netbridge-internal.h"
#include "netlink-util.h"

#define NB_TAP_PREFIX "hy"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);

int nb_fail(char **ret_error, int r, const char *fmt, ...)
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

static bool nb_chars_valid(const char *s, size_t max, const char *extra)
{
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                      strchr(extra, s[i])))
                        return false;
        return true;
}

/* As pod files have them: [a-z0-9][a-z0-9_.-]{0,62}; never ":" (the comments' separator). */
bool nb_pod_id_valid(const char *id)
{
        if (!id || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
                return false;
        for (const char *p = id; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        return false;
        return nb_chars_valid(id, 63, "_.-");
}

const char *nb_protocol_name(enum netbridge_protocol p)
{
        return p == NETBRIDGE_UDP ? "udp" : "tcp";
}

/* FNV-1a, 64 bits: stable names and MACs from a pod id, not a secret. */
static uint64_t nb_hash(const char *domain, const char *s, unsigned ordinal)
{
        uint64_t h = 0xcbf29ce484222325ULL;
        const char *parts[] = {domain, "/", s, "/"};

        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                for (const char *p = parts[i]; *p; p++)
                        h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
        return (h ^ ordinal) * 0x100000001b3ULL;
}

static void nb_tap_name(const char *pod_id, unsigned ordinal, char ret[IFNAMSIZ])
{
        snprintf(ret, IFNAMSIZ, NB_TAP_PREFIX "%012" PRIx64, nb_hash("tap", pod_id, ordinal) >> 16);
}

/* Locally administered, unicast: 02:xx:xx:xx:xx:xx. */
static void nb_mac(const char *domain, const char *s, unsigned ordinal, uint8_t ret[6])
{
        uint64_t h = nb_hash(domain, s, ordinal);

        ret[0] = 0x02;
        for (int i = 1; i < 6; i++)
                ret[i] = (uint8_t)(h >> (8 * (i - 1)));
}

static void nb_mac_string(const uint8_t mac[6], char ret[18])
{
        snprintf(ret, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static bool nb_is_tap_name(const char *name)
{
        if (strncmp(name, NB_TAP_PREFIX, strlen(NB_TAP_PREFIX)) != 0 || strlen(name) != strlen(NB_TAP_PREFIX) + 12)
                return false;
        return strspn(name + strlen(NB_TAP_PREFIX), "0123456789abcdef") == 12;
}

void netbridge_free(struct netbridge *b)
{
        if (!b)
                return;
        free(b->name);
        free(b->table);
        free(b->state_dir);
        free(b->state_path);
        free(b->lock_path);
        free(b->subnet_text);
        nl_socket_free(b->sock);
        nb_nft_close(b);
        free(b);
}

/* "a.b.c.d/p", /8 to /29, no host bits; the gateway is the first host address. */
static int nb_parse_subnet(struct netbridge *b, const char *text)
{
        _cleanup_free_ char *addr = strdup(text);
        char *slash, *end, buf[INET_ADDRSTRLEN];
        unsigned long prefix;
        uint32_t net;

        if (!addr)
                return -ENOMEM;
        slash = strchr(addr, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        errno = 0;
        prefix = strtoul(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || prefix < 8 || prefix > 29 || inet_pton(AF_INET, addr, &b->subnet) != 1)
                return -EINVAL;
        net = ntohl(b->subnet.s_addr);
        if (net & ~(~0u << (32 - prefix)))
                return -EINVAL;
        b->prefix = (unsigned)prefix;
        b->gateway.s_addr = htonl(net + 1);
        if (!inet_ntop(AF_INET, &b->subnet, buf, sizeof(buf)) || asprintf(&b->subnet_text, "%s/%u", buf, b->prefix) < 0)
                return -ENOMEM;
        return 0;
}

static int nb_configure(struct netbridge *b, const struct netbridge_config *cfg, char **ret_error)
{
        const char *name = cfg->name ?: NETBRIDGE_DEFAULT_NAME;
        const char *dir = cfg->state_dir ?: NETBRIDGE_DEFAULT_STATE_DIR;
        int r;

        if (!nb_chars_valid(name, IFNAMSIZ - 1, "_-"))
                return nb_fail(ret_error, -EINVAL, "bridge name \"%s\" (1 to 15 of a-z A-Z 0-9 _ -)", name);
        if (cfg->table && !nb_chars_valid(cfg->table, 32, "_-"))
                return nb_fail(ret_error, -EINVAL, "table name \"%s\" (1 to 32 of a-z A-Z 0-9 _ -)", cfg->table);
        r = nb_parse_subnet(b, cfg->subnet ?: NETBRIDGE_DEFAULT_SUBNET);
        if (r < 0)
                return nb_fail(ret_error, r, "subnet \"%s\" (an IPv4 network, /8 to /29)",
                               cfg->subnet ?: NETBRIDGE_DEFAULT_SUBNET);
        b->name = strdup(name);
        b->state_dir = strdup(dir);
        if (cfg->table)
                b->table = strdup(cfg->table);
        else if (strcmp(name, NETBRIDGE_DEFAULT_NAME) == 0)
                b->table = strdup("hyper");
        else if (asprintf(&b->table, "hyper-%s", name) < 0)
                b->table = NULL;
        if (!b->name || !b->state_dir || !b->table || asprintf(&b->state_path, "%s/%s.json", dir, name) < 0 ||
            asprintf(&b->lock_path, "%s/%s.lock", dir, name) < 0)
                return -ENOMEM;
        return 0;
}

static int nb_connect(struct netbridge *b, char **ret_error)
{
        int r;

        b->sock = nl_socket_alloc();
        if (!b->sock)
                return -ENOMEM;
        r = nl_connect(b->sock, NETLINK_ROUTE);
        if (r < 0)
                return nb_fail(ret_error, netlink_errno(r), "opening a netlink socket");
        return nb_nft_open(b, ret_error);
}

/* The link named name, or -ENODEV. */
static int nb_link_get(struct netbridge *b, const char *name, struct rtnl_link **ret)
{
        int r = rtnl_link_get_kernel(b->sock, 0, name, ret);

        if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
                return -ENODEV;
        return r < 0 ? netlink_errno(r) : 0;
}

/* Sets what is given (master > 0, mtu > 0) and brings the link up. */
static int nb_link_up(struct netbridge *b, struct rtnl_link *link, int master, unsigned mtu)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        if (master > 0)
                rtnl_link_set_master(change, master);
        if (mtu > 0)
                rtnl_link_set_mtu(change, mtu);
        rtnl_link_set_flags(change, IFF_UP);
        r = rtnl_link_change(b->sock, link, change, 0);
        return r < 0 ? netlink_errno(r) : 0;
}

static int nb_link_delete(struct netbridge *b, const char *name)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        r = nb_link_get(b, name, &link);
        if (r == -ENODEV)
                return 0;
        if (r >= 0)
                r = rtnl_link_delete(b->sock, link);
        return r < 0 ? netlink_errno(r) : 0;
}

/*
 * A bridge keeps the MAC it is given; without one it takes its lowest
 * port's, and the guests' ARP entries for the gateway would go stale
 * each time a pod comes or goes.
 */
static int nb_bridge_create(struct netbridge *b)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_bridge_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;
        uint8_t bin[6];
        int r;

        nb_mac("bridge", b->name, 0, bin);
        mac = nl_addr_build(AF_LLC, bin, sizeof(bin));
        if (!link || !mac)
                return -ENOMEM;
        rtnl_link_set_name(link, b->name);
        rtnl_link_set_addr(link, mac);
        r = rtnl_link_add(b->sock, link, NLM_F_CREATE | NLM_F_EXCL);
        return r < 0 ? netlink_errno(r) : 0;
}

static int nb_bridge_address(struct netbridge *b, int ifindex)
{
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *addr = rtnl_addr_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *local = nl_addr_build(AF_INET, &b->gateway, 4);
        int r;

        if (!addr || !local)
                return -ENOMEM;
        nl_addr_set_prefixlen(local, (int)b->prefix);
        rtnl_addr_set_ifindex(addr, ifindex);
        r = rtnl_addr_set_local(addr, local);
        if (r >= 0)
                r = rtnl_addr_add(b->sock, addr, 0);
        if (r == -NLE_EXIST)
                return 0;
        return r < 0 ? netlink_errno(r) : 0;
}

/* The bridge, made if missing; *ret_ifindex is its index. */
static int nb_bridge_ensure(struct netbridge *b, int *ret_ifindex, char **ret_error)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        r = nb_link_get(b, b->name, &link);
        if (r == -ENODEV) {
                r = nb_bridge_create(b);
                if (r < 0 && r != -EEXIST)
                        return nb_fail(ret_error, r, "creating bridge %s", b->name);
                r = nb_link_get(b, b->name, &link);
        }
        if (r < 0)
                return nb_fail(ret_error, r, "looking up bridge %s", b->name);
        if (!rtnl_link_get_type(link) || strcmp(rtnl_link_get_type(link), "bridge") != 0)
                return nb_fail(ret_error, -EEXIST, "%s exists and is not a bridge", b->name);
        r = nb_bridge_address(b, rtnl_link_get_ifindex(link));
        if (r < 0)
                return nb_fail(ret_error, r, "adding the gateway address to %s", b->name);
        r = nb_link_up(b, link, 0, 0);
        if (r < 0)
                return nb_fail(ret_error, r, "bringing %s up", b->name);
        *ret_ifindex = rtnl_link_get_ifindex(link);
        return 0;
}

static int nb_bridge_ifindex(struct netbridge *b, int *ret, char **ret_error)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r = nb_link_get(b, b->name, &link);

        if (r < 0)
                return nb_fail(ret_error, r, "looking up bridge %s", b->name);
        *ret = rtnl_link_get_ifindex(link);
        return 0;
}

static int nb_sysctl_set(const char *path, const char *value)
{
        _cleanup_free_ char *old = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = read_full_file(path, 64, &old, NULL);
        if (r >= 0 && strncmp(old, value, strlen(value)) == 0 && (old[strlen(value)] == '\n' || !old[strlen(value)]))
                return 0;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return loop_write(fd, value, strlen(value));
}

/*
 * Forwarding is one switch for every interface (as Docker and libvirt turn
 * it on); route_localnet on the bridge lets a host connection to
 * 127.0.0.1, sent to a pod by the output chain's DNAT, leave through it.
 */
static int nb_sysctls(struct netbridge *b, char **ret_error)
{
        _cleanup_free_ char *localnet = NULL;
        int r;

        r = nb_sysctl_set("/proc/sys/net/ipv4/ip_forward", "1");
        if (r < 0)
                return nb_fail(ret_error, r, "turning on IPv4 forwarding");
        if (asprintf(&localnet, "/proc/sys/net/ipv4/conf/%s/route_localnet", b->name) < 0)
                return -ENOMEM;
        r = nb_sysctl_set(localnet, "1");
        if (r < 0)
                return nb_fail(ret_error, r, "writing %s", localnet);
        return 0;
}

/* Validates the pod id (when given), takes the lock and loads the state. */
static int nb_begin(struct netbridge *b, const char *pod_id, int *ret_lock, struct json_object **ret_root,
                    char **ret_error)
{
        _cleanup_close_ int lock = -1;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (pod_id && !nb_pod_id_valid(pod_id))
                return nb_fail(ret_error, -EINVAL, "pod id \"%.80s\" ([a-z0-9][a-z0-9_.-]{0,62})", pod_id);
        r = nb_state_lock(b, &lock, ret_error);
        if (r >= 0)
                r = nb_state_load(b, ret_root, ret_error);
        if (r < 0)
                return r;
        *ret_lock = TAKE_FD(lock);
        return 0;
}

int netbridge_ensure(const struct netbridge_config *cfg, struct netbridge **ret, char **ret_error)
{
        _cleanup_(netbridge_freep) struct netbridge *b = calloc(1, sizeof(*b));
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        int r, ifindex;

        if (ret_error)
                *ret_error = NULL;
        if (!b)
                return -ENOMEM;
        if ((r = nb_configure(b, cfg, ret_error)) < 0 || (r = nb_connect(b, ret_error)) < 0 ||
            (r = nb_begin(b, NULL, &lock, &root, ret_error)) < 0)
                return r;
        if ((r = nb_bridge_ensure(b, &ifindex, ret_error)) < 0 || (r = nb_sysctls(b, ret_error)) < 0 ||
            (r = nb_nft_ensure(b, ret_error)) < 0 || (r = nb_state_save(b, root, ret_error)) < 0)
                return r;
        *ret = TAKE_PTR(b);
        return 0;
}

int netbridge_ip_alloc(struct netbridge *b, const char *pod_id, struct in_addr *ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        struct in_addr a;
        int r;

        if ((r = nb_begin(b, pod_id, &lock, &root, ret_error)) < 0 ||
            (r = nb_state_alloc(b, root, pod_id, &a, ret_error)) < 0 || (r = nb_state_save(b, root, ret_error)) < 0)
                return r;
        *ret = a;
        return 0;
}

int netbridge_ip_release(struct netbridge *b, const char *pod_id, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        struct json_object *pod;
        int r;

        r = nb_begin(b, pod_id, &lock, &root, ret_error);
        if (r < 0)
                return r;
        pod = nb_state_pod(root, pod_id, false);
        if (!pod || !json_object_object_get_ex(pod, "address", NULL))
                return 0;
        json_object_object_del(pod, "address");
        nb_state_pod_prune(root, pod_id);
        return nb_state_save(b, root, ret_error);
}

/* The pod's array under key ("taps", "ports"), made when create is set. */
static struct json_object *nb_pod_array(struct json_object *pod, const char *key, bool create)
{
        struct json_object *a;

        if (json_object_object_get_ex(pod, key, &a))
                return a;
        if (!create)
                return NULL;
        a = json_object_new_array();
        if (!a || json_object_object_add(pod, key, a) < 0) {
                json_object_put(a);
                return NULL;
        }
        return a;
}

/* The index of the pod's tap with that ordinal, or -1. */
static ssize_t nb_pod_tap(struct json_object *pod, unsigned ordinal)
{
        struct json_object *taps = pod ? nb_pod_array(pod, "taps", false) : NULL, *v;

        for (size_t i = 0; taps && i < json_object_array_length(taps); i++)
                if (json_object_object_get_ex(json_object_array_get_idx(taps, i), "ordinal", &v) &&
                    json_object_get_int64(v) == ordinal)
                        return (ssize_t)i;
        return -1;
}

/* A persistent tap, closed again: QEMU opens it by name. */
static int nb_tap_create(struct netbridge *b, const char *name, int bridge, unsigned mtu, char **ret_error)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        const char *step;
        int fd, r;

        r = netlink_tap_create(name, &fd, &step);
        if (r < 0)
                return nb_fail(ret_error, r, "%s %s", step, name);
        r = nb_link_get(b, name, &link);
        if (r >= 0)
                r = nb_link_up(b, link, bridge, mtu);
        if (r < 0) {
                netlink_tap_abandon(fd);
                return nb_fail(ret_error, r, "attaching tap %s to %s", name, b->name);
        }
        close(fd);
        return 0;
}

/* A tap the state records and that still exists is only attached and brought up again. */
static int nb_tap_plumb(struct netbridge *b, const char *name, bool recorded, unsigned mtu, char **ret_error)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int bridge, r;

        r = nb_bridge_ifindex(b, &bridge, ret_error);
        if (r < 0)
                return r;
        r = nb_link_get(b, name, &link);
        if (r == -ENODEV)
                return nb_tap_create(b, name, bridge, mtu, ret_error);
        if (r < 0)
                return nb_fail(ret_error, r, "looking up tap %s", name);
        if (!recorded)
                return nb_fail(ret_error, -EEXIST, "tap %s exists but no pod holds it (netbridge_gc removes it)", name);
        r = nb_link_up(b, link, bridge, mtu);
        return r < 0 ? nb_fail(ret_error, r, "attaching tap %s to %s", name, b->name) : 0;
}

static int nb_tap_record(struct json_object *root, const char *pod_id, unsigned ordinal, const char *name,
                         const uint8_t mac[6], unsigned mtu)
{
        struct json_object *pod = nb_state_pod(root, pod_id, true), *taps, *o;
        char text[18];
        ssize_t i;

        if (!pod || !(taps = nb_pod_array(pod, "taps", true)) || !(o = json_object_new_object()))
                return -ENOMEM;
        i = nb_pod_tap(pod, ordinal);
        if (i >= 0)
                json_object_array_del_idx(taps, (size_t)i, 1);
        nb_mac_string(mac, text);
        json_object_object_add(o, "ordinal", json_object_new_int((int)ordinal));
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "mac", json_object_new_string(text));
        json_object_object_add(o, "mtu", json_object_new_int((int)mtu));
        if (json_object_array_add(taps, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return 0;
}

int netbridge_tap_add(struct netbridge *b, const char *pod_id, unsigned ordinal, unsigned mtu, char **ret_tap,
                      uint8_t ret_mac[6], char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *tap = NULL;
        char name[IFNAMSIZ];
        uint8_t mac[6];
        bool recorded;
        int r;

        r = nb_begin(b, pod_id, &lock, &root, ret_error);
        if (r < 0)
                return r;
        mtu = mtu ?: NETBRIDGE_DEFAULT_MTU;
        if (ordinal >= NETBRIDGE_TAPS_MAX || mtu < 68 || mtu > 65535)
                return nb_fail(ret_error, -EINVAL, "interface %u with MTU %u (0 to %d, MTU 68 to 65535)", ordinal, mtu,
                               NETBRIDGE_TAPS_MAX - 1);
        nb_tap_name(pod_id, ordinal, name);
        nb_mac("mac", pod_id, ordinal, mac);
        recorded = nb_pod_tap(nb_state_pod(root, pod_id, false), ordinal) >= 0;
        tap = strdup(name);
        if (!tap)
                return -ENOMEM;
        r = nb_tap_plumb(b, name, recorded, mtu, ret_error);
        if (r < 0)
                return r;
        r = nb_tap_record(root, pod_id, ordinal, name, mac, mtu);
        if (r >= 0)
                r = nb_state_save(b, root, ret_error);
        if (r < 0) {
                if (!recorded)
                        (void)nb_link_delete(b, name);
                return r;
        }
        *ret_tap = TAKE_PTR(tap);
        memcpy(ret_mac, mac, 6);
        return 0;
}

/* Deletes the tap (gone already is fine) and its record. */
static int nb_tap_remove(struct netbridge *b, struct json_object *pod, size_t idx, char **ret_error)
{
        struct json_object *taps = nb_pod_array(pod, "taps", false), *v;
        const char *name;
        int r;

        if (!json_object_object_get_ex(json_object_array_get_idx(taps, idx), "name", &v))
                return -EINVAL;
        name = json_object_get_string(v);
        r = nb_link_delete(b, name);
        if (r < 0)
                return nb_fail(ret_error, r, "deleting tap %s", name);
        json_object_array_del_idx(taps, idx, 1);
        return 0;
}

int netbridge_tap_del(struct netbridge *b, const char *pod_id, unsigned ordinal, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        struct json_object *pod;
        ssize_t i;
        int r;

        r = nb_begin(b, pod_id, &lock, &root, ret_error);
        if (r < 0)
                return r;
        pod = nb_state_pod(root, pod_id, false);
        i = nb_pod_tap(pod, ordinal);
        if (i < 0)
                return nb_fail(ret_error, -ENOENT, "pod %s has no interface %u", pod_id, ordinal);
        r = nb_tap_remove(b, pod, (size_t)i, ret_error);
        if (r < 0)
                return r;
        nb_state_pod_prune(root, pod_id);
        return nb_state_save(b, root, ret_error);
}

/* Checks p and fills in its defaults: a single port's end, the pod's address. */
static int nb_port_normalize(struct json_object *root, const char *pod_id, const struct netbridge_port *p,
                             struct netbridge_port *ret, char **ret_error)
{
        struct netbridge_port q = *p;
        unsigned len;

        if (q.host_port_end == 0)
                q.host_port_end = q.host_port;
        len = q.host_port_end >= q.host_port ? q.host_port_end - q.host_port + 1u : 0;
        if ((q.protocol != NETBRIDGE_TCP && q.protocol != NETBRIDGE_UDP) || q.host_port == 0 || len == 0 ||
            len > NETBRIDGE_PORT_RANGE_MAX || q.pod_port == 0 || q.pod_port + len - 1 > 65535)
                return nb_fail(ret_error, -EINVAL, "port mapping %u-%u to %u (ports 1 to 65535, at most %d at once)",
                               q.host_port, q.host_port_end, q.pod_port, NETBRIDGE_PORT_RANGE_MAX);
        if (q.pod_ip.s_addr == INADDR_ANY && !nb_state_pod_address(nb_state_pod(root, pod_id, false), &q.pod_ip))
                return nb_fail(ret_error, -ENOENT, "pod %s has no address", pod_id);
        *ret = q;
        return 0;
}

static bool nb_port_same_key(const struct netbridge_port *a, const struct netbridge_port *b)
{
        return a->protocol == b->protocol && a->host_ip.s_addr == b->host_ip.s_addr && a->host_port == b->host_port &&
               a->host_port_end == b->host_port_end;
}

/* The index of the pod's mapping with p's protocol, host address and ports, or -1. */
static ssize_t nb_pod_port(struct json_object *pod, const struct netbridge_port *p, struct netbridge_port *ret)
{
        struct json_object *ports = pod ? nb_pod_array(pod, "ports", false) : NULL;
        struct netbridge_port q;

        for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
                nb_port_from_json(json_object_array_get_idx(ports, i), &q);
                if (nb_port_same_key(p, &q)) {
                        if (ret)
                                *ret = q;
                        return (ssize_t)i;
                }
        }
        return -1;
}

static int nb_port_claim(struct json_object *root, const char *pod_id, const struct netbridge_port *p, char **ret_error)
{
        const char *holder;
        char host[INET_ADDRSTRLEN];

        if (nb_state_port_conflict(root, p, &holder) < 0)
                return 0;
        if (!inet_ntop(AF_INET, &p->host_ip, host, sizeof(host)))
                return -EINVAL;
        return nb_fail(ret_error, -EADDRINUSE, "%s port %u-%u on %s overlaps one that pod %s publishes already",
                       nb_protocol_name(p->protocol), p->host_port, p->host_port_end,
                       p->host_ip.s_addr == INADDR_ANY ? "every address" : host, holder);
}

static int nb_port_record(struct json_object *root, const char *pod_id, const struct netbridge_port *p)
{
        struct json_object *pod = nb_state_pod(root, pod_id, true), *ports, *o;

        if (!pod || !(ports = nb_pod_array(pod, "ports", true)) || !(o = nb_port_to_json(p)))
                return -ENOMEM;
        if (json_object_array_add(ports, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return 0;
}

int netbridge_port_add(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        struct netbridge_port q, held;
        int r;

        if ((r = nb_begin(b, pod_id, &lock, &root, ret_error)) < 0 ||
            (r = nb_port_normalize(root, pod_id, p, &q, ret_error)) < 0)
                return r;
        /* The same mapping again (a restarted pod): nothing to do. */
        if (nb_pod_port(nb_state_pod(root, pod_id, false), &q, &held) >= 0 && held.pod_ip.s_addr == q.pod_ip.s_addr &&
            held.pod_port == q.pod_port)
                return 0;
        if ((r = nb_port_claim(root, pod_id, &q, ret_error)) < 0 || (r = nb_nft_port_add(b, pod_id, &q, ret_error)) < 0)
                return r;
        r = nb_port_record(root, pod_id, &q);
        if (r >= 0)
                r = nb_state_save(b, root, ret_error);
        if (r < 0)
                (void)nb_nft_pod_rules_del(b, pod_id, &q, NULL);
        return r;
}

int netbridge_port_del(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        struct json_object *pod;
        struct netbridge_port q = *p;
        ssize_t i;
        int r;

        r = nb_begin(b, pod_id, &lock, &root, ret_error);
        if (r < 0)
                return r;
        if (q.host_port_end == 0)
                q.host_port_end = q.host_port;
        pod = nb_state_pod(root, pod_id, false);
        i = nb_pod_port(pod, &q, &q);
        if (i < 0)
                return nb_fail(ret_error, -ENOENT, "pod %s does not publish %s port %u", pod_id,
                               nb_protocol_name(q.protocol), q.host_port);
        r = nb_nft_pod_rules_del(b, pod_id, &q, ret_error);
        if (r < 0)
                return r;
        json_object_array_del_idx(nb_pod_array(pod, "ports", false), (size_t)i, 1);
        nb_state_pod_prune(root, pod_id);
        return nb_state_save(b, root, ret_error);
}

static struct json_object *nb_iface_json(const struct netbridge *b, struct json_object *tap, struct in_addr addr)
{
        struct json_object *o = json_object_new_object(), *addrs = json_object_new_array(), *v;
        char name[16], text[INET_ADDRSTRLEN], cidr[INET_ADDRSTRLEN + 4];
        int64_t ordinal = 0;

        if (!o || !addrs || !inet_ntop(AF_INET, &addr, text, sizeof(text))) {
                json_object_put(o);
                json_object_put(addrs);
                return NULL;
        }
        if (json_object_object_get_ex(tap, "ordinal", &v))
                ordinal = json_object_get_int64(v);
        snprintf(name, sizeof(name), "eth%u", (unsigned)ordinal);
        snprintf(cidr, sizeof(cidr), "%s/%u", text, b->prefix);
        /* One address per pod, on its first interface; the others are links only. */
        if (ordinal == 0)
                json_object_array_add(addrs, json_object_new_string(cidr));
        if (json_object_object_get_ex(tap, "mac", &v))
                json_object_object_add(o, "mac", json_object_get(v));
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "addresses", addrs);
        if (json_object_object_get_ex(tap, "mtu", &v))
                json_object_object_add(o, "mtu", json_object_get(v));
        return o;
}

static struct json_object *nb_routes_json(const struct netbridge *b)
{
        struct json_object *routes = json_object_new_array(), *r = json_object_new_object();
        char gw[INET_ADDRSTRLEN];

        if (!routes || !r || !inet_ntop(AF_INET, &b->gateway, gw, sizeof(gw)) || json_object_array_add(routes, r) < 0) {
                json_object_put(routes);
                json_object_put(r);
                return NULL;
        }
        json_object_object_add(r, "dest", json_object_new_string("default"));
        json_object_object_add(r, "gateway", json_object_new_string(gw));
        json_object_object_add(r, "device", json_object_new_string("eth0"));
        return routes;
}

static int nb_pod_json(const struct netbridge *b, struct json_object *pod, struct in_addr addr,
                       struct json_object **ret)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        struct json_object *ifs = json_object_new_array(), *taps = nb_pod_array(pod, "taps", false), *routes;

        if (!o || !ifs || json_object_object_add(o, "interfaces", ifs) < 0) {
                json_object_put(ifs);
                return -ENOMEM;
        }
        for (unsigned ordinal = 0; ordinal < NETBRIDGE_TAPS_MAX; ordinal++) {
                ssize_t i = nb_pod_tap(pod, ordinal);
                struct json_object *iface;

                if (i < 0)
                        continue;
                iface = nb_iface_json(b, json_object_array_get_idx(taps, (size_t)i), addr);
                if (!iface || json_object_array_add(ifs, iface) < 0) {
                        json_object_put(iface);
                        return -ENOMEM;
                }
        }
        routes = nb_routes_json(b);
        if (!routes || json_object_object_add(o, "routes", routes) < 0) {
                json_object_put(routes);
                return -ENOMEM;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int netbridge_pod_to_json(struct netbridge *b, const char *pod_id, struct json_object **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        struct json_object *pod;
        struct in_addr addr;
        int r;

        r = nb_begin(b, pod_id, &lock, &root, ret_error);
        if (r < 0)
                return r;
        pod = nb_state_pod(root, pod_id, false);
        if (!nb_state_pod_address(pod, &addr) || nb_pod_tap(pod, 0) < 0)
                return nb_fail(ret_error, -ENOENT, "pod %s has no address or no interface 0", pod_id);
        return nb_pod_json(b, pod, addr, ret);
}

/* Rules, taps (recorded, or named as ours would be), then the record. */
static int nb_pod_remove_locked(struct netbridge *b, struct json_object *root, const char *pod_id, char **ret_error)
{
        struct json_object *pod = nb_state_pod(root, pod_id, false), *pods;
        char name[IFNAMSIZ];
        int r;

        r = nb_nft_pod_rules_del(b, pod_id, NULL, ret_error);
        if (r < 0 && r != -ENOENT)
                return r;
        while (pod && nb_pod_array(pod, "taps", false) && json_object_array_length(nb_pod_array(pod, "taps", false))) {
                r = nb_tap_remove(b, pod, 0, ret_error);
                if (r < 0)
                        return r;
        }
        for (unsigned ordinal = 0; ordinal < NETBRIDGE_TAPS_MAX; ordinal++) {
                nb_tap_name(pod_id, ordinal, name);
                r = nb_link_delete(b, name);
                if (r < 0)
                        return nb_fail(ret_error, r, "deleting tap %s", name);
        }
        if (json_object_object_get_ex(root, "pods", &pods))
                json_object_object_del(pods, pod_id);
        return 0;
}

int netbridge_pod_remove(struct netbridge *b, const char *pod_id, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        if ((r = nb_begin(b, pod_id, &lock, &root, ret_error)) < 0 ||
            (r = nb_pod_remove_locked(b, root, pod_id, ret_error)) < 0)
                return r;
        return nb_state_save(b, root, ret_error);
}

static bool nb_is_live(const char *id, const char *const *live, size_t n_live)
{
        for (size_t i = 0; i < n_live; i++)
                if (live[i] && strcmp(live[i], id) == 0)
                        return true;
        return false;
}

/* Removes every pod of the state that is not in live[]. */
static int nb_remove_pods(struct netbridge *b, struct json_object *root, const char *const *live, size_t n_live,
                          char **ret_error)
{
        struct json_object *pods;
        bool again = true;
        int r;

        /* The object cannot change under its iterator: one removal per pass. */
        while (again && json_object_object_get_ex(root, "pods", &pods)) {
                again = false;
                json_object_object_foreach(pods, id, pod)
                {
                        (void)pod;
                        if (nb_is_live(id, live, n_live))
                                continue;
                        _cleanup_free_ char *copy = strdup(id);
                        if (!copy)
                                return -ENOMEM;
                        r = nb_pod_remove_locked(b, root, copy, ret_error);
                        if (r < 0)
                                return r;
                        again = true;
                        break;
                }
        }
        return 0;
}

static bool nb_tap_is_live(const char *name, const char *const *live, size_t n_live)
{
        char want[IFNAMSIZ];

        for (size_t i = 0; i < n_live; i++)
                for (unsigned ordinal = 0; live[i] && ordinal < NETBRIDGE_TAPS_MAX; ordinal++) {
                        nb_tap_name(live[i], ordinal, want);
                        if (strcmp(name, want) == 0)
                                return true;
                }
        return false;
}

/* Taps named like ours, on our bridge, that no live pod would have. */
static int nb_gc_taps(struct netbridge *b, const char *const *live, size_t n_live, char **ret_error)
{
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL;
        int bridge, r;

        r = nb_bridge_ifindex(b, &bridge, ret_error);
        if (r < 0)
                return r;
        r = rtnl_link_alloc_cache(b->sock, AF_UNSPEC, &links);
        if (r < 0)
                return nb_fail(ret_error, netlink_errno(r), "listing links");
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                const char *name = rtnl_link_get_name(l);

                if (!name || rtnl_link_get_master(l) != bridge || !nb_is_tap_name(name) ||
                    nb_tap_is_live(name, live, n_live))
                        continue;
                r = rtnl_link_delete(b->sock, l);
                if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
                        return nb_fail(ret_error, netlink_errno(r), "deleting tap %s", name);
        }
        return 0;
}

int netbridge_gc(struct netbridge *b, const char *const *live, size_t n_live, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        for (size_t i = 0; i < n_live; i++)
                if (!nb_pod_id_valid(live[i]))
                        return nb_fail(ret_error, -EINVAL, "pod id \"%.80s\"", live[i] ?: "(null)");
        if ((r = nb_begin(b, NULL, &lock, &root, ret_error)) < 0 ||
            (r = nb_remove_pods(b, root, live, n_live, ret_error)) < 0 ||
            (r = nb_nft_gc(b, live, n_live, ret_error)) < 0 || (r = nb_gc_taps(b, live, n_live, ret_error)) < 0)
                return r;
        return nb_state_save(b, root, ret_error);
}

int netbridge_destroy(struct netbridge *b, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        if ((r = nb_begin(b, NULL, &lock, &root, ret_error)) < 0 ||
            (r = nb_remove_pods(b, root, NULL, 0, ret_error)) < 0 || (r = nb_nft_destroy(b, ret_error)) < 0)
                return r;
        r = nb_link_delete(b, b->name);
        if (r < 0)
                return nb_fail(ret_error, r, "deleting bridge %s", b->name);
        if (unlink(b->state_path) < 0 && errno != ENOENT)
                return nb_fail(ret_error, -errno, "removing %s", b->state_path);
        (void)unlink(b->lock_path);
        return 0;
}

const char *netbridge_name(const struct netbridge *b)
{
        return b->name;
}

const char *netbridge_table(const struct netbridge *b)
{
        return b->table;
}

const char *netbridge_state_path(const struct netbridge *b)
{
        return b->state_path;
}

struct in_addr netbridge_gateway(const struct netbridge *b)
{
        return b->gateway;
}
