/* SPDX-License-Identifier: Apache-2.0 */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fd-util.h"
#include "json-util.h"
#include "runv.h"

#define STATE_MAX_SIZE (1024u * 1024u)

static const char *const state_names[] = {
        [RUNV_CREATING] = "creating", [RUNV_CREATED] = "created", [RUNV_RUNNING] = "running",
        [RUNV_PAUSED] = "paused",     [RUNV_STOPPED] = "stopped",
};

const char *state_status_to_string(enum runv_status s)
{
        return s < ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

int state_status_from_string(const char *s, enum runv_status *ret)
{
        for (size_t i = 0; i < ARRAY_SIZE(state_names); i++)
                if (strcmp(s, state_names[i]) == 0) {
                        *ret = (enum runv_status)i;
                        return 0;
                }
        return -EINVAL;
}

int proc_start_time(pid_t pid, uint64_t *ret)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], stat[4096];
        unsigned long long v;
        const char *p;
        size_t n;

        /* /proc files report no size, so they are read by hand rather than with read_full_file(). */
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        n = fread(stat, 1, sizeof(stat) - 1, f);
        stat[n] = '\0';
        /* The command name may hold spaces and parentheses: fields count from the last ')'. */
        p = strrchr(stat, ')');
        if (!p)
                return -EIO;
        /* starttime is field 22; the name is field 2, so it is the 20th space-separated one after ')'. */
        for (int field = 0; field < 20; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EIO;
        }
        if (sscanf(p + 1, "%llu", &v) != 1)
                return -EIO;
        *ret = v;
        return 0;
}

char *state_now(void)
{
        struct timespec ts;
        struct tm tm;
        char date[64], *out;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        if (asprintf(&out, "%s.%09ldZ", date, ts.tv_nsec) < 0)
                return NULL;
        return out;
}

void state_free(struct runv_state *st)
{
        if (!st)
                return;
        free(st->id);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        free(st->pod);
        json_object_put(st->annotations);
        free(st);
}

static int state_dup(struct json_object *doc, const char *key, char **ret)
{
        const char *s;

        if (json_get_string(doc, key, &s) < 0)
                return -EINVAL;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int state_parse(struct json_object *doc, struct runv_state *st)
{
        const char *status;
        int64_t pid, code, start;
        int r;

        r = state_dup(doc, "id", &st->id);
        if (r >= 0)
                r = state_dup(doc, "bundle", &st->bundle);
        if (r >= 0)
                r = state_dup(doc, "rootfs", &st->rootfs);
        if (r >= 0)
                r = state_dup(doc, "created", &st->created);
        if (r >= 0 && json_get_string(doc, "status", &status) >= 0)
                r = state_status_from_string(status, &st->status);
        else if (r >= 0)
                r = -EINVAL;
        if (r >= 0)
                r = json_get_int(doc, "pid", 0, INT32_MAX, &pid);
        if (r >= 0)
                r = json_get_int(doc, "pidStart", 0, INT64_MAX, &start);
        if (r >= 0)
                r = json_get_int(doc, "exitCode", -1, 255, &code);
        if (r < 0)
                return -EINVAL;
        st->pid = (pid_t)pid;
        st->pid_start = (uint64_t)start;
        st->exit_code = (int)code;
        if (json_get_string(doc, "pod", &status) >= 0 && !(st->pod = strdup(status)))
                return -ENOMEM;
        if (json_object_object_get_ex(doc, "annotations", &st->annotations))
                json_object_get(st->annotations);
        return 0;
}

/* A monitor that is gone, or whose pid now names another process, means a stopped container. */
static void state_check_alive(struct runv_state *st)
{
        uint64_t start;

        if (st->status == RUNV_STOPPED || st->pid <= 0)
                return;
        if (proc_start_time(st->pid, &start) < 0 || start != st->pid_start)
                st->status = RUNV_STOPPED;
}

int state_load(const char *id, struct runv_state **ret)
{
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t len;
        int r;

        if (!runv_id_valid(id))
                return -ENOENT;
        if (asprintf(&path, "%s/%s/state.json", runv.root, id) < 0)
                return -ENOMEM;
        r = read_full_file(path, STATE_MAX_SIZE, &data, &len);
        if (r < 0)
                return r;
        r = json_parse_object(data, len, &doc);
        if (r < 0)
                return r;
        st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r = state_parse(doc, st);
        if (r < 0)
                return r;
        state_check_alive(st);
        *ret = TAKE_PTR(st);
        return 0;
}

int state_save(const struct runv_state *st)
{
        _cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
        _cleanup_free_ char *path = NULL;
        const char *text;

        if (!doc || asprintf(&path, "%s/%s/state.json", runv.root, st->id) < 0)
                return -ENOMEM;
        json_object_object_add(doc, "id", json_object_new_string(st->id));
        json_object_object_add(doc, "status", json_object_new_string(state_status_to_string(st->status)));
        json_object_object_add(doc, "pid", json_object_new_int64(st->pid));
        json_object_object_add(doc, "pidStart", json_object_new_int64((int64_t)st->pid_start));
        json_object_object_add(doc, "exitCode", json_object_new_int(st->exit_code));
        json_object_object_add(doc, "bundle", json_object_new_string(st->bundle));
        json_object_object_add(doc, "rootfs", json_object_new_string(st->rootfs));
        json_object_object_add(doc, "created", json_object_new_string(st->created));
        if (st->annotations)
                json_object_object_add(doc, "annotations", json_object_get(st->annotations));
        if (st->pod)
                json_object_object_add(doc, "pod", json_object_new_string(st->pod));
        text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
        return write_file_atomic(path, text, strlen(text), 0600);
}

struct json_object *state_to_oci(const struct runv_state *st)
{
        struct json_object *doc = json_object_new_object();
        bool live = st->status != RUNV_STOPPED;

        if (!doc)
                return NULL;
        json_object_object_add(doc, "ociVersion", json_object_new_string("1.0.2-dev"));
        json_object_object_add(doc, "id", json_object_new_string(st->id));
        json_object_object_add(doc, "pid", json_object_new_int64(live ? st->pid : 0));
        json_object_object_add(doc, "status", json_object_new_string(state_status_to_string(st->status)));
        json_object_object_add(doc, "bundle", json_object_new_string(st->bundle));
        json_object_object_add(doc, "rootfs", json_object_new_string(st->rootfs));
        json_object_object_add(doc, "created", json_object_new_string(st->created));
        json_object_object_add(doc, "owner", json_object_new_string(""));
        json_object_object_add(doc, "annotations",
                               st->annotations ? json_object_get(st->annotations) : json_object_new_object());
        return doc;
}
