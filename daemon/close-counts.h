/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the kernel's TCP timers did to a unit's connections: the close
 * counters of bpf/closes.bpf.c, read through the cgroup iterator that
 * tcpkeepalive-bpf iter-pin pins (CLOSES_ITER_PIN). The daemon needs no
 * BPF privilege for it (read(2) on a bpffs file) and cannot change the
 * counters through it. Counters are kept per cgroup; a unit's are the sum
 * over its cgroup and the cgroups below it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf-record.h"
#include "bpf/closes.h"

#define CLOSES_ITER_PIN KA_BPF_PIN_DIR "/" TKA_CLOSES_PIN

struct close_counts {
        uint64_t keepalive;    /* keepalive probes unanswered (TCP_KEEPCNT reached) */
        uint64_t user_timeout; /* TCP_USER_TIMEOUT elapsed */
        uint64_t retransmit;   /* retransmissions ran out (net.ipv4.tcp_retries2) */
        uint64_t covered;      /* connections closed with SO_KEEPALIVE on */
        uint64_t probes;       /* keepalive probes sent: only with probes_counted */
};

struct close_cgroup {
        uint64_t cgroup_id;
        struct close_counts counts;
};

/* One read of the pin: every existing cgroup with counters. */
struct close_snapshot {
        uint64_t since;         /* when counting started, CLOCK_REALTIME seconds */
        bool probes_counted;    /* the kernel let the probe counter attach (fentry) */
        struct close_cgroup *cgroups; /* ordered by cgroup id */
        size_t n;
};

/* Parses what a read of the pin returned. 0, -EBADMSG (not our format,
 * or truncated), -ENOMEM. */
int close_snapshot_parse(const void *buf, size_t len, struct close_snapshot *ret);
/* Reads the pin at path (CLOSES_ITER_PIN) once: 0 or -errno (-ENOENT: not
 * pinned, -EOPNOTSUPP: more counted cgroups than one read of the cgroup
 * iterator holds). */
int close_snapshot_read(const char *path, struct close_snapshot *ret);
void close_snapshot_done(struct close_snapshot *s);
/* The sum of the counters of the cgroups with these ids (a unit's cgroup
 * and those below it). */
void close_snapshot_sum(const struct close_snapshot *s, const uint64_t *ids, size_t n, struct close_counts *ret);
/* One sentence on why there are no counts (r from close_snapshot_read). */
const char *close_snapshot_unavailable(int r);
