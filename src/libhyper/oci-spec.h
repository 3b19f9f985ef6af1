/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The parts of an OCI runtime spec (config.json) that Hyper acts on,
 * parsed with json-c and validated. A spec is outside input: every
 * rejection says which field was wrong and why.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

/* Bounds on what a spec can make us allocate. */
#define OCI_SPEC_MAX_SIZE (4u * 1024u * 1024u)
#define OCI_SPEC_MAX_ARGS 4096
#define OCI_SPEC_MAX_ENV 4096
#define OCI_SPEC_MAX_GROUPS 256
#define OCI_SPEC_MAX_MOUNTS 256

struct oci_process {
        bool terminal;
        uint32_t rows, cols; /* consoleSize, 0 when unset */
        uint32_t uid, gid;
        uint32_t *groups;
        size_t n_groups;
        char **args;
        char **env;
        char *cwd;
        bool no_new_privileges;
};

struct oci_mount {
        char *destination;
        char *type;
        char *source;
        char **options;
};

struct oci_namespace {
        char *type;
        char *path; /* NULL: a new one */
};

struct oci_spec {
        char *oci_version;
        struct oci_process *process; /* NULL when the spec has none */
        char *root_path;
        bool root_readonly;
        char *hostname;
        struct oci_mount *mounts;
        size_t n_mounts;
        struct oci_namespace *namespaces;
        size_t n_namespaces;
        char **masked_paths;   /* linux.maskedPaths, or NULL */
        char **readonly_paths; /* linux.readonlyPaths, or NULL */
        int64_t memory_limit; /* bytes, -1 when unset */
        int64_t cpu_quota;    /* -1 when unset */
        uint64_t cpu_period;
        struct json_object *annotations; /* an object, or NULL */
};

/* Parses a whole config.json. On failure *ret_error says what was wrong. */
int oci_spec_parse(const char *data, size_t len, struct oci_spec **ret, char **ret_error);
/* Reads BUNDLE/config.json. */
int oci_spec_load(const char *bundle, struct oci_spec **ret, char **ret_error);
void oci_spec_free(struct oci_spec *spec);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct oci_spec *, oci_spec_free)

/* A process object alone, as `exec --process` passes it. */
int oci_process_parse(struct json_object *o, struct oci_process **ret, char **ret_error);
void oci_process_free(struct oci_process *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct oci_process *, oci_process_free)

/* The path of the network namespace the spec joins, or NULL for a new one or none. */
const char *oci_spec_netns_path(const struct oci_spec *spec);
/* True for a bind mount: type "bind", or "bind"/"rbind" among the options. */
bool oci_mount_is_bind(const struct oci_mount *m);
bool oci_mount_has_option(const struct oci_mount *m, const char *option);

/* The VM's size the spec asks for: 1 vCPU and 128 MiB unless linux.resources limits say otherwise. */
unsigned oci_spec_vcpus(const struct oci_spec *spec);
uint64_t oci_spec_memory_mib(const struct oci_spec *spec);

/* The default config.json of `runv spec`, as runc writes it, NUL-terminated. */
const char *oci_spec_default(void);
