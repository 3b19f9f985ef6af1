/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A minimal harness: each check prints where it failed and aborts the test. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                             \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                \
                }                                                                               \
        } while (0)

#define CHECK_EQ_INT(a, b)                                                                              \
        do {                                                                                            \
                long long _a = (long long)(a), _b = (long long)(b);                                     \
                if (_a != _b) {                                                                         \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
                        abort();                                                                        \
                }                                                                                       \
        } while (0)

#define CHECK_STREQ(a, b)                                                                           \
        do {                                                                                        \
                const char *_a = (a), *_b = (b);                                                    \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                            \
                        fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
                                _a ? _a : "(null)", _b ? _b : "(null)");                            \
                        abort();                                                                    \
                }                                                                                   \
        } while (0)

#define RUN_TEST(fn)                                   \
        do {                                           \
                fprintf(stderr, "== %s\n", #fn);       \
                fn();                                  \
        } while (0)
