/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyperd.h"
#include "image-store.h"
#include "json-util.h"
#include "log.h"

static int api_open_store(struct hyperd *hd, struct image_store **ret, char **ret_error)
{
        /* One store per request: libimage coordinates by flock, as between processes. */
        return image_store_open(hd->config->root, ret, ret_error);
}

static void api_names_free(char **refs, char **ids, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(refs[i]);
        free(refs);
        free(ids);
}

/* Copies the store's names into the database, so that it knows what hyperd last saw. */
int api_images_sync(struct hyperd *hd)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        struct image_summary *a = NULL;
        char **refs = NULL, **ids = NULL;
        size_t n = 0, total = 0, k = 0;
        int r;

        r = api_open_store(hd, &s, NULL);
        if (r >= 0)
                r = image_store_list(s, &a, &n, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                for (char **p = a[i].names; *p; p++)
                        total++;
        refs = calloc(total + 1, sizeof(char *));
        ids = calloc(total + 1, sizeof(char *));
        for (size_t i = 0; refs && ids && i < n; i++)
                for (char **p = a[i].names; *p; p++, k++) {
                        refs[k] = TAKE_PTR(*p);
                        ids[k] = a[i].id;
                }
        r = refs && ids ? db_image_refs_replace(hd->db, refs, ids, total) : -ENOMEM;
        api_names_free(refs, ids, k);
        image_summary_free_array(a, n);
        return r;
}

static void api_images_changed(struct hyperd *hd)
{
        int r = api_images_sync(hd);

        if (r < 0)
                log_warning_errno(r, "cannot record the image names in the database");
}

static struct json_object *api_image_summary(const struct image_summary *e)
{
        struct json_object *o = json_object_new_object(), *tags = json_object_new_array(),
                           *digests = json_object_new_array();

        if (!o || !tags || !digests) {
                json_object_put(o);
                json_object_put(tags);
                json_object_put(digests);
                return NULL;
        }
        for (char **p = e->names; *p; p++)
                json_object_array_add(strchr(*p, '@') ? digests : tags, json_object_new_string(*p));
        json_object_object_add(o, "Id", json_object_new_string(e->id));
        json_object_object_add(o, "RepoTags", tags);
        json_object_object_add(o, "RepoDigests", digests);
        json_object_object_add(o, "Created", json_object_new_int64(e->created));
        json_object_object_add(o, "Size", json_object_new_int64((int64_t)e->size));
        json_object_object_add(o, "Layers", json_object_new_int64((int64_t)e->n_layers));
        return o;
}

enum MHD_Result api_images_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();
        struct image_summary *a = NULL;
        char *error = NULL;
        size_t n = 0;
        int r;

        if (!arr)
                return MHD_NO;
        r = api_open_store(hd, &s, &error);
        if (r >= 0)
                r = image_store_list(s, &a, &n, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot list images");
        for (size_t i = 0; i < n; i++)
                json_object_array_add(arr, api_image_summary(&a[i]));
        image_summary_free_array(a, n);
        return http_reply_json(c, MHD_HTTP_OK, arr);
}

enum MHD_Result api_image_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        char *error = NULL;
        int r;

        r = api_open_store(hd, &s, &error);
        if (r >= 0)
                r = image_store_inspect(s, req->route.ref, &o, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot inspect the image");
        return http_reply_json(c, MHD_HTTP_OK, o);
}

enum MHD_Result api_image_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        r = api_open_store(hd, &s, &error);
        if (r >= 0)
                r = image_store_remove(s, req->route.ref, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot remove the image");
        log_info("removed image %s", req->route.ref);
        api_images_changed(hd);
        json_object_object_add(o, "Untagged", json_object_new_string(req->route.ref));
        return http_reply_json(c, MHD_HTTP_OK, o);
}

enum MHD_Result api_image_tag(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        const char *to = http_query(c, "to");
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        if (!to || !*to)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "missing query parameter \"to\" (the new name)");
        r = api_open_store(hd, &s, &error);
        if (r >= 0)
                r = image_store_tag(s, req->route.ref, to, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot tag the image");
        log_info("tagged image %s as %s", req->route.ref, to);
        api_images_changed(hd);
        json_object_object_add(o, "Source", json_object_new_string(req->route.ref));
        json_object_object_add(o, "Target", json_object_new_string(to));
        return http_reply_json(c, MHD_HTTP_CREATED, o);
}

/* "ID NAME" lines from libimage as [{"Id": ..., "Name": ...}]; Name is null when the archive gave none. */
static struct json_object *api_loaded_json(char **loaded)
{
        struct json_object *arr = json_object_new_array();

        for (char **p = loaded; arr && *p; p++) {
                struct json_object *e = json_object_new_object();
                const char *sp = strchr(*p, ' ');
                size_t idlen = sp ? (size_t)(sp - *p) : strlen(*p);

                if (!e)
                        continue;
                json_object_object_add(e, "Id", json_object_new_string_len(*p, (int)idlen));
                json_object_object_add(e, "Name", sp && sp[1] ? json_object_new_string(sp + 1) : NULL);
                json_object_array_add(arr, e);
        }
        return arr;
}

enum MHD_Result api_images_load(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        _cleanup_(strv_freep) char **loaded = NULL;
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        if (req->body_len == 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "the request body is empty: send an image archive");
        r = api_open_store(hd, &s, &error);
        if (r >= 0)
                r = image_store_load(s, req->upload_path, &loaded, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot load the archive");
        for (char **p = loaded; *p; p++)
                log_info("loaded %s", *p);
        api_images_changed(hd);
        json_object_object_add(o, "Loaded", api_loaded_json(loaded));
        return http_reply_json(c, MHD_HTTP_OK, o);
}

static int api_save_format(const char *s, enum image_archive_format *ret)
{
        if (!s || strcmp(s, "docker") == 0)
                *ret = IMAGE_ARCHIVE_DOCKER;
        else if (strcmp(s, "oci") == 0)
                *ret = IMAGE_ARCHIVE_OCI;
        else
                return -EINVAL;
        return 0;
}

/* Saves ref to a temporary file and returns it open and already unlinked. */
static int api_save_to_fd(struct hyperd *hd, const char *ref, enum image_archive_format format, int *ret_fd,
                          char **ret_error)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        _cleanup_free_ char *path = NULL;
        char *refs[] = { (char *)ref, NULL };
        int fd = -1, r;

        r = http_temp_file(hd, &path, &fd);
        if (r < 0)
                return r;
        safe_close(fd);
        r = api_open_store(hd, &s, ret_error);
        if (r >= 0)
                r = image_store_save(s, refs, path, format, ret_error);
        if (r >= 0) {
                fd = open(path, O_RDONLY | O_CLOEXEC);
                r = fd < 0 ? -errno : 0;
        }
        unlink(path);
        if (r < 0)
                return r;
        *ret_fd = fd;
        return 0;
}

enum MHD_Result api_image_save(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        enum image_archive_format format;
        struct MHD_Response *resp;
        _cleanup_close_ int fd = -1;
        enum MHD_Result ret;
        char *error = NULL;
        struct stat st;
        int r;

        if (api_save_format(http_query(c, "format"), &format) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "format must be \"docker\" or \"oci\"");
        r = api_save_to_fd(hd, req->route.ref, format, &fd, &error);
        if (r >= 0 && fstat(fd, &st) < 0)
                r = -errno;
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot save the image");
        /* The response owns the fd from here on and closes it. */
        resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
        if (!resp)
                return MHD_NO;
        TAKE_FD(fd);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-tar");
        ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return ret;
}
