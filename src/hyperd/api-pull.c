/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /v1/images/pull: the pull runs in a thread of its own and writes
 * JSON lines into a pipe; the response reads the pipe, so the client sees
 * the progress as it happens. libimage's progress writes plain text lines
 * to a FILE; a cookie FILE turns each line into {"status": LINE}. The last
 * line is {"status": "pulled", "id": ..., "ref": ...} or
 * {"error": MESSAGE, "code": HTTP-STATUS}: once the stream has started,
 * the HTTP status (200) can no longer say that the pull failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "hyperd.h"
#include "image-store.h"
#include "json-util.h"
#include "log.h"
#include "reference.h"

#define PULL_MAX_LINE 1024

struct pull_job {
        struct hyperd *hd;
        char *ref; /* canonical */
        bool insecure;
        int fd_r, fd_w;
        pthread_t thread;
        bool started;
        char line[PULL_MAX_LINE];
        size_t line_len;
};

static void pull_job_free(struct pull_job *j)
{
        if (!j)
                return;
        /* Closing the read side first makes a worker still writing get EPIPE instead of blocking. */
        safe_close(j->fd_r);
        if (j->started)
                pthread_join(j->thread, NULL);
        safe_close(j->fd_w);
        free(j->ref);
        free(j);
}

/* Writes one JSON object as a line; a client that went away is no error here. */
static void pull_emit(struct pull_job *j, struct json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        if (s && loop_write(j->fd_w, s, strlen(s)) >= 0)
                loop_write(j->fd_w, "\n", 1);
}

static void pull_emit_status(struct pull_job *j, const char *line, size_t len)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o || len == 0)
                return;
        json_object_object_add(o, "status", json_object_new_string_len(line, (int)len));
        pull_emit(j, o);
}

static ssize_t pull_cookie_write(void *cookie, const char *buf, size_t size)
{
        struct pull_job *j = cookie;

        for (size_t i = 0; i < size; i++) {
                if (buf[i] == '\n' || buf[i] == '\r' || j->line_len == sizeof(j->line)) {
                        pull_emit_status(j, j->line, j->line_len);
                        j->line_len = 0;
                }
                if (buf[i] != '\n' && buf[i] != '\r')
                        j->line[j->line_len++] = buf[i];
        }
        return (ssize_t)size;
}

static void pull_emit_result(struct pull_job *j, int r, const char *id, const char *error)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

        if (!o)
                return;
        if (r < 0) {
                json_object_object_add(o, "error", json_object_new_string(error ? error : strerror(-r)));
                json_object_object_add(o, "code", json_object_new_int(http_status_from_errno(r)));
        } else {
                json_object_object_add(o, "status", json_object_new_string("pulled"));
                json_object_object_add(o, "id", json_object_new_string(id));
                json_object_object_add(o, "ref", json_object_new_string(j->ref));
        }
        pull_emit(j, o);
}

static int pull_run(struct pull_job *j, char **ret_id, char **ret_error)
{
        static const cookie_io_functions_t io = { .write = pull_cookie_write };
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        struct image_pull_options o = { .insecure = j->insecure };
        FILE *f;
        int r;

        r = image_store_open(j->hd->config->root, &s, ret_error);
        if (r < 0)
                return r;
        f = fopencookie(j, "w", io);
        if (!f)
                return -ENOMEM;
        setvbuf(f, NULL, _IONBF, 0);
        o.progress = progress_new(f, false);
        r = image_store_pull(s, j->ref, &o, ret_id, ret_error);
        progress_free(o.progress);
        fclose(f);
        pull_emit_status(j, j->line, j->line_len);
        return r;
}

static void *pull_worker(void *arg)
{
        struct pull_job *j = arg;
        _cleanup_free_ char *id = NULL, *error = NULL;
        int r;

        r = pull_run(j, &id, &error);
        if (r < 0)
                log_error("pull of %s failed: %s", j->ref, error ? error : strerror(-r));
        else {
                log_info("pulled %s: %s", j->ref, id);
                api_images_sync(j->hd);
        }
        pull_emit_result(j, r, id, error);
        j->fd_w = safe_close(j->fd_w);
        return NULL;
}

static ssize_t pull_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct pull_job *j = cls;
        ssize_t n;

        do
                n = read(j->fd_r, buf, max);
        while (n < 0 && errno == EINTR);
        if (n == 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void pull_reader_free(void *cls)
{
        pull_job_free(cls);
}

/* Checks the query before anything streams: these errors still get their own status (400). */
static int pull_parse(struct MHD_Connection *c, struct pull_job *j, char **ret_error)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        const char *s = http_query(c, "ref");
        int r;

        if (!s || !*s)
                return *ret_error = strdup("missing query parameter \"ref\" (the image to pull)"), -EINVAL;
        r = image_ref_parse(s, &ref, ret_error);
        if (r < 0)
                return r;
        s = http_query(c, "insecure");
        if (s && router_parse_bool(s, &j->insecure) < 0)
                return *ret_error = strdup("insecure must be true, false, 1 or 0"), -EINVAL;
        j->ref = image_ref_string(ref);
        return j->ref ? 0 : -ENOMEM;
}

static int pull_start(struct pull_job *j)
{
        int fds[2], r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        j->fd_r = fds[0];
        j->fd_w = fds[1];
        r = -pthread_create(&j->thread, NULL, pull_worker, j);
        j->started = r == 0;
        return r;
}

enum MHD_Result api_images_pull(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        struct pull_job *j = calloc(1, sizeof(*j));
        _cleanup_free_ char *error = NULL;
        struct MHD_Response *resp;
        enum MHD_Result ret;
        int r;

        if (!j)
                return MHD_NO;
        *j = (struct pull_job){ .hd = hd, .fd_r = -1, .fd_w = -1 };
        r = pull_parse(c, j, &error);
        if (r < 0) {
                pull_job_free(j);
                return r == -ENOMEM ? MHD_NO : http_reply_errno(c, -EINVAL, TAKE_PTR(error), "invalid image reference");
        }
        log_info("pulling %s", j->ref);
        r = pull_start(j);
        if (r < 0) {
                pull_job_free(j);
                return http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot start the pull: %s", strerror(-r));
        }
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, pull_reader, j, pull_reader_free);
        if (!resp) {
                pull_job_free(j);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
        ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return ret;
}
