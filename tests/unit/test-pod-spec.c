/* SPDX-License-Identifier: Apache-2.0 */
/* Pod files: a full example, the defaults, the canonical form, and hostile or broken files with their messages. */
#include <errno.h>
#include <stdint.h>

#include "pod-spec.h"
#include "test.h"

/* A pod of one container "c" with extra container fields X, or extra pod fields T. */
#define C(x) "{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"" x "}]}"
#define T(x) "{\"id\":\"p\"," x ",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}"
#define VOL  "\"volumes\":[{\"name\":\"data\",\"source\":\"/srv\"}]"

static struct pod_spec *parse_ok_len(const char *json, size_t len)
{
        struct pod_spec *spec = NULL;
        char *err = NULL;

        if (pod_spec_parse(json, len, &spec, &err) < 0) {
                fprintf(stderr, "unexpected error: %s\n", err);
                abort();
        }
        CHECK(!err);
        return spec;
}

static struct pod_spec *parse_ok(const char *json)
{
        return parse_ok_len(json, strlen(json));
}

static void parse_bad_len(const char *json, size_t len, const char *expect)
{
        struct pod_spec *spec = NULL;
        char *err = NULL;

        CHECK(pod_spec_parse(json, len, &spec, &err) == -EINVAL);
        CHECK(spec == NULL);
        CHECK(err);
        if (!strstr(err, expect)) {
                fprintf(stderr, "error \"%s\" does not say \"%s\"\n", err, expect);
                abort();
        }
        free(err);
}

static void parse_bad(const char *json, const char *expect)
{
        parse_bad_len(json, strlen(json), expect);
}

static char *read_example(void)
{
        static const char example[] =
                "{\"id\":\"web\",\"hostname\":\"Web-1\",\"resources\":{\"vcpu\":2,\"memory\":\"1Gi\"},"
                "\"restartPolicy\":\"onFailure\",\"labels\":{\"app\":\"shop\",\"example.com/tier\":\"front\"},"
                "\"dns\":{\"servers\":[\"10.0.0.2\",\"fd00::53\"],\"search\":[\"svc.example.com\"],"
                "\"options\":[\"ndots:2\"]},\"network\":{\"mode\":\"bridge\",\"bridge\":\"hyper0\"},"
                "\"volumes\":[{\"name\":\"static\",\"source\":\"/srv/www\",\"readonly\":true},"
                "{\"name\":\"cache\"},{\"name\":\"db\",\"source\":\"/var/lib/db.qcow2\",\"driver\":\"qcow2\"}],"
                "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\","
                "\"command\":[\"nginx\",\"-g\",\"daemon off;\"],\"env\":[\"TZ=UTC\",\"A=b=c\",\"EMPTY=\"],"
                "\"volumes\":[{\"volume\":\"static\",\"path\":\"/usr/share/nginx/html\",\"readonly\":true},"
                "{\"volume\":\"cache\",\"path\":\"/cache\"}],"
                "\"ports\":[{\"containerPort\":80,\"hostPort\":8080,\"hostIP\":\"127.0.0.1\"},"
                "{\"containerPort\":53,\"protocol\":\"UDP\"}]},"
                "{\"name\":\"db\",\"image\":\"postgres\",\"entrypoint\":[],\"user\":\"999:999\","
                "\"workdir\":\"/var/lib/pg\",\"tty\":true,\"stdin\":true,"
                "\"volumes\":[{\"volume\":\"db\",\"path\":\"/data\"}],"
                "\"ports\":[{\"containerPort\":53,\"hostPort\":53,\"protocol\":\"tcp\"}]}]}";

        return strdup(example);
}

static void test_full_example(void)
{
        _cleanup_free_ char *json = read_example();
        struct pod_spec *spec = parse_ok(json);
        const struct pod_container *web = &spec->containers[0], *db = &spec->containers[1];

        CHECK_STREQ(spec->id, "web");
        CHECK_STREQ(spec->hostname, "Web-1");
        CHECK_EQ_INT(spec->vcpus, 2);
        CHECK_EQ_INT(spec->memory_mib, 1024);
        CHECK_EQ_INT(spec->restart_policy, POD_RESTART_ON_FAILURE);
        CHECK_EQ_INT(spec->n_labels, 2);
        CHECK_STREQ(spec->labels[1].key, "example.com/tier");
        CHECK_STREQ(spec->dns_servers[1], "fd00::53");
        CHECK(spec->dns_servers[2] == NULL);
        CHECK_STREQ(spec->dns_options[0], "ndots:2");
        CHECK_EQ_INT(spec->network_mode, POD_NETWORK_BRIDGE);
        CHECK_STREQ(spec->network_bridge, "hyper0");
        CHECK_EQ_INT(spec->n_volumes, 3);
        CHECK_EQ_INT(spec->volumes[0].driver, POD_VOLUME_HOST);
        CHECK(spec->volumes[0].readonly);
        CHECK_EQ_INT(spec->volumes[1].driver, POD_VOLUME_NAMED);
        CHECK_STREQ(spec->volumes[1].source, "cache");
        CHECK_EQ_INT(spec->volumes[2].driver, POD_VOLUME_QCOW2);
        CHECK_EQ_INT(spec->n_containers, 2);
        CHECK_STREQ(web->command[2], "daemon off;");
        CHECK(web->entrypoint == NULL);
        CHECK_EQ_INT(web->n_env, 3);
        CHECK_STREQ(web->env[1], "A=b=c");
        CHECK_EQ_INT(web->n_mounts, 2);
        CHECK_STREQ(web->mounts[0].path, "/usr/share/nginx/html");
        CHECK(web->mounts[0].readonly);
        CHECK(!web->mounts[1].readonly);
        CHECK_EQ_INT(web->n_ports, 2);
        CHECK_EQ_INT(web->ports[0].host_port, 8080);
        CHECK_STREQ(web->ports[0].host_ip, "127.0.0.1");
        CHECK_EQ_INT(web->ports[1].host_port, 53);
        CHECK_EQ_INT(web->ports[1].protocol, POD_PROTOCOL_UDP);
        CHECK(db->entrypoint && db->entrypoint[0] == NULL);
        CHECK(db->command == NULL);
        CHECK_STREQ(db->user, "999:999");
        CHECK_STREQ(db->workdir, "/var/lib/pg");
        CHECK(db->tty && db->stdin);
        CHECK(pod_spec_find_volume(spec, "db") == &spec->volumes[2]);
        CHECK(pod_spec_find_volume(spec, "nope") == NULL);
        pod_spec_free(spec);
}

static void test_defaults(void)
{
        struct pod_spec *spec =
                parse_ok("{\"id\":\"a_b.c-1\",\"containers\":[{\"name\":\"sh\",\"image\":\"busybox\"}]}");
        _cleanup_free_ char *json = NULL;

        CHECK_STREQ(spec->hostname, "a_b.c-1");
        CHECK_EQ_INT(spec->vcpus, 1);
        CHECK_EQ_INT(spec->memory_mib, 128);
        CHECK_EQ_INT(spec->restart_policy, POD_RESTART_NEVER);
        CHECK_EQ_INT(spec->network_mode, POD_NETWORK_BRIDGE);
        CHECK(spec->network_bridge == NULL);
        CHECK(spec->dns_servers && !spec->dns_servers[0]);
        CHECK_EQ_INT(spec->n_labels, 0);
        CHECK_EQ_INT(spec->n_volumes, 0);
        CHECK(spec->containers[0].env && spec->containers[0].n_env == 0);
        CHECK(!spec->containers[0].tty && !spec->containers[0].stdin);
        CHECK(pod_spec_to_json(spec, &json) >= 0);
        CHECK_STREQ(json,
                    "{\"id\":\"a_b.c-1\",\"hostname\":\"a_b.c-1\",\"resources\":{\"vcpu\":1,\"memory\":\"128Mi\"},"
                    "\"dns\":{\"servers\":[],\"search\":[],\"options\":[]},\"labels\":{},"
                    "\"restartPolicy\":\"never\",\"network\":{\"mode\":\"bridge\"},\"volumes\":[],"
                    "\"containers\":[{\"name\":\"sh\",\"image\":\"busybox\",\"env\":[],\"tty\":false,"
                    "\"stdin\":false,\"volumes\":[],\"ports\":[]}]}");
        pod_spec_free(spec);
}

static void test_memory_units(void)
{
        static const struct {
                const char *memory;
                uint64_t mib;
        } cases[] = {
                {"\"64Mi\"", 64},     {"\"65536Ki\"", 64}, {"\"2Gi\"", 2048},
                {"\"1Ti\"", 1048576}, {"134217728", 128},  {"\"67108865\"", 65}, /* rounded up to whole MiB */
                {"\"0001Gi\"", 1024},
        };
        char json[256];

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct pod_spec *spec;
                snprintf(json, sizeof(json), T("\"resources\":{\"memory\":%s}"), cases[i].memory);
                spec = parse_ok(json);
                CHECK_EQ_INT(spec->memory_mib, cases[i].mib);
                pod_spec_free(spec);
        }
}

/* parse -> to_json -> parse gives the same pod, and the canonical form is a fixed point. */
static void round_trip(const char *json)
{
        struct pod_spec *a = parse_ok(json), *b;
        _cleanup_free_ char *ja = NULL, *jb = NULL;

        CHECK(pod_spec_to_json(a, &ja) >= 0);
        b = parse_ok(ja);
        CHECK(pod_spec_to_json(b, &jb) >= 0);
        CHECK_STREQ(ja, jb);
        CHECK_STREQ(b->id, a->id);
        CHECK_EQ_INT(b->n_containers, a->n_containers);
        CHECK_EQ_INT(b->memory_mib, a->memory_mib);
        CHECK_EQ_INT(b->n_volumes, a->n_volumes);
        for (size_t i = 0; i < a->n_containers; i++) {
                CHECK_EQ_INT(b->containers[i].n_env, a->containers[i].n_env);
                CHECK_EQ_INT(b->containers[i].n_ports, a->containers[i].n_ports);
                CHECK_EQ_INT(b->containers[i].n_mounts, a->containers[i].n_mounts);
                CHECK_EQ_INT(!b->containers[i].entrypoint, !a->containers[i].entrypoint);
                CHECK_EQ_INT(!b->containers[i].command, !a->containers[i].command);
        }
        pod_spec_free(a);
        pod_spec_free(b);
}

static void test_round_trip(void)
{
        _cleanup_free_ char *json = read_example();

        round_trip(json);
        round_trip(C(""));
        round_trip(T("\"network\":{\"mode\":\"tap\",\"tap\":\"tap0\"}"));
        round_trip(T("\"network\":{\"mode\":\"none\"},\"resources\":{\"memory\":\"3Gi\",\"vcpu\":64}"));
        round_trip(C(",\"env\":[\"X=\\\"quoted\\\" \\u00e9 \\n\"],\"command\":[\"\"]"));
}

static void test_rejections_document(void)
{
        parse_bad("", "ends too early");
        parse_bad("{\"id\":", "ends too early");
        parse_bad("[1,2]", "must be a JSON object");
        parse_bad("\"pod\"", "must be a JSON object");
        parse_bad(C("") " trailing", "not valid JSON");
        parse_bad(C("") "{}", "not valid JSON");
        parse_bad_len("{\"id\":\"p\"}\0{}", 12, "data after its JSON object, at byte 10");
        parse_bad_len("{\"id\":\"p\0\"}", 11, "not valid JSON");
        parse_bad("{\"id\":\"\xff\xfe\"}", "not valid JSON: invalid utf-8");
        parse_bad("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
                  "nesting too deep");
        parse_bad("{\"id\":\"p\",\"id2\":1}", "unknown field \"id2\"");
        parse_bad("{\"id\":\"p\",\"a\\u0001b\":1}", "unknown field \"a?b\"");
        parse_bad(C(",\"args\":[\"x\"]"), "containers[0]: unknown field \"args\"");
        parse_bad(T("\"restartpolicy\":\"always\""), "unknown field \"restartpolicy\"");
}

static void test_rejections_identity(void)
{
        parse_bad("{\"containers\":[]}", "id is missing");
        parse_bad("{\"id\":7}", "id must be a string");
        parse_bad("{\"id\":\"Web\"}",
                  "id must be 1 to 63 characters of a-z, 0-9, '_', '.' and '-', the first a-z or 0-9");
        parse_bad("{\"id\":\"-web\"}", "id must be 1 to 63");
        parse_bad("{\"id\":\"\"}", "id must be 1 to 63");
        parse_bad("{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                  "id is longer than 63 characters");
        parse_bad("{\"id\":\"p\\u0000q\"}", "id must not contain a NUL character");
        parse_bad(T("\"hostname\":\"a b\""), "hostname must be 1 to 63 letters");
        parse_bad("{\"id\":\"p\"}", "containers must list at least one container");
        parse_bad("{\"id\":\"p\",\"containers\":[]}", "containers must list at least one container");
        parse_bad("{\"id\":\"p\",\"containers\":{}}", "containers must be an array");
        parse_bad("{\"id\":\"p\",\"containers\":[\"busybox\"]}", "containers[0] must be an object");
        parse_bad("{\"id\":\"p\",\"containers\":[{\"image\":\"i\"}]}", "containers[0].name is missing");
        parse_bad("{\"id\":\"p\",\"containers\":[{\"name\":\"c\"}]}", "containers[0].image is missing");
        parse_bad("{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"image\":\"\"}]}",
                  "containers[0].image must not be empty");
        parse_bad("{\"id\":\"p\",\"containers\":[{\"name\":\"C!\",\"image\":\"i\"}]}",
                  "containers[0].name must be 1 to 63");
        parse_bad("{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"},{\"name\":\"c\",\"image\":\"j\"}]}",
                  "containers[1].name \"c\" is also the name of containers[0]");
}

static void test_rejections_resources(void)
{
        parse_bad(T("\"resources\":{\"vcpu\":0}"), "resources.vcpu must be an integer from 1 to 64");
        parse_bad(T("\"resources\":{\"vcpu\":65}"), "resources.vcpu must be an integer from 1 to 64");
        parse_bad(T("\"resources\":{\"vcpu\":\"2\"}"), "resources.vcpu must be an integer");
        parse_bad(T("\"resources\":{\"vcpu\":1.5}"), "resources.vcpu must be an integer");
        parse_bad(T("\"resources\":{\"vcpu\":99999999999999999999}"), "resources.vcpu must be an integer from 1 to 64");
        parse_bad(T("\"resources\":{\"memory\":\"12Qi\"}"), "resources.memory has an unknown unit");
        parse_bad(T("\"resources\":{\"memory\":\"128M\"}"), "resources.memory has an unknown unit");
        parse_bad(T("\"resources\":{\"memory\":\"-1Gi\"}"), "resources.memory must be digits and a unit");
        parse_bad(T("\"resources\":{\"memory\":\" 1Gi\"}"), "resources.memory must be digits and a unit");
        parse_bad(T("\"resources\":{\"memory\":\"\"}"), "resources.memory must be digits and a unit");
        parse_bad(T("\"resources\":{\"memory\":\"1Gi\\u0000x\"}"), "resources.memory must be digits and a unit");
        parse_bad(T("\"resources\":{\"memory\":-134217728}"), "resources.memory must not be negative");
        parse_bad(T("\"resources\":{\"memory\":1.5e9}"), "resources.memory must be a number of bytes or a string");
        parse_bad(T("\"resources\":{\"memory\":\"99999999999999999999Gi\"}"),
                  "resources.memory is too large: at most 1Ti");
        parse_bad(T("\"resources\":{\"memory\":\"17179869184Gi\"}"), "resources.memory is too large");
        parse_bad(T("\"resources\":{\"memory\":99999999999999999999}"), "resources.memory is too large");
        parse_bad(T("\"resources\":{\"memory\":\"2Ti\"}"), "resources.memory is too large");
        parse_bad(T("\"resources\":{\"memory\":\"63Mi\"}"), "resources.memory must be at least 64Mi");
        parse_bad(T("\"resources\":{\"memory\":0}"), "resources.memory must be at least 64Mi");
        parse_bad(T("\"resources\":{\"cpus\":2}"), "resources: unknown field \"cpus\"");
        parse_bad(T("\"resources\":[]"), "resources must be an object");
}

static void test_rejections_pod_settings(void)
{
        parse_bad(T("\"restartPolicy\":\"sometimes\""), "restartPolicy must be \"never\", \"always\" or \"onFailure\"");
        parse_bad(T("\"restartPolicy\":\"on-failure\""), "restartPolicy must be");
        parse_bad(T("\"restartPolicy\":true"), "restartPolicy must be a string");
        parse_bad(T("\"labels\":{\"app\":1}"), "labels.app must be a string");
        parse_bad(T("\"labels\":{\"\":\"x\"}"), "labels: the key \"\" must be");
        parse_bad(T("\"labels\":{\"a b\":\"x\"}"), "labels: the key \"a b\" must be");
        parse_bad(T("\"labels\":[\"a=b\"]"), "labels must be an object");
        parse_bad(T("\"dns\":{\"servers\":[\"8.8.8.8\",\"1.1.1.1\",\"9.9.9.9\",\"8.8.4.4\"]}"),
                  "dns.servers has more than 3 entries");
        parse_bad(T("\"dns\":{\"servers\":[\"dns.google\"]}"), "dns.servers[0] must be an IPv4 or IPv6 address");
        parse_bad(T("\"dns\":{\"search\":[\"a..b\"]}"), "dns.search[0] must be a domain name");
        parse_bad(T("\"dns\":{\"options\":[\"ndots:1\\nnameserver 6.6.6.6\"]}"), "dns.options[0] must be one word");
        parse_bad(T("\"dns\":{\"servers\":[1]}"), "dns.servers must be an array of strings");
        parse_bad(T("\"network\":{\"mode\":\"host\"}"), "network.mode must be \"bridge\", \"none\" or \"tap\"");
        parse_bad(T("\"network\":{\"mode\":\"tap\"}"), "network.tap is missing");
        parse_bad(T("\"network\":{\"mode\":\"none\",\"bridge\":\"br0\"}"), "network.bridge is only for");
        parse_bad(T("\"network\":{\"bridge\":\"a/b\"}"), "network.bridge must be an interface name");
        parse_bad(T("\"network\":{\"bridge\":\"abcdefghijklmnop\"}"), "network.bridge is longer than 15 characters");
}

static void test_rejections_volumes(void)
{
        parse_bad(T("\"volumes\":[{\"source\":\"/srv\"}]"), "volumes[0].name is missing");
        parse_bad(T("\"volumes\":[{\"name\":\"a\",\"source\":\"/x\"},{\"name\":\"a\",\"source\":\"/y\"}]"),
                  "volumes[1].name \"a\" is also the name of volumes[0]");
        parse_bad(T("\"volumes\":[{\"name\":\"a\",\"source\":\"/x\",\"driver\":\"nfs\"}]"),
                  "volumes[0].driver must be \"host\", \"named\", \"raw\" or \"qcow2\"");
        parse_bad(T("\"volumes\":[{\"name\":\"a\",\"driver\":\"raw\"}]"), "volumes[0].source is missing");
        parse_bad(T("\"volumes\":[{\"name\":\"a\",\"source\":\"/srv/../etc\"}]"),
                  "volumes[0].source must be an absolute host path without \"..\"");
        parse_bad(T("\"volumes\":[{\"name\":\"a\",\"source\":\"rel\",\"driver\":\"host\"}]"),
                  "volumes[0].source must be an absolute host path");
        parse_bad(T("\"volumes\":[{\"name\":\"a\",\"source\":\"/x\",\"driver\":\"named\"}]"),
                  "volumes[0].source of a named volume must be 1 to 63");
        parse_bad(T("\"volumes\":[{\"name\":\"a\",\"source\":\"/x\",\"readonly\":\"yes\"}]"),
                  "volumes[0].readonly must be true or false");
        parse_bad(C(",\"volumes\":[{\"volume\":\"nope\",\"path\":\"/d\"}]"),
                  "containers[0].volumes[0].volume names no volume of the pod");
        parse_bad("{\"id\":\"p\"," VOL
                  ",\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"volumes\":[{\"volume\":\"data\"}]}]}",
                  "containers[0].volumes[0].path is missing");
        parse_bad("{\"id\":\"p\"," VOL
                  ",\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"volumes\":[{\"volume\":\"data\","
                  "\"path\":\"/a/../../etc\"}]}]}",
                  "containers[0].volumes[0].path must be an absolute path other than / and without \"..\"");
        parse_bad("{\"id\":\"p\"," VOL
                  ",\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"volumes\":[{\"volume\":\"data\","
                  "\"path\":\"/\"}]}]}",
                  "containers[0].volumes[0].path must be an absolute path other than /");
        parse_bad("{\"id\":\"p\"," VOL
                  ",\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"volumes\":[{\"volume\":\"data\","
                  "\"path\":\"/d\"},{\"volume\":\"data\",\"path\":\"/d\"}]}]}",
                  "containers[0].volumes[1].path is already mounted");
}

static void test_rejections_process(void)
{
        parse_bad(C(",\"command\":\"sh -c true\""), "containers[0].command must be an array of strings");
        parse_bad(C(",\"entrypoint\":[\"sh\",1]"), "containers[0].entrypoint must be an array of strings");
        parse_bad(C(",\"command\":[\"a\\u0000b\"]"), "containers[0].command must be an array of strings without NUL");
        parse_bad(C(",\"env\":[\"NOEQUALS\"]"), "containers[0].env[0] must be of the form KEY=VALUE");
        parse_bad(C(",\"env\":[\"=x\"]"), "containers[0].env[0] has an invalid name");
        parse_bad(C(",\"env\":[\"1A=x\"]"), "containers[0].env[0] has an invalid name");
        parse_bad(C(",\"env\":[\"A B=x\"]"), "containers[0].env[0] has an invalid name");
        parse_bad(C(",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]"), "containers[0].env must be an array of strings");
        parse_bad(C(",\"env\":[\"PATH=/bin\",\"X=1\",\"PATH=/usr/bin\"]"), "containers[0].env[2] sets PATH again");
        parse_bad(C(",\"workdir\":\"tmp\""), "containers[0].workdir must be an absolute path without \"..\"");
        parse_bad(C(",\"workdir\":\"/a/..\""), "containers[0].workdir must be an absolute path");
        parse_bad(C(",\"user\":\"\""), "containers[0].user must be a user or uid");
        parse_bad(C(",\"user\":\"a:b:c\""), "containers[0].user must be a user or uid");
        parse_bad(C(",\"user\":\"root\\n\""), "containers[0].user must be a user or uid");
        parse_bad(C(",\"user\":0"), "containers[0].user must be a string");
        parse_bad(C(",\"tty\":1"), "containers[0].tty must be true or false");
        parse_bad(C(",\"stdin\":\"true\""), "containers[0].stdin must be true or false");
}

static void test_rejections_ports(void)
{
        parse_bad(C(",\"ports\":[{\"hostPort\":80}]"), "containers[0].ports[0].containerPort is missing");
        parse_bad(C(",\"ports\":[{\"containerPort\":0}]"),
                  "containers[0].ports[0].containerPort must be an integer from 1 to 65535");
        parse_bad(C(",\"ports\":[{\"containerPort\":65536}]"), "containerPort must be an integer from 1 to 65535");
        parse_bad(C(",\"ports\":[{\"containerPort\":-80}]"), "containerPort must be an integer from 1 to 65535");
        parse_bad(C(",\"ports\":[{\"containerPort\":\"80\"}]"),
                  "containers[0].ports[0].containerPort must be an integer");
        parse_bad(C(",\"ports\":[{\"containerPort\":80,\"hostPort\":70000}]"),
                  "ports[0].hostPort must be an integer from 1");
        parse_bad(C(",\"ports\":[{\"containerPort\":80,\"protocol\":\"sctp\"}]"),
                  "containers[0].ports[0].protocol must be \"tcp\" or \"udp\"");
        parse_bad(C(",\"ports\":[{\"containerPort\":80,\"hostIP\":\"localhost\"}]"),
                  "containers[0].ports[0].hostIP must be an IPv4 or IPv6 address");
        parse_bad(C(",\"ports\":[{\"containerPort\":80},{\"containerPort\":8080,\"hostPort\":80}]"),
                  "containers[0].ports[1]: host port 80/tcp is already published");
        parse_bad("{\"id\":\"p\",\"containers\":[{\"name\":\"a\",\"image\":\"i\",\"ports\":[{\"containerPort\":53,"
                  "\"protocol\":\"udp\"}]},{\"name\":\"b\",\"image\":\"i\",\"ports\":[{\"containerPort\":53,"
                  "\"protocol\":\"UDP\"}]}]}",
                  "containers[1].ports[0]: host port 53/udp is already published");
        parse_bad("{\"id\":\"p\",\"network\":{\"mode\":\"none\"},\"containers\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"ports\":[{\"containerPort\":80}]}]}",
                  "containers[0].ports: publishing ports needs a network");
}

/* head, then n entries "pre<i>post" for i from 1, separated by commas, then tail. */
static char *many(const char *head, const char *pre, const char *post, size_t n, const char *tail)
{
        size_t cap = strlen(head) + strlen(tail) + n * (strlen(pre) + strlen(post) + 24) + 1, len = 0;
        char *s = malloc(cap);

        CHECK(s);
        len += (size_t)snprintf(s, cap, "%s", head);
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, cap - len, "%s%s%zu%s", i ? "," : "", pre, i + 1, post);
        snprintf(s + len, cap - len, "%s", tail);
        return s;
}

static void test_bounds(void)
{
        _cleanup_free_ char *ports = NULL, *ports_ok = NULL, *env = NULL, *containers = NULL, *big = NULL;
        struct pod_spec *spec;

        ports = many("{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[",
                     "{\"containerPort\":", "}", 1025, "]}]}");
        parse_bad(ports, "containers[0].ports has more than 1024 entries");
        ports_ok = many("{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[",
                        "{\"containerPort\":", "}", 1024, "]}]}");
        spec = parse_ok(ports_ok);
        CHECK_EQ_INT(spec->containers[0].n_ports, 1024);
        pod_spec_free(spec);
        env = many("{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[", "\"V", "=\"", 4097,
                   "]}]}");
        parse_bad(env, "containers[0].env has more than 4096 entries");
        containers = many("{\"id\":\"p\",\"containers\":[", "{\"name\":\"c", "\",\"image\":\"i\"}", 65, "]}");
        parse_bad(containers, "containers has more than 64 entries");
        big = malloc(POD_SPEC_MAX_SIZE + 2);
        CHECK(big);
        memset(big, ' ', POD_SPEC_MAX_SIZE + 1);
        big[POD_SPEC_MAX_SIZE + 1] = '\0';
        parse_bad(big, "the pod file is larger than 1048576 bytes");
}

int main(void)
{
        RUN_TEST(test_full_example);
        RUN_TEST(test_defaults);
        RUN_TEST(test_memory_units);
        RUN_TEST(test_round_trip);
        RUN_TEST(test_rejections_document);
        RUN_TEST(test_rejections_identity);
        RUN_TEST(test_rejections_resources);
        RUN_TEST(test_rejections_pod_settings);
        RUN_TEST(test_rejections_volumes);
        RUN_TEST(test_rejections_process);
        RUN_TEST(test_rejections_ports);
        RUN_TEST(test_bounds);
        return 0;
}
