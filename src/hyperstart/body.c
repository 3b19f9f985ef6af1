/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

/* "where" prefixes messages about fields of nested objects, e.g. "mounts[2]: ". */
static int body_get(struct request *req, struct json_object *obj, const char *where, const char *key,
                    bool required, json_type type, struct json_object **ret)
{
        struct json_object *v = NULL;

        if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return request_fail(req, -EINVAL, "%sfield \"%s\" is missing", where, key);
                return 0;
        }
        if (!json_object_is_type(v, type))
                return request_fail(req, -EINVAL, "%sfield \"%s\" has the wrong type", where, key);
        *ret = v;
        return 1;
}

/* A string with a NUL inside would mean one thing to json-c and another to the kernel. */
static int body_check_string(struct request *req, const char *where, const char *key, struct json_object *v,
                             size_t max)
{
        size_t len = (size_t)json_object_get_string_len(v);

        if (strlen(json_object_get_string(v)) != len)
                return request_fail(req, -EINVAL, "%sfield \"%s\" contains a NUL byte", where, key);
        if (len > max)
                return request_fail(req, -E2BIG, "%sfield \"%s\" is longer than %zu bytes", where, key, max);
        return 0;
}

int body_string(struct request *req, const char *key, bool required, size_t max, const char **ret)
{
        return body_object_string(req, req->body, "", key, required, max, ret);
}

int body_object_string(struct request *req, struct json_object *obj, const char *where, const char *key,
                       bool required, size_t max, const char **ret)
{
        struct json_object *v = NULL;
        int r;

        r = body_get(req, obj, where, key, required, json_type_string, &v);
        if (r <= 0)
                return r;
        r = body_check_string(req, where, key, v, max);
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
        return body_object_u32(req, req->body, "", key, required, max, ret);
}

int body_object_u32(struct request *req, struct json_object *obj, const char *where, const char *key,
                    bool required, uint32_t max, uint32_t *ret)
{
        struct json_object *v = NULL;
        int r;

        r = body_get(req, obj, where, key, required, json_type_int, &v);
        if (r <= 0)
                return r;
        return body_to_u32(req, key, v, max, ret);
}

int body_bool(struct request *req, const char *key, bool *ret)
{
        struct json_object *v = NULL;
        int r;

        r = body_get(req, req->body, "", key, false, json_type_boolean, &v);
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

static int body_strv_fill(struct request *req, const char *where, const char *key, struct json_object *v,
                          char **out, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!json_object_is_type(e, json_type_string))
                        return request_fail(req, -EINVAL, "%sfield \"%s\" holds a non-string", where, key);
                r = body_check_string(req, where, key, e, 128 * 1024);
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
        return body_object_strv(req, req->body, "", key, required, max, ret);
}

int body_object_array(struct request *req, struct json_object *obj, const char *where, const char *key,
                      size_t max, struct json_object **ret, size_t *ret_n)
{
        struct json_object *v = NULL;
        int r;

        r = body_get(req, obj, where, key, false, json_type_array, &v);
        if (r <= 0)
                return r;
        if (json_object_array_length(v) > max)
                return request_fail(req, -E2BIG, "%sfield \"%s\" has more than %zu entries", where, key, max);
        *ret = v;
        *ret_n = json_object_array_length(v);
        return 0;
}

int body_object_strv(struct request *req, struct json_object *obj, const char *where, const char *key,
                     bool required, size_t max, char ***ret)
{
        struct json_object *v = NULL;
        char **out;
        size_t n;
        int r;

        r = body_get(req, obj, where, key, required, json_type_array, &v);
        if (r <= 0)
                return r;
        n = json_object_array_length(v);
        if (n > max)
                return request_fail(req, -E2BIG, "%sfield \"%s\" has more than %zu entries", where, key, max);
        out = calloc(n + 1, sizeof(char *));
        if (!out)
                return -ENOMEM;
        r = body_strv_fill(req, where, key, v, out, n);
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

        r = body_get(req, req->body, "", key, false, json_type_array, &v);
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
