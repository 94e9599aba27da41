/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "close-counts.h"
#include "iter-pin-read.h"
#include "../bpf/closes.h"

static int cmp_cgroup(const void *a, const void *b) {
        const struct close_cgroup *x = a, *y = b;
        return (x->cgroup_id > y->cgroup_id) - (x->cgroup_id < y->cgroup_id);
}

void close_snapshot_done(struct close_snapshot *s) {
        free(s->cgroups);
        *s = (struct close_snapshot) { 0 };
}

int close_snapshot_parse(const void *buf, size_t len, struct close_snapshot *ret) {
        struct tka_closes_header h;
        const char *p = buf;
        size_t n;

        *ret = (struct close_snapshot) { 0 };
        if (len < sizeof(h))
                return -EBADMSG;
        memcpy(&h, p, sizeof(h));
        if (h.magic != TKA_CLOSES_MAGIC || h.version != TKA_CLOSES_VERSION ||
            h.record_size < sizeof(struct tka_closes_record) || (len - sizeof(h)) % h.record_size != 0)
                return -EBADMSG;
        n = (len - sizeof(h)) / h.record_size;
        if (n > 0 && !(ret->cgroups = calloc(n, sizeof(*ret->cgroups))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct tka_closes_record r;
                memcpy(&r, p + sizeof(h) + i * h.record_size, sizeof(r));
                ret->cgroups[i] = (struct close_cgroup) {
                        .cgroup_id = r.cgroup_id,
                        .counts = { .keepalive = r.counts.keepalive, .user_timeout = r.counts.user_timeout,
                                    .retransmit = r.counts.retransmit, .covered = r.counts.covered,
                                    .probes = r.counts.probes },
                };
        }
        ret->n = n;
        ret->since = h.since;
        ret->probes_counted = (h.flags & TKA_CLOSES_PROBES_COUNTED) != 0;
        if (n > 1)
                qsort(ret->cgroups, n, sizeof(*ret->cgroups), cmp_cgroup);
        return 0;
}

int close_snapshot_read(const char *path, struct close_snapshot *ret) {
        char *buf = NULL;
        size_t len = 0;
        /* One read(2) holds it all: the cgroup iterator cannot resume past
         * its first buffer (32 KiB), so a second read would fail anyway. */
        int r = iter_pin_read(path, 64 * 1024, 64 * 1024, &buf, &len);

        *ret = (struct close_snapshot) { 0 };
        if (r == -EFBIG)
                r = -EOPNOTSUPP;
        if (r == 0)
                r = close_snapshot_parse(buf, len, ret);
        free(buf);
        return r;
}

void close_snapshot_sum(const struct close_snapshot *s, const uint64_t *ids, size_t n, struct close_counts *ret) {
        *ret = (struct close_counts) { 0 };
        for (size_t i = 0; i < n; i++) {
                struct close_cgroup key = { .cgroup_id = ids[i] };
                const struct close_cgroup *c =
                        s->n ? bsearch(&key, s->cgroups, s->n, sizeof(*s->cgroups), cmp_cgroup) : NULL;
                if (!c)
                        continue;
                ret->keepalive += c->counts.keepalive;
                ret->user_timeout += c->counts.user_timeout;
                ret->retransmit += c->counts.retransmit;
                ret->covered += c->counts.covered;
                ret->probes += c->counts.probes;
        }
}

const char *close_snapshot_unavailable(int r) {
        switch (-r) {
        case 0:
                return "";
        case ENOENT:
                return "not counted: " CLOSES_ITER_PIN " is not pinned (tcpkeepalive-bpf iter-pin did not run, or the "
                       "kernel refused BPF: see journalctl -u tcpkeepalived)";
        case EOPNOTSUPP:
                return "not readable: more counted cgroups than one read of the cgroup iterator holds";
        case EBADMSG:
                return "not readable: " CLOSES_ITER_PIN " is not in the format this daemon reads";
        case EACCES:
        case EPERM:
                return "not readable: access to " CLOSES_ITER_PIN " refused";
        default:
                return "not readable";
        }
}
