/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runv.h"

struct runv_globals runv = {
        .root = "/run/runv",
};

static const struct runv_verb runv_verbs[] = {
        { "create", runv_cmd_create, "create a container: boot its VM, ready to start" },
        { "delete", runv_cmd_delete, "delete a container and everything it holds" },
        { "exec", runv_cmd_exec, "run another process in a running container" },
        { "features", runv_cmd_features, "show what runv supports" },
        { "kill", runv_cmd_kill, "send a signal to a container's process" },
        { "list", runv_cmd_list, "list the containers" },
        { "mount-block", runv_cmd_mount_block, "hot-plug a disk image and mount it in a container (not runc's)" },
        { "pause", runv_cmd_pause, "freeze a container's whole VM" },
        { "ps", runv_cmd_ps, "show the host processes of a container" },
        { "resume", runv_cmd_resume, "thaw a paused container" },
        { "run", runv_cmd_run, "create and run a container in a VM" },
        { "spec", runv_cmd_spec, "create a new specification file" },
        { "start", runv_cmd_start, "start the process of a created container" },
        { "state", runv_cmd_state, "print a container's state as JSON" },
        { "umount-block", runv_cmd_umount_block, "unmount and unplug what mount-block attached (not runc's)" },
};

static void runv_log_line(const char *level, const char *msg)
{
        _cleanup_fclose_ FILE *f = NULL;
        char when[64];
        struct tm tm;
        time_t now = time(NULL);

        if (!runv.log)
                return;
        f = fopen(runv.log, "ae");
        if (!f)
                return;
        gmtime_r(&now, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!runv.log_json) {
                fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", when, level, msg);
                return;
        }
        fputs("{\"level\":\"", f);
        fputs(level, f);
        fputs("\",\"msg\":\"", f);
        for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fprintf(f, "\",\"time\":\"%s\"}\n", when);
}

int runv_error(const char *fmt, ...)
{
        char msg[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!runv.detached)
                fprintf(stderr, "runv: %s\n", msg);
        runv_log_line("error", msg);
        return 1;
}

/* Milliseconds since runv started: --debug shows where the time of a run goes. */
static long long runv_elapsed_ms(void)
{
        static struct timespec start;
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!start.tv_sec && !start.tv_nsec)
                start = now;
        return (long long)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
}

void runv_debug(const char *fmt, ...)
{
        char msg[4096];
        va_list ap;

        if (!runv.debug)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!runv.detached)
                fprintf(stderr, "runv: debug: +%lldms %s\n", runv_elapsed_ms(), msg);
        runv_log_line("debug", msg);
}

bool runv_id_valid(const char *id)
{
        size_t n = strlen(id);

        if (n == 0 || n > 1024 || id[0] == '.')
                return false;
        return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") == n;
}

char *runv_state_dir(const char *id)
{
        char *p;

        if (asprintf(&p, "%s/%s", runv.root, id) < 0)
                return NULL;
        return p;
}

static void runv_usage(FILE *f)
{
        fprintf(f, "Usage: runv [global options] COMMAND [options] [arguments]\n\n"
                   "Runs OCI containers, each in a virtual machine of its own.\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(runv_verbs); i++)
                fprintf(f, "  %-10s %s\n", runv_verbs[i].name, runv_verbs[i].summary);
        fprintf(f, "\nGlobal options:\n"
                   "  --root DIR          state folder (default /run/runv)\n"
                   "  --log FILE          append errors to FILE\n"
                   "  --log-format FMT    text or json\n"
                   "  --debug             log what runv does\n"
                   "  --systemd-cgroup    accepted for compatibility\n"
                   "  -v, --version       print the version\n");
}

static int runv_parse_globals(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },        { "log", required_argument, NULL, 'l' },
                { "log-format", required_argument, NULL, 'f' },  { "debug", no_argument, NULL, 'd' },
                { "systemd-cgroup", no_argument, NULL, 's' },    { "criu", required_argument, NULL, 'c' },
                { "rootless", required_argument, NULL, 'R' },    { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },              {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        runv.root = optarg;
                        break;
                case 'l':
                        runv.log = optarg;
                        break;
                case 'f':
                        if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                        {
                                runv_error("unknown --log-format %s: use text or json", optarg);
                                return -1;
                        }
                        runv.log_json = strcmp(optarg, "json") == 0;
                        break;
                case 'd':
                        runv.debug = true;
                        break;
                case 's':
                case 'c':
                case 'R':
                        break;
                case 'v':
                        printf("runv version %s\nspec: 1.0.2-dev\n", HYPER_VERSION);
                        exit(0);
                case 'h':
                        runv_usage(stdout);
                        exit(0);
                default:
                        runv_usage(stderr);
                        return -1;
                }
        }
        return optind;
}

int main(int argc, char **argv)
{
        int first;

        runv_elapsed_ms();
        /* A closed stdout must be an error we see, not a signal that kills the relay. */
        signal(SIGPIPE, SIG_IGN);
        first = runv_parse_globals(argc, argv);
        if (first < 0)
                return 1;
        if (first >= argc) {
                runv_usage(stderr);
                return 1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(runv_verbs); i++)
                if (strcmp(argv[first], runv_verbs[i].name) == 0) {
                        optind = 1;
                        return runv_verbs[i].run(argc - first, argv + first);
                }
        return runv_error("unknown command %s; run runv --help", argv[first]);
}
