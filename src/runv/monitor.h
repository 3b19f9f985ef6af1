/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The container monitor: one process per container that owns its pod (the
 * VM, virtiofsd, the agent channels), relays the container's stdio, and
 * answers the other runv commands over ROOT/ID/monitor.sock. To clients it
 * is the container's process: its pid goes in --pid-file, it forwards the
 * signals it gets, and it exits with the container's exit status.
 *
 * The monitor socket is SOCK_SEQPACKET; each message is one JSON object:
 *
 *   {"op":"start"}                          -> {} | {"error": s}
 *   {"op":"kill","signal":n,"all":b}        -> {} | {"error": s}
 *   {"op":"pause"} / {"op":"resume"}        -> {} | {"error": s}
 *   {"op":"ps"}                             -> {"pids": [n]}
 *   {"op":"stop"}                           -> {}, then the monitor ends
 *   {"op":"mount-block","source":path,"destination":path,"format":"raw"|"qcow2",
 *    "readonly":b,"fstype":s?}               -> {} | {"error": s}
 *        hot-plugs the file (QMP) and has the guest mount it (MOUNT)
 *   {"op":"umount-block","destination":path} -> {} | {"error": s}
 *        the guest unmounts it (UNMOUNT), then the disk is unplugged
 *   {"op":"exec","process":{OCI process}}   with the process's stdio as
 *        SCM_RIGHTS (three fds, or one pty for a terminal) -> {} | {"error"}
 *        and later {"exit": n} on the same connection; while it runs the
 *        client may send {"op":"signal","signal":n} for that process.
 */

#include <stdbool.h>

#include "oci-spec.h"

#define MONITOR_MAX_MESSAGE (256u * 1024u)
#define MONITOR_MAX_CLIENTS 32

struct monitor_config {
        const char *id;
        const char *bundle; /* absolute */
        const char *rootfs; /* absolute */
        struct oci_spec *spec;
        int console_fd; /* the host pty the client holds the master of, or -1 */
        bool start;     /* start the process at once (runv run) */
        int ready_fd;   /* gets "ok" or the error once the container is created; -1 for none */
};

/* Runs the container's life; returns its exit status, or 1 when it never ran. */
int monitor_main(const struct monitor_config *cfg);
