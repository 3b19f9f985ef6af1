/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd-shim, seen from hyperd (container-io.c): each container's stdio
 * is held by a shim of its own that outlives hyperd (docs/shim.md); hyperd
 * reaches it through DIR/attach.sock (shim-proto.h).
 */

#include <stdbool.h>

#include "hyperd.h"

struct shim_options {
        const char *dir; /* the bundle, or the exec's folder */
        const char *log; /* the CRI log to write, or NULL */
        bool tty, stdin_open, stdin_once;
        bool wait_attach;   /* start runv once the first client says hello */
        bool exit_file;     /* write DIR/exit with runv's status */
        bool ready_on_exit; /* hyperd waits for runv to exit (create) */
};

/* $HYPER_SHIM, else hyperd-shim beside hyperd, else ../libexec/hyper/hyperd-shim. */
int container_shim_find(char **ret);
/*
 * Starts a shim that runs `runv --root ROOT ARGS...` and waits until it
 * is ready (with ready_on_exit: until runv has exited); -EIO with runv's
 * message when it failed.
 */
int container_shim_start(struct hyperd *hd, const struct shim_options *o, char **args, char **ret_error);
/* Connects to DIR's shim and says hello with flags (SHIM_STDIN...; -1: none); an fd, or -errno. */
int container_shim_attach(const char *dir, int flags);
int container_shim_resize(const char *dir, unsigned rows, unsigned cols);
/* Whether the container's process has a terminal (its config.json's process.terminal). */
bool container_config_tty(struct hyperd *hd, const char *id);
/* The same, with "stdin" and "stdin_once" (its CONTAINER_ANNOTATION_STDIN); all false when it cannot be read. */
void container_config_io(struct hyperd *hd, const char *id, bool *ret_tty, bool *ret_stdin_open,
                         bool *ret_stdin_once);
/* Waits until DIR's shim has ended, at most timeout_ms. */
void container_shim_wait(const char *dir, int timeout_ms);
/* The same for the container's shim and those of its execs (B/exec/EID). */
void container_shims_wait(const char *bundle, int timeout_ms);
