/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Tar archives made in the tests, entry by entry, so that hostile ones can be written at will. */

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

enum tar_filter { TAR_NONE, TAR_GZIP, TAR_ZSTD };

struct tar_entry {
        char type;          /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link, 'c' char device, 'p' fifo */
        const char *path;
        const char *target; /* symlinks and hard links */
        const char *data;   /* files */
        unsigned mode;      /* 0: 0644 or 0755 */
        unsigned uid, gid;
        unsigned long long zeros; /* files: this many zero bytes instead of data */
        const char *xattr_name, *xattr_value;
};

static inline void tar_write(const char *out, enum tar_filter filter, const struct tar_entry *entries, size_t n)
{
        struct archive *a = archive_write_new();
        static char zero[65536];

        CHECK(a);
        CHECK(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
        if (filter == TAR_GZIP)
                CHECK(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
        if (filter == TAR_ZSTD)
                CHECK(archive_write_add_filter_zstd(a) == ARCHIVE_OK);
        CHECK(archive_write_open_filename(a, out) == ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                const struct tar_entry *t = &entries[i];
                struct archive_entry *e = archive_entry_new();
                size_t len = t->data ? strlen(t->data) : 0;

                archive_entry_set_pathname(e, t->path);
                archive_entry_set_uid(e, t->uid);
                archive_entry_set_gid(e, t->gid);
                archive_entry_set_mtime(e, 1000000000, 0);
                archive_entry_set_perm(e, t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644));
                switch (t->type) {
                case 'f':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_size(e, t->zeros ? (la_int64_t)t->zeros : (la_int64_t)len);
                        break;
                case 'd':
                        archive_entry_set_filetype(e, AE_IFDIR);
                        break;
                case 'l':
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_symlink(e, t->target);
                        break;
                case 'h':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_hardlink(e, t->target);
                        archive_entry_set_size(e, 0);
                        break;
                case 'c':
                        archive_entry_set_filetype(e, AE_IFCHR);
                        archive_entry_set_rdevmajor(e, 1);
                        archive_entry_set_rdevminor(e, 3);
                        break;
                case 'p':
                        archive_entry_set_filetype(e, AE_IFIFO);
                        break;
                }
                if (t->xattr_name)
                        archive_entry_xattr_add_entry(e, t->xattr_name, t->xattr_value, strlen(t->xattr_value));
                CHECK(archive_write_header(a, e) == ARCHIVE_OK);
                if (t->type == 'f' && t->zeros) {
                        for (unsigned long long left = t->zeros; left > 0;) {
                                size_t k = left > sizeof(zero) ? sizeof(zero) : (size_t)left;
                                CHECK(archive_write_data(a, zero, k) == (la_ssize_t)k);
                                left -= k;
                        }
                } else if (t->type == 'f' && len) {
                        CHECK(archive_write_data(a, t->data, len) == (la_ssize_t)len);
                }
                archive_entry_free(e);
        }
        CHECK(archive_write_close(a) == ARCHIVE_OK);
        archive_write_free(a);
}

/* Counts the entries below path (the folder itself not included). */
static inline int tree_count(const char *path)
{
        char cmd[512];
        FILE *p;
        int n = -1;

        snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 | wc -l", path);
        p = popen(cmd, "r");
        CHECK(p);
        CHECK(fscanf(p, "%d", &n) == 1);
        pclose(p);
        return n;
}

static inline char *make_temp_dir(void)
{
        char tmpl[] = "/tmp/test-image-XXXXXX";

        CHECK(mkdtemp(tmpl));
        return strdup(tmpl);
}

static inline void remove_tree(const char *path)
{
        char cmd[512];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
        CHECK(system(cmd) == 0);
}
