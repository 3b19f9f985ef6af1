/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent-proto.h"
#include "macros.h"
#include "qemu-internal.h"

/* A growing, NULL-terminated argv whose first error sticks, so callers check once. */
struct argv {
        char **v;
        size_t n;
        int err;
};

void qemu_argv_free(char **argv)
{
        if (!argv)
                return;
        for (char **p = argv; *p; p++)
                free(*p);
        free(argv);
}

static _printf_(2, 3) void argv_add(struct argv *a, const char *fmt, ...)
{
        char **v, *s;
        va_list ap;
        int r;

        if (a->err)
                return;
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0) {
                a->err = -ENOMEM;
                return;
        }
        v = realloc(a->v, (a->n + 2) * sizeof(char *));
        if (!v) {
                free(s);
                a->err = -ENOMEM;
                return;
        }
        v[a->n++] = s;
        v[a->n] = NULL;
        a->v = v;
}

static int argv_finish(struct argv *a, char ***ret)
{
        if (a->err) {
                qemu_argv_free(a->v);
                return a->err;
        }
        *ret = a->v;
        return 0;
}

/*
 * QEMU splits option values at commas, and a doubled comma is a literal
 * one; virtiofsd's -o (libfuse) escapes with a backslash instead. Paths
 * from callers go through this before they land in an option.
 */
static char *argv_escape_style(const char *s, bool fuse)
{
        char *e = malloc(strlen(s) * 2 + 1), *p;

        if (!e)
                return NULL;
        p = e;
        for (const char *q = s; *q; q++) {
                if (fuse && (*q == ',' || *q == '\\'))
                        *p++ = '\\';
                *p++ = *q;
                if (!fuse && *q == ',')
                        *p++ = ',';
        }
        *p = '\0';
        return e;
}

static char *argv_escape(const char *s)
{
        return argv_escape_style(s, false);
}

/* Adds "-opt prefix<escaped path>suffix". */
static void argv_add_path(struct argv *a, const char *opt, const char *prefix, const char *path,
                          const char *suffix)
{
        _cleanup_free_ char *e = argv_escape(path);

        if (!e) {
                a->err = a->err ?: -ENOMEM;
                return;
        }
        argv_add(a, "%s", opt);
        argv_add(a, "%s%s%s", prefix, e, suffix);
}

int qemu_argv_cmdline(const struct qemu_plan *plan, char **ret)
{
        char tsc[48] = "";
        char *s;

        /*
         * microvm has neither HPET nor PM timer: without the TSC's frequency
         * the kernel may hang calibrating it. reboot=t makes a panic's reboot
         * a triple fault, which -no-reboot turns into QEMU's exit.
         */
        if (plan->machine == QEMU_MACHINE_MICROVM && plan->tsc_khz > 0)
                snprintf(tsc, sizeof(tsc), " tsc_early_khz=%lu", plan->tsc_khz);
        if (asprintf(&s, "console=ttyS0 panic=-1 reboot=t%s%s%s%s%s",
                     plan->debug_console ? "" : " quiet",
                     plan->machine == QEMU_MACHINE_MICROVM ? " pcie_ports=native" : "", tsc,
                     plan->cmdline_extra ? " " : "", plan->cmdline_extra ?: "") < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool plan_mmio(const struct qemu_plan *plan)
{
        return plan->machine == QEMU_MACHINE_MICROVM;
}

/* Device model names differ only by transport: virtio-mmio on microvm, PCI on q35. */
static const char *plan_transport(const struct qemu_plan *plan)
{
        return plan_mmio(plan) ? "device" : "pci";
}

static void argv_machine(struct argv *a, const struct qemu_plan *plan)
{
        const char *backend = plan->share == VM_SHARE_VIRTIOFS ? ",memory-backend=mem" : "";

        /* vhost-user devices need guest memory that virtiofsd can map: a shared memfd. */
        if (plan->share == VM_SHARE_VIRTIOFS) {
                argv_add(a, "-object");
                argv_add(a, "memory-backend-memfd,id=mem,size=%luM,share=on",
                         (unsigned long)plan->memory_mib);
        }
        argv_add(a, "-machine");
        if (plan_mmio(plan))
                argv_add(a, "microvm,pcie=on%s", backend);
        else
                argv_add(a, "q35%s", backend);
        argv_add(a, "-accel");
        if (plan->accel == VM_ACCEL_KVM)
                argv_add(a, "kvm");
        else
                argv_add(a, "tcg,tb-size=16");
        /* Under TCG, "max" gives containers the x86-64-v2 that distributions now require. */
        argv_add(a, "-cpu");
        argv_add(a, plan->accel == VM_ACCEL_KVM ? "host" : "max");
        argv_add(a, "-smp");
        argv_add(a, "%u", plan->vcpus);
        argv_add(a, "-m");
        argv_add(a, "%luM", (unsigned long)plan->memory_mib);
}

static void argv_boot(struct argv *a, const struct qemu_plan *plan)
{
        _cleanup_free_ char *cmdline = NULL;
        int r;

        argv_add_path(a, "-kernel", "", plan->kernel, "");
        if (plan->initrd)
                argv_add_path(a, "-initrd", "", plan->initrd, "");
        r = qemu_argv_cmdline(plan, &cmdline);
        if (r < 0) {
                a->err = a->err ?: r;
                return;
        }
        argv_add(a, "-append");
        argv_add(a, "%s", cmdline);
}

static void argv_channels(struct argv *a, const struct qemu_plan *plan)
{
        argv_add_path(a, "-chardev", "file,id=console,path=", plan->console_log, "");
        argv_add(a, "-serial");
        argv_add(a, "chardev:console");
        argv_add(a, "-chardev");
        argv_add(a, "socket,id=qmp,fd=%d,server=on,wait=off", QEMU_FD_QMP);
        argv_add(a, "-mon");
        argv_add(a, "chardev=qmp,mode=control");
        argv_add(a, "-device");
        argv_add(a, "virtio-serial-%s,id=vser,max_ports=3", plan_transport(plan));
        argv_add(a, "-chardev");
        argv_add(a, "socket,id=ctl,fd=%d,server=on,wait=off", QEMU_FD_CTL);
        argv_add(a, "-device");
        argv_add(a, "virtserialport,bus=vser.0,nr=1,chardev=ctl,name=%s", HYPER_AGENT_CTL_PORT);
        argv_add(a, "-chardev");
        argv_add(a, "socket,id=stream,fd=%d,server=on,wait=off", QEMU_FD_STREAM);
        argv_add(a, "-device");
        argv_add(a, "virtserialport,bus=vser.0,nr=2,chardev=stream,name=%s",
                 HYPER_AGENT_STREAM_PORT);
}

/*
 * A virtio-rng device seeds the guest's entropy pool at once. Without it
 * the kernel's crng takes about a second to initialise under TCG, and
 * anything that asks for random bytes early (json-c seeds its hash tables
 * with getrandom()) waits that long: it doubled the time to a first reply.
 */
static void argv_entropy(struct argv *a, const struct qemu_plan *plan)
{
        argv_add(a, "-object");
        argv_add(a, "rng-random,id=rng,filename=/dev/urandom");
        argv_add(a, "-device");
        argv_add(a, "virtio-rng-%s,rng=rng", plan_transport(plan));
}

static void argv_share(struct argv *a, const struct qemu_plan *plan)
{
        if (plan->share == VM_SHARE_VIRTIOFS) {
                argv_add_path(a, "-chardev", "socket,id=fs,path=", plan->virtiofsd_socket, "");
                argv_add(a, "-device");
                argv_add(a, "vhost-user-fs-%s,chardev=fs,tag=%s", plan_transport(plan),
                         HYPER_AGENT_SHARE_TAG);
        } else if (plan->share == VM_SHARE_9P) {
                /* multidevs=remap keeps inode numbers unique across the host's mounts. */
                argv_add_path(a, "-fsdev", "local,id=fs,path=", plan->share_dir,
                              ",security_model=passthrough,multidevs=remap");
                argv_add(a, "-device");
                argv_add(a, "virtio-9p-%s,fsdev=fs,mount_tag=%s", plan_transport(plan),
                         HYPER_AGENT_SHARE_TAG);
        }
}

/*
 * NICs present from boot, on taps that exist already: QEMU opens each by
 * name (script=no: its sandbox forbids spawning). vhost stays off, since
 * hosts like this one have no /dev/vhost-net. The guest learns nothing
 * from the tap's MAC; the device's MAC is the one the guest uses.
 */
static void argv_nics(struct argv *a, const struct qemu_plan *plan)
{
        for (size_t i = 0; i < plan->n_nics; i++) {
                const uint8_t *m = plan->nics[i].mac;
                _cleanup_free_ char *tap = NULL;

                tap = plan->nics[i].tap ? argv_escape(plan->nics[i].tap) : NULL;
                if (!tap) {
                        a->err = a->err ?: (plan->nics[i].tap ? -ENOMEM : -EINVAL);
                        return;
                }
                argv_add(a, "-netdev");
                argv_add(a, "tap,id=net%zu,ifname=%s,script=no,downscript=no,vhost=off", i, tap);
                argv_add(a, "-device");
                argv_add(a, "virtio-net-%s,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x%s",
                         plan_transport(plan), i, m[0], m[1], m[2], m[3], m[4], m[5],
                         /* No option ROM: the guest boots by -kernel, not PXE. */
                         plan_mmio(plan) ? "" : ",romfile=");
        }
}

/* Root ports are the only hot-plug slots a PCIe bus has; each takes one device. */
static void argv_hotplug_ports(struct argv *a, const struct qemu_plan *plan)
{
        for (unsigned i = 0; i < plan->hotplug_ports; i++) {
                argv_add(a, "-device");
                argv_add(a, "pcie-root-port,id=hp%u,bus=pcie.0,chassis=%u,slot=0", i, i + 1);
        }
}

int qemu_argv_build(const struct qemu_plan *plan, char ***ret)
{
        struct argv a = {};

        argv_add(&a, "%s", plan->binary);
        argv_add_path(&a, "-name", "", plan->id, "");
        argv_add(&a, "-nodefaults");
        argv_add(&a, "-no-user-config");
        argv_add(&a, "-display");
        argv_add(&a, "none");
        argv_add(&a, "-no-reboot");
        /* QEMU never needs to start programs or gain privileges: forbid it. */
        argv_add(&a, "-sandbox");
        argv_add(&a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        argv_machine(&a, plan);
        if (plan_mmio(plan)) {
                /* Legacy virtio-mmio is microvm's default; vhost-user-fs needs virtio 1.0. */
                argv_add(&a, "-global");
                argv_add(&a, "virtio-mmio.force-legacy=false");
        }
        argv_boot(&a, plan);
        argv_channels(&a, plan);
        argv_entropy(&a, plan);
        argv_share(&a, plan);
        argv_nics(&a, plan);
        argv_hotplug_ports(&a, plan);
        return argv_finish(&a, ret);
}

int qemu_argv_virtiofsd(const char *binary, const char *source, char ***ret)
{
        _cleanup_free_ char *e = NULL;
        struct argv a = {};

        e = argv_escape_style(source, true);
        if (!e)
                return -ENOMEM;
        argv_add(&a, "%s", binary);
        argv_add(&a, "--fd=3");
        argv_add(&a, "-o");
        argv_add(&a, "source=%s", e);
        /* auto: the host adds files (new containers' roots) while the guest runs. */
        argv_add(&a, "-o");
        argv_add(&a, "cache=auto");
        /* xattr: file capabilities and ACLs inside images must survive the share. */
        argv_add(&a, "-o");
        argv_add(&a, "xattr");
        return argv_finish(&a, ret);
}
