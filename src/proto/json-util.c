/* SPDX-License-Identifier: Apache-2.0 */
#include "json-util.h"

#include <errno.h>
#include <string.h>

static int json_get(struct json_object *o, const char *key, json_type type, struct json_object **ret)
{
        struct json_object *v;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) || !v)
                return -ENOENT;
        if (!json_object_is_type(v, type))
                return -EINVAL;
        *ret = v;
        return 0;
}

int json_get_string(struct json_object *o, const char *key, const char **ret)
{
        struct json_object *v;
        int r = json_get(o, key, json_type_string, &v);

        if (r < 0)
                return r;
        /* An embedded NUL would make the C string say less than the JSON did. */
        if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
                return -EINVAL;
        *ret = json_object_get_string(v);
        return 0;
}

int json_get_bool(struct json_object *o, const char *key, bool *ret)
{
        struct json_object *v;
        int r = json_get(o, key, json_type_boolean, &v);

        if (r < 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 0;
}

int json_get_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret)
{
        struct json_object *v;
        int64_t n;
        int r = json_get(o, key, json_type_int, &v);

        if (r < 0)
                return r;
        errno = 0;
        n = json_object_get_int64(v);
        /* json-c saturates out-of-range numbers and says so in errno. */
        if (errno != 0 || n < min || n > max)
                return -ERANGE;
        *ret = n;
        return 0;
}

int json_get_u32(struct json_object *o, const char *key, uint32_t *ret)
{
        int64_t n;
        int r = json_get_int(o, key, 0, UINT32_MAX, &n);

        if (r < 0)
                return r;
        *ret = (uint32_t)n;
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

int json_get_strv(struct json_object *o, const char *key, size_t max, char ***ret)
{
        _cleanup_(strv_freep) char **v = NULL;
        struct json_object *a;
        size_t n;
        int r;

        r = json_get(o, key, json_type_array, &a);
        if (r < 0)
                return r;
        n = json_object_array_length(a);
        if (n > max)
                return -E2BIG;
        v = calloc(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(a, i);
                if (!json_object_is_type(e, json_type_string) ||
                    strlen(json_object_get_string(e)) != (size_t)json_object_get_string_len(e))
                        return -EINVAL;
                v[i] = strdup(json_object_get_string(e));
                if (!v[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int json_parse_object(const char *p, size_t len, struct json_object **ret)
{
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        struct json_object *o;

        if (len > INT32_MAX)
                return -E2BIG;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, p, (int)len);
        if (!o || json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EINVAL;
        }
        *ret = o;
        return 0;
}
