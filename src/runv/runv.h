/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * runv: the runc command line on top of Hyper's pods. One file per verb
 * (run.c, spec.c, ...), dispatched from the table in main.c.
 */

#include <stdbool.h>

#include "macros.h"

struct runv_globals {
        const char *root; /* state folder, one subfolder per container */
        const char *log;  /* --log FILE, or NULL */
        bool log_json;    /* --log-format json */
        bool debug;
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

int runv_cmd_run(int argc, char **argv);
int runv_cmd_spec(int argc, char **argv);
