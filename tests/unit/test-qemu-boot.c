/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Boots real VMs through qemu_ops: a guest that powers off at once (the
 * VM ends by itself), one killed while it boots, and one that stays up
 * while a disk and a nic are hot-plugged. After each, no process, socket
 * or state record may be left. Needs HYPER_KERNEL (a vmlinux or bzImage)
 * and HYPER_POWEROFF_INITRD; skips without them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor.h"
#include "test.h"

static const char *kernel, *poweroff_initrd;
static char hotplug_initrd[4096];

struct fixture {
        char state[64];
        char share[64];
};

static void fixture_init(struct fixture *f)
{
        char hello[128];
        FILE *fp;

        snprintf(f->state, sizeof(f->state), "/tmp/hyper-qemu-test.XXXXXX");
        snprintf(f->share, sizeof(f->share), "/tmp/hyper-qemu-share.XXXXXX");
        CHECK(mkdtemp(f->state));
        CHECK(mkdtemp(f->share));
        snprintf(hello, sizeof(hello), "%s/hello", f->share);
        fp = fopen(hello, "we");
        CHECK(fp);
        fputs("from-host\n", fp);
        fclose(fp);
}

static void fixture_remove_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char path[512];

        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                unlink(path);
        }
        if (d)
                closedir(d);
        rmdir(dir);
}

/* Only logs may stay in the state folder, and no process may mention it. */
static void fixture_check_clean(struct fixture *f)
{
        DIR *d = opendir(f->state);
        struct dirent *de;

        CHECK(d);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (!strstr(de->d_name, ".log")) {
                        fprintf(stderr, "left behind: %s/%s\n", f->state, de->d_name);
                        CHECK(false);
                }
        }
        closedir(d);
        errno = 0;
        CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
        d = opendir("/proc");
        CHECK(d);
        while ((de = readdir(d))) {
                char path[300], cmd[4096] = "";
                ssize_t n;
                int fd;

                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                n = read(fd, cmd, sizeof(cmd) - 1);
                close(fd);
                for (ssize_t i = 0; i < n; i++)
                        if (cmd[i] == '\0')
                                cmd[i] = ' ';
                if (n > 0 && (strstr(cmd, f->state) || strstr(cmd, f->share))) {
                        fprintf(stderr, "left running: %s: %s\n", de->d_name, cmd);
                        CHECK(false);
                }
        }
        closedir(d);
        fixture_remove_dir(f->state);
        fixture_remove_dir(f->share);
}

static struct vm_config fixture_config(struct fixture *f, const char *initrd, enum vm_share share)
{
        return (struct vm_config){
                .id = "test",
                .state_dir = f->state,
                .kernel = kernel,
                .initrd = initrd,
                .share_dir = f->share,
                .share = share,
        };
}

static void check_exists(const char *path, bool want)
{
        struct stat st;

        if ((stat(path, &st) == 0) != want) {
                fprintf(stderr, "%s: expected %s\n", path, want ? "present" : "absent");
                CHECK(false);
        }
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
        return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void test_boot_poweroff(enum vm_share share)
{
        struct fixture f;
        struct vm *vm = NULL, *other = NULL;
        struct vm_config cfg;
        struct timespec t0, t1;
        int status = -1;

        fixture_init(&f);
        cfg = fixture_config(&f, poweroff_initrd, share);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_EQ_INT(qemu_ops.launch(&cfg, &vm), 0);
        CHECK(vm->owned && vm->pid > 0);
        CHECK(share == VM_SHARE_AUTO || vm->share == share);
        check_exists(vm->ctl_socket, true);
        check_exists(vm->stream_socket, true);
        check_exists(vm->qmp_socket, true);

        /* Another process's view: associate, then let go without ending the VM. */
        CHECK_EQ_INT(qemu_ops.associate(f.state, &other), 0);
        CHECK(!other->owned);
        CHECK_EQ_INT(other->pid, vm->pid);
        CHECK_EQ_INT(other->helper_pid, vm->helper_pid);
        CHECK_EQ_INT(other->share, vm->share);
        qemu_ops.free(other);

        CHECK_EQ_INT(qemu_ops.wait(vm, 120 * 1000, &status), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK_EQ_INT(status, 0);
        fprintf(stderr, "boot to power-off (%s): %.3f s\n", vm->share == VM_SHARE_9P ? "9p" : "virtiofs",
                elapsed(&t0, &t1));
        qemu_ops.free(vm);
        CHECK_EQ_INT(qemu_ops.associate(f.state, &other), -ENOENT);
        fixture_check_clean(&f);
}

static void test_boot_virtiofs(void)
{
        test_boot_poweroff(VM_SHARE_VIRTIOFS);
}

static void test_boot_9p(void)
{
        test_boot_poweroff(VM_SHARE_9P);
}

static void test_kill_while_booting(void)
{
        struct fixture f;
        struct vm *vm = NULL;
        struct vm_config cfg;
        int status = 0;

        fixture_init(&f);
        cfg = fixture_config(&f, poweroff_initrd, VM_SHARE_AUTO);
        CHECK_EQ_INT(qemu_ops.launch(&cfg, &vm), 0);
        CHECK_EQ_INT(qemu_ops.kill(vm), 0);
        check_exists(vm->qmp_socket, false);
        CHECK_EQ_INT(qemu_ops.wait(vm, 0, &status), 0);
        qemu_ops.free(vm);
        fixture_check_clean(&f);
}

/* Waits until the console log holds the line, for up to timeout_s seconds. */
static bool console_has(const char *log, const char *line, int timeout_s)
{
        for (int i = 0; i < timeout_s * 20; i++) {
                char buf[65536];
                FILE *fp = fopen(log, "re");
                size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;

                if (fp)
                        fclose(fp);
                buf[n] = '\0';
                if (strstr(buf, line))
                        return true;
                usleep(50 * 1000);
        }
        fprintf(stderr, "console never said: %s\n", line);
        return false;
}

/* A persistent tap for the nic test; false when this host cannot make one. */
static bool tap_set(const char *name, bool persist)
{
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        bool ok;

        if (fd < 0)
                return false;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        ok = ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, persist ? 1 : 0) == 0;
        close(fd);
        return ok;
}

static void test_hotplug_disk(struct vm *vm, struct fixture *f)
{
        struct timespec t0, t1;
        char disk[128];
        int fd;

        snprintf(disk, sizeof(disk), "%s/disk.img", f->share);
        fd = open(disk, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
        close(fd);
        CHECK_EQ_INT(qemu_ops.hotplug_disk(vm, "bad id", disk, "raw", false, NULL), -EINVAL);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_EQ_INT(qemu_ops.hotplug_disk(vm, "disk0", disk, "raw", false, NULL), 0);
        CHECK(console_has(vm->console_log, "hotplug-init: disk added disk0", 30));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "disk seen by the guest after %.3f s\n", elapsed(&t0, &t1));
        CHECK_EQ_INT(qemu_ops.unplug_disk(vm, "disk0"), 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fprintf(stderr, "disk unplugged after %.3f s\n", elapsed(&t1, &t0));
        CHECK(console_has(vm->console_log, "hotplug-init: disk removed", 30));
        CHECK_EQ_INT(qemu_ops.unplug_disk(vm, "disk0"), -ENOENT);
}

/* Returns whether the tap was made: it can only go once QEMU let go of it. */
static bool test_hotplug_nic(struct vm *vm, const char *tap)
{
        if (!tap_set(tap, true)) {
                fprintf(stderr, "no tap device here: nic hot-plug not tested\n");
                return false;
        }
        CHECK_EQ_INT(qemu_ops.hotplug_nic(vm, "nic0", tap, "52:54:00:12:34:56"), 0);
        CHECK(console_has(vm->console_log, "hotplug-init: nic added 52:54:00:12:34:56", 30));
        return true;
}

static void test_hotplug(void)
{
        struct fixture f;
        struct vm *vm = NULL;
        struct vm_config cfg;
        char tap[IFNAMSIZ];
        bool made_tap;

        if (access(hotplug_initrd, R_OK) < 0) {
                fprintf(stderr, "no %s: hot-plug not tested\n", hotplug_initrd);
                return;
        }
        fixture_init(&f);
        cfg = fixture_config(&f, hotplug_initrd, VM_SHARE_AUTO);
        CHECK_EQ_INT(qemu_ops.launch(&cfg, &vm), 0);
        CHECK(console_has(vm->console_log, "hotplug-init: ready", 60));
        CHECK(console_has(vm->console_log, "hotplug-init: port sh.hyper.channel.0", 1));
        CHECK(console_has(vm->console_log, "hotplug-init: port sh.hyper.channel.1", 1));
        CHECK(console_has(vm->console_log, "hotplug-init: hello from-host", 1));
        test_hotplug_disk(vm, &f);
        snprintf(tap, sizeof(tap), "hyt%d", (int)getpid() % 100000);
        made_tap = test_hotplug_nic(vm, tap);
        CHECK_EQ_INT(qemu_ops.kill(vm), 0);
        qemu_ops.free(vm);
        fixture_check_clean(&f);
        /* The test's own tap must not outlive it either. */
        if (made_tap) {
                char sys[64];
                CHECK(tap_set(tap, false));
                snprintf(sys, sizeof(sys), "/sys/class/net/%s", tap);
                CHECK(access(sys, F_OK) < 0);
        }
}

int main(void)
{
        char exe[2048];
        ssize_t n;

        kernel = getenv("HYPER_KERNEL");
        poweroff_initrd = getenv("HYPER_POWEROFF_INITRD");
        if (!kernel || !*kernel || !poweroff_initrd || !*poweroff_initrd) {
                fprintf(stderr, "HYPER_KERNEL or HYPER_POWEROFF_INITRD unset: skipped\n");
                return 77;
        }
        /* The build puts the hot-plug guest's initrd next to this program. */
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        CHECK(n > 0);
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        snprintf(hotplug_initrd, sizeof(hotplug_initrd), "%s/hotplug-initrd.img", exe);

        RUN_TEST(test_boot_virtiofs);
        RUN_TEST(test_boot_9p);
        RUN_TEST(test_kill_while_booting);
        RUN_TEST(test_hotplug);
        return 0;
}
