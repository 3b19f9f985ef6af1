/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * json-c helpers both sides of the agent protocol use: cleanup functions
 * and typed, validating getters for request and reply bodies. A getter
 * returns -EINVAL when the key is present with the wrong type, -ENOENT
 * when it is absent, and leaves *ret untouched on failure.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "macros.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free)

int json_get_string(struct json_object *o, const char *key, const char **ret);
int json_get_bool(struct json_object *o, const char *key, bool *ret);
int json_get_u32(struct json_object *o, const char *key, uint32_t *ret);
int json_get_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret);
/* An array of strings as a NULL-terminated vector; each element must be a string. */
int json_get_strv(struct json_object *o, const char *key, size_t max, char ***ret);
void strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
/* Parses exactly one JSON object from len bytes; anything else is -EINVAL. */
int json_parse_object(const char *p, size_t len, struct json_object **ret);
