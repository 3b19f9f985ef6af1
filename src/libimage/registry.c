/* SPDX-License-Identifier: Apache-2.0 */
#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "image-util.h"
#include "json-util.h"
#include "manifest.h"

#define REGISTRY_HEADER_MAX 8192

struct registry {
        char *base;     /* "https://host/v2/path" */
        char *host;     /* the domain as the user named it, for credentials */
        char *path;
        char *userpass; /* "user:password" from the auth file, or NULL */
        char *authorization; /* the Authorization header that worked, or NULL */
        bool insecure;
        unsigned max_parallel;
};

/* What one HTTP exchange collected: the body (in memory or to a file) and the headers we act on. */
struct exchange {
        char *data;
        size_t len, max;
        bool too_big;
        int fd;                 /* >= 0: the body goes to this file instead */
        struct digester *digest; /* fed with what goes to fd */
        uint64_t written;
        char *content_type;
        char *www_authenticate;
        long status;
        int write_errno;
};

static pthread_once_t registry_curl_once = PTHREAD_ONCE_INIT;

static void registry_curl_init(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void exchange_clear(struct exchange *x)
{
        free(x->data);
        free(x->content_type);
        free(x->www_authenticate);
        x->data = x->content_type = x->www_authenticate = NULL;
        x->len = 0;
        x->too_big = false;
}

static size_t exchange_write(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct exchange *x = userdata;
        size_t n = size * nmemb;
        char *nd;

        if (x->fd >= 0) {
                int r = loop_write(x->fd, p, n);
                if (r < 0 || (x->digest && digester_update(x->digest, p, n) < 0)) {
                        x->write_errno = r < 0 ? -r : EIO;
                        return 0;
                }
                x->written += n;
                return n;
        }
        if (x->len + n > x->max) {
                x->too_big = true;
                return 0;
        }
        nd = realloc(x->data, x->len + n + 1);
        if (!nd)
                return 0;
        memcpy(nd + x->len, p, n);
        x->data = nd;
        x->len += n;
        x->data[x->len] = '\0';
        return n;
}

/* Keeps a header's value, trimmed; a new status line (a redirect's next response) forgets what came before. */
static size_t exchange_header(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct exchange *x = userdata;
        size_t n = size * nmemb, klen;
        char **slot = NULL;
        const char *v;

        if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                free(x->content_type);
                free(x->www_authenticate);
                x->content_type = x->www_authenticate = NULL;
                return n;
        }
        if (n > REGISTRY_HEADER_MAX)
                return n;
        if (n > 13 && strncasecmp(p, "content-type:", 13) == 0)
                slot = &x->content_type, klen = 13;
        else if (n > 17 && strncasecmp(p, "www-authenticate:", 17) == 0)
                slot = &x->www_authenticate, klen = 17;
        else
                return n;
        v = p + klen;
        while (v < p + n && (*v == ' ' || *v == '\t'))
                v++;
        while (n > klen && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
                n--;
        free(*slot);
        *slot = strndup(v, p + n > v ? (size_t)(p + n - v) : 0);
        /* "application/json; charset=utf-8" names the type before the ';'. */
        if (*slot && slot == &x->content_type)
                (*slot)[strcspn(*slot, "; ")] = '\0';
        return size * nmemb;
}

static CURL *registry_easy(struct registry *r, const char *url, struct exchange *x)
{
        CURL *c = curl_easy_init();

        if (!c)
                return NULL;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, r->insecure ? "http,https" : "https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, r->insecure ? "http,https" : "https");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "hyper-image/" HYPER_VERSION);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, exchange_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, exchange_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
        return c;
}

/* The request headers: Accept (for manifests), Authorization once we have it, and Range when resuming. */
static struct curl_slist *registry_headers(struct registry *r, const char *accept, uint64_t range_from)
{
        struct curl_slist *h = NULL, *n;
        char line[64];

        if (accept && !(h = curl_slist_append(h, accept)))
                return NULL;
        if (r->authorization) {
                _cleanup_free_ char *a = NULL;
                if (asprintf(&a, "Authorization: %s", r->authorization) < 0 || !(n = curl_slist_append(h, a)))
                        goto fail;
                h = n;
        }
        if (range_from > 0) {
                snprintf(line, sizeof(line), "Range: bytes=%llu-", (unsigned long long)range_from);
                if (!(n = curl_slist_append(h, line)))
                        goto fail;
                h = n;
        }
        /* curl_slist_append() wants a list to append to: an empty one means no extra headers at all. */
        return h ? h : curl_slist_append(NULL, "X-Hyper: 1");
fail:
        curl_slist_free_all(h);
        return NULL;
}

/* One parameter value of a challenge: a quoted string with backslash escapes, or a token. */
static const char *challenge_value(const char *p, char **ret)
{
        _cleanup_free_ char *v = malloc(strlen(p) + 1);
        size_t n = 0;

        if (!v)
                return NULL;
        if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                        if (*p == '\\' && p[1])
                                p++;
                        v[n++] = *p;
                }
                if (*p != '"')
                        return NULL;
                p++;
        } else {
                while (*p && *p != ',' && *p != ' ')
                        v[n++] = *p++;
        }
        v[n] = '\0';
        *ret = TAKE_PTR(v);
        return p;
}

int registry_parse_challenge(const char *value, char **ret_scheme, char **ret_realm, char **ret_service,
                             char **ret_scope)
{
        const char *p = value;
        size_t n = strcspn(p, " ");

        if (!value || n == 0 || strlen(value) > REGISTRY_HEADER_MAX)
                return -EINVAL;
        *ret_realm = *ret_service = *ret_scope = NULL;
        *ret_scheme = strndup(p, n);
        if (!*ret_scheme)
                return -ENOMEM;
        for (p += n; *p;) {
                char **slot = NULL, *v = NULL;
                size_t k;

                p += strspn(p, " ,");
                k = strcspn(p, "=, ");
                if (k == 0 || p[k] != '=')
                        return *p ? -EINVAL : 0;
                if (k == 5 && strncasecmp(p, "realm", 5) == 0)
                        slot = ret_realm;
                else if (k == 7 && strncasecmp(p, "service", 7) == 0)
                        slot = ret_service;
                else if (k == 5 && strncasecmp(p, "scope", 5) == 0)
                        slot = ret_scope;
                p = challenge_value(p + k + 1, &v);
                if (!p)
                        return -EINVAL;
                if (slot) {
                        free(*slot);
                        *slot = v;
                } else {
                        free(v);
                }
        }
        return 0;
}

static int auth_decode(const char *b64, char **ret)
{
        size_t n = strlen(b64);
        _cleanup_free_ unsigned char *out = malloc(n / 4 * 3 + 4);
        int len;

        if (!out || n % 4 != 0)
                return out ? -EINVAL : -ENOMEM;
        len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
        if (len < 0)
                return -EINVAL;
        /* EVP_DecodeBlock() counts the '=' padding as zero bytes. */
        while (n > 0 && b64[--n] == '=' && len > 0)
                len--;
        out[len] = '\0';
        if (strlen((char *)out) != (size_t)len || !strchr((char *)out, ':'))
                return -EINVAL;
        *ret = (char *)TAKE_PTR(out);
        return 0;
}

int registry_auth_lookup(const char *auth_file, const char *domain, char **ret_userpass, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *data = NULL;
        struct json_object *auths, *entry;
        size_t len;
        int r;

        if (!auth_file)
                return -ENOENT;
        r = read_full_file(auth_file, 1 << 20, &data, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0 || json_parse_object(data, len, &o) < 0)
                return image_error(ret_error, r < 0 ? r : -EINVAL, "cannot read credentials from %s", auth_file);
        if (!json_object_object_get_ex(o, "auths", &auths) || !json_object_is_type(auths, json_type_object))
                return -ENOENT;
        const char *keys[] = { domain, NULL, NULL, NULL };
        _cleanup_free_ char *https = NULL, *http = NULL;
        if (asprintf(&https, "https://%s", domain) < 0 || asprintf(&http, "http://%s", domain) < 0)
                return -ENOMEM;
        keys[1] = https;
        keys[2] = strcmp(domain, "docker.io") == 0 ? "https://index.docker.io/v1/" : http;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *b64;
                if (!keys[i] || !json_object_object_get_ex(auths, keys[i], &entry) ||
                    json_get_string(entry, "auth", &b64) < 0)
                        continue;
                r = auth_decode(b64, ret_userpass);
                if (r < 0)
                        return image_error(ret_error, r, "invalid \"auth\" for %s in %s", keys[i], auth_file);
                return 0;
        }
        return -ENOENT;
}

static int registry_perform(CURL *c, struct exchange *x, char **ret_error)
{
        CURLcode cc = curl_easy_perform(c);

        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
        if (cc == CURLE_WRITE_ERROR && x->too_big)
                return image_error(ret_error, -E2BIG, "reply larger than %zu bytes", x->max);
        if (cc != CURLE_OK)
                return image_error(ret_error, -EIO, "%s", curl_easy_strerror(cc));
        return 0;
}

/* Asks the realm of a Bearer challenge for a token, with our credentials when we have some. */
static int registry_fetch_token(struct registry *r, const char *realm, const char *service, const char *scope,
                                char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *url = NULL, *s_service = NULL, *s_scope = NULL, *def_scope = NULL;
        struct exchange x = { .fd = -1, .max = REGISTRY_TOKEN_MAX_SIZE };
        const char *token;
        CURL *c;
        int k;

        if (!scope && asprintf(&def_scope, "repository:%s:pull", r->path) < 0)
                return -ENOMEM;
        s_service = curl_easy_escape(NULL, service ? service : "", 0);
        s_scope = curl_easy_escape(NULL, scope ? scope : def_scope, 0);
        if (!s_service || !s_scope || asprintf(&url, "%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?",
                                              s_service, s_scope) < 0)
                return -ENOMEM;
        c = registry_easy(r, url, &x);
        if (!c)
                return -ENOMEM;
        /* A realm is another server: it gets the user's password only over https, unless marked insecure. */
        if (r->userpass) {
                curl_easy_setopt(c, CURLOPT_USERPWD, r->userpass);
                curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        }
        k = registry_perform(c, &x, ret_error);
        curl_easy_cleanup(c);
        if (k >= 0 && x.status != 200)
                k = image_error(ret_error, -EACCES, "token server %s answered HTTP %ld", realm, x.status);
        if (k >= 0 && (json_parse_object(x.data ? x.data : "", x.len, &o) < 0 ||
                       (json_get_string(o, "token", &token) < 0 && json_get_string(o, "access_token", &token) < 0) ||
                       !*token || strpbrk(token, "\r\n")))
                k = image_error(ret_error, -EPROTO, "token server %s sent no token", realm);
        if (k >= 0) {
                free(r->authorization);
                if (asprintf(&r->authorization, "Bearer %s", token) < 0)
                        r->authorization = NULL;
        }
        exchange_clear(&x);
        if (k < 0)
                return k;
        return r->authorization ? 0 : -ENOMEM;
}

/* Answers a 401's challenge; -EACCES when there is nothing we can answer it with. */
static int registry_authenticate(struct registry *r, const char *challenge, char **ret_error)
{
        _cleanup_free_ char *scheme = NULL, *realm = NULL, *service = NULL, *scope = NULL, *enc = NULL;
        size_t n;

        if (!challenge || registry_parse_challenge(challenge, &scheme, &realm, &service, &scope) < 0)
                return image_error(ret_error, -EACCES, "registry %s refused access without a usable challenge",
                                   r->host);
        if (strcasecmp(scheme, "Bearer") == 0 && realm)
                return registry_fetch_token(r, realm, service, scope, ret_error);
        if (strcasecmp(scheme, "Basic") != 0)
                return image_error(ret_error, -EACCES, "registry %s asks for %s authentication, which is not supported",
                                   r->host, scheme);
        if (!r->userpass)
                return image_error(ret_error, -EACCES, "registry %s wants a user name and password; none in the auth file",
                                   r->host);
        n = strlen(r->userpass);
        enc = malloc(4 * ((n + 2) / 3) + 1);
        if (!enc)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)r->userpass, (int)n);
        free(r->authorization);
        if (asprintf(&r->authorization, "Basic %s", enc) < 0) {
                r->authorization = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* GETs url into x, answering one authentication challenge on the way. */
static int registry_get(struct registry *r, const char *url, const char *accept, struct exchange *x, char **ret_error)
{
        for (int attempt = 0;; attempt++) {
                struct curl_slist *h = registry_headers(r, accept, 0);
                CURL *c = registry_easy(r, url, x);
                int k;

                if (!c || !h) {
                        curl_slist_free_all(h);
                        curl_easy_cleanup(c);
                        return -ENOMEM;
                }
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
                k = registry_perform(c, x, ret_error);
                curl_easy_cleanup(c);
                curl_slist_free_all(h);
                if (k < 0)
                        return image_error(ret_error, k, "cannot fetch %s", url);
                if (x->status != 401 || attempt > 0)
                        break;
                k = registry_authenticate(r, x->www_authenticate, ret_error);
                if (k < 0)
                        return k;
                exchange_clear(x);
        }
        if (x->status == 404)
                return image_error(ret_error, -ENOENT, "%s: not found", url);
        if (x->status == 401 || x->status == 403)
                return image_error(ret_error, -EACCES, "%s: access denied (HTTP %ld)", url, x->status);
        if (x->status != 200)
                return image_error(ret_error, -EIO, "%s: HTTP %ld", url, x->status);
        return 0;
}

int registry_new(const struct image_ref *ref, const struct registry_options *o, struct registry **ret,
                 char **ret_error)
{
        _cleanup_(registry_freep) struct registry *r = calloc(1, sizeof(*r));
        int k;

        if (!r)
                return -ENOMEM;
        pthread_once(&registry_curl_once, registry_curl_init);
        r->insecure = o && o->insecure;
        r->max_parallel = o && o->max_parallel ? MIN(o->max_parallel, REGISTRY_MAX_PARALLEL) : 4;
        r->host = strdup(ref->domain);
        r->path = strdup(ref->path);
        if (!r->host || !r->path || asprintf(&r->base, "%s://%s/v2/%s", r->insecure ? "http" : "https",
                                             image_ref_registry_host(ref), ref->path) < 0)
                return -ENOMEM;
        k = registry_auth_lookup(o ? o->auth_file : NULL, ref->domain, &r->userpass, ret_error);
        if (k < 0 && k != -ENOENT)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

void registry_free(struct registry *r)
{
        if (!r)
                return;
        free(r->base);
        free(r->host);
        free(r->path);
        if (r->userpass)
                explicit_bzero(r->userpass, strlen(r->userpass));
        free(r->userpass);
        free(r->authorization);
        free(r);
}

static int registry_check_digest(const char *data, size_t len, const char *want, char **ret_error)
{
        char got[DIGEST_STRING_MAX];
        int k = digest_buffer(data, len, got);

        if (k < 0)
                return k;
        if (strcmp(got, want) != 0)
                return image_error(ret_error, -EBADMSG, "content has digest %s, expected %s", got, want);
        return 0;
}

int registry_get_manifest(struct registry *r, const char *reference, char **ret_data, size_t *ret_len,
                          char **ret_content_type, char **ret_error)
{
        static const char accept[] = "Accept: " MEDIA_OCI_INDEX ", " MEDIA_OCI_MANIFEST ", " MEDIA_DOCKER_LIST
                                     ", " MEDIA_DOCKER_MANIFEST;
        struct exchange x = { .fd = -1, .max = MANIFEST_MAX_SIZE };
        _cleanup_free_ char *url = NULL;
        int k;

        if (asprintf(&url, "%s/manifests/%s", r->base, reference) < 0)
                return -ENOMEM;
        k = registry_get(r, url, accept, &x, ret_error);
        if (k >= 0 && digest_valid(reference))
                k = registry_check_digest(x.data ? x.data : "", x.len, reference, ret_error);
        if (k < 0) {
                exchange_clear(&x);
                return image_error(ret_error, k, "manifest %s", reference);
        }
        *ret_data = x.data ? x.data : strdup("");
        *ret_len = x.len;
        *ret_content_type = x.content_type;
        free(x.www_authenticate);
        return *ret_data ? 0 : -ENOMEM;
}

int registry_get_blob(struct registry *r, const char *digest, size_t max, char **ret_data, size_t *ret_len,
                      char **ret_error)
{
        struct exchange x = { .fd = -1, .max = max };
        _cleanup_free_ char *url = NULL;
        int k;

        if (asprintf(&url, "%s/blobs/%s", r->base, digest) < 0)
                return -ENOMEM;
        k = registry_get(r, url, NULL, &x, ret_error);
        if (k >= 0)
                k = registry_check_digest(x.data ? x.data : "", x.len, digest, ret_error);
        if (k < 0) {
                exchange_clear(&x);
                return image_error(ret_error, k, "blob %s", digest);
        }
        *ret_data = x.data ? x.data : strdup("");
        *ret_len = x.len;
        free(x.content_type);
        free(x.www_authenticate);
        return *ret_data ? 0 : -ENOMEM;
}

/* One blob download within registry_fetch_blobs(). */
struct fetch {
        struct registry *r;
        struct registry_blob *blob;
        size_t index;
        int fd;
        struct digester *digest; /* of the file's content from its first byte */
        uint64_t have;           /* bytes in the file */
        uint64_t start;          /* where the running request began */
        CURL *easy;
        struct curl_slist *headers;
        struct exchange x;
        int attempts;
        bool resumed, auth_retried, bad_status, too_long;
        registry_progress_fn progress;
        void *userdata;
};

static int fetch_reset(struct fetch *f)
{
        digester_free(f->digest);
        f->digest = NULL;
        f->have = 0;
        if (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0)
                return -errno;
        return digester_new(&f->digest);
}

/* Body bytes go to the file, but only for a 200 or 206; a 200 to a Range request starts the file over. */
static size_t fetch_write(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct fetch *f = userdata;
        size_t n = size * nmemb;
        long status = 0;

        curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200 && status != 206) {
                f->bad_status = true;
                return n;
        }
        if (status == 200 && f->start > 0 && f->have == f->start) {
                if (fetch_reset(f) < 0)
                        return 0;
                f->start = 0;
        }
        if (f->have + n > (uint64_t)f->blob->size) {
                f->too_long = true;
                return 0;
        }
        if (loop_write(f->fd, p, n) < 0 || digester_update(f->digest, p, n) < 0)
                return 0;
        f->have += n;
        if (f->progress)
                f->progress(f->userdata, f->index, f->have, (uint64_t)f->blob->size);
        return n;
}

static int fetch_open(struct fetch *f)
{
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        int k;

        f->fd = openat(f->blob->dir_fd, f->blob->name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (f->fd < 0 || fstat(f->fd, &st) < 0)
                return -errno;
        k = digester_new(&f->digest);
        if (k < 0)
                return k;
        if (st.st_size == 0 || st.st_size > f->blob->size)
                return fetch_reset(f);
        /* What an earlier, interrupted pull left: hash it and ask only for the rest. */
        buf = malloc(1 << 20);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(f->fd, buf, 1 << 20);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                if ((k = digester_update(f->digest, buf, n)) < 0)
                        return k;
                f->have += n;
        }
        f->resumed = f->have > 0;
        return 0;
}

static int fetch_start(struct fetch *f, CURLM *m)
{
        _cleanup_free_ char *url = NULL;

        if (asprintf(&url, "%s/blobs/%s", f->r->base, f->blob->digest) < 0)
                return -ENOMEM;
        f->start = f->have;
        f->bad_status = f->too_long = false;
        exchange_clear(&f->x);
        f->headers = registry_headers(f->r, NULL, f->start);
        f->easy = registry_easy(f->r, url, &f->x);
        if (!f->headers || !f->easy)
                return -ENOMEM;
        curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
        curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, fetch_write);
        curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
        curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f);
        return curl_multi_add_handle(m, f->easy) == CURLM_OK ? 0 : -ENOMEM;
}

static void fetch_stop(struct fetch *f, CURLM *m)
{
        if (f->easy) {
                curl_multi_remove_handle(m, f->easy);
                curl_easy_cleanup(f->easy);
                f->easy = NULL;
        }
        curl_slist_free_all(f->headers);
        f->headers = NULL;
}

static void fetch_free(struct fetch *f, CURLM *m)
{
        fetch_stop(f, m);
        exchange_clear(&f->x);
        digester_free(f->digest);
        f->digest = NULL;
        f->fd = safe_close(f->fd);
}

static int fetch_fail(struct fetch *f, int k, const char *detail)
{
        f->blob->result = k;
        if (!f->blob->error && asprintf(&f->blob->error, "blob %s: %s", f->blob->digest, detail) < 0)
                f->blob->error = NULL;
        return k;
}

/* A complete body: the right size and the right digest, else start over once if it was resumed. */
static int fetch_verify(struct fetch *f)
{
        _cleanup_(digester_freep) struct digester *copy = NULL;
        char got[DIGEST_STRING_MAX];
        int k;

        if (f->have != (uint64_t)f->blob->size)
                return -EAGAIN;
        k = digester_new(&copy);
        if (k < 0 || (k = digester_copy(copy, f->digest)) < 0 || (k = digester_final(copy, got)) < 0)
                return k;
        if (strcmp(got, f->blob->digest) != 0)
                return -EBADMSG;
        if (fsync(f->fd) < 0)
                return -errno;
        return 0;
}

/*
 * Decides what a finished transfer means: done, try again (resuming), or
 * failed. Returns 1 to restart, 0 when the blob is finished either way.
 */
static int fetch_finish(struct fetch *f, CURLcode cc, CURLM *m)
{
        char *auth_error = NULL;
        long status = 0;
        int k;

        curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
        fetch_stop(f, m);
        if (status == 401 && !f->auth_retried) {
                f->auth_retried = true;
                k = registry_authenticate(f->r, f->x.www_authenticate, &auth_error);
                if (k < 0) {
                        fetch_fail(f, k, auth_error ? auth_error : "authentication failed");
                        free(auth_error);
                        return 0;
                }
                return 1;
        }
        if (f->too_long)
                return fetch_fail(f, -EBADMSG, "the registry sent more bytes than the manifest says"), 0;
        if (status == 416 && fetch_reset(f) >= 0 && ++f->attempts < REGISTRY_RETRIES)
                return 1;
        if (cc != CURLE_OK || status >= 500 || status == 416) {
                if (++f->attempts < REGISTRY_RETRIES)
                        return 1;
                return fetch_fail(f, -EIO, cc != CURLE_OK ? curl_easy_strerror(cc) : "server error"), 0;
        }
        if (status != 200 && status != 206) {
                char detail[64];
                snprintf(detail, sizeof(detail), "HTTP %ld", status);
                return fetch_fail(f, status == 404 ? -ENOENT : -EIO, detail), 0;
        }
        k = fetch_verify(f);
        if (k == -EAGAIN)
                return fetch_fail(f, -EIO, "truncated: the registry sent fewer bytes than the manifest says"), 0;
        if (k == -EBADMSG && f->resumed && fetch_reset(f) >= 0) {
                /* The part kept from before may be what was wrong: one more try, from the first byte. */
                f->resumed = false;
                return 1;
        }
        if (k == -EBADMSG)
                return fetch_fail(f, k, "content does not match its digest"), 0;
        if (k < 0)
                return fetch_fail(f, k, strerror(-k)), 0;
        f->blob->result = 0;
        return 0;
}

static int fetch_poll(CURLM *m, struct fetch *fs, size_t *active, registry_done_fn done, void *userdata)
{
        CURLMsg *msg;
        int left, running;

        if (curl_multi_perform(m, &running) != CURLM_OK)
                return -EIO;
        while ((msg = curl_multi_info_read(m, &left))) {
                struct fetch *f = NULL;
                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
                if (fetch_finish(f, msg->data.result, m) == 1) {
                        int k = fetch_start(f, m);
                        if (k >= 0)
                                continue;
                        fetch_stop(f, m);
                        fetch_fail(f, k, "cannot start a transfer");
                }
                (*active)--;
                f->fd = safe_close(f->fd);
                if (done)
                        done(userdata, f->index, f->blob->result);
        }
        return curl_multi_poll(m, NULL, 0, 1000, NULL) == CURLM_OK ? 0 : -EIO;
}

/* Opens and starts blob i; a blob already complete on disk finishes without a request. */
static int fetch_begin(struct registry *r, struct fetch *f, CURLM *m, size_t *active, registry_done_fn done,
                       void *userdata)
{
        int k = fetch_open(f);

        if (k < 0)
                fetch_fail(f, k, "cannot open its download file");
        else if (f->have == (uint64_t)f->blob->size && fetch_verify(f) == 0)
                f->blob->result = 0;
        else if (f->have == (uint64_t)f->blob->size && fetch_reset(f) < 0)
                fetch_fail(f, -EIO, "cannot restart its download");
        else if ((k = fetch_start(f, m)) < 0)
                fetch_fail(f, k, "cannot start a transfer");
        else {
                (*active)++;
                return 0;
        }
        f->fd = safe_close(f->fd);
        if (done)
                done(userdata, f->index, f->blob->result);
        return 0;
}

int registry_fetch_blobs(struct registry *r, struct registry_blob *blobs, size_t n, registry_progress_fn progress,
                         registry_done_fn done, void *userdata, char **ret_error)
{
        _cleanup_free_ struct fetch *fs = calloc(n ? n : 1, sizeof(*fs));
        CURLM *m = curl_multi_init();
        size_t next = 0, active = 0;
        int k = 0;

        if (!fs || !m) {
                curl_multi_cleanup(m);
                return -ENOMEM;
        }
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)r->max_parallel);
        for (size_t i = 0; i < n; i++) {
                fs[i] = (struct fetch){ .r = r, .blob = &blobs[i], .index = i, .fd = -1,
                                        .progress = progress, .userdata = userdata };
                blobs[i].result = -EINPROGRESS;
        }
        while (k >= 0 && (next < n || active > 0)) {
                while (next < n && active < r->max_parallel)
                        fetch_begin(r, &fs[next++], m, &active, done, userdata);
                if (active > 0)
                        k = fetch_poll(m, fs, &active, done, userdata);
        }
        for (size_t i = 0; i < n; i++)
                fetch_free(&fs[i], m);
        curl_multi_cleanup(m);
        if (k < 0)
                return image_error(ret_error, k, "downloading layers failed");
        for (size_t i = 0; i < n; i++)
                if (blobs[i].result < 0)
                        return image_error(ret_error, blobs[i].result, "%s",
                                           blobs[i].error ? blobs[i].error : "download failed");
        return 0;
}
