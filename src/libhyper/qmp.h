/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A small QMP client over QEMU's unix socket. A connection reads the
 * greeting and negotiates capabilities; qmp_execute() sends one command with
 * an id and waits for the reply with that id, skipping the asynchronous
 * events QEMU interleaves. A socket chardev serves one client at a time, so
 * callers hold a connection only for as long as they need it.
 */

#include <json-c/json.h>

struct qmp;

/* Connects, reads the greeting and sends qmp_capabilities, all within timeout_ms. */
int qmp_connect(const char *path, int timeout_ms, struct qmp **ret);
void qmp_close(struct qmp *qmp);

/*
 * Runs a command. args (may be NULL) is consumed. On success *ret_return
 * (if not NULL) gets the "return" member, which the caller puts. A reply
 * with "error" gives -EIO and, when ret_error is not NULL, the error's
 * description, which the caller frees.
 */
int qmp_execute(struct qmp *qmp, const char *command, json_object *args, int timeout_ms,
                json_object **ret_return, char **ret_error);

/* Connects, runs one command and closes, for callers that need nothing else. */
int qmp_execute_once(const char *path, const char *command, json_object *args, int timeout_ms,
                     char **ret_error);

static inline void qmp_closep(struct qmp **qmp)
{
        if (*qmp)
                qmp_close(*qmp);
}
#define _cleanup_qmp_ __attribute__((cleanup(qmp_closep)))
