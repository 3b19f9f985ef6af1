/* SPDX-License-Identifier: Apache-2.0 */
/*
 * udpecho PORT: a UDP echo server for the network tests (busybox's nc has
 * no -u). Each datagram received on 0.0.0.0:PORT is printed on stdout as a
 * line, then sent back to its sender prefixed with "echo ". Static, so
 * that it runs in the busybox test image.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
        char buf[2048], out[sizeof(buf) + 8];
        long port;
        int fd;

        if (argc != 2 || (port = strtol(argv[1], NULL, 10)) < 1 || port > 65535) {
                fprintf(stderr, "usage: udpecho PORT\n");
                return 2;
        }
        a.sin_port = htons((unsigned short)port);
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                perror("udpecho");
                return 1;
        }
        printf("listening on %ld/udp\n", port);
        fflush(stdout);
        for (;;) {
                struct sockaddr_in from;
                socklen_t len = sizeof(from);
                ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &len);
                int m;

                if (n < 0)
                        continue;
                while (n > 0 && buf[n - 1] == '\n')
                        n--;
                buf[n] = '\0';
                printf("%s\n", buf);
                fflush(stdout);
                m = snprintf(out, sizeof(out), "echo %s\n", buf);
                (void)sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&from, len);
        }
}
