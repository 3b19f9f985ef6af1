/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "error-util.h"
#include "macros.h"
#include "pod.h"
#include "volume-spec.h"

void volume_spec_done(struct volume_spec *v)
{
        free(v->source);
        free(v->destination);
        *v = (struct volume_spec){0};
}

bool volume_name_valid(const char *name)
{
        static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        size_t n = strlen(name);

        return n >= 2 && n <= VOLUME_MAX_NAME && strchr(alnum, name[0]) &&
               strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

bool volume_destination_valid(const char *path)
{
        size_t n = strlen(path);

        if (path[0] != '/' || n < 2 || n > VOLUME_MAX_PATH)
                return false;
        for (const char *p = path + 1; *p;) {
                size_t len = strcspn(p, "/");

                /* Empty ("//", a trailing "/"), "." and ".." parts. */
                if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += len;
                if (*p == '/')
                        p++;
                if (*p == '\0' && p[-1] == '/')
                        return false;
        }
        return true;
}

bool volume_format_valid(const char *format)
{
        return strcmp(format, "raw") == 0 || strcmp(format, "qcow2") == 0;
}

static int vs_options(const char *opts, const char *s, bool *ret_readonly, char **ret_error)
{
        if (strcmp(opts, "ro") == 0)
                *ret_readonly = true;
        else if (strcmp(opts, "rw") == 0)
                *ret_readonly = false;
        else
                return error_set(ret_error, -EINVAL,
                                 "invalid volume \"%.200s\": the mode \"%.32s\" is not ro or rw "
                                 "(SOURCE:/CONTAINER/PATH[:ro|rw])",
                                 s, opts);
        return 0;
}

static int vs_source(const char *src, const char *s, enum volume_kind *ret, char **ret_error)
{
        if (src[0] == '/') {
                *ret = VOLUME_HOST;
                return strlen(src) <= VOLUME_MAX_PATH
                               ? 0
                               : error_set(ret_error, -EINVAL, "invalid volume: the host path is over %d bytes",
                                           VOLUME_MAX_PATH);
        }
        *ret = VOLUME_NAMED;
        if (src[0] == '.' || strchr(src, '/'))
                return error_set(ret_error, -EINVAL,
                                 "invalid volume \"%.200s\": a host path must be absolute (\"%.200s\" is not); "
                                 "a volume name has no '/'",
                                 s, src);
        if (!volume_name_valid(src))
                return error_set(ret_error, -EINVAL,
                                 "invalid volume name \"%.200s\": letters, digits, '_', '.' and '-', 2 to %d, "
                                 "starting with a letter or digit",
                                 src, VOLUME_MAX_NAME);
        return 0;
}

int volume_spec_parse(const char *s, struct volume_spec *ret, char **ret_error)
{
        _cleanup_free_ char *copy = strdup(s);
        struct volume_spec v = {0};
        char *dest, *opts;
        int r;

        if (!copy)
                return -ENOMEM;
        dest = strchr(copy, ':');
        if (!dest || dest == copy)
                return error_set(ret_error, -EINVAL,
                                 "invalid volume \"%.200s\": SOURCE:/CONTAINER/PATH[:ro|rw], where SOURCE is an "
                                 "absolute host path or a volume name",
                                 s);
        *dest++ = '\0';
        opts = strchr(dest, ':');
        if (opts)
                *opts++ = '\0';
        if (opts && (r = vs_options(opts, s, &v.readonly, ret_error)) < 0)
                return r;
        if (!volume_destination_valid(dest))
                return error_set(ret_error, -EINVAL,
                                 "invalid volume \"%.200s\": the container path \"%.200s\" must be absolute, "
                                 "not \"/\", without \".\" or \"..\" parts",
                                 s, dest);
        r = vs_source(copy, s, &v.kind, ret_error);
        if (r < 0)
                return r;
        v.source = strdup(copy);
        v.destination = strdup(dest);
        if (!v.source || !v.destination) {
                volume_spec_done(&v);
                return -ENOMEM;
        }
        *ret = v;
        return 0;
}

/* A decimal count and its suffix; -ERANGE past UINT64_MAX. */
static int rs_number(const char *s, uint64_t *ret, const char **ret_end)
{
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        *ret_end = s;
        return 0;
}

int resources_memory_parse(const char *s, uint64_t *ret, char **ret_error)
{
        static const char units[] = "bkmg";
        uint64_t v = 0, mult = 1;
        const char *end = NULL, *u;
        int r = rs_number(s, &v, &end);

        if (r >= 0 && *end) {
                u = strchr(units, *end | 0x20);
                if (!u || end[1] != '\0')
                        r = -EINVAL;
                else
                        mult = 1ull << (10 * (u - units));
        }
        if (r >= 0 && v > VOLUME_MAX_MEMORY / mult)
                r = -ERANGE;
        if (r < 0)
                return error_set(ret_error, -EINVAL,
                                 "invalid memory \"%.64s\": a number of bytes with an optional unit b, k, m or g "
                                 "(e.g. 256m, 1g), at most 1024g",
                                 s);
        if (v * mult < VOLUME_MIN_MEMORY)
                return error_set(ret_error, -EINVAL, "memory \"%.64s\" is too small: a VM needs at least 64m to boot",
                                 s);
        *ret = v * mult;
        return 0;
}

int resources_cpus_parse(const char *s, unsigned max_cpus, uint64_t *ret_millicpus, char **ret_error)
{
        uint64_t whole = 0, milli = 0;
        const char *end = s;
        int r = 0;

        if (*s != '.')
                r = rs_number(s, &whole, &end);
        if (r >= 0 && *end == '.') {
                const char *frac = ++end;

                /* Up to three decimals (milli-CPUs); a fourth is refused below. */
                for (int i = 0; i < 3; i++)
                        milli = milli * 10 + (uint64_t)(*end >= '0' && *end <= '9' ? *end++ - '0' : 0);
                if (end == frac)
                        r = -EINVAL;
        }
        if (r >= 0 && (*end != '\0' || whole > max_cpus))
                r = -EINVAL;
        milli += whole * 1000;
        if (r < 0 || milli == 0 || milli > (uint64_t)max_cpus * 1000)
                return error_set(ret_error, -EINVAL,
                                 "invalid cpus \"%.64s\": a number above 0 and at most %u "
                                 "(the host's CPUs), e.g. 2 or 0.5",
                                 s, max_cpus);
        *ret_millicpus = milli;
        return 0;
}

static bool vs_has_suffix(const char *name, const char *suffix)
{
        size_t n = strlen(name), s = strlen(suffix);

        return n > s && strcasecmp(name + n - s, suffix) == 0;
}

const char *volume_probe_format(const unsigned char *head, size_t len, const char *name)
{
        static const char *const exts[] = {".img", ".raw", ".qcow"};

        /*
         * qcow2 only by the name the host's user gave: the contents may come
         * from a guest that had the disk raw, and a qcow2 header planted in
         * an ext4 image's unused first KiB would name a backing file for
         * QEMU to open. QEMU's magic only says "a disk image": raw.
         */
        if (name && vs_has_suffix(name, ".qcow2"))
                return "qcow2";
        if (len >= 4 && memcmp(head, "QFI\xfb", 4) == 0)
                return "raw";
        /* ext2/3/4: s_magic 0xEF53 at byte 56 of the superblock, which starts at 1024. */
        if (len >= 1082 && head[1080] == 0x53 && head[1081] == 0xEF)
                return "raw";
        if (len >= 4 && memcmp(head, "XFSB", 4) == 0)
                return "raw";
        if (len >= 0x10048 && memcmp(head + 0x10040, "_BHRfS_M", 8) == 0)
                return "raw";
        for (size_t i = 0; name && i < ARRAY_SIZE(exts); i++)
                if (vs_has_suffix(name, exts[i]))
                        return "raw";
        return NULL;
}

/*
 * What a failed runv mount-block means, from its message (runv's, QEMU's
 * and the guest agent's words, docs/runv.md): -EINVAL when the file or its
 * format is wrong (400), -EBUSY when the container cannot take a disk now
 * (409), -ENOTRECOVERABLE when the VM kept the disk (the row is kept),
 * -EIO for the rest.
 */
int volume_mount_error(const char *msg)
{
        static const char *const bad[] = {
                "is not in qcow2 format", "not a qcow2 image", "qcow2 version", "has a backing file",
                "external data file", "has no ext2/3/4 file system", "file system of", "format must be",
                "Could not open", "Permission denied",
        };
        static const char *const busy[] = {"container not running", "is not running", "too many disks",
                                           "no free hot-plug port"};

        if (!msg)
                return -EIO;
        if (strstr(msg, POD_DISK_STUCK))
                return -ENOTRECOVERABLE;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (strstr(msg, bad[i]))
                        return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(busy); i++)
                if (strstr(msg, busy[i]))
                        return -EBUSY;
        return -EIO;
}

static struct json_object *vs_bind(const struct volume_mount *m)
{
        struct json_object *o = json_object_new_object(), *opts = json_object_new_array();

        if (!o || !opts) {
                json_object_put(o);
                json_object_put(opts);
                return NULL;
        }
        json_object_array_add(opts, json_object_new_string("rbind"));
        json_object_array_add(opts, json_object_new_string(m->readonly ? "ro" : "rw"));
        json_object_object_add(o, "destination", json_object_new_string(m->destination));
        json_object_object_add(o, "type", json_object_new_string("bind"));
        json_object_object_add(o, "source", json_object_new_string(m->source));
        json_object_object_add(o, "options", opts);
        return o;
}

int volume_spec_mounts_array(struct json_object *spec, struct json_object **ret)
{
        struct json_object *mounts;

        if (!json_object_object_get_ex(spec, "mounts", &mounts)) {
                mounts = json_object_new_array();
                if (!mounts || json_object_object_add(spec, "mounts", mounts) < 0)
                        return -ENOMEM;
        }
        if (!json_object_is_type(mounts, json_type_array))
                return -EINVAL;
        *ret = mounts;
        return 0;
}

int volume_spec_mounts(struct json_object *spec, const struct volume_mount *m, size_t n)
{
        struct json_object *mounts;
        int r;

        if (n == 0)
                return 0;
        r = volume_spec_mounts_array(spec, &mounts);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct json_object *o = vs_bind(&m[i]);

                if (!o || json_object_array_add(mounts, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        }
        return 0;
}

/* spec[key], made an object when missing. */
static struct json_object *vs_child(struct json_object *parent, const char *key)
{
        struct json_object *o;

        if (!parent)
                return NULL;
        if (json_object_object_get_ex(parent, key, &o))
                return json_object_is_type(o, json_type_object) ? o : NULL;
        o = json_object_new_object();
        if (o && json_object_object_add(parent, key, o) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int resources_spec_apply(struct json_object *spec, uint64_t memory, uint64_t millicpus)
{
        struct json_object *res, *o;

        if (memory == 0 && millicpus == 0)
                return 0;
        res = vs_child(vs_child(spec, "linux"), "resources");
        if (!res)
                return -ENOMEM;
        if (memory) {
                o = vs_child(res, "memory");
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "limit", json_object_new_int64((int64_t)memory));
        }
        if (millicpus) {
                o = vs_child(res, "cpu");
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "quota", json_object_new_int64((int64_t)millicpus * 100));
                json_object_object_add(o, "period", json_object_new_int64(100000));
        }
        return 0;
}
