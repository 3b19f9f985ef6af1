/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The QEMU driver's pure parts, apart so that unit tests reach them: the
 * plan of a VM (every choice made), the command lines built from it, and
 * the state record that lets another process associate with the VM.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hypervisor.h"

enum qemu_machine {
        QEMU_MACHINE_MICROVM,
        QEMU_MACHINE_Q35,
};

/* Hot-plug slots: one pcie-root-port each. Enough for a pod's disks and nics. */
#define QEMU_HOTPLUG_PORTS 8

/* The fds QEMU inherits, already listening: they exist before QEMU runs. */
#define QEMU_FD_QMP 3
#define QEMU_FD_CTL 4
#define QEMU_FD_STREAM 5

struct qemu_plan {
        const char *binary;
        const char *id;
        enum qemu_machine machine;
        enum vm_accel accel; /* KVM or TCG, never AUTO */
        enum vm_share share; /* never AUTO */
        unsigned vcpus;
        uint64_t memory_mib;
        const char *kernel;
        const char *initrd;
        const char *cmdline_extra;
        bool debug_console;
        unsigned long tsc_khz; /* 0: unknown, left to the guest */
        const char *share_dir;
        const char *console_log;
        const char *virtiofsd_socket;
        unsigned hotplug_ports;
        const struct vm_nic *nics;
        size_t n_nics;
};

const char *qemu_machine_to_string(enum qemu_machine m);
int qemu_machine_from_string(const char *s, enum qemu_machine *ret);
const char *qemu_accel_to_string(enum vm_accel a);
int qemu_accel_from_string(const char *s, enum vm_accel *ret);
const char *qemu_share_to_string(enum vm_share s);
int qemu_share_from_string(const char *s, enum vm_share *ret);

/* The guest kernel's command line. */
int qemu_argv_cmdline(const struct qemu_plan *plan, char **ret);
/* QEMU's argv, NULL-terminated; free with qemu_argv_free(). */
int qemu_argv_build(const struct qemu_plan *plan, char ***ret);
/* virtiofsd's argv; it takes its listening socket as fd 3. */
int qemu_argv_virtiofsd(const char *binary, const char *source, char ***ret);
void qemu_argv_free(char **argv);

/* What associate() needs to find a VM again. */
struct qemu_state {
        char *id;
        char *machine;
        enum vm_accel accel;
        enum vm_share share;
        pid_t pid;
        unsigned long long pid_start;
        pid_t helper_pid;
        unsigned long long helper_start;
        char *qmp_socket;
        char *ctl_socket;
        char *stream_socket;
        char *console_log;
        char *virtiofsd_socket; /* NULL without virtio-fs */
        unsigned hotplug_ports;
};

int qemu_state_to_json(const struct qemu_state *st, char **ret);
int qemu_state_from_json(const char *text, struct qemu_state *ret);
void qemu_state_done(struct qemu_state *st);

/*
 * The blockdev-add arguments for a hot-plugged disk image: a qcow2 node
 * gets "backing": null, so QEMU never opens a backing file that the image
 * names (its header may come from anyone who could write the file).
 */
struct json_object;
struct json_object *qemu_blockdev_args(const char *node, const char *path, const char *format, bool readonly);

/*
 * Checks the first len bytes of a file given as qcow2: QEMU's magic,
 * version 2 or 3, no backing file and no external data file (either would
 * make QEMU open another host file by a name in the image). 0, or -EINVAL
 * with a message for the user.
 */
#define QEMU_QCOW2_HEADER_SIZE 104
int qemu_qcow2_check(const unsigned char *head, size_t len, char **ret_error);
