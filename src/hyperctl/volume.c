/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperctl volume create|ls|inspect|rm: named volumes hyperd keeps; and
 * hyperctl volume attach: a disk image file hot-plugged into a running
 * container and mounted in it (a block volume); detach undoes it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperctl.h"
#include "json-util.h"

#define VOLUME_USAGE                                                                                                  \
        "usage: hyperctl volume create [NAME] | ls [-q] | inspect NAME... | rm NAME... |\n"                           \
        "       attach [--format raw|qcow2] CONTAINER FILE:/PATH[:ro|rw] | detach CONTAINER /PATH"

static int volume_create(int argc, char **argv)
{
        _cleanup_(json_object_putp) struct json_object *body = json_object_new_object(), *reply = NULL;
        const char *name = NULL;

        if (argc > 2)
                return hc_usage_error("usage: hyperctl volume create [NAME]");
        if (!body)
                return hc_error("out of memory");
        if (argc == 2)
                json_object_object_add(body, "name", json_object_new_string(argv[1]));
        if (hc_call_json("POST", "/v1/volumes/create", json_object_to_json_string(body), &reply) != 0)
                return HC_EXIT_FAILURE;
        if (json_get_string(reply, "name", &name) < 0)
                return hc_error("hyperd's reply has no volume name");
        printf("%s\n", name);
        return 0;
}

static void volume_header(void)
{
        printf("%-8s %-40s %s\n", "DRIVER", "VOLUME NAME", "CONTAINERS");
}

static void volume_row(struct json_object *v, bool quiet)
{
        struct json_object *users = NULL;
        const char *name = "?", *driver = "local";

        (void)json_get_string(v, "name", &name);
        (void)json_get_string(v, "driver", &driver);
        json_object_object_get_ex(v, "containers", &users);
        if (quiet)
                printf("%s\n", name);
        else
                printf("%-8s %-40s %zu\n", driver, name,
                       json_object_is_type(users, json_type_array) ? json_object_array_length(users) : 0);
}

static int volume_ls(int argc, char **argv)
{
        static const struct hc_list l = {"hyperctl volume ls [-q]", "/v1/volumes", "a volume list", volume_header,
                                         volume_row};

        return hc_list_cmd(argc, argv, &l);
}

static int volume_get(const char *name, struct json_object **ret)
{
        _cleanup_free_ char *esc = hc_escape(name), *path = NULL;

        if (!esc || asprintf(&path, "/v1/volumes/%s", esc) < 0)
                return hc_error("out of memory");
        return hc_get_json(path, ret);
}

static int volume_inspect(int argc, char **argv)
{
        if (argc < 2)
                return hc_usage_error("usage: hyperctl volume inspect NAME...");
        return hc_inspect_each(argv + 1, argc - 1, volume_get);
}

static int volume_rm(int argc, char **argv)
{
        if (argc < 2)
                return hc_usage_error("usage: hyperctl volume rm NAME...");
        return hc_call_each("DELETE", "/v1/volumes/", argv + 1, argc - 1, "");
}

/* FILE:/PATH[:ro|rw] into the attach body. */
static int volume_attach_body(const char *spec, const char *format, struct json_object *body)
{
        _cleanup_free_ char *copy = strdup(spec);
        char *dest, *mode;

        if (!copy)
                return hc_error("out of memory");
        dest = strchr(copy, ':');
        if (!dest || dest == copy)
                return hc_usage_error("invalid volume \"%s\": FILE:/PATH[:ro|rw]", spec);
        *dest++ = '\0';
        mode = strchr(dest, ':');
        if (mode)
                *mode++ = '\0';
        if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
                return hc_usage_error("invalid volume \"%s\": the mode \"%s\" is not ro or rw", spec, mode);
        json_object_object_add(body, "source", json_object_new_string(copy));
        json_object_object_add(body, "destination", json_object_new_string(dest));
        json_object_object_add(body, "readonly", json_object_new_boolean(mode && strcmp(mode, "ro") == 0));
        if (format)
                json_object_object_add(body, "format", json_object_new_string(format));
        return 0;
}

static int volume_attach(int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {}};
        _cleanup_(json_object_putp) struct json_object *body = json_object_new_object();
        _cleanup_free_ char *path = NULL;
        const char *format = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) >= 0) {
                if (c != 'f')
                        return HC_EXIT_USAGE;
                format = optarg;
        }
        if (argc - optind != 2)
                return hc_usage_error("usage: hyperctl volume attach [--format raw|qcow2] CONTAINER FILE:/PATH[:ro|rw]");
        if (!body || !(path = hc_container_path(argv[optind], "volumes")))
                return hc_error("out of memory");
        r = volume_attach_body(argv[optind + 1], format, body);
        if (r != 0)
                return r;
        if (hc_call_json("POST", path, json_object_to_json_string(body), NULL) != 0)
                return HC_EXIT_FAILURE;
        printf("%s\n", argv[optind + 1]);
        return 0;
}

static int volume_detach(int argc, char **argv)
{
        _cleanup_free_ char *base = NULL, *dest = NULL, *path = NULL;

        if (argc != 3)
                return hc_usage_error("usage: hyperctl volume detach CONTAINER /PATH");
        base = hc_container_path(argv[1], "volumes");
        dest = hc_escape(argv[2]);
        if (!base || !dest || asprintf(&path, "%s?destination=%s", base, dest) < 0)
                return hc_error("out of memory");
        if (hc_call_json("DELETE", path, NULL, NULL) != 0)
                return HC_EXIT_FAILURE;
        printf("%s\n", argv[2]);
        return 0;
}

int hc_cmd_volume(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } subs[] = {
                {"create", volume_create}, {"ls", volume_ls},         {"list", volume_ls},
                {"inspect", volume_inspect}, {"rm", volume_rm},       {"remove", volume_rm},
                {"attach", volume_attach}, {"detach", volume_detach},
        };

        if (argc < 2)
                return hc_usage_error(VOLUME_USAGE);
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (strcmp(argv[1], subs[i].name) == 0)
                        return subs[i].run(argc - 1, argv + 1);
        return hc_usage_error("unknown volume command \"%s\"\n" VOLUME_USAGE, argv[1]);
}
