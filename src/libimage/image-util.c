/* SPDX-License-Identifier: Apache-2.0 */
#include "image-util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "fd-util.h"

struct digester {
        EVP_MD_CTX *md;
};

int image_error(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;
        char *m;

        if (!ret_error || *ret_error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) >= 0)
                *ret_error = m;
        va_end(ap);
        return r;
}

bool digest_valid(const char *d)
{
        if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
                return false;
        return strspn(d + 7, "0123456789abcdef") == 64;
}

const char *digest_hex(const char *d)
{
        return d + 7;
}

static void digest_format(const unsigned char *md, char ret[DIGEST_STRING_MAX])
{
        static const char hex[] = "0123456789abcdef";

        memcpy(ret, "sha256:", 7);
        for (size_t i = 0; i < 32; i++) {
                ret[7 + 2 * i] = hex[md[i] >> 4];
                ret[8 + 2 * i] = hex[md[i] & 15];
        }
        ret[7 + 64] = '\0';
}

int digest_buffer(const void *p, size_t n, char ret[DIGEST_STRING_MAX])
{
        unsigned char md[32];
        unsigned len = sizeof(md);

        if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
                return -EIO;
        digest_format(md, ret);
        return 0;
}

int digester_new(struct digester **ret)
{
        struct digester *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->md = EVP_MD_CTX_new();
        if (!d->md || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1) {
                digester_free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

int digester_update(struct digester *d, const void *p, size_t n)
{
        return EVP_DigestUpdate(d->md, p, n) == 1 ? 0 : -EIO;
}

int digester_final(struct digester *d, char ret[DIGEST_STRING_MAX])
{
        unsigned char md[32];
        unsigned len = sizeof(md);

        if (EVP_DigestFinal_ex(d->md, md, &len) != 1)
                return -EIO;
        digest_format(md, ret);
        return 0;
}

int digester_copy(struct digester *dst, const struct digester *src)
{
        return EVP_MD_CTX_copy_ex(dst->md, src->md) == 1 ? 0 : -EIO;
}

void digester_free(struct digester *d)
{
        if (!d)
                return;
        EVP_MD_CTX_free(d->md);
        free(d);
}

int digest_copy(int in, int out, uint64_t max, char ret[DIGEST_STRING_MAX], uint64_t *ret_size)
{
        _cleanup_(digester_freep) struct digester *d = NULL;
        _cleanup_free_ char *buf = malloc(1 << 20);
        uint64_t total = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        r = digester_new(&d);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read(in, buf, 1 << 20);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                total += (uint64_t)n;
                if (total > max)
                        return -EFBIG;
                if ((r = digester_update(d, buf, n)) < 0 || (out >= 0 && (r = loop_write(out, buf, n)) < 0))
                        return r;
        }
        if (ret_size)
                *ret_size = total;
        return digester_final(d, ret);
}

int digest_fd(int fd, char ret[DIGEST_STRING_MAX], uint64_t *ret_size)
{
        return digest_copy(fd, -1, UINT64_MAX, ret, ret_size);
}

int strv_push(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n]) {
                nv[*n] = NULL;
                return -ENOMEM;
        }
        nv[++*n] = NULL;
        return 0;
}

bool strv_contains(char **v, const char *s)
{
        for (char **p = v; p && *p; p++)
                if (strcmp(*p, s) == 0)
                        return true;
        return false;
}

int random_hex_id(char ret[33])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char b[16];

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                return -EIO;
        for (size_t i = 0; i < 16; i++) {
                ret[2 * i] = hex[b[i] >> 4];
                ret[2 * i + 1] = hex[b[i] & 15];
        }
        ret[32] = '\0';
        return 0;
}

int fsync_dir(int dirfd)
{
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, unsigned mode)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        char id[33];
        int r;

        r = random_hex_id(id);
        if (r < 0)
                return r;
        if (asprintf(&tmp, ".%s.tmp-%s", name, id) < 0)
                return -ENOMEM;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        return fsync_dir(dirfd);
}
