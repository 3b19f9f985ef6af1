/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exit watcher: a thread of hyperd that, every WATCH_INTERVAL_MS,
 * looks at the containers that need something done when they end: those
 * with autoRemove (`run -d --rm`), removed once ended, and those of a pod
 * whose restart policy is "always" or "onFailure", started again in the
 * pod. Nothing is kept in memory but the clients waiting: what ended
 * while hyperd was down is found by the first pass after a start.
 *
 * A container a client waits for (POST .../wait) is left alone until the
 * client has its exit code; a pod's container a user stopped, or one in a
 * pod that is not running, is not restarted.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "log.h"
#include "pods.h"

#define WATCH_INTERVAL_MS 500
#define WATCH_MAX_HELD    1024
/* Restarts back off as Docker's do: 0.5 s, doubled up to 30 s while a container lasts under 10 s. */
#define WATCH_BACKOFF_FIRST_MS 500
#define WATCH_BACKOFF_MAX_MS   30000
#define WATCH_BACKOFF_RESET_MS 10000
#define WATCH_MAX_BACKOFF      256

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t watch_change_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond = PTHREAD_COND_INITIALIZER;
static bool watch_quit;
static bool watch_running;
static pthread_t watch_thread;
/* Ids that clients wait for, with repeats (two clients, two entries); each until a time, or 0: until released. */
static char *watch_held[WATCH_MAX_HELD];
static int64_t watch_held_until[WATCH_MAX_HELD];

/* The containers restarted lately (the watcher's thread only); in memory: a new hyperd starts afresh. */
struct watch_backoff {
        char id[CONTAINER_ID_LEN + 1];
        int64_t restarted_ms; /* when it was last started again */
        int64_t next_ms;      /* not again before */
        int64_t delay_ms;
};
static struct watch_backoff watch_backoffs[WATCH_MAX_BACKOFF];

static int64_t watch_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The container's entry; a new one (the least recently restarted's slot) when it has none. */
static struct watch_backoff *watch_backoff_get(const char *id)
{
        struct watch_backoff *oldest = &watch_backoffs[0];

        for (size_t i = 0; i < WATCH_MAX_BACKOFF; i++) {
                if (strcmp(watch_backoffs[i].id, id) == 0)
                        return &watch_backoffs[i];
                if (watch_backoffs[i].restarted_ms < oldest->restarted_ms)
                        oldest = &watch_backoffs[i];
        }
        *oldest = (struct watch_backoff){0};
        snprintf(oldest->id, sizeof(oldest->id), "%s", id);
        return oldest;
}

/* After a restart: the wait before the next one. */
static void watch_backoff_restarted(struct watch_backoff *b, int64_t now)
{
        if (b->restarted_ms && now - b->restarted_ms < WATCH_BACKOFF_RESET_MS)
                b->delay_ms = b->delay_ms ? MIN(b->delay_ms * 2, WATCH_BACKOFF_MAX_MS) : WATCH_BACKOFF_FIRST_MS;
        else
                b->delay_ms = 0;
        b->restarted_ms = now;
        b->next_ms = now + b->delay_ms;
}

void pods_lock(void)
{
        pthread_mutex_lock(&watch_change_lock);
}

void pods_unlock(void)
{
        pthread_mutex_unlock(&watch_change_lock);
}

void watcher_hold(const char *id)
{
        pthread_mutex_lock(&watch_lock);
        for (size_t i = 0; i < WATCH_MAX_HELD; i++)
                if (!watch_held[i]) {
                        watch_held[i] = strdup(id);
                        watch_held_until[i] = 0;
                        break;
                }
        pthread_mutex_unlock(&watch_lock);
}

/* An entry of id held until released (not one already on its way out). */
static ssize_t watch_find_held_locked(const char *id)
{
        for (size_t i = 0; i < WATCH_MAX_HELD; i++)
                if (watch_held[i] && watch_held_until[i] == 0 && strcmp(watch_held[i], id) == 0)
                        return (ssize_t)i;
        return -1;
}

void watcher_release(const char *id)
{
        ssize_t i;

        pthread_mutex_lock(&watch_lock);
        i = watch_find_held_locked(id);
        if (i >= 0) {
                free(watch_held[i]);
                watch_held[i] = NULL;
        }
        pthread_mutex_unlock(&watch_lock);
}

void watcher_release_after(const char *id, int ms)
{
        ssize_t i;

        pthread_mutex_lock(&watch_lock);
        i = watch_find_held_locked(id);
        if (i >= 0)
                watch_held_until[i] = watch_now_ms() + MAX(ms, 1);
        pthread_mutex_unlock(&watch_lock);
}

static bool watch_is_held(const char *id)
{
        int64_t now = watch_now_ms();
        bool held = false;

        pthread_mutex_lock(&watch_lock);
        for (size_t i = 0; i < WATCH_MAX_HELD; i++) {
                if (!watch_held[i])
                        continue;
                if (watch_held_until[i] != 0 && now >= watch_held_until[i]) {
                        free(watch_held[i]);
                        watch_held[i] = NULL;
                } else if (strcmp(watch_held[i], id) == 0)
                        held = true;
        }
        pthread_mutex_unlock(&watch_lock);
        return held;
}

/*
 * The restart policy for a container of the pod: the pod's for the pod file's containers (POD-NAME),
 * "never" for one added later with run --pod, which its client may be about to remove. -ENOENT when the
 * pod is gone or not running.
 */
static int watch_pod_policy(struct hyperd *hd, const char *pod, const char *name, enum pod_restart_policy *ret)
{
        _cleanup_(pod_spec_freep) struct pod_spec *spec = NULL;
        _cleanup_(db_pod_done) struct db_pod p = {0};
        size_t plen = strlen(pod);
        int r;

        r = db_pod_get(hd->db, pod, &p);
        if (r < 0)
                return r;
        if (strcmp(pod_status(hd, &p), "running") != 0)
                return -ENOENT;
        r = pod_spec_parse(p.spec, strlen(p.spec), &spec, NULL);
        if (r < 0)
                return r;
        *ret = POD_RESTART_NEVER;
        for (size_t i = 0; i < spec->n_containers; i++)
                if (strncmp(name, pod, plen) == 0 && name[plen] == '-' &&
                    strcmp(name + plen + 1, spec->containers[i].name) == 0)
                        *ret = spec->restart_policy;
        return 0;
}

static bool watch_wants_restart(enum pod_restart_policy policy, const struct container_status *st)
{
        if (strcmp(st->status, "stopped") != 0)
                return false;
        return policy == POD_RESTART_ALWAYS || (policy == POD_RESTART_ON_FAILURE && st->exit_code != 0);
}

/* A pod's container that ended: started again when the policy says so. True when it was, or will be after its back-off. */
static bool watch_member(struct hyperd *hd, const struct db_container *c, const struct db_member *m,
                         const struct container_status *st)
{
        _cleanup_free_ char *error = NULL;
        enum pod_restart_policy policy;
        struct watch_backoff *b;
        int64_t now = watch_now_ms();
        int r;

        if (m->stopped_by_user || watch_pod_policy(hd, m->pod, c->name, &policy) < 0 || !watch_wants_restart(policy, st))
                return false;
        b = watch_backoff_get(c->id);
        if (now < b->next_ms)
                return true;
        r = container_restart(hd, c->id, &error);
        if (r < 0) {
                log_warning("pod %s: cannot restart container %s: %s", m->pod, c->name,
                            error ? error : strerror(-r));
                return false;
        }
        watch_backoff_restarted(b, now);
        db_member_set_restarts(hd->db, c->id, m->restarts + 1);
        log_info("pod %s: restarted container %s (exit code %d, restart %lld; the next not before %lld ms)", m->pod,
                 c->name, st->exit_code, (long long)m->restarts + 1, (long long)b->delay_ms);
        return true;
}

static void watch_one_locked(struct hyperd *hd, const struct db_container *c)
{
        _cleanup_free_ char *error = NULL;
        struct container_status st;
        struct db_member m = {0};
        bool member;
        int r;

        member = db_member_get(hd->db, c->id, &m) >= 0;
        if ((!member && !c->auto_remove) || watch_is_held(c->id) || container_state(hd, c->id, &st) < 0 ||
            container_is_live(&st) || strcmp(st.status, "creating") == 0)
                goto out;
        if (member && watch_member(hd, c, &m, &st))
                goto out;
        if (!c->auto_remove)
                goto out;
        r = container_remove(hd, c->id, &error);
        if (r < 0)
                log_warning("cannot remove container %s, which ended: %s", c->name, error ? error : strerror(-r));
        else
                log_info("removed container %s, which ended (autoRemove)", c->id);
out:
        free(m.pod);
}

/* What a user did meanwhile (a stop, a removal) is seen: everything is read again under the lock. */
static void watch_one(struct hyperd *hd, const struct db_container *c)
{
        struct container_status st;
        struct db_container again;
        struct db_member m;

        if (!c->auto_remove) {
                if (db_member_get(hd->db, c->id, &m) < 0)
                        return;
                free(m.pod);
        }
        if (container_state(hd, c->id, &st) < 0 || container_is_live(&st))
                return;
        pods_lock();
        if (db_container_get(hd->db, c->id, &again) >= 0) {
                watch_one_locked(hd, &again);
                db_container_done(&again);
        }
        pods_unlock();
}

static void watch_pass(struct hyperd *hd)
{
        struct db_container *a = NULL;
        size_t n = 0;

        if (db_container_list(hd->db, &a, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                watch_one(hd, &a[i]);
        db_container_free_array(a, n);
}

static void *watch_main(void *userdata)
{
        struct hyperd *hd = userdata;
        struct timespec until;

        pthread_mutex_lock(&watch_lock);
        while (!watch_quit) {
                pthread_mutex_unlock(&watch_lock);
                watch_pass(hd);
                pthread_mutex_lock(&watch_lock);
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_nsec += WATCH_INTERVAL_MS * 1000000L;
                until.tv_sec += until.tv_nsec / 1000000000L;
                until.tv_nsec %= 1000000000L;
                if (!watch_quit)
                        pthread_cond_timedwait(&watch_cond, &watch_lock, &until);
        }
        pthread_mutex_unlock(&watch_lock);
        return NULL;
}

int watcher_start(struct hyperd *hd)
{
        int r;

        if (!hd->runv)
                return 0;
        r = -pthread_create(&watch_thread, NULL, watch_main, hd);
        if (r < 0)
                return log_error_errno(r, "cannot start the exit watcher");
        watch_running = true;
        return 0;
}

void watcher_stop(void)
{
        if (!watch_running)
                return;
        pthread_mutex_lock(&watch_lock);
        watch_quit = true;
        pthread_cond_signal(&watch_cond);
        pthread_mutex_unlock(&watch_lock);
        pthread_join(watch_thread, NULL);
        watch_running = false;
}
