/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* closes-dump PIN CGROUP_DIR...: the close counters of these cgroups, read
 * through the pinned iterator as tcpkeepalived reads it
 * (daemon/close-counts.c), summed: one line
 *   keepalive=N user_timeout=N retransmit=N covered=N probes=N|-
 * or "unavailable: REASON" (exit 1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/close-counts.h"

int main(int argc, char **argv) {
        struct close_snapshot snap;
        struct close_counts sum = { 0 }, one;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: closes-dump PIN CGROUP_DIR...\n");
                return 2;
        }
        if ((r = close_snapshot_read(argv[1], &snap)) < 0) {
                printf("unavailable: %s (%s)\n", close_snapshot_unavailable(r), strerror(-r));
                return 1;
        }
        for (int i = 2; i < argc; i++) {
                struct stat st;
                uint64_t id;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "closes-dump: %s: %s\n", argv[i], strerror(errno));
                        return 2;
                }
                id = (uint64_t) st.st_ino;
                close_snapshot_sum(&snap, &id, 1, &one);
                sum.keepalive += one.keepalive;
                sum.user_timeout += one.user_timeout;
                sum.retransmit += one.retransmit;
                sum.covered += one.covered;
                sum.probes += one.probes;
        }
        printf("keepalive=%llu user_timeout=%llu retransmit=%llu covered=%llu probes=", (unsigned long long) sum.keepalive,
               (unsigned long long) sum.user_timeout, (unsigned long long) sum.retransmit,
               (unsigned long long) sum.covered);
        if (snap.probes_counted)
                printf("%llu\n", (unsigned long long) sum.probes);
        else
                printf("-\n");
        close_snapshot_done(&snap);
        return 0;
}
