/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "container-io.h"
#include "containers.h"
#include "pods.h"
#include "hyperd.h"
#include "json-util.h"
#include "log.h"
#include "volumes.h"

int api_container_lookup(struct hyperd *hd, const char *key, struct db_container *ret, char **ret_error)
{
        int r = db_container_get(hd->db, key, ret);

        if (r == -ENOENT && asprintf(ret_error, "no such container: %s", key) < 0)
                *ret_error = NULL;
        if (r == -ENOTUNIQ && asprintf(ret_error, "\"%s\" names more than one container: give more of the id", key) < 0)
                *ret_error = NULL;
        return r;
}

struct json_object *api_container_json(const struct db_container *c, const struct container_status *st)
{
        struct json_object *o = json_object_new_object(), *cmd = NULL;

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(c->id));
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "image", json_object_new_string(c->image));
        json_object_object_add(o, "imageId", json_object_new_string(c->image_id));
        if (json_parse_object(c->command, strlen(c->command), &cmd) < 0)
                cmd = json_tokener_parse(c->command);
        json_object_object_add(o, "command", cmd);
        json_object_object_add(o, "created", json_object_new_int64(c->created));
        json_object_object_add(o, "status", json_object_new_string(st->status));
        json_object_object_add(o, "exitCode", st->exit_code >= 0 ? json_object_new_int(st->exit_code) : NULL);
        json_object_object_add(o, "autoRemove", json_object_new_boolean(c->auto_remove));
        return o;
}

/* "pod": the pod the container runs in, or null. */
static void api_container_add_pod(struct hyperd *hd, struct json_object *o, const char *id)
{
        struct db_member m;

        if (!o)
                return;
        if (db_member_get(hd->db, id, &m) < 0) {
                json_object_object_add(o, "pod", NULL);
                return;
        }
        json_object_object_add(o, "pod", json_object_new_string(m.pod));
        json_object_object_add(o, "restartCount", json_object_new_int64(m.restarts));
        free(m.pod);
}

enum MHD_Result api_containers_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();
        const char *all_s = http_query(c, "all");
        struct db_container *a = NULL;
        bool all = false;
        size_t n = 0;
        int r;

        if (!arr)
                return MHD_NO;
        if (all_s && router_parse_bool(all_s, &all) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "all must be 1, true, 0 or false");
        r = db_container_list(hd->db, &a, &n);
        if (r < 0)
                return http_reply_errno(c, r, NULL, "cannot list containers");
        for (size_t i = 0; i < n; i++) {
                struct container_status st;

                if (container_state(hd, a[i].id, &st) < 0)
                        snprintf(st.status, sizeof(st.status), "unknown");
                if (all || container_is_live(&st)) {
                        struct json_object *o = api_container_json(&a[i], &st);

                        api_container_add_pod(hd, o, a[i].id);
                        json_object_array_add(arr, o);
                }
        }
        db_container_free_array(a, n);
        return http_reply_json(c, MHD_HTTP_OK, arr);
}

/* run (start true) and create: the same body, the container started or left created. */
static enum MHD_Result api_containers_make(struct hyperd *hd, struct MHD_Connection *c, struct request *req, bool start)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        _cleanup_free_ char *id = NULL, *name = NULL;
        struct container_run run = {0};
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        r = container_run_parse(req->body, req->body_len, &run, &error);
        if (r >= 0)
                r = container_make(hd, &run, start, &id, &name, &error);
        container_run_done(&run);
        if (r < 0)
                return http_reply_errno(c, r, error,
                                        start ? "cannot run the container" : "cannot create the container");
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "name", json_object_new_string(name));
        return http_reply_json(c, MHD_HTTP_CREATED, o);
}

enum MHD_Result api_containers_run(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        return api_containers_make(hd, c, req, true);
}

enum MHD_Result api_containers_create(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        return api_containers_make(hd, c, req, false);
}

enum MHD_Result api_container_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *bundle = NULL;
        struct json_object *volumes;
        struct db_container ct;
        struct container_status st;
        char *error = NULL;
        int r;

        r = api_container_lookup(hd, req->route.ref, &ct, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot find the container");
        r = container_state(hd, ct.id, &st);
        o = r >= 0 ? api_container_json(&ct, &st) : NULL;
        api_container_add_pod(hd, o, ct.id);
        bundle = container_bundle(hd, ct.id, NULL);
        volumes = container_volumes_json(hd, ct.id);
        if (o)
                json_object_object_add(o, "tty", json_object_new_boolean(container_config_tty(hd, ct.id)));
        db_container_done(&ct);
        if (r < 0 || !o || !bundle)
                json_object_put(volumes);
        if (r < 0)
                return http_reply_errno(c, r, NULL, "cannot read the container's state");
        if (!o || !bundle)
                return MHD_NO;
        json_object_object_add(o, "pid", st.pid > 0 && container_is_live(&st) ? json_object_new_int(st.pid) : NULL);
        json_object_object_add(o, "bundle", json_object_new_string(bundle));
        json_object_object_add(o, "volumes", volumes);
        return http_reply_json(c, MHD_HTTP_OK, o);
}

enum MHD_Result api_container_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        const char *force_s = http_query(c, "force");
        struct container_status st;
        struct db_container ct;
        char *error = NULL;
        bool force = false;
        int r;

        if (!o)
                return MHD_NO;
        if (force_s && router_parse_bool(force_s, &force) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "force must be 1, true, 0 or false");
        r = api_container_lookup(hd, req->route.ref, &ct, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot find the container");
        r = container_state(hd, ct.id, &st);
        if (r >= 0 && container_is_live(&st) && !force) {
                r = -EBUSY;
                if (asprintf(&error,
                             "cannot remove container %s: it is %s; stop it first, or force the removal "
                             "(hyperctl rm -f)",
                             ct.name, st.status) < 0)
                        error = NULL;
        }
        if (r >= 0) {
                pods_lock();
                r = container_remove(hd, ct.id, &error);
                pods_unlock();
        }
        if (r >= 0) {
                log_info("removed container %s", ct.id);
                json_object_object_add(o, "id", json_object_new_string(ct.id));
        }
        db_container_done(&ct);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot remove the container");
        return http_reply_json(c, MHD_HTTP_OK, o);
}
