/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/sockiter: loads bpf/sockets.bpf.o (the task_file iterator the
 * daemon reads through the pin), then reads every TCP socket of every
 * process, with its cgroup and keepalive values, in one pass: median time
 * of RUNS passes, and what it found.
 * Usage: sockiter OBJECT [RUNS]  (CAP_BPF + CAP_PERFMON, or root). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/sockets.h"

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv) {
        static uint64_t buf[1 << 21]; /* 16 MiB: 200,000 records */
        int runs = argc > 2 ? atoi(argv[2]) : 5;
        struct bpf_object *obj;
        struct bpf_program *prog;
        struct bpf_link *link;
        double t[100];
        size_t recs = 0, est = 0, ka = 0;

        if (argc < 2 || runs < 1 || runs > 100) {
                fprintf(stderr, "usage: sockiter OBJECT [RUNS]\n");
                return 2;
        }
        obj = bpf_object__open_file(argv[1], NULL);
        if (!obj || libbpf_get_error(obj) || bpf_object__load(obj) < 0) {
                fprintf(stderr, "sockiter: cannot load %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        prog = bpf_object__find_program_by_name(obj, "tcp_sockets");
        link = prog ? bpf_program__attach_iter(prog, NULL) : NULL;
        if (!link || libbpf_get_error(link)) {
                fprintf(stderr, "sockiter: cannot attach the iterator: %s\n", strerror(errno));
                return 1;
        }
        for (int r = 0; r < runs; r++) {
                double t0 = now_ms();
                int fd = bpf_iter_create(bpf_link__fd(link));
                size_t n = 0;
                ssize_t got;
                if (fd < 0) {
                        perror("bpf_iter_create");
                        return 1;
                }
                while (n < sizeof(buf) && (got = read(fd, (char *) buf + n, sizeof(buf) - n)) > 0)
                        n += (size_t) got;
                close(fd);
                recs = n > sizeof(struct tka_sockets_header)
                               ? (n - sizeof(struct tka_sockets_header)) / sizeof(struct tka_socket_record)
                               : 0;
                est = ka = 0;
                for (size_t i = 0; i < recs; i++) {
                        const struct tka_socket_record *rec =
                                (const struct tka_socket_record *) ((const char *) buf +
                                                                    sizeof(struct tka_sockets_header)) + i;
                        est += rec->state == 1;
                        ka += rec->state == 1 && rec->keepalive;
                }
                t[r] = now_ms() - t0;
        }
        qsort(t, (size_t) runs, sizeof(double), cmp_double);
        printf("  %-40s %8.1f ms  %6zu items  %6.2f us/item  (%zu established, %zu with keepalive on)\n",
               "bpf task_file iterator, all processes", t[runs / 2], recs,
               recs ? t[runs / 2] * 1000.0 / (double) recs : 0.0, est, ka);
        bpf_link__destroy(link);
        bpf_object__close(obj);
        return 0;
}
