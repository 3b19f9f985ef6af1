/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd's configuration: defaults, then the file (/etc/hyper/hyperd.conf
 * unless --config names another), then the command line. The file holds
 * "key = value" lines; '#' starts a comment line; blank lines are
 * ignored; an unknown key or a bad value is an error that names its line.
 * man/hyperd.8 lists the keys.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

#define HYPERD_DEFAULT_CONFIG "/etc/hyper/hyperd.conf"
#define HYPERD_DEFAULT_SOCKET "/run/hyper/hyperd.sock"
#define HYPERD_DEFAULT_ROOT "/var/lib/hyper"
#define HYPERD_DEFAULT_RUNV_ROOT "/run/hyper/runv"
#define CONFIG_MAX_FILE (64 * 1024)
#define CONFIG_MAX_LINE 4096

struct config {
        char *socket;   /* the API socket */
        char *root;     /* the image store and hyperd.db */
        char *runv_root; /* runv's state root: one folder per running container */
        char *group;    /* group that may use the socket; NULL: root only */
        char *log_file; /* NULL: stderr */
        char *bridge;        /* the containers' bridge; NULL: netbridge's default (hyper0) */
        char *subnet;        /* its IPv4 subnet; NULL: netbridge's default (10.47.0.0/16) */
        char *network_state; /* netbridge's state folder; NULL: netbridge's default */
        bool debug;
        uint64_t max_upload;   /* bytes of a POST /images/load body */
        unsigned max_clients;  /* connections at once */
};

int config_init(struct config *c);
void config_done(struct config *c);
/*
 * Sets one key ("socket", "root", "runv-root", "group", "log-file", "debug", "max-upload", "max-clients",
 * "bridge", "subnet", "network-state").
 */
int config_set(struct config *c, const char *key, const char *value);
/* Parses a whole file's text; on failure *ret_error says which line and why. */
int config_parse(struct config *c, const char *text, size_t len, char **ret_error);
/* Reads path; a missing file is fine when missing_ok (the default path). */
int config_load(struct config *c, const char *path, bool missing_ok, char **ret_error);
