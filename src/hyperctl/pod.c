/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl pod ls|inspect|start|stop|rm: a pod's whole VM, as `podman pod` does
 * (docs/pods.md). Pods are made by `hyperctl run --podfile FILE`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hyperctl.h"
#include "json-util.h"

static char *pod_path(const char *id, const char *what)
{
        _cleanup_free_ char *e = hc_escape(id);
        char *p;

        if (!e || asprintf(&p, "/v1/pods/%s%s%s", e, what ? "/" : "", what ? what : "") < 0)
                return NULL;
        return p;
}

static void pod_row(struct json_object *p, bool quiet)
{
        const char *id = "?", *status = "?";
        struct json_object *cs = NULL;
        char names[256] = "";
        int64_t created = 0;
        size_t len = 0;

        json_get_string(p, "id", &id);
        if (quiet) {
                printf("%s\n", id);
                return;
        }
        json_get_string(p, "status", &status);
        json_get_int(p, "created", 0, INT64_MAX, &created);
        if (json_object_object_get_ex(p, "containers", &cs) && json_object_is_type(cs, json_type_array))
                for (size_t i = 0; i < json_object_array_length(cs) && len + 1 < sizeof(names); i++) {
                        const char *name = "?";

                        json_get_string(json_object_array_get_idx(cs, i), "name", &name);
                        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? "," : "", name);
                }
        printf("%-24s %-10s %-12lld %s\n", id, status, (long long)(time(NULL) - created), names);
}

static void pod_header(void)
{
        printf("%-24s %-10s %-12s %s\n", "POD ID", "STATUS", "AGE (S)", "CONTAINERS");
}

static int pod_ls(int argc, char **argv)
{
        static const struct hc_list l = {"hyperctl pod ls [-q]", "/v1/pods", "a pod list", pod_header, pod_row};

        return hc_list_cmd(argc, argv, &l);
}

static int pod_get(const char *id, struct json_object **ret)
{
        _cleanup_free_ char *path = pod_path(id, "json");

        if (!path)
                return hc_error("out of memory");
        return hc_get_json(path, ret);
}

static int pod_inspect(int argc, char **argv)
{
        if (argc < 2)
                return hc_usage_error("usage: hyperctl pod inspect POD...");
        return hc_inspect_each(argv + 1, argc - 1, pod_get);
}

/* start: one request per pod, each printed when done; goes on after a failure. A running pod is no error. */
static int pod_start(int argc, char **argv)
{
        if (getopt(argc, argv, "") >= 0)
                return HC_EXIT_USAGE;
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl pod start POD...");
        return hc_call_each("POST", "/v1/pods/", argv + optind, argc - optind, "/start");
}

/* stop [-t S] and rm [-f]: one request per pod, each printed when done; goes on after a failure. */
static int pod_each(int argc, char **argv, bool rm)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {"time", required_argument, NULL, 't'},
                                             {}};
        _cleanup_free_ char *suffix = NULL;
        const char *query = NULL;
        char tbuf[32];
        int c;

        while ((c = getopt_long(argc, argv, rm ? "f" : "t:", opts, NULL)) >= 0) {
                if (c == 'f')
                        query = "?force=1";
                else if (c == 't') {
                        snprintf(tbuf, sizeof(tbuf), "?t=%s", optarg);
                        query = tbuf;
                } else
                        return HC_EXIT_USAGE;
        }
        if (optind >= argc)
                return hc_usage_error(rm ? "usage: hyperctl pod rm [-f] POD..." : "usage: hyperctl pod stop [-t SECONDS] POD...");
        if (asprintf(&suffix, "%s%s", rm ? "" : "/stop", query ? query : "") < 0)
                return hc_error("out of memory");
        return hc_call_each(rm ? "DELETE" : "POST", "/v1/pods/", argv + optind, argc - optind, suffix);
}

int hc_cmd_pod(int argc, char **argv)
{
        const char *verb = argc > 1 ? argv[1] : "";

        /* The verb's own options start after it. */
        optind = 1;
        if (strcmp(verb, "ls") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "ps") == 0)
                return pod_ls(argc - 1, argv + 1);
        if (strcmp(verb, "inspect") == 0)
                return pod_inspect(argc - 1, argv + 1);
        if (strcmp(verb, "start") == 0)
                return pod_start(argc - 1, argv + 1);
        if (strcmp(verb, "stop") == 0)
                return pod_each(argc - 1, argv + 1, false);
        if (strcmp(verb, "rm") == 0)
                return pod_each(argc - 1, argv + 1, true);
        return hc_usage_error("usage: hyperctl pod ls|inspect|start|stop|rm ... (pods are made with hyperctl run --podfile FILE)");
}

/* run --podfile FILE: POSTs the file; prints the pod's id. */
int hc_run_podfile(const char *file)
{
        _cleanup_(json_object_putp) struct json_object *reply = NULL;
        _cleanup_free_ char *text = NULL;
        const char *id = NULL;
        size_t len = 0;
        FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
        int r;

        if (!f)
                return hc_error("cannot open %s: %m", file);
        text = malloc(HC_MAX_PODFILE + 1);
        if (text)
                len = fread(text, 1, HC_MAX_PODFILE + 1, f);
        if (f != stdin)
                fclose(f);
        if (!text)
                return hc_error("out of memory");
        if (len > HC_MAX_PODFILE)
                return hc_error("%s: a pod file is at most %u bytes", file, HC_MAX_PODFILE);
        text[len] = '\0';
        if (strlen(text) != len)
                return hc_error("%s: a pod file cannot hold NUL bytes", file);
        r = hc_call_json("POST", "/v1/pods", text, &reply);
        if (r != 0)
                return r;
        if (json_get_string(reply, "id", &id) < 0)
                return hc_error("hyperd's reply has no pod id");
        printf("%s\n", id);
        return 0;
}
