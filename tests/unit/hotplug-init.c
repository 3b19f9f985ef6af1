/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest init for test-qemu-boot: it reports on the console what the
 * hypervisor layer gave the guest (agent ports, the share) and then what
 * is hot-plugged or unplugged while it runs, so the test can check each
 * from the host. It powers off after a minute in case no one kills it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static void hotplug_init_read(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (fd >= 0)
                close(fd);
}

static void hotplug_init_ports(void)
{
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *de;

        while (d && (de = readdir(d))) {
                char path[512], name[128];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
                hotplug_init_read(path, name, sizeof(name));
                printf("hotplug-init: port %s\n", name);
        }
        if (d)
                closedir(d);
}

static void hotplug_init_share(void)
{
        char buf[128] = "";

        if (mount("hyper-share", "/mnt", "virtiofs", 0, NULL) == 0)
                printf("hotplug-init: share virtiofs\n");
        else if (mount("hyper-share", "/mnt", "9p", 0, "trans=virtio,version=9p2000.L") == 0)
                printf("hotplug-init: share 9p\n");
        else
                return;
        hotplug_init_read("/mnt/hello", buf, sizeof(buf));
        printf("hotplug-init: hello %s\n", buf);
}

static void hotplug_init_watch(void)
{
        bool disk = false, nic = false;

        for (int i = 0; i < 60 * 20; i++) {
                struct stat st;
                bool d = stat("/sys/block/vda", &st) == 0;
                bool n = stat("/sys/class/net/eth0", &st) == 0;
                char buf[64];

                if (d && !disk) {
                        hotplug_init_read("/sys/block/vda/serial", buf, sizeof(buf));
                        printf("hotplug-init: disk added %s\n", buf);
                } else if (!d && disk) {
                        printf("hotplug-init: disk removed\n");
                }
                if (n && !nic) {
                        hotplug_init_read("/sys/class/net/eth0/address", buf, sizeof(buf));
                        printf("hotplug-init: nic added %s\n", buf);
                }
                disk = d;
                nic = n;
                usleep(50 * 1000);
        }
}

int main(void)
{
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
        mount("sysfs", "/sys", "sysfs", 0, NULL);
        int fd = open("/dev/console", O_WRONLY);
        if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        hotplug_init_ports();
        hotplug_init_share();
        printf("hotplug-init: ready\n");
        hotplug_init_watch();
        reboot(RB_POWER_OFF);
        return 0;
}
