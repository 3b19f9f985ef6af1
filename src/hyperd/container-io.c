/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyperd's side of hyperd-shim (shim.c, docs/shim.md): finding it,
 * starting one for a container or an exec, and reaching its attach socket.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-io.h"
#include "containers.h"
#include "json-util.h"
#include "fd-util.h"
#include "log.h"
#include "shim-proto.h"
#include "spawn-util.h"

#define SHIM_MAX_READY 2048

int container_shim_find(char **ret)
{
        static const char *const rel[] = {"hyperd-shim", "../libexec/hyper/hyperd-shim"};
        const char *env = getenv("HYPER_SHIM");
        char exe[PATH_MAX], *p;
        ssize_t n;

        if (env && *env)
                return (*ret = realpath(env, NULL)) ? 0 : -errno;
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0)
                return -errno;
        exe[n] = '\0';
        dirname(exe);
        for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
                if (asprintf(&p, "%s/%s", exe, rel[i]) < 0)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = p;
                        return 0;
                }
                free(p);
        }
        return -ENOENT;
}

static int io_error(char **ret_error, int r, const char *prefix, const char *msg)
{
        if (ret_error && asprintf(ret_error, "%s%s", prefix, msg) < 0)
                *ret_error = NULL;
        return r;
}

/* hyperd-shim OPTIONS -- RUNV --root ROOT ARGS... */
static char **io_argv(struct hyperd *hd, const struct shim_options *o, char **args)
{
        size_t n = 0, i = 0;
        char **v;

        while (args[n])
                n++;
        v = calloc(n + 20, sizeof(char *));
        if (!v)
                return NULL;
        v[i++] = hd->shim;
        v[i++] = (char *)"--dir";
        v[i++] = (char *)o->dir;
        if (o->log) {
                v[i++] = (char *)"--log";
                v[i++] = (char *)o->log;
        }
        if (o->tty)
                v[i++] = (char *)"--tty";
        if (o->stdin_open)
                v[i++] = (char *)"--stdin";
        if (o->stdin_once)
                v[i++] = (char *)"--stdin-once";
        if (o->wait_attach)
                v[i++] = (char *)"--wait-attach";
        if (o->exit_file)
                v[i++] = (char *)"--exit-file";
        if (o->ready_on_exit)
                v[i++] = (char *)"--ready-on-exit";
        v[i++] = (char *)"--ready-fd";
        v[i++] = (char *)"3"; /* container_shim_start puts it there */
        v[i++] = (char *)"--";
        v[i++] = hd->runv;
        v[i++] = (char *)"--root";
        v[i++] = hd->config->runv_root;
        memcpy(v + i, args, n * sizeof(char *));
        return v;
}

int container_shim_start(struct hyperd *hd, const struct shim_options *o, char **args, char **ret_error)
{
        _cleanup_free_ char **argv = NULL;
        char buf[SHIM_MAX_READY + 1];
        int ready[2], r, st;
        size_t len = 0;
        ssize_t n;
        pid_t pid;

        if (!hd->shim)
                return io_error(ret_error, -ENOENT, "",
                                "hyperd found no hyperd-shim to hold the container's I/O (install it beside hyperd, "
                                "or set HYPER_SHIM)");
        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        argv = io_argv(hd, o, args);
        if (!argv) {
                safe_close(ready[0]);
                safe_close(ready[1]);
                return -ENOMEM;
        }
        /* No stdio for the shim: its fd 3 is the ready pipe. */
        r = spawn_with_fds(argv[0], argv, (const int[]){-1, -1, ready[1]}, 3, &pid);
        safe_close(ready[1]);
        if (r < 0) {
                safe_close(ready[0]);
                return io_error(ret_error, r, "cannot run hyperd-shim: ", strerror(-r));
        }
        /* The shim's first process exits at once; its child goes on. */
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        while (len < SHIM_MAX_READY && ((n = read(ready[0], buf + len, SHIM_MAX_READY - len)) > 0 ||
                                        (n < 0 && errno == EINTR)))
                len += n > 0 ? (size_t)n : 0;
        safe_close(ready[0]);
        buf[len] = '\0';
        if (strncmp(buf, "ok", 2) == 0)
                return 0;
        if (strncmp(buf, "error ", 6) == 0) {
                const char *m = buf + 6;

                if (strncmp(m, "runv: ", 6) == 0)
                        m += 6;
                return io_error(ret_error, -EIO, "", m);
        }
        return io_error(ret_error, -EIO, "", "hyperd-shim ended without saying why");
}

int container_shim_attach(const char *dir, int flags)
{
        char hello[2] = {'h', (char)flags};
        int fd = shim_connect(dir, SHIM_ATTACH_SOCKET, SOCK_SEQPACKET);

        if (fd < 0)
                return fd;
        if (flags >= 0 && send(fd, hello, sizeof(hello), MSG_NOSIGNAL) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

int container_shim_resize(const char *dir, unsigned rows, unsigned cols)
{
        _cleanup_close_ int fd = container_shim_attach(dir, -1);
        char msg[5] = {'r'};
        uint16_t h = (uint16_t)rows, w = (uint16_t)cols;

        if (fd < 0)
                return fd;
        memcpy(msg + 1, &h, 2);
        memcpy(msg + 3, &w, 2);
        return send(fd, msg, sizeof(msg), MSG_NOSIGNAL) < 0 ? -errno : 0;
}

void container_shim_wait(const char *dir, int timeout_ms)
{
        _cleanup_close_ int fd = container_shim_attach(dir, -1);
        struct pollfd p = {.fd = fd, .events = POLLIN};

        /* The shim closes its clients when it ends. */
        if (fd >= 0)
                while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
                        ;
}

void container_config_io(struct hyperd *hd, const char *id, bool *ret_tty, bool *ret_stdin_open,
                         bool *ret_stdin_once)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *config = container_bundle(hd, id, "config.json"), *text = NULL;
        struct json_object *proc, *t, *a, *in;
        const char *stdin_ = NULL;
        size_t len;

        *ret_tty = *ret_stdin_open = *ret_stdin_once = false;
        if (!config || read_full_file(config, 1024 * 1024, &text, &len) < 0 || json_parse_object(text, len, &o) < 0)
                return;
        *ret_tty = json_object_object_get_ex(o, "process", &proc) && json_object_object_get_ex(proc, "terminal", &t) &&
                   json_object_get_boolean(t);
        if (json_object_object_get_ex(o, "annotations", &a) && json_object_object_get_ex(a, CONTAINER_ANNOTATION_STDIN, &in))
                stdin_ = json_object_get_string(in);
        *ret_stdin_open = stdin_ && (strcmp(stdin_, "open") == 0 || strcmp(stdin_, "once") == 0);
        *ret_stdin_once = stdin_ && strcmp(stdin_, "once") == 0;
}

bool container_config_tty(struct hyperd *hd, const char *id)
{
        bool tty, stdin_open, stdin_once;

        container_config_io(hd, id, &tty, &stdin_open, &stdin_once);
        return tty;
}

void container_shims_wait(const char *bundle, int timeout_ms)
{
        _cleanup_free_ char *execs = NULL;
        struct dirent *de;
        DIR *d;

        container_shim_wait(bundle, timeout_ms);
        if (asprintf(&execs, "%s/exec", bundle) < 0 || !(d = opendir(execs)))
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *dir = NULL;

                if (de->d_name[0] != '.' && asprintf(&dir, "%s/%s", execs, de->d_name) >= 0)
                        container_shim_wait(dir, timeout_ms);
        }
        closedir(d);
}
