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
        bool veth_qdisc;  /* setup added the veth's ingress qdisc (and its filter) */
        bool tap_qdisc;   /* setup added the tap's ingress qdisc (and its filter) */
        bool user_tap;    /* tapnet_add_user_tap(): tap is the user's own, used as is and never deleted */
        bool user_tap_up; /* the user's tap was down and tapnet_add_user_tap() brought it up: teardown puts it down */
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
/* The same; with unaddressed, links without an address are plumbed too (a guest that configures itself). */
int tapnet_setup_links(struct tapnet **ret, bool unaddressed, char **ret_error);
/* No link at all yet: the netlink socket of the calling thread's netns, for tapnet_add_user_tap(). */
int tapnet_open(struct tapnet **ret, char **ret_error);
/*
 * An existing tap of the user's (in the calling thread's netns when t was
 * made) as the next NIC, eth0 when it is the first: the guest NIC gets mac,
 * the tap's MTU, address ("A.B.C.D/N", or NULL) and a default route via
 * gateway (or none). The tap must exist, be a tap without multi_queue
 * and be open nowhere (-ENODEV, -EMEDIUMTYPE, -EBUSY: tapnet_tap_probe()).
 * A tap that is down is brought up, and tapnet_teardown() puts it down
 * again (tapnet_free() does not: runv's monitor tears down when its VM is
 * gone, and a monitor that is killed leaves it up). Nothing else of it is
 * changed, and it is never deleted. (The VM's open sets the tap's own pi
 * and vnet_hdr flags to QEMU's, as any program attaching to a tap does.)
 */
int tapnet_add_user_tap(struct tapnet *t, const char *tap, const uint8_t mac[6], const char *address,
                        const char *gateway, char **ret_error);
/*
 * Whether a tap (in the calling thread's netns) could be a VM's NIC now: 0
 * when nobody has it open, -EBUSY when a program has (up or down; carrier
 * only shows on a tap that is up), -EINVAL when it is multi_queue (a
 * single-queue open, QEMU's, is refused), another -errno when /dev/net/tun
 * cannot be opened. It attaches for a moment and detaches: a persistent tap
 * stays. Call it only for a tap that exists (it would make one otherwise,
 * gone again at once).
 */
int tapnet_tap_probe(const char *tap);

/*
 * What a runtime client asks of runv's monitor in config.json's annotations
 * (docs/runv.md, "Networking under a client"): "true" to carry links without
 * an address into the VM too; the name of a tap of the client's to give the
 * VM as a NIC, with the guest's address and gateway.
 */
#define TAPNET_ANNOTATION_UNADDRESSED "io.hyper.network.unaddressed"
#define TAPNET_ANNOTATION_TAP         "io.hyper.network.tap"
#define TAPNET_ANNOTATION_TAP_ADDRESS "io.hyper.network.tap.address"
#define TAPNET_ANNOTATION_TAP_GATEWAY "io.hyper.network.tap.gateway"
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
