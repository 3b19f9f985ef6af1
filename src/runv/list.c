/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "runv.h"
#include "status.h"

static void list_table_row(const struct runv_state *st)
{
        printf("%-12s %-10d %-10s %-40s %-30s %s\n", st->id, st->status == RUNV_STOPPED ? 0 : (int)st->pid,
               state_status_to_string(st->status), st->bundle, st->created, "root");
}

/* runv list [--format table|json] [-q] */
int runv_cmd_list(int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' }, {}
        };
        _cleanup_(json_object_putp) struct json_object *all = json_object_new_array();
        const char *format = "table";
        bool quiet = false;
        struct dirent *de;
        DIR *d;
        int c;

        while ((c = getopt_long(argc, argv, "f:q", opts, NULL)) >= 0) {
                if (c == 'f')
                        format = optarg;
                else if (c == 'q')
                        quiet = true;
                else
                        return runv_error("usage: runv list [--format table|json] [-q]");
        }
        if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
                return runv_error("invalid format option %s", format);
        if (!quiet && strcmp(format, "table") == 0)
                printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        d = opendir(runv.root);
        while (d && (de = readdir(d))) {
                struct runv_state *st = NULL;
                if (de->d_name[0] == '.' || state_load(de->d_name, &st) < 0)
                        continue;
                if (quiet)
                        printf("%s\n", st->id);
                else if (strcmp(format, "table") == 0)
                        list_table_row(st);
                else
                        json_object_array_add(all, state_to_oci(st));
                state_free(st);
        }
        if (d)
                closedir(d);
        if (!quiet && strcmp(format, "json") == 0)
                printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}
