/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A container's network namespace, handed to its VM. CNI (containerd) and
 * Podman give the container a netns with a veth that carries its address
 * and routes. tapnet_setup() runs inside that netns: for each veth it makes
 * a persistent tap and redirects every frame between the two with tc (an
 * ingress qdisc on each and a u32 match-all filter whose mirred action
 * redirects to the other's egress: Kata Containers' "tcfilter"). QEMU then
 * opens the tap by name, its virtio-net NIC takes the veth's MAC, and the
 * guest agent gives the guest interface the veth's addresses and routes.
 *
 * The netlink socket made at setup stays in struct tapnet: it belongs to
 * the netns it was made in, so tapnet_teardown() works from any thread.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor.h"

struct nl_sock;

struct tapnet_link {
        char *name; /* the veth in the netns, e.g. "eth0" */
        char *tap;  /* the tap made for it, e.g. "tap_eth0" */
        int ifindex;
        int tap_ifindex;  /* 0 until the tap exists */
        uint8_t mac[6];   /* the veth's: the guest NIC takes it */
        unsigned mtu;     /* the veth's; the tap gets the same */
        char **addresses; /* CIDR strings, "10.88.0.5/16", "fd00::5/64" */
        size_t n_addresses;
        bool veth_qdisc; /* setup added the veth's ingress qdisc (and its filter) */
        bool tap_qdisc;  /* setup added the tap's ingress qdisc (and its filter) */
};

struct tapnet_route {
        char *dest;    /* "default" or a CIDR; "::/0" for an IPv6 default without gateway */
        char *gateway; /* NULL when the route has none */
        char *device;  /* the veth's name: the guest names its interface alike */
};

struct tapnet {
        struct nl_sock *sock;
        struct tapnet_link *links;
        size_t n_links;
        struct tapnet_route *routes; /* routes without a gateway come first */
        size_t n_routes;
};

/*
 * Plumbs every non-loopback Ethernet link of the calling thread's netns
 * that is up and has a global address. On failure nothing it added is
 * left, and *ret_error (when given) says what failed, for a user.
 * A veth that already has an ingress qdisc is refused (-EBUSY).
 */
int tapnet_setup(struct tapnet **ret, char **ret_error);
/* Removes the filters, qdiscs and taps setup added, then frees. Accepts NULL. */
void tapnet_teardown(struct tapnet *t);
/* Frees memory and the netlink socket only; the taps and filters stay. Accepts NULL. */
void tapnet_free(struct tapnet *t);
/* The NETWORK request body for the guest agent (interfaces and routes). */
struct json_object *tapnet_to_json(const struct tapnet *t);
/* An array of t->n_links NICs for struct vm_config; the names point into t. */
int tapnet_vm_nics(const struct tapnet *t, struct vm_nic **ret);

static inline void tapnet_freep(struct tapnet **t)
{
        tapnet_free(*t);
}
#define _cleanup_tapnet_ __attribute__((cleanup(tapnet_freep)))
