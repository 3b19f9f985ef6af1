/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The processes runv leaves behind for clients (a container's monitor, a
 * pod member, a detached exec) are forked the same way: the child reports
 * "ok" or its error through a pipe once it is set up, and only then does
 * the parent write the pid file and exit, orphaning the child to the
 * caller's subreaper.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "runv.h"

int runv_write_pid_file(const char *path, pid_t pid)
{
        char text[32];
        int n, r;

        if (!path)
                return 0;
        n = snprintf(text, sizeof(text), "%d", (int)pid);
        r = write_file_atomic(path, text, (size_t)n, 0644);
        return r < 0 ? runv_error("cannot write %s: %s", path, strerror(-r)) : 0;
}

void runv_drop_stdio(void)
{
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        for (int i = 0; i < 3 && null_fd >= 0; i++)
                dup2(null_fd, i);
        safe_close(null_fd);
}

int runv_spawn(runv_child_fn fn, void *userdata, const char *pid_file, const char *what)
{
        char msg[4096];
        int ready[2];
        ssize_t n;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0 || (pid = fork()) < 0)
                return runv_error("cannot start %s: %s", what, strerror(errno));
        if (pid == 0) {
                close(ready[0]);
                /* From here on errors are the parent's to report: its stderr is the caller's. */
                runv.detached = true;
                fn(userdata, ready[1]);
        }
        close(ready[1]);
        n = loop_read(ready[0], msg, sizeof(msg) - 1);
        close(ready[0]);
        msg[n > 0 ? n : 0] = '\0';
        if (strcmp(msg, "ok") != 0) {
                waitpid(pid, NULL, 0);
                return runv_error("%s", msg[0] ? msg : "it died before it was ready");
        }
        return runv_write_pid_file(pid_file, pid);
}
