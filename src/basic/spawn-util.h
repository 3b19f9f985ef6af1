/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/*
 * Starts path with argv and the environment: stdin /dev/null, fd i + 1 a dup
 * of fds[i] (or /dev/null, for writing, where fds[i] is -1), every fd above
 * n_fds closed; signals at their defaults and none blocked, whatever the
 * caller has. Returns 0 or a negative errno.
 */
int spawn_with_fds(const char *path, char **argv, const int *fds, int n_fds, pid_t *ret_pid);
