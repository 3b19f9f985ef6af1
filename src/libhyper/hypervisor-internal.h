/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers the drivers share; not part of libhyper's interface. */

#include <stdbool.h>
#include <stdint.h>

/* Deadlines are CLOCK_MONOTONIC milliseconds; a negative timeout never expires. */
int64_t hypervisor_deadline(int timeout_ms);
/* What poll() wants: -1 for no deadline, 0 once it has passed. */
int hypervisor_remaining_ms(int64_t deadline);

/* The host TSC frequency in kHz, measured against CLOCK_MONOTONIC_RAW; 0 when unknown. */
unsigned long hypervisor_tsc_khz(void);

/* Returns dir/name, or NULL when out of memory. */
char *hypervisor_path_join(const char *dir, const char *name);
/* QEMU's rule for ids: a letter, then letters, digits, '-', '.' and '_'; short. */
bool hypervisor_id_valid(const char *id);
