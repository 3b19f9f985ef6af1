/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <string.h>

static const char *log_program = "hyper";
static enum log_level log_max_level = LOG_LEVEL_INFO;
static int log_fd = STDERR_FILENO;

void log_setup(const char *program, enum log_level max_level)
{
        log_program = program;
        log_max_level = max_level;
}

void log_set_fd(int fd)
{
        log_fd = fd;
}

void log_set_level(enum log_level max_level)
{
        log_max_level = max_level;
}

enum log_level log_get_level(void)
{
        return log_max_level;
}

int log_full(enum log_level level, int err, const char *fmt, ...)
{
        static const char *const names[] = { "error", "warning", "info", "debug" };
        char msg[4096];
        int saved = errno;
        va_list ap;

        if (err < 0)
                err = -err;
        if (level <= log_max_level) {
                va_start(ap, fmt);
                vsnprintf(msg, sizeof(msg), fmt, ap);
                va_end(ap);
                if (err)
                        dprintf(log_fd, "%s: %s: %s: %s\n", log_program, names[level], msg, strerror(err));
                else
                        dprintf(log_fd, "%s: %s: %s\n", log_program, names[level], msg);
        }
        errno = saved;
        return err ? -err : 0;
}
