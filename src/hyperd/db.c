/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

struct db {
        sqlite3 *conn;
        pthread_mutex_t lock;
};

/* Append only: migration i takes the schema from version i to i + 1. */
static const char *const db_migrations[] = {
        "CREATE TABLE daemon (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE image_refs (ref TEXT PRIMARY KEY, image_id TEXT NOT NULL, seen INTEGER NOT NULL);",
        "CREATE TABLE containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image TEXT NOT NULL,"
        " image_id TEXT NOT NULL, command TEXT NOT NULL, created INTEGER NOT NULL,"
        " auto_remove INTEGER NOT NULL DEFAULT 0);",
        "CREATE TABLE volumes (name TEXT PRIMARY KEY, created INTEGER NOT NULL);"
        "CREATE TABLE container_volumes (container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
        " kind TEXT NOT NULL, source TEXT NOT NULL, destination TEXT NOT NULL, readonly INTEGER NOT NULL,"
        " format TEXT, PRIMARY KEY (container_id, destination));"
        "CREATE INDEX container_volumes_source ON container_volumes (kind, source);",
        "CREATE TABLE pods (id TEXT PRIMARY KEY, sandbox TEXT NOT NULL UNIQUE, spec TEXT NOT NULL,"
        " created INTEGER NOT NULL);"
        "CREATE TABLE pod_members (container TEXT PRIMARY KEY, pod TEXT NOT NULL, restarts INTEGER NOT NULL DEFAULT 0,"
        " stopped_by_user INTEGER NOT NULL DEFAULT 0);",
        "CREATE TABLE execs (id TEXT PRIMARY KEY, container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
        " command TEXT NOT NULL, tty INTEGER NOT NULL, detach INTEGER NOT NULL, created INTEGER NOT NULL,"
        " exit_code INTEGER);"
        "CREATE INDEX execs_container ON execs (container_id);",
};

int db_latest_version(void)
{
        return (int)(sizeof(db_migrations) / sizeof(db_migrations[0]));
}

static int db_errno(int rc)
{
        switch (rc) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
        case SQLITE_READONLY:
                return -EACCES;
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
                return -EBADMSG;
        case SQLITE_FULL:
                return -ENOSPC;
        default:
                return -EIO;
        }
}

static int db_exec(struct db *db, const char *sql)
{
        return db_errno(sqlite3_exec(db->conn, sql, NULL, NULL, NULL));
}

/* Runs a query whose one result is an integer; *ret untouched when there is no row (-ENOENT). */
static int db_query_int(struct db *db, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);

        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
}

typedef int (*db_row_reader)(sqlite3_stmt *st, void *row);

/* Every row of a query with n_args text parameters, into a new array of size-byte rows: read_row fills one row,
 * or frees what it took and fails. *ret and *ret_n hold the rows read, on failure too (for the caller to free). */
static int db_rows(struct db *db, const char *sql, const char *const *args, size_t n_args, size_t size,
                   db_row_reader read_row, void **ret, size_t *ret_n)
{
        char *a = NULL, *b;
        sqlite3_stmt *st = NULL;
        size_t n = 0;
        int rc, r = 0;

        pthread_mutex_lock(&db->lock);
        rc = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
        for (size_t i = 0; rc == SQLITE_OK && i < n_args; i++)
                rc = sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_TRANSIENT);
        while (rc == SQLITE_OK && r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                b = realloc(a, (n + 1) * size);
                r = b ? read_row(st, b + n * size) : -ENOMEM;
                a = b ? b : a;
                n += r >= 0;
                rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->lock);
        if (r >= 0 && rc != SQLITE_DONE)
                r = db_errno(rc) < 0 ? db_errno(rc) : -EIO;
        *ret = a;
        *ret_n = n;
        return r;
}

static int db_read_version(struct db *db, int *ret)
{
        int64_t v = 0;
        int r;

        r = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        if (r < 0)
                return r;
        r = db_query_int(db, "SELECT version FROM schema_version", &v);
        if (r == -ENOENT) {
                r = db_exec(db, "INSERT INTO schema_version (version) VALUES (0)");
                v = 0;
        }
        if (r < 0)
                return r;
        *ret = (int)v;
        return 0;
}

/* Applies migration `from` (to version from + 1) in one transaction. */
static int db_migrate_one(struct db *db, int from)
{
        char sql[96];
        int r;

        r = db_exec(db, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        r = db_exec(db, db_migrations[from]);
        if (r >= 0) {
                snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", from + 1);
                r = db_exec(db, sql);
        }
        if (r >= 0)
                return db_exec(db, "COMMIT");
        db_exec(db, "ROLLBACK");
        return r;
}

static int db_migrate(struct db *db, char **ret_error)
{
        int v, r;

        r = db_read_version(db, &v);
        if (r < 0)
                return r;
        if (v < 0 || v > db_latest_version()) {
                if (ret_error && asprintf(ret_error, "the database has schema version %d; this hyperd knows %d",
                                          v, db_latest_version()) < 0)
                        *ret_error = NULL;
                return -EPROTONOSUPPORT;
        }
        for (; v < db_latest_version(); v++) {
                r = db_migrate_one(db, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int db_configure(struct db *db)
{
        int r;

        sqlite3_busy_timeout(db->conn, 5000);
        sqlite3_extended_result_codes(db->conn, 0);
        r = db_exec(db, "PRAGMA foreign_keys = ON");
        if (r >= 0)
                r = db_exec(db, "PRAGMA journal_mode = WAL");
        return r;
}

int db_open(const char *path, struct db **ret, char **ret_error)
{
        struct db *db = calloc(1, sizeof(*db));
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!db)
                return -ENOMEM;
        pthread_mutex_init(&db->lock, NULL);
        r = db_errno(sqlite3_open_v2(path, &db->conn,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL));
        if (r >= 0)
                r = db_configure(db);
        if (r >= 0)
                r = db_migrate(db, ret_error);
        if (r < 0) {
                if (ret_error && !*ret_error && asprintf(ret_error, "cannot open the database %s: %s", path,
                                                         db->conn ? sqlite3_errmsg(db->conn) : strerror(-r)) < 0)
                        *ret_error = NULL;
                db_close(db);
                return r;
        }
        *ret = db;
        return 0;
}

void db_close(struct db *db)
{
        if (!db)
                return;
        sqlite3_close(db->conn);
        pthread_mutex_destroy(&db->lock);
        free(db);
}

int db_schema_version(struct db *db, int *ret)
{
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_read_version(db, ret);
        pthread_mutex_unlock(&db->lock);
        return r;
}

static int db_get_text_locked(struct db *db, const char *sql, const char *arg, char **ret)
{
        sqlite3_stmt *st = NULL;
        char *v = NULL;
        int rc;

        rc = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                v = strdup((const char *)sqlite3_column_text(st, 0));
                if (!v)
                        rc = SQLITE_NOMEM;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
                return rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
        *ret = v;
        return 0;
}

int db_daemon_get(struct db *db, const char *key, char **ret)
{
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_get_text_locked(db, "SELECT value FROM daemon WHERE key = ?1", key, ret);
        pthread_mutex_unlock(&db->lock);
        return r;
}

static int db_daemon_set_locked(struct db *db, const char *key, const char *value)
{
        sqlite3_stmt *st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(db->conn, "INSERT OR REPLACE INTO daemon (key, value) VALUES (?1, ?2)", -1, &st,
                                NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return db_errno(rc);
}

int db_daemon_set(struct db *db, const char *key, const char *value)
{
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_daemon_set_locked(db, key, value);
        pthread_mutex_unlock(&db->lock);
        return r;
}

/* 128 random bits as hex, from /dev/urandom. */
static int db_random_id(char ret[33])
{
        unsigned char b[16];
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, b, sizeof(b));
        close(fd);
        if (n != (ssize_t)sizeof(b))
                return -EIO;
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

static int db_daemon_started_locked(struct db *db, const char *now)
{
        char id[33], starts[24];
        int64_t n = 0;
        int r;

        r = db_query_int(db, "SELECT CAST(value AS INTEGER) FROM daemon WHERE key = 'starts'", &n);
        if (r == -ENOENT) {
                r = db_random_id(id);
                if (r >= 0)
                        r = db_daemon_set_locked(db, "id", id);
                if (r >= 0)
                        r = db_daemon_set_locked(db, "created", now);
        }
        if (r < 0)
                return r;
        snprintf(starts, sizeof(starts), "%" PRId64, n + 1);
        r = db_daemon_set_locked(db, "starts", starts);
        if (r >= 0)
                r = db_daemon_set_locked(db, "last-start", now);
        return r;
}

int db_daemon_started(struct db *db)
{
        char now[24];
        int r;

        snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
        pthread_mutex_lock(&db->lock);
        r = db_exec(db, "BEGIN IMMEDIATE");
        if (r >= 0) {
                r = db_daemon_started_locked(db, now);
                if (r >= 0)
                        r = db_exec(db, "COMMIT");
                else
                        db_exec(db, "ROLLBACK");
        }
        pthread_mutex_unlock(&db->lock);
        return r;
}

static int db_image_refs_insert(struct db *db, char *const *refs, char *const *ids, size_t n)
{
        sqlite3_stmt *st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(db->conn, "INSERT OR REPLACE INTO image_refs (ref, image_id, seen) VALUES (?1, ?2, ?3)",
                                -1, &st, NULL);
        for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
                sqlite3_reset(st);
                rc = sqlite3_bind_text(st, 1, refs[i], -1, SQLITE_TRANSIENT);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_text(st, 2, ids[i], -1, SQLITE_TRANSIENT);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
                if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
                        rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        return db_errno(rc);
}

int db_image_refs_replace(struct db *db, char *const *refs, char *const *ids, size_t n)
{
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_exec(db, "BEGIN IMMEDIATE");
        if (r >= 0) {
                r = db_exec(db, "DELETE FROM image_refs");
                if (r >= 0)
                        r = db_image_refs_insert(db, refs, ids, n);
                if (r >= 0)
                        r = db_exec(db, "COMMIT");
                else
                        db_exec(db, "ROLLBACK");
        }
        pthread_mutex_unlock(&db->lock);
        return r;
}

int db_image_refs_count(struct db *db, uint64_t *ret)
{
        int64_t n = 0;
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_query_int(db, "SELECT COUNT(*) FROM image_refs", &n);
        pthread_mutex_unlock(&db->lock);
        if (r < 0)
                return r;
        *ret = (uint64_t)n;
        return 0;
}

int db_image_ref_get(struct db *db, const char *ref, char **ret_id)
{
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_get_text_locked(db, "SELECT image_id FROM image_refs WHERE ref = ?1", ref, ret_id);
        pthread_mutex_unlock(&db->lock);
        return r;
}

void db_container_done(struct db_container *c)
{
        free(c->id);
        free(c->name);
        free(c->image);
        free(c->image_id);
        free(c->command);
        *c = (struct db_container){ 0 };
}

void db_container_free_array(struct db_container *a, size_t n)
{
        for (size_t i = 0; i < n; i++)
                db_container_done(&a[i]);
        free(a);
}

static int db_bind_container(sqlite3_stmt *st, const struct db_container *c)
{
        const char *text[] = { c->id, c->name, c->image, c->image_id, c->command };
        int rc = SQLITE_OK;

        for (int i = 0; rc == SQLITE_OK && i < 5; i++)
                rc = sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 6, c->created);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(st, 7, c->auto_remove);
        return rc;
}

int db_container_add(struct db *db, const struct db_container *c)
{
        sqlite3_stmt *st = NULL;
        int rc;

        pthread_mutex_lock(&db->lock);
        rc = sqlite3_prepare_v2(db->conn,
                                "INSERT INTO containers (id, name, image, image_id, command, created, auto_remove)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = db_bind_container(st, c);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->lock);
        return rc == SQLITE_CONSTRAINT ? -EEXIST : db_errno(rc);
}

static int db_container_read(sqlite3_stmt *st, void *row)
{
        struct db_container *ret = row;
        char **text[] = { &ret->id, &ret->name, &ret->image, &ret->image_id, &ret->command };

        *ret = (struct db_container){ 0 };
        for (int i = 0; i < 5; i++) {
                const char *v = (const char *)sqlite3_column_text(st, i);

                *text[i] = strdup(v ? v : "");
                if (!*text[i]) {
                        db_container_done(ret);
                        return -ENOMEM;
                }
        }
        ret->created = sqlite3_column_int64(st, 5);
        ret->auto_remove = sqlite3_column_int(st, 6) != 0;
        return 0;
}

#define DB_CONTAINER_COLUMNS "SELECT id, name, image, image_id, command, created, auto_remove FROM containers"

/* Every row of a query on containers with at most one text parameter. */
static int db_containers_query(struct db *db, const char *sql, const char *arg, struct db_container **ret,
                               size_t *ret_n)
{
        void *a;
        size_t n;
        int r = db_rows(db, sql, &arg, arg ? 1 : 0, sizeof(**ret), db_container_read, &a, &n);

        if (r < 0) {
                db_container_free_array(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

int db_container_list(struct db *db, struct db_container **ret, size_t *ret_n)
{
        return db_containers_query(db, DB_CONTAINER_COLUMNS " ORDER BY created DESC, id", NULL, ret, ret_n);
}

int db_container_get(struct db *db, const char *key, struct db_container *ret)
{
        struct db_container *a = NULL;
        size_t n = 0;
        int r;

        /* The full id or the name first; then an id prefix of 4 or more, if only one container has it. */
        r = db_containers_query(db, DB_CONTAINER_COLUMNS " WHERE id = ?1 OR name = ?1", key, &a, &n);
        if (r >= 0 && n == 0 && strlen(key) >= 4 && strspn(key, "0123456789abcdef") == strlen(key)) {
                free(a);
                r = db_containers_query(db, DB_CONTAINER_COLUMNS " WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
                                        key, &a, &n);
        }
        if (r < 0)
                return r;
        if (n != 1) {
                db_container_free_array(a, n);
                return n == 0 ? -ENOENT : -ENOTUNIQ;
        }
        *ret = a[0];
        free(a);
        return 0;
}

int db_container_remove(struct db *db, const char *id)
{
        sqlite3_stmt *st = NULL;
        int rc;

        pthread_mutex_lock(&db->lock);
        rc = sqlite3_prepare_v2(db->conn, "DELETE FROM containers WHERE id = ?1", -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->lock);
        return db_errno(rc);
}

void db_volume_free_array(struct db_volume *a, size_t n)
{
        for (size_t i = 0; a && i < n; i++)
                free(a[i].name);
        free(a);
}

/* Runs a statement with text parameters (NULL binds NULL) and optional integers after them. */
static int db_run_locked(struct db *db, const char *sql, const char *const *text, size_t n_text, const int64_t *ints,
                         size_t n_ints)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);

        for (size_t i = 0; rc == SQLITE_OK && i < n_text; i++)
                rc = text[i] ? sqlite3_bind_text(st, (int)i + 1, text[i], -1, SQLITE_TRANSIENT)
                             : sqlite3_bind_null(st, (int)i + 1);
        for (size_t i = 0; rc == SQLITE_OK && i < n_ints; i++)
                rc = sqlite3_bind_int64(st, (int)(n_text + i) + 1, ints[i]);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        /* Read before finalize, which may reset it: a taken key is not a missing parent. */
        if (rc == SQLITE_CONSTRAINT)
                rc = sqlite3_extended_errcode(db->conn);
        sqlite3_finalize(st);
        switch (rc) {
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_UNIQUE:
                return -EEXIST;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
                return -ENOENT;
        default:
                return (rc & 0xff) == SQLITE_CONSTRAINT ? -EINVAL : db_errno(rc & 0xff);
        }
}

int db_volume_add(struct db *db, const char *name, int64_t created)
{
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_run_locked(db, "INSERT INTO volumes (name, created) VALUES (?1, ?2)", &name, 1, &created, 1);
        pthread_mutex_unlock(&db->lock);
        return r;
}

static int db_volume_read(sqlite3_stmt *st, void *row)
{
        struct db_volume *v = row;

        v->name = strdup((const char *)sqlite3_column_text(st, 0));
        v->created = sqlite3_column_int64(st, 1);
        return v->name ? 0 : -ENOMEM;
}

static int db_volumes_query(struct db *db, const char *name, struct db_volume **ret, size_t *ret_n)
{
        void *a;
        size_t n;
        int r = db_rows(db,
                        name ? "SELECT name, created FROM volumes WHERE name = ?1"
                             : "SELECT name, created FROM volumes ORDER BY name",
                        &name, name ? 1 : 0, sizeof(**ret), db_volume_read, &a, &n);

        if (r < 0) {
                db_volume_free_array(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

int db_volume_get(struct db *db, const char *name, struct db_volume *ret)
{
        struct db_volume *a = NULL;
        size_t n = 0;
        int r = db_volumes_query(db, name, &a, &n);

        if (r < 0)
                return r;
        if (n == 0) {
                free(a);
                return -ENOENT;
        }
        *ret = a[0];
        free(a);
        return 0;
}

int db_volume_list(struct db *db, struct db_volume **ret, size_t *ret_n)
{
        return db_volumes_query(db, NULL, ret, ret_n);
}

/* Whether a volume exists (0 or -ENOENT) and how many containers use it. */
static int db_volume_users_locked(struct db *db, const char *name, int64_t *ret_users)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db->conn,
                                    "SELECT (SELECT COUNT(*) FROM volumes WHERE name = ?1),"
                                    " (SELECT COUNT(*) FROM container_volumes WHERE kind = 'volume' AND source = ?1)",
                                    -1, &st, NULL);
        int r;

        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = sqlite3_column_int64(st, 0) == 0 ? -ENOENT : 0;
                *ret_users = sqlite3_column_int64(st, 1);
        } else {
                r = db_errno(rc) < 0 ? db_errno(rc) : -EIO;
        }
        sqlite3_finalize(st);
        return r;
}

int db_volume_remove(struct db *db, const char *name)
{
        int64_t users = 0;
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_exec(db, "BEGIN IMMEDIATE");
        if (r >= 0) {
                r = db_volume_users_locked(db, name, &users);
                if (r >= 0 && users > 0)
                        r = -EBUSY;
                if (r >= 0)
                        r = db_run_locked(db, "DELETE FROM volumes WHERE name = ?1", &name, 1, NULL, 0);
                db_exec(db, r >= 0 ? "COMMIT" : "ROLLBACK");
        }
        pthread_mutex_unlock(&db->lock);
        return r;
}

void db_container_volume_free_array(struct db_container_volume *a, size_t n)
{
        for (size_t i = 0; a && i < n; i++) {
                free(a[i].container_id);
                free(a[i].kind);
                free(a[i].source);
                free(a[i].destination);
                free(a[i].format);
        }
        free(a);
}

#define DB_CV_INSERT                                                                                                \
        "INSERT INTO container_volumes (container_id, kind, source, destination, format, readonly)"                 \
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"

int db_container_volume_add(struct db *db, const struct db_container_volume *v)
{
        const char *text[] = {v->container_id, v->kind, v->source, v->destination, v->format};
        int64_t ro = v->readonly;
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_run_locked(db, DB_CV_INSERT, text, 5, &ro, 1);
        pthread_mutex_unlock(&db->lock);
        return r;
}

int db_container_volume_add_named(struct db *db, const struct db_container_volume *v, int64_t created,
                                  bool *ret_created)
{
        const char *text[] = {v->container_id, v->kind, v->source, v->destination, v->format};
        int64_t ro = v->readonly;
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_exec(db, "BEGIN IMMEDIATE");
        if (r >= 0) {
                r = db_run_locked(db, "INSERT OR IGNORE INTO volumes (name, created) VALUES (?1, ?2)", &text[2], 1,
                                  &created, 1);
                *ret_created = r >= 0 && sqlite3_changes(db->conn) > 0;
                if (r >= 0)
                        r = db_run_locked(db, DB_CV_INSERT, text, 5, &ro, 1);
                db_exec(db, r >= 0 ? "COMMIT" : "ROLLBACK");
        }
        pthread_mutex_unlock(&db->lock);
        if (r < 0)
                *ret_created = false;
        return r;
}

int db_container_volume_add_block(struct db *db, const struct db_container_volume *v)
{
        const char *text[] = {v->container_id, v->kind, v->source, v->destination, v->format};
        int64_t ro = v->readonly, users = 0;
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_exec(db, "BEGIN IMMEDIATE");
        if (r >= 0) {
                sqlite3_stmt *st = NULL;
                int rc = sqlite3_prepare_v2(db->conn,
                                            "SELECT COUNT(*) FROM container_volumes WHERE kind = 'block' AND source = ?1",
                                            -1, &st, NULL);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_text(st, 1, v->source, -1, SQLITE_TRANSIENT);
                if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
                        users = sqlite3_column_int64(st, 0);
                else
                        r = db_errno(rc) < 0 ? db_errno(rc) : -EIO;
                sqlite3_finalize(st);
                if (r >= 0 && users > 0)
                        r = -EBUSY;
                if (r >= 0)
                        r = db_run_locked(db, DB_CV_INSERT, text, 5, &ro, 1);
                db_exec(db, r >= 0 ? "COMMIT" : "ROLLBACK");
        }
        pthread_mutex_unlock(&db->lock);
        return r;
}

int db_container_volume_remove(struct db *db, const char *container_id, const char *destination)
{
        const char *text[] = {container_id, destination};
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_run_locked(db, "DELETE FROM container_volumes WHERE container_id = ?1 AND destination = ?2", text, 2,
                          NULL, 0);
        pthread_mutex_unlock(&db->lock);
        return r;
}

static int db_cv_read(sqlite3_stmt *st, void *row)
{
        struct db_container_volume *v = row;
        char **text[] = {&v->container_id, &v->kind, &v->source, &v->destination, &v->format};
        bool oom = false;

        *v = (struct db_container_volume){0};
        for (int i = 0; !oom && i < 5; i++) {
                const char *s = (const char *)sqlite3_column_text(st, i);

                oom = s && !(*text[i] = strdup(s));
        }
        v->readonly = sqlite3_column_int(st, 5) != 0;
        if (!oom && v->container_id && v->kind && v->source && v->destination)
                return 0;
        for (int i = 0; i < 5; i++)
                free(*text[i]);
        return -ENOMEM;
}

int db_container_volumes(struct db *db, const char *container_id, const char *kind, const char *source,
                         struct db_container_volume **ret, size_t *ret_n)
{
        const char *args[] = {container_id ? container_id : kind, source};
        void *a;
        size_t n;
        int r = db_rows(db,
                        container_id ? "SELECT container_id, kind, source, destination, format, readonly"
                                       " FROM container_volumes WHERE container_id = ?1 ORDER BY destination"
                                     : "SELECT container_id, kind, source, destination, format, readonly"
                                       " FROM container_volumes WHERE kind = ?1 AND source = ?2"
                                       " ORDER BY container_id",
                        args, container_id ? 1 : 2, sizeof(**ret), db_cv_read, &a, &n);

        if (r < 0) {
                db_container_volume_free_array(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

/* Runs one statement with text parameters (NULL-terminated list); rows, if any, are dropped. */
static int db_run(struct db *db, const char *sql, const char *const *args, int64_t num, int num_index)
{
        sqlite3_stmt *st = NULL;
        int rc;

        pthread_mutex_lock(&db->lock);
        rc = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
        for (int i = 0; rc == SQLITE_OK && args && args[i]; i++)
                rc = sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK && num_index > 0)
                rc = sqlite3_bind_int64(st, num_index, num);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->lock);
        return rc == SQLITE_CONSTRAINT ? -EEXIST : db_errno(rc);
}

void db_pod_done(struct db_pod *p)
{
        free(p->id);
        free(p->sandbox);
        free(p->spec);
        *p = (struct db_pod){ 0 };
}

void db_pod_free_array(struct db_pod *a, size_t n)
{
        for (size_t i = 0; i < n; i++)
                db_pod_done(&a[i]);
        free(a);
}

int db_pod_add(struct db *db, const struct db_pod *p)
{
        const char *args[] = { p->id, p->sandbox, p->spec, NULL };

        return db_run(db, "INSERT INTO pods (id, sandbox, spec, created) VALUES (?1, ?2, ?3, ?4)", args, p->created,
                      4);
}

static int db_pod_read(sqlite3_stmt *st, void *row)
{
        struct db_pod *ret = row;
        char **text[] = { &ret->id, &ret->sandbox, &ret->spec };

        *ret = (struct db_pod){ 0 };
        for (int i = 0; i < 3; i++) {
                const char *v = (const char *)sqlite3_column_text(st, i);

                *text[i] = strdup(v ? v : "");
                if (!*text[i]) {
                        db_pod_done(ret);
                        return -ENOMEM;
                }
        }
        ret->created = sqlite3_column_int64(st, 3);
        return 0;
}

static int db_pods_query(struct db *db, const char *sql, const char *arg, struct db_pod **ret, size_t *ret_n)
{
        void *a;
        size_t n;
        int r = db_rows(db, sql, &arg, arg ? 1 : 0, sizeof(**ret), db_pod_read, &a, &n);

        if (r < 0) {
                db_pod_free_array(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

#define DB_POD_COLUMNS "SELECT id, sandbox, spec, created FROM pods"

int db_pod_list(struct db *db, struct db_pod **ret, size_t *ret_n)
{
        return db_pods_query(db, DB_POD_COLUMNS " ORDER BY created DESC, id", NULL, ret, ret_n);
}

int db_pod_get(struct db *db, const char *id, struct db_pod *ret)
{
        struct db_pod *a = NULL;
        size_t n = 0;
        int r = db_pods_query(db, DB_POD_COLUMNS " WHERE id = ?1", id, &a, &n);

        if (r < 0)
                return r;
        if (n != 1) {
                db_pod_free_array(a, n);
                return -ENOENT;
        }
        *ret = a[0];
        free(a);
        return 0;
}

int db_pod_remove(struct db *db, const char *id)
{
        const char *args[] = { id, NULL };

        return db_run(db, "DELETE FROM pods WHERE id = ?1", args, 0, 0);
}

int db_member_add(struct db *db, const char *container, const char *pod)
{
        const char *args[] = { container, pod, NULL };

        return db_run(db, "INSERT INTO pod_members (container, pod) VALUES (?1, ?2)", args, 0, 0);
}

int db_member_remove(struct db *db, const char *container)
{
        const char *args[] = { container, NULL };

        return db_run(db, "DELETE FROM pod_members WHERE container = ?1", args, 0, 0);
}

int db_member_get(struct db *db, const char *container, struct db_member *ret)
{
        sqlite3_stmt *st = NULL;
        const char *pod;
        int rc, r = 0;

        *ret = (struct db_member){ 0 };
        pthread_mutex_lock(&db->lock);
        rc = sqlite3_prepare_v2(db->conn, "SELECT pod, restarts, stopped_by_user FROM pod_members WHERE container = ?1",
                                -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 1, container, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                pod = (const char *)sqlite3_column_text(st, 0);
                ret->pod = strdup(pod ? pod : "");
                ret->restarts = sqlite3_column_int64(st, 1);
                ret->stopped_by_user = sqlite3_column_int(st, 2) != 0;
                r = ret->pod ? 0 : -ENOMEM;
        } else
                r = rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->lock);
        return r;
}

int db_member_list(struct db *db, const char *pod, struct db_container **ret, size_t *ret_n)
{
        return db_containers_query(db,
                                   DB_CONTAINER_COLUMNS
                                   " WHERE id IN (SELECT container FROM pod_members WHERE pod = ?1) ORDER BY rowid",
                                   pod, ret, ret_n);
}

int db_member_set_restarts(struct db *db, const char *container, int64_t restarts)
{
        const char *args[] = { container, NULL };

        return db_run(db, "UPDATE pod_members SET restarts = ?2 WHERE container = ?1", args,
                      restarts, 2);
}

int db_member_set_stopped(struct db *db, const char *container, bool stopped)
{
        const char *args[] = { container, NULL };

        return db_run(db, "UPDATE pod_members SET stopped_by_user = ?2 WHERE container = ?1", args, stopped, 2);
}

/* ---- execs ---- */

void db_exec_done(struct db_exec *e)
{
        free(e->id);
        free(e->container_id);
        free(e->command);
        *e = (struct db_exec){ .exit_code = -1 };
}

void db_exec_free_array(struct db_exec *a, size_t n)
{
        for (size_t i = 0; a && i < n; i++)
                db_exec_done(&a[i]);
        free(a);
}

int db_exec_add(struct db *db, const struct db_exec *e)
{
        const char *text[] = { e->id, e->container_id, e->command };
        const int64_t ints[] = { e->tty, e->detach, e->created };
        int r;

        pthread_mutex_lock(&db->lock);
        r = db_run_locked(db,
                          "INSERT INTO execs (id, container_id, command, tty, detach, created) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          text, 3, ints, 3);
        pthread_mutex_unlock(&db->lock);
        return r;
}

static int db_exec_read(sqlite3_stmt *st, void *row)
{
        struct db_exec *e = row;
        const char *id = (const char *)sqlite3_column_text(st, 0), *ct = (const char *)sqlite3_column_text(st, 1),
                   *cmd = (const char *)sqlite3_column_text(st, 2);

        *e = (struct db_exec){
                .id = strdup(id ? id : ""),
                .container_id = strdup(ct ? ct : ""),
                .command = strdup(cmd ? cmd : "[]"),
                .tty = sqlite3_column_int(st, 3) != 0,
                .detach = sqlite3_column_int(st, 4) != 0,
                .created = sqlite3_column_int64(st, 5),
                .exit_code = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6),
        };
        if (!e->id || !e->container_id || !e->command) {
                db_exec_done(e);
                return -ENOMEM;
        }
        return 0;
}

static int db_execs_query(struct db *db, const char *sql, const char *arg, struct db_exec **ret, size_t *ret_n)
{
        void *a;
        size_t n;
        int r = db_rows(db, sql, &arg, 1, sizeof(**ret), db_exec_read, &a, &n);

        if (r < 0) {
                db_exec_free_array(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

#define DB_EXEC_COLUMNS "SELECT id, container_id, command, tty, detach, created, exit_code FROM execs"

int db_exec_get(struct db *db, const char *id, struct db_exec *ret)
{
        struct db_exec *a = NULL;
        size_t n = 0;
        int r = db_execs_query(db, DB_EXEC_COLUMNS " WHERE id = ?1", id, &a, &n);

        if (r >= 0 && n == 0)
                r = -ENOENT;
        if (r >= 0) {
                *ret = a[0];
                free(a);
                return 0;
        }
        db_exec_free_array(a, n);
        return r;
}

int db_exec_list(struct db *db, const char *container_id, struct db_exec **ret, size_t *ret_n)
{
        return db_execs_query(db, DB_EXEC_COLUMNS " WHERE container_id = ?1 ORDER BY created, rowid", container_id,
                              ret, ret_n);
}

int db_exec_set_exit(struct db *db, const char *id, int64_t exit_code)
{
        const char *args[] = { id, NULL };

        return db_run(db, "UPDATE execs SET exit_code = ?2 WHERE id = ?1", args, exit_code, 2);
}

int db_exec_remove(struct db *db, const char *id)
{
        const char *args[] = { id, NULL };

        return db_run(db, "DELETE FROM execs WHERE id = ?1", args, 0, 0);
}
