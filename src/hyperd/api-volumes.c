/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named volumes (/v1/volumes) and block volumes attached to a running
 * container (/v1/containers/{id}/volumes). The work is in volumes.c.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "hyperd.h"
#include "json-util.h"
#include "log.h"
#include "random-util.h"
#include "volumes.h"

enum MHD_Result api_volumes_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();
        struct db_volume *a = NULL;
        size_t n = 0;
        int r;

        if (!arr)
                return MHD_NO;
        r = db_volume_list(hd->db, &a, &n);
        if (r < 0)
                return http_reply_errno(c, r, NULL, "cannot list volumes");
        for (size_t i = 0; i < n; i++)
                json_object_array_add(arr, volume_json(hd, &a[i]));
        db_volume_free_array(a, n);
        return http_reply_json(c, MHD_HTTP_OK, arr);
}

enum MHD_Result api_volumes_create(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *body = NULL, *reply = NULL;
        const char *name = NULL;
        char random_name[65];
        struct db_volume v;
        char *error = NULL;
        bool created;
        int r;

        if (req->body && req->body_len > 0 && json_parse_object(req->body, req->body_len, &body) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "the request body is not a JSON object: {\"name\": ...}");
        if (body) {
                json_object_object_foreach(body, key, val)
                {
                        (void)val;
                        if (strcmp(key, "name") != 0)
                                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "unknown field \"%.64s\"", key);
                }
        }
        if (body && json_get_string(body, "name", &name) == -EINVAL)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "\"name\" must be a string");
        if (!name) {
                /* Docker's anonymous volumes get 64 hex digits. */
                r = random_hex(random_name, 64);
                if (r < 0)
                        return http_reply_errno(c, r, NULL, "cannot make a volume name");
                name = random_name;
        }
        r = volume_create(hd, name, &created, &error);
        if (r >= 0)
                r = db_volume_get(hd->db, name, &v);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot make the volume");
        /* Not into body: name points into it (a reply put there leaked the request's object). */
        reply = volume_json(hd, &v);
        free(v.name);
        return reply ? http_reply_json(c, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, reply) : MHD_NO;
}

enum MHD_Result api_volume_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        struct db_volume v;
        int r = db_volume_get(hd->db, req->route.ref, &v);

        if (r == -ENOENT)
                return http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such volume: %s", req->route.ref);
        if (r < 0)
                return http_reply_errno(c, r, NULL, "cannot read the volume");
        o = volume_json(hd, &v);
        free(v.name);
        return o ? http_reply_json(c, MHD_HTTP_OK, o) : MHD_NO;
}

enum MHD_Result api_volume_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        r = volume_remove(hd, req->route.ref, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot remove the volume");
        json_object_object_add(o, "name", json_object_new_string(req->route.ref));
        return http_reply_json(c, MHD_HTTP_OK, o);
}

struct attach_body {
        const char *source, *destination, *format;
        bool readonly;
};

static int attach_parse(struct json_object *o, struct attach_body *ret, char **ret_error)
{
        static const char *const known[] = {"source", "destination", "format", "readonly"};
        int r;

        json_object_object_foreach(o, key, val)
        {
                size_t i;

                (void)val;
                for (i = 0; i < ARRAY_SIZE(known) && strcmp(key, known[i]) != 0; i++)
                        ;
                if (i == ARRAY_SIZE(known))
                        return asprintf(ret_error, "unknown field \"%.64s\"", key) < 0 ? -ENOMEM : -EINVAL;
        }
        if (json_get_string(o, "source", &ret->source) < 0 || json_get_string(o, "destination", &ret->destination) < 0)
                return asprintf(ret_error, "\"source\" (the disk image file on the host) and \"destination\" (a "
                                           "path in the container) are required strings") < 0
                               ? -ENOMEM
                               : -EINVAL;
        r = json_get_string(o, "format", &ret->format);
        if (r == -EINVAL)
                return asprintf(ret_error, "\"format\" must be \"raw\" or \"qcow2\"") < 0 ? -ENOMEM : -EINVAL;
        r = json_get_bool(o, "readonly", &ret->readonly);
        if (r == -EINVAL)
                return asprintf(ret_error, "\"readonly\" must be true or false") < 0 ? -ENOMEM : -EINVAL;
        return 0;
}

enum MHD_Result api_container_volume_attach(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *body = NULL, *o = json_object_new_object();
        struct attach_body a = {0};
        struct container_status st;
        struct db_container ct;
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        if (!req->body || json_parse_object(req->body, req->body_len, &body) < 0)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST,
                                        "the request needs a JSON body: {\"source\": FILE, \"destination\": PATH}");
        r = attach_parse(body, &a, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "bad request");
        r = api_container_lookup(hd, req->route.ref, &ct, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot find the container");
        r = container_state(hd, ct.id, &st);
        if (r >= 0 && !container_is_live(&st))
                r = asprintf(&error, "container %s is not running (it is %s)", ct.name, st.status) < 0 ? -ENOMEM
                                                                                                          : -EBUSY;
        /* A paused VM answers no MOUNT. */
        if (r >= 0 && strcmp(st.status, "paused") == 0)
                r = asprintf(&error, "container %s is paused: unpause it first", ct.name) < 0 ? -ENOMEM : -EBUSY;
        if (r >= 0)
                r = container_block_attach(hd, ct.id, a.source, a.destination, a.format, a.readonly, &error);
        if (r >= 0) {
                json_object_object_add(o, "id", json_object_new_string(ct.id));
                json_object_object_add(o, "volumes", container_volumes_json(hd, ct.id));
        }
        db_container_done(&ct);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot attach the volume");
        return http_reply_json(c, MHD_HTTP_CREATED, o);
}

enum MHD_Result api_container_volume_detach(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        const char *dest = http_query(c, "destination");
        struct container_status st;
        struct db_container ct;
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        if (!dest || !*dest)
                return http_reply_error(c, MHD_HTTP_BAD_REQUEST,
                                        "the query needs destination: the path of the block volume in the container");
        r = api_container_lookup(hd, req->route.ref, &ct, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot find the container");
        r = container_state(hd, ct.id, &st);
        if (r >= 0)
                r = container_block_detach(hd, ct.id, dest, container_is_live(&st), &error);
        if (r >= 0) {
                json_object_object_add(o, "id", json_object_new_string(ct.id));
                json_object_object_add(o, "volumes", container_volumes_json(hd, ct.id));
        }
        db_container_done(&ct);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot detach the volume");
        return http_reply_json(c, MHD_HTTP_OK, o);
}
