/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* n_digits (even) random lowercase hex digits and a NUL into ret (n_digits + 1 bytes): 0 or -EIO. */
int random_hex(char *ret, size_t n_digits);
