/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What tapnet.c and netbridge.c share: libnl's error codes, and persistent taps. */

/* libnl returns its own negative codes; callers of libhyper get errnos. */
int netlink_errno(int nlerr);

/*
 * Creates a persistent tap named name and hands back the fd that made it,
 * so that a caller whose later steps fail can undo it (TUNSETPERSIST 0, then
 * close). IFF_TUN_EXCL: a tap of that name left by someone else is never
 * adopted. On failure *ret_step names what failed, for the message.
 */
int netlink_tap_create(const char *name, int *ret_fd, const char **ret_step);
/* Undoes netlink_tap_create() when the caller could not finish setting the tap up. */
void netlink_tap_abandon(int fd);
