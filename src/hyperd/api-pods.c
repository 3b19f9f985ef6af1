/* SPDX-License-Identifier: Apache-2.0 */
/* The pods' routes (docs/api.md, docs/pods.md); the work is in pods.c. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "hyperd.h"
#include "json-util.h"
#include "log.h"
#include "pods.h"

#define POD_MAX_STOP_TIMEOUT 3600

enum MHD_Result api_pods_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();
        struct db_pod *a = NULL;
        size_t n = 0;
        int r;

        if (!arr)
                return MHD_NO;
        r = db_pod_list(hd->db, &a, &n);
        if (r < 0)
                return http_reply_errno(c, r, NULL, "cannot list pods");
        for (size_t i = 0; i < n; i++) {
                struct json_object *o = pod_json(hd, &a[i]);

                if (o) {
                        json_object_object_del(o, "spec");
                        json_object_array_add(arr, o);
                }
        }
        db_pod_free_array(a, n);
        return http_reply_json(c, MHD_HTTP_OK, arr);
}

enum MHD_Result api_pods_create(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        _cleanup_free_ char *id = NULL;
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        if (!req->body || req->body_len == 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "the request needs a pod file as its body");
        r = pod_create(hd, req->body, req->body_len, &id, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot run the pod");
        json_object_object_add(o, "id", json_object_new_string(id));
        return http_reply_json(c, MHD_HTTP_CREATED, o);
}

enum MHD_Result api_pod_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(db_pod_done) struct db_pod p = {0};
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        char *error = NULL;
        int r;

        r = pod_lookup(hd, req->route.ref, &p, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot find the pod");
        o = pod_json(hd, &p);
        if (!o)
                return http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read pod %s's record", p.id);
        return http_reply_json(c, MHD_HTTP_OK, o);
}

enum MHD_Result api_pod_stop(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        _cleanup_(db_pod_done) struct db_pod p = {0};
        const char *t = http_query(c, "t");
        uint64_t timeout = 10;
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        if (t && (router_parse_size(t, POD_MAX_STOP_TIMEOUT, &timeout) < 0 || t[strlen(t) - 1] < '0' ||
                  t[strlen(t) - 1] > '9'))
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "t must be a number of seconds, at most %d",
                                        POD_MAX_STOP_TIMEOUT);
        r = pod_lookup(hd, req->route.ref, &p, &error);
        /* pod_stop takes the pods' lock only to mark its containers stopped, not for the whole timeout. */
        if (r >= 0)
                r = pod_stop(hd, &p, (int)timeout, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot stop the pod");
        log_info("stopped pod %s", p.id);
        json_object_object_add(o, "id", json_object_new_string(p.id));
        return http_reply_json(c, MHD_HTTP_OK, o);
}

enum MHD_Result api_pod_start(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        _cleanup_(db_pod_done) struct db_pod p = {0};
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        r = pod_lookup(hd, req->route.ref, &p, &error);
        if (r >= 0) {
                pods_lock();
                r = pod_start(hd, &p, &error);
                pods_unlock();
        }
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot start the pod");
        json_object_object_add(o, "id", json_object_new_string(p.id));
        return http_reply_json(c, MHD_HTTP_OK, o);
}

enum MHD_Result api_pod_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        _cleanup_(db_pod_done) struct db_pod p = {0};
        const char *force_s = http_query(c, "force");
        char *error = NULL;
        bool force = false;
        int r;

        if (!o)
                return MHD_NO;
        if (force_s && router_parse_bool(force_s, &force) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "force must be 1, true, 0 or false");
        r = pod_lookup(hd, req->route.ref, &p, &error);
        if (r >= 0 && !force && strcmp(pod_status(hd, &p), "running") == 0) {
                r = -EBUSY;
                if (asprintf(&error, "cannot remove pod %s: it is running; stop it first, or force the removal "
                                     "(hyperctl pod rm -f)", p.id) < 0)
                        error = NULL;
        }
        if (r >= 0) {
                pods_lock();
                r = pod_remove(hd, &p, &error);
                pods_unlock();
        }
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot remove the pod");
        log_info("removed pod %s", p.id);
        json_object_object_add(o, "id", json_object_new_string(p.id));
        return http_reply_json(c, MHD_HTTP_OK, o);
}
