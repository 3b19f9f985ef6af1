/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "macros.h"
#include "qemu-internal.h"

/* Bump when a field changes meaning; associate() refuses records it cannot read. */
#define QEMU_STATE_VERSION 1

static const char *const qemu_machine_names[] = {
        [QEMU_MACHINE_MICROVM] = "microvm",
        [QEMU_MACHINE_Q35] = "q35",
};
static const char *const qemu_accel_names[] = {
        [VM_ACCEL_AUTO] = "auto",
        [VM_ACCEL_KVM] = "kvm",
        [VM_ACCEL_TCG] = "tcg",
};
static const char *const qemu_share_names[] = {
        [VM_SHARE_AUTO] = "auto",
        [VM_SHARE_VIRTIOFS] = "virtiofs",
        [VM_SHARE_9P] = "9p",
        [VM_SHARE_NONE] = "none",
};

static int qemu_lookup(const char *const *names, size_t n, const char *s)
{
        for (size_t i = 0; s && i < n; i++)
                if (strcmp(names[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *qemu_machine_to_string(enum qemu_machine m)
{
        return (size_t)m < ARRAY_SIZE(qemu_machine_names) ? qemu_machine_names[m] : NULL;
}

int qemu_machine_from_string(const char *s, enum qemu_machine *ret)
{
        int i = qemu_lookup(qemu_machine_names, ARRAY_SIZE(qemu_machine_names), s);

        if (i < 0)
                return i;
        *ret = (enum qemu_machine)i;
        return 0;
}

const char *qemu_accel_to_string(enum vm_accel a)
{
        return (size_t)a < ARRAY_SIZE(qemu_accel_names) ? qemu_accel_names[a] : NULL;
}

int qemu_accel_from_string(const char *s, enum vm_accel *ret)
{
        int i = qemu_lookup(qemu_accel_names, ARRAY_SIZE(qemu_accel_names), s);

        if (i < 0)
                return i;
        *ret = (enum vm_accel)i;
        return 0;
}

const char *qemu_share_to_string(enum vm_share s)
{
        return (size_t)s < ARRAY_SIZE(qemu_share_names) ? qemu_share_names[s] : NULL;
}

int qemu_share_from_string(const char *s, enum vm_share *ret)
{
        int i = qemu_lookup(qemu_share_names, ARRAY_SIZE(qemu_share_names), s);

        if (i < 0)
                return i;
        *ret = (enum vm_share)i;
        return 0;
}

static void state_add_string(json_object *o, const char *key, const char *value)
{
        if (value)
                json_object_object_add(o, key, json_object_new_string(value));
}

int qemu_state_to_json(const struct qemu_state *st, char **ret)
{
        json_object *o = json_object_new_object();
        char *s;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "version", json_object_new_int(QEMU_STATE_VERSION));
        state_add_string(o, "driver", "qemu");
        state_add_string(o, "id", st->id);
        state_add_string(o, "machine", st->machine);
        state_add_string(o, "accel", qemu_accel_to_string(st->accel));
        state_add_string(o, "share", qemu_share_to_string(st->share));
        json_object_object_add(o, "pid", json_object_new_int64(st->pid));
        json_object_object_add(o, "pid_start", json_object_new_uint64(st->pid_start));
        json_object_object_add(o, "helper_pid", json_object_new_int64(st->helper_pid));
        json_object_object_add(o, "helper_start", json_object_new_uint64(st->helper_start));
        state_add_string(o, "qmp_socket", st->qmp_socket);
        state_add_string(o, "ctl_socket", st->ctl_socket);
        state_add_string(o, "stream_socket", st->stream_socket);
        state_add_string(o, "console_log", st->console_log);
        state_add_string(o, "virtiofsd_socket", st->virtiofsd_socket);
        json_object_object_add(o, "hotplug_ports", json_object_new_int64(st->hotplug_ports));
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Copies a string member; a missing one is an error only when required. */
static int state_get_string(json_object *o, const char *key, bool required, char **ret)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return required ? -EBADMSG : 0;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int state_get_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret)
{
        json_object *v;
        int64_t i;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        errno = 0;
        i = json_object_get_int64(v);
        if (errno != 0 || i < min || i > max)
                return -EBADMSG;
        *ret = i;
        return 0;
}

static int state_get_enums(json_object *o, struct qemu_state *st)
{
        json_object *v;

        if (!json_object_object_get_ex(o, "accel", &v) ||
            qemu_accel_from_string(json_object_get_string(v), &st->accel) < 0)
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "share", &v) ||
            qemu_share_from_string(json_object_get_string(v), &st->share) < 0)
                return -EBADMSG;
        return 0;
}

static int state_get_numbers(json_object *o, struct qemu_state *st)
{
        int64_t pid, helper, ports, start, hstart;
        int r;

        if ((r = state_get_int(o, "pid", 1, INT32_MAX, &pid)) < 0 ||
            (r = state_get_int(o, "helper_pid", 0, INT32_MAX, &helper)) < 0 ||
            (r = state_get_int(o, "pid_start", 0, INT64_MAX, &start)) < 0 ||
            (r = state_get_int(o, "helper_start", 0, INT64_MAX, &hstart)) < 0 ||
            (r = state_get_int(o, "hotplug_ports", 0, 256, &ports)) < 0)
                return r;
        st->pid = (pid_t)pid;
        st->helper_pid = (pid_t)helper;
        st->pid_start = (unsigned long long)start;
        st->helper_start = (unsigned long long)hstart;
        st->hotplug_ports = (unsigned)ports;
        return 0;
}

static int state_parse(json_object *o, struct qemu_state *st)
{
        int64_t version;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        r = state_get_int(o, "version", 0, INT32_MAX, &version);
        if (r < 0)
                return r;
        if (version != QEMU_STATE_VERSION)
                return -EPROTONOSUPPORT;
        if ((r = state_get_string(o, "id", true, &st->id)) < 0 ||
            (r = state_get_string(o, "machine", true, &st->machine)) < 0 ||
            (r = state_get_string(o, "qmp_socket", true, &st->qmp_socket)) < 0 ||
            (r = state_get_string(o, "ctl_socket", true, &st->ctl_socket)) < 0 ||
            (r = state_get_string(o, "stream_socket", true, &st->stream_socket)) < 0 ||
            (r = state_get_string(o, "console_log", true, &st->console_log)) < 0 ||
            (r = state_get_string(o, "virtiofsd_socket", false, &st->virtiofsd_socket)) < 0)
                return r;
        r = state_get_enums(o, st);
        if (r < 0)
                return r;
        return state_get_numbers(o, st);
}

int qemu_state_from_json(const char *text, struct qemu_state *ret)
{
        struct qemu_state st = {};
        json_object *o = json_tokener_parse(text);
        int r;

        if (!o)
                return -EBADMSG;
        r = state_parse(o, &st);
        json_object_put(o);
        if (r < 0) {
                qemu_state_done(&st);
                return r;
        }
        *ret = st;
        return 0;
}

void qemu_state_done(struct qemu_state *st)
{
        free(st->id);
        free(st->machine);
        free(st->qmp_socket);
        free(st->ctl_socket);
        free(st->stream_socket);
        free(st->console_log);
        free(st->virtiofsd_socket);
        *st = (struct qemu_state){};
}
