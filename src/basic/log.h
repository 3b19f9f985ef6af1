/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Logging for programs. Library code does not log: it returns a negative
 * errno (and, at API boundaries, a message in a struct error), and the
 * program that called it logs once.
 */

#include "macros.h"

enum log_level {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
};

void log_setup(const char *program, enum log_level max_level);
void log_set_fd(int fd);
void log_set_level(enum log_level max_level);
enum log_level log_get_level(void);

/* Returns -abs(err) when err is non-zero, so that "return log_error_errno(r, ...)" works. */
int log_full(enum log_level level, int err, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_full(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
