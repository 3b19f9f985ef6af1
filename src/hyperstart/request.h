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
