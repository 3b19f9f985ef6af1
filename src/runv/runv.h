/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * runv: the runc command line on top of Hyper's pods. One file per verb
 * (run.c, spec.c, ...), dispatched from the table in main.c.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "macros.h"
#include "oci-spec.h"

struct runv_globals {
        const char *root; /* state folder, one subfolder per container */
        const char *log;  /* --log FILE, or NULL */
        bool log_json;    /* --log-format json */
        bool debug;
        bool detached; /* a monitor whose stderr is the container's: errors go to --log only */
};

extern struct runv_globals runv;

struct runv_verb {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

/*
 * Reports an error the way runc does: a line on stderr, and with --log a
 * {"level":"error","msg":...,"time":...} line in the log file, which
 * containerd's shim reads when a command fails. Returns 1, runc's exit code
 * for its own errors.
 */
int runv_error(const char *fmt, ...) _printf_(1, 2);
void runv_debug(const char *fmt, ...) _printf_(1, 2);

/* Container ids: what runc accepts, letters, digits and "_+-.", not starting with '.'. */
bool runv_id_valid(const char *id);
/* ROOT/ID; the caller frees it. */
char *runv_state_dir(const char *id);

/* A bundle read and checked: absolute paths, and a spec with a process. */
struct runv_bundle {
        char *bundle;
        char *rootfs;
        struct oci_spec *spec;
};
/* These return 0 or runc's exit code 1 with the error already reported. */
int runv_bundle_load(const char *bundle, struct runv_bundle *ret);
void runv_bundle_free(struct runv_bundle *b);
int runv_claim_state(const char *id);
void runv_remove_state(const char *id);
/* Forks the container's monitor and waits until it says the container is created. */
int runv_spawn_monitor(const char *id, struct runv_bundle *b, const char *console_socket, const char *pid_file,
                       bool start);
/* Talking to a container's monitor (monitor.h has the messages). */
struct json_object;
struct runv_state;
int runv_monitor_connect(const char *id, int *ret_fd);
int runv_monitor_send(int fd, struct json_object *req, const int *fds, size_t n_fds);
int runv_monitor_recv(int fd, struct json_object **ret);
/* One request and its reply; -EREMOTEIO with the monitor's message in *ret_error. */
int runv_monitor_call(const char *id, struct json_object *req, char **ret_error, struct json_object **ret_reply);
int runv_monitor_op(const char *id, const char *op, char **ret_error);
/* The same for a container by its state: a container in another's pod is served by that pod's monitor. */
const char *runv_monitor_of(const struct runv_state *st);
int runv_state_call(const struct runv_state *st, struct json_object *req, char **ret_error,
                    struct json_object **ret_reply);
int runv_state_op(const struct runv_state *st, const char *op, char **ret_error);
/* runv_state_call for a command's exit code: "container not running" when its monitor is gone, else its message. */
int runv_state_request(const struct runv_state *st, struct json_object *req);
int runv_wait_exit(int sock, bool forward);
/* The same; with tty (>= 0), a SIGWINCH sends tty's size to the process's terminal in the guest. */
int runv_wait_exit_tty(int sock, bool forward, int tty);
/* The state of a container that must exist; reports "container X does not exist" otherwise. */
int runv_load_existing(const char *id, struct runv_state **ret);

/* Opens a host pty, sends its master to the client's console socket, and hands back the slave. */
int runv_console_send(const char *console_socket, int *ret_slave);

/* The id of the container whose VM a spec asks to join (CRI annotations, namespace paths), or NULL. */
char *runv_join_target(const struct oci_spec *spec);
/* Like runv_spawn_monitor, for a container that joins the VM of pod. */
int runv_spawn_member(const char *id, struct runv_bundle *b, const char *console_socket, const char *pid_file,
                      const char *pod, bool start);

/*
 * Forks a process that stands for a container or a process to clients: fn
 * runs in the child and writes "ok" (or what went wrong) to ready_fd once
 * set up. The parent returns when it hears, after writing the child's pid
 * to pid_file on success; on failure it reports the child's message.
 */
typedef _noreturn_ void (*runv_child_fn)(void *userdata, int ready_fd);
int runv_spawn(runv_child_fn fn, void *userdata, const char *pid_file, const char *what);
int runv_write_pid_file(const char *path, pid_t pid);
/* Points fds 0-2 at /dev/null: a child that holds none of the client's stdio. */
void runv_drop_stdio(void);

/* Parses a signal as runc does: a number, or a name with or without SIG. */
int runv_parse_signal(const char *s);

int runv_cmd_create(int argc, char **argv);
int runv_cmd_delete(int argc, char **argv);
int runv_cmd_exec(int argc, char **argv);
int runv_cmd_features(int argc, char **argv);
int runv_cmd_kill(int argc, char **argv);
int runv_cmd_list(int argc, char **argv);
int runv_cmd_mount_block(int argc, char **argv);
int runv_cmd_umount_block(int argc, char **argv);
int runv_cmd_pause(int argc, char **argv);
int runv_cmd_ps(int argc, char **argv);
int runv_cmd_resume(int argc, char **argv);
int runv_cmd_run(int argc, char **argv);
int runv_cmd_spec(int argc, char **argv);
int runv_cmd_start(int argc, char **argv);
int runv_cmd_state(int argc, char **argv);
