/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * NETWORK: the pod's interfaces, addresses and routes, set with rtnetlink
 * in the guest's root network namespace, which every container of the pod
 * shares (no process gets a network namespace of its own).
 */

#include "agent.h"
#include "request.h"

int network_configure(struct agent *a, struct request *req);
