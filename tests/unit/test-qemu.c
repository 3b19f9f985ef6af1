/* SPDX-License-Identifier: Apache-2.0 */
/* The QEMU driver's pure parts: command lines and the state record. */
#include <errno.h>
#include <stdbool.h>

#include "qemu-internal.h"
#include "test.h"

static struct qemu_plan plan_default(void)
{
        return (struct qemu_plan){
                .binary = "/usr/bin/qemu-system-x86_64",
                .id = "pod1",
                .machine = QEMU_MACHINE_MICROVM,
                .accel = VM_ACCEL_TCG,
                .share = VM_SHARE_VIRTIOFS,
                .vcpus = 2,
                .memory_mib = 256,
                .kernel = "/k/vmlinux",
                .initrd = "/k/initrd.img",
                .tsc_khz = 2596140,
                .share_dir = "/run/pod/share",
                .console_log = "/run/pod/console.log",
                .virtiofsd_socket = "/run/pod/virtiofsd.sock",
                .hotplug_ports = 2,
        };
}

/* True when argv holds opt immediately followed by value. */
static bool argv_has(char **argv, const char *opt, const char *value)
{
        for (size_t i = 0; argv[i]; i++)
                if (strcmp(argv[i], opt) == 0 && (!value || (argv[i + 1] && strcmp(argv[i + 1], value) == 0)))
                        return true;
        return false;
}

static void test_cmdline(void)
{
        struct qemu_plan p = plan_default();
        char *s = NULL;

        CHECK_EQ_INT(qemu_argv_cmdline(&p, &s), 0);
        CHECK_STREQ(s, "console=ttyS0 panic=-1 reboot=t quiet pcie_ports=native tsc_early_khz=2596140");
        free(s);
        p.debug_console = true;
        p.machine = QEMU_MACHINE_Q35;
        p.cmdline_extra = "hyper.debug=1";
        CHECK_EQ_INT(qemu_argv_cmdline(&p, &s), 0);
        CHECK_STREQ(s, "console=ttyS0 panic=-1 reboot=t hyper.debug=1");
        free(s);
}

static void test_argv_microvm_virtiofs(void)
{
        struct qemu_plan p = plan_default();
        char **argv = NULL;

        CHECK_EQ_INT(qemu_argv_build(&p, &argv), 0);
        CHECK_STREQ(argv[0], "/usr/bin/qemu-system-x86_64");
        CHECK(argv_has(argv, "-machine", "microvm,pcie=on,memory-backend=mem"));
        CHECK(argv_has(argv, "-object", "memory-backend-memfd,id=mem,size=256M,share=on"));
        CHECK(argv_has(argv, "-accel", "tcg,tb-size=16"));
        CHECK(argv_has(argv, "-cpu", "max"));
        CHECK(argv_has(argv, "-smp", "2"));
        CHECK(argv_has(argv, "-m", "256M"));
        CHECK(argv_has(argv, "-no-reboot", NULL));
        CHECK(argv_has(argv, "-nodefaults", NULL));
        CHECK(argv_has(argv, "-global", "virtio-mmio.force-legacy=false"));
        CHECK(argv_has(argv, "-kernel", "/k/vmlinux"));
        CHECK(argv_has(argv, "-initrd", "/k/initrd.img"));
        CHECK(argv_has(argv, "-chardev", "socket,id=qmp,fd=3,server=on,wait=off"));
        CHECK(argv_has(argv, "-chardev", "file,id=console,path=/run/pod/console.log"));
        CHECK(argv_has(argv, "-device", "virtio-serial-device,id=vser,max_ports=3"));
        CHECK(argv_has(argv, "-device", "virtserialport,bus=vser.0,nr=1,chardev=ctl,name=sh.hyper.channel.0"));
        CHECK(argv_has(argv, "-device", "virtserialport,bus=vser.0,nr=2,chardev=stream,name=sh.hyper.channel.1"));
        CHECK(argv_has(argv, "-chardev", "socket,id=fs,path=/run/pod/virtiofsd.sock"));
        CHECK(argv_has(argv, "-device", "vhost-user-fs-device,chardev=fs,tag=hyper-share"));
        CHECK(argv_has(argv, "-device", "pcie-root-port,id=hp1,bus=pcie.0,chassis=2,slot=0"));
        CHECK(!argv_has(argv, "-device", "pcie-root-port,id=hp2,bus=pcie.0,chassis=3,slot=0"));
        CHECK(!argv_has(argv, "-netdev", NULL));
        qemu_argv_free(argv);
}

static const struct vm_nic test_nics[] = {
        { .tap = "tap_eth0", .mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } },
        { .tap = "tap_net1", .mac = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f } },
};

static void test_argv_nics(void)
{
        struct qemu_plan p = plan_default();
        char **argv = NULL;

        p.nics = test_nics;
        p.n_nics = 2;
        CHECK_EQ_INT(qemu_argv_build(&p, &argv), 0);
        /* On microvm the fixed NICs are virtio-mmio devices; vhost stays off. */
        CHECK(argv_has(argv, "-netdev", "tap,id=net0,ifname=tap_eth0,script=no,downscript=no,vhost=off"));
        CHECK(argv_has(argv, "-device", "virtio-net-device,netdev=net0,mac=02:11:22:33:44:55"));
        CHECK(argv_has(argv, "-netdev", "tap,id=net1,ifname=tap_net1,script=no,downscript=no,vhost=off"));
        CHECK(argv_has(argv, "-device", "virtio-net-device,netdev=net1,mac=aa:bb:cc:dd:ee:0f"));
        qemu_argv_free(argv);
        p.machine = QEMU_MACHINE_Q35;
        p.n_nics = 1;
        CHECK_EQ_INT(qemu_argv_build(&p, &argv), 0);
        CHECK(argv_has(argv, "-netdev", "tap,id=net0,ifname=tap_eth0,script=no,downscript=no,vhost=off"));
        CHECK(argv_has(argv, "-device", "virtio-net-pci,netdev=net0,mac=02:11:22:33:44:55,romfile="));
        CHECK(!argv_has(argv, "-netdev", "tap,id=net1,ifname=tap_net1,script=no,downscript=no,vhost=off"));
        qemu_argv_free(argv);
        /* A NIC without a tap is the caller's mistake, refused. */
        p.nics = (const struct vm_nic[]){ { .tap = NULL } };
        CHECK_EQ_INT(qemu_argv_build(&p, &argv), -EINVAL);
}

static void test_argv_q35_9p_kvm(void)
{
        struct qemu_plan p = plan_default();
        char **argv = NULL;

        p.machine = QEMU_MACHINE_Q35;
        p.accel = VM_ACCEL_KVM;
        p.share = VM_SHARE_9P;
        p.share_dir = "/odd,dir";
        p.initrd = NULL;
        CHECK_EQ_INT(qemu_argv_build(&p, &argv), 0);
        CHECK(argv_has(argv, "-machine", "q35"));
        CHECK(argv_has(argv, "-accel", "kvm"));
        CHECK(argv_has(argv, "-cpu", "host"));
        CHECK(!argv_has(argv, "-initrd", NULL));
        /* No shared memory backend without virtio-fs: the one object is the entropy source. */
        CHECK(argv_has(argv, "-object", "rng-random,id=rng,filename=/dev/urandom"));
        CHECK(argv_has(argv, "-device", "virtio-rng-pci,rng=rng"));
        for (size_t i = 0; argv[i]; i++)
                CHECK(strncmp(argv[i], "memory-backend", 14) != 0);
        CHECK(!argv_has(argv, "-global", NULL));
        /* A comma in a path is doubled, or QEMU would read the rest as options. */
        CHECK(argv_has(argv, "-fsdev", "local,id=fs,path=/odd,,dir,security_model=passthrough,multidevs=remap"));
        CHECK(argv_has(argv, "-device", "virtio-9p-pci,fsdev=fs,mount_tag=hyper-share"));
        CHECK(argv_has(argv, "-device", "virtio-serial-pci,id=vser,max_ports=3"));
        qemu_argv_free(argv);
}

static void test_argv_virtiofsd(void)
{
        char **argv = NULL;

        CHECK_EQ_INT(qemu_argv_virtiofsd("/usr/lib/qemu/virtiofsd", "/a,b\\c", &argv), 0);
        CHECK_STREQ(argv[1], "--fd=3");
        CHECK(argv_has(argv, "-o", "source=/a\\,b\\\\c"));
        CHECK(argv_has(argv, "-o", "cache=auto"));
        qemu_argv_free(argv);
}

static void test_state_round_trip(void)
{
        struct qemu_state in = {
                .id = "pod1",
                .machine = "microvm",
                .accel = VM_ACCEL_TCG,
                .share = VM_SHARE_VIRTIOFS,
                .pid = 1234,
                .pid_start = 99887766,
                .helper_pid = 1233,
                .helper_start = 99887700,
                .qmp_socket = "/run/pod/qmp.sock",
                .ctl_socket = "/run/pod/ctl.sock",
                .stream_socket = "/run/pod/stream.sock",
                .console_log = "/run/pod/console.log",
                .virtiofsd_socket = "/run/pod/virtiofsd.sock",
                .hotplug_ports = 8,
        };
        struct qemu_state out = {};
        char *text = NULL;

        CHECK_EQ_INT(qemu_state_to_json(&in, &text), 0);
        CHECK_EQ_INT(qemu_state_from_json(text, &out), 0);
        CHECK_STREQ(out.id, "pod1");
        CHECK_STREQ(out.machine, "microvm");
        CHECK_EQ_INT(out.accel, VM_ACCEL_TCG);
        CHECK_EQ_INT(out.share, VM_SHARE_VIRTIOFS);
        CHECK_EQ_INT(out.pid, 1234);
        CHECK_EQ_INT(out.pid_start, 99887766);
        CHECK_EQ_INT(out.helper_pid, 1233);
        CHECK_EQ_INT(out.helper_start, 99887700);
        CHECK_STREQ(out.qmp_socket, "/run/pod/qmp.sock");
        CHECK_STREQ(out.virtiofsd_socket, "/run/pod/virtiofsd.sock");
        CHECK_EQ_INT(out.hotplug_ports, 8);
        qemu_state_done(&out);
        free(text);

        in.virtiofsd_socket = NULL;
        in.helper_pid = 0;
        CHECK_EQ_INT(qemu_state_to_json(&in, &text), 0);
        CHECK_EQ_INT(qemu_state_from_json(text, &out), 0);
        CHECK(!out.virtiofsd_socket);
        qemu_state_done(&out);
        free(text);
}

static void test_state_hostile(void)
{
        static const char *const bad[] = {
                "",
                "[]",
                "{\"version\":1}",
                "{\"version\":2,\"id\":\"x\"}",
                "not json",
                "{\"version\":1,\"id\":\"x\",\"machine\":\"microvm\",\"qmp_socket\":\"q\",\"ctl_socket\":\"c\","
                "\"stream_socket\":\"s\",\"console_log\":\"l\",\"accel\":\"warp\",\"share\":\"9p\",\"pid\":1,"
                "\"pid_start\":1,\"helper_pid\":0,\"helper_start\":0,\"hotplug_ports\":1}",
                "{\"version\":1,\"id\":\"x\",\"machine\":\"microvm\",\"qmp_socket\":\"q\",\"ctl_socket\":\"c\","
                "\"stream_socket\":\"s\",\"console_log\":\"l\",\"accel\":\"tcg\",\"share\":\"9p\",\"pid\":-5,"
                "\"pid_start\":1,\"helper_pid\":0,\"helper_start\":0,\"hotplug_ports\":1}",
                "{\"version\":1,\"id\":7,\"machine\":\"microvm\",\"qmp_socket\":\"q\",\"ctl_socket\":\"c\","
                "\"stream_socket\":\"s\",\"console_log\":\"l\",\"accel\":\"tcg\",\"share\":\"9p\",\"pid\":5,"
                "\"pid_start\":1,\"helper_pid\":0,\"helper_start\":0,\"hotplug_ports\":1}",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct qemu_state out = {};
                CHECK(qemu_state_from_json(bad[i], &out) < 0);
                CHECK(!out.id);
        }
}

static void test_names(void)
{
        enum qemu_machine m;
        enum vm_accel a;
        enum vm_share s;

        CHECK_EQ_INT(qemu_machine_from_string("q35", &m), 0);
        CHECK_EQ_INT(m, QEMU_MACHINE_Q35);
        CHECK_EQ_INT(qemu_machine_from_string("pc", &m), -EINVAL);
        CHECK_EQ_INT(qemu_accel_from_string("kvm", &a), 0);
        CHECK_EQ_INT(a, VM_ACCEL_KVM);
        CHECK_EQ_INT(qemu_accel_from_string(NULL, &a), -EINVAL);
        CHECK_EQ_INT(qemu_share_from_string("9p", &s), 0);
        CHECK_EQ_INT(s, VM_SHARE_9P);
        CHECK_STREQ(qemu_share_to_string(VM_SHARE_VIRTIOFS), "virtiofs");
        CHECK(hypervisor_find("qemu") == &qemu_ops);
        CHECK(hypervisor_find(NULL) == &qemu_ops);
        CHECK(!hypervisor_find("xen"));
}

/* blockdev-add never lets a qcow2 image name a file for QEMU to open. */
static void test_blockdev(void)
{
        unsigned char h[QEMU_QCOW2_HEADER_SIZE] = "QFI\xfb\0\0\0\3";
        json_object *o = qemu_blockdev_args("drive-d1", "/srv/d.qcow2", "qcow2", true);
        char *error = NULL;

        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    "{\"driver\":\"qcow2\",\"node-name\":\"drive-d1\",\"read-only\":true,"
                    "\"file\":{\"driver\":\"file\",\"filename\":\"/srv/d.qcow2\"},\"backing\":null}");
        json_object_put(o);
        o = qemu_blockdev_args("drive-d1", "/srv/d.img", "raw", false);
        CHECK(!json_object_object_get_ex(o, "backing", NULL));
        json_object_put(o);

        CHECK_EQ_INT(qemu_qcow2_check(h, sizeof(h), NULL), 0);
        h[7] = 2;
        CHECK_EQ_INT(qemu_qcow2_check(h, 72, NULL), 0);
        /* A backing file named at offset 0x68, as a guest would plant it. */
        h[15] = 0x68;
        CHECK_EQ_INT(qemu_qcow2_check(h, sizeof(h), &error), -EINVAL);
        CHECK(strstr(error, "has a backing file"));
        free(error);
        h[15] = 0;
        h[7] = 3;
        h[79] = 1u << 2;
        CHECK_EQ_INT(qemu_qcow2_check(h, sizeof(h), &error), -EINVAL);
        CHECK(strstr(error, "external data file"));
        free(error);
        h[79] = 0;
        CHECK_EQ_INT(qemu_qcow2_check(h, 100, NULL), -EINVAL);
        h[7] = 4;
        CHECK_EQ_INT(qemu_qcow2_check(h, sizeof(h), NULL), -EINVAL);
        h[7] = 3;
        h[0] = 'X';
        CHECK_EQ_INT(qemu_qcow2_check(h, sizeof(h), &error), -EINVAL);
        CHECK(strstr(error, "not a qcow2 image"));
        free(error);
        CHECK_EQ_INT(qemu_qcow2_check(h, 0, NULL), -EINVAL);
}

int main(void)
{
        RUN_TEST(test_cmdline);
        RUN_TEST(test_argv_microvm_virtiofs);
        RUN_TEST(test_argv_q35_9p_kvm);
        RUN_TEST(test_argv_nics);
        RUN_TEST(test_argv_virtiofsd);
        RUN_TEST(test_state_round_trip);
        RUN_TEST(test_state_hostile);
        RUN_TEST(test_names);
        RUN_TEST(test_blockdev);
        return 0;
}
