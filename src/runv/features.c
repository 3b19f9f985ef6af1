/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "runv.h"

/* runv features: what this runtime supports, in the shape of runc's features document. */
int runv_cmd_features(int argc, char **argv)
{
        if (argc != 1)
                return runv_error("usage: runv features");
        printf("{\n"
               "    \"ociVersionMin\": \"1.0.0\",\n"
               "    \"ociVersionMax\": \"1.0.2-dev\",\n"
               "    \"hooks\": [],\n"
               "    \"mountOptions\": [\"bind\", \"rbind\", \"ro\", \"rw\", \"nosuid\", \"nodev\", \"noexec\"],\n"
               "    \"linux\": {\n"
               "        \"namespaces\": [\"pid\", \"ipc\", \"uts\", \"mount\", \"network\"],\n"
               "        \"capabilities\": [],\n"
               "        \"cgroup\": { \"v1\": false, \"v2\": false, \"systemd\": false, \"systemdUser\": false },\n"
               "        \"seccomp\": { \"enabled\": false },\n"
               "        \"apparmor\": { \"enabled\": false },\n"
               "        \"selinux\": { \"enabled\": false }\n"
               "    },\n"
               "    \"annotations\": {\n"
               "        \"io.hyper.runv.isolation\": \"vm\",\n"
               "        \"io.hyper.runv.hypervisor\": \"qemu\"\n"
               "    }\n"
               "}\n");
        return 0;
}
