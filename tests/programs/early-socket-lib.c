/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A library whose constructor opens a TCP socket. The dynamic loader runs it
 * before the constructor of a preloaded library, so libtcpkeepalive.so sees
 * socket() before it was initialised. */
#include <sys/socket.h>

int early_socket_fd = -1;

__attribute__((constructor)) static void open_early(void) {
        early_socket_fd = socket(AF_INET, SOCK_STREAM, 0);
}
