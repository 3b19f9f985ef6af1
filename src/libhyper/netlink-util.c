/* SPDX-License-Identifier: Apache-2.0 */
#include "netlink-util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netlink/errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macros.h"

int netlink_errno(int nlerr)
{
        static const int map[][2] = {
                { NLE_NOMEM, ENOMEM },         { NLE_EXIST, EEXIST },        { NLE_INVAL, EINVAL },
                { NLE_RANGE, ERANGE },         { NLE_OPNOTSUPP, EOPNOTSUPP }, { NLE_OBJ_NOTFOUND, ENOENT },
                { NLE_BUSY, EBUSY },           { NLE_NOACCESS, EACCES },     { NLE_PERM, EPERM },
                { NLE_NODEV, ENODEV },         { NLE_AGAIN, EAGAIN },        { NLE_INTR, EINTR },
                { NLE_MSGSIZE, EMSGSIZE },
        };
        int e = nlerr < 0 ? -nlerr : nlerr;

        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (map[i][0] == e)
                        return -map[i][1];
        return -EIO;
}

int netlink_tap_create(const char *name, int *ret_fd, const char **ret_step)
{
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL };
        _cleanup_close_ int fd = -1;

        *ret_step = "opening /dev/net/tun for";
        fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_step = "creating tap";
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return -errno;
        *ret_step = "making persistent tap";
        if (ioctl(fd, TUNSETPERSIST, 1) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void netlink_tap_abandon(int fd)
{
        /* Not persistent any more: the tap goes away when fd closes. */
        (void)ioctl(fd, TUNSETPERSIST, 0);
        close(fd);
}
