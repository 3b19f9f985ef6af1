/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl run: a container from an image, in its own VM, made with
 * POST /containers/create and started with .../start. With -d it prints
 * the id and leaves it running; without, it attaches first (so that no
 * output is lost), starts it, streams its output (and stdin with -i, a
 * terminal with -t) and exits with its exit code, as `docker run` does.
 * hyperctl create takes the same flags and only makes the container.
 */
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperctl.h"
#include "json-util.h"

#define RUN_MAX_ENV 1024
#define RUN_MAX_PUBLISH 64
#define RUN_MAX_DNS 16
#define RUN_MAX_ADD_HOST 256
#define RUN_MAX_VOLUMES 64
/* What `docker run` exits with when the daemon refuses the container. */
#define RUN_EXIT_DAEMON 125

struct run_opts {
        bool detach, rm, interactive, tty;
        const char *name, *workdir, *user, *entrypoint, *network, *ip, *gateway, *podfile, *pod;
        const char *publish[RUN_MAX_PUBLISH];
        size_t n_publish;
        const char *dns[RUN_MAX_DNS];
        size_t n_dns;
        const char *add_host[RUN_MAX_ADD_HOST];
        size_t n_add_host;
        const char *env[RUN_MAX_ENV];
        size_t n_env;
        const char *volumes[RUN_MAX_VOLUMES];
        size_t n_volumes;
        const char *memory, *cpus;
};

static int run_parse(int argc, char **argv, struct run_opts *o)
{
        static const struct option opts[] = {
                {"detach", no_argument, NULL, 'd'},
                {"rm", no_argument, NULL, 'R'},
                {"name", required_argument, NULL, 'n'},
                {"env", required_argument, NULL, 'e'},
                {"workdir", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},
                {"entrypoint", required_argument, NULL, 'E'},
                {"interactive", no_argument, NULL, 'i'},
                {"tty", no_argument, NULL, 't'},
                {"publish", required_argument, NULL, 'p'},
                {"network", required_argument, NULL, 'N'},
                {"dns", required_argument, NULL, 'D'},
                {"add-host", required_argument, NULL, 'H'},
                {"volume", required_argument, NULL, 'v'},
                {"memory", required_argument, NULL, 'm'},
                {"cpus", required_argument, NULL, 'C'},
                {"ip", required_argument, NULL, 'I'},
                {"gateway", required_argument, NULL, 'G'},
                {"podfile", required_argument, NULL, 'P'},
                {"pod", required_argument, NULL, 'O'},
                {},
        };
        int c;

        /* "+": options stop at the image, so the command's own flags stay its own. */
        while ((c = getopt_long(argc, argv, "+de:w:u:itp:v:m:", opts, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        o->detach = true;
                        break;
                case 'R':
                        o->rm = true;
                        break;
                case 'n':
                        o->name = optarg;
                        break;
                case 'w':
                        o->workdir = optarg;
                        break;
                case 'u':
                        o->user = optarg;
                        break;
                case 'E':
                        o->entrypoint = optarg;
                        break;
                case 'e':
                        if (o->n_env >= RUN_MAX_ENV)
                                return hc_usage_error("too many -e");
                        o->env[o->n_env++] = optarg;
                        break;
                case 'p':
                        if (o->n_publish >= RUN_MAX_PUBLISH)
                                return hc_usage_error("too many -p");
                        o->publish[o->n_publish++] = optarg;
                        break;
                case 'N':
                        o->network = optarg;
                        break;
                case 'I':
                        o->ip = optarg;
                        break;
                case 'G':
                        o->gateway = optarg;
                        break;
                case 'D':
                        if (o->n_dns >= RUN_MAX_DNS)
                                return hc_usage_error("too many --dns");
                        o->dns[o->n_dns++] = optarg;
                        break;
                case 'H':
                        if (o->n_add_host >= RUN_MAX_ADD_HOST)
                                return hc_usage_error("too many --add-host");
                        o->add_host[o->n_add_host++] = optarg;
                        break;
                case 'v':
                        if (o->n_volumes >= RUN_MAX_VOLUMES)
                                return hc_usage_error("too many -v");
                        o->volumes[o->n_volumes++] = optarg;
                        break;
                case 'm':
                        o->memory = optarg;
                        break;
                case 'C':
                        o->cpus = optarg;
                        break;
                case 'P':
                        o->podfile = optarg;
                        break;
                case 'O':
                        o->pod = optarg;
                        break;
                case 'i':
                        o->interactive = true;
                        break;
                case 't':
                        o->tty = true;
                        break;
                default:
                        return HC_EXIT_USAGE;
                }
        }
        if (o->podfile && optind != argc)
                return hc_usage_error("run --podfile FILE takes no image or command: the pod file names them");
        if (o->podfile)
                return 0;
        if (optind >= argc)
                return hc_usage_error("usage: hyperctl run|create [-d] [-i] [-t] [--rm] [--name N] [-e K=V] [-w DIR] [-u USER] "
                                      "[--entrypoint E] [-p [IP:]HOSTPORT:PORT[/udp]] "
                                      "[--network none|bridge:NAME|tap:NAME [--ip A.B.C.D/N [--gateway IP]]] [--dns IP] "
                                      "[--add-host NAME:IP] [-v SRC:/PATH[:ro]] [-m MEMORY] [--cpus N] [--pod POD] "
                                      "IMAGE [COMMAND [ARG...]]\n"
                                      "       hyperctl run --podfile FILE");
        return 0;
}

static struct json_object *run_strv(const char *const *v, size_t n)
{
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < n; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

static struct json_object *run_body(const struct run_opts *o, int argc, char **argv)
{
        struct json_object *b = json_object_new_object();

        if (!b)
                return NULL;
        json_object_object_add(b, "image", json_object_new_string(argv[optind]));
        json_object_object_add(b, "cmd", run_strv((const char *const *)argv + optind + 1, (size_t)(argc - optind - 1)));
        json_object_object_add(b, "env", run_strv(o->env, o->n_env));
        if (o->entrypoint)
                json_object_object_add(b, "entrypoint", run_strv(&o->entrypoint, *o->entrypoint ? 1 : 0));
        if (o->name)
                json_object_object_add(b, "name", json_object_new_string(o->name));
        if (o->workdir)
                json_object_object_add(b, "workdir", json_object_new_string(o->workdir));
        if (o->user)
                json_object_object_add(b, "user", json_object_new_string(o->user));
        if (o->n_publish)
                json_object_object_add(b, "publish", run_strv(o->publish, o->n_publish));
        if (o->network)
                json_object_object_add(b, "network", json_object_new_string(o->network));
        if (o->ip)
                json_object_object_add(b, "ip", json_object_new_string(o->ip));
        if (o->gateway)
                json_object_object_add(b, "gateway", json_object_new_string(o->gateway));
        if (o->n_dns)
                json_object_object_add(b, "dns", run_strv(o->dns, o->n_dns));
        if (o->n_add_host)
                json_object_object_add(b, "add_host", run_strv(o->add_host, o->n_add_host));
        if (o->n_volumes)
                json_object_object_add(b, "volumes", run_strv(o->volumes, o->n_volumes));
        /* hyperd checks the values, so that every client gets the same answer. */
        if (o->memory)
                json_object_object_add(b, "memory", json_object_new_string(o->memory));
        if (o->cpus)
                json_object_object_add(b, "cpus", json_object_new_string(o->cpus));
        if (o->tty)
                json_object_object_add(b, "tty", json_object_new_boolean(true));
        if (o->interactive) {
                json_object_object_add(b, "stdin", json_object_new_boolean(true));
                /* Docker's StdinOnce: the stdin of a foreground run ends with hyperctl's. */
                if (!o->detach)
                        json_object_object_add(b, "stdin_once", json_object_new_boolean(true));
        }
        if (o->pod)
                json_object_object_add(b, "pod", json_object_new_string(o->pod));
        /*
         * hyperd removes it once it has ended (and, in the foreground, hyperctl has its exit code): also after a
         * detach (ctrl-p ctrl-q) or a hyperctl that is gone. In the foreground hyperctl removes it too.
         */
        if (o->rm)
                json_object_object_add(b, "rm", json_object_new_boolean(true));
        return b;
}

static int run_start(void *userdata)
{
        _cleanup_free_ char *path = hc_container_path(userdata, "start");

        if (!path)
                return hc_error("out of memory");
        return hc_call_json("POST", path, NULL, NULL);
}

/* DELETE path; a container hyperd removed already (404) is no failure. */
static int run_remove(const char *path)
{
        struct hc_call call = {.method = "DELETE", .path = path};
        struct hc_reply reply;
        int r;

        r = hc_request(&call, &reply);
        if (r != 0)
                return r;
        if (reply.status != 404 && (reply.status < 200 || reply.status > 299))
                r = hc_reply_fail(&reply);
        hc_reply_done(&reply);
        return r;
}

int hc_attach_and_wait(const char *id, bool tty, bool interactive, bool start, bool rm)
{
        _cleanup_(json_object_putp) struct json_object *w = NULL;
        _cleanup_free_ char *attach = hc_container_path(id, "attach"), *query = NULL,
                            *resize = hc_container_path(id, "resize"), *wait = hc_container_path(id, "wait"),
                            *del = hc_container_path(id, NULL), *force_del = NULL;
        struct hc_stream_opts so = {.tty = tty, .stdin = interactive, .detach_keys = tty && interactive,
                                    .resize_path = tty ? resize : NULL, .on_attached = start ? run_start : NULL,
                                    .userdata = (void *)id};
        int64_t code = 1;
        int fd, r;

        if (!attach || !resize || !wait || !del ||
            asprintf(&query, "%s?stream=1&stdin=%d&stdout=1&stderr=1", attach, interactive) < 0 ||
            asprintf(&force_del, "%s?force=1", del) < 0)
                return hc_error("out of memory");
        r = hc_upgrade(query, NULL, &fd, NULL);
        if (r != 0) {
                /* Made for this run and never started: --rm leaves nothing. */
                if (rm)
                        run_remove(force_del);
                return r;
        }
        r = hc_stream(fd, &so);
        close(fd);
        if (r == HC_STREAM_DETACHED) {
                /* Detached (ctrl-p ctrl-q): it goes on running. */
                fprintf(stderr, "\r\nhyperctl: detached from %s; it goes on running\n", id);
                return 0;
        }
        if (r != 0) {
                if (rm)
                        run_remove(force_del);
                return start ? RUN_EXIT_DAEMON : r;
        }
        r = hc_call_json("POST", wait, NULL, &w);
        if (r != 0)
                return r;
        if (json_get_int(w, "exitCode", 0, 255, &code) < 0)
                code = 1;
        if (rm && run_remove(del) != 0)
                return HC_EXIT_FAILURE;
        return (int)code;
}

int hc_run_main(int argc, char **argv, bool create_only)
{
        _cleanup_(json_object_putp) struct json_object *body = NULL, *reply = NULL;
        _cleanup_free_ char *id_copy = NULL;
        struct run_opts o = {0};
        const char *id = NULL;
        int r;

        r = run_parse(argc, argv, &o);
        if (r != 0)
                return r;
        if (o.podfile && create_only)
                return hc_usage_error("create makes one container: a pod file is run with hyperctl run --podfile");
        if (o.podfile) {
                r = hc_run_podfile(o.podfile);
                return r == HC_EXIT_FAILURE ? RUN_EXIT_DAEMON : r;
        }
        if (create_only && o.detach)
                return hc_usage_error("create makes the container and starts nothing: -d has no place here");
        if (!create_only && !o.detach && (r = hc_check_tty(o.tty, o.interactive)) != 0)
                return r;
        body = run_body(&o, argc, argv);
        if (!body)
                return hc_error("out of memory");
        /* Raw from now: what is typed while the VM boots goes to the container as typed. */
        if (!create_only && !o.detach && o.tty && o.interactive)
                hc_tty_raw_on();
        r = hc_call_json("POST", "/v1/containers/create", json_object_to_json_string(body), &reply);
        if (r != 0)
                return r == HC_EXIT_FAILURE ? RUN_EXIT_DAEMON : r;
        if (json_get_string(reply, "id", &id) < 0 || !(id_copy = strdup(id)))
                return hc_error("hyperd's reply has no container id");
        if (create_only) {
                printf("%s\n", id);
                return 0;
        }
        if (o.detach) {
                r = run_start(id_copy);
                if (r != 0)
                        return RUN_EXIT_DAEMON;
                printf("%s\n", id);
                return 0;
        }
        return hc_attach_and_wait(id_copy, o.tty, o.interactive, true, o.rm);
}

int hc_cmd_run(int argc, char **argv)
{
        return hc_run_main(argc, argv, false);
}
