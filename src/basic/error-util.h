/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A function that fails with a message for its caller takes char **ret_error
 * (NULL: no message wanted) and ends with "return error_set(ret_error, -EINVAL,
 * "...", ...)": the message is formatted into *ret_error (left NULL when out of
 * memory) and r is returned.
 */

#include "macros.h"

/* Replaces any message *ret_error already holds: the last failure speaks. */
int error_set(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

/* Keeps a message *ret_error already holds: the first failure speaks. */
int error_set_first(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
