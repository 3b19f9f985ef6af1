/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The agent protocol between the host (runv, the pod monitor) and
 * hyperstart, the guest's PID 1.
 *
 * Two byte streams carry it, each a virtio-serial port the guest finds by
 * name in /sys/class/virtio-ports/<port>/name:
 *
 *   "sh.hyper.channel.0"  control: requests, replies and events (JSON bodies)
 *   "sh.hyper.channel.1"  stream:  stdio bytes, credits and end-of-stream
 *
 * Bulk output never delays a control reply because the two never share a
 * queue. Every frame on either channel has the same 12-byte header, all
 * integers big-endian:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +---------------------------------------------------------------+
 *   |                    payload length (bytes)                     |
 *   +-------------------------------+-------------------------------+
 *   |             type              |         flags (zero)          |
 *   +-------------------------------+-------------------------------+
 *   |             id: request id (control) or stream id (stream)    |
 *   +---------------------------------------------------------------+
 *   |              payload: length bytes, at most the limit         |
 *   |                             ...                               |
 *   +---------------------------------------------------------------+
 *
 * Control channel. The host sends requests with ids it chooses (non-zero,
 * increasing); the guest answers each with exactly one REPLY or ERROR
 * carrying the same id, not necessarily in order. Events carry id 0.
 * Bodies are JSON objects; an empty body means {}.
 *
 *   HELLO      host -> guest  {"version": N}
 *              The first request. The guest replies {"version": N,
 *              "kernel": "<uname -r>"} when N is its version and ERROR
 *              otherwise; it answers every other request before HELLO with
 *              ERROR. The host checks the version in the reply too.
 *   POD        host -> guest  {"hostname": s, "share": "virtiofs"|"9p"}
 *              Mounts the shared folder at /run/hyper/share and starts the
 *              pod init that holds the pid, ipc and uts namespaces.
 *   CONTAINER  host -> guest  {"id": s, "rootfs": path-in-share,
 *                              "mode": "bind"|"overlay", "readonly": b,
 *                              "hostname": s?}
 *              Prepares /run/hyper/containers/<id>/root with /proc, /sys,
 *              /dev, /dev/pts, /dev/shm inside.
 *   EXEC       host -> guest  {"container": s, "process": u32,
 *                              "args": [s], "env": [s], "cwd": s,
 *                              "uid": u32, "gid": u32, "groups": [u32],
 *                              "terminal": b, "rows": u16, "cols": u16,
 *                              "stdin": sid, "stdout": sid, "stderr": sid}
 *              Starts a process; "process" is a host-chosen id that later
 *              requests and the EXIT event name. A stream id of 0 means
 *              /dev/null. With a terminal, stdout carries the pty's output,
 *              stdin feeds it, and stderr is unused. Reply {"pid": n}.
 *   SIGNAL     host -> guest  {"process": u32, "signal": n}
 *   WINSIZE    host -> guest  {"process": u32, "rows": n, "cols": n}
 *   REMOVE     host -> guest  {"id": s}   undoes CONTAINER
 *   POWEROFF   host -> guest  {}  replies, then syncs and powers off
 *   PING       host -> guest  {}
 *   REPLY      guest -> host  the request's result, an object
 *   ERROR      guest -> host  {"error": "what was wrong"}
 *   EXIT       guest -> host  {"process": u32, "status": n}   (id 0)
 *              status is the exit code, or 128+signal for a signal death,
 *              or 126/127 when the program could not be executed/found.
 *              EXIT is sent after the process's output streams have sent
 *              EOF, so the host has all output once it sees EXIT.
 *
 * Stream channel. Stream ids are chosen by the host (non-zero) and named in
 * EXEC. Each direction of each stream is flow-controlled by credit: the
 * writer starts with HYPER_AGENT_INITIAL_CREDIT bytes and may never have
 * more unacknowledged DATA bytes in flight than it has been granted; the
 * reader grants more with CREDIT once it has passed bytes on. So neither
 * side ever drops a byte or buffers more than the window per stream.
 *
 *   DATA       payload bytes of the stream, 1 to HYPER_AGENT_MAX_DATA
 *   CREDIT     payload: u32 big-endian, bytes added to the writer's credit
 *   EOF        no payload: the writer will send no more on this stream;
 *              sent by the reader, it says it will take no more (its
 *              process closed stdin or exited), and the writer stops
 *
 * A frame whose length exceeds the limit for its type, or of unknown type,
 * is skipped (the reader stays in sync by the length) and answered by an
 * ERROR on the control channel when it had a request id. A receiver never
 * trusts the other side: DATA beyond the granted credit, unknown ids and
 * malformed bodies are rejected, never acted on.
 */

#include <stdint.h>

#define HYPER_AGENT_VERSION 1

#define HYPER_AGENT_CTL_PORT "sh.hyper.channel.0"
#define HYPER_AGENT_STREAM_PORT "sh.hyper.channel.1"
/* The virtio-fs tag or 9p mount tag of the folder the host shares. */
#define HYPER_AGENT_SHARE_TAG "hyper-share"
/* Where hyperstart mounts that folder. */
#define HYPER_AGENT_SHARE_DIR "/run/hyper/share"

#define HYPER_AGENT_HEADER_SIZE 12u
/* The largest control body: a process with a large environment fits. */
#define HYPER_AGENT_MAX_CTL_PAYLOAD (1024u * 1024u)
/* The largest DATA payload; smaller frames keep streams interleaved fairly. */
#define HYPER_AGENT_MAX_DATA (32u * 1024u)
/* Credit each direction of each stream starts with. */
#define HYPER_AGENT_INITIAL_CREDIT (256u * 1024u)
/* The most credit a reader may hold out; bounds what a writer can queue. */
#define HYPER_AGENT_MAX_CREDIT (16u * 1024u * 1024u)

enum hyper_agent_type {
        /* control channel, host -> guest requests */
        HYPER_AGENT_HELLO = 0x01,
        HYPER_AGENT_POD = 0x02,
        HYPER_AGENT_CONTAINER = 0x03,
        HYPER_AGENT_EXEC = 0x04,
        HYPER_AGENT_SIGNAL = 0x05,
        HYPER_AGENT_WINSIZE = 0x06,
        HYPER_AGENT_REMOVE = 0x07,
        HYPER_AGENT_POWEROFF = 0x08,
        HYPER_AGENT_PING = 0x09,
        /* control channel, guest -> host */
        HYPER_AGENT_REPLY = 0x40,
        HYPER_AGENT_ERROR = 0x41,
        HYPER_AGENT_EXIT = 0x42,
        /* stream channel, both ways */
        HYPER_AGENT_DATA = 0x80,
        HYPER_AGENT_CREDIT = 0x81,
        HYPER_AGENT_EOF = 0x82,
};

struct hyper_agent_header {
        uint32_t length;
        uint16_t type;
        uint16_t flags;
        uint32_t id;
};
