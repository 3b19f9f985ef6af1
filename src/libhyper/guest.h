/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Where the guest kernel and initrd are. In order: $HYPER_KERNEL and
 * $HYPER_INITRD; then share/hyper beside the running program's bin folder
 * (an installed tree that was moved still works); then the data folder
 * chosen at build time.
 */

int guest_find(char **ret_kernel, char **ret_initrd);
