/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperctl.h"

struct hc_verb {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

static const struct hc_verb hc_verbs[] = {
        { "version", hc_cmd_version, "show the versions of hyperctl and hyperd" },
        { "info", hc_cmd_info, "show what hyperd serves and would boot" },
        { "images", hc_cmd_images, "list images" },
        { "pull", hc_cmd_pull, "pull an image from a registry" },
        { "rmi", hc_cmd_rmi, "remove images" },
        { "load", hc_cmd_load, "load images from a docker save or OCI archive" },
        { "save", hc_cmd_save, "save an image to an archive" },
        { "tag", hc_cmd_tag, "give an image another name" },
        { "inspect", hc_cmd_inspect, "show containers' or images' records as JSON" },
        { "run", hc_cmd_run, "run a command in a new container, in its own VM" },
        { "create", hc_cmd_create, "make a container without starting it" },
        { "start", hc_cmd_start, "start created containers (-a: and attach)" },
        { "attach", hc_cmd_attach, "attach to a running container's streams" },
        { "ps", hc_cmd_ps, "list containers" },
        { "logs", hc_cmd_logs, "print a container's output" },
        { "exec", hc_cmd_exec, "run a command in a running container" },
        { "stop", hc_cmd_stop, "stop containers (SIGTERM, then SIGKILL)" },
        { "kill", hc_cmd_kill, "send a signal to containers" },
        { "rm", hc_cmd_rm, "remove containers" },
        { "volume", hc_cmd_volume, "manage named volumes; attach disk images to running containers" },
        { "pod", hc_cmd_pod, "list, inspect, stop and remove pods (made by run --podfile)" },
};

static void hc_usage(FILE *f)
{
        fprintf(f, "Usage: hyperctl [-H unix:///PATH] COMMAND [options] [arguments]\n\n"
                   "Talks to hyperd.\n\nCommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(hc_verbs); i++)
                fprintf(f, "  %-8s %s\n", hc_verbs[i].name, hc_verbs[i].summary);
        fprintf(f, "\nGlobal options:\n"
                   "  -H, --host unix:///PATH  hyperd's socket (default $HYPER_HOST, else unix://" HC_DEFAULT_SOCKET ")\n"
                   "  -v, --version            print the version\n"
                   "  -h, --help               print this help\n");
}

/* "unix:///path" or "/path"; nothing else is a transport hyperd serves. */
static int hc_set_host(const char *h)
{
        if (strncmp(h, "unix://", 7) == 0)
                h += 7;
        if (h[0] != '/')
                return hc_usage_error("host \"%s\" is not unix:///PATH", h);
        hc_socket = h;
        return 0;
}

static int hc_dispatch(int argc, char **argv)
{
        for (size_t i = 0; i < ARRAY_SIZE(hc_verbs); i++) {
                if (strcmp(argv[optind], hc_verbs[i].name) != 0)
                        continue;
                /* Each verb parses its own options, with its name as argv[0]. */
                argc -= optind;
                argv += optind;
                optind = 0;
                return hc_verbs[i].run(argc, argv);
        }
        return hc_usage_error("unknown command \"%s\"; see hyperctl --help", argv[optind]);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "host", required_argument, NULL, 'H' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *env = getenv("HYPER_HOST");
        int c, r;

        if (env && *env && hc_set_host(env) != 0)
                return HC_EXIT_USAGE;
        while ((c = getopt_long(argc, argv, "+H:vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'H':
                        if (hc_set_host(optarg) != 0)
                                return HC_EXIT_USAGE;
                        break;
                case 'v':
                        printf("hyperctl version %s\n", HYPER_VERSION);
                        return 0;
                case 'h':
                        hc_usage(stdout);
                        return 0;
                default:
                        hc_usage(stderr);
                        return HC_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                hc_usage(stderr);
                return HC_EXIT_USAGE;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        r = hc_dispatch(argc, argv);
        curl_global_cleanup();
        return r;
}
