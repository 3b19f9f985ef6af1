/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The hypervisor layer: a table of operations on a VM, with QEMU as the
 * first driver (qemu.c). Callers never build a hypervisor's command line;
 * they describe the VM in a struct vm_config and call through the table.
 *
 * A VM's files live in its state folder: the agent channel sockets, the
 * QMP socket, the virtiofsd socket, the console log and a small JSON record
 * that lets another process associate with the VM after a restart.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum vm_accel {
        VM_ACCEL_AUTO, /* KVM when /dev/kvm opens and works, TCG otherwise */
        VM_ACCEL_KVM,
        VM_ACCEL_TCG,
};

enum vm_share {
        VM_SHARE_AUTO, /* virtio-fs when virtiofsd starts, 9p otherwise */
        VM_SHARE_VIRTIOFS,
        VM_SHARE_9P,
        VM_SHARE_NONE,
};

/*
 * A NIC present from boot: virtio-net on an existing tap that QEMU opens by
 * name (so QEMU must run in the tap's netns), with the guest-side MAC.
 */
struct vm_nic {
        const char *tap;
        uint8_t mac[6];
};

#define VM_NICS_MAX 8

struct vm_config {
        const char *id;        /* names the VM in logs and QEMU's -name */
        const char *state_dir; /* exists, owned by the caller, emptied by vm_free's caller */
        const char *kernel;    /* uncompressed vmlinux (PVH) or bzImage */
        const char *initrd;
        const char *cmdline_extra; /* appended to the kernel command line, may be NULL */
        unsigned vcpus;            /* 0 means 1 */
        uint64_t memory_mib;       /* 0 means 128 */
        const char *share_dir;     /* host folder the guest mounts; NULL for none */
        enum vm_share share;
        enum vm_accel accel;
        bool debug_console; /* the guest kernel logs at full verbosity */
        const struct vm_nic *nics; /* at most VM_NICS_MAX */
        size_t n_nics;
};

struct vm {
        const struct hypervisor_ops *ops;
        char *id;
        char *state_dir;
        char *ctl_socket;    /* agent control channel (connect to it) */
        char *stream_socket; /* agent stream channel */
        char *qmp_socket;
        char *console_log;
        enum vm_share share; /* what was chosen */
        enum vm_accel accel; /* what was chosen */
        pid_t pid;           /* the hypervisor process */
        pid_t helper_pid;    /* virtiofsd, or 0 */
        bool owned;          /* launched by this process: it reaps pid and helper_pid */
        void *priv;          /* the driver's own state */
};

struct hypervisor_ops {
        const char *name;
        /* Starts the VM; returns once its sockets exist. The guest boots on. */
        int (*launch)(const struct vm_config *cfg, struct vm **ret);
        /* Finds a VM launched by another process from its state folder. */
        int (*associate)(const char *state_dir, struct vm **ret);
        /* ret_error (may be NULL) gets the hypervisor's message when it refuses the file. */
        int (*hotplug_disk)(struct vm *vm, const char *id, const char *path, const char *format, bool readonly,
                            char **ret_error);
        int (*unplug_disk)(struct vm *vm, const char *id);
        int (*hotplug_nic)(struct vm *vm, const char *id, const char *tap, const char *mac);
        /* Freezes and thaws the whole VM. */
        int (*pause)(struct vm *vm);
        int (*resume)(struct vm *vm);
        /* Waits up to timeout_ms for the VM to end by itself (the guest powers off). */
        int (*wait)(struct vm *vm, int timeout_ms, int *ret_status);
        /* Asks the hypervisor to stop the VM now (QMP quit), then kills what is left. */
        int (*kill)(struct vm *vm);
        /* Releases memory; processes this VM owns are killed and reaped, sockets removed. */
        void (*free)(struct vm *vm);
};

extern const struct hypervisor_ops qemu_ops;

const struct hypervisor_ops *hypervisor_find(const char *name);
/*
 * True when /dev/kvm opens and creates a VM. That it can run a guest is
 * only known at launch: the QEMU driver falls back to TCG when it cannot.
 */
bool hypervisor_kvm_usable(void);

static inline void vm_freep(struct vm **vm)
{
        if (*vm)
                (*vm)->ops->free(*vm);
}
#define _cleanup_vm_ __attribute__((cleanup(vm_freep)))
