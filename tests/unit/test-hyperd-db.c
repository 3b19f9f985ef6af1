/* SPDX-License-Identifier: Apache-2.0 */
/* hyperd's SQLite state: migrations, a newer or broken file refused, the daemon record, image names, containers. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "test.h"

static char dir[] = "/tmp/test-hyperd-db.XXXXXX";
static char path[256];

static void test_fresh_and_reopen(void)
{
        struct db *db = NULL;
        char *v = NULL, *error = NULL;
        int version = -1;

        CHECK(db_open(path, &db, &error) == 0);
        CHECK(db_schema_version(db, &version) == 0 && version == db_latest_version() && version >= 1);
        CHECK(db_daemon_get(db, "id", &v) == -ENOENT);
        CHECK(db_daemon_started(db) == 0);
        CHECK(db_daemon_get(db, "id", &v) == 0 && strlen(v) == 32);
        db_close(db);

        /* Reopened: nothing migrated twice, the id kept, the start counted. */
        db = NULL;
        CHECK(db_open(path, &db, &error) == 0);
        CHECK(db_daemon_started(db) == 0);
        {
                char *v2 = NULL, *starts = NULL;
                CHECK(db_daemon_get(db, "id", &v2) == 0 && strcmp(v, v2) == 0);
                CHECK(db_daemon_get(db, "starts", &starts) == 0 && strcmp(starts, "2") == 0);
                free(v2);
                free(starts);
        }
        CHECK(db_daemon_set(db, "note", "it's \"quoted\"; DROP TABLE daemon") == 0);
        free(v);
        v = NULL;
        CHECK(db_daemon_get(db, "note", &v) == 0 && strcmp(v, "it's \"quoted\"; DROP TABLE daemon") == 0);
        free(v);
        db_close(db);
}

static void test_image_refs(void)
{
        char *refs[] = { "docker.io/library/a:latest", "b:1", "c'; --" };
        char *ids[] = { "sha256:1", "sha256:1", "sha256:2" };
        struct db *db = NULL;
        char *id = NULL;
        uint64_t n = 99;

        CHECK(db_open(path, &db, NULL) == 0);
        CHECK(db_image_refs_count(db, &n) == 0 && n == 0);
        CHECK(db_image_refs_replace(db, refs, ids, 3) == 0);
        CHECK(db_image_refs_count(db, &n) == 0 && n == 3);
        CHECK(db_image_ref_get(db, "c'; --", &id) == 0 && strcmp(id, "sha256:2") == 0);
        free(id);
        CHECK(db_image_refs_replace(db, refs + 1, ids + 1, 1) == 0);
        CHECK(db_image_refs_count(db, &n) == 0 && n == 1);
        CHECK(db_image_ref_get(db, "docker.io/library/a:latest", &id) == -ENOENT);
        CHECK(db_image_refs_replace(db, NULL, NULL, 0) == 0);
        CHECK(db_image_refs_count(db, &n) == 0 && n == 0);
        db_close(db);
}

static void check_add(struct db *db, const char *id, const char *name, int64_t created, int want)
{
        struct db_container c = { .id = (char *)id, .name = (char *)name, .image = "busybox",
                                  .image_id = "sha256:1", .command = "[\"sh\"]", .created = created,
                                  .auto_remove = created == 2 };

        CHECK_EQ_INT(db_container_add(db, &c), want);
}

static void test_containers(void)
{
        struct db_container c = { 0 }, *a = NULL;
        struct db *db = NULL;
        size_t n = 9;

        CHECK(db_open(path, &db, NULL) == 0);
        CHECK(db_container_list(db, &a, &n) == 0 && n == 0);
        free(a);
        check_add(db, "abcd1111", "web", 1, 0);
        check_add(db, "abcd2222", "db'; DROP TABLE containers; --", 2, 0);
        check_add(db, "ffff3333", "web", 3, -EEXIST);
        check_add(db, "abcd1111", "other", 3, -EEXIST);
        CHECK(db_container_list(db, &a, &n) == 0 && n == 2);
        CHECK_STREQ(a[0].id, "abcd2222");
        CHECK(a[0].auto_remove && !a[1].auto_remove && a[1].created == 1);
        db_container_free_array(a, n);
        CHECK(db_container_get(db, "web", &c) == 0 && strcmp(c.id, "abcd1111") == 0);
        db_container_done(&c);
        CHECK(db_container_get(db, "abcd2222", &c) == 0 && strcmp(c.command, "[\"sh\"]") == 0);
        db_container_done(&c);
        CHECK(db_container_get(db, "abcd2", &c) == 0 && strcmp(c.id, "abcd2222") == 0);
        db_container_done(&c);
        /* A prefix is hex, 4 or more digits, and names one container. */
        CHECK_EQ_INT(db_container_get(db, "abcd", &c), -ENOTUNIQ);
        CHECK_EQ_INT(db_container_get(db, "abc", &c), -ENOENT);
        CHECK_EQ_INT(db_container_get(db, "ab%", &c), -ENOENT);
        CHECK_EQ_INT(db_container_get(db, "nope", &c), -ENOENT);
        CHECK(db_container_remove(db, "abcd1111") == 0);
        CHECK(db_container_remove(db, "abcd1111") == 0);
        CHECK(db_container_get(db, "abcd", &c) == 0 && strcmp(c.id, "abcd2222") == 0);
        db_container_done(&c);
        db_close(db);
}

/* Named volumes are not removed while a container has them; a disk image is attached once; rows go with the container. */
/* A volume and its use in one transaction; a missing container is -ENOENT, not a taken key. */
static void test_volumes_named(struct db *db)
{
        struct db_container_volume nv = { .container_id = "beef0002", .kind = "volume", .source = "fresh",
                                          .destination = "/f" };
        struct db_volume v;
        bool created = false;

        CHECK_EQ_INT(db_container_volume_add_named(db, &nv, 9, &created), 0);
        CHECK(created);
        CHECK(db_volume_get(db, "fresh", &v) == 0 && v.created == 9);
        free(v.name);
        nv.destination = "/g";
        CHECK_EQ_INT(db_container_volume_add_named(db, &nv, 10, &created), 0);
        CHECK(!created);
        CHECK_EQ_INT(db_container_volume_add_named(db, &nv, 10, &created), -EEXIST);
        CHECK_EQ_INT(db_volume_remove(db, "fresh"), -EBUSY);
        nv.container_id = "0dd00000";
        nv.source = "ghost";
        CHECK_EQ_INT(db_container_volume_add_named(db, &nv, 11, &created), -ENOENT);
        CHECK(!created);
        CHECK_EQ_INT(db_volume_get(db, "ghost", &v), -ENOENT);
        nv.kind = "bind";
        CHECK_EQ_INT(db_container_volume_add(db, &nv), -ENOENT);
}

static void test_volumes(void)
{
        struct db_container_volume named = { .container_id = "beef0001", .kind = "volume", .source = "data",
                                             .destination = "/data" };
        struct db_container_volume block = { .container_id = "beef0001", .kind = "block", .source = "/srv/d.img",
                                             .destination = "/disk", .format = "qcow2", .readonly = true };
        struct db_container_volume *a = NULL;
        struct db_volume v, *vs = NULL;
        struct db *db = NULL;
        size_t n = 0;

        CHECK(db_open(path, &db, NULL) == 0);
        check_add(db, "beef0001", "vol-user", 10, 0);
        check_add(db, "beef0002", "vol-user2", 11, 0);
        CHECK_EQ_INT(db_volume_add(db, "data", 5), 0);
        CHECK_EQ_INT(db_volume_add(db, "data", 6), -EEXIST);
        CHECK_EQ_INT(db_volume_add(db, "b-first", 7), 0);
        CHECK(db_volume_get(db, "data", &v) == 0 && v.created == 5 && strcmp(v.name, "data") == 0);
        free(v.name);
        CHECK_EQ_INT(db_volume_get(db, "nope", &v), -ENOENT);
        CHECK(db_volume_list(db, &vs, &n) == 0 && n == 2 && strcmp(vs[0].name, "b-first") == 0);
        db_volume_free_array(vs, n);
        CHECK_EQ_INT(db_container_volume_add(db, &named), 0);
        CHECK_EQ_INT(db_container_volume_add(db, &named), -EEXIST);
        CHECK_EQ_INT(db_volume_remove(db, "data"), -EBUSY);
        test_volumes_named(db);
        CHECK_EQ_INT(db_container_volume_add_block(db, &block), 0);
        block.container_id = "beef0002";
        CHECK_EQ_INT(db_container_volume_add_block(db, &block), -EBUSY);
        CHECK(db_container_volumes(db, "beef0001", NULL, NULL, &a, &n) == 0 && n == 2);
        CHECK_STREQ(a[0].destination, "/data");
        CHECK_STREQ(a[1].format, "qcow2");
        CHECK(a[1].readonly && !a[0].format);
        db_container_volume_free_array(a, n);
        CHECK(db_container_volumes(db, NULL, "block", "/srv/d.img", &a, &n) == 0 && n == 1);
        CHECK_STREQ(a[0].container_id, "beef0001");
        db_container_volume_free_array(a, n);
        CHECK(db_container_remove(db, "beef0001") == 0);
        CHECK(db_container_volumes(db, NULL, "volume", "data", &a, &n) == 0 && n == 0);
        free(a);
        CHECK_EQ_INT(db_container_volume_add_block(db, &block), 0);
        CHECK_EQ_INT(db_volume_remove(db, "data"), 0);
        CHECK_EQ_INT(db_volume_remove(db, "data"), -ENOENT);
        CHECK(db_container_remove(db, "beef0002") == 0);
        db_close(db);
}

static void set_version(int v)
{
        sqlite3 *conn = NULL;
        char sql[64];

        CHECK(sqlite3_open(path, &conn) == SQLITE_OK);
        snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", v);
        CHECK(sqlite3_exec(conn, sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(conn);
}

/* Pods and their members: ids taken once, members in the order they joined, the restart count and a user's stop. */
static void test_pods(void)
{
        struct db_pod p = { .id = "web", .sandbox = "5a5a", .spec = "{}", .created = 7 }, got = { 0 }, *ps = NULL;
        struct db_container *a = NULL;
        struct db_member m = { 0 };
        struct db *db = NULL;
        size_t n = 9;

        CHECK(db_open(path, &db, NULL) == 0);
        CHECK(db_pod_list(db, &ps, &n) == 0 && n == 0);
        free(ps);
        CHECK_EQ_INT(db_pod_add(db, &p), 0);
        CHECK_EQ_INT(db_pod_add(db, &p), -EEXIST);
        CHECK(db_pod_get(db, "web", &got) == 0 && strcmp(got.sandbox, "5a5a") == 0 && got.created == 7);
        db_pod_done(&got);
        CHECK_EQ_INT(db_pod_get(db, "we", &got), -ENOENT);
        check_add(db, "ffff0001", "web-b", 1, 0);
        check_add(db, "0000aaaa", "web-a", 1, 0);
        CHECK_EQ_INT(db_member_add(db, "ffff0001", "web"), 0);
        CHECK_EQ_INT(db_member_add(db, "0000aaaa", "web"), 0);
        CHECK_EQ_INT(db_member_add(db, "0000aaaa", "other"), -EEXIST);
        CHECK(db_member_list(db, "web", &a, &n) == 0 && n == 2);
        CHECK_STREQ(a[0].name, "web-b");
        db_container_free_array(a, n);
        CHECK_EQ_INT(db_member_get(db, "abcd2222", &m), -ENOENT);
        CHECK(db_member_set_stopped(db, "0000aaaa", true) == 0 && db_member_set_restarts(db, "0000aaaa", 3) == 0);
        CHECK(db_member_get(db, "0000aaaa", &m) == 0 && strcmp(m.pod, "web") == 0);
        CHECK(m.restarts == 3 && m.stopped_by_user);
        free(m.pod);
        CHECK(db_member_remove(db, "0000aaaa") == 0 && db_container_remove(db, "0000aaaa") == 0);
        CHECK(db_member_remove(db, "ffff0001") == 0 && db_container_remove(db, "ffff0001") == 0);
        CHECK(db_member_list(db, "web", &a, &n) == 0 && n == 0);
        free(a);
        CHECK(db_pod_remove(db, "web") == 0);
        CHECK(db_pod_list(db, &ps, &n) == 0 && n == 0);
        free(ps);
        db_close(db);
}

/* Execs: a row per exec, its exit code once known, listed per container oldest first, gone with the container. */
static void test_execs(void)
{
        struct db_exec e = { .id = "e1", .container_id = "c0ffee01", .command = "[\"sh\",\"-c\",\"exit 3\"]",
                             .detach = true, .created = 5 },
                       got = { .exit_code = -1 }, *a = NULL;
        struct db *db = NULL;
        size_t n = 9;

        CHECK(db_open(path, &db, NULL) == 0);
        CHECK_EQ_INT(db_exec_add(db, &e), -ENOENT); /* no such container */
        check_add(db, "c0ffee01", "execs-a", 1, 0);
        CHECK_EQ_INT(db_exec_add(db, &e), 0);
        CHECK_EQ_INT(db_exec_add(db, &e), -EEXIST);
        e = (struct db_exec){ .id = "e2", .container_id = "c0ffee01", .command = "[\"true\"]", .tty = true, .created = 6 };
        CHECK_EQ_INT(db_exec_add(db, &e), 0);
        CHECK(db_exec_get(db, "e1", &got) == 0);
        CHECK_STREQ(got.container_id, "c0ffee01");
        CHECK_STREQ(got.command, "[\"sh\",\"-c\",\"exit 3\"]");
        CHECK(got.detach && !got.tty && got.created == 5 && got.exit_code == -1);
        db_exec_done(&got);
        CHECK_EQ_INT(db_exec_get(db, "e3", &got), -ENOENT);
        CHECK(db_exec_set_exit(db, "e1", 3) == 0);
        CHECK(db_exec_get(db, "e1", &got) == 0 && got.exit_code == 3);
        db_exec_done(&got);
        CHECK(db_exec_list(db, "c0ffee01", &a, &n) == 0 && n == 2);
        CHECK_STREQ(a[0].id, "e1");
        CHECK(a[1].tty && !a[1].detach && a[1].exit_code == -1);
        db_exec_free_array(a, n);
        CHECK(db_exec_remove(db, "e2") == 0);
        CHECK(db_exec_list(db, "c0ffee01", &a, &n) == 0 && n == 1);
        db_exec_free_array(a, n);
        /* ON DELETE CASCADE: the container's rows go with it. */
        CHECK(db_container_remove(db, "c0ffee01") == 0);
        CHECK_EQ_INT(db_exec_get(db, "e1", &got), -ENOENT);
        CHECK(db_exec_list(db, "c0ffee01", &a, &n) == 0 && n == 0);
        free(a);
        db_close(db);
}

static void test_newer_refused(void)
{
        struct db *db = NULL;
        char *error = NULL;

        set_version(db_latest_version() + 1);
        CHECK(db_open(path, &db, &error) == -EPROTONOSUPPORT && !db);
        CHECK(error && strstr(error, "schema version"));
        free(error);
        set_version(db_latest_version());
        CHECK(db_open(path, &db, NULL) == 0);
        db_close(db);
}

static void test_not_a_database(void)
{
        char bad[300];
        struct db *db = NULL;
        char *error = NULL;
        int fd;

        snprintf(bad, sizeof(bad), "%s/bad.db", dir);
        fd = open(bad, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        {
                static const char junk[] = "this is not sqlite, but long enough for sqlite to read its header.....";
                CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
        }
        close(fd);
        CHECK(db_open(bad, &db, &error) < 0 && !db);
        CHECK(error && strstr(error, bad));
        free(error);
        error = NULL;
        CHECK(db_open("/nonexistent/dir/x.db", &db, &error) < 0 && !db);
        free(error);
        unlink(bad);
}

int main(void)
{
        char cmd[300];

        CHECK(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/hyperd.db", dir);
        test_fresh_and_reopen();
        test_image_refs();
        test_containers();
        test_volumes();
        test_pods();
        test_execs();
        test_newer_refused();
        test_not_a_database();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
        printf("ok\n");
        return 0;
}
