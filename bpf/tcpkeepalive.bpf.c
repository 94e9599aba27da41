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

struct sock {
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

/* The sockets the rule manages: the key of the "params" entry that sock_ops
 * applied at establishment. */
struct tka_sk_mark {
        __u64 cgroup_id; /* 0: not (yet) managed */
        __u32 app_set;   /* APP_* options the program set before establishment */
        __u32 reserved;
};

enum {
        APP_KEEPALIVE = 1 << 0,
        APP_IDLE = 1 << 1,
        APP_INTERVAL = 1 << 2,
        APP_COUNT = 1 << 3,
        APP_USER_TIMEOUT = 1 << 4,
};

/* BPF_F_CLONE: an accepted connection starts with its listener's entry
 * (app_set: what the program set on the listener, which the connection
 * inherits in the kernel too; a listener is never established, so its
 * cgroup_id is 0 and sock_ops sets the connection's own). */
struct {
        __uint(type, BPF_MAP_TYPE_SK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
        __type(key, int);
        __type(value, struct tka_sk_mark);
} managed SEC(".maps");

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

/* The socket's own cgroup: where it was created, whoever uses it now. */
static const struct tka_bpf_params *params_for_socket(struct bpf_sock *sk, __u64 *key) {
        struct tcp_sock *tp;
        if (!sk || !(tp = bpf_skc_to_tcp_sock(sk)))
                return 0;
        return params_for_cgroup(BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup), key);
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
        __u64 key = 0;
        __u32 app = 0;
        int one = 1;

        if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
                return 1;
        sk = skops->sk;
        if (!sk)
                return 1;
        p = params_for_socket(sk, &key);
        if (!p || !p->enabled)
                return 1;
        if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ? p->direction == TKA_BPF_INBOUND
                                                            : p->direction == TKA_BPF_OUTBOUND)
                return 1;
        mark = bpf_sk_storage_get(&managed, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
        if (mark) {
                mark->cgroup_id = key;
                /* Mode=default: what the program set before connect() stays
                 * its own (the preload, there from socket(), lets those calls
                 * through too); force: the rule's values. */
                if (!p->force)
                        app = mark->app_set;
        }
        if (!(app & APP_KEEPALIVE))
                bpf_setsockopt(skops, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        set_int(skops, SOL_TCP, TCP_KEEPIDLE, p->idle, app & APP_IDLE);
        set_int(skops, SOL_TCP, TCP_KEEPINTVL, p->interval, app & APP_INTERVAL);
        set_int(skops, SOL_TCP, TCP_KEEPCNT, p->count, app & APP_COUNT);
        set_int(skops, SOL_TCP, TCP_USER_TIMEOUT, p->user_timeout_ms, app & APP_USER_TIMEOUT);
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
        int *optval = ctx->optval, value;
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
        if (!mark || !mark->cgroup_id) {
                /* Not established yet: remember what the program chose, for
                 * sock_ops to leave it in Mode=default; not a value the
                 * kernel refuses (EINVAL: the call set nothing). */
                __u32 bit = ctx->level == SOL_SOCKET             ? APP_KEEPALIVE
                            : ctx->optname == TCP_KEEPIDLE ? APP_IDLE
                            : ctx->optname == TCP_KEEPINTVL ? APP_INTERVAL
                            : ctx->optname == TCP_KEEPCNT ? APP_COUNT
                                                           : APP_USER_TIMEOUT;
                if (!valid(ctx->level, ctx->optname, value))
                        return 1;
                if (!mark)
                        mark = bpf_sk_storage_get(&managed, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
                if (mark)
                        mark->app_set |= bit;
                return 1;
        }
        p = bpf_map_lookup_elem(&params, &mark->cgroup_id);
        if (!p || !p->enabled || !p->force)
                return 1;
        if (ctx->level == SOL_SOCKET)
                absorb = value == 0;
        else if (ctx->optname == TCP_KEEPIDLE)
                absorb = changes(p->idle, value, 1, TCP_KEEP_MAX);
        else if (ctx->optname == TCP_KEEPINTVL)
                absorb = changes(p->interval, value, 1, TCP_KEEP_MAX);
        else if (ctx->optname == TCP_KEEPCNT)
                absorb = changes(p->count, value, 1, TCP_KEEPCNT_MAX);
        else if (ctx->optname == TCP_USER_TIMEOUT)
                absorb = changes(p->user_timeout_ms, value, 0, 0x7fffffff);
        else
                absorb = false;
        if (absorb)
                ctx->optlen = -1;
        return 1;
}

char LICENSE[] SEC("license") = "GPL";
