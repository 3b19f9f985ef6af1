/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store through its API: OCI layouts made here are loaded, shared
 * layers are stored once, names and removal drive the garbage collection,
 * and every hostile or damaged image is refused with the store unchanged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "image-store.h"
#include "image-test-util.h"
#include "image-util.h"
#include "json-util.h"
#include "rootfs.h"

static char *W; /* work folder: store/, layouts */

static void sh(const char *fmt, ...) _printf_(1, 2);
static void sh(const char *fmt, ...)
{
        char cmd[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (system(cmd) != 0) {
                fprintf(stderr, "failed: %s\n", cmd);
                abort();
        }
}

/* Copies file into LAYOUT/blobs/sha256 under its digest. */
static void layout_blob_file(const char *layout, const char *file, char digest[DIGEST_STRING_MAX], long *size)
{
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        uint64_t n;

        CHECK(fd >= 0 && digest_fd(fd, digest, &n) == 0);
        close(fd);
        *size = (long)n;
        sh("mkdir -p %s/blobs/sha256 && cp %s %s/blobs/sha256/%s", layout, file, layout, digest_hex(digest));
}

static void layout_blob_text(const char *layout, const char *text, char digest[DIGEST_STRING_MAX], long *size)
{
        char file[512];
        FILE *f;

        snprintf(file, sizeof(file), "%s/text.tmp", W);
        f = fopen(file, "w");
        CHECK(f);
        fputs(text, f);
        fclose(f);
        layout_blob_file(layout, file, digest, size);
}

struct layer_spec {
        const struct tar_entry *entries;
        size_t n;
};

enum damage { DAMAGE_NONE, DAMAGE_TAMPER, DAMAGE_TRUNCATE, DAMAGE_DIFF_ID };

/* Adds an image (gzip layers) to layout and names it in index.json, which lists all images added so far. */
static void layout_add_image(const char *layout, const char *name, const struct layer_spec *layers, size_t n,
                             enum damage damage)
{
        char tar[512], digest[DIGEST_STRING_MAX], diff[DIGEST_STRING_MAX], cfg_digest[DIGEST_STRING_MAX];
        char m_digest[DIGEST_STRING_MAX], ls[4096] = "", ds[4096] = "", text[8192], idx[512];
        long size, cfg_size, m_size;
        int fd;

        for (size_t i = 0; i < n; i++) {
                snprintf(tar, sizeof(tar), "%s/layer.tar", W);
                tar_write(tar, TAR_NONE, layers[i].entries, layers[i].n);
                fd = open(tar, O_RDONLY | O_CLOEXEC);
                CHECK(digest_fd(fd, diff, NULL) == 0);
                close(fd);
                if (damage == DAMAGE_DIFF_ID)
                        diff[10] = diff[10] == 'a' ? 'b' : 'a';
                sh("gzip -n -f %s", tar);
                strcat(tar, ".gz");
                layout_blob_file(layout, tar, digest, &size);
                if (damage == DAMAGE_TAMPER)
                        sh("printf X | dd of=%s/blobs/sha256/%s bs=1 seek=20 conv=notrunc status=none", layout,
                           digest_hex(digest));
                if (damage == DAMAGE_TRUNCATE)
                        sh("truncate -s %ld %s/blobs/sha256/%s", size / 2, layout, digest_hex(digest));
                snprintf(ls + strlen(ls), sizeof(ls) - strlen(ls),
                         "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%ld}",
                         i ? "," : "", digest, size);
                snprintf(ds + strlen(ds), sizeof(ds) - strlen(ds), "%s\"%s\"", i ? "," : "", diff);
        }
        snprintf(text, sizeof(text),
                 "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"IMAGE=%s\"],"
                 "\"WorkingDir\":\"/w\",\"User\":\"1:2\",\"ExposedPorts\":{\"80/tcp\":{}},\"Volumes\":{\"/v\":{}},"
                 "\"StopSignal\":\"SIGTERM\",\"Entrypoint\":[\"/e\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                 image_host_arch(), name, ds);
        layout_blob_text(layout, text, cfg_digest, &cfg_size);
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
                 "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%ld},"
                 "\"layers\":[%s]}",
                 cfg_digest, cfg_size, ls);
        layout_blob_text(layout, text, m_digest, &m_size);
        snprintf(idx, sizeof(idx), "%s/index.json", layout);
        if (access(idx, F_OK) < 0)
                sh("echo '{\"imageLayoutVersion\":\"1.0.0\"}' > %s/oci-layout && "
                   "echo '{\"schemaVersion\":2,\"manifests\":[]}' > %s",
                   layout, idx);
        sh("jq -c '.manifests += [{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
           "\"size\":%ld,\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]' %s > %s.new && mv %s.new %s",
           m_digest, m_size, name, idx, idx, idx, idx);
}

/* Everything that makes up the store's state, as one string. */
static char *store_snapshot(const char *root)
{
        char cmd[1024], *buf = calloc(1, 1 << 20);
        size_t n;
        FILE *p;

        snprintf(cmd, sizeof(cmd),
                 "cd %s && find blobs layers rootfs | sort; cat images.json 2>/dev/null; ls tmp | grep -v '^partial$'",
                 root);
        p = popen(cmd, "r");
        CHECK(p && buf);
        n = fread(buf, 1, (1 << 20) - 1, p);
        buf[n] = '\0';
        pclose(p);
        return buf;
}

static const struct tar_entry base_entries[] = {
        { 'd', "bin" },
        { 'f', "bin/tool", .data = "base tool", .mode = 0755 },
        { 'f', "etc/old", .data = "to be deleted" },
        { 'f', "etc/keep", .data = "kept" },
        { 'f', "opt/a", .data = "a" },
};
static const struct tar_entry top1_entries[] = {
        { 'f', "etc/.wh.old", .data = "" },
        { 'f', "opt/.wh..wh..opq", .data = "" },
        { 'f', "opt/b", .data = "b" },
        { 'f', "one", .data = "1" },
};
static const struct tar_entry top2_entries[] = { { 'f', "two", .data = "2" } };
static const struct tar_entry evil_entries[] = {
        { 'l', "esc", .target = "../../../../../../.." },
        { 'f', "esc/tmp/test-image-store-escaped", .data = "pwned" },
};

static struct image_store *open_store(void)
{
        struct image_store *s = NULL;
        char root[512], *err = NULL;

        snprintf(root, sizeof(root), "%s/store", W);
        CHECK(image_store_open(root, &s, &err) == 0);
        return s;
}

static int load(struct image_store *s, const char *layout, char **err)
{
        char path[512], **loaded = NULL;
        int r;

        snprintf(path, sizeof(path), "%s/%s", W, layout);
        r = image_store_load(s, path, &loaded, err);
        strv_free(loaded);
        return r;
}

static void test_shared_layers(void)
{
        struct image_store *s = open_store();
        const struct layer_spec l1[] = { { base_entries, ARRAY_SIZE(base_entries) },
                                         { top1_entries, ARRAY_SIZE(top1_entries) } };
        const struct layer_spec l2[] = { { base_entries, ARRAY_SIZE(base_entries) },
                                         { top2_entries, ARRAY_SIZE(top2_entries) } };
        struct image_summary *a;
        struct image_config *c;
        struct json_object *o;
        char p[512], *err = NULL, *id = NULL;
        size_t n;

        snprintf(p, sizeof(p), "%s/good", W);
        layout_add_image(p, "test/one:1", l1, 2, DAMAGE_NONE);
        layout_add_image(p, "test/two:1", l2, 2, DAMAGE_NONE);
        CHECK(load(s, "good", &err) == 0);
        CHECK(image_store_list(s, &a, &n, &err) == 0);
        CHECK_EQ_INT(n, 2);
        image_summary_free_array(a, n);
        /* The base layer is stored once: three layer folders, three layer blobs + 2 configs + 2 manifests. */
        snprintf(p, sizeof(p), "%s/store/layers/sha256", W);
        CHECK_EQ_INT(tree_count(p) - 0, tree_count(p));
        sh("test $(ls %s/store/layers/sha256 | wc -l) = 3", W);
        sh("test $(ls %s/store/blobs/sha256 | wc -l) = 7", W);
        CHECK(image_store_config(s, "test/one:1", &id, &c, &err) == 0);
        CHECK_STREQ(c->env[0], "IMAGE=test/one:1");
        CHECK_STREQ(c->entrypoint[0], "/e");
        CHECK_STREQ(c->working_dir, "/w");
        CHECK_STREQ(c->user, "1:2");
        CHECK_STREQ(c->exposed_ports[0], "80/tcp");
        CHECK_STREQ(c->volumes[0], "/v");
        CHECK_STREQ(c->stop_signal, "SIGTERM");
        image_config_free(c);
        CHECK(image_store_inspect(s, id + 7, &o, &err) == 0); /* by full hex id */
        json_object_put(o);
        CHECK(image_store_tag(s, "docker.io/test/one:1", "other:tag", &err) == 0);
        CHECK(image_store_remove(s, "test/one:1", &err) == 0); /* one name left */
        sh("test $(ls %s/store/layers/sha256 | wc -l) = 3", W);
        CHECK(image_store_remove(s, "other:tag", &err) == 0);
        sh("test $(ls %s/store/layers/sha256 | wc -l) = 2", W);
        CHECK(image_store_remove(s, "test/one:1", &err) == -ENOENT);
        free(err), err = NULL;
        CHECK(image_store_remove(s, "test/two:1", &err) == 0);
        sh("test $(ls %s/store/layers/sha256 | wc -l) = 0 && test $(ls %s/store/blobs/sha256 | wc -l) = 0", W, W);
        free(id);
        image_store_close(s);
}

static void check_load_refused(const char *what, const struct layer_spec *l, size_t n, enum damage damage,
                               const char *expect)
{
        struct image_store *s = open_store();
        const struct layer_spec ok[] = { { top2_entries, ARRAY_SIZE(top2_entries) } };
        char p[512], *before, *after, *err = NULL;

        /* A store with an image in it already. */
        snprintf(p, sizeof(p), "%s/base", W);
        sh("rm -rf %s", p);
        layout_add_image(p, "test/ok:1", ok, 1, DAMAGE_NONE);
        CHECK(load(s, "base", &err) == 0);
        before = store_snapshot(image_store_root(s));
        snprintf(p, sizeof(p), "%s/bad", W);
        sh("rm -rf %s", p);
        layout_add_image(p, "test/bad:1", l, n, damage);
        CHECK(load(s, "bad", &err) < 0);
        fprintf(stderr, "   %s: %s\n", what, err);
        CHECK(err && strstr(err, expect));
        free(err);
        after = store_snapshot(image_store_root(s));
        CHECK_STREQ(after, before);
        CHECK(access("/tmp/test-image-store-escaped", F_OK) < 0);
        free(before);
        free(after);
        image_store_close(s);
}

static void test_refused(void)
{
        const struct layer_spec good[] = { { base_entries, ARRAY_SIZE(base_entries) } };
        const struct layer_spec evil[] = { { base_entries, ARRAY_SIZE(base_entries) },
                                           { evil_entries, ARRAY_SIZE(evil_entries) } };

        check_load_refused("wrong digest", good, 1, DAMAGE_TAMPER, "digest");
        check_load_refused("truncated blob", good, 1, DAMAGE_TRUNCATE, "digest");
        check_load_refused("wrong DiffID", good, 1, DAMAGE_DIFF_ID, "DiffID");
        check_load_refused("escaping layer", evil, 2, DAMAGE_NONE, "symlink");
}

static void test_blob_put(void)
{
        struct image_store *s = open_store();
        char *before = store_snapshot(image_store_root(s)), *after, *err = NULL;
        extern int store_blob_put(struct image_store *, const char *, const void *, size_t, char **);

        CHECK(store_blob_put(s, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "x", 1,
                             &err) == -EBADMSG);
        free(err);
        after = store_snapshot(image_store_root(s));
        CHECK_STREQ(after, before);
        free(before);
        free(after);
        image_store_close(s);
}

static void test_rootfs(void)
{
        struct image_store *s = open_store();
        const struct layer_spec l1[] = { { base_entries, ARRAY_SIZE(base_entries) },
                                         { top1_entries, ARRAY_SIZE(top1_entries) } };
        char p[512], mnt[512], *err = NULL, *path = NULL, *id = NULL;
        int r;

        snprintf(p, sizeof(p), "%s/rootfs-layout", W);
        layout_add_image(p, "test/rootfs:1", l1, 2, DAMAGE_NONE);
        CHECK(load(s, "rootfs-layout", &err) == 0);
        snprintf(mnt, sizeof(mnt), "%s/mnt", W);
        CHECK(mkdir(mnt, 0755) == 0);
        r = image_rootfs_create(s, "test/rootfs:1", "c1", mnt, &path, &err);
        if (r == -EPERM || r == -ENODEV) {
                fprintf(stderr, "   no overlayfs here: %s\n", err);
                free(err);
                image_store_close(s);
                return;
        }
        CHECK(r == 0);
        CHECK_STREQ(path, mnt);
        sh("test -f %s/bin/tool && test -f %s/etc/keep && test ! -e %s/etc/old", mnt, mnt, mnt);
        sh("test -f %s/opt/b && test ! -e %s/opt/a && test -f %s/one", mnt, mnt, mnt);
        sh("echo new > %s/written && test -f %s/store/rootfs/c1/upper/written", mnt, W);
        CHECK(image_rootfs_create(s, "test/rootfs:1", "c1", mnt, NULL, &err) == -EEXIST);
        free(err), err = NULL;
        CHECK(image_store_remove(s, "test/rootfs:1", &err) == -EBUSY);
        free(err), err = NULL;
        CHECK(image_rootfs_find(s, mnt, &id, &err) == 0);
        CHECK_STREQ(id, "c1");
        CHECK(image_rootfs_remove(s, id, &err) == 0);
        sh("test ! -e %s/written && test ! -e %s/store/rootfs/c1", mnt, W);
        CHECK(image_store_remove(s, "test/rootfs:1", &err) == 0);
        free(path);
        free(id);
        image_store_close(s);
}

int main(void)
{
        if (geteuid() != 0) {
                fprintf(stderr, "needs root (owners, device nodes, trusted xattrs)\n");
                return 77;
        }
        W = make_temp_dir();
        RUN_TEST(test_shared_layers);
        RUN_TEST(test_refused);
        RUN_TEST(test_blob_put);
        RUN_TEST(test_rootfs);
        remove_tree(W);
        free(W);
        return 0;
}
