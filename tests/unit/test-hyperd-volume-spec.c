/* SPDX-License-Identifier: Apache-2.0 */
/* hyperd's -v, --memory and --cpus values: parsed, refused with a message, written into config.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container-spec.h"
#include "json-util.h"
#include "pod.h"
#include "test.h"
#include "volume-spec.h"

static void check_volume(const char *s, enum volume_kind kind, const char *src, const char *dst, bool ro)
{
        struct volume_spec v;

        CHECK_EQ_INT(volume_spec_parse(s, &v, NULL), 0);
        CHECK_EQ_INT(v.kind, kind);
        CHECK_STREQ(v.source, src);
        CHECK_STREQ(v.destination, dst);
        CHECK_EQ_INT(v.readonly, ro);
        volume_spec_done(&v);
}

static void check_volume_refused(const char *s, const char *want)
{
        struct volume_spec v = {0};
        char *error = NULL;

        CHECK_EQ_INT(volume_spec_parse(s, &v, &error), -EINVAL);
        CHECK(error);
        if (!strstr(error, want)) {
                fprintf(stderr, "\"%s\": %s\n", s, error);
                CHECK(false);
        }
        CHECK(!v.source);
        free(error);
}

static void test_volume_parse(void)
{
        check_volume("/srv/data:/data", VOLUME_HOST, "/srv/data", "/data", false);
        check_volume("/srv/data:/data:ro", VOLUME_HOST, "/srv/data", "/data", true);
        check_volume("/srv/disk.img:/mnt/d:rw", VOLUME_HOST, "/srv/disk.img", "/mnt/d", false);
        check_volume("db-data:/var/lib/db", VOLUME_NAMED, "db-data", "/var/lib/db", false);
        check_volume("v.1_x:/a/b.c:ro", VOLUME_NAMED, "v.1_x", "/a/b.c", true);

        check_volume_refused("", "SOURCE:/CONTAINER/PATH");
        check_volume_refused("/srv", "SOURCE:/CONTAINER/PATH");
        check_volume_refused(":/data", "SOURCE:/CONTAINER/PATH");
        check_volume_refused("./data:/data", "a host path must be absolute");
        check_volume_refused("a/b:/data", "a host path must be absolute");
        check_volume_refused("x:/data", "invalid volume name");
        check_volume_refused("-x:/data", "invalid volume name");
        check_volume_refused("na me:/data", "invalid volume name");
        check_volume_refused("/srv:data", "must be absolute");
        check_volume_refused("/srv:/", "not \"/\"");
        check_volume_refused("/srv:", "must be absolute");
        check_volume_refused("/srv:/a/../b", "without \".\" or \"..\" parts");
        check_volume_refused("/srv:/a/./b", "without");
        check_volume_refused("/srv:/a//b", "without");
        check_volume_refused("/srv:/a/", "without");
        check_volume_refused("/srv:/a/..", "without");
        check_volume_refused("/srv:/data:rx", "the mode \"rx\" is not ro or rw");
        check_volume_refused("/srv:/data:ro:z", "is not ro or rw");
        check_volume_refused("/srv:/data:", "is not ro or rw");
}

static void check_memory(const char *s, uint64_t want)
{
        uint64_t v = 0;

        CHECK_EQ_INT(resources_memory_parse(s, &v, NULL), 0);
        CHECK_EQ_INT(v, want);
}

static void check_cpus(const char *s, unsigned max, int want_r, uint64_t want)
{
        uint64_t v = 0;
        char *error = NULL;

        CHECK_EQ_INT(resources_cpus_parse(s, max, &v, &error), want_r);
        if (want_r == 0)
                CHECK_EQ_INT(v, want);
        else
                CHECK(error && strstr(error, "invalid cpus"));
        free(error);
}

static void test_resources(void)
{
        char *error = NULL;
        uint64_t v;

        check_memory("256m", 256ull << 20);
        check_memory("256M", 256ull << 20);
        check_memory("1g", 1ull << 30);
        check_memory("65536k", 64ull << 20);
        check_memory("67108864", 64ull << 20);
        check_memory("67108864b", 64ull << 20);
        CHECK_EQ_INT(resources_memory_parse("10m", &v, &error), -EINVAL);
        CHECK(strstr(error, "too small"));
        free(error);
        error = NULL;
        const char *bad[] = {"", "m", "-1", "1.5g", "12q", "1gb", "2048g", "99999999999999999999999", " 1g"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                CHECK_EQ_INT(resources_memory_parse(bad[i], &v, &error), -EINVAL);
                CHECK(strstr(error, "invalid memory"));
                free(error);
                error = NULL;
        }

        check_cpus("2", 4, 0, 2000);
        check_cpus("0.5", 4, 0, 500);
        check_cpus(".25", 4, 0, 250);
        check_cpus("1.125", 4, 0, 1125);
        check_cpus("4", 4, 0, 4000);
        check_cpus("4.001", 4, -EINVAL, 0);
        check_cpus("5", 4, -EINVAL, 0);
        check_cpus("0", 4, -EINVAL, 0);
        check_cpus("0.0001", 4, -EINVAL, 0);
        check_cpus("-1", 4, -EINVAL, 0);
        check_cpus("1.", 4, -EINVAL, 0);
        check_cpus("abc", 4, -EINVAL, 0);
        check_cpus("", 4, -EINVAL, 0);
        check_cpus("1e3", 4, -EINVAL, 0);
}

static void test_probe(void)
{
        unsigned char *head = calloc(1, VOLUME_PROBE_SIZE);

        CHECK(head);
        CHECK(!volume_probe_format(head, VOLUME_PROBE_SIZE, "/srv/notes.txt"));
        CHECK_STREQ(volume_probe_format(head, VOLUME_PROBE_SIZE, "/srv/blank.IMG"), "raw");
        CHECK_STREQ(volume_probe_format(head, 0, "/srv/d.qcow2"), "qcow2");
        CHECK_STREQ(volume_probe_format(head, 0, "/srv/D.QCOW2"), "qcow2");
        CHECK_STREQ(volume_probe_format(head, 0, "/srv/d.qcow"), "raw");
        head[1080] = 0x53;
        head[1081] = 0xEF;
        CHECK_STREQ(volume_probe_format(head, VOLUME_PROBE_SIZE, "/srv/anything"), "raw");
        CHECK(!volume_probe_format(head, 1081, "/srv/short"));
        /* A qcow2 header a guest wrote into a raw ext4 image's first KiB: still raw. */
        memcpy(head, "QFI\xfb\0\0\0\3\0\0\0\0\0\0\0\x68", 16);
        memcpy(head + 0x68, "/dev/sda1", 9);
        CHECK_STREQ(volume_probe_format(head, VOLUME_PROBE_SIZE, "/srv/d.img"), "raw");
        CHECK_STREQ(volume_probe_format(head, VOLUME_PROBE_SIZE, "/srv/anything"), "raw");
        memset(head + 1080, 0, 2);
        CHECK_STREQ(volume_probe_format(head, 4, "/srv/anything"), "raw");
        free(head);
}

static void test_mount_error(void)
{
        CHECK_EQ_INT(volume_mount_error(NULL), -EIO);
        CHECK_EQ_INT(volume_mount_error("cannot hot-plug /d.img (qcow2) into the VM: Image is not in qcow2 format"),
                     -EINVAL);
        CHECK_EQ_INT(volume_mount_error("cannot hot-plug /d.qcow2 (qcow2) into the VM: the qcow2 image has a backing "
                                        "file, which is never opened"),
                     -EINVAL);
        CHECK_EQ_INT(volume_mount_error("cannot mount the disk: the disk has no ext2/3/4 file system, the kind the "
                                        "guest mounts"),
                     -EINVAL);
        CHECK_EQ_INT(volume_mount_error("container not running"), -EBUSY);
        CHECK_EQ_INT(volume_mount_error("cannot mount the disk: no disk with serial vol1 appeared; and the VM did not "
                                        "let go of the disk (Connection timed out): " POD_DISK_STUCK),
                     -ENOTRECOVERABLE);
        CHECK_EQ_INT(volume_mount_error("cannot talk to the monitor"), -EIO);
}

static void test_run_body(void)
{
        const char *body = "{\"image\":\"busybox\",\"cmd\":[\"true\"],\"volumes\":[\"/srv:/data:ro\",\"v1:/v\"],"
                           "\"memory\":\"256m\",\"cpus\":1.5}";
        const char *twice = "{\"image\":\"busybox\",\"volumes\":[\"/srv:/data\",\"v1:/data\"]}";
        const char *badmem = "{\"image\":\"busybox\",\"memory\":true}";
        struct container_run r = {0};
        struct volume_mount m = {.source = "/srv", .destination = "/data", .readonly = true};
        struct container_spec_input in = {.run = &r, .id = "0123456789abcdef", .rootfs = "/r",
                                          .volumes = &m, .n_volumes = 1};
        _cleanup_(json_object_putp) struct json_object *spec = NULL;
        struct json_object *o;
        char *error = NULL;

        CHECK_EQ_INT(container_run_parse(body, strlen(body), &r, NULL), 0);
        CHECK_STREQ(r.volumes[1], "v1:/v");
        CHECK_EQ_INT(r.memory, 256ull << 20);
        CHECK_EQ_INT(r.millicpus, 1500);
        CHECK_EQ_INT(container_spec(&in, &spec, NULL), 0);
        CHECK(json_object_object_get_ex(spec, "linux", &o) && json_object_object_get_ex(o, "resources", &o));
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                    "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"memory\":{\"limit\":268435456},"
                    "\"cpu\":{\"quota\":150000,\"period\":100000}}");
        CHECK(json_object_object_get_ex(spec, "mounts", &o));
        o = json_object_array_get_idx(o, (int)json_object_array_length(o) - 1);
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\"]}");
        container_run_done(&r);

        CHECK_EQ_INT(container_run_parse(twice, strlen(twice), &r, &error), -EINVAL);
        CHECK(strstr(error, "two volumes at /data"));
        free(error);
        error = NULL;
        CHECK_EQ_INT(container_run_parse(badmem, strlen(badmem), &r, &error), -EINVAL);
        CHECK(strstr(error, "invalid memory"));
        free(error);
}

int main(void)
{
        RUN_TEST(test_volume_parse);
        RUN_TEST(test_resources);
        RUN_TEST(test_probe);
        RUN_TEST(test_mount_error);
        RUN_TEST(test_run_body);
        return 0;
}
