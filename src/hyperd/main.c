/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs-util.h"
#include "guest.h"
#include "hyperd.h"
#include "container-io.h"
#include "pods.h"
#include "containers.h"
#include "hypervisor.h"
#include "log.h"
#include "volumes.h"
#include "runv-driver.h"

struct hyperd_args {
        const char *config;
        const char *socket, *root, *log_file, *runv_root, *network_state, *group, *bridge, *subnet;
        bool debug, remove_network;
};

static void hyperd_usage(FILE *f)
{
        fprintf(f, "Usage: hyperd [options]\n\n"
                   "Serves Hyper's REST API (docs/api.md) on a unix socket.\n\n"
                   "  --config FILE    configuration file (default " HYPERD_DEFAULT_CONFIG ")\n"
                   "  --socket PATH    API socket (default " HYPERD_DEFAULT_SOCKET ")\n"
                   "  --root DIR       image store and database (default " HYPERD_DEFAULT_ROOT ")\n"
                   "  --runv-root DIR  runv's state of the containers (default " HYPERD_DEFAULT_RUNV_ROOT ")\n"
                   "  --group NAME     group that may use the socket (default: root only)\n"
                   "  --bridge NAME    the containers' bridge (default " NETBRIDGE_DEFAULT_NAME ")\n"
                   "  --subnet CIDR    its IPv4 subnet (default " NETBRIDGE_DEFAULT_SUBNET ")\n"
                   "  --network-state DIR  its state (default " NETBRIDGE_DEFAULT_STATE_DIR ")\n"
                   "  --remove-network remove the bridge, its rules and its state, and exit\n"
                   "  --log-file FILE  log there instead of stderr\n"
                   "  --debug          log every request\n"
                   "  -v, --version    print the version\n"
                   "  -h, --help       print this help\n");
}

/* Returns 1 when the program should exit 0 (help, version), 0 to run, -EINVAL on a bad option. */
static int hyperd_parse_args(int argc, char **argv, struct hyperd_args *a)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },   { "socket", required_argument, NULL, 's' },
                { "root", required_argument, NULL, 'r' },     { "group", required_argument, NULL, 'g' },
                { "log-file", required_argument, NULL, 'l' }, { "debug", no_argument, NULL, 'd' },
                { "version", no_argument, NULL, 'v' },        { "help", no_argument, NULL, 'h' },
                { "runv-root", required_argument, NULL, 'R' }, { "bridge", required_argument, NULL, 'b' },
                { "subnet", required_argument, NULL, 'S' },    { "network-state", required_argument, NULL, 'N' },
                { "remove-network", no_argument, NULL, 'X' },  {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': a->config = optarg; break;
                case 's': a->socket = optarg; break;
                case 'r': a->root = optarg; break;
                case 'R': a->runv_root = optarg; break;
                case 'g': a->group = optarg; break;
                case 'l': a->log_file = optarg; break;
                case 'd': a->debug = true; break;
                case 'b': a->bridge = optarg; break;
                case 'S': a->subnet = optarg; break;
                case 'N': a->network_state = optarg; break;
                case 'X': a->remove_network = true; break;
                case 'v': printf("hyperd version %s\n", HYPER_VERSION); return 1;
                case 'h': hyperd_usage(stdout); return 1;
                default: hyperd_usage(stderr); return -EINVAL;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "hyperd: unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* A path from the command line, made absolute against the current folder. */
static int hyperd_abs_path(const char *p, char **ret)
{
        _cleanup_free_ char *cwd = NULL;

        if (p[0] == '/')
                return (*ret = strdup(p)) ? 0 : -ENOMEM;
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return -errno;
        return asprintf(ret, "%s/%s", cwd, p) < 0 ? -ENOMEM : 0;
}

/* The file first, the command line over it. */
static int hyperd_configure(const struct hyperd_args *a, struct config *c)
{
        /* The first five are paths. */
        const char *keys[] = { "socket", "root", "log-file", "runv-root", "network-state", "group", "bridge", "subnet" };
        const char *values[] = { a->socket, a->root, a->log_file, a->runv_root, a->network_state,
                                 a->group, a->bridge, a->subnet };
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_load(c, a->config ? a->config : HYPERD_DEFAULT_CONFIG, !a->config, &error);
        if (r < 0)
                return log_error("%s", error ? error : "cannot read the configuration"), r;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                _cleanup_free_ char *v = NULL;

                if (!values[i])
                        continue;
                r = i < 5 ? hyperd_abs_path(values[i], &v) : 0;
                if (r >= 0)
                        r = config_set(c, keys[i], v ? v : values[i]);
                if (r < 0)
                        return log_error_errno(r, "bad --%s \"%s\"", keys[i], values[i]);
        }
        c->debug = c->debug || a->debug;
        return 0;
}

static int hyperd_open_log(const struct config *c)
{
        int fd;

        log_setup("hyperd", c->debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
        if (!c->log_file)
                return 0;
        fd = open(c->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
                return log_error_errno(-errno, "cannot open the log file %s", c->log_file);
        log_set_fd(fd);
        return 0;
}

static int hyperd_group_id(const char *name, gid_t *ret)
{
        struct group *g;

        errno = 0;
        g = getgrnam(name);
        if (!g)
                return errno ? -errno : -ENOENT;
        *ret = g->gr_gid;
        return 0;
}

/* Refuses to take over the socket of a hyperd that still answers; removes a stale one. */
static int hyperd_claim_path(const struct sockaddr_un *sa)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
                return -EADDRINUSE;
        if (unlink(sa->sun_path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Binds the API socket, mode 0660, owned by root and the configured group. */
static int hyperd_listen(const struct config *c, gid_t gid)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *dir = NULL;
        mode_t old;
        int r;

        if (strlen(c->socket) >= sizeof(sa.sun_path))
                return log_error("the socket path %s is too long", c->socket), -ENAMETOOLONG;
        strcpy(sa.sun_path, c->socket);
        dir = strdup(c->socket);
        if (!dir)
                return -ENOMEM;
        *strrchr(dir, '/') = '\0';
        if (*dir && (r = mkdir_p(dir, 0755)) < 0)
                return log_error_errno(r, "cannot make %s", dir);
        r = hyperd_claim_path(&sa);
        if (r == -EADDRINUSE)
                return log_error("another hyperd is serving %s", c->socket), r;
        if (r < 0)
                return log_error_errno(r, "cannot remove the stale socket %s", c->socket);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(-errno, "cannot make a socket");
        /* No moment where the socket is more open than 0660. */
        old = umask(0117);
        r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
        umask(old);
        if (r < 0)
                return log_error_errno(r, "cannot bind %s", c->socket);
        if (chown(c->socket, 0, gid) < 0 || chmod(c->socket, 0660) < 0 || listen(fd, 128) < 0)
                return log_error_errno(-errno, "cannot set up %s", c->socket);
        return TAKE_FD(fd);
}

/* Uploads and saves that a crash left behind. */
static int hyperd_clean_uploads(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;

        if (!d)
                return -errno;
        while ((e = readdir(d)))
                if (strncmp(e->d_name, "upload.", 7) == 0)
                        unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
        return 0;
}

static int hyperd_open_state(struct hyperd *hd)
{
        _cleanup_free_ char *db_path = NULL, *error = NULL;
        int r;

        r = mkdir_p(hd->config->root, 0700);
        if (r < 0)
                return log_error_errno(r, "cannot make %s", hd->config->root);
        if (asprintf(&hd->upload_dir, "%s/hyperd/tmp", hd->config->root) < 0 ||
            asprintf(&db_path, "%s/hyperd/hyperd.db", hd->config->root) < 0)
                return -ENOMEM;
        r = mkdir_p(hd->upload_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "cannot make %s", hd->upload_dir);
        hyperd_clean_uploads(hd->upload_dir);
        volumes_clean(hd);
        r = db_open(db_path, &hd->db, &error);
        if (r < 0)
                return log_error("%s", error ? error : "cannot open the database"), r;
        r = db_daemon_started(hd->db);
        if (r < 0)
                return log_error_errno(r, "cannot record the start in %s", db_path);
        r = api_images_sync(hd);
        if (r < 0)
                return log_error_errno(r, "cannot read the image store under %s", hd->config->root);
        if (guest_find(&hd->kernel, &hd->initrd) < 0)
                log_warning("no guest kernel and initrd found: pods will not boot (set HYPER_KERNEL and HYPER_INITRD)");
        if (runv_driver_find(&hd->runv) < 0)
                log_warning("no runv found beside hyperd: containers will not run (set HYPER_RUNV)");
        if (container_shim_find(&hd->shim) < 0)
                log_warning("no hyperd-shim found beside hyperd: containers will not run (set HYPER_SHIM)");
        hd->kvm = hypervisor_kvm_usable();
        hd->started = time(NULL);
        return 0;
}

static void hyperd_mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        log_warning("http: %s", msg);
}

static struct MHD_Daemon *hyperd_start_http(struct hyperd *hd, int fd)
{
        return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_UPGRADE |
                                        MHD_USE_ERROR_LOG,
                                0, NULL, NULL, http_handle, hd,
                                MHD_OPTION_EXTERNAL_LOGGER, hyperd_mhd_log, NULL,
                                MHD_OPTION_LISTEN_SOCKET, fd,
                                MHD_OPTION_NOTIFY_COMPLETED, http_completed, hd,
                                MHD_OPTION_CONNECTION_LIMIT, hd->config->max_clients,
                                MHD_OPTION_CONNECTION_TIMEOUT, 300u,
                                MHD_OPTION_END);
}

/* Serves until SIGTERM or SIGINT, which the caller has blocked so that sigwait() takes them. */
static int hyperd_serve(struct hyperd *hd, const sigset_t *mask, gid_t gid)
{
        struct MHD_Daemon *mhd;
        int fd, sig = 0;

        fd = hyperd_listen(hd->config, gid);
        if (fd < 0)
                return fd;
        /* Once the socket is ours: a hyperd refused as a second one touches no network. */
        mhd = container_net_start(hd) >= 0 && pod_rootfs_share(hd) >= 0 ? hyperd_start_http(hd, fd) : NULL;
        if (!mhd) {
                close(fd);
                unlink(hd->config->socket);
                return hd->net ? (log_error("cannot start the HTTP server"), -EIO) : -ENONET;
        }
        watcher_start(hd);
        log_info("serving API v%s on %s (root %s)", API_VERSION, hd->config->socket, hd->config->root);
        while (sigwait(mask, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
                ;
        log_info("%s: shutting down", strsignal(sig));
        /* Unlinked first, so that no new client finds a socket nobody will answer. */
        unlink(hd->config->socket);
        MHD_stop_daemon(mhd);
        watcher_stop();
        pod_rootfs_unshare(hd);
        close(fd);
        return 0;
}

static void hyperd_done(struct hyperd *hd)
{
        db_close(hd->db);
        free(hd->upload_dir);
        free(hd->kernel);
        free(hd->runv);
        free(hd->shim);
        free(hd->initrd);
        free(hd->netns_dir);
        netbridge_free(hd->net);
}

/* SOCKET's folder/netns: where the containers' network namespaces are mounted. */
static int hyperd_netns_dir(struct hyperd *hd)
{
        const char *slash = strrchr(hd->config->socket, '/');

        return asprintf(&hd->netns_dir, "%.*s/netns", (int)(slash - hd->config->socket), hd->config->socket) < 0
                       ? -ENOMEM
                       : 0;
}

int main(int argc, char **argv)
{
        struct hyperd_args a = { 0 };
        struct config c;
        struct hyperd hd = { .config = &c, .volume_lock = PTHREAD_MUTEX_INITIALIZER };
        sigset_t mask;
        gid_t gid = 0;
        int r;

        log_setup("hyperd", LOG_LEVEL_INFO);
        r = hyperd_parse_args(argc, argv, &a);
        if (r != 0)
                return r > 0 ? 0 : 2;
        if (config_init(&c) < 0)
                return 1;
        r = hyperd_configure(&a, &c);
        if (r >= 0)
                r = hyperd_open_log(&c);
        if (r >= 0 && c.group && (r = hyperd_group_id(c.group, &gid)) < 0)
                log_error_errno(r, "no group \"%s\"", c.group);
        /* Blocked before any thread starts, so that every thread inherits the mask. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (r >= 0)
                r = hyperd_netns_dir(&hd);
        if (r >= 0 && a.remove_network) {
                r = container_net_destroy(&hd);
                hyperd_done(&hd);
                config_done(&c);
                return r < 0 ? 1 : 0;
        }
        if (r >= 0)
                r = hyperd_open_state(&hd);
        if (r >= 0)
                r = hyperd_serve(&hd, &mask, gid);
        hyperd_done(&hd);
        config_done(&c);
        return r < 0 ? 1 : 0;
}
