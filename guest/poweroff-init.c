/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest useful guest init: it powers the VM off as soon as the
 * kernel starts it. Benchmarks boot it to measure a bare VM boot of the
 * same kernel, so that Hyper's own overhead can be told apart.
 */
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
        reboot(RB_POWER_OFF);
        /* Without ACPI power-off, a reboot ends QEMU run with -no-reboot. */
        reboot(RB_AUTOBOOT);
        return 0;
}
