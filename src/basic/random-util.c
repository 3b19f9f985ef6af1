/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

#include "random-util.h"

int random_hex(char *ret, size_t n_digits)
{
        static const char hex[] = "0123456789abcdef";
        unsigned char b[128];
        size_t n = n_digits / 2;

        if (n > sizeof(b) || getrandom(b, n, 0) != (ssize_t)n)
                return -EIO;
        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = hex[b[i] >> 4];
                ret[2 * i + 1] = hex[b[i] & 15];
        }
        ret[2 * n] = '\0';
        return 0;
}
