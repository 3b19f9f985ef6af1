/* SPDX-License-Identifier: Apache-2.0 */
#include "progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macros.h"

struct progress_layer {
        char short_id[13];
        enum progress_state state;
        uint64_t done, total;
};

struct progress {
        FILE *f;
        bool tty;
        pthread_mutex_t lock;
        struct progress_layer *layers;
        size_t n;
        size_t drawn; /* lines on screen from the last redraw */
        struct timespec last;
};

static const char *const progress_names[] = {
        [PROGRESS_WAITING] = "waiting",          [PROGRESS_DOWNLOADING] = "downloading",
        [PROGRESS_DOWNLOADED] = "downloaded",    [PROGRESS_EXISTS] = "already present",
        [PROGRESS_UNPACKING] = "unpacking",      [PROGRESS_DONE] = "done",
        [PROGRESS_FAILED] = "failed",
};

struct progress *progress_new(FILE *f, bool tty)
{
        struct progress *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        p->f = f;
        p->tty = tty;
        pthread_mutex_init(&p->lock, NULL);
        return p;
}

void progress_free(struct progress *p)
{
        if (!p)
                return;
        pthread_mutex_destroy(&p->lock);
        free(p->layers);
        free(p);
}

int progress_begin(struct progress *p, const char *title, char **digests, size_t n)
{
        pthread_mutex_lock(&p->lock);
        free(p->layers);
        p->layers = calloc(n + 1, sizeof(*p->layers));
        p->n = p->layers ? n : 0;
        p->drawn = 0;
        for (size_t i = 0; i < p->n; i++) {
                const char *d = digests[i] && strncmp(digests[i], "sha256:", 7) == 0 ? digests[i] + 7 : "";
                snprintf(p->layers[i].short_id, sizeof(p->layers[i].short_id), "%.12s", d);
        }
        if (title)
                fprintf(p->f, "image %s: %zu layers\n", title, n);
        fflush(p->f);
        pthread_mutex_unlock(&p->lock);
        return p->layers ? 0 : -ENOMEM;
}

static void progress_line(struct progress *p, const struct progress_layer *l)
{
        fprintf(p->f, "%s: %s", l->short_id, progress_names[l->state]);
        if (l->state == PROGRESS_DOWNLOADING && l->total > 0)
                fprintf(p->f, " %5.1f%% of %.1f MiB", 100.0 * (double)l->done / (double)l->total,
                        (double)l->total / (1024.0 * 1024.0));
        fputc('\n', p->f);
}

/* Redraws every line in place, at most ten times a second unless a state changed. */
static void progress_redraw(struct progress *p, bool force)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!force && (now.tv_sec - p->last.tv_sec) * 1000000000L + (now.tv_nsec - p->last.tv_nsec) < 100000000L)
                return;
        p->last = now;
        if (p->drawn > 0)
                fprintf(p->f, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n; i++) {
                fputs("\033[2K", p->f);
                progress_line(p, &p->layers[i]);
        }
        p->drawn = p->n;
        fflush(p->f);
}

void progress_update(struct progress *p, size_t index, enum progress_state state, uint64_t done, uint64_t total)
{
        struct progress_layer *l;
        bool changed;

        pthread_mutex_lock(&p->lock);
        if (index >= p->n) {
                pthread_mutex_unlock(&p->lock);
                return;
        }
        l = &p->layers[index];
        changed = l->state != state;
        l->state = state;
        if (state == PROGRESS_DOWNLOADING) {
                l->done = done;
                l->total = total;
        }
        if (p->tty)
                progress_redraw(p, changed);
        else if (changed)
                progress_line(p, l), fflush(p->f);
        pthread_mutex_unlock(&p->lock);
}

void progress_end(struct progress *p)
{
        pthread_mutex_lock(&p->lock);
        if (p->tty)
                progress_redraw(p, true);
        pthread_mutex_unlock(&p->lock);
}
