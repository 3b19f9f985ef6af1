/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by netbridge.c, netbridge-state.c and netbridge-nft.c only. */

#include <stdbool.h>

#include "macros.h"
#include "netbridge.h"

struct nl_sock;
struct nft_ctx;

struct netbridge {
        char *name;
        char *table;
        char *state_dir;
        char *state_path;      /* STATE_DIR/<name>.json */
        char *lock_path;       /* STATE_DIR/<name>.lock */
        char *subnet_text;     /* "10.47.0.0/16", canonical */
        struct in_addr subnet; /* the network address */
        unsigned prefix;
        struct in_addr gateway; /* the first host address, on the bridge */
        struct nl_sock *sock;
        struct nft_ctx *nft;
};

/* The pod's rules carry comments starting with this, then ":". */
#define NB_COMMENT_PREFIX "hyper:"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);

/* Returns r; the first failure's message goes to *ret_error (when given and still empty). */
int nb_fail(char **ret_error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool nb_pod_id_valid(const char *id);
const char *nb_protocol_name(enum netbridge_protocol p);

/* The state file: a json-c tree, loaded and saved under the lock. */
int nb_state_lock(struct netbridge *b, int *ret_fd, char **ret_error);
int nb_state_load(struct netbridge *b, struct json_object **ret, char **ret_error);
int nb_state_save(struct netbridge *b, struct json_object *root, char **ret_error);
/* The pod's object in the state, made when create is set; NULL when absent. */
struct json_object *nb_state_pod(struct json_object *root, const char *pod_id, bool create);
/* Drops the pod's object once it holds no address, tap or port. */
void nb_state_pod_prune(struct json_object *root, const char *pod_id);
int nb_state_alloc(struct netbridge *b, struct json_object *root, const char *pod_id, struct in_addr *ret,
                   char **ret_error);
bool nb_state_pod_address(struct json_object *pod, struct in_addr *ret);
/* Fills p from a port in the state (validated at load). */
void nb_port_from_json(struct json_object *o, struct netbridge_port *p);
struct json_object *nb_port_to_json(const struct netbridge_port *p);
/* The pod and the mapping of another pod's that overlaps p, or -ENOENT. */
int nb_state_port_conflict(struct json_object *root, const struct netbridge_port *p, const char **ret_pod);

/* nftables. */
int nb_nft_open(struct netbridge *b, char **ret_error);
void nb_nft_close(struct netbridge *b);
int nb_nft_ensure(struct netbridge *b, char **ret_error);
int nb_nft_port_add(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error);
/* Deletes the rules whose comment is exactly the port's (p set) or starts with the pod's prefix. */
int nb_nft_pod_rules_del(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error);
/* Deletes the rules tagged for any pod not in live[]. */
int nb_nft_gc(struct netbridge *b, const char *const *live, size_t n_live, char **ret_error);
int nb_nft_destroy(struct netbridge *b, char **ret_error);
