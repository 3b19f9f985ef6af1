/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bridge's state file (see netbridge.h and docs/networking.md): which
 * pod holds which address, taps and published ports. It is read whole,
 * checked, changed in memory and written back atomically (a temporary
 * file, fsync, rename) while the caller holds the lock file's flock(), so
 * concurrent processes see each other's allocations.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>

#include "fd-util.h"
#include "fs-util.h"
#include "netbridge-internal.h"

#define NB_STATE_SIZE_MAX (16u << 20)
#define NB_STATE_VERSION  1

int nb_state_lock(struct netbridge *b, int *ret_fd, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        int r;

        r = mkdir_p(b->state_dir, 0700);
        if (r < 0)
                return nb_fail(ret_error, r, "making %s", b->state_dir);
        fd = open(b->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return nb_fail(ret_error, -errno, "opening %s", b->lock_path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return nb_fail(ret_error, -errno, "locking %s", b->lock_path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static bool nb_json_uint(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret)
{
        struct json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        n = json_object_get_int64(v);
        if (n < min || n > max)
                return false;
        *ret = n;
        return true;
}

static bool nb_json_addr(struct json_object *o, const char *key, struct in_addr *ret)
{
        struct json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) &&
               inet_pton(AF_INET, json_object_get_string(v), ret) == 1;
}

static const char *nb_json_str(struct json_object *o, const char *key)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* Host offset of a in the subnet: 2 .. size-2 are pods' (1 is the gateway). */
static bool nb_host_offset(const struct netbridge *b, struct in_addr a, uint32_t *ret)
{
        uint32_t mask = b->prefix ? ~0u << (32 - b->prefix) : 0;
        uint32_t h = ntohl(a.s_addr), net = ntohl(b->subnet.s_addr);
        uint32_t off = h & ~mask;

        if ((h & mask) != net || off < 2 || off >= (~mask))
                return false;
        *ret = off;
        return true;
}

static bool nb_port_valid(struct json_object *o)
{
        const char *proto = nb_json_str(o, "protocol");
        struct in_addr a;
        int64_t lo, hi, pod;

        if (!json_object_is_type(o, json_type_object) || !proto ||
            (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0))
                return false;
        if (!nb_json_addr(o, "hostIP", &a) || !nb_json_addr(o, "podIP", &a))
                return false;
        if (!nb_json_uint(o, "hostPort", 1, 65535, &lo) || !nb_json_uint(o, "hostPortEnd", lo, 65535, &hi) ||
            !nb_json_uint(o, "podPort", 1, 65535, &pod))
                return false;
        return hi - lo < NETBRIDGE_PORT_RANGE_MAX && pod + (hi - lo) <= 65535;
}

static bool nb_tap_valid(struct json_object *o)
{
        const char *name = nb_json_str(o, "name"), *mac = nb_json_str(o, "mac");
        int64_t v;

        return json_object_is_type(o, json_type_object) && nb_json_uint(o, "ordinal", 0, NETBRIDGE_TAPS_MAX - 1, &v) &&
               nb_json_uint(o, "mtu", 68, 65535, &v) && name && strlen(name) >= 1 && strlen(name) <= 15 && mac &&
               strlen(mac) == 17;
}

static bool nb_array_valid(struct json_object *pod, const char *key, size_t max, bool (*valid)(struct json_object *))
{
        struct json_object *a;

        if (!json_object_object_get_ex(pod, key, &a))
                return true;
        if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > max)
                return false;
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (!valid(json_object_array_get_idx(a, i)))
                        return false;
        return true;
}

/* One pod's entry; its address must be a free host address of the subnet. */
static int nb_pod_check(struct netbridge *b, const char *id, struct json_object *pod, uint8_t *used, char **ret_error)
{
        struct in_addr a;
        uint32_t off;

        if (!nb_pod_id_valid(id) || !json_object_is_type(pod, json_type_object))
                return nb_fail(ret_error, -EBADMSG, "%s: pod %s is malformed", b->state_path, id);
        if (json_object_object_get_ex(pod, "address", NULL)) {
                if (!nb_json_addr(pod, "address", &a) || !nb_host_offset(b, a, &off))
                        return nb_fail(ret_error, -EBADMSG, "%s: pod %s: address is not one of %s", b->state_path, id,
                                       b->subnet_text);
                if (used[off / 8] & (1u << (off % 8)))
                        return nb_fail(ret_error, -EBADMSG, "%s: pod %s: address %s is held twice", b->state_path, id,
                                       inet_ntoa(a));
                used[off / 8] |= 1u << (off % 8);
        }
        if (!nb_array_valid(pod, "taps", NETBRIDGE_TAPS_MAX, nb_tap_valid) ||
            !nb_array_valid(pod, "ports", 65535, nb_port_valid))
                return nb_fail(ret_error, -EBADMSG, "%s: pod %s: taps or ports are malformed", b->state_path, id);
        return 0;
}

static uint8_t *nb_bitmap_new(const struct netbridge *b)
{
        return calloc(((size_t)1 << (32 - b->prefix)) / 8 + 1, 1);
}

static bool nb_state_has_addresses(struct json_object *pods)
{
        json_object_object_foreach(pods, id, pod)
        {
                (void)id;
                if (json_object_is_type(pod, json_type_object) && json_object_object_get_ex(pod, "address", NULL))
                        return true;
        }
        return false;
}

/* A subnet change is taken only while no pod holds an address of the old one. */
static int nb_state_check(struct netbridge *b, struct json_object *root, char **ret_error)
{
        _cleanup_free_ uint8_t *used = NULL;
        struct json_object *pods;
        const char *subnet = nb_json_str(root, "subnet");
        int r;

        if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "pods", &pods) ||
            !json_object_is_type(pods, json_type_object) || !subnet)
                return nb_fail(ret_error, -EBADMSG, "%s: not a Hyper network state file", b->state_path);
        if (strcmp(subnet, b->subnet_text) != 0) {
                if (nb_state_has_addresses(pods))
                        return nb_fail(ret_error, -EBUSY, "%s: pods hold addresses of %s, not of %s", b->state_path,
                                       subnet, b->subnet_text);
                json_object_object_add(root, "subnet", json_object_new_string(b->subnet_text));
        }
        used = nb_bitmap_new(b);
        if (!used)
                return -ENOMEM;
        json_object_object_foreach(pods, id, pod)
        {
                r = nb_pod_check(b, id, pod, used, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static struct json_object *nb_state_new(const struct netbridge *b)
{
        struct json_object *root = json_object_new_object();

        if (!root)
                return NULL;
        json_object_object_add(root, "version", json_object_new_int(NB_STATE_VERSION));
        json_object_object_add(root, "bridge", json_object_new_string(b->name));
        json_object_object_add(root, "subnet", json_object_new_string(b->subnet_text));
        json_object_object_add(root, "next", json_object_new_int64(2));
        json_object_object_add(root, "pods", json_object_new_object());
        return root;
}

int nb_state_load(struct netbridge *b, struct json_object **ret, char **ret_error)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file(b->state_path, NB_STATE_SIZE_MAX, &text, NULL);
        if (r == -ENOENT)
                root = nb_state_new(b);
        else if (r < 0)
                return nb_fail(ret_error, r, "reading %s", b->state_path);
        else
                root = json_tokener_parse(text);
        if (!root && r == -ENOENT)
                return -ENOMEM;
        if (!root)
                return nb_fail(ret_error, -EBADMSG, "%s: not JSON", b->state_path);
        r = nb_state_check(b, root, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        return 0;
}

int nb_state_save(struct netbridge *b, struct json_object *root, char **ret_error)
{
        const char *text =
                json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        int r;

        if (!text)
                return -ENOMEM;
        r = write_file_atomic(b->state_path, text, strlen(text), 0600);
        if (r < 0)
                return nb_fail(ret_error, r, "writing %s", b->state_path);
        return 0;
}

struct json_object *nb_state_pod(struct json_object *root, const char *pod_id, bool create)
{
        struct json_object *pods, *pod;

        if (!json_object_object_get_ex(root, "pods", &pods))
                return NULL;
        if (json_object_object_get_ex(pods, pod_id, &pod))
                return pod;
        if (!create)
                return NULL;
        pod = json_object_new_object();
        if (!pod || json_object_object_add(pods, pod_id, pod) < 0) {
                json_object_put(pod);
                return NULL;
        }
        return pod;
}

static bool nb_array_empty(struct json_object *pod, const char *key)
{
        struct json_object *a;

        return !json_object_object_get_ex(pod, key, &a) || json_object_array_length(a) == 0;
}

void nb_state_pod_prune(struct json_object *root, const char *pod_id)
{
        struct json_object *pods, *pod = nb_state_pod(root, pod_id, false);

        if (!pod || json_object_object_get_ex(pod, "address", NULL) || !nb_array_empty(pod, "taps") ||
            !nb_array_empty(pod, "ports"))
                return;
        if (json_object_object_get_ex(root, "pods", &pods))
                json_object_object_del(pods, pod_id);
}

bool nb_state_pod_address(struct json_object *pod, struct in_addr *ret)
{
        return pod && nb_json_addr(pod, "address", ret);
}

/* The first free offset from the cursor on, wrapping once; 0 when the subnet is full. */
static uint32_t nb_alloc_offset(const struct netbridge *b, const uint8_t *used, uint32_t next)
{
        uint32_t size = (uint32_t)((uint64_t)1 << (32 - b->prefix));

        if (next < 2 || next > size - 2)
                next = 2;
        for (uint32_t i = 0, off = next; i<size - 3; i++, off = off + 1> size - 2 ? 2 : off + 1)
                if (!(used[off / 8] & (1u << (off % 8))))
                        return off;
        return 0;
}

static int nb_used_addresses(const struct netbridge *b, struct json_object *root, uint8_t *used)
{
        struct json_object *pods;
        struct in_addr a;
        uint32_t off;

        if (!json_object_object_get_ex(root, "pods", &pods))
                return -EINVAL;
        json_object_object_foreach(pods, id, pod)
        {
                (void)id;
                if (nb_state_pod_address(pod, &a) && nb_host_offset(b, a, &off))
                        used[off / 8] |= 1u << (off % 8);
        }
        return 0;
}

/*
 * Addresses are handed out from a cursor that only moves forward (and wraps),
 * so a released address is reused as late as possible: a peer's stale ARP
 * or conntrack entry for it has time to expire.
 */
int nb_state_alloc(struct netbridge *b, struct json_object *root, const char *pod_id, struct in_addr *ret,
                   char **ret_error)
{
        _cleanup_free_ uint8_t *used = nb_bitmap_new(b);
        struct json_object *pod = nb_state_pod(root, pod_id, false);
        struct in_addr a;
        int64_t next = 2;
        uint32_t off;
        char text[INET_ADDRSTRLEN];

        if (nb_state_pod_address(pod, ret))
                return 0;
        if (!used || nb_used_addresses(b, root, used) < 0)
                return -ENOMEM;
        (void)nb_json_uint(root, "next", 0, UINT32_MAX, &next);
        off = nb_alloc_offset(b, used, (uint32_t)next);
        if (off == 0)
                return nb_fail(ret_error, -ENOSPC, "no free address left in %s", b->subnet_text);
        pod = nb_state_pod(root, pod_id, true);
        a.s_addr = htonl(ntohl(b->subnet.s_addr) + off);
        if (!pod || !inet_ntop(AF_INET, &a, text, sizeof(text)))
                return -ENOMEM;
        json_object_object_add(pod, "address", json_object_new_string(text));
        json_object_object_add(root, "next", json_object_new_int64((int64_t)off + 1));
        *ret = a;
        return 0;
}

void nb_port_from_json(struct json_object *o, struct netbridge_port *p)
{
        int64_t v = 0;

        *p = (struct netbridge_port){};
        p->protocol = strcmp(nb_json_str(o, "protocol") ?: "", "udp") == 0 ? NETBRIDGE_UDP : NETBRIDGE_TCP;
        (void)nb_json_addr(o, "hostIP", &p->host_ip);
        (void)nb_json_addr(o, "podIP", &p->pod_ip);
        (void)nb_json_uint(o, "hostPort", 1, 65535, &v);
        p->host_port = (uint16_t)v;
        (void)nb_json_uint(o, "hostPortEnd", 1, 65535, &v);
        p->host_port_end = (uint16_t)v;
        (void)nb_json_uint(o, "podPort", 1, 65535, &v);
        p->pod_port = (uint16_t)v;
}

struct json_object *nb_port_to_json(const struct netbridge_port *p)
{
        struct json_object *o = json_object_new_object();
        char host[INET_ADDRSTRLEN], pod[INET_ADDRSTRLEN];

        if (!o || !inet_ntop(AF_INET, &p->host_ip, host, sizeof(host)) ||
            !inet_ntop(AF_INET, &p->pod_ip, pod, sizeof(pod))) {
                json_object_put(o);
                return NULL;
        }
        json_object_object_add(o, "protocol", json_object_new_string(nb_protocol_name(p->protocol)));
        json_object_object_add(o, "hostIP", json_object_new_string(host));
        json_object_object_add(o, "hostPort", json_object_new_int(p->host_port));
        json_object_object_add(o, "hostPortEnd", json_object_new_int(p->host_port_end));
        json_object_object_add(o, "podIP", json_object_new_string(pod));
        json_object_object_add(o, "podPort", json_object_new_int(p->pod_port));
        return o;
}

static bool nb_ports_overlap(const struct netbridge_port *a, const struct netbridge_port *b)
{
        if (a->protocol != b->protocol)
                return false;
        if (a->host_ip.s_addr != INADDR_ANY && b->host_ip.s_addr != INADDR_ANY &&
            a->host_ip.s_addr != b->host_ip.s_addr)
                return false;
        return a->host_port <= b->host_port_end && b->host_port <= a->host_port_end;
}

int nb_state_port_conflict(struct json_object *root, const struct netbridge_port *p, const char **ret_pod)
{
        struct json_object *pods, *ports;
        struct netbridge_port q;

        if (!json_object_object_get_ex(root, "pods", &pods))
                return -ENOENT;
        json_object_object_foreach(pods, id, pod)
        {
                if (!json_object_object_get_ex(pod, "ports", &ports))
                        continue;
                for (size_t i = 0; i < json_object_array_length(ports); i++) {
                        nb_port_from_json(json_object_array_get_idx(ports, i), &q);
                        if (nb_ports_overlap(p, &q)) {
                                *ret_pod = id;
                                return 0;
                        }
                }
        }
        return -ENOENT;
}
