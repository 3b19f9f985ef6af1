/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define SOCKET_MAX_FDS 4

/* Sends one message with up to SOCKET_MAX_FDS fds attached as SCM_RIGHTS. */
int socket_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);
/*
 * Receives one message and the fds that came with it (each O_CLOEXEC).
 * Fds beyond max_fds, or a truncated message, are closed and refused.
 * Returns the message length, 0 at end of file.
 */
ssize_t socket_recv_fds(int sock, void *buf, size_t cap, int *fds, size_t max_fds, size_t *ret_n_fds);
/* Connects to a unix socket path of the given type. */
int socket_connect_unix(const char *path, int type);
/* Creates, binds and listens on a unix socket path (blocking), replacing a stale one. */
int socket_listen_unix(const char *path, int type);
