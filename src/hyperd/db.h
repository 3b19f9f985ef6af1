/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hyperd's state in SQLite (ROOT/hyperd.db). The schema has a version,
 * kept in the one-row table schema_version; db_open() applies each
 * migration the file lacks, in order, one transaction each, and refuses a
 * file made by a newer hyperd. To change the schema, append a migration
 * to db_migrations[] in db.c; never edit one that has shipped.
 *
 * Version 1:
 *   daemon(key TEXT PRIMARY KEY, value TEXT NOT NULL)
 *       "id" (random, made once), "created", "last-start", "starts"
 *   image_refs(ref TEXT PRIMARY KEY, image_id TEXT NOT NULL, seen INTEGER NOT NULL)
 *       the names the image store had after hyperd's last change to it;
 *       the store's images.json stays the truth (docs/image-store.md).
 *
 * Version 2:
 *   containers(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image TEXT NOT NULL,
 *              image_id TEXT NOT NULL, command TEXT NOT NULL, created INTEGER NOT NULL,
 *              auto_remove INTEGER NOT NULL DEFAULT 0)
 *       one row per container hyperd made; command is the process's argv as
 *       a JSON array. The container's status and exit code are runv's
 *       (its state root), never copied here, so that nothing goes stale.
 *
 * Version 3:
 *   volumes(name TEXT PRIMARY KEY, created INTEGER NOT NULL)
 *       the named volumes hyperd keeps (ROOT/volumes/NAME).
 *   container_volumes(container_id REFERENCES containers(id) ON DELETE CASCADE,
 *                     kind TEXT, source TEXT, destination TEXT, readonly INTEGER,
 *                     format TEXT, PRIMARY KEY (container_id, destination))
 *       what each container has mounted: kind "bind" (source: a host path),
 *       "volume" (a volume name) or "block" (a disk image file, format raw or
 *       qcow2). A named volume with rows here is in use; a block file with a
 *       row is attached and is not attached again. Rows go with the container.
 *
 * Version 4:
 *   pods(id TEXT PRIMARY KEY, sandbox TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, created INTEGER NOT NULL)
 *       one row per pod (docs/pods.md): its id (the pod file's), the runv
 *       id of its sandbox container, the pod file in canonical form.
 *   pod_members(container TEXT PRIMARY KEY, pod TEXT NOT NULL, restarts INTEGER NOT NULL DEFAULT 0,
 *               stopped_by_user INTEGER NOT NULL DEFAULT 0)
 *       the containers (rows of containers) that run in a pod, how often
 *       the exit watcher restarted each, and whether a user stopped it
 *       (so that the pod's restart policy leaves it stopped).
 *
 * Version 5:
 *   execs(id TEXT PRIMARY KEY, container_id REFERENCES containers(id) ON DELETE CASCADE,
 *         command TEXT NOT NULL, tty INTEGER NOT NULL, detach INTEGER NOT NULL,
 *         created INTEGER NOT NULL, exit_code INTEGER)
 *       one row per exec made through a shim (interactive or detached):
 *       command is its argv as a JSON array; exit_code is NULL until hyperd
 *       has read it from the shim's exit file (B/exec/EID/exit, which stays
 *       the source), then kept. Rows go with their container.
 *
 * One connection serves all threads: each call takes the
 * connection's mutex for its statements.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

struct db;

int db_open(const char *path, struct db **ret, char **ret_error);
void db_close(struct db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct db *, db_close)

/* The version of the file (after migrations, the latest one). */
int db_schema_version(struct db *db, int *ret);
int db_latest_version(void);

int db_daemon_get(struct db *db, const char *key, char **ret);
int db_daemon_set(struct db *db, const char *key, const char *value);
/* Records a start: makes "id" and "created" the first time, bumps "starts". */
int db_daemon_started(struct db *db);

/* Replaces every image reference with n (ref, id) pairs, in one transaction. */
int db_image_refs_replace(struct db *db, char *const *refs, char *const *ids, size_t n);
int db_image_refs_count(struct db *db, uint64_t *ret);
/* The image id a reference had, or -ENOENT. */
int db_image_ref_get(struct db *db, const char *ref, char **ret_id);

struct db_container {
        char *id, *name, *image, *image_id;
        char *command; /* JSON array */
        int64_t created;
        bool auto_remove;
};

void db_container_done(struct db_container *c);
void db_container_free_array(struct db_container *a, size_t n);
/* -EEXIST when the id or the name is taken. */
int db_container_add(struct db *db, const struct db_container *c);
/* Newest first. */
int db_container_list(struct db *db, struct db_container **ret, size_t *ret_n);
/* By full id, name, or a unique id prefix of 4 hex digits or more; -ENOENT, or -ENOTUNIQ when ambiguous. */
int db_container_get(struct db *db, const char *key, struct db_container *ret);
int db_container_remove(struct db *db, const char *id);

struct db_volume {
        char *name;
        int64_t created;
};

void db_volume_free_array(struct db_volume *a, size_t n);
/* 0 when made, -EEXIST when it was there already. */
int db_volume_add(struct db *db, const char *name, int64_t created);
/* -ENOENT when there is none. */
int db_volume_get(struct db *db, const char *name, struct db_volume *ret);
/* By name. */
int db_volume_list(struct db *db, struct db_volume **ret, size_t *ret_n);
/* Removes the row unless a container uses the volume: -EBUSY then, -ENOENT when there is none. */
int db_volume_remove(struct db *db, const char *name);

struct db_container_volume {
        char *container_id;
        char *kind; /* "bind", "volume" or "block" */
        char *source, *destination;
        bool readonly;
        char *format; /* block volumes: "raw" or "qcow2"; NULL otherwise */
};

void db_container_volume_free_array(struct db_container_volume *a, size_t n);
/* -EEXIST when the container has something at that destination already; -ENOENT when there is no such container. */
int db_container_volume_add(struct db *db, const struct db_container_volume *v);
/* A block row, added only if no container has that file attached: -EBUSY otherwise. */
int db_container_volume_add_block(struct db *db, const struct db_container_volume *v);
/*
 * Records a container's use of the named volume v->source, making the
 * volume's row (created then) if it has none, in one transaction, so that
 * `volume rm` sees it either unused and gone, or in use. *ret_created says
 * whether this call made the volume.
 */
int db_container_volume_add_named(struct db *db, const struct db_container_volume *v, int64_t created,
                                  bool *ret_created);
int db_container_volume_remove(struct db *db, const char *container_id, const char *destination);
/* A container's rows, or (container_id NULL) the rows with that kind and source; by destination. */
int db_container_volumes(struct db *db, const char *container_id, const char *kind, const char *source,
                         struct db_container_volume **ret, size_t *ret_n);
struct db_pod {
        char *id, *sandbox;
        char *spec; /* the pod file, canonical (pod_spec_to_json) */
        int64_t created;
};

void db_pod_done(struct db_pod *p);
void db_pod_free_array(struct db_pod *a, size_t n);
/* -EEXIST when the id is taken. */
int db_pod_add(struct db *db, const struct db_pod *p);
/* Newest first. */
int db_pod_list(struct db *db, struct db_pod **ret, size_t *ret_n);
/* By id; -ENOENT. */
int db_pod_get(struct db *db, const char *id, struct db_pod *ret);
int db_pod_remove(struct db *db, const char *id);

struct db_member {
        char *pod;
        int64_t restarts;
        bool stopped_by_user;
};

/* A container joins a pod; -EEXIST when it is in one. */
int db_member_add(struct db *db, const char *container, const char *pod);
int db_member_remove(struct db *db, const char *container);
/* -ENOENT when the container is in no pod; free ret->pod. */
int db_member_get(struct db *db, const char *container, struct db_member *ret);
/* The pod's containers, oldest first. */
int db_member_list(struct db *db, const char *pod, struct db_container **ret, size_t *ret_n);
int db_member_set_restarts(struct db *db, const char *container, int64_t restarts);
int db_member_set_stopped(struct db *db, const char *container, bool stopped);

struct db_exec {
        char *id, *container_id;
        char *command; /* JSON array */
        bool tty, detach;
        int64_t created;
        int64_t exit_code; /* -1: not known yet */
};

void db_exec_done(struct db_exec *e);
void db_exec_free_array(struct db_exec *a, size_t n);
/* -EEXIST when the id is taken; -ENOENT when there is no such container. */
int db_exec_add(struct db *db, const struct db_exec *e);
/* By full id; -ENOENT. */
int db_exec_get(struct db *db, const char *id, struct db_exec *ret);
/* A container's execs, oldest first. */
int db_exec_list(struct db *db, const char *container_id, struct db_exec **ret, size_t *ret_n);
int db_exec_set_exit(struct db *db, const char *id, int64_t exit_code);
int db_exec_remove(struct db *db, const char *id);
