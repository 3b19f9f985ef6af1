/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The layer unpacker: what a layer says is kept (owners, modes, xattrs,
 * links, devices, whiteouts), and every way out of the layer's folder is
 * refused with nothing written outside it.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image-test-util.h"
#include "unpack.h"

static char *T; /* this test's folder: layer/, outside/victim, layer.tar */

static void setup(void)
{
        char p[512];
        FILE *f;

        T = make_temp_dir();
        snprintf(p, sizeof(p), "%s/layer", T);
        CHECK(mkdir(p, 0755) == 0);
        snprintf(p, sizeof(p), "%s/outside", T);
        CHECK(mkdir(p, 0755) == 0);
        snprintf(p, sizeof(p), "%s/outside/victim", T);
        f = fopen(p, "w");
        CHECK(f);
        fputs("safe", f);
        fclose(f);
}

static void teardown(void)
{
        remove_tree(T);
        free(T);
}

static int unpack_with(enum tar_filter filter, const struct tar_entry *e, size_t n, const struct unpack_options *o,
                       struct unpack_result *res, char **err)
{
        char tar[512], layer[512];
        int fd, root, r;

        snprintf(tar, sizeof(tar), "%s/layer.tar", T);
        snprintf(layer, sizeof(layer), "%s/layer", T);
        tar_write(tar, filter, e, n);
        fd = open(tar, O_RDONLY | O_CLOEXEC);
        root = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0 && root >= 0);
        r = unpack_layer(fd, root, o, res, err);
        close(fd);
        close(root);
        return r;
}

/* Nothing but layer/, outside/victim (still "safe") and the archive may be in T. */
static void check_outside_untouched(void)
{
        char p[512], buf[16] = "";
        FILE *f;

        snprintf(p, sizeof(p), "%s/layer", T);
        CHECK_EQ_INT(tree_count(T) - tree_count(p), 4);
        snprintf(p, sizeof(p), "%s/outside/victim", T);
        f = fopen(p, "r");
        CHECK(f);
        CHECK(fgets(buf, sizeof(buf), f));
        fclose(f);
        CHECK_STREQ(buf, "safe");
}

static void check_refused(const char *what, const struct tar_entry *e, size_t n, const char *expect)
{
        const struct unpack_options o = { .whiteouts = true };
        struct unpack_result res;
        char *err = NULL;
        int r;

        setup();
        r = unpack_with(TAR_GZIP, e, n, &o, &res, &err);
        fprintf(stderr, "   %s: %d %s\n", what, r, err ? err : "(no message)");
        CHECK(r < 0);
        CHECK(err && strstr(err, expect));
        free(err);
        check_outside_untouched();
        teardown();
}

static void test_escapes(void)
{
        char abs_outside[600], abs_victim[600];

        check_refused("dotdot", (struct tar_entry[]){ { 'f', "../outside/victim", .data = "pwned" } }, 1, "\"..\"");
        check_refused("dotdot inside", (struct tar_entry[]){ { 'f', "a/../../outside/victim", .data = "x" } }, 1,
                      "\"..\"");
        check_refused("absolute", (struct tar_entry[]){ { 'f', "/tmp/evil-abs", .data = "x" } }, 1, "absolute");
        check_refused("through symlink",
                      (struct tar_entry[]){ { 'l', "esc", .target = "../outside" },
                                            { 'f', "esc/victim", .data = "pwned" } },
                      2, "symlink");
        setup();
        snprintf(abs_outside, sizeof(abs_outside), "%s/outside", T);
        snprintf(abs_victim, sizeof(abs_victim), "%s/outside/victim", T);
        teardown();
        check_refused("through absolute symlink",
                      (struct tar_entry[]){ { 'l', "esc", .target = "/" },
                                            { 'f', "esc/tmp/evil-through-root", .data = "pwned" } },
                      2, "symlink");
        check_refused("through an earlier entry's symlink in a subfolder",
                      (struct tar_entry[]){ { 'd', "a" },
                                            { 'l', "a/b", .target = "../../outside" },
                                            { 'f', "a/b/victim", .data = "pwned" } },
                      3, "symlink");
        check_refused("hard link out", (struct tar_entry[]){ { 'h', "h", .target = "../outside/victim" } }, 1,
                      "\"..\"");
        check_refused("hard link absolute", (struct tar_entry[]){ { 'h', "h", .target = "/etc/passwd" } }, 1,
                      "absolute");
        check_refused("hard link through symlink",
                      (struct tar_entry[]){ { 'l', "esc", .target = "../outside" },
                                            { 'h', "h", .target = "esc/victim" } },
                      2, "symlink");
        check_refused("file replaced by symlink",
                      (struct tar_entry[]){ { 'f', "f", .data = "x" },
                                            { 'l', "f", .target = "../outside/victim" },
                                            { 'f', "f", .data = "pwned" } },
                      3, "replaces an earlier entry");
        check_refused("symlink replaced by file",
                      (struct tar_entry[]){ { 'l', "f", .target = "../outside/victim" },
                                            { 'f', "f", .data = "pwned" } },
                      2, "replaces an earlier entry");
        check_refused("folder replaced by symlink",
                      (struct tar_entry[]){ { 'd', "d" },
                                            { 'l', "d", .target = "../outside" },
                                            { 'f', "d/victim", .data = "pwned" } },
                      3, "replaces an earlier entry");
        check_refused("whiteout of ..", (struct tar_entry[]){ { 'f', "a/.wh...", .data = "" } }, 1, "whiteout");
}

static void test_bombs(void)
{
        const struct unpack_options small = { .whiteouts = true, .max_bytes = 1 << 20 };
        const struct unpack_options o = { .whiteouts = true };
        struct unpack_result res;
        char *err = NULL;

        /* Over the total allowed. */
        setup();
        CHECK(unpack_with(TAR_GZIP, (struct tar_entry[]){ { 'f', "big", .zeros = 4 << 20 } }, 1, &small, &res, &err) <
              0);
        fprintf(stderr, "   bomb: %s\n", err);
        CHECK(err && strstr(err, "decompression bomb"));
        free(err), err = NULL;
        check_outside_untouched();
        teardown();
        /* Over the ratio: 96 MiB of zeros is about 100 KiB of gzip. */
        setup();
        CHECK(unpack_with(TAR_GZIP, (struct tar_entry[]){ { 'f', "big", .zeros = 96ull << 20 } }, 1, &o, &res, &err) <
              0);
        CHECK(err && strstr(err, "expands more than"));
        free(err), err = NULL;
        check_outside_untouched();
        teardown();
        /* Too many entries. */
        setup();
        const struct unpack_options few = { .max_entries = 2 };
        CHECK(unpack_with(TAR_NONE,
                          (struct tar_entry[]){ { 'd', "a" }, { 'd', "b" }, { 'd', "c" } }, 3, &few, &res, &err) < 0);
        CHECK(err && strstr(err, "entries"));
        free(err);
        teardown();
}

static void test_truncated(void)
{
        const struct unpack_options o = { .whiteouts = true };
        struct unpack_result res;
        char tar[512], layer[512], *err = NULL;
        struct stat st;
        int fd, root;

        setup();
        snprintf(tar, sizeof(tar), "%s/layer.tar", T);
        snprintf(layer, sizeof(layer), "%s/layer", T);
        tar_write(tar, TAR_GZIP, (struct tar_entry[]){ { 'f', "a", .data = "some text that compresses" },
                                                       { 'f', "b", .zeros = 100000 } }, 2);
        CHECK(stat(tar, &st) == 0);
        CHECK(truncate(tar, st.st_size / 2) == 0);
        fd = open(tar, O_RDONLY | O_CLOEXEC);
        root = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(unpack_layer(fd, root, &o, &res, &err) < 0);
        fprintf(stderr, "   truncated: %s\n", err);
        CHECK(err);
        free(err);
        close(fd);
        close(root);
        check_outside_untouched();
        teardown();
}

static void lstat_in(const char *rel, struct stat *st)
{
        char p[512];

        snprintf(p, sizeof(p), "%s/layer/%s", T, rel);
        if (lstat(p, st) < 0) {
                fprintf(stderr, "missing %s\n", p);
                abort();
        }
}

static const struct tar_entry full_layer[] = {
        { 'd', "etc", .mode = 0755 },
        { 'f', "etc/passwd", .data = "root:x:0:0::/root:/bin/sh\n", .mode = 0644 },
        { 'f', "bin/suid", .data = "#!", .mode = 04755, .uid = 1000, .gid = 1001 },
        { 'd', "home/user", .mode = 0700, .uid = 1000, .gid = 1000 },
        { 'l', "bin/sh", .target = "/bin/busybox", .uid = 5, .gid = 6 },
        { 'l', "rel", .target = "../../../whatever" },
        { 'h', "etc/passwd-link", .target = "etc/passwd" },
        { 'c', "dev/null", .mode = 0666 },
        { 'p', "run/fifo", .mode = 0600 },
        { 'f', "x/attr", .data = "a", .xattr_name = "user.test", .xattr_value = "yes" },
        { 'f', "x/forged", .data = "a", .xattr_name = "trusted.overlay.opaque", .xattr_value = "y" },
        { 'f', "gone/.wh.old", .data = "" },
        { 'f', "opaque/.wh..wh..opq", .data = "" },
        { 'f', "opaque/new", .data = "n" },
        { 'f', ".wh..wh.plnk", .data = "" },
        { 'd', "./" },
};

static void test_metadata(void)
{
        const struct unpack_options o = { .whiteouts = true };
        struct unpack_result res;
        struct stat st, st2;
        char p[512], v[8] = "";
        char *err = NULL;

        setup();
        CHECK(unpack_with(TAR_GZIP, full_layer, ARRAY_SIZE(full_layer), &o, &res, &err) == 0);
        CHECK_EQ_INT(res.entries, ARRAY_SIZE(full_layer));
        lstat_in("bin/suid", &st);
        CHECK_EQ_INT(st.st_mode & 07777, 04755);
        CHECK_EQ_INT(st.st_uid, 1000);
        CHECK_EQ_INT(st.st_gid, 1001);
        CHECK_EQ_INT(st.st_mtime, 1000000000);
        lstat_in("home/user", &st);
        CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700 && st.st_uid == 1000);
        lstat_in("bin", &st); /* made implicitly */
        CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755);
        lstat_in("bin/sh", &st);
        CHECK(S_ISLNK(st.st_mode) && st.st_uid == 5 && st.st_gid == 6);
        snprintf(p, sizeof(p), "%s/layer/rel", T);
        CHECK(readlink(p, v, sizeof(v) - 1) > 0);
        lstat_in("etc/passwd", &st);
        lstat_in("etc/passwd-link", &st2);
        CHECK(st.st_ino == st2.st_ino && st.st_nlink == 2);
        lstat_in("dev/null", &st);
        CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3 && (st.st_mode & 0777) == 0666);
        lstat_in("run/fifo", &st);
        CHECK(S_ISFIFO(st.st_mode));
        snprintf(p, sizeof(p), "%s/layer/x/attr", T);
        CHECK(getxattr(p, "user.test", v, sizeof(v)) == 3 && memcmp(v, "yes", 3) == 0);
        snprintf(p, sizeof(p), "%s/layer/x/forged", T);
        CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0);
        /* Whiteouts as overlayfs wants them. */
        lstat_in("gone/old", &st);
        CHECK(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
        snprintf(p, sizeof(p), "%s/layer/gone/.wh.old", T);
        CHECK(lstat(p, &st) < 0 && errno == ENOENT);
        snprintf(p, sizeof(p), "%s/layer/opaque", T);
        CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
        snprintf(p, sizeof(p), "%s/layer/opaque/.wh..wh..opq", T);
        CHECK(lstat(p, &st) < 0);
        snprintf(p, sizeof(p), "%s/layer/.wh..wh.plnk", T);
        CHECK(lstat(p, &st) < 0);
        check_outside_untouched();
        teardown();
}

/* The DiffID is the digest of the uncompressed tar, whatever the compression. */
static void test_filters(void)
{
        static const struct tar_entry e[] = { { 'f', "a", .data = "hello" }, { 'd', "d" } };
        const struct unpack_options o = { .whiteouts = true };
        char ids[3][DIGEST_STRING_MAX], tar[512], plain_id[DIGEST_STRING_MAX];
        struct unpack_result res;
        char *err = NULL;
        int fd;

        for (int f = TAR_NONE; f <= TAR_ZSTD; f++) {
                setup();
                CHECK(unpack_with(f, e, 2, &o, &res, &err) == 0);
                memcpy(ids[f], res.diff_id, DIGEST_STRING_MAX);
                if (f == TAR_NONE) {
                        snprintf(tar, sizeof(tar), "%s/layer.tar", T);
                        fd = open(tar, O_RDONLY | O_CLOEXEC);
                        CHECK(digest_fd(fd, plain_id, NULL) == 0);
                        close(fd);
                        CHECK_STREQ(res.diff_id, plain_id);
                }
                teardown();
        }
        CHECK_STREQ(ids[1], ids[0]);
        CHECK_STREQ(ids[2], ids[0]);
}

/* Without whiteout conversion (archives of files), ".wh." names are plain files, and devices are refused. */
static void test_plain(void)
{
        const struct unpack_options o = { .plain = true };
        struct unpack_result res;
        struct stat st;
        char *err = NULL;

        setup();
        CHECK(unpack_with(TAR_NONE, (struct tar_entry[]){ { 'f', ".wh.x", .data = "", .uid = 7, .mode = 04777 } }, 1,
                          &o, &res, &err) == 0);
        lstat_in(".wh.x", &st);
        CHECK(S_ISREG(st.st_mode) && st.st_uid == 0 && (st.st_mode & 07777) == 0644);
        teardown();

        setup();
        CHECK(unpack_with(TAR_NONE, (struct tar_entry[]){ { 'c', "dev" } }, 1, &o, &res, &err) < 0);
        CHECK(err && strstr(err, "only files"));
        free(err);
        teardown();
}

int main(void)
{
        if (geteuid() != 0) {
                fprintf(stderr, "needs root (owners, device nodes, trusted xattrs)\n");
                return 77;
        }
        RUN_TEST(test_escapes);
        RUN_TEST(test_bombs);
        RUN_TEST(test_truncated);
        RUN_TEST(test_metadata);
        RUN_TEST(test_filters);
        RUN_TEST(test_plain);
        return 0;
}
