/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The host side of the agent protocol (src/proto/agent-proto.h): a
 * connection to hyperstart over the control and stream channels, with
 * request ids, stdio streams under credit-based flow control, and EXIT
 * events.
 *
 * The guest is untrusted. Anything it sends that breaks the protocol
 * (a reply to no request, DATA beyond the credit it was granted, a bad
 * body) makes the connection broken: every later call fails with -EPROTO
 * and agent_error() says why. The caller then kills the VM; a hostile
 * guest can at most end its own pod.
 *
 * Nothing here blocks except agent_call(), which runs the loop until its
 * reply comes. The caller drives the loop with agent_process(), or polls
 * agent_fd() in a loop of its own.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "macros.h"

struct agent;

typedef void (*agent_watch_fn)(struct agent *a, int fd, void *userdata);
typedef void (*agent_exit_fn)(struct agent *a, uint32_t process, int status, void *userdata);

/* Connects to the two channel sockets the hypervisor created. */
int agent_connect(const char *ctl_socket, const char *stream_socket, struct agent **ret);
/* Takes two connected fds (socketpairs in tests); the agent owns them afterwards. */
int agent_new(int ctl_fd, int stream_fd, struct agent **ret);
void agent_free(struct agent *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct agent *, agent_free)

/*
 * A pollable fd that is readable whenever agent_process() has work, except
 * EXITs held during an agent_call(): call agent_process() once after a call.
 */
int agent_fd(struct agent *a);
/* Handles whatever is ready, waiting up to timeout_ms (-1: forever) for something. */
int agent_process(struct agent *a, int timeout_ms);
/* Why the connection broke, or NULL. */
const char *agent_error(struct agent *a);

/*
 * fn runs for each EXIT from the guest, never inside an agent_call(): one
 * that comes while a call waits (a short process's EXIT in the same read as
 * the EXEC's reply) is held, and the next agent_process() hands it out, so
 * the caller has recorded the process the call started before its exit.
 */
void agent_on_exit(struct agent *a, agent_exit_fn fn, void *userdata);
/* Hands out the EXITs held during a call now (agent_process() does it first thing); true if any. */
bool agent_deliver_held_exits(struct agent *a);
/*
 * Adds an fd of the caller's (a signalfd, say) to the loop; fn runs when
 * it is readable, but never while an agent_call() waits for its reply (fn
 * may make a call of its own, and calls do not nest): it runs once that
 * call has returned.
 */
int agent_watch(struct agent *a, int fd, agent_watch_fn fn, void *userdata);
/* Removes a watch; the caller closes the fd. Safe from inside a watch's own callback. */
void agent_unwatch(struct agent *a, int fd);
/* Hands bytes read from a channel to the decoder (used by the loop, and by the fuzzer). */
int agent_feed(struct agent *a, bool ctl, const void *data, size_t len);

/*
 * Sends a request and runs the loop until its reply, or until timeout_ms
 * passes (-ETIMEDOUT). On an ERROR reply returns -EREMOTEIO with the
 * guest's message in *ret_error. body may be NULL for {}; it is not consumed.
 */
int agent_call(struct agent *a, uint16_t type, struct json_object *body, int timeout_ms,
               struct json_object **ret_reply, char **ret_error);
/* Sends a request without waiting; its reply is discarded when it comes. */
int agent_send(struct agent *a, uint16_t type, struct json_object *body);
/* HELLO: checks that both sides speak the same protocol version. */
int agent_hello(struct agent *a, int timeout_ms, char **ret_kernel, char **ret_error);

/* Allocates a fresh stream id. */
uint32_t agent_stream_id(struct agent *a);
/*
 * Attaches a local fd to a stream: for an input stream (host to guest) the
 * agent reads fd and sends DATA, then EOF at its end; for an output stream
 * it writes what the guest sends to fd. The agent dups fd, so the caller
 * keeps its own; pipes and terminals get a description of their own, so
 * that O_NONBLOCK never leaks to the caller's other users of the file.
 */
int agent_stream_input(struct agent *a, uint32_t sid, int fd);
int agent_stream_output(struct agent *a, uint32_t sid, int fd);
/* True once an output stream got EOF and all its bytes are written out. */
bool agent_stream_done(struct agent *a, uint32_t sid);
/* Stops sending on an input stream (its process is gone). */
void agent_stream_close(struct agent *a, uint32_t sid);
/* Forgets a stream whose process is gone, closing its fd; the id may not be used again. */
void agent_stream_release(struct agent *a, uint32_t sid);
