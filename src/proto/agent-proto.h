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
 *                              "hostname": s?, "mounts": [mount]?,
 *                              "maskedPaths": [s]?, "readonlyPaths": [s]?}
 *              Prepares /run/hyper/containers/<id>/root with /proc, /sys,
 *              /dev, /dev/pts, /dev/shm inside, then applies "mounts" in
 *              order, then remounts the root read-only if "readonly".
 *              mount = {"destination": s, "type": s?, "source": s?,
 *                       "options": [s]?}   (config.json's, passed through)
 *                destination: absolute path in the container, no ".."
 *                  component; resolved inside the root (symlinks of the
 *                  rootfs cannot leave it); created if missing.
 *                bind: type "bind", or "bind"/"rbind" in options (any
 *                  type, e.g. "none"). source is then a RELATIVE path
 *                  inside the shared folder (no leading "/", no ".."),
 *                  where the host put the user's file or folder; the
 *                  destination is made a file or a folder to match.
 *                  "rbind" is recursive. ro/nosuid/nodev/noexec/atime
 *                  options are applied by a bind remount.
 *                other types: "tmpfs", "proc", "sysfs", "devpts",
 *                  "mqueue", "cgroup", "cgroup2" (anything else is an
 *                  ERROR). source is the mount's label (default: type).
 *                  "cgroup" mounts the unified hierarchy (cgroup2).
 *                options: mount(8) flags (ro rw nosuid suid nodev dev
 *                  noexec exec sync async dirsync noatime atime
 *                  nodiratime diratime relatime norelatime strictatime
 *                  nostrictatime, and rro rrw rnosuid rnodev rnoexec as
 *                  their plain forms), propagation ones and runtime ones
 *                  (tmpcopyup notmpcopyup copy-symlink z Z U) ignored, the rest
 *                  comma-joined as the file system's data (at most 4095
 *                  bytes), e.g. "size=64m", "mode=1777".
 *                Entries for what CONTAINER already mounts are skipped:
 *                  proc at /proc, sysfs at /sys, tmpfs at /dev, devpts at
 *                  /dev/pts. tmpfs at /dev/shm is mounted over the
 *                  standard one with its own options. mqueue and cgroup
 *                  entries the guest cannot mount (no such file system,
 *                  read-only or missing parent) are skipped with a log.
 *                At most 256 mounts and 64 options each.
 *              maskedPaths, readonlyPaths: absolute paths (no ".."), at
 *                most 256 each, applied (runc's way) by the container's
 *                first process once its /proc is mounted: a masked file
 *                gets /dev/null bound over it, a masked folder a read-only
 *                tmpfs; a read-only path is bound onto itself and
 *                remounted read-only. Paths the rootfs lacks are skipped.
 *                Failures come back as the EXEC's ERROR.
 *              Any bad entry is an ERROR naming it ("mount /data: ...");
 *              nothing of a failed CONTAINER stays mounted.
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
 *   NETWORK    host -> guest  {"interfaces": [iface]?, "routes": [route]?}
 *              iface = {"mac": "aa:bb:cc:dd:ee:ff", "name": s,
 *                       "addresses": ["10.88.0.5/16", "fd00::5/64"]?,
 *                       "mtu": u32?}
 *              route = {"dest": "default" | "addr/prefix",
 *                       "gateway": addr?, "device": s?}
 *              Configures the guest's root network namespace, which all of
 *              the pod's containers share. For each iface in order: find
 *              the net device with that MAC (case-insensitive; waiting up
 *              to 3 s for one still probing, e.g. after a hot-plug), set
 *              it down and rename it to "name" (1-15 chars, no "/" ":" or
 *              blanks) unless it has that name already, set "mtu" (68 to
 *              65535; 0 or absent leaves it), add each address (a prefix
 *              is required; replaced if present; IPv6 without DAD), bring
 *              it up. Then bring up lo, then add each route in order to
 *              the main table (replaced if present): "default" is a
 *              zero-length prefix, of the gateway's family (IPv4 without
 *              one); a route needs a gateway or a device, host bits beyond
 *              the prefix are an error, and the gateway's family must
 *              match the dest's. Without a gateway the route is
 *              link-scoped. At most 16 interfaces, 16 addresses each, 64
 *              routes. The whole body is validated before anything is
 *              changed. ERROR names the interface ("interface eth0
 *              (52:54:00:12:34:56): not found among the guest's network
 *              devices: ...") or the route. A second NETWORK may name
 *              other interfaces, or the same ones again. Reply {}.
 *   MOUNT      host -> guest  {"container": s, "serial": s, "destination": s,
 *                              "readonly": b?, "fstype": s?}
 *              Mounts the file system of a disk the host hot-plugged
 *              (virtio-blk) at "destination" in the container. The disk
 *              is the one whose /sys/block/vd?/serial is "serial" (1 to
 *              20 of [A-Za-z0-9_-]; the guest waits up to 10 s for it to
 *              appear). "fstype" (lower-case letters and digits, at most
 *              16) is probed when absent: ext2/3/4 (mounted as ext4) is
 *              the one recognised. "destination": absolute, not "/", no
 *              ".." part; resolved inside the container's root (symlinks
 *              cannot leave it) and made a folder, with its parents, if
 *              missing. In a container whose first process runs, the
 *              mount is made in that process's mount namespace; before,
 *              below the root it will enter. nosuid and nodev always;
 *              read-only with "readonly". Reply {}. The host trusts
 *              nothing in the reply beyond success: ERROR says why not
 *              ("no disk with serial ... appeared", "the disk has no
 *              ext2/3/4 file system ...").
 *   UNMOUNT    host -> guest  {"container": s, "destination": s}
 *              Undoes MOUNT: unmounts what is mounted at "destination"
 *              (same rules; resolved inside the root) in the container,
 *              so that its file system is clean on the disk before the host
 *              unplugs it. ERROR when nothing is mounted there or it is
 *              busy ("... is busy: a process uses it"). Reply {}.
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
        HYPER_AGENT_NETWORK = 0x0A,
        HYPER_AGENT_MOUNT = 0x0B,
        HYPER_AGENT_UNMOUNT = 0x0C,
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
