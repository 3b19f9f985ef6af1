/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "hyperd.h"
#include "json-util.h"
#include "log.h"

typedef enum MHD_Result (*api_handler)(struct hyperd *hd, struct MHD_Connection *c, struct request *req);

static const api_handler http_handlers[_ROUTE_MAX] = {
        [ROUTE_VERSION] = api_version,
        [ROUTE_INFO] = api_info,
        [ROUTE_IMAGES_LIST] = api_images_list,
        [ROUTE_IMAGES_PULL] = api_images_pull,
        [ROUTE_IMAGES_LOAD] = api_images_load,
        [ROUTE_IMAGE_INSPECT] = api_image_inspect,
        [ROUTE_IMAGE_SAVE] = api_image_save,
        [ROUTE_IMAGE_TAG] = api_image_tag,
        [ROUTE_IMAGE_DELETE] = api_image_delete,
        [ROUTE_CONTAINERS_LIST] = api_containers_list,
        [ROUTE_CONTAINERS_RUN] = api_containers_run,
        [ROUTE_CONTAINER_INSPECT] = api_container_inspect,
        [ROUTE_CONTAINER_LOGS] = api_container_logs,
        [ROUTE_CONTAINER_WAIT] = api_container_wait,
        [ROUTE_CONTAINER_STOP] = api_container_stop,
        [ROUTE_CONTAINER_KILL] = api_container_kill,
        [ROUTE_CONTAINER_EXEC] = api_container_exec,
        [ROUTE_CONTAINER_DELETE] = api_container_delete,
        [ROUTE_CONTAINER_VOLUME_ATTACH] = api_container_volume_attach,
        [ROUTE_CONTAINER_VOLUME_DETACH] = api_container_volume_detach,
        [ROUTE_VOLUMES_LIST] = api_volumes_list,
        [ROUTE_VOLUMES_CREATE] = api_volumes_create,
        [ROUTE_VOLUME_INSPECT] = api_volume_inspect,
        [ROUTE_VOLUME_DELETE] = api_volume_delete,
        [ROUTE_CONTAINERS_CREATE] = api_containers_create,
        [ROUTE_CONTAINER_START] = api_container_start,
        [ROUTE_CONTAINER_ATTACH] = api_container_attach,
        [ROUTE_CONTAINER_RESIZE] = api_container_resize,
        [ROUTE_CONTAINER_EXECS] = api_container_execs,
        [ROUTE_EXEC_INSPECT] = api_exec_inspect,
        [ROUTE_EXEC_RESIZE] = api_exec_resize,
        [ROUTE_PODS_LIST] = api_pods_list,
        [ROUTE_PODS_CREATE] = api_pods_create,
        [ROUTE_POD_INSPECT] = api_pod_inspect,
        [ROUTE_POD_STOP] = api_pod_stop,
        [ROUTE_POD_START] = api_pod_start,
        [ROUTE_POD_DELETE] = api_pod_delete,
};

int http_status_from_errno(int r)
{
        switch (-r) {
        case ENOENT:
                return MHD_HTTP_NOT_FOUND;
        case EINVAL:
        case EBADMSG:
        case ENAMETOOLONG:
        case EPROTONOSUPPORT:
        case EPERM:
                return MHD_HTTP_BAD_REQUEST;
        case EEXIST:
        case EBUSY:
        case ENOTUNIQ:
        case EADDRINUSE:
                return MHD_HTTP_CONFLICT;
        case EFBIG:
                return MHD_HTTP_CONTENT_TOO_LARGE;
        default:
                return MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
}

enum MHD_Result http_reply_json(struct MHD_Connection *c, unsigned status, struct json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        struct MHD_Response *resp;
        _cleanup_free_ char *body = NULL;
        enum MHD_Result ret;

        /* A trailing newline, so that a reply read with curl or nc ends its line. */
        if (!s || asprintf(&body, "%s\n", s) < 0)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

enum MHD_Result http_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0 || !o)
                return MHD_NO;
        log_debug("reply %u: %s", status, msg);
        json_object_object_add(o, "message", json_object_new_string(msg));
        return http_reply_json(c, status, o);
}

enum MHD_Result http_reply_errno(struct MHD_Connection *c, int r, char *error, const char *what)
{
        _cleanup_free_ char *e = error;

        if (e)
                return http_reply_error(c, (unsigned)http_status_from_errno(r), "%s", e);
        return http_reply_error(c, (unsigned)http_status_from_errno(r), "%s: %s", what, strerror(-r));
}

int http_connection_fd(struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

        return i ? i->connect_fd : -1;
}

const char *http_query(struct MHD_Connection *c, const char *key)
{
        return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

int http_temp_file(struct hyperd *hd, char **ret_path, int *ret_fd)
{
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/upload.XXXXXX", hd->upload_dir) < 0)
                return -ENOMEM;
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_path = TAKE_PTR(path);
        *ret_fd = fd;
        return 0;
}

static enum MHD_Result http_route_error(struct MHD_Connection *c, int r, const char *method, const char *url)
{
        switch (r) {
        case -ENOENT:
                return http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such API path: %s (the API is under %s/)", url,
                                        API_PREFIX);
        case -EOPNOTSUPP:
                return http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s", method, url);
        case -ENAMETOOLONG:
                return http_reply_error(c, MHD_HTTP_URI_TOO_LONG, "the path is over %d bytes", ROUTER_MAX_PATH);
        case -ENOMEM:
                return MHD_NO;
        default:
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST,
                                        "no valid image reference or container in the path %s", url);
        }
}

static uint64_t http_body_limit(const struct request *req)
{
        if (req->route.takes_body)
                return req->hd->config->max_upload;
        return req->route.json_body ? HTTP_MAX_JSON_BODY : HTTP_MAX_SMALL_BODY;
}

/* Refuses a body whose announced length is over the route's limit before any of it is read. */
static enum MHD_Result http_check_length(struct MHD_Connection *c, struct request *req)
{
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t n;

        if (!cl)
                return MHD_YES;
        if (router_parse_size(cl, UINT64_MAX, &n) < 0 || cl[strlen(cl) - 1] < '0' || cl[strlen(cl) - 1] > '9') {
                req->responded = true;
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "bad Content-Length \"%s\"", cl);
        }
        if (n > http_body_limit(req)) {
                req->responded = true;
                return http_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the request body is over %llu bytes",
                                        (unsigned long long)http_body_limit(req));
        }
        return MHD_YES;
}

static enum MHD_Result http_begin(struct hyperd *hd, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, void **con_cls)
{
        struct request *req = calloc(1, sizeof(*req));
        int r;

        if (!req)
                return MHD_NO;
        *req = (struct request){ .hd = hd, .upload_fd = -1,
                                 .http_1_1 = version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0 };
        *con_cls = req;
        log_debug("%s %s", method, url);
        r = router_match(method, url, &req->route);
        if (r < 0) {
                req->responded = true;
                return http_route_error(c, r, method, url);
        }
        if (http_check_length(c, req) != MHD_YES || req->responded)
                return req->responded ? MHD_YES : MHD_NO;
        if (req->route.takes_body) {
                r = http_temp_file(hd, &req->upload_path, &req->upload_fd);
                if (r < 0) {
                        req->responded = true;
                        return http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot store the upload: %s",
                                                strerror(-r));
                }
        }
        return MHD_YES;
}

/* A body that grows past its limit without having announced it (chunked): the connection is dropped. */
static enum MHD_Result http_body(struct request *req, const char *data, size_t *size)
{
        int r;

        if (req->body_len + *size > http_body_limit(req)) {
                log_warning("dropping a request whose body is over %llu bytes",
                            (unsigned long long)http_body_limit(req));
                return MHD_NO;
        }
        if (req->route.json_body) {
                char *b = realloc(req->body, req->body_len + *size + 1);

                if (!b)
                        return MHD_NO;
                memcpy(b + req->body_len, data, *size);
                b[req->body_len + *size] = '\0';
                req->body = b;
        }
        req->body_len += *size;
        if (req->upload_fd >= 0) {
                r = loop_write(req->upload_fd, data, *size);
                if (r < 0) {
                        log_error_errno(r, "cannot write the upload to %s", req->upload_path);
                        return MHD_NO;
                }
        }
        *size = 0;
        return MHD_YES;
}

enum MHD_Result http_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        struct request *req = *con_cls;

        if (!req)
                return http_begin(cls, c, url, method, version, con_cls);
        if (*upload_data_size > 0) {
                if (req->responded) {
                        *upload_data_size = 0;
                        return MHD_YES;
                }
                return http_body(req, upload_data, upload_data_size);
        }
        if (req->responded)
                return MHD_YES;
        req->responded = true;
        return http_handlers[req->route.id](req->hd, c, req);
}

void http_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
        struct request *req = *con_cls;

        if (!req)
                return;
        route_done(&req->route);
        safe_close(req->upload_fd);
        if (req->upload_path)
                unlink(req->upload_path);
        free(req->upload_path);
        free(req->body);
        free(req);
        *con_cls = NULL;
}
