/* SPDX-License-Identifier: Apache-2.0 */
#include "reference.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "image-util.h"

static bool ref_is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool ref_is_alnum(char c)
{
        return ref_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/*
 * One path component: lowercase alphanumerics separated by one '.', one
 * or two '_', or any number of '-', as the distribution grammar says.
 */
static bool ref_component_valid(const char *s, size_t n)
{
        size_t i = 0;

        while (i < n) {
                size_t run = 0;

                if (!ref_is_lower_alnum(s[i]))
                        return false;
                while (i < n && ref_is_lower_alnum(s[i]))
                        i++;
                if (i == n)
                        return true;
                while (i + run < n && !ref_is_lower_alnum(s[i + run]))
                        run++;
                if (i + run == n)
                        return false;
                if (!(run == 1 && strchr("._-", s[i])) && !(run == 2 && strncmp(s + i, "__", 2) == 0) &&
                    strspn(s + i, "-") < run)
                        return false;
                i += run;
        }
        return n > 0;
}

/* A host name or IPv4 address with an optional port, or a bracketed IPv6 address. */
static bool ref_domain_valid(const char *s, size_t n)
{
        size_t host = n;
        const char *colon;

        if (n == 0)
                return false;
        if (s[0] == '[') {
                const char *end = memchr(s, ']', n);
                if (!end || strspn(s + 1, "0123456789abcdefABCDEF:") != (size_t)(end - s - 1))
                        return false;
                host = end - s + 1;
        } else {
                colon = memchr(s, ':', n);
                if (colon)
                        host = colon - s;
                for (size_t i = 0; i < host; i++)
                        if (!ref_is_alnum(s[i]) && !((s[i] == '.' || s[i] == '-') && i > 0 && i + 1 < host))
                                return false;
                if (host == 0)
                        return false;
        }
        if (host == n)
                return true;
        if (s[host] != ':' || host + 1 == n || n - host - 1 > 5)
                return false;
        return strspn(s + host + 1, "0123456789") >= n - host - 1;
}

static bool ref_tag_valid(const char *t)
{
        size_t n = strlen(t);

        if (n == 0 || n > IMAGE_REF_MAX_TAG || !(ref_is_alnum(t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!ref_is_alnum(t[i]) && !strchr("_.-", t[i]))
                        return false;
        return true;
}

/* Splits "NAME[:TAG][@DIGEST]" into its parts, in place. */
static int ref_split(char *s, char **ret_tag, char **ret_digest, char **ret_error)
{
        char *at = strchr(s, '@'), *slash, *colon;

        *ret_digest = NULL;
        *ret_tag = NULL;
        if (at) {
                *at = '\0';
                if (!digest_valid(at + 1))
                        return image_error(ret_error, -EINVAL,
                                           "invalid digest \"%s\": only sha256:<64 lowercase hex digits> is supported",
                                           at + 1);
                *ret_digest = at + 1;
        }
        slash = strrchr(s, '/');
        colon = strrchr(slash ? slash : s, ':');
        if (colon) {
                *colon = '\0';
                if (!ref_tag_valid(colon + 1))
                        return image_error(ret_error, -EINVAL, "invalid tag \"%s\"", colon + 1);
                *ret_tag = colon + 1;
        }
        return 0;
}

/* Fills domain and path from NAME, applying Docker's defaults. */
static int ref_parse_name(const char *name, struct image_ref *ref, char **ret_error)
{
        const char *slash = strchr(name, '/'), *path = name, *p;
        size_t dn;

        if (slash && (memchr(name, '.', slash - name) || memchr(name, ':', slash - name) ||
                      (slash - name == 9 && strncmp(name, "localhost", 9) == 0))) {
                dn = slash - name;
                if (!ref_domain_valid(name, dn))
                        return image_error(ret_error, -EINVAL, "invalid registry name \"%.*s\"", (int)dn, name);
                ref->domain = strndup(name, dn);
                path = slash + 1;
        } else {
                ref->domain = strdup("docker.io");
        }
        if (!ref->domain)
                return -ENOMEM;
        if (strcmp(ref->domain, "index.docker.io") == 0) {
                free(ref->domain);
                ref->domain = strdup("docker.io");
                if (!ref->domain)
                        return -ENOMEM;
        }
        for (p = path;;) {
                const char *end = strchrnul(p, '/');
                if (!ref_component_valid(p, end - p))
                        return image_error(ret_error, -EINVAL,
                                           "invalid repository name \"%s\": components must be lowercase letters, digits and separators",
                                           path);
                if (!*end)
                        break;
                p = end + 1;
        }
        if (strcmp(ref->domain, "docker.io") == 0 && !strchr(path, '/')) {
                if (asprintf(&ref->path, "library/%s", path) < 0)
                        ref->path = NULL;
        } else {
                ref->path = strdup(path);
        }
        return ref->path ? 0 : -ENOMEM;
}

int image_ref_parse(const char *s, struct image_ref **ret, char **ret_error)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        _cleanup_free_ char *copy = NULL;
        char *tag, *digest;
        int r;

        if (!s || !*s)
                return image_error(ret_error, -EINVAL, "empty image reference");
        if (strlen(s) > IMAGE_REF_MAX_NAME + 1 + IMAGE_REF_MAX_TAG + 1 + DIGEST_STRING_MAX)
                return image_error(ret_error, -EINVAL, "image reference too long");
        copy = strdup(s);
        ref = calloc(1, sizeof(*ref));
        if (!copy || !ref)
                return -ENOMEM;
        r = ref_split(copy, &tag, &digest, ret_error);
        if (r < 0)
                return r;
        if (strlen(copy) > IMAGE_REF_MAX_NAME)
                return image_error(ret_error, -EINVAL, "repository name longer than %d characters", IMAGE_REF_MAX_NAME);
        r = ref_parse_name(copy, ref, ret_error);
        if (r < 0)
                return image_error(ret_error, r, "invalid image reference \"%s\"", s);
        /* The limit is on the full name, defaults included, so that the canonical form parses too. */
        if (strlen(ref->domain) + 1 + strlen(ref->path) > IMAGE_REF_MAX_NAME)
                return image_error(ret_error, -EINVAL, "repository name longer than %d characters",
                                   IMAGE_REF_MAX_NAME);
        if (!tag && !digest)
                tag = "latest";
        if ((tag && !(ref->tag = strdup(tag))) || (digest && !(ref->digest = strdup(digest))))
                return -ENOMEM;
        *ret = TAKE_PTR(ref);
        return 0;
}

void image_ref_free(struct image_ref *ref)
{
        if (!ref)
                return;
        free(ref->domain);
        free(ref->path);
        free(ref->tag);
        free(ref->digest);
        free(ref);
}

char *image_ref_name(const struct image_ref *ref)
{
        char *s;

        if (asprintf(&s, "%s/%s", ref->domain, ref->path) < 0)
                return NULL;
        return s;
}

char *image_ref_string(const struct image_ref *ref)
{
        char *s;
        int n;

        if (ref->digest)
                n = asprintf(&s, "%s/%s@%s", ref->domain, ref->path, ref->digest);
        else
                n = asprintf(&s, "%s/%s:%s", ref->domain, ref->path, ref->tag);
        return n < 0 ? NULL : s;
}

const char *image_ref_registry_host(const struct image_ref *ref)
{
        if (strcmp(ref->domain, "docker.io") == 0)
                return "registry-1.docker.io";
        return ref->domain;
}
