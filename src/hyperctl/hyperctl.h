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
        /* A 200 reply of Docker's frames (application/vnd.docker.multiplexed-stream) goes to stdout and stderr. */
        bool demux;
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
/* The same for a reply that must be a JSON array; what names it in the error ("a pod list"). */
int hc_get_list(const char *path, const char *what, struct json_object **ret);
/* A listing verb that takes only -q/--quiet: GET path (an array), the header unless quiet, then row() for each. */
struct hc_list {
        const char *usage, *path, *what;
        void (*header)(void);
        void (*row)(struct json_object *o, bool quiet);
};
int hc_list_cmd(int argc, char **argv, const struct hc_list *l);
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
/*
 * METHOD PREFIX<id>SUFFIX (the id escaped) for each of the n ids, printing each
 * one that took it, as docker does; goes on after a failure and returns
 * HC_EXIT_FAILURE if any failed. hc_post_each is one of these.
 */
int hc_call_each(const char *method, const char *prefix, char **ids, int n, const char *suffix);
/*
 * Prints a JSON array of what get() found for each of the n ids, as `docker
 * inspect` does; get() says its own failure, and HC_EXIT_FAILURE is returned
 * if any failed.
 */
int hc_inspect_each(char **ids, int n, int (*get)(const char *id, struct json_object **ret));

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
int hc_cmd_pod(int argc, char **argv);
/* The most of a pod file hyperctl sends (hyperd's limit). */
#define HC_MAX_PODFILE (1024u * 1024u)
/* run --podfile FILE ("-": stdin): the pod made, its id printed; an exit code. */
int hc_run_podfile(const char *file);
/* Prints a container's log (tail: NULL for all) to stdout. */
int hc_cmd_create(int argc, char **argv);
int hc_cmd_start(int argc, char **argv);
int hc_cmd_attach(int argc, char **argv);
/* Prints a container's log (tail: NULL for all); follow until it ends; timestamps in front. */
int hc_logs(const char *id, const char *tail, bool follow, bool timestamps);
int hc_print_logs(const char *id, const char *tail);
/* start.c: whether the container has a tty (its record's "tty"), and its status (16 bytes, or NULL). */
int hc_container_tty(const char *id, bool *ret, char *ret_status);
/* run and create: the same flags; create_only prints the id of a created container. */
int hc_run_main(int argc, char **argv, bool create_only);
/*
 * Attaches to a container (stdin with interactive), starts it when start
 * is set, streams until its output ends, waits for it and returns its
 * exit code (removing it with rm); 0 when the user detached.
 */
int hc_attach_and_wait(const char *id, bool tty, bool interactive, bool start, bool rm);

/* stream.c: attach, run and exec streams over an upgraded connection. */
struct hc_stream_opts {
        bool tty;         /* raw both ways; else hyperd's output comes in Docker's frames */
        bool stdin;       /* stdin goes to the process; its end is a half-close */
        bool detach_keys; /* ctrl-p ctrl-q leaves (with a tty on stdin) */
        const char *resize_path; /* "/v1/.../resize": the terminal's size, now and at each SIGWINCH */
        int (*on_attached)(void *userdata); /* once attached (the terminal raw): start the container */
        void *userdata;
};
/* POSTs path with body, asking for an upgrade: 0 and *ret_fd on 101 (*ret_exec_id from Hyper-Exec-Id). */
int hc_upgrade(const char *path, const char *body, int *ret_fd, char **ret_exec_id);
#define HC_STREAM_DETACHED (-1)
/* 0 when hyperd ended the stream, HC_STREAM_DETACHED when the user detached, or an exit code. */
int hc_stream(int fd, const struct hc_stream_opts *opts);
/* A request whose reply is not looked at, but for its status: 0 for 2xx, else HC_EXIT_FAILURE (silently). */
int hc_call_quiet(const char *method, const char *path);
int hc_resize(const char *resize_path);
/*
 * The terminal on stdin raw (no echo, no line discipline, no ctrl-s/ctrl-q
 * flow control), restored by hc_tty_restore(), at exit, on a fatal signal
 * and before any error message.
 */
void hc_tty_raw_on(void);
void hc_tty_restore(void);
/* Is stdin a terminal, when -t asks for one with -i: a usage error that says what to do, else 0. */
int hc_check_tty(bool tty, bool interactive);
