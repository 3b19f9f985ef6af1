/* SPDX-License-Identifier: Apache-2.0 */
#include "hypervisor.h"

#include <ctype.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <x86intrin.h>

#include "hypervisor-internal.h"
#include "macros.h"

static const struct hypervisor_ops *const hypervisor_table[] = {
        &qemu_ops,
};

const struct hypervisor_ops *hypervisor_find(const char *name)
{
        if (!name || !*name)
                return hypervisor_table[0];
        for (size_t i = 0; i < ARRAY_SIZE(hypervisor_table); i++)
                if (strcmp(hypervisor_table[i]->name, name) == 0)
                        return hypervisor_table[i];
        return NULL;
}

static int64_t hypervisor_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hypervisor_deadline(int timeout_ms)
{
        if (timeout_ms < 0)
                return INT64_MAX;
        return hypervisor_now_ms() + timeout_ms;
}

int hypervisor_remaining_ms(int64_t deadline)
{
        int64_t left;

        if (deadline == INT64_MAX)
                return -1;
        left = deadline - hypervisor_now_ms();
        if (left <= 0)
                return 0;
        return left > INT32_MAX ? INT32_MAX : (int)left;
}

bool hypervisor_kvm_usable(void)
{
        _cleanup_close_ int kvm = -1;
        _cleanup_close_ int vm = -1;

        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0)
                return false;
        if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
                return false;
        /* A device node can exist in a container that may not use it. */
        vm = ioctl(kvm, KVM_CREATE_VM, 0);
        return vm >= 0;
}

static uint64_t hypervisor_raw_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

unsigned long hypervisor_tsc_khz(void)
{
        static unsigned long cached;
        struct timespec pause = { .tv_nsec = 5 * 1000 * 1000 };
        uint64_t t0, c0, t1, c1;

        /*
         * The host reports its TSC frequency nowhere a process can read it, so
         * count TSC ticks over a few milliseconds. Under TCG the guest's TSC
         * is the host's; under KVM it runs at the host's rate too.
         */
        if (cached)
                return cached;
        t0 = hypervisor_raw_ns();
        c0 = __rdtsc();
        nanosleep(&pause, NULL);
        t1 = hypervisor_raw_ns();
        c1 = __rdtsc();
        if (t1 <= t0 || c1 <= c0)
                return 0;
        cached = (unsigned long)(((c1 - c0) * 1000000ULL + (t1 - t0) / 2) / (t1 - t0));
        return cached;
}

char *hypervisor_path_join(const char *dir, const char *name)
{
        char *p;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return NULL;
        return p;
}

bool hypervisor_id_valid(const char *id)
{
        size_t n;

        if (!id || !isalpha((unsigned char)id[0]))
                return false;
        n = strlen(id);
        if (n > 64)
                return false;
        for (size_t i = 1; i < n; i++) {
                unsigned char c = (unsigned char)id[i];
                if (!isalnum(c) && c != '-' && c != '.' && c != '_')
                        return false;
        }
        return true;
}
