/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runv mount-block [--format raw|qcow2] [--readonly] [--fstype T] ID FILE
 * DEST: hot-plugs a disk image file into the VM of a created or running
 * container and mounts its file system at DEST in the container; runv
 * umount-block ID DEST undoes it. Not runc verbs: hyperd's block volumes
 * use them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "runv.h"
#include "status.h"

#define MOUNT_BLOCK_USAGE "usage: runv mount-block [--format raw|qcow2] [--readonly] [--fstype TYPE] ID FILE DEST"

static struct json_object *mount_block_request(const char *file, const char *dest, const char *format,
                                               const char *fstype, bool readonly)
{
        struct json_object *req = json_object_new_object();

        if (!req)
                return NULL;
        json_object_object_add(req, "op", json_object_new_string("mount-block"));
        json_object_object_add(req, "source", json_object_new_string(file));
        json_object_object_add(req, "destination", json_object_new_string(dest));
        json_object_object_add(req, "format", json_object_new_string(format));
        json_object_object_add(req, "readonly", json_object_new_boolean(readonly));
        if (fstype)
                json_object_object_add(req, "fstype", json_object_new_string(fstype));
        return req;
}

int runv_cmd_mount_block(int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"readonly", no_argument, NULL, 'r'},
                                             {"fstype", required_argument, NULL, 't'},
                                             {}};
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_(json_object_putp) struct json_object *req = NULL;
        _cleanup_free_ char *file = NULL;
        const char *format = "raw", *fstype = NULL;
        bool readonly = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c == 'f')
                        format = optarg;
                else if (c == 'r')
                        readonly = true;
                else if (c == 't')
                        fstype = optarg;
                else
                        return runv_error(MOUNT_BLOCK_USAGE);
        }
        if (argc - optind != 3)
                return runv_error(MOUNT_BLOCK_USAGE);
        if (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0)
                return runv_error("format must be raw or qcow2, not \"%s\"", format);
        file = realpath(argv[optind + 1], NULL);
        if (!file)
                return runv_error("%s: %s", argv[optind + 1], strerror(errno));
        r = runv_load_existing(argv[optind], &st);
        if (r != 0)
                return r;
        if (st->status != RUNV_CREATED && st->status != RUNV_RUNNING)
                return runv_error("container not running");
        req = mount_block_request(file, argv[optind + 2], format, fstype, readonly);
        if (!req)
                return runv_error("out of memory");
        return runv_state_request(st, req);
}

int runv_cmd_umount_block(int argc, char **argv)
{
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object();
        int r;

        if (argc != 3)
                return runv_error("usage: runv umount-block ID DEST");
        if (!req)
                return runv_error("out of memory");
        r = runv_load_existing(argv[1], &st);
        if (r != 0)
                return r;
        if (st->status != RUNV_CREATED && st->status != RUNV_RUNNING)
                return runv_error("container not running");
        json_object_object_add(req, "op", json_object_new_string("umount-block"));
        json_object_object_add(req, "destination", json_object_new_string(argv[2]));
        return runv_state_request(st, req);
}
