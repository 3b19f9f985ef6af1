/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The daemon's shared state and the handlers of the REST API. Each
 * handler answers one route (router.h) and queues exactly one response;
 * http.c owns the connection, the request body and the error replies.
 */

#include <json-c/json.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "netbridge.h"
#include "router.h"

/* Bodies of requests that are not uploads and read none: refused over this. */
#define HTTP_MAX_SMALL_BODY (64 * 1024)
/* JSON bodies (containers/run, exec), kept in memory. */
#define HTTP_MAX_JSON_BODY (1024 * 1024)

struct hyperd {
        struct config *config;
        struct db *db;
        char *upload_dir; /* ROOT/hyperd/tmp: uploads and archives being saved */
        char *kernel, *initrd; /* what pods would boot, or NULL */
        char *runv; /* the runv binary containers run with, or NULL */
        char *shim; /* hyperd-shim, the holder of each container's stdio (docs/shim.md), or NULL */
        struct netbridge *net; /* the containers' bridge */
        char *netns_dir; /* the containers' network namespaces: SOCKET's folder/netns */
        bool kvm;
        time_t started;
        pthread_mutex_t volume_lock; /* named volumes' folders: copy-up, create and rm (volumes.c) */
};

struct request {
        struct hyperd *hd;
        struct route route;
        char *upload_path; /* the body of an upload, as it arrives */
        int upload_fd;
        uint64_t body_len;
        char *body; /* a JSON body (route.json_body), NUL-terminated */
        bool responded; /* a response was queued before the body */
        bool http_1_1;  /* the request is HTTP/1.1 (an upgrade needs it) */
};

/* http.c */
int http_status_from_errno(int r);
enum MHD_Result http_reply_json(struct MHD_Connection *c, unsigned status, struct json_object *o);
enum MHD_Result http_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...) _printf_(3, 4);
/* Replies with error (taken) when set, else "what: strerror"; the status follows r. */
enum MHD_Result http_reply_errno(struct MHD_Connection *c, int r, char *error, const char *what);
const char *http_query(struct MHD_Connection *c, const char *key);
/* Makes a file under hd->upload_dir for a temporary archive. */
int http_temp_file(struct hyperd *hd, char **ret_path, int *ret_fd);
enum MHD_Result http_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls);
void http_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);

/* api-system.c */
enum MHD_Result api_version(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_info(struct hyperd *hd, struct MHD_Connection *c, struct request *req);

/* api-images.c */
int api_images_sync(struct hyperd *hd);
enum MHD_Result api_images_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_image_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_image_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_image_tag(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_images_load(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_image_save(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_images_pull(struct hyperd *hd, struct MHD_Connection *c, struct request *req);

/* api-containers.c */
struct container_status;
/* Finds a container by id, name or id prefix; 404 or 409 with *ret_error on failure. */
int api_container_lookup(struct hyperd *hd, const char *key, struct db_container *ret, char **ret_error);
struct json_object *api_container_json(const struct db_container *c, const struct container_status *st);
enum MHD_Result api_containers_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_containers_run(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req);

/* api-container-io.c */
enum MHD_Result api_containers_create(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_start(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_attach(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_resize(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
/* api-pods.c */
enum MHD_Result api_pods_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_pods_create(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_pod_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_pod_stop(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_pod_start(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_pod_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req);

/* api-container-ops.c */
enum MHD_Result api_container_logs(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_execs(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_exec_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_exec_resize(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
/* An exec with an upgraded connection or "detach": *handled, and its reply; else the plain exec's turn. */
enum MHD_Result api_container_exec_io(struct hyperd *hd, struct MHD_Connection *c, struct request *req,
                                      const char *container_id, bool *handled);

/* api-container-ops.c */
enum MHD_Result api_container_wait(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_stop(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_kill(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_exec(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
/* api-volumes.c */
enum MHD_Result api_volumes_list(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_volumes_create(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_volume_inspect(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_volume_delete(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_volume_attach(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
enum MHD_Result api_container_volume_detach(struct hyperd *hd, struct MHD_Connection *c, struct request *req);
/* The client's socket, for a handler that blocks to notice the client has gone; -1 if unknown. */
int http_connection_fd(struct MHD_Connection *c);
