/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * churn: connection churn on loopback, the cost a preload library adds to
 * every connection. One listener; N cycles of socket() + connect() +
 * accept() + close() of both ends, in one thread (the handshake completes
 * in the kernel, so accept() right after connect() does not block).
 *
 * The accepted end is closed first, so the server side takes TIME_WAIT on
 * the listener's port and the client's ephemeral ports are not exhausted
 * over 50,000 cycles. Bounded: N cycles, and 60 s whatever happens.
 *
 * Prints one line: cycles=N ns_per_cycle=X keepalive_client=K keepalive_accepted=A
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int keepalive_of(int fd) {
        int v = -1;
        socklen_t l = sizeof(v);
        getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &l);
        return v;
}

int main(int argc, char **argv) {
        long cycles = argc > 1 ? atol(argv[1]) : 50000, done = 0;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int one = 1, l, ka_client = -1, ka_accepted = -1;
        double start, end;

        if (cycles <= 0 || cycles > 10000000) {
                fprintf(stderr, "usage: churn [CYCLES (1..10000000)]\n");
                return 2;
        }
        l = socket(AF_INET, SOCK_STREAM, 0);
        if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(l, (struct sockaddr *) &a, len) < 0 || listen(l, 128) < 0 ||
            getsockname(l, (struct sockaddr *) &a, &len) < 0) {
                perror("churn: listener");
                return 1;
        }
        start = now();
        for (; done < cycles; done++) {
                int c = socket(AF_INET, SOCK_STREAM, 0), s;
                if (c < 0 || connect(c, (struct sockaddr *) &a, sizeof(a)) < 0) {
                        perror("churn: connect");
                        return 1;
                }
                s = accept(l, NULL, NULL);
                if (s < 0) {
                        perror("churn: accept");
                        return 1;
                }
                if (done == 0) { /* what the library did, checked once, outside the loop's cost */
                        ka_client = keepalive_of(c);
                        ka_accepted = keepalive_of(s);
                }
                close(s);
                close(c);
                if ((done & 1023) == 0 && now() - start > 60) {
                        fprintf(stderr, "churn: stopped after 60 s\n");
                        break;
                }
        }
        end = now();
        printf("cycles=%ld ns_per_cycle=%.0f keepalive_client=%d keepalive_accepted=%d\n", done,
               (end - start) * 1e9 / (double) done, ka_client, ka_accepted);
        return 0;
}
