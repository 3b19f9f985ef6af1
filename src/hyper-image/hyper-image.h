/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* hyper-image: one file per verb, dispatched from the table in main.c. */

#include <stdbool.h>

#include "image-store.h"
#include "macros.h"

struct hyper_image_globals {
        const char *root;
        bool debug;
};

extern struct hyper_image_globals hyper_image;

/* Prints "hyper-image: MSG" on stderr; returns 1, the exit status for a failure. */
int hi_error(const char *fmt, ...) _printf_(1, 2);
/* Reports a library failure: its message when it gave one, else strerror(r). Returns 1. */
int hi_fail(int r, char *error, const char *what);
/* Opens the store under --root. */
int hi_open_store(struct image_store **ret);

int hi_cmd_pull(int argc, char **argv);
int hi_cmd_images(int argc, char **argv);
int hi_cmd_inspect(int argc, char **argv);
int hi_cmd_rmi(int argc, char **argv);
int hi_cmd_tag(int argc, char **argv);
int hi_cmd_load(int argc, char **argv);
int hi_cmd_save(int argc, char **argv);
int hi_cmd_mount(int argc, char **argv);
int hi_cmd_umount(int argc, char **argv);
int hi_cmd_gc(int argc, char **argv);
