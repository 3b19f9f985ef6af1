/* SPDX-License-Identifier: Apache-2.0 */
/* hyperctl create: run's flags, a container made and left created; prints its id. */
#include "hyperctl.h"

int hc_cmd_create(int argc, char **argv)
{
        return hc_run_main(argc, argv, true);
}
