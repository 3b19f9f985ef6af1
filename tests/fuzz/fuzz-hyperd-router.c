/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperd's API input beyond libimage: the method and path of a request,
 * query values, and the configuration file. The first line of the input
 * is the method, the second the path, the third a query value; all of it
 * is also parsed as a configuration file. Any bytes are answered, never
 * crash, and a route that names an image carries a reference that is part
 * of the path. The query value is also a -v spec, a --memory and a
 * --cpus value, and the whole input a probed disk image head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "router.h"
#include "volume-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_line(char **p)
{
        char *s = *p, *nl;

        if (!s)
                return NULL;
        nl = strchr(s, '\n');
        if (nl) {
                *nl = '\0';
                *p = nl + 1;
        } else
                *p = NULL;
        return s;
}

static void fuzz_volume(const char *value, const uint8_t *data, size_t size)
{
        struct volume_spec v;
        char *error = NULL;
        uint64_t n;

        if (volume_spec_parse(value, &v, &error) == 0) {
                if (!v.source || !v.destination || !volume_destination_valid(v.destination))
                        abort();
                volume_spec_done(&v);
        }
        free(error);
        error = NULL;
        if (resources_memory_parse(value, &n, &error) == 0 && n < VOLUME_MIN_MEMORY)
                abort();
        free(error);
        error = NULL;
        if (resources_cpus_parse(value, 8, &n, &error) == 0 && (n == 0 || n > 8000))
                abort();
        free(error);
        (void)volume_probe_format(data, size, value);
}

static void fuzz_config(const uint8_t *data, size_t size)
{
        struct config c;
        char *error = NULL;

        if (config_init(&c) < 0)
                return;
        config_parse(&c, (const char *)data, size, &error);
        free(error);
        config_done(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *copy = strndup((const char *)data, size), *p = copy, *method, *path, *value;
        struct route r = { 0 };
        uint64_t n;
        bool b;

        if (!copy)
                return 0;
        method = fuzz_line(&p);
        path = fuzz_line(&p);
        value = fuzz_line(&p);
        if (path && router_match(method, path, &r) == 0) {
                if (r.id >= _ROUTE_MAX || (r.ref && (!*r.ref || !strstr(path, r.ref))))
                        abort();
                route_done(&r);
        }
        router_parse_bool(value, &b);
        router_parse_size(value, UINT64_MAX, &n);
        if (value)
                fuzz_volume(value, data, size);
        free(copy);
        fuzz_config(data, size);
        return 0;
}
