/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "fd-util.h"
#include "json-util.h"
#include "runv.h"
#include "status.h"

#define EXEC_MAX_ENV 1024

struct exec_opts {
        const char *id;
        const char *monitor; /* the id whose monitor serves it */
        const char *process_file;
        const char *pid_file;
        const char *console;
        const char *cwd;
        const char *user;
        const char *env[EXEC_MAX_ENV];
        size_t n_env;
        const char *gids[64];
        size_t n_gids;
        bool detach;
        bool tty;
        char **args;
        int tty_fd; /* with --console-socket in the foreground: a copy of the pty's slave, for resizes */
};

static int exec_parse(struct exec_opts *o, int argc, char **argv)
{
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' },  { "detach", no_argument, NULL, 'd' },
                { "tty", no_argument, NULL, 't' },            { "pid-file", required_argument, NULL, 'P' },
                { "console-socket", required_argument, NULL, 'c' }, { "cwd", required_argument, NULL, 'w' },
                { "env", required_argument, NULL, 'e' },      { "user", required_argument, NULL, 'u' },
                { "additional-gids", required_argument, NULL, 'g' }, { "no-new-privs", no_argument, NULL, 'N' },
                { "cap", required_argument, NULL, 'C' },      { "apparmor", required_argument, NULL, 'A' },
                { "process-label", required_argument, NULL, 'L' }, { "preserve-fds", required_argument, NULL, 'F' },
                { "ignore-paused", no_argument, NULL, 'I' },  { "cgroup", required_argument, NULL, 'G' },
                {}
        };
        int c;

        /* "+": options stop at the container id, so the command's own flags stay its own. */
        while ((c = getopt_long(argc, argv, "+p:dte:u:g:c:", opts, NULL)) >= 0) {
                switch (c) {
                case 'p': o->process_file = optarg; break;
                case 'd': o->detach = true; break;
                case 't': o->tty = true; break;
                case 'P': o->pid_file = optarg; break;
                case 'c': o->console = optarg; break;
                case 'w': o->cwd = optarg; break;
                case 'u': o->user = optarg; break;
                case 'e':
                        if (o->n_env >= EXEC_MAX_ENV)
                                return runv_error("too many --env");
                        o->env[o->n_env++] = optarg;
                        break;
                case 'g':
                        if (o->n_gids >= ARRAY_SIZE(o->gids))
                                return runv_error("too many --additional-gids");
                        o->gids[o->n_gids++] = optarg;
                        break;
                case 'N': case 'C': case 'A': case 'L': case 'F': case 'I': case 'G':
                        break;
                default:
                        return runv_error("usage: runv exec [options] ID [COMMAND [ARG...]]");
                }
        }
        if (optind >= argc)
                return runv_error("exec needs a container id");
        o->id = argv[optind];
        o->args = argv + optind + 1;
        if (!o->process_file && !o->args[0])
                return runv_error("exec needs a command or --process");
        return 0;
}

/* Adds or replaces KEY=VALUE in an env array, as runc does for --env. */
static void exec_env_set(struct json_object *env, const char *kv)
{
        size_t klen = strcspn(kv, "=");

        for (size_t i = 0; i < json_object_array_length(env); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(env, i));
                if (strncmp(e, kv, klen) == 0 && e[klen] == '=') {
                        json_object_array_put_idx(env, i, json_object_new_string(kv));
                        return;
                }
        }
        json_object_array_add(env, json_object_new_string(kv));
}

static int exec_user(struct json_object *proc, const char *user)
{
        struct json_object *u = json_object_new_object();
        unsigned long uid, gid = 0;
        char *end;

        /* Without the container's passwd file at hand, users are numeric, as runc requires for uid:gid. */
        uid = strtoul(user, &end, 10);
        if (end == user || (*end && *end != ':'))
                return runv_error("--user must be UID[:GID]");
        if (*end == ':') {
                const char *g = end + 1;
                gid = strtoul(g, &end, 10);
                if (end == g || *end)
                        return runv_error("--user must be UID[:GID]");
        }
        json_object_object_add(u, "uid", json_object_new_int64((int64_t)uid));
        json_object_object_add(u, "gid", json_object_new_int64((int64_t)gid));
        json_object_object_add(proc, "user", u);
        return 0;
}

static int exec_gids(struct json_object *proc, struct exec_opts *o)
{
        struct json_object *user, *gids = json_object_new_array();
        char *end;

        json_object_object_get_ex(proc, "user", &user);
        for (size_t i = 0; i < o->n_gids; i++) {
                unsigned long g = strtoul(o->gids[i], &end, 10);
                if (end == o->gids[i] || *end || g > UINT32_MAX) {
                        json_object_put(gids);
                        return runv_error("--additional-gids takes numeric group ids");
                }
                json_object_array_add(gids, json_object_new_int64((int64_t)g));
        }
        json_object_object_add(user, "additionalGids", gids);
        return 0;
}

/* Without --process, the process is the container's own with the command, env, cwd and user given. */
static int exec_process_from_spec(struct exec_opts *o, const struct runv_state *st, struct json_object **ret)
{
        _cleanup_(json_object_putp) struct json_object *proc = json_object_new_object();
        struct json_object *args = json_object_new_array(), *env = json_object_new_array(), *user;
        struct runv_bundle b;
        int r;

        r = runv_bundle_load(st->bundle, &b);
        if (r != 0) {
                json_object_put(args);
                json_object_put(env);
                return r;
        }
        for (char **a = o->args; *a; a++)
                json_object_array_add(args, json_object_new_string(*a));
        for (char **e = b.spec->process->env; e && *e; e++)
                json_object_array_add(env, json_object_new_string(*e));
        for (size_t i = 0; i < o->n_env; i++)
                exec_env_set(env, o->env[i]);
        json_object_object_add(proc, "args", args);
        json_object_object_add(proc, "env", env);
        json_object_object_add(proc, "cwd", json_object_new_string(o->cwd ? o->cwd : b.spec->process->cwd));
        json_object_object_add(proc, "terminal", json_object_new_boolean(o->tty));
        user = json_object_new_object();
        json_object_object_add(user, "uid", json_object_new_int64(b.spec->process->uid));
        json_object_object_add(user, "gid", json_object_new_int64(b.spec->process->gid));
        json_object_object_add(proc, "user", user);
        runv_bundle_free(&b);
        if (o->user && exec_user(proc, o->user) != 0)
                return 1;
        if (o->n_gids > 0 && exec_gids(proc, o) != 0)
                return 1;
        *ret = TAKE_PTR(proc);
        return 0;
}

static int exec_process_from_file(struct exec_opts *o, struct json_object **ret)
{
        _cleanup_free_ char *data = NULL, *err = NULL;
        struct oci_process *p = NULL;
        struct json_object *proc;
        size_t len;
        int r;

        r = read_full_file(o->process_file, OCI_SPEC_MAX_SIZE, &data, &len);
        if (r < 0)
                return runv_error("cannot read %s: %s", o->process_file, strerror(-r));
        if (json_parse_object(data, len, &proc) < 0)
                return runv_error("%s is not a JSON object", o->process_file);
        /* Checked here too, so that a bad file gets its message before anything happens. */
        if (oci_process_parse(proc, &p, &err) < 0) {
                json_object_put(proc);
                return runv_error("%s: %s", o->process_file, err ? err : "bad process");
        }
        o->tty = p->terminal;
        oci_process_free(p);
        *ret = proc;
        return 0;
}

static int exec_stdio(struct exec_opts *o, int fds[3], size_t *n_fds)
{
        if (!o->tty) {
                for (int i = 0; i < 3; i++)
                        fds[i] = fcntl(i, F_GETFD) >= 0 ? i : open("/dev/null", O_RDWR | O_CLOEXEC);
                *n_fds = 3;
                return 0;
        }
        *n_fds = 1;
        if (o->console)
                return runv_console_send(o->console, &fds[0]);
        if (o->detach)
                return runv_error("cannot allocate tty if runv will detach without setting console socket");
        fds[0] = STDIN_FILENO;
        return 0;
}

/* Sends the request with the stdio; errors go to err_fd when it is set, else to runv_error(). */
static int exec_send(struct exec_opts *o, struct json_object *proc, int sock, int err_fd)
{
        _cleanup_(json_object_putp) struct json_object *req = json_object_new_object(), *reply = NULL;
        int fds[3] = { -1, -1, -1 };
        size_t n_fds = 0;
        const char *err;
        int r;

        r = exec_stdio(o, fds, &n_fds);
        if (r != 0)
                return r;
        json_object_object_add(req, "op", json_object_new_string("exec"));
        json_object_object_add(req, "process", json_object_get(proc));
        json_object_object_add(req, "container", json_object_new_string(o->id));
        r = runv_monitor_send(sock, req, fds, n_fds);
        /* The console's holder resizes the pty and signals us: the size goes on to the guest. */
        if (o->console && !o->detach && o->tty_fd < 0)
                o->tty_fd = fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
        if (o->console)
                close(fds[0]);
        if (r >= 0)
                r = runv_monitor_recv(sock, &reply);
        if (r < 0)
                err = "cannot reach the container's monitor";
        else if (json_get_string(reply, "error", &err) < 0)
                return 0;
        if (err_fd >= 0)
                dprintf(err_fd, "%s", err);
        else
                runv_error("%s", err);
        return 1;
}

struct exec_child {
        struct exec_opts *o;
        struct json_object *proc;
};

static _noreturn_ void exec_child(void *userdata, int ready)
{
        struct exec_child *c = userdata;
        _cleanup_close_ int sock = -1;

        if (runv_monitor_connect(c->o->monitor, &sock) < 0) {
                dprintf(ready, "container not running");
                _exit(1);
        }
        if (exec_send(c->o, c->proc, sock, ready) != 0)
                _exit(1);
        dprintf(ready, "ok");
        close(ready);
        /* The client's stdio belong to the process now, not to us: hold none of them. */
        runv_drop_stdio();
        setsid();
        _exit(runv_wait_exit(sock, true));
}

/*
 * Detached, a child of ours stands for the process: it makes the request
 * itself (so the monitor names its pid in ps), then waits for the status
 * and exits with it.
 */
static int exec_detach(struct exec_opts *o, struct json_object *proc)
{
        struct exec_child c = { .o = o, .proc = proc };

        return runv_spawn(exec_child, &c, o->pid_file, "the exec process");
}

static int exec_foreground(struct exec_opts *o, int sock)
{
        struct termios saved, raw;
        bool restore = false;
        int r;

        r = runv_write_pid_file(o->pid_file, getpid());
        if (r != 0)
                return r;
        if (o->tty && !o->console && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                raw = saved;
                cfmakeraw(&raw);
                restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        r = runv_wait_exit_tty(sock, true, o->tty_fd);
        if (restore)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        return r;
}

/* runv exec: another process in the running container's VM, in the container's namespaces. */
int runv_cmd_exec(int argc, char **argv)
{
        _cleanup_(state_freep) struct runv_state *st = NULL;
        _cleanup_(json_object_putp) struct json_object *proc = NULL;
        _cleanup_close_ int sock = -1;
        struct exec_opts o = { .tty_fd = -1 };
        int r;

        r = exec_parse(&o, argc, argv);
        if (r == 0)
                r = runv_load_existing(o.id, &st);
        if (r != 0)
                return r;
        if (st->status != RUNV_RUNNING)
                return runv_error("cannot exec in a %s container", state_status_to_string(st->status));
        o.monitor = runv_monitor_of(st);
        r = o.process_file ? exec_process_from_file(&o, &proc) : exec_process_from_spec(&o, st, &proc);
        if (r != 0)
                return r;
        if (o.detach)
                return exec_detach(&o, proc);
        r = runv_monitor_connect(o.monitor, &sock);
        if (r < 0)
                return runv_error("container not running");
        r = exec_send(&o, proc, sock, -1);
        if (r != 0)
                return r;
        return exec_foreground(&o, sock);
}
