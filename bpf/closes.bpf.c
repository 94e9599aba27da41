// SPDX-License-Identifier: GPL-2.0-only
/* bpf/closes.bpf.c: per cgroup, what the kernel's TCP timers did to
 * connections (bpf/closes.h), whatever set keepalive on them (the preload
 * library, the BPF backend, the program itself):
 *
 *   on_error  tp_btf/inet_sk_error_report, a TCP connection closed with an
 *             error: one that died of a timer (sk_err is ETIMEDOUT, or the
 *             soft ICMP error tcp_write_err() reports in its place) is
 *             counted by what timed out.
 *   on_destroy tp_btf/tcp_destroy_sock: every connection that ends with
 *             SO_KEEPALIVE on is counted as covered.
 *   on_probe  fentry/tcp_write_wakeup with LINUX_MIB_TCPKEEPALIVE: the
 *             keepalive timer sending a probe (the zero-window probe timer
 *             calls it too, with LINUX_MIB_TCPWINPROBE).
 *   dump      iter/cgroup, looking each cgroup's counters up: what the
 *             daemon reads through the pin, without any BPF privilege of
 *             its own (it cannot change the counters through it).
 *
 * Why the death is told from the socket at TCP_CLOSE: tcp_write_err()
 * purges the write queue first (packets_out is 0 by then), but leaves
 * icsk_retransmits and icsk_probes_out as the timers left them.
 * net/ipv4/tcp_timer.c: with TCP_USER_TIMEOUT set, both the
 * retransmission timer (retransmits_timed_out) and the keepalive timer
 * decide by it alone, so any timed-out death with icsk_user_timeout set is
 * the user timeout's; else retransmissions (icsk_retransmits > 0, reset by
 * every ACK that advances snd_una) mean tcp_retries2 ran out; else
 * unanswered probes (icsk_probes_out > 0, reset by every ACK) with
 * SO_KEEPALIVE on are keepalive's. One case cannot be told apart at close:
 * a peer that vanishes while its receive window is zero dies by the
 * zero-window probe timer with the same marks (probes, no retransmission);
 * with SO_KEEPALIVE on it is counted as keepalive, else as retransmit.
 *
 * Cost: on_error runs on errors only; on_destroy once per socket, and
 * touches the map only for one with keepalive on. (The inet_sock_set_state
 * tracepoint would see the deaths too, but runs at every state change,
 * ten times per connection: 1.8% of a loopback connect+accept+close cycle
 * measured here, against the goal of 1%.) CO-RE: only the fields read
 * are declared. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/closes.h"
#include "bpf/kernel-types.h"

struct sock_cgroup_data { struct cgroup *cgroup; } CORE;
struct sock_common {
        unsigned short skc_family;
        unsigned char skc_state;
        unsigned long skc_flags;
} CORE;
struct sock {
        struct sock_common __sk_common;
        __u16 sk_type, sk_protocol;
        int sk_err, sk_err_soft;
        struct sock_cgroup_data sk_cgrp_data;
} CORE;
struct inet_connection_sock {
        __u8 icsk_retransmits;
        __u8 icsk_probes_out;
        __u32 icsk_user_timeout;
} CORE;
struct tcp_sock {
        struct inet_connection_sock inet_conn;
        __u32 segs_in;
} CORE;
struct bpf_iter__cgroup {
        struct bpf_iter_meta *meta;
        struct cgroup *cgroup;
} CORE;
enum sock_flags { SOCK_KEEPOPEN = 3 };

#define ETIMEDOUT 110
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define TCP_CLOSE 7

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
char LICENSE[] SEC("license") = "GPL";

struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, TKA_CLOSES_MAX_CGROUPS);
        __type(key, __u64); /* cgroup id (the cgroup directory's inode) */
        __type(value, struct tka_close_counts);
} close_counts SEC(".maps");

/* Set by tcpkeepalive-bpf iter-pin after loading (bpf/closes.h). */
struct tka_closes_globals globals = { 0 };

static __always_inline struct tka_close_counts *counts_of(struct sock *sk) {
        static const struct tka_close_counts zero;
        struct cgroup *cgrp = sk->sk_cgrp_data.cgroup;
        struct tka_close_counts *c;
        __u64 id;

        if (!cgrp)
                return NULL;
        id = cgrp->kn->id; /* BTF-typed loads, no helper call */
        c = bpf_map_lookup_elem(&close_counts, &id);
        if (c)
                return c;
        (void) bpf_map_update_elem(&close_counts, &id, &zero, BPF_NOEXIST);
        return bpf_map_lookup_elem(&close_counts, &id);
}

static __always_inline bool is_tcp(struct sock *sk) {
        unsigned short family = sk->__sk_common.skc_family;
        return sk->sk_protocol == IPPROTO_TCP && sk->sk_type == SOCK_STREAM &&
               (family == AF_INET || family == AF_INET6);
}

/* A connection the kernel gave up on: tcp_write_err() -> tcp_done_with_error()
 * reports the error once the socket is closed (and only while the program
 * still holds it: a socket already close()d is not reported). Runs on
 * errors only, never on the churn of healthy connections. */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(on_error, struct sock *sk) {
        struct inet_connection_sock *icsk;
        struct tcp_sock *tp;
        struct tka_close_counts *c;
        bool keepopen;
        int err = sk->sk_err;

        /* tcp_write_err(): sk_err_soft ?: ETIMEDOUT; a reset sets ECONNRESET, EPIPE. */
        if ((err != ETIMEDOUT && (err == 0 || err != sk->sk_err_soft)) || sk->__sk_common.skc_state != TCP_CLOSE ||
            !is_tcp(sk))
                return 0;
        /* The tracepoint's socket is a struct sock; a TCP one is a whole
         * tcp_sock (is_tcp). */
        tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
        icsk = &tp->inet_conn;
        /* A connect() nobody answered (nothing ever received) is no dead peer. */
        if (tp->segs_in == 0 || !(c = counts_of(sk)))
                return 0;
        keepopen = (sk->__sk_common.skc_flags >> bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)) & 1;
        if (icsk->icsk_user_timeout)
                __sync_fetch_and_add(&c->user_timeout, 1);
        else if (icsk->icsk_retransmits == 0 && icsk->icsk_probes_out > 0 && keepopen)
                __sync_fetch_and_add(&c->keepalive, 1);
        else
                __sync_fetch_and_add(&c->retransmit, 1);
        return 0;
}

/* Every TCP socket's end (tcp_v4_destroy_sock, for IPv6 too): a connection
 * with keepalive on is counted as covered. Two runs per connection (the
 * state-change tracepoint would be ten); no map access without keepalive. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_destroy, struct sock *sk) {
        struct tka_close_counts *c;
        struct tcp_sock *tp;

        if (!((sk->__sk_common.skc_flags >> bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)) & 1) || !is_tcp(sk))
                return 0;
        tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
        /* A listener (SO_KEEPALIVE on it is for the connections it
         * accepts) and a connect() never answered received nothing. */
        if (tp->segs_in == 0 || !(c = counts_of(sk)))
                return 0;
        __sync_fetch_and_add(&c->covered, 1);
        return 0;
}

SEC("fentry/tcp_write_wakeup")
int BPF_PROG(on_probe, struct sock *sk, int mib) {
        struct tka_close_counts *c;

        if (!globals.keepalive_mib || mib != globals.keepalive_mib || !is_tcp(sk) ||
            !(c = counts_of(sk)))
                return 0;
        __sync_fetch_and_add(&c->probes, 1);
        return 0;
}

/* Not an iter/bpf_map_elem over the map: this kernel refuses those
 * (EPERM before verification, as it refuses fentry), while the cgroup
 * iterator (Linux >= 6.1) works, and visits only cgroups that exist. The
 * pin walks every cgroup (pre-order, from the root); each counted one is a
 * record. A read resumes nowhere (the cgroup iterator returns EOPNOTSUPP
 * past its first buffer, 32 KiB): the reader reads it in one go, and past
 * about 680 counted cgroups gets EOPNOTSUPP, never a partial list. */
SEC("iter/cgroup")
int dump(struct bpf_iter__cgroup *ctx) {
        struct seq_file *seq = ctx->meta->seq;
        struct cgroup *cgrp = ctx->cgroup;
        struct tka_close_counts *c;
        struct tka_closes_record rec;
        __u64 id;

        /* The first call, also when no cgroup is left to visit (cgrp NULL). */
        if (ctx->meta->seq_num == 0) {
                struct tka_closes_header h = { .magic = TKA_CLOSES_MAGIC, .version = TKA_CLOSES_VERSION,
                                               .record_size = sizeof(struct tka_closes_record),
                                               .since = globals.since, .flags = globals.flags };
                bpf_seq_write(seq, &h, sizeof(h));
        }
        if (!cgrp)
                return 0;
        id = BPF_CORE_READ(cgrp, kn, id);
        if (!(c = bpf_map_lookup_elem(&close_counts, &id)))
                return 0;
        rec.cgroup_id = id;
        rec.counts = *c;
        bpf_seq_write(seq, &rec, sizeof(rec));
        return 0;
}
