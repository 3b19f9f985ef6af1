/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers, as hyperd makes them: a row in the database, an OCI bundle
 * under ROOT/containers/ID (config.json, log, pid), an overlay rootfs from
 * the image store, and runv's state under its root. Nothing is kept in
 * hyperd's memory: the status and the exit code are runv's, read each
 * time, so a restarted hyperd finds every container as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "container-spec.h"
#include "container-io.h"
#include "containers.h"
#include "error-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "image-store.h"
#include "json-util.h"
#include "log.h"
#include "rootfs.h"

#define CONTAINER_MAX_STATE       (1024 * 1024)
#define CONTAINER_MAX_RUNV_OUTPUT (64 * 1024)

char *container_bundle(struct hyperd *hd, const char *id, const char *file)
{
        char *p;

        if (asprintf(&p, "%s/containers/%s%s%s", hd->config->root, id, file ? "/" : "", file ? file : "") < 0)
                return NULL;
        return p;
}

static struct runv_driver ct_driver(struct hyperd *hd)
{
        return (struct runv_driver){.runv = hd->runv, .root = hd->config->runv_root};
}

/* Runs one runv verb with its output collected. */
static int ct_runv(struct hyperd *hd, char **args, struct runv_result *ret)
{
        struct runv_driver d = ct_driver(hd);
        struct runv_call call = {
                .args = args, .out_fd = -1, .err_fd = -1, .max = CONTAINER_MAX_RUNV_OUTPUT, .cancel_fd = -1};

        if (!hd->runv)
                return -ENOENT;
        return runv_driver_run(&d, &call, ret);
}

/* The exit code runv recorded in ROOT/ID/state.json; -1 when none. */
static int ct_exit_code(struct hyperd *hd, const char *id)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        int64_t code = -1;
        size_t len;

        if (asprintf(&path, "%s/%s/state.json", hd->config->runv_root, id) < 0 ||
            read_full_file(path, CONTAINER_MAX_STATE, &text, &len) < 0 || json_parse_object(text, len, &o) < 0)
                return -1;
        json_get_int(o, "exitCode", -1, 255, &code);
        return (int)code;
}

static int ct_state_parse(struct runv_result *res, struct container_status *ret)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        const char *status = NULL;
        int64_t pid = 0;

        if (!res->out || json_parse_object(res->out, res->out_len, &o) < 0 || json_get_string(o, "status", &status) < 0)
                return -EBADMSG;
        json_get_int(o, "pid", 0, INT32_MAX, &pid);
        snprintf(ret->status, sizeof(ret->status), "%s", status);
        ret->pid = (pid_t)pid;
        return 0;
}

int container_state(struct hyperd *hd, const char *id, struct container_status *ret)
{
        char *args[] = {(char *)"state", (char *)id, NULL};
        struct runv_result res;
        int r;

        *ret = (struct container_status){.exit_code = -1};
        r = ct_runv(hd, args, &res);
        if (r < 0)
                return r;
        /* runv has no state for it (a reboot emptied its root, or a removal was cut short). */
        if (res.status != 0 || ct_state_parse(&res, ret) < 0)
                snprintf(ret->status, sizeof(ret->status), "unknown");
        if (strcmp(ret->status, "stopped") == 0)
                ret->exit_code = ct_exit_code(hd, id);
        runv_result_done(&res);
        return 0;
}

bool container_is_live(const struct container_status *s)
{
        return strcmp(s->status, "stopped") != 0 && strcmp(s->status, "unknown") != 0;
}

/* Waits for pid (not our child) to end: 1 when it did, 0 on timeout, -ECANCELED when cancel_fd hung up. */
static int ct_wait_pid(pid_t pid, int timeout_ms, int cancel_fd)
{
        _cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        struct pollfd p[2] = {{.fd = pfd, .events = POLLIN}, {.fd = cancel_fd, .events = POLLRDHUP}};
        int n;

        if (pfd < 0)
                return errno == ESRCH ? 1 : -errno;
        do
                n = poll(p, 2, timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (p[0].revents)
                return 1;
        if (p[1].revents)
                return -ECANCELED;
        return 0;
}

int container_wait(struct hyperd *hd, const char *id, int timeout_ms, int cancel_fd, struct container_status *ret)
{
        struct timespec start, now;
        int r, left = timeout_ms;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                r = container_state(hd, id, ret);
                if (r < 0 || !container_is_live(ret))
                        return r;
                if (ret->pid <= 0)
                        r = ct_wait_pid(0, 100, cancel_fd) == -ECANCELED ? -ECANCELED : 0;
                else
                        r = ct_wait_pid(ret->pid, left, cancel_fd);
                if (r < 0)
                        return r;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (timeout_ms >= 0) {
                        left = timeout_ms -
                               (int)((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
                        if (left <= 0)
                                return container_state(hd, id, ret) < 0 || container_is_live(ret) ? -ETIMEDOUT : 0;
                }
        }
}

int container_signal(struct hyperd *hd, const char *id, int sig, char **ret_error)
{
        char signame[16], *args[] = {(char *)"kill", (char *)id, signame, NULL};
        struct runv_result res;
        int r;

        snprintf(signame, sizeof(signame), "%d", sig);
        r = ct_runv(hd, args, &res);
        if (r < 0)
                return error_set(ret_error, r, "cannot run runv: %s", strerror(-r));
        if (res.status != 0)
                r = error_set(ret_error, -EBUSY, "cannot signal container %s: %s", id,
                              runv_result_message(&res) ? runv_result_message(&res) : "runv kill failed");
        runv_result_done(&res);
        return r;
}

int container_stop(struct hyperd *hd, const char *id, int timeout_s, struct container_status *ret)
{
        int r;

        r = container_state(hd, id, ret);
        if (r < 0 || !container_is_live(ret))
                return r;
        if (container_signal(hd, id, SIGTERM, NULL) >= 0) {
                r = container_wait(hd, id, timeout_s * 1000, -1, ret);
                if (r != -ETIMEDOUT)
                        return r;
        }
        log_info("container %s did not stop in %d s: killing it", id, timeout_s);
        container_signal(hd, id, SIGKILL, NULL);
        return container_wait(hd, id, 10000, -1, ret);
}

/* runv delete --force, the network, the rootfs, the bundle, the row: each step tolerates one already done. */
int container_remove(struct hyperd *hd, const char *id, char **ret_error)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        char *args[] = {(char *)"delete", (char *)"--force", (char *)id, NULL};
        _cleanup_free_ char *bundle = container_bundle(hd, id, NULL), *error = NULL;
        struct runv_result res;
        int r;

        if (!bundle)
                return -ENOMEM;
        r = ct_runv(hd, args, &res);
        if (r >= 0 && res.status != 0)
                r = error_set(ret_error, -EIO, "cannot delete container %s: %s", id,
                              runv_result_message(&res) ? runv_result_message(&res) : "runv delete failed");
        runv_result_done(&res);
        if (r < 0)
                return r;
        /* The monitor is gone, so its output has ended: the shim writes the last of it and ends. */
        container_shims_wait(bundle, 5000);
        container_net_remove(hd, id);
        r = image_store_open(hd->config->root, &s, ret_error);
        if (r < 0)
                return r;
        r = image_rootfs_remove(s, id, &error);
        if (r < 0 && r != -ENOENT)
                return error_set(ret_error, r, "%s", error ? error : strerror(-r));
        r = rm_rf(bundle);
        if (r < 0)
                return error_set(ret_error, r, "cannot remove %s: %s", bundle, strerror(-r));
        db_member_remove(hd->db, id);
        return db_container_remove(hd->db, id);
}

static int ct_restart(struct hyperd *hd, const char *id, bool reattach, char **ret_error);

int container_restart(struct hyperd *hd, const char *id, char **ret_error)
{
        return ct_restart(hd, id, false, ret_error);
}

int container_restart_reattach(struct hyperd *hd, const char *id, char **ret_error)
{
        return ct_restart(hd, id, true, ret_error);
}

static int ct_restart(struct hyperd *hd, const char *id, bool reattach, char **ret_error)
{
        char *args[] = {(char *)"delete", (char *)"--force", (char *)id, NULL};
        struct runv_result res;
        int r;

        r = ct_runv(hd, args, &res);
        if (r >= 0 && res.status != 0)
                r = error_set(ret_error, -EIO, "cannot delete container %s: %s", id,
                              runv_result_message(&res) ? runv_result_message(&res) : "runv delete failed");
        runv_result_done(&res);
        if (r < 0)
                return r;
        return reattach ? container_runv_start_reattach(hd, id, ret_error) : container_runv_start(hd, id, ret_error);
}
