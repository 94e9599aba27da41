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
 * turning keepalive off or changing the values.
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

/* The entry of cgrp or of its nearest ancestor that has one. */
static const struct tka_bpf_params *params_for_cgroup(struct cgroup *cgrp) {
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
                if (p)
                        return p;
        }
        return 0;
}

static const struct tka_bpf_params *params_for_socket(struct bpf_sock *sk) {
        struct tcp_sock *tp;
        if (!sk || !(tp = bpf_skc_to_tcp_sock(sk)))
                return 0;
        return params_for_cgroup(BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup));
}

/* The same search from the calling task's cgroup (process context:
 * setsockopt is called by the service itself). */
static const struct tka_bpf_params *params_for_current(void) {
        for (int l = MAX_LEVELS - 1; l >= 0; l--) {
                __u64 id = bpf_get_current_ancestor_cgroup_id(l);
                const struct tka_bpf_params *p;
                if (!id)
                        continue;
                p = bpf_map_lookup_elem(&params, &id);
                if (p)
                        return p;
        }
        return 0;
}

static void set_int(struct bpf_sock_ops *skops, int level, int name, int value) {
        if (value > 0)
                bpf_setsockopt(skops, level, name, &value, sizeof(value));
}

SEC("sockops")
int tcpkeepalive_sockops(struct bpf_sock_ops *skops) {
        const struct tka_bpf_params *p;
        int one = 1;

        if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
                return 1;
        p = params_for_socket(skops->sk);
        if (!p || !p->enabled)
                return 1;
        if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ? p->direction == TKA_BPF_INBOUND
                                                            : p->direction == TKA_BPF_OUTBOUND)
                return 1;
        bpf_setsockopt(skops, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        set_int(skops, SOL_TCP, TCP_KEEPIDLE, p->idle);
        set_int(skops, SOL_TCP, TCP_KEEPINTVL, p->interval);
        set_int(skops, SOL_TCP, TCP_KEEPCNT, p->count);
        set_int(skops, SOL_TCP, TCP_USER_TIMEOUT, p->user_timeout_ms);
        return 1;
}

/* Force mode: a program's setsockopt that would change what we manage
 * succeeds without reaching the kernel (optlen -1 skips it). */
SEC("cgroup/setsockopt")
int tcpkeepalive_setsockopt(struct bpf_sockopt *ctx) {
        const struct tka_bpf_params *p;
        bool managed;

        if (ctx->level == SOL_SOCKET)
                managed = ctx->optname == SO_KEEPALIVE;
        else if (ctx->level == SOL_TCP)
                managed = ctx->optname == TCP_KEEPIDLE || ctx->optname == TCP_KEEPINTVL ||
                          ctx->optname == TCP_KEEPCNT || ctx->optname == TCP_USER_TIMEOUT;
        else
                managed = false;
        if (!managed || !ctx->sk || ctx->sk->protocol != 6 /* IPPROTO_TCP */)
                return 1;
        p = params_for_current();
        if (!p || !p->enabled || !p->force)
                return 1;
        if (ctx->optname == TCP_USER_TIMEOUT && p->user_timeout_ms <= 0)
                return 1;
        ctx->optlen = -1;
        return 1;
}

char LICENSE[] SEC("license") = "GPL";
