/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What only the guest's PID 1 does: the first mounts, the console, the ports, power-off. */

#include "macros.h"

/* Mounts /dev first and sends logs (and fds 0-2) to the console, then the other basics. */
void boot_setup(void);
/* Opens the virtio-serial port with this name, waiting for it to appear. */
int boot_open_port(const char *name);
_noreturn_ void boot_poweroff(void);
