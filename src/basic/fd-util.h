/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all of buf, retrying on EINTR and short writes; blocks on EAGAIN with poll(). */
int loop_write(int fd, const void *buf, size_t len);
/* Reads exactly len bytes unless EOF comes first; returns the count read or -errno. */
ssize_t loop_read(int fd, void *buf, size_t len);
int fd_nonblock(int fd, bool nonblock);
int fd_cloexec(int fd, bool cloexec);
/* Reads a whole (small) file into a NUL-terminated string of at most max bytes. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Writes a file atomically: a temporary beside it, then rename(). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
