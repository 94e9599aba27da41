/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sockpeek PID FD: reads another process's socket options, with
 * pidfd_open + pidfd_getfd (Linux >= 5.6; needs ptrace rights over PID)
 * and getsockopt on the duplicate, and prints them as sockprobe does:
 *   peek keepalive=1 idle=75 interval=60 count=20 user_timeout=0
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int opt(int fd, int level, int name) {
        int v = -1;
        socklen_t l = sizeof(v);
        return getsockopt(fd, level, name, &v, &l) < 0 ? -1 : v;
}

int main(int argc, char **argv) {
        int pidfd, fd;

        if (argc != 3) {
                fprintf(stderr, "usage: sockpeek PID FD\n");
                return 2;
        }
        pidfd = (int) syscall(SYS_pidfd_open, atoi(argv[1]), 0);
        if (pidfd < 0) {
                fprintf(stderr, "sockpeek: pidfd_open %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        fd = (int) syscall(SYS_pidfd_getfd, pidfd, atoi(argv[2]), 0);
        if (fd < 0) {
                fprintf(stderr, "sockpeek: pidfd_getfd %s %s: %s\n", argv[1], argv[2], strerror(errno));
                return 1;
        }
        printf("peek keepalive=%d idle=%d interval=%d count=%d user_timeout=%d\n", opt(fd, SOL_SOCKET, SO_KEEPALIVE),
               opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), opt(fd, IPPROTO_TCP, TCP_KEEPCNT),
               opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT));
        return 0;
}
