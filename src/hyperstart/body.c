/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

static int body_get(struct request *req, const char *key, bool required, json_type type,
                    struct json_object **ret)
{
        struct json_object *v = NULL;

        if (!json_object_object_get_ex(req->body, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return request_fail(req, -EINVAL, "field \"%s\" is missing", key);
                return 0;
        }
        if (!json_object_is_type(v, type))
                return request_fail(req, -EINVAL, "field \"%s\" has the wrong type", key);
        *ret = v;
        return 1;
}

/* A string with a NUL inside would mean one thing to json-c and another to the kernel. */
static int body_check_string(struct request *req, const char *key, struct json_object *v, size_t max)
{
        size_t len = (size_t)json_object_get_string_len(v);

        if (strlen(json_object_get_string(v)) != len)
                return request_fail(req, -EINVAL, "field \"%s\" contains a NUL byte", key);
        if (len > max)
                return request_fail(req, -E2BIG, "field \"%s\" is longer than %zu bytes", key, max);
        return 0;
}

int body_string(struct request *req, const char *key, bool required, size_t max, const char **ret)
{
        struct json_object *v = NULL;
        int r;

        r = body_get(req, key, required, json_type_string, &v);
        if (r <= 0)
                return r;
        r = body_check_string(req, key, v, max);
        if (r < 0)
                return r;
        *ret = json_object_get_string(v);
        return 0;
}

static int body_to_u32(struct request *req, const char *key, struct json_object *v, uint32_t max,
                       uint32_t *ret)
{
        int64_t n;

        if (!json_object_is_type(v, json_type_int))
                return request_fail(req, -EINVAL, "field \"%s\" is not an integer", key);
        errno = 0;
        n = json_object_get_int64(v);
        /* json-c saturates out-of-range numbers; the bound below catches those too. */
        if (n < 0 || (uint64_t)n > max)
                return request_fail(req, -ERANGE, "field \"%s\" is out of range", key);
        *ret = (uint32_t)n;
        return 0;
}

int body_u32(struct request *req, const char *key, bool required, uint32_t max, uint32_t *ret)
{
        struct json_object *v = NULL;
        int r;

        r = body_get(req, key, required, json_type_int, &v);
        if (r <= 0)
                return r;
        return body_to_u32(req, key, v, max, ret);
}

int body_bool(struct request *req, const char *key, bool *ret)
{
        struct json_object *v = NULL;
        int r;

        r = body_get(req, key, false, json_type_boolean, &v);
        if (r <= 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 0;
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static int body_strv_fill(struct request *req, const char *key, struct json_object *v, char **out, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!json_object_is_type(e, json_type_string))
                        return request_fail(req, -EINVAL, "field \"%s\" holds a non-string", key);
                r = body_check_string(req, key, e, 128 * 1024);
                if (r < 0)
                        return r;
                out[i] = strdup(json_object_get_string(e));
                if (!out[i])
                        return -ENOMEM;
        }
        return 0;
}

int body_strv(struct request *req, const char *key, bool required, size_t max, char ***ret)
{
        struct json_object *v = NULL;
        char **out;
        size_t n;
        int r;

        r = body_get(req, key, required, json_type_array, &v);
        if (r <= 0)
                return r;
        n = json_object_array_length(v);
        if (n > max)
                return request_fail(req, -E2BIG, "field \"%s\" has more than %zu entries", key, max);
        out = calloc(n + 1, sizeof(char *));
        if (!out)
                return -ENOMEM;
        r = body_strv_fill(req, key, v, out, n);
        if (r < 0) {
                strv_free(out);
                return r;
        }
        *ret = out;
        return 0;
}

int body_u32v(struct request *req, const char *key, size_t max, uint32_t **ret, size_t *ret_n)
{
        struct json_object *v = NULL;
        uint32_t *out;
        size_t n;
        int r;

        r = body_get(req, key, false, json_type_array, &v);
        if (r <= 0)
                return r;
        n = json_object_array_length(v);
        if (n > max)
                return request_fail(req, -E2BIG, "field \"%s\" has more than %zu entries", key, max);
        out = calloc(n + 1, sizeof(uint32_t));
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = body_to_u32(req, key, json_object_array_get_idx(v, i), UINT32_MAX - 1, &out[i]);
                if (r < 0) {
                        free(out);
                        return r;
                }
        }
        *ret = out;
        *ret_n = n;
        return 0;
}
