/* SPDX-License-Identifier: Apache-2.0 */
/* Image references with Docker's defaults, and the registry's challenge and credential parsing. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "image-util.h"
#include "reference.h"
#include "registry.h"
#include "test.h"

static void check_ref(const char *in, const char *domain, const char *path, const char *tag, const char *digest,
                      const char *canon)
{
        struct image_ref *r = NULL;
        char *err = NULL, *s;

        if (image_ref_parse(in, &r, &err) < 0) {
                fprintf(stderr, "%s: %s\n", in, err);
                abort();
        }
        CHECK_STREQ(r->domain, domain);
        CHECK_STREQ(r->path, path);
        CHECK(tag ? r->tag && strcmp(r->tag, tag) == 0 : !r->tag);
        CHECK(digest ? r->digest && strcmp(r->digest, digest) == 0 : !r->digest);
        s = image_ref_string(r);
        CHECK_STREQ(s, canon);
        free(s);
        image_ref_free(r);
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_defaults(void)
{
        check_ref("busybox", "docker.io", "library/busybox", "latest", NULL, "docker.io/library/busybox:latest");
        check_ref("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "docker.io/library/busybox:1.36");
        check_ref("user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest");
        check_ref("index.docker.io/library/x", "docker.io", "library/x", "latest", NULL,
                  "docker.io/library/x:latest");
        check_ref("localhost/a", "localhost", "a", "latest", NULL, "localhost/a:latest");
        check_ref("127.0.0.1:5000/a/b/c:v1", "127.0.0.1:5000", "a/b/c", "v1", NULL, "127.0.0.1:5000/a/b/c:v1");
        check_ref("quay.io/a-b__c.d/e:tag_1.x-y", "quay.io", "a-b__c.d/e", "tag_1.x-y", NULL,
                  "quay.io/a-b__c.d/e:tag_1.x-y");
        check_ref("busybox@sha256:" D64, "docker.io", "library/busybox", NULL, "sha256:" D64,
                  "docker.io/library/busybox@sha256:" D64);
        check_ref("h:1/x:t@sha256:" D64, "h:1", "x", "t", "sha256:" D64, "h:1/x@sha256:" D64);
        /* A port-looking suffix of a one-word name is a tag, as in Docker. */
        check_ref("localhost:5000", "docker.io", "library/localhost", "5000", NULL,
                  "docker.io/library/localhost:5000");
}

static void check_bad(const char *in)
{
        struct image_ref *r = NULL;
        char *err = NULL;

        if (image_ref_parse(in, &r, &err) >= 0) {
                fprintf(stderr, "accepted: %s\n", in);
                abort();
        }
        CHECK(err != NULL);
        CHECK(r == NULL);
        free(err);
}

static void test_invalid(void)
{
        char longname[400];

        check_bad("");
        check_bad("UPPER");
        check_bad("a//b");
        check_bad("/a");
        check_bad("a/");
        check_bad("a:");
        check_bad("a:-tag");
        check_bad("a@sha256:abc");
        check_bad("a@md5:" D64);
        check_bad("a@sha256:" D64 "0");
        check_bad("a..b");
        check_bad("a/-b");
        check_bad("ex ample");
        check_bad("host:port/a");
        check_bad("-host.io/a");
        check_bad("a:b:c");
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        check_bad(longname);
}

static void test_challenge(void)
{
        char *scheme, *realm, *service, *scope;

        CHECK(registry_parse_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                       "scope=\"repository:library/busybox:pull\"",
                                       &scheme, &realm, &service, &scope) == 0);
        CHECK_STREQ(scheme, "Bearer");
        CHECK_STREQ(realm, "https://auth.docker.io/token");
        CHECK_STREQ(service, "registry.docker.io");
        CHECK_STREQ(scope, "repository:library/busybox:pull");
        free(scheme), free(realm), free(service), free(scope);
        CHECK(registry_parse_challenge("Basic realm=\"a \\\"quoted\\\" realm\"", &scheme, &realm, &service, &scope) ==
              0);
        CHECK_STREQ(scheme, "Basic");
        CHECK_STREQ(realm, "a \"quoted\" realm");
        CHECK(service == NULL && scope == NULL);
        free(scheme), free(realm);
        CHECK(registry_parse_challenge("Bearer realm=\"unterminated", &scheme, &realm, &service, &scope) < 0);
        free(scheme), free(realm), free(service), free(scope);
}

static void test_auth_file(void)
{
        char path[] = "/tmp/test-image-auth-XXXXXX", *up = NULL, *err = NULL;
        int fd = mkstemp(path);
        const char json[] = "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"dXNlcjpwYSNzczp3b3Jk\"},"
                            "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1Yg==\"},"
                            "\"bad.io\":{\"auth\":\"!!!!\"}}}";

        CHECK(fd >= 0);
        CHECK(write(fd, json, sizeof(json) - 1) == (ssize_t)sizeof(json) - 1);
        close(fd);
        CHECK(registry_auth_lookup(path, "127.0.0.1:5000", &up, &err) == 0);
        CHECK_STREQ(up, "user:pa#ss:word");
        free(up);
        CHECK(registry_auth_lookup(path, "docker.io", &up, &err) == 0);
        CHECK_STREQ(up, "hub:hub");
        free(up);
        CHECK_EQ_INT(registry_auth_lookup(path, "other.io", &up, &err), -ENOENT);
        CHECK(registry_auth_lookup(path, "bad.io", &up, &err) < 0 && err);
        free(err);
        CHECK_EQ_INT(registry_auth_lookup("/nonexistent/auth.json", "x", &up, NULL), -ENOENT);
        unlink(path);
}

static void test_digest(void)
{
        char d[DIGEST_STRING_MAX];

        CHECK(digest_buffer("", 0, d) == 0);
        CHECK_STREQ(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        CHECK(digest_valid(d));
        CHECK(!digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
        CHECK(!digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

int main(void)
{
        RUN_TEST(test_defaults);
        RUN_TEST(test_invalid);
        RUN_TEST(test_challenge);
        RUN_TEST(test_auth_file);
        RUN_TEST(test_digest);
        return 0;
}
