/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hyperctl.h"
#include "json-util.h"

/* Docker's display names: docker.io/library/busybox is "busybox". */
static const char *images_short_name(const char *name)
{
        if (strncmp(name, "docker.io/library/", 18) == 0)
                return name + 18;
        if (strncmp(name, "docker.io/", 10) == 0)
                return name + 10;
        return name;
}

static void images_ago(int64_t created, char *buf, size_t size)
{
        int64_t d = (int64_t)time(NULL) - created;

        if (created <= 0)
                snprintf(buf, size, "N/A");
        else if (d < 60)
                snprintf(buf, size, "Less than a minute ago");
        else if (d < 3600)
                snprintf(buf, size, "%lld minutes ago", (long long)(d / 60));
        else if (d < 86400 * 2)
                snprintf(buf, size, "%lld hours ago", (long long)(d / 3600));
        else if (d < 86400 * 365)
                snprintf(buf, size, "%lld days ago", (long long)(d / 86400));
        else
                snprintf(buf, size, "%lld years ago", (long long)(d / (86400 * 365)));
}

static void images_row(struct json_object *img, const char *name)
{
        const char *id = NULL, *colon;
        int64_t created = 0, size = 0;
        char repo[512], ago[64];

        json_get_string(img, "Id", &id);
        json_get_int(img, "Created", INT64_MIN, INT64_MAX, &created);
        json_get_int(img, "Size", 0, INT64_MAX, &size);
        if (id && strncmp(id, "sha256:", 7) == 0)
                id += 7;
        name = name ? images_short_name(name) : NULL;
        colon = name ? strrchr(name, ':') : NULL;
        if (colon && strchr(colon, '/'))
                colon = NULL;
        snprintf(repo, sizeof(repo), "%.*s", name ? (int)(colon ? colon - name : (long)strlen(name)) : 6,
                 name ? name : "<none>");
        images_ago(created, ago, sizeof(ago));
        printf("%-40s %-20s %-14.12s %-24s %.3gMB\n", repo, colon ? colon + 1 : "<none>", id ? id : "?", ago,
               (double)size / 1e6);
}

static void images_print(struct json_object *img, bool quiet)
{
        struct json_object *tags = NULL;
        const char *id = NULL;
        size_t n;

        if (quiet) {
                json_get_string(img, "Id", &id);
                printf("%.12s\n", id && strncmp(id, "sha256:", 7) == 0 ? id + 7 : id ? id : "?");
                return;
        }
        json_object_object_get_ex(img, "RepoTags", &tags);
        n = tags && json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
        for (size_t i = 0; i < n; i++)
                images_row(img, json_object_get_string(json_object_array_get_idx(tags, i)));
        if (n == 0)
                images_row(img, NULL);
}

static void images_header(void)
{
        printf("%-40s %-20s %-14s %-24s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
}

int hc_cmd_images(int argc, char **argv)
{
        static const struct hc_list l = {"hyperctl images [-q]", "/v1/images", "an image list", images_header,
                                         images_print};

        return hc_list_cmd(argc, argv, &l);
}
