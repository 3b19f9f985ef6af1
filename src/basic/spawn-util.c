/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include "spawn-util.h"

extern char **environ;

int spawn_with_fds(const char *path, char **argv, const int *fds, int n_fds, pid_t *ret_pid)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        int r;

        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        for (int i = 0; i < n_fds; i++) {
                if (fds[i] < 0)
                        posix_spawn_file_actions_addopen(&fa, i + 1, "/dev/null", O_WRONLY, 0);
                else
                        posix_spawn_file_actions_adddup2(&fa, fds[i], i + 1);
        }
        posix_spawn_file_actions_addclosefrom_np(&fa, n_fds + 1);
        r = -posix_spawn(ret_pid, path, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r;
}
