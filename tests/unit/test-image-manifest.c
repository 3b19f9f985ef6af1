/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests, indexes and image configs: the documents a registry sends, good and hostile. */
#include <errno.h>
#include <stdio.h>

#include "manifest.h"
#include "test.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DC "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static const char docker_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_DOCKER_MANIFEST "\","
        "\"config\":{\"mediaType\":\"" MEDIA_DOCKER_CONFIG "\",\"size\":1469,\"digest\":\"" DA "\"},"
        "\"layers\":[{\"mediaType\":\"" MEDIA_DOCKER_LAYER_GZIP "\",\"size\":2479,\"digest\":\"" DB "\"},"
        "{\"mediaType\":\"" MEDIA_OCI_LAYER_ZSTD "\",\"size\":10,\"digest\":\"" DC "\"}]}";

static void test_manifest(void)
{
        struct image_manifest *m = NULL;
        char *err = NULL;

        CHECK_EQ_INT(manifest_kind(NULL, docker_manifest, sizeof(docker_manifest) - 1), MANIFEST_KIND_IMAGE);
        CHECK_EQ_INT(manifest_kind(MEDIA_OCI_INDEX, "", 0), MANIFEST_KIND_INDEX);
        CHECK(image_manifest_parse(docker_manifest, sizeof(docker_manifest) - 1, &m, &err) == 0);
        CHECK_STREQ(m->media_type, MEDIA_DOCKER_MANIFEST);
        CHECK_STREQ(m->config.digest, DA);
        CHECK_EQ_INT(m->config.size, 1469);
        CHECK_EQ_INT(m->n_layers, 2);
        CHECK_STREQ(m->layers[1].digest, DC);
        CHECK_STREQ(m->layers[1].media_type, MEDIA_OCI_LAYER_ZSTD);
        image_manifest_free(m);
}

static void check_bad_manifest(const char *json)
{
        struct image_manifest *m = NULL;
        char *err = NULL;

        if (image_manifest_parse(json, strlen(json), &m, &err) >= 0) {
                fprintf(stderr, "accepted: %s\n", json);
                abort();
        }
        CHECK(err && m == NULL);
        free(err);
}

static void test_manifest_hostile(void)
{
        char *big;
        size_t n;

        check_bad_manifest("");
        check_bad_manifest("[]");
        check_bad_manifest("{\"schemaVersion\":1,\"config\":{},\"layers\":[]}");
        check_bad_manifest("{\"schemaVersion\":2,\"layers\":[]}");
        check_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:abc\",\"size\":1},\"layers\":[]}");
        check_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" DA "\",\"size\":-1},\"layers\":[]}");
        check_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":{}}");
        check_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" DA "\",\"size\":999999999999},\"layers\":[]}");
        check_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":"
                           "[{\"mediaType\":\"text/html\",\"digest\":\"" DB "\",\"size\":1}]}");
        check_bad_manifest("{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_OCI_INDEX "\",\"config\":{\"digest\":\"" DA
                           "\",\"size\":1},\"layers\":[]}");
        /* More layers than allowed. */
        n = 200 + (MANIFEST_MAX_LAYERS + 1) * 100;
        big = malloc(n);
        CHECK(big);
        strcpy(big, "{\"schemaVersion\":2,\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":[");
        for (int i = 0; i <= MANIFEST_MAX_LAYERS; i++)
                strcat(big, i ? ",{\"digest\":\"" DB "\",\"size\":1}" : "{\"digest\":\"" DB "\",\"size\":1}");
        strcat(big, "]}");
        check_bad_manifest(big);
        free(big);
}

static const char index_json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_OCI_INDEX "\",\"manifests\":["
        "{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"digest\":\"" DA "\",\"size\":1,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"digest\":\"" DB "\",\"size\":2,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"digest\":\"" DC "\",\"size\":3,"
        "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"},"
        "\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}}]}";

static void test_index(void)
{
        const struct image_descriptor *d;
        struct image_index *idx = NULL;
        char *err = NULL;

        CHECK_EQ_INT(manifest_kind(NULL, index_json, sizeof(index_json) - 1), MANIFEST_KIND_INDEX);
        CHECK(image_index_parse(index_json, sizeof(index_json) - 1, &idx, &err) == 0);
        CHECK_EQ_INT(idx->n_manifests, 3);
        CHECK_STREQ(idx->manifests[2].ref_name, "x");
        CHECK(image_index_pick(idx, "linux", "amd64", NULL, &d, &err) == 0);
        CHECK_STREQ(d->digest, DB);
        CHECK(image_index_pick(idx, "linux", "arm64", NULL, &d, &err) == 0);
        CHECK_STREQ(d->digest, DA);
        CHECK(image_index_pick(idx, "linux", "arm64", "v8", &d, &err) == 0);
        CHECK_STREQ(d->digest, DA);
        CHECK_EQ_INT(image_index_pick(idx, "linux", "s390x", NULL, &d, &err), -ENOENT);
        CHECK(err && strstr(err, "linux/amd64"));
        free(err);
        image_index_free(idx);
        err = NULL;
        CHECK(image_index_parse("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"x\",\"size\":1}]}", 54, &idx,
                                &err) < 0);
        free(err);
}

static const char config_json[] =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
        "\"Cmd\":[\"echo hi\"],\"Env\":[\"PATH=/bin\",\"A=b\"],\"WorkingDir\":\"/w\",\"User\":\"1000:1000\","
        "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},\"Volumes\":{\"/data\":{}},\"StopSignal\":\"SIGINT\"},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]},\"history\":[]}";

static void test_config(void)
{
        struct image_config *c = NULL;
        char *err = NULL;

        CHECK(image_config_parse(config_json, sizeof(config_json) - 1, &c, &err) == 0);
        CHECK_STREQ(c->architecture, "amd64");
        CHECK_STREQ(c->entrypoint[1], "-c");
        CHECK(c->entrypoint[2] == NULL);
        CHECK_STREQ(c->cmd[0], "echo hi");
        CHECK_STREQ(c->env[1], "A=b");
        CHECK_STREQ(c->working_dir, "/w");
        CHECK_STREQ(c->user, "1000:1000");
        CHECK_STREQ(c->stop_signal, "SIGINT");
        CHECK_STREQ(c->exposed_ports[0], "80/tcp");
        CHECK_STREQ(c->exposed_ports[1], "53/udp");
        CHECK_STREQ(c->volumes[0], "/data");
        CHECK_EQ_INT(c->n_diff_ids, 2);
        image_config_free(c);
        /* Null fields are as good as absent. */
        const char *nulls = "{\"config\":{\"Cmd\":null,\"Env\":null},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        CHECK(image_config_parse(nulls, strlen(nulls), &c, &err) == 0);
        CHECK(c->cmd == NULL && c->n_diff_ids == 0);
        image_config_free(c);
}

static void check_bad_config(const char *json)
{
        struct image_config *c = NULL;
        char *err = NULL;

        if (image_config_parse(json, strlen(json), &c, &err) >= 0) {
                fprintf(stderr, "accepted: %s\n", json);
                abort();
        }
        CHECK(err && !c);
        free(err);
}

static void test_config_hostile(void)
{
        check_bad_config("{}");
        check_bad_config("{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}");
        check_bad_config("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:zz\"]}}");
        check_bad_config("{\"config\":{\"Cmd\":\"sh\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        check_bad_config("{\"config\":{\"Env\":[1]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        check_bad_config("{\"config\":{\"ExposedPorts\":[\"80\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        check_bad_config("{\"config\":{\"User\":\"a\\u0000b\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        check_bad_config("{\"config\":[],\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
}

int main(void)
{
        RUN_TEST(test_manifest);
        RUN_TEST(test_manifest_hostile);
        RUN_TEST(test_index);
        RUN_TEST(test_config);
        RUN_TEST(test_config_hostile);
        return 0;
}
