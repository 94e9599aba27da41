/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The close counters' records (bpf/closes.h) as tcpkeepalived reads them:
 * the header checked, records sorted and summed over a unit's cgroups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "daemon/close-counts.h"
#include "bpf/closes.h"
#include "check.h"

static size_t build(char *buf, const struct tka_closes_record *recs, size_t n, __u32 flags) {
        struct tka_closes_header h = { .magic = TKA_CLOSES_MAGIC, .version = TKA_CLOSES_VERSION,
                                       .record_size = sizeof(struct tka_closes_record), .since = 1700000000,
                                       .flags = flags };
        memcpy(buf, &h, sizeof(h));
        if (n)
                memcpy(buf + sizeof(h), recs, n * sizeof(*recs));
        return sizeof(h) + n * sizeof(*recs);
}

int main(void) {
        char buf[4096];
        struct close_snapshot s;
        struct close_counts sum;
        const struct tka_closes_record recs[] = {
                { .cgroup_id = 300, .counts = { .keepalive = 1, .covered = 5 } },
                { .cgroup_id = 100, .counts = { .user_timeout = 2, .retransmit = 3, .covered = 1, .probes = 7 } },
                { .cgroup_id = 200, .counts = { .keepalive = 4 } },
        };
        const uint64_t unit[] = { 100, 300, 999 /* a cgroup with nothing counted */ };
        size_t len = build(buf, recs, 3, TKA_CLOSES_PROBES_COUNTED);

        CHECK(close_snapshot_parse(buf, len, &s) == 0, "close_snapshot_parse(buf, len, &s) == 0");
        CHECK(s.n == 3 && s.since == 1700000000 && s.probes_counted, "s.n == 3 && s.since == 1700000000 && s.probes_counted");
        CHECK(s.cgroups[0].cgroup_id == 100 && s.cgroups[1].cgroup_id == 200 && s.cgroups[2].cgroup_id == 300, "s.cgroups[0].cgroup_id == 100 && s.cgroups[1].cgroup_id == 200 && s.cgroups[2].cgroup_id == 300");
        close_snapshot_sum(&s, unit, 3, &sum);
        CHECK(sum.keepalive == 1 && sum.user_timeout == 2 && sum.retransmit == 3 && sum.covered == 6 && sum.probes == 7, "sum.keepalive == 1 && sum.user_timeout == 2 && sum.retransmit == 3 && sum.covered == 6 && sum.probes == 7");
        close_snapshot_sum(&s, NULL, 0, &sum);
        CHECK(sum.keepalive == 0 && sum.covered == 0, "sum.keepalive == 0 && sum.covered == 0");
        close_snapshot_done(&s);

        /* No record at all (no cgroup counted yet): valid, all zero. */
        len = build(buf, NULL, 0, 0);
        CHECK(close_snapshot_parse(buf, len, &s) == 0, "close_snapshot_parse(buf, len, &s) == 0");
        CHECK(s.n == 0 && !s.probes_counted, "s.n == 0 && !s.probes_counted");
        close_snapshot_sum(&s, unit, 3, &sum);
        CHECK(sum.keepalive == 0, "sum.keepalive == 0");
        close_snapshot_done(&s);

        /* Not ours, truncated, empty: refused, never read as zeros. */
        len = build(buf, recs, 2, 0);
        CHECK(close_snapshot_parse(buf, len - 1, &s) == -EBADMSG, "close_snapshot_parse(buf, len - 1, &s) == -EBADMSG");
        CHECK(close_snapshot_parse(buf, 10, &s) == -EBADMSG, "close_snapshot_parse(buf, 10, &s) == -EBADMSG");
        CHECK(close_snapshot_parse(buf, 0, &s) == -EBADMSG, "close_snapshot_parse(buf, 0, &s) == -EBADMSG");
        buf[0] ^= 1;
        CHECK(close_snapshot_parse(buf, len, &s) == -EBADMSG, "close_snapshot_parse(buf, len, &s) == -EBADMSG");
        /* A missing pin is "not pinned", not zero. */
        CHECK(close_snapshot_read("/nonexistent/closes", &s) == -ENOENT, "close_snapshot_read(\"/nonexistent/closes\", &s) == -ENOENT");
        CHECK(strstr(close_snapshot_unavailable(-ENOENT), "not pinned") != NULL, "strstr(close_snapshot_unavailable(-ENOENT), \"not pinned\") != NULL");
        if (failures)
                return 1;
        printf("PASS: close counter records (%d checks)\n", checks);
        return 0;
}
