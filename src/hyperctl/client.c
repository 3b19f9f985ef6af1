/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyperctl.h"
#include "json-util.h"

const char *hc_socket = HC_DEFAULT_SOCKET;

struct hc_transfer {
        CURL *curl;
        const struct hc_call *call;
        struct hc_reply *reply;
        char *line; /* the unfinished line of a streamed reply */
        size_t line_len;
        bool failed;
        uint8_t frame_hdr[8]; /* demux: a header cut between two writes */
        size_t frame_hdr_len, frame_left;
        FILE *frame_out;
};

static void hc_vmessage(const char *prefix, const char *fmt, va_list ap)
{
        /* A message on a raw terminal would lose its carriage returns. */
        hc_tty_restore();
        fputs(prefix, stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int hc_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        hc_vmessage("hyperctl: ", fmt, ap);
        va_end(ap);
        return HC_EXIT_FAILURE;
}

int hc_usage_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        hc_vmessage("hyperctl: ", fmt, ap);
        va_end(ap);
        return HC_EXIT_USAGE;
}

char *hc_escape(const char *s)
{
        char *e = curl_easy_escape(NULL, s, 0), *copy;

        if (!e)
                return NULL;
        copy = strdup(e);
        curl_free(e);
        return copy;
}

static bool hc_streaming(struct hc_transfer *t)
{
        long code = 0;

        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
        return code == 200 && (t->call->download || t->call->on_line);
}

/* Docker's frames: an 8-byte header (stream, 0, 0, 0, length) before each piece. */
static int hc_demux(struct hc_transfer *t, const char *p, size_t n)
{
        while (n > 0) {
                size_t take;

                if (t->frame_left == 0) {
                        take = MIN(n, sizeof(t->frame_hdr) - t->frame_hdr_len);
                        memcpy(t->frame_hdr + t->frame_hdr_len, p, take);
                        t->frame_hdr_len += take;
                        p += take;
                        n -= take;
                        if (t->frame_hdr_len < sizeof(t->frame_hdr))
                                return 0;
                        t->frame_out = t->frame_hdr[0] == 2 ? stderr : t->call->download;
                        t->frame_left = (size_t)t->frame_hdr[4] << 24 | (size_t)t->frame_hdr[5] << 16 |
                                        (size_t)t->frame_hdr[6] << 8 | t->frame_hdr[7];
                        t->frame_hdr_len = 0;
                        continue;
                }
                take = MIN(n, t->frame_left);
                if (fwrite(p, 1, take, t->frame_out) != take)
                        return -EIO;
                fflush(t->frame_out);
                p += take;
                n -= take;
                t->frame_left -= take;
        }
        return 0;
}

static bool hc_multiplexed(struct hc_transfer *t)
{
        char *ct = NULL;

        curl_easy_getinfo(t->curl, CURLINFO_CONTENT_TYPE, &ct);
        return t->call->demux && ct && strstr(ct, "multiplexed");
}

static int hc_keep(struct hc_reply *reply, const char *p, size_t n)
{
        char *b;

        if (reply->len + n > HC_MAX_REPLY)
                return -EFBIG;
        b = realloc(reply->body, reply->len + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + reply->len, p, n);
        reply->len += n;
        b[reply->len] = '\0';
        reply->body = b;
        return 0;
}

/* Hands each complete line to on_line; keeps the rest for the next chunk. */
static int hc_lines(struct hc_transfer *t, const char *p, size_t n)
{
        struct hc_reply tmp = { .body = t->line, .len = t->line_len };
        char *nl;
        int r = hc_keep(&tmp, p, n);

        t->line = tmp.body;
        t->line_len = tmp.len;
        if (r < 0)
                return r;
        while (t->line && (nl = memchr(t->line, '\n', t->line_len))) {
                *nl = '\0';
                r = t->call->on_line(t->line, t->call->userdata);
                t->line_len -= (size_t)(nl + 1 - t->line);
                memmove(t->line, nl + 1, t->line_len + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static size_t hc_write(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct hc_transfer *t = userdata;
        size_t n = size * nmemb;
        int r;

        if (!hc_streaming(t))
                r = hc_keep(t->reply, p, n);
        else if (t->call->download && hc_multiplexed(t))
                r = hc_demux(t, p, n);
        else if (t->call->download) {
                r = fwrite(p, 1, n, t->call->download) == n ? 0 : -EIO;
                if (t->call->demux)
                        fflush(t->call->download);
        }
        else
                r = hc_lines(t, p, n);
        if (r < 0)
                t->failed = true;
        return r < 0 ? 0 : n;
}

static CURLcode hc_setup(CURL *curl, const struct hc_call *call, struct hc_transfer *t, char *url, size_t url_size)
{
        snprintf(url, url_size, "http://localhost%s", call->path);
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, hc_socket);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, hc_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        if (call->upload) {
                curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(curl, CURLOPT_READDATA, call->upload);
                if (call->upload_size >= 0)
                        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)call->upload_size);
        } else if (call->body) {
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call->body);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(call->body));
        } else if (strcmp(call->method, "POST") == 0) {
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
        }
        return curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call->method);
}

static int hc_transport_error(CURLcode rc)
{
        if (rc == CURLE_COULDNT_CONNECT)
                return hc_error("cannot connect to hyperd at %s: is it running? (start it with: hyperd)", hc_socket);
        return hc_error("cannot talk to hyperd at %s: %s", hc_socket, curl_easy_strerror(rc));
}

int hc_request(const struct hc_call *call, struct hc_reply *reply)
{
        struct hc_transfer t = { .call = call, .reply = reply };
        struct curl_slist *headers = NULL;
        char url[8192];
        CURLcode rc;

        *reply = (struct hc_reply){ 0 };
        if (strlen(call->path) > sizeof(url) - 32)
                return hc_usage_error("the request path is too long");
        t.curl = curl_easy_init();
        if (!t.curl)
                return hc_error("out of memory");
        if (call->body)
                headers = curl_slist_append(NULL, "Content-Type: application/json");
        rc = hc_setup(t.curl, call, &t, url, sizeof(url));
        if (rc == CURLE_OK && headers)
                rc = curl_easy_setopt(t.curl, CURLOPT_HTTPHEADER, headers);
        if (rc == CURLE_OK)
                rc = curl_easy_perform(t.curl);
        curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &reply->status);
        curl_easy_cleanup(t.curl);
        curl_slist_free_all(headers);
        if (t.line && t.line_len > 0 && call->on_line && !t.failed)
                call->on_line(t.line, call->userdata);
        free(t.line);
        if (t.failed)
                return hc_error("cannot handle the reply of hyperd (too long, or a write failed)");
        if (rc != CURLE_OK)
                return hc_transport_error(rc);
        return 0;
}

void hc_reply_done(struct hc_reply *reply)
{
        free(reply->body);
        *reply = (struct hc_reply){ 0 };
}

int hc_reply_fail(const struct hc_reply *reply)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        const char *msg = NULL;

        if (reply->body && json_parse_object(reply->body, reply->len, &o) >= 0)
                json_get_string(o, "message", &msg);
        if (msg)
                return hc_error("Error response from daemon: %s", msg);
        return hc_error("Error response from daemon: HTTP %ld", reply->status);
}

int hc_get_json(const char *path, struct json_object **ret)
{
        struct hc_call call = { .method = "GET", .path = path };
        struct hc_reply reply;
        int r;

        r = hc_request(&call, &reply);
        if (r != 0)
                return r;
        if (reply.status != 200)
                r = hc_reply_fail(&reply);
        else if (!reply.body || !(*ret = json_tokener_parse(reply.body)))
                r = hc_error("hyperd sent a reply that is not JSON");
        hc_reply_done(&reply);
        return r;
}

int hc_get_list(const char *path, const char *what, struct json_object **ret)
{
        int r = hc_get_json(path, ret);

        if (r == 0 && !json_object_is_type(*ret, json_type_array))
                r = hc_error("hyperd sent %s that is not an array", what);
        return r;
}

int hc_call_json(const char *method, const char *path, const char *body, struct json_object **ret)
{
        struct hc_call call = { .method = method, .path = path, .body = body };
        struct hc_reply reply;
        int r;

        r = hc_request(&call, &reply);
        if (r != 0)
                return r;
        if (reply.status < 200 || reply.status > 299)
                r = hc_reply_fail(&reply);
        else if (ret && (!reply.body || !(*ret = json_tokener_parse(reply.body))))
                r = hc_error("hyperd sent a reply that is not JSON");
        hc_reply_done(&reply);
        return r;
}

char *hc_container_path(const char *id, const char *what)
{
        _cleanup_free_ char *esc = hc_escape(id);
        char *p;

        if (!esc || asprintf(&p, "/v1/containers/%s%s%s", esc, what ? "/" : "", what ? what : "") < 0)
                return NULL;
        return p;
}

int hc_call_each(const char *method, const char *prefix, char **ids, int n, const char *suffix)
{
        int status = 0;

        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *esc = hc_escape(ids[i]), *path = NULL;

                if (!esc || asprintf(&path, "%s%s%s", prefix, esc, suffix) < 0)
                        return hc_error("out of memory");
                if (hc_call_json(method, path, NULL, NULL) != 0)
                        status = HC_EXIT_FAILURE;
                else
                        printf("%s\n", ids[i]);
        }
        return status;
}

int hc_post_each(char **argv, int first, int argc, const char *what, const char *key, const char *value)
{
        _cleanup_free_ char *esc = hc_escape(value), *suffix = NULL;

        if (!esc || asprintf(&suffix, "/%s?%s=%s", what, key, esc) < 0)
                return hc_error("out of memory");
        return hc_call_each("POST", "/v1/containers/", argv + first, argc - first, suffix);
}

int hc_inspect_each(char **ids, int n, int (*get)(const char *id, struct json_object **ret))
{
        _cleanup_(json_object_putp) struct json_object *all = json_object_new_array();
        int status = 0;

        if (!all)
                return hc_error("out of memory");
        for (int i = 0; i < n; i++) {
                struct json_object *o = NULL;

                if (get(ids[i], &o) != 0) {
                        status = HC_EXIT_FAILURE;
                        continue;
                }
                json_object_array_add(all, o);
        }
        printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        return status;
}

int hc_call_quiet(const char *method, const char *path)
{
        struct hc_call call = { .method = method, .path = path };
        struct hc_reply reply;
        int r;

        /* hc_request prints only transport errors; the status is ours to judge. */
        r = hc_request(&call, &reply);
        if (r == 0 && (reply.status < 200 || reply.status > 299))
                r = HC_EXIT_FAILURE;
        hc_reply_done(&reply);
        return r;
}

int hc_check_tty(bool tty, bool interactive)
{
        if (tty && interactive && !isatty(STDIN_FILENO))
                return hc_usage_error("the input device is not a TTY: -t needs a terminal on stdin; "
                                      "use -i without -t to pipe input");
        return 0;
}

int hc_list_cmd(int argc, char **argv, const struct hc_list *l)
{
        static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'}, {}};
        _cleanup_(json_object_putp) struct json_object *arr = NULL;
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                if (c != 'q')
                        return HC_EXIT_USAGE;
                quiet = true;
        }
        if (optind != argc)
                return hc_usage_error("usage: %s", l->usage);
        r = hc_get_list(l->path, l->what, &arr);
        if (r != 0)
                return r;
        if (!quiet)
                l->header();
        for (size_t i = 0; i < json_object_array_length(arr); i++)
                l->row(json_object_array_get_idx(arr, i), quiet);
        return 0;
}
