/* SPDX-License-Identifier: Apache-2.0 */
/* config.json parsing: the default spec, sizes, and hostile or broken specs with their messages. */
#include "oci-spec.h"
#include "test.h"

static struct oci_spec *parse_ok(const char *json)
{
        struct oci_spec *spec = NULL;
        char *err = NULL;

        if (oci_spec_parse(json, strlen(json), &spec, &err) < 0) {
                fprintf(stderr, "unexpected error: %s\n", err);
                abort();
        }
        CHECK(!err);
        return spec;
}

static void parse_bad(const char *json, const char *expect)
{
        struct oci_spec *spec = NULL;
        char *err = NULL;

        CHECK(oci_spec_parse(json, strlen(json), &spec, &err) < 0);
        CHECK(spec == NULL);
        CHECK(err);
        if (!strstr(err, expect)) {
                fprintf(stderr, "error \"%s\" does not say \"%s\"\n", err, expect);
                abort();
        }
        free(err);
}

static void test_default_spec(void)
{
        struct oci_spec *spec = parse_ok(oci_spec_default());

        CHECK_STREQ(spec->root_path, "rootfs");
        CHECK(spec->root_readonly);
        CHECK_STREQ(spec->hostname, "runv");
        CHECK_STREQ(spec->process->args[0], "sh");
        CHECK(spec->process->args[1] == NULL);
        CHECK(spec->process->terminal);
        CHECK_STREQ(spec->process->cwd, "/");
        CHECK_EQ_INT(spec->n_mounts, 7);
        CHECK_EQ_INT(spec->n_namespaces, 5);
        CHECK_EQ_INT(oci_spec_vcpus(spec), 1);
        CHECK_EQ_INT(oci_spec_memory_mib(spec), 128);
        oci_spec_free(spec);
}

static void test_process_fields(void)
{
        struct oci_spec *spec = parse_ok(
                "{\"root\":{\"path\":\"/r\"},\"process\":{\"args\":[\"id\",\"-u\"],\"cwd\":\"/tmp\","
                "\"env\":[\"A=1\",\"B=\"],\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},"
                "\"consoleSize\":{\"height\":24,\"width\":80}},"
                "\"linux\":{\"resources\":{\"memory\":{\"limit\":268435456},\"cpu\":{\"quota\":150000,"
                "\"period\":100000}}}}");
        struct oci_process *p = spec->process;

        CHECK_EQ_INT(p->uid, 1000);
        CHECK_EQ_INT(p->gid, 100);
        CHECK_EQ_INT(p->n_groups, 2);
        CHECK_EQ_INT(p->groups[1], 6);
        CHECK_STREQ(p->env[1], "B=");
        CHECK_EQ_INT(p->rows, 24);
        CHECK_EQ_INT(p->cols, 80);
        CHECK_EQ_INT(oci_spec_memory_mib(spec), 256);
        CHECK_EQ_INT(oci_spec_vcpus(spec), 2);
        oci_spec_free(spec);
}

static void test_small_memory_has_a_floor(void)
{
        struct oci_spec *spec = parse_ok("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":"
                                         "{\"limit\":1048576}}}}");

        CHECK_EQ_INT(oci_spec_memory_mib(spec), 64);
        CHECK(spec->process == NULL);
        oci_spec_free(spec);
}

static void test_rejections(void)
{
        parse_bad("", "not a JSON object");
        parse_bad("[1,2]", "not a JSON object");
        parse_bad("{\"root\":{\"path\":\"r\"}} trailing", "not a JSON object");
        parse_bad("{}", "root is missing");
        parse_bad("{\"root\":{\"path\":\"\"}}", "root.path must not be empty");
        parse_bad("{\"root\":{\"path\":7}}", "root.path must be a string");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[],\"cwd\":\"/\"}}", "process.args must not be empty");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\",3],\"cwd\":\"/\"}}",
                  "process.args must be an array of strings");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}}",
                  "process.cwd must be an absolute path");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"env\":[\"NOEQUALS\"]}}",
                  "process.env[0]");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":-1}}}",
                  "process.user.uid");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":4294967296}}}",
                  "process.user.uid");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"additionalGids\":[\"x\"]}}}",
                  "additionalGids[0]");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\\u0000b\"],\"cwd\":\"/\"}}",
                  "process.args must be an array of strings");
        parse_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"rel\"}]}", "mounts[0].destination");
        parse_bad("{\"root\":{\"path\":\"r\"},\"mounts\":{}}", "mounts must be an array");
        parse_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}",
                  "linux.namespaces[0].type");
        parse_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}}",
                  "linux.resources.memory.limit");
        parse_bad("{\"root\":{\"path\":\"r\"},\"process\":\"sh\"}", "process must be an object");
}

static void test_too_many_args(void)
{
        size_t n = OCI_SPEC_MAX_ARGS + 1, len = 0;
        char *json = malloc(n * 4 + 128);

        len += (size_t)sprintf(json, "{\"root\":{\"path\":\"r\"},\"process\":{\"cwd\":\"/\",\"args\":[");
        for (size_t i = 0; i < n; i++)
                len += (size_t)sprintf(json + len, "%s\"a\"", i ? "," : "");
        strcpy(json + len, "]}}");
        parse_bad(json, "more than 4096 entries");
        free(json);
}

int main(void)
{
        RUN_TEST(test_default_spec);
        RUN_TEST(test_process_fields);
        RUN_TEST(test_small_memory_has_a_floor);
        RUN_TEST(test_rejections);
        RUN_TEST(test_too_many_args);
        return 0;
}
