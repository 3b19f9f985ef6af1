/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bridge's nftables table, through libnftables in nft's own language.
 * Every name and value put into a command is checked first (bridge, table
 * and pod names from a small alphabet, addresses printed by inet_ntop(),
 * ports as integers), so a command can never say more than we meant; each
 * call is one batch, which the kernel applies whole or not at all.
 * Listings come back as nft's JSON and are read with json-c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netbridge-internal.h"

#define NB_RULES_MAX 65536

int nb_nft_open(struct netbridge *b, char **ret_error)
{
        b->nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!b->nft)
                return -ENOMEM;
        if (nft_ctx_buffer_output(b->nft) != 0 || nft_ctx_buffer_error(b->nft) != 0)
                return nb_fail(ret_error, -ENOMEM, "setting up libnftables");
        return 0;
}

void nb_nft_close(struct netbridge *b)
{
        if (b->nft)
                nft_ctx_free(b->nft);
        b->nft = NULL;
}

/* Runs one batch; a failure says what and gives nft's first error line. */
static int nb_nft_run(struct netbridge *b, const char *cmds, char **ret_error, const char *what)
{
        const char *err;
        size_t len;

        /* Reading a buffer rewinds it: nothing of an earlier call is left. */
        (void)nft_ctx_get_output_buffer(b->nft);
        (void)nft_ctx_get_error_buffer(b->nft);
        if (nft_run_cmd_from_buffer(b->nft, cmds) == 0)
                return 0;
        err = nft_ctx_get_error_buffer(b->nft) ?: "";
        len = strcspn(err, "\n");
        return nb_fail(ret_error, strstr(err, "No such file or directory") ? -ENOENT : -EIO, "%s (nft: %.*s)", what,
                       (int)MIN(len, 300u), err);
}

/* A memory stream for a batch; *buf is valid once the stream is closed. */
static FILE *nb_batch_open(char **buf, size_t *size)
{
        *buf = NULL;
        return open_memstream(buf, size);
}

static int nb_batch_run(struct netbridge *b, FILE **f, char **buf, char **ret_error, const char *what)
{
        bool failed = ferror(*f);

        if (fclose(TAKE_PTR(*f)) != 0 || failed)
                return -ENOMEM;
        return nb_nft_run(b, *buf, ret_error, what);
}

/*
 * prerouting and output send what is addressed to a local address to
 * "ports" (the DNAT rules); postrouting masquerades the subnet leaving by
 * another interface, host connections from 127.0.0.0/8 that DNAT sent to
 * a pod (the pod could not answer 127.0.0.1), and pods reaching a
 * published port of another pod (its answer would otherwise bypass us).
 */
static void nb_nft_write_base(FILE *f, const struct netbridge *b)
{
        const char *t = b->table;

        fprintf(f, "add table ip %s\n", t);
        fprintf(f, "add chain ip %s ports\n", t);
        fprintf(f, "add chain ip %s prerouting { type nat hook prerouting priority dstnat; policy accept; }\n", t);
        fprintf(f, "add chain ip %s output { type nat hook output priority -100; policy accept; }\n", t);
        fprintf(f, "add chain ip %s postrouting { type nat hook postrouting priority srcnat; policy accept; }\n", t);
        fprintf(f, "flush chain ip %s prerouting\nflush chain ip %s output\nflush chain ip %s postrouting\n", t, t, t);
        fprintf(f, "add rule ip %s prerouting fib daddr type local jump ports\n", t);
        fprintf(f, "add rule ip %s output fib daddr type local jump ports\n", t);
        fprintf(f, "add rule ip %s postrouting ip saddr %s oifname != \"%s\" masquerade\n", t, b->subnet_text, b->name);
        fprintf(f, "add rule ip %s postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n", t, b->name);
        fprintf(f, "add rule ip %s postrouting oifname \"%s\" ip saddr %s ct status dnat masquerade\n", t, b->name,
                b->subnet_text);
}

int nb_nft_ensure(struct netbridge *b, char **ret_error)
{
        _cleanup_free_ char *buf = NULL; /* declared first: freed after f's fclose() sets it */
        _cleanup_(fclosep) FILE *f = NULL;
        size_t size;

        f = nb_batch_open(&buf, &size);
        if (!f)
                return -ENOMEM;
        nb_nft_write_base(f, b);
        return nb_batch_run(b, &f, &buf, ret_error, "setting up nftables table");
}

int nb_nft_destroy(struct netbridge *b, char **ret_error)
{
        _cleanup_free_ char *cmds = NULL;

        /* Adding first makes the delete succeed when the table is gone already. */
        if (asprintf(&cmds, "add table ip %s\ndelete table ip %s\n", b->table, b->table) < 0)
                return -ENOMEM;
        return nb_nft_run(b, cmds, ret_error, "deleting nftables table");
}

/* "hyper:<pod>:tcp:0.0.0.0:8000-8010": one mapping's rules share it. */
static int nb_port_comment(const char *pod_id, const struct netbridge_port *p, char **ret)
{
        char host[INET_ADDRSTRLEN];

        if (!inet_ntop(AF_INET, &p->host_ip, host, sizeof(host)))
                return -EINVAL;
        if (asprintf(ret, NB_COMMENT_PREFIX "%s:%s:%s:%u-%u", pod_id, nb_protocol_name(p->protocol), host, p->host_port,
                     p->host_port_end) < 0)
                return -ENOMEM;
        return 0;
}

int nb_nft_port_add(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error)
{
        _cleanup_free_ char *buf = NULL, *comment = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char host[INET_ADDRSTRLEN], pod[INET_ADDRSTRLEN];
        const char *proto = nb_protocol_name(p->protocol);
        size_t size;
        int r;

        r = nb_port_comment(pod_id, p, &comment);
        if (r < 0)
                return r;
        if (!inet_ntop(AF_INET, &p->host_ip, host, sizeof(host)) || !inet_ntop(AF_INET, &p->pod_ip, pod, sizeof(pod)))
                return -EINVAL;
        f = nb_batch_open(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (unsigned port = p->host_port; port <= p->host_port_end; port++) {
                fprintf(f, "add rule ip %s ports ", b->table);
                if (p->host_ip.s_addr != INADDR_ANY)
                        fprintf(f, "ip daddr %s ", host);
                fprintf(f, "%s dport %u dnat to %s:%u comment \"%s\"\n", proto, port, pod,
                        p->pod_port + (port - p->host_port), comment);
        }
        return nb_batch_run(b, &f, &buf, ret_error, "adding port rules");
}

/* The rules of chain "ports": {"rule": {"handle": n, "comment": s, ...}} entries. */
static int nb_nft_list_ports(struct netbridge *b, struct json_object **ret, char **ret_error)
{
        _cleanup_free_ char *cmd = NULL;
        struct json_object *root, *items;
        unsigned flags = nft_ctx_output_get_flags(b->nft);
        int r;

        if (asprintf(&cmd, "list chain ip %s ports", b->table) < 0)
                return -ENOMEM;
        nft_ctx_output_set_flags(b->nft, flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
        r = nb_nft_run(b, cmd, ret_error, "listing port rules");
        nft_ctx_output_set_flags(b->nft, flags);
        if (r < 0)
                return r;
        root = json_tokener_parse(nft_ctx_get_output_buffer(b->nft));
        if (!root || !json_object_object_get_ex(root, "nftables", &items) ||
            !json_object_is_type(items, json_type_array)) {
                json_object_put(root);
                return nb_fail(ret_error, -EBADMSG, "listing port rules: unexpected output from libnftables");
        }
        *ret = root;
        return 0;
}

typedef bool (*nb_rule_match_t)(const char *comment, const void *userdata);

/* Deletes, in one batch, every rule of "ports" whose comment matches. */
static int nb_nft_delete_matching(struct netbridge *b, nb_rule_match_t match, const void *userdata, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_free_ char *buf = NULL; /* declared first: freed after f's fclose() sets it */
        _cleanup_(fclosep) FILE *f = NULL;
        struct json_object *items, *rule, *v;
        size_t size, n = 0;
        int r;

        r = nb_nft_list_ports(b, &root, ret_error);
        if (r < 0)
                return r;
        f = nb_batch_open(&buf, &size);
        if (!f)
                return -ENOMEM;
        (void)json_object_object_get_ex(root, "nftables", &items);
        for (size_t i = 0; i < json_object_array_length(items) && n < NB_RULES_MAX; i++) {
                if (!json_object_object_get_ex(json_object_array_get_idx(items, i), "rule", &rule) ||
                    !json_object_object_get_ex(rule, "comment", &v) || !match(json_object_get_string(v), userdata) ||
                    !json_object_object_get_ex(rule, "handle", &v))
                        continue;
                fprintf(f, "delete rule ip %s ports handle %" PRId64 "\n", b->table, json_object_get_int64(v));
                n++;
        }
        if (n == 0)
                return 0;
        return nb_batch_run(b, &f, &buf, ret_error, "deleting port rules");
}

static bool nb_match_exact(const char *comment, const void *userdata)
{
        return strcmp(comment, userdata) == 0;
}

static bool nb_match_prefix(const char *comment, const void *userdata)
{
        return strncmp(comment, userdata, strlen(userdata)) == 0;
}

int nb_nft_pod_rules_del(struct netbridge *b, const char *pod_id, const struct netbridge_port *p, char **ret_error)
{
        _cleanup_free_ char *want = NULL;
        int r;

        if (p)
                r = nb_port_comment(pod_id, p, &want);
        else
                r = asprintf(&want, NB_COMMENT_PREFIX "%s:", pod_id) < 0 ? -ENOMEM : 0;
        if (r < 0)
                return r;
        return nb_nft_delete_matching(b, p ? nb_match_exact : nb_match_prefix, want, ret_error);
}

struct nb_live {
        const char *const *ids;
        size_t n;
};

/* A rule of ours whose pod is not among the live ones. */
static bool nb_match_dead(const char *comment, const void *userdata)
{
        const struct nb_live *live = userdata;
        const char *id, *end;

        if (strncmp(comment, NB_COMMENT_PREFIX, strlen(NB_COMMENT_PREFIX)) != 0)
                return false;
        id = comment + strlen(NB_COMMENT_PREFIX);
        end = strchr(id, ':');
        if (!end)
                return false;
        for (size_t i = 0; i < live->n; i++)
                if (strlen(live->ids[i]) == (size_t)(end - id) && strncmp(live->ids[i], id, end - id) == 0)
                        return false;
        return true;
}

int nb_nft_gc(struct netbridge *b, const char *const *live, size_t n_live, char **ret_error)
{
        struct nb_live l = {live, n_live};

        return nb_nft_delete_matching(b, nb_match_dead, &l, ret_error);
}
