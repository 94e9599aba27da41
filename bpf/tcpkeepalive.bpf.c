/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BPF backend: the same socket options as libtcpkeepalive.so, set by
 * the kernel on every TCP connection of a service, whatever its program
 * (static, Go, setuid, sandboxed). One sock_ops program for all services;
 * each service's parameters live in the "params" map under its cgroup id,
 * and a socket takes the entry of its own cgroup or of the nearest
 * ancestor that has one, so a unit's sub-cgroups inherit.
 *
 * A cgroup/setsockopt program keeps, in force mode, the program from
 * turning keepalive off or changing the values the rule sets, on the
 * sockets the rule manages, with the preload's semantics (keepalived.d(5),
 * "Mode=force"; tests/programs/force-cases.c runs one table against both):
 *  - a socket is managed when sock_ops applied the rule to it at
 *    ACTIVE/PASSIVE_ESTABLISHED (its Direction= matched); sock_ops marks it
 *    in the "managed" socket storage with the cgroup id of the entry that
 *    applied, which is the socket's cgroup (or an ancestor's), never the
 *    calling task's: a socket passed to or kept by a process elsewhere
 *    stays what its unit made it, and the entry's current values count;
 *  - before establishment nothing is absorbed; the options the program
 *    set then (with a value the kernel accepts) are noted in the same
 *    storage, and in Mode=default sock_ops leaves them and sets the rule's
 *    others (the program's choice wins option by option, as with the
 *    preload); a listener's notes are cloned into the connections it
 *    accepts (BPF_F_CLONE), as the kernel clones its options;
 *  - absorbed (success, nothing changed): SO_KEEPALIVE=0, and a valid
 *    TCP_KEEPIDLE/KEEPINTVL/KEEPCNT/USER_TIMEOUT value different from the
 *    one the rule sets;
 *  - everything else goes to the kernel: SO_KEEPALIVE=1, the rule's own
 *    value, an option the rule leaves unset, an invalid value or length
 *    (the kernel's EINVAL), a bad pointer (the kernel's EFAULT, before
 *    this program runs), any call on an unmanaged socket.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "bpf/params.h"

#define SOL_SOCKET 1
#define SO_KEEPALIVE 9
#define SOL_TCP 6
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_USER_TIMEOUT 18
#define TCP_KEEP_MAX 32767 /* MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL */
#define TCP_KEEPCNT_MAX 127
#define MAX_LEVELS 16 /* cgroup depth searched for an entry */

/* Just the kernel fields we read; CO-RE finds their offsets in the
 * running kernel's BTF. */
struct kernfs_node {
        __u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
        struct kernfs_node *kn;
        int level;
        struct cgroup *ancestors[];
} __attribute__((preserve_access_index));

struct sock_cgroup_data {
        struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct ns_common {
        unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
        struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
        struct net *net;
} possible_net_t;

struct in6_addr {
        union {
                __u32 u6_addr32[4];
        } in6_u;
} __attribute__((preserve_access_index));

struct sock_common {
        __u32 skc_daddr;  /* the peer, IPv4 (network order) */
        __u16 skc_dport;  /* the peer's port, network order */
        struct in6_addr skc_v6_daddr;
        unsigned short skc_family;
        unsigned char skc_state;
        __u16 skc_num; /* the local port, host order */
        possible_net_t skc_net;
        unsigned long skc_flags;
} __attribute__((preserve_access_index));

struct sock {
        struct sock_common __sk_common;
        struct sock_cgroup_data sk_cgrp_data;
} __attribute__((preserve_access_index));

struct inet_sock {
        struct sock sk;
} __attribute__((preserve_access_index));

struct inet_connection_sock {
        struct inet_sock icsk_inet;
} __attribute__((preserve_access_index));

struct tcp_sock {
        struct inet_connection_sock inet_conn;
} __attribute__((preserve_access_index));

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, TKA_BPF_MAX_UNITS);
        __type(key, __u64); /* cgroup id (the cgroup directory's inode) */
        __type(value, struct tka_bpf_params);
} params SEC(".maps");

/* The units' path rules (bpf/params.h), one element per path under the
 * key of their "params" entry and the path's index, read only when that
 * entry has TKA_PARAMS_PATHS. Allocated per element (~4.7 KiB), only for
 * units with path rules. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __uint(max_entries, TKA_BPF_MAX_UNITS * TKA_BPF_PATHS_MAX);
        __type(key, struct tka_bpf_path_key);
        __type(value, struct tka_bpf_path);
} paths SEC(".maps");

/* The sockets the rule manages (bpf/params.h). An accepted connection
 * starts with its listener's mark (app_set: what the program set on the
 * listener, which the connection inherits in the kernel too; a listener is
 * never established, so its cgroup_id is 0 and sock_ops sets the
 * connection's own). */
TKA_MANAGED_MAP managed SEC(".maps");

/* The entry of cgrp or of its nearest ancestor that has one; its key in *key. */
static const struct tka_bpf_params *params_for_cgroup(struct cgroup *cgrp, __u64 *key) {
        int level = BPF_CORE_READ(cgrp, level);

        for (int i = 0; i < MAX_LEVELS; i++) {
                int l = level - i;
                struct cgroup *c;
                const struct tka_bpf_params *p;
                __u64 id;
                if (l < 0)
                        break;
                c = BPF_CORE_READ(cgrp, ancestors[l]);
                if (!c)
                        break;
                id = BPF_CORE_READ(c, kn, id);
                p = bpf_map_lookup_elem(&params, &id);
                if (p) {
                        *key = id;
                        return p;
                }
        }
        return 0;
}

/* ---- rules by network path ------------------------------------------------
 * The selection of lib/shared/keepalive-paths.h (ka_paths_match), over the
 * map's form of the paths: same semantics, tests/bpf/paths.sh checks the
 * two against each other on real connections. */

#define AF_INET 2
#define AF_INET6 10
/* The matcher, shared with its test against ka_paths_match
 * (tests/unit/test-bpf-paths.c). A global function: the verifier checks
 * it once, on its own, not again for each path of the caller's loop (the
 * 16 x 128 prefixes inline exceed its budget); BTF-typed pointer arguments
 * of global functions need Linux >= 5.12. */
#ifndef TKA_NO_PATH_MATCH
#define TKA_PATH_SPECIFICITY_DECL __attribute__((noinline))
#include "bpf/paths-match.h"
#endif

/* The values one socket gets: the unit's own or a path rule's. */
struct values {
        __s32 idle, interval, count, user_timeout_ms;
        __u32 path; /* 0: the unit's own; n: path n-1 (TKA_MARK_PATH) */
};

#ifndef TKA_NO_PATH_MATCH
static void conn_ends_of(struct sock *sk, struct tka_conn_ends *c) {
        __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

        c->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
        c->peer_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
        c->family = family;
        if (family == AF_INET) {
                c->peer[0] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
                return;
        }
        c->peer[0] = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32[0]);
        c->peer[1] = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32[1]);
        c->peer[2] = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32[2]);
        c->peer[3] = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32[3]);
        /* ::ffff:a.b.c.d, a dual-stack socket's IPv4 peer, counts as IPv4. */
        if (c->peer[0] == 0 && c->peer[1] == 0 && c->peer[2] == bpf_htonl(0xffff)) {
                c->family = AF_INET;
                c->peer[0] = c->peer[3];
                c->peer[1] = c->peer[2] = c->peer[3] = 0;
        }
}
#endif

/* The values for a socket of the unit whose entry is p (key): its own, or
 * those of the path rule that covers the connection. false: nothing for
 * this connection (path rules only, and none covers it). */
static bool values_for(const struct tka_bpf_params *p, __u64 key, struct sock *sk, struct values *v) {
#ifdef TKA_NO_PATH_MATCH
        /* tcpkeepalive-nopaths.bpf.o, for kernels that refuse the matcher
         * (< 5.12): tcpkeepalive-bpf stores no path rules with it (no
         * "paths" pin), so no entry has TKA_PARAMS_PATHS. */
        (void) key;
        (void) sk;
        *v = (struct values) { p->idle, p->interval, p->count, p->user_timeout_ms, 0 };
        return true;
#else
        struct tka_path_choice ch = TKA_PATH_CHOICE_INIT;
        struct tka_bpf_path_key k = { .cgroup_id = key };
        struct tka_conn_ends c = {};
        __u32 n;

        *v = (struct values) { p->idle, p->interval, p->count, p->user_timeout_ms, 0 };
        if (!(p->flags & TKA_PARAMS_PATHS))
                return true;
        conn_ends_of(sk, &c);
        n = TKA_PARAMS_N_PATHS(p->flags);
        for (__u32 i = 0; i < TKA_BPF_PATHS_MAX; i++) {
                const struct tka_bpf_path *pp;
                if (i >= n)
                        break;
                k.index = i;
                pp = bpf_map_lookup_elem(&paths, &k);
                if (pp) /* missing only between two updates of attach */
                        tka_path_consider(&ch, i, pp, &c);
        }
        if (!ch.path)
                return !(p->flags & TKA_PARAMS_UNMATCHED_OFF);
        *v = (struct values) { (__s32) ch.idle, (__s32) ch.interval, (__s32) ch.count, (__s32) ch.user_timeout_ms,
                               (__u32) ch.path };
        return true;
#endif
}

/* The values a managed socket's mark names (force mode): its path's, or
 * the unit's own. */
static void values_of_mark(const struct tka_bpf_params *p, const struct tka_sk_mark *mark, struct values *v) {
        __u32 path = TKA_MARK_PATH(mark->applied);

        *v = (struct values) { p->idle, p->interval, p->count, p->user_timeout_ms, 0 };
        if (path && path <= TKA_PARAMS_N_PATHS(p->flags) && (p->flags & TKA_PARAMS_PATHS)) {
                struct tka_bpf_path_key k = { .cgroup_id = mark->cgroup_id, .index = path - 1 };
                const struct tka_bpf_path *pp = bpf_map_lookup_elem(&paths, &k);
                if (pp)
                        *v = (struct values) { pp->idle, pp->interval, pp->count, pp->user_timeout_ms, path };
        }
}

/* Sets a rule's value, unless the rule leaves it unset or (Mode=default)
 * the program chose it itself before the connection was established. */
static void set_int(struct bpf_sock_ops *skops, int level, int name, int value, bool skip) {
        if (value > 0 && !skip)
                bpf_setsockopt(skops, level, name, &value, sizeof(value));
}

SEC("sockops")
int tcpkeepalive_sockops(struct bpf_sock_ops *skops) {
        const struct tka_bpf_params *p;
        struct tka_sk_mark *mark;
        struct bpf_sock *sk;
        struct tcp_sock *tp;
        struct values v;
        __u64 key = 0;
        __u32 app = 0;
        int one = 1;

        if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
                return 1;
        sk = skops->sk;
        if (!sk || !(tp = bpf_skc_to_tcp_sock(sk)))
                return 1;
        p = params_for_cgroup(BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup), &key);
        if (!p || !p->enabled)
                return 1;
        if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ? p->direction == TKA_BPF_INBOUND
                                                            : p->direction == TKA_BPF_OUTBOUND)
                return 1;
        /* Path rules only, and none covers this connection: not managed. */
        if (!values_for(p, key, (struct sock *) tp, &v))
                return 1;
        mark = bpf_sk_storage_get(&managed, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
        if (mark) {
                mark->cgroup_id = key;
                mark->applied = TKA_APPLIED_ESTABLISHED | (v.path << TKA_MARK_PATH_SHIFT);
                /* Mode=default: what the program set before connect() stays
                 * its own (the preload, there from socket(), lets those calls
                 * through too); force: the rule's values. */
                if (!p->force)
                        app = mark->app_set;
        }
        if (!(app & APP_KEEPALIVE))
                bpf_setsockopt(skops, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        set_int(skops, SOL_TCP, TCP_KEEPIDLE, v.idle, app & APP_IDLE);
        set_int(skops, SOL_TCP, TCP_KEEPINTVL, v.interval, app & APP_INTERVAL);
        set_int(skops, SOL_TCP, TCP_KEEPCNT, v.count, app & APP_COUNT);
        set_int(skops, SOL_TCP, TCP_USER_TIMEOUT, v.user_timeout_ms, app & APP_USER_TIMEOUT);
        return 1;
}

/* Would value change what the rule sets (rule > 0) to another value the
 * kernel accepts (min..max)? An invalid one goes to the kernel for its
 * EINVAL, the rule's own value changes nothing. */
static bool changes(int rule, int value, int min, int max) {
        return rule > 0 && value >= min && value <= max && value != rule;
}

/* Would the kernel accept value for the option (level, name)? */
static bool valid(int level, int name, int value) {
        if (level == SOL_SOCKET)
                return true; /* SO_KEEPALIVE: any int */
        if (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL)
                return value >= 1 && value <= TCP_KEEP_MAX;
        if (name == TCP_KEEPCNT)
                return value >= 1 && value <= TCP_KEEPCNT_MAX;
        return value >= 0; /* TCP_USER_TIMEOUT */
}

/* Force mode: a program's setsockopt that would change what the rule sets
 * on a socket it manages succeeds without reaching the kernel (optlen -1
 * skips it). */
SEC("cgroup/setsockopt")
int tcpkeepalive_setsockopt(struct bpf_sockopt *ctx) {
        const struct tka_bpf_params *p;
        struct tka_sk_mark *mark;
        struct bpf_sock *sk = ctx->sk;
        struct values v;
        int *optval = ctx->optval, value;
        __u32 bit;
        bool absorb;

        if (ctx->level != SOL_SOCKET && ctx->level != SOL_TCP)
                return 1;
        if (!sk || sk->protocol != 6 /* IPPROTO_TCP */)
                return 1;
        if (ctx->level == SOL_SOCKET ? ctx->optname != SO_KEEPALIVE
                                     : ctx->optname != TCP_KEEPIDLE && ctx->optname != TCP_KEEPINTVL &&
                                               ctx->optname != TCP_KEEPCNT && ctx->optname != TCP_USER_TIMEOUT)
                return 1;
        /* A short option: the kernel's EINVAL. */
        if (ctx->optlen < (int) sizeof(int) || (void *) (optval + 1) > ctx->optval_end)
                return 1;
        value = *optval;
        mark = bpf_sk_storage_get(&managed, sk, 0, 0);
        bit = ctx->level == SOL_SOCKET         ? APP_KEEPALIVE
              : ctx->optname == TCP_KEEPIDLE  ? APP_IDLE
              : ctx->optname == TCP_KEEPINTVL ? APP_INTERVAL
              : ctx->optname == TCP_KEEPCNT   ? APP_COUNT
                                              : APP_USER_TIMEOUT;
        if (!mark || !mark->cgroup_id) {
                /* Not established yet: remember what the program chose, for
                 * sock_ops to leave it in Mode=default; not a value the
                 * kernel refuses (EINVAL: the call set nothing). */
                if (!valid(ctx->level, ctx->optname, value))
                        return 1;
                if (!mark)
                        mark = bpf_sk_storage_get(&managed, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
                if (mark)
                        mark->app_set |= bit;
                return 1;
        }
        p = bpf_map_lookup_elem(&params, &mark->cgroup_id);
        if (!p || !p->enabled)
                return 1;
        if (!p->force) {
                /* Mode=default: the program's own choice after
                 * establishment, noted so that a later live apply
                 * (tcpkeepalive_apply) leaves it too. */
                if (valid(ctx->level, ctx->optname, value))
                        mark->app_set |= bit;
                return 1;
        }
        /* The values the socket got: its path rule's, or the unit's. */
        values_of_mark(p, mark, &v);
        if (ctx->level == SOL_SOCKET)
                absorb = value == 0;
        else if (ctx->optname == TCP_KEEPIDLE)
                absorb = changes(v.idle, value, 1, TCP_KEEP_MAX);
        else if (ctx->optname == TCP_KEEPINTVL)
                absorb = changes(v.interval, value, 1, TCP_KEEP_MAX);
        else if (ctx->optname == TCP_KEEPCNT)
                absorb = changes(v.count, value, 1, TCP_KEEPCNT_MAX);
        else if (ctx->optname == TCP_USER_TIMEOUT)
                absorb = changes(v.user_timeout_ms, value, 0, 0x7fffffff);
        else
                absorb = false;
        if (absorb)
                ctx->optlen = -1;
        return 1;
}

/* ---- live apply: tcpkeepalive-bpf apply ------------------------------------
 *
 * One pass of an iter/tcp program over the TCP sockets of one network
 * namespace (the one the iterator was created in: user space runs a pass in
 * each namespace the unit's processes are in), driven by reading the
 * iterator to its end, for the established connections of one cgroup
 * subtree (apply_target: a unit's cgroup). Each takes the "params" entry that sock_ops would take at
 * establishment (its own cgroup's or the nearest ancestor's) and:
 *  - Mode=force: the rule's values, and it is managed from now on (the
 *    "managed" mark, so cgroup/setsockopt absorbs the program's changes);
 *  - Mode=default: the rule's values only where the program has made no
 *    choice of its own: no option noted in its mark (set before
 *    establishment, or after it under a Mode=default entry), and keepalive
 *    either off or on only because this backend turned it on (the mark
 *    names an entry). Keepalive on without our mark is the program's
 *    choice (set before our programs were attached): left, counted "own";
 *  - Direction=inbound|outbound: a connection is inbound when its local
 *    port is one a listener of the subtree listens on, in its network
 *    namespace (the iterator visits the listening sockets before the
 *    established ones); the others are outbound. An accepted connection
 *    whose listener was closed before the pass counts as outbound.
 * The kernel locks each socket while the program runs on it, which is
 * what makes bpf_setsockopt possible here (Linux >= 5.14). */

#define TCP_ESTABLISHED 1
#define TCP_LISTEN 10

enum sock_flags { SOCK_KEEPOPEN = 3 };

struct bpf_iter_meta {
        void *seq;
        __u64 session_id;
        __u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
        struct bpf_iter_meta *meta;
        struct sock_common *sk_common;
} __attribute__((preserve_access_index));

const volatile struct tka_apply_target apply_target = {};
struct tka_apply_counts apply_counts = {};

struct listener_key {
        __u32 netns;
        __u32 port;
};

/* The subtree's listening ports, filled by this pass's first part. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(map_flags, BPF_F_NO_PREALLOC); /* memory only while a pass runs */
        __uint(max_entries, 4096);
        __type(key, struct listener_key);
        __type(value, __u8);
} apply_listeners SEC(".maps");

static bool in_subtree(struct cgroup *cgrp, __u64 target) {
        int level = BPF_CORE_READ(cgrp, level);

        for (int i = 0; i < MAX_LEVELS; i++) {
                int l = level - i;
                struct cgroup *c;
                if (l < 0)
                        break;
                c = BPF_CORE_READ(cgrp, ancestors[l]);
                if (!c)
                        break;
                if (BPF_CORE_READ(c, kn, id) == target)
                        return true;
        }
        return false;
}

/* bpf_setsockopt of one value the rule sets; false when the kernel refused it. */
static bool iter_set(struct tcp_sock *tp, int level, int name, int value) {
        return value <= 0 || bpf_setsockopt(tp, level, name, &value, sizeof(value)) == 0;
}

SEC("iter/tcp")
int tcpkeepalive_apply(struct bpf_iter__tcp *ctx) {
        struct sock_common *skc = ctx->sk_common;
        const struct tka_bpf_params *p;
        struct tka_sk_mark *mark;
        struct listener_key lk = {};
        struct cgroup *cgrp;
        struct tcp_sock *tp;
        struct sock *sk;
        struct values v;
        __u64 target = apply_target.cgroup_id, key = 0;
        unsigned char state;
        int one = 1;
        bool ok;

        if (!skc || !target)
                return 0;
        tp = bpf_skc_to_tcp_sock(skc); /* NULL for request and time-wait sockets */
        if (!tp)
                return 0;
        sk = (struct sock *) tp;
        state = BPF_CORE_READ(sk, __sk_common.skc_state);
        if (state != TCP_ESTABLISHED && state != TCP_LISTEN)
                return 0;
        cgrp = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
        if (!cgrp || !in_subtree(cgrp, target))
                return 0;
        lk.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
        lk.port = BPF_CORE_READ(sk, __sk_common.skc_num);
        if (state == TCP_LISTEN) {
                __u8 yes = 1;
                if (bpf_map_update_elem(&apply_listeners, &lk, &yes, BPF_ANY) == 0)
                        apply_counts.listeners++;
                else
                        apply_counts.listeners_lost++;
                return 0;
        }
        apply_counts.seen++;
        p = params_for_cgroup(cgrp, &key);
        if (!p || !p->enabled)
                return 0;
        if (p->direction != TKA_BPF_BOTH) {
                bool inbound = bpf_map_lookup_elem(&apply_listeners, &lk) != 0;
                if (inbound != (p->direction == TKA_BPF_INBOUND)) {
                        apply_counts.direction++;
                        return 0;
                }
        }
        /* Path rules only, and none covers this connection: left alone. */
        if (!values_for(p, key, sk, &v)) {
                apply_counts.unmatched++;
                return 0;
        }
        mark = bpf_sk_storage_get(&managed, tp, 0, 0);
        if (!p->force) {
                unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
                bool keepalive = (flags >> bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)) & 1;
                if ((mark && mark->app_set) || (keepalive && !(mark && mark->cgroup_id))) {
                        apply_counts.own++;
                        return 0;
                }
        }
        ok = bpf_setsockopt(tp, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0;
        ok &= iter_set(tp, SOL_TCP, TCP_KEEPIDLE, v.idle);
        ok &= iter_set(tp, SOL_TCP, TCP_KEEPINTVL, v.interval);
        ok &= iter_set(tp, SOL_TCP, TCP_KEEPCNT, v.count);
        ok &= iter_set(tp, SOL_TCP, TCP_USER_TIMEOUT, v.user_timeout_ms);
        if (!mark)
                mark = bpf_sk_storage_get(&managed, tp, 0, BPF_SK_STORAGE_GET_F_CREATE);
        if (mark) {
                mark->cgroup_id = key;
                mark->applied = TKA_APPLIED_LIVE | (v.path << TKA_MARK_PATH_SHIFT);
        }
        if (ok && v.path)
                apply_counts.paths++;
        if (ok)
                apply_counts.live++;
        else
                apply_counts.failed++;
        return 0;
}

char LICENSE[] SEC("license") = "GPL";
