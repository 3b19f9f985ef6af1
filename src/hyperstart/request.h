/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One control request being handled, and the JSON helpers its handler uses. */

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "macros.h"

struct json_object;

struct request {
        uint32_t id;
        uint16_t type;
        struct json_object *body;  /* always an object */
        struct json_object *reply; /* an object the handler fills */
        char error[256];
};

/*
 * A handler that returns REQUEST_DEFERRED answers later, from the loop,
 * with request_finish() (MOUNT waits so for its disk to appear).
 */
#define REQUEST_DEFERRED 1
/* Sends the reply to req (an error when r < 0) and frees its body and reply. */
void request_finish(struct agent *a, struct request *req, int r);

/* Records why a request failed and returns r (negative), for "return request_fail(...)". */
int request_fail(struct request *req, int r, const char *fmt, ...) _printf_(3, 4);

/* Handles one frame from the control channel. */
void request_dispatch(struct agent *a, const struct hyper_agent_header *h, const uint8_t *payload);
/* Answers a frame the reader rejected, when it carried a request id. */
void request_reject(struct agent *a, const struct hyper_agent_header *h, const char *reason);
/* Queues an EXIT event. */
void request_send_exit(struct agent *a, uint32_t process, int status);

/*
 * Field getters: they fail with a message in req when a required field is
 * missing, a field has the wrong type or is out of range. An optional
 * missing field leaves *ret untouched.
 */
int body_string(struct request *req, const char *key, bool required, size_t max, const char **ret);
int body_u32(struct request *req, const char *key, bool required, uint32_t max, uint32_t *ret);
int body_bool(struct request *req, const char *key, bool *ret);
/* A NUL-terminated array of copies; *ret is NULL when the field is missing and optional. */
int body_strv(struct request *req, const char *key, bool required, size_t max, char ***ret);
int body_u32v(struct request *req, const char *key, size_t max, uint32_t **ret, size_t *ret_n);
void strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/*
 * The same getters on a nested object (an element of an array of
 * objects); "where" prefixes their messages, e.g. "mounts[2]: ".
 */
int body_object_string(struct request *req, struct json_object *obj, const char *where, const char *key,
                       bool required, size_t max, const char **ret);
int body_object_u32(struct request *req, struct json_object *obj, const char *where, const char *key,
                    bool required, uint32_t max, uint32_t *ret);
int body_object_strv(struct request *req, struct json_object *obj, const char *where, const char *key,
                     bool required, size_t max, char ***ret);
/* An optional array (of anything: the caller checks the elements); *ret untouched when missing. */
int body_object_array(struct request *req, struct json_object *obj, const char *where, const char *key,
                      size_t max, struct json_object **ret, size_t *ret_n);
