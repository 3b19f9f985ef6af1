/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A pod file: the JSON that `hyperctl run --podfile` and hyperd take to
 * describe one VM and the containers in it (docs/pod-spec.md). A pod file
 * is outside input: it is parsed with json-c, checked field by field, and
 * every rejection names the field and says what was wrong. Unknown fields
 * are rejected too, so that a misspelt "restartpolicy" is not silently
 * ignored.
 *
 * pod_spec_to_json() writes the canonical form with every default filled
 * in; parsing that again gives the same pod. hyperd keeps that form.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

/* Bounds on what a pod file can make us allocate. */
#define POD_SPEC_MAX_SIZE        (1024u * 1024u)
#define POD_SPEC_MAX_DEPTH       16
#define POD_SPEC_MAX_CONTAINERS  64
#define POD_SPEC_MAX_ARGS        4096 /* entries of entrypoint, and of command */
#define POD_SPEC_MAX_ENV         4096 /* per container */
#define POD_SPEC_MAX_VOLUMES     64
#define POD_SPEC_MAX_MOUNTS      64   /* per container */
#define POD_SPEC_MAX_PORTS       1024 /* in the whole pod */
#define POD_SPEC_MAX_LABELS      256
#define POD_SPEC_MAX_DNS_SERVERS 3 /* what the resolver reads */
#define POD_SPEC_MAX_DNS_SEARCH  6
#define POD_SPEC_MAX_DNS_OPTIONS 16
#define POD_SPEC_MAX_VCPUS       64
#define POD_SPEC_MIN_MEMORY_MIB  64u
#define POD_SPEC_MAX_MEMORY_MIB  (1024u * 1024u) /* 1Ti */

#define POD_SPEC_DEFAULT_VCPUS      1
#define POD_SPEC_DEFAULT_MEMORY_MIB 128u

enum pod_restart_policy {
        POD_RESTART_NEVER,
        POD_RESTART_ALWAYS,
        POD_RESTART_ON_FAILURE,
};

enum pod_volume_driver {
        POD_VOLUME_HOST,  /* a host folder or file, shared over virtio-fs */
        POD_VOLUME_NAMED, /* a volume kept by hyperd */
        POD_VOLUME_RAW,   /* a raw image file, hot-plugged as a block device */
        POD_VOLUME_QCOW2, /* a qcow2 image file, likewise */
};

enum pod_network_mode {
        POD_NETWORK_BRIDGE, /* a tap on a host bridge */
        POD_NETWORK_NONE,   /* loopback only */
        POD_NETWORK_TAP,    /* an existing tap device */
};

enum pod_protocol {
        POD_PROTOCOL_TCP,
        POD_PROTOCOL_UDP,
};

struct pod_mount {
        char *volume; /* the name of one of the pod's volumes */
        char *path;   /* absolute, in the container */
        bool readonly;
};

struct pod_port {
        uint16_t container_port;
        uint16_t host_port; /* the container port when the file leaves it out */
        char *host_ip;      /* an address literal, or NULL: every address */
        enum pod_protocol protocol;
};

struct pod_container {
        char *name;
        char *image;       /* not parsed here: the image store does */
        char **entrypoint; /* NULL: the image's; empty: none */
        char **command;    /* NULL: the image's */
        char **env;        /* "KEY=VALUE", never NULL */
        size_t n_env;
        char *workdir; /* NULL: the image's */
        char *user;    /* NULL: the image's */
        bool tty;
        bool stdin;
        struct pod_mount *mounts;
        size_t n_mounts;
        struct pod_port *ports;
        size_t n_ports;
};

struct pod_volume {
        char *name;
        char *source; /* a host path, or the named volume's name */
        enum pod_volume_driver driver;
        bool readonly;
};

struct pod_label {
        char *key;
        char *value;
};

struct pod_spec {
        char *id;
        char *hostname; /* the id when the file leaves it out */
        struct pod_container *containers;
        size_t n_containers;
        unsigned vcpus;
        uint64_t memory_mib;
        char **dns_servers; /* never NULL, may be empty */
        char **dns_search;
        char **dns_options;
        struct pod_label *labels;
        size_t n_labels;
        enum pod_restart_policy restart_policy;
        struct pod_volume *volumes;
        size_t n_volumes;
        enum pod_network_mode network_mode;
        char *network_bridge; /* bridge mode: NULL for hyperd's default bridge */
        char *network_tap;    /* tap mode: the device */
};

/* Parses a whole pod file. On failure *ret_error (when given) says what was wrong. */
int pod_spec_parse(const char *data, size_t len, struct pod_spec **ret, char **ret_error);
void pod_spec_free(struct pod_spec *spec);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_spec *, pod_spec_free)

/* The canonical form, defaults filled in, as a NUL-terminated string. */
int pod_spec_to_json(const struct pod_spec *spec, char **ret);

/* A pod's volume by name, or NULL. */
const struct pod_volume *pod_spec_find_volume(const struct pod_spec *spec, const char *name);

const char *pod_restart_policy_to_string(enum pod_restart_policy p);
const char *pod_volume_driver_to_string(enum pod_volume_driver d);
const char *pod_network_mode_to_string(enum pod_network_mode m);
const char *pod_protocol_to_string(enum pod_protocol p);
