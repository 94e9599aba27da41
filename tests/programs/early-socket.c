/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reports the keepalive state of the socket libearlysocket opened from its
 * constructor, i.e. before libtcpkeepalive.so's constructor ran. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

extern int early_socket_fd;

int main(void) {
        int ka = -1, idle = -1;
        socklen_t l = sizeof(int);
        getsockopt(early_socket_fd, SOL_SOCKET, SO_KEEPALIVE, &ka, &l);
        l = sizeof(int);
        getsockopt(early_socket_fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l);
        printf("early keepalive=%d idle=%d\n", ka, idle);
        return early_socket_fd < 0;
}
