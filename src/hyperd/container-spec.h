/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What a container runs: the body of POST /v1/containers/run, checked,
 * and the OCI config.json that hyperd writes into the container's bundle
 * from it and the image's config (Docker's rules: an entrypoint given
 * drops the image's Cmd; a cmd given replaces the image's Cmd; env given
 * overrides the image's by key). Pure work, unit-tested; every rejection
 * comes with a message that names the field.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"
#include "manifest.h"
#include "volume-spec.h"

/* Bounds on what a client can make us keep. */
#define CONTAINER_MAX_ARGS   1024
#define CONTAINER_MAX_ENV    1024
#define CONTAINER_MAX_NAME   128
#define CONTAINER_MAX_STRING 4096

struct container_run {
        char *image;
        char *name;        /* NULL: none given */
        char *workdir;     /* NULL: the image's */
        char *user;        /* NULL: the image's */
        char **cmd;        /* NULL or empty: the image's (unless entrypoint is given) */
        char **entrypoint; /* NULL: the image's; empty: none */
        char **env;        /* K=V, NULL when none */
        char **publish;    /* "[HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp]", NULL when none */
        char **dns;        /* nameserver IP literals, NULL when none: the host's */
        char **add_host;   /* "NAME:IP" lines for /etc/hosts, NULL when none */
        char **volumes;    /* -v specs (volume-spec.h), NULL when none */
        uint64_t memory;   /* the VM's memory in bytes; 0: the default */
        uint64_t millicpus; /* the VM's CPUs in thousandths; 0: the default */
        char *pod;         /* the pod to join (docs/pods.md), or NULL: a VM of its own */
        struct json_object *mounts; /* not from the API: OCI mounts of a pod file's volumes, borrowed */
        bool auto_remove;
        bool network_none; /* "network": "none": no network namespace of its own, no NIC */
        char *bridge;      /* "network": "bridge:NAME": a veth on the user's bridge NAME; NULL: hyperd's own */
        char *tap;         /* "network": "tap:NAME": the user's tap NAME is the VM's NIC; NULL: none */
        char *ip;          /* "ip": "A.B.C.D/N" with bridge or tap, NULL: no address */
        char *gateway;     /* "gateway": the default route's next hop with ip, NULL: no route */
        bool tty;          /* "tty": a terminal (process.terminal), held by hyperd-shim */
        bool stdin_open;   /* "stdin": the process's stdin is open for attached clients */
        bool stdin_once;   /* "stdin_once": closed when the first attached client's input ends */
/* config.json's annotation that keeps "stdin" and "stdin_once" for a start again: "open" or "once". */
#define CONTAINER_ANNOTATION_STDIN "io.hyper.hyperd.stdin"
};

int container_run_parse(const char *body, size_t len, struct container_run *ret, char **ret_error);
void container_run_done(struct container_run *r);

/* Bounds on published ports per container. */
#define CONTAINER_MAX_PUBLISH 64
/* Bounds on nameservers and extra hosts per container. */
#define CONTAINER_MAX_DNS      16
#define CONTAINER_MAX_ADD_HOST 256

/* A network interface name of the user's: [A-Za-z0-9_.-], 1 to 15 characters, not "." or "..". */
bool container_ifname_valid(const char *s);

/* "A.B.C.D/N", N 1..32. */
struct in_addr;
int container_cidr_parse(const char *s, struct in_addr *ret_addr, unsigned *ret_prefix);

/* An IPv4 or IPv6 literal. */
bool container_ip_valid(const char *s);
/* "NAME:IP": NAME a hostname (letters, digits, '-', '.', '_'), IP a literal (IPv6 may hold ':'). */
bool container_add_host_valid(const char *s);

/*
 * One -p value, Docker's syntax: [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp],
 * the two ranges of the same length. The pod address is left INADDR_ANY.
 */
struct netbridge_port;
int container_port_parse(const char *s, struct netbridge_port *ret, char **ret_error);

/* Names as Docker's: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most CONTAINER_MAX_NAME. */
bool container_name_valid(const char *name);

/* The process's argv; -EINVAL with a message when there is nothing to run. */
int container_args(const struct image_config *ic, const struct container_run *r, char ***ret, char **ret_error);

/*
 * The user as numbers: "UID[:GID]" or "NAME[:GROUP]", names looked up in
 * the rootfs's /etc/passwd and /etc/group (read inside rootfs_fd, never
 * following a link out of it). An empty or NULL user is root.
 */
int container_user(int rootfs_fd, const char *user, uint32_t *ret_uid, uint32_t *ret_gid, char **ret_error);

struct container_spec_input {
        const struct image_config *image;
        const struct container_run *run;
        const char *id;     /* the hostname is its first 12 characters */
        const char *rootfs; /* absolute */
        uint32_t uid, gid;
        const char *netns; /* the network namespace to join (its path), or NULL for a new, empty one */
        const char *etc;   /* a folder with hosts, resolv.conf and hostname to bind read-only, or NULL */
        const struct volume_mount *volumes; /* host folders, files and named volumes to bind */
        size_t n_volumes;
        const char *ipc_ns, *uts_ns; /* namespaces to join (a pod's), or NULL for new ones */
        struct json_object *mounts;  /* more OCI mounts to append (a pod's volumes), or NULL */
};

/*
 * The OCI config.json: runv's default spec with the process, the root, the hostname and the netns filled in,
 * and, with in->etc, read-only file binds of its hosts, resolv.conf and hostname at /etc.
 */
int container_spec(const struct container_spec_input *in, struct json_object **ret, char **ret_error);

/*
 * The container's /etc files, Podman's way. hosts: localhost, the
 * container's own address (NULL: none) with its hostname and name, then
 * run->add_host. resolv.conf: run->dns when given, else host_resolv (the
 * host's resolv.conf, may be NULL) with its 127.x and ::1 nameservers left
 * out (they would point at the VM itself) and its search and options kept.
 */
char *container_hosts(const struct container_run *run, const char *hostname, const char *addr);
char *container_resolv(const struct container_run *run, const char *host_resolv);
