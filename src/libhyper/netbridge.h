/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Hyper's own pod network: a host bridge (hyper0, 10.47.0.1/16 by default)
 * with one persistent tap per pod interface, an IPv4 address per pod,
 * masquerade for traffic leaving the subnet and DNAT for published ports,
 * in an nftables table of our own (`table ip hyper`). Links and addresses
 * go through libnl-route-3, rules through libnftables.
 *
 * What each pod holds (its address, taps, published ports) is kept in a
 * state file, STATE_DIR/<bridge>.json, rewritten atomically under an
 * exclusive flock() on STATE_DIR/<bridge>.lock, so that allocations
 * survive restarts and two processes never hand out the same address or
 * host port. Every nftables rule made for a pod carries the comment
 * "hyper:<pod id>:...", so removal and netbridge_gc() find them even when
 * the state file was lost.
 *
 * Functions return 0 or a negative errno; where they take ret_error, a
 * failure also leaves there a message for a user (NULL on ENOMEM), which
 * the caller frees. Pod ids are [a-z0-9][a-z0-9_.-]{0,62}, as in pod files.
 * The netlink socket and the nftables context stay bound to the network
 * namespace of the thread that called netbridge_ensure().
 */

#include <json-c/json.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define NETBRIDGE_DEFAULT_NAME      "hyper0"
#define NETBRIDGE_DEFAULT_SUBNET    "10.47.0.0/16"
#define NETBRIDGE_DEFAULT_STATE_DIR "/var/lib/hyper/network"
#define NETBRIDGE_DEFAULT_MTU       1500
/* Interfaces per pod (tap ordinals 0..7), as many as a VM takes NICs. */
#define NETBRIDGE_TAPS_MAX 8
/* Ports one netbridge_port_add() may publish: each is a rule of its own. */
#define NETBRIDGE_PORT_RANGE_MAX 1024

struct netbridge_config {
        const char *name;      /* NULL: NETBRIDGE_DEFAULT_NAME */
        const char *subnet;    /* NULL: NETBRIDGE_DEFAULT_SUBNET; IPv4, /8 to /29; .1 is the gateway */
        const char *state_dir; /* NULL: NETBRIDGE_DEFAULT_STATE_DIR; made if missing */
        const char *table;     /* NULL: "hyper" for hyper0, "hyper-<name>" for another bridge */
};

enum netbridge_protocol {
        NETBRIDGE_TCP,
        NETBRIDGE_UDP,
};

/* A published port, or a range: host_port..host_port_end to pod_port..pod_port+(same length). */
struct netbridge_port {
        enum netbridge_protocol protocol;
        struct in_addr host_ip; /* INADDR_ANY: every local address, 127.0.0.1 included */
        uint16_t host_port;
        uint16_t host_port_end; /* 0 (or host_port): a single port */
        struct in_addr pod_ip;  /* INADDR_ANY: the pod's allocated address */
        uint16_t pod_port;
};

struct netbridge;

/*
 * Makes the bridge if missing (a stable MAC derived from its name, the
 * gateway address, up), turns on IPv4 forwarding and route_localnet on the
 * bridge, and (re)writes the table's base chains; the DNAT rules of
 * published ports are kept. Reads (or starts) the state file. Idempotent.
 */
int netbridge_ensure(const struct netbridge_config *cfg, struct netbridge **ret, char **ret_error);
/* Frees memory and sockets only; the bridge, rules and state stay. Accepts NULL. */
void netbridge_free(struct netbridge *b);
/* Removes every pod's taps and rules, the table, the bridge and the state file. */
int netbridge_destroy(struct netbridge *b, char **ret_error);

/* The pod's address: allocated once (the same one again on later calls), persisted. */
int netbridge_ip_alloc(struct netbridge *b, const char *pod_id, struct in_addr *ret, char **ret_error);
int netbridge_ip_release(struct netbridge *b, const char *pod_id, char **ret_error);

/*
 * A persistent tap (IFF_TAP | IFF_NO_PI) for the pod's interface number
 * `ordinal`, enslaved to the bridge and up, with the MTU (0: 1500). Its
 * name ("hy" + 12 hex digits, ≤ 15 characters) and its guest MAC (locally
 * administered) derive from the pod id and the ordinal, so they are the
 * same after a restart. Adding a tap the pod has already returns it again.
 * *ret_tap is the caller's to free.
 */
int netbridge_tap_add(struct netbridge *b, const char *pod_id, unsigned ordinal, unsigned mtu, char **ret_tap,
                      uint8_t ret_mac[6], char **ret_error);
int netbridge_tap_del(struct netbridge *b, const char *pod_id, unsigned ordinal, char **ret_error);

/*
 * Publishes a port (or range) of the pod by DNAT, from outside (prerouting)
 * and from the host itself (output; 127.0.0.1 works through route_localnet
 * on the bridge). -EADDRINUSE when a published port overlaps it (same
 * protocol, overlapping ports, the same host address or either one "any").
 */
int netbridge_port_add(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error);
/* Removes the mapping added with the same protocol, host address and host port(s). */
int netbridge_port_del(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error);

/*
 * The NETWORK request body for the guest agent, shaped as tapnet_to_json():
 * each of the pod's taps as "eth<ordinal>" with its MAC and MTU, the pod's
 * address on eth0 (with the subnet's prefix), and a default route via the
 * gateway. -ENOENT when the pod has no tap or no address.
 */
int netbridge_pod_to_json(struct netbridge *b, const char *pod_id, struct json_object **ret, char **ret_error);

/* Removes the pod's taps, rules and address. A pod that has none is fine. */
int netbridge_pod_remove(struct netbridge *b, const char *pod_id, char **ret_error);
/*
 * Removes what belongs to pods not in live[]: their entries in the state
 * file (taps, rules, address), any rule tagged with their id, and any tap
 * named like ours enslaved to the bridge that no live pod holds.
 */
int netbridge_gc(struct netbridge *b, const char *const *live, size_t n_live, char **ret_error);

/* Accessors, for callers and tests. */
const char *netbridge_name(const struct netbridge *b);
const char *netbridge_table(const struct netbridge *b);
const char *netbridge_state_path(const struct netbridge *b);
struct in_addr netbridge_gateway(const struct netbridge *b);

static inline void netbridge_freep(struct netbridge **b)
{
        netbridge_free(*b);
}
#define _cleanup_netbridge_ __attribute__((cleanup(netbridge_freep)))
