/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include "hyperd.h"
#include "image-store.h"
#include "json-util.h"

static struct json_object *api_string_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

enum MHD_Result api_version(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        struct utsname u;

        if (!o)
                return MHD_NO;
        uname(&u);
        json_object_object_add(o, "Version", json_object_new_string(HYPER_VERSION));
        json_object_object_add(o, "ApiVersion", json_object_new_string(API_VERSION));
        json_object_object_add(o, "Os", json_object_new_string("linux"));
        json_object_object_add(o, "Arch", json_object_new_string(u.machine));
        json_object_object_add(o, "KernelVersion", json_object_new_string(u.release));
        return http_reply_json(c, MHD_HTTP_OK, o);
}

/* The number of images and of names in the store, as libimage counts them. */
static int api_count_images(struct hyperd *hd, int64_t *ret_images, int64_t *ret_names, char **ret_error)
{
        _cleanup_(image_store_closep) struct image_store *s = NULL;
        struct image_summary *a = NULL;
        size_t n = 0;
        int64_t names = 0;
        int r;

        r = image_store_open(hd->config->root, &s, ret_error);
        if (r >= 0)
                r = image_store_list(s, &a, &n, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                for (char **p = a[i].names; *p; p++)
                        names++;
        image_summary_free_array(a, n);
        *ret_images = (int64_t)n;
        *ret_names = names;
        return 0;
}

static void api_info_daemon(struct hyperd *hd, struct json_object *o)
{
        _cleanup_free_ char *id = NULL, *starts = NULL;
        int version = 0;

        db_daemon_get(hd->db, "id", &id);
        db_daemon_get(hd->db, "starts", &starts);
        db_schema_version(hd->db, &version);
        json_object_object_add(o, "ID", api_string_or_null(id));
        json_object_object_add(o, "Starts", json_object_new_int64(starts ? atoll(starts) : 0));
        json_object_object_add(o, "SchemaVersion", json_object_new_int(version));
        json_object_object_add(o, "Started", json_object_new_int64((int64_t)hd->started));
}

enum MHD_Result api_info(struct hyperd *hd, struct MHD_Connection *c, struct request *req)
{
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        int64_t images = 0, names = 0;
        char *error = NULL;
        int r;

        if (!o)
                return MHD_NO;
        r = api_count_images(hd, &images, &names, &error);
        if (r < 0)
                return http_reply_errno(c, r, error, "cannot read the image store");
        json_object_object_add(o, "Version", json_object_new_string(HYPER_VERSION));
        json_object_object_add(o, "ApiVersion", json_object_new_string(API_VERSION));
        json_object_object_add(o, "Root", json_object_new_string(hd->config->root));
        json_object_object_add(o, "Socket", json_object_new_string(hd->config->socket));
        json_object_object_add(o, "Images", json_object_new_int64(images));
        json_object_object_add(o, "ImageNames", json_object_new_int64(names));
        json_object_object_add(o, "Kernel", api_string_or_null(hd->kernel));
        json_object_object_add(o, "Initrd", api_string_or_null(hd->initrd));
        json_object_object_add(o, "Accelerator", json_object_new_string(hd->kvm ? "kvm" : "tcg"));
        json_object_object_add(o, "KVM", json_object_new_boolean(hd->kvm));
        api_info_daemon(hd, o);
        return http_reply_json(c, MHD_HTTP_OK, o);
}
