/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hyper-pause: the process of a pod's sandbox container, as Kubernetes'
 * pause. It is the pod's first container in runv's sense: it holds the
 * VM, and the network, ipc and uts namespaces the pod's containers join,
 * so that the pod outlives any one of them. It does nothing but wait:
 * SIGTERM, SIGINT or SIGHUP end it with status 0, and as PID 1 of its
 * container it reaps any orphan. Built static: the sandbox's rootfs holds
 * nothing else (docs/pods.md).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void pause_quit(int sig)
{
        (void)sig;
        _exit(0);
}

static void pause_reap(int sig)
{
        (void)sig;
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

int main(void)
{
        struct sigaction quit = {.sa_handler = pause_quit}, reap = {.sa_handler = pause_reap, .sa_flags = SA_NOCLDSTOP};

        sigaction(SIGTERM, &quit, NULL);
        sigaction(SIGINT, &quit, NULL);
        sigaction(SIGHUP, &quit, NULL);
        sigaction(SIGCHLD, &reap, NULL);
        for (;;)
                pause();
        return EXIT_FAILURE;
}
