/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperctl: the CLI of hyperd, one file per verb. Every verb talks to
 * hyperd's REST API (docs/api.md) through client.c.
 *
 * Exit codes, as Docker's CLI: 0 done; 1 the daemon refused (its message
 * is printed), hyperd could not be reached, or a local file failed;
 * 125 hyperctl itself was used wrongly (unknown command or flag, missing
 * argument).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macros.h"

#define HC_EXIT_FAILURE 1
#define HC_EXIT_USAGE 125
#define HC_DEFAULT_SOCKET "/run/hyper/hyperd.sock"
/* The most of a reply hyperctl keeps in memory (archives go to files). */
#define HC_MAX_REPLY (64u << 20)

struct hc_reply {
        long status;
        char *body;
        size_t len;
};

/* Streaming options of one request; all may be left zero. */
struct hc_call {
        const char *method;
        const char *path;  /* "/v1/..." with the query, parts already escaped */
        FILE *upload;      /* request body */
        const char *body;  /* or a JSON request body */
        long long upload_size; /* -1: unknown (chunked) */
        FILE *download;    /* a 200 reply's body goes here instead of into memory */
        /* Each line of a 200 reply, as it arrives, instead of keeping it. */
        int (*on_line)(const char *line, void *userdata);
        void *userdata;
};

extern const char *hc_socket;

int hc_error(const char *fmt, ...) _printf_(1, 2);
int hc_usage_error(const char *fmt, ...) _printf_(1, 2);
/* Sends a request; returns 0 with *reply filled, or an exit code after saying what went wrong. */
int hc_request(const struct hc_call *call, struct hc_reply *reply);
void hc_reply_done(struct hc_reply *reply);
/* Prints the daemon's message for a reply that is not 2xx; returns HC_EXIT_FAILURE. */
int hc_reply_fail(const struct hc_reply *reply);
/* A GET that must answer 200 with JSON: *ret gets it, or an exit code is returned. */
int hc_get_json(const char *path, struct json_object **ret);
/* Percent-encodes s for a path segment or a query value. */
char *hc_escape(const char *s);
/* A request whose 2xx reply is JSON (*ret may be NULL to drop it); an exit code otherwise. */
int hc_call_json(const char *method, const char *path, const char *body, struct json_object **ret);
/* "/v1/containers/ID/WHAT" (WHAT may be NULL), the id escaped; NULL when out of memory. */
char *hc_container_path(const char *id, const char *what);
/*
 * POSTs /containers/ID/WHAT?KEY=VALUE for each container of argv[first..],
 * printing each one that took it, as docker does; goes on after a failure
 * and returns HC_EXIT_FAILURE if any failed.
 */
int hc_post_each(char **argv, int first, int argc, const char *what, const char *key, const char *value);

int hc_cmd_version(int argc, char **argv);
int hc_cmd_info(int argc, char **argv);
int hc_cmd_images(int argc, char **argv);
int hc_cmd_pull(int argc, char **argv);
int hc_cmd_rmi(int argc, char **argv);
int hc_cmd_load(int argc, char **argv);
int hc_cmd_save(int argc, char **argv);
int hc_cmd_tag(int argc, char **argv);
int hc_cmd_inspect(int argc, char **argv);
int hc_cmd_run(int argc, char **argv);
int hc_cmd_ps(int argc, char **argv);
int hc_cmd_logs(int argc, char **argv);
int hc_cmd_stop(int argc, char **argv);
int hc_cmd_kill(int argc, char **argv);
int hc_cmd_rm(int argc, char **argv);
int hc_cmd_exec(int argc, char **argv);
int hc_cmd_volume(int argc, char **argv);
/* Prints a container's log (tail: NULL for all) to stdout. */
int hc_print_logs(const char *id, const char *tail);
