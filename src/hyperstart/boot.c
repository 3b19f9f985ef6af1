/* SPDX-License-Identifier: Apache-2.0 */
#include "boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fd-util.h"
#include "log.h"

static const struct {
        const char *type;
        const char *path;
        unsigned long flags;
        const char *options;
} boot_mounts[] = {
        { "devtmpfs", "/dev", MS_NOSUID, "mode=0755" },
        { "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
        { "sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
        { "devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620" },
        { "tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777" },
        { "tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755" },
        { "tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777" },
};

static int boot_mount(size_t i)
{
        if (mkdir(boot_mounts[i].path, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mount(boot_mounts[i].type, boot_mounts[i].path, boot_mounts[i].type, boot_mounts[i].flags,
                  boot_mounts[i].options) < 0 && errno != EBUSY)
                return -errno;
        return 0;
}

/* The initramfs has no /dev/console node, so the kernel started us without fds 0-2. */
static void boot_console(void)
{
        int fd = open("/dev/console", O_RDWR | O_NOCTTY);

        if (fd < 0)
                return;
        for (int i = 0; i < 3; i++)
                if (fd != i)
                        dup2(fd, i);
        if (fd > 2)
                close(fd);
        log_set_fd(STDERR_FILENO);
}

static void boot_log_level(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/cmdline", "re");
        char line[4096];

        if (f && fgets(line, sizeof(line), f) && strstr(line, "hyperstart.debug"))
                log_set_level(LOG_LEVEL_DEBUG);
}

void boot_setup(void)
{
        int r0, r;

        umask(022);
        r0 = boot_mount(0);
        boot_console();
        if (r0 < 0)
                log_error_errno(r0, "Cannot mount %s", boot_mounts[0].path);
        for (size_t i = 1; i < ARRAY_SIZE(boot_mounts); i++) {
                r = boot_mount(i);
                if (r < 0)
                        log_error_errno(r, "Cannot mount %s", boot_mounts[i].path);
        }
        boot_log_level();
}

static bool boot_port_has_name(const char *port, const char *name)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t len;

        if (asprintf(&path, "/sys/class/virtio-ports/%s/name", port) < 0)
                return false;
        /* sysfs reports every attribute as 4096 bytes long. */
        if (read_full_file(path, 4096, &data, &len) < 0)
                return false;
        while (len > 0 && data[len - 1] == '\n')
                data[--len] = '\0';
        return strcmp(data, name) == 0;
}

static int boot_find_port(const char *name)
{
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *de;
        int fd = -ENOENT;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char dev[300];

                if (de->d_name[0] == '.' || !boot_port_has_name(de->d_name, name))
                        continue;
                /* No udev here: the kernel's devtmpfs names the node after the port. */
                snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
                fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
                break;
        }
        closedir(d);
        return fd;
}

int boot_open_port(const char *name)
{
        for (unsigned tries = 0;; tries++) {
                int fd = boot_find_port(name);
                if (fd >= 0) {
                        log_info("Port %s is open", name);
                        return fd;
                }
                /* Devices probe concurrently with init: wait briefly, then keep trying slowly. */
                if (tries == 50)
                        log_error_errno(fd, "Port %s is not there yet; still waiting", name);
                usleep(tries < 50 ? 20 * 1000 : 1000 * 1000);
        }
}

static void boot_unmount_all(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/mounts", "re");
        char *paths[256];
        size_t n = 0;
        char line[1024];

        if (!f)
                return;
        while (n < ARRAY_SIZE(paths) && fgets(line, sizeof(line), f)) {
                char target[512];
                if (sscanf(line, "%*s %511s", target) == 1 && strcmp(target, "/") != 0)
                        paths[n++] = strdup(target);
        }
        /* Deepest last mounted first; what stays busy is left to the reboot. */
        while (n > 0) {
                char *p = paths[--n];
                if (p && umount2(p, 0) < 0)
                        (void)umount2(p, MNT_DETACH);
                free(p);
        }
}

void boot_poweroff(void)
{
        log_info("Powering off");
        (void)kill(-1, SIGKILL);
        while (waitpid(-1, NULL, 0) > 0)
                ;
        sync();
        boot_unmount_all();
        sync();
        reboot(RB_POWER_OFF);
        /* Without ACPI power-off, a reboot ends QEMU run with -no-reboot. */
        reboot(RB_AUTOBOOT);
        for (;;)
                pause();
}
