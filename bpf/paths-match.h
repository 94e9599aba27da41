/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The path rule matcher of the BPF backend: ka_paths_match()
 * (lib/shared/keepalive-paths.h) over the "paths" map's form of the rules
 * (bpf/params.h). Included by tcpkeepalive.bpf.c, and by
 * tests/unit/test-bpf-paths.c, which checks it against ka_paths_match on
 * random rules and connections. Plain C over __u32/__u64: the BPF target
 * and the host compile it alike.
 */

#ifndef TKA_PATH_SPECIFICITY_DECL
#define TKA_PATH_SPECIFICITY_DECL static inline
#endif

/* A connection's ends as the matcher takes them (struct ka_conn_ends). */
struct tka_conn_ends {
        __u32 peer[4]; /* network order; IPv4 (and IPv4-mapped IPv6) in peer[0] */
        __u32 family;  /* AF_INET, AF_INET6 */
        __u32 peer_port, local_port; /* host order */
};

/*
 * The loops below have no branch in their bodies (BPF has no conditional
 * move or set: every comparison is a jump): the verifier walks each
 * iteration of a bounded loop, and jumps in 16 x 128 of them multiply its
 * states past its budget. tka_opaque() keeps the compiler from turning the
 * arithmetic back into a comparison.
 */
#define tka_opaque(x) asm volatile("" : "+r"(x))

/* All ones when x == 0, else 0 (x < 2^63). */
static inline __u64 tka_zero_mask(__u64 x) {
        __u64 t = x | -x;
        tka_opaque(t);
        return (t >> 63) - 1;
}

/* 1 when port is in one of the n ranges, else 0. */
static inline __u64 tka_port_in(const struct tka_bpf_port_range *r, __u32 n, __u32 port) {
        __u64 in = 0;

        for (__u32 i = 0; i < TKA_BPF_PATH_PORTS_MAX; i++) {
                __s64 below, above;
                if (i >= n)
                        break;
                below = (__s64) port - r[i].first; /* >= 0: not below the range */
                above = (__s64) r[i].last - port;  /* >= 0: not above it */
                below |= above;
                tka_opaque(below);
                in |= ~((__u64) below >> 63) & 1;
        }
        return in;
}

/* ka_path_specificity(): -1, or (longest included prefix + 1) * 4 +
 * (port given) * 2 + (lport given). */
TKA_PATH_SPECIFICITY_DECL int tka_path_specificity(const struct tka_bpf_path *p, const struct tka_conn_ends *c) {
        __u32 n_dst;
        __u64 best = 0, excluded = 0; /* best: the longest included prefix's length + 1 */

        if (!p || !c)
                return -1;
        n_dst = p->n_dst;
        if (p->n_ports && !tka_port_in(p->ports, p->n_ports, c->peer_port))
                return -1;
        if (p->n_lports && !tka_port_in(p->lports, p->n_lports, c->local_port))
                return -1;
        for (__u32 i = 0; i < TKA_BPF_PATH_DSTS_MAX; i++) {
                const struct tka_bpf_prefix *d;
                __u64 hit, ex, cand, less;
                if (i >= n_dst)
                        break;
                d = &p->dst[i];
                hit = tka_zero_mask((__u64) ((c->peer[0] & d->mask[0]) ^ d->addr[0]) |
                                ((c->peer[1] & d->mask[1]) ^ d->addr[1]) | ((c->peer[2] & d->mask[2]) ^ d->addr[2]) |
                                ((c->peer[3] & d->mask[3]) ^ d->addr[3]) | (d->family ^ c->family));
                ex = -(__u64) (d->exclude & 1);
                excluded |= hit & ex;
                cand = ((__u64) d->len + 1) & hit & ~ex;
                less = best - cand;
                tka_opaque(less);
                less >>= 63; /* 1: best < cand (both <= 129) */
                best = (best & (less - 1)) | (cand & -less);
        }
        if (excluded || (p->has_include && !best))
                return -1;
        return (int) best * 4 + (p->n_ports ? 2 : 0) + (p->n_lports ? 1 : 0);
}

/* The choice so far among a unit's paths: the best score, the path (+ 1;
 * 0: none) and its values. */
struct tka_path_choice {
        __s64 score;
        __u64 path;
        __s64 idle, interval, count, user_timeout_ms;
};
#define TKA_PATH_CHOICE_INIT { .score = -1 }

/* Path i (p) considered for the connection: it becomes the choice when it
 * covers it at least as specifically (the later path wins a tie), without
 * a jump (see tka_opaque()). */
static inline void tka_path_consider(struct tka_path_choice *ch, __u32 i, const struct tka_bpf_path *p,
                                     const struct tka_conn_ends *c) {
        __s64 s = tka_path_specificity(p, c), take = s - ch->score;

        tka_opaque(take);
        take = ~(take >> 63) & ~(s >> 63); /* all ones: s >= 0 and s >= score */
        ch->score = (ch->score & ~take) | (s & take);
        ch->path = (ch->path & ~take) | ((i + 1) & take);
        ch->idle = (ch->idle & ~take) | ((__s64) p->idle & take);
        ch->interval = (ch->interval & ~take) | ((__s64) p->interval & take);
        ch->count = (ch->count & ~take) | ((__s64) p->count & take);
        ch->user_timeout_ms = (ch->user_timeout_ms & ~take) | ((__s64) p->user_timeout_ms & take);
}

/* The path that covers the connection, + 1 (0: none): the most specific,
 * the later one between equals (user space's form, all paths at hand; the
 * BPF programs look each up in the "paths" map). */
static inline __u64 tka_paths_select(const struct tka_bpf_paths *ps, const struct tka_conn_ends *c) {
        struct tka_path_choice ch = TKA_PATH_CHOICE_INIT;

        for (__u32 i = 0; i < TKA_BPF_PATHS_MAX && i < ps->n; i++)
                tka_path_consider(&ch, i, &ps->path[i], c);
        return ch.path;
}

#ifdef KA_PATH_TEXT_MAX /* user space, with lib/shared/keepalive-paths.h */
/* A path rule in the map's form (bpf/params.h): each prefix with its mask. */
static inline void tka_bpf_path_from(const struct ka_path *in, struct tka_bpf_path *out) {
        memset(out, 0, sizeof(*out));
        out->idle = in->idle > 0 ? in->idle : 0;
        out->interval = in->interval > 0 ? in->interval : 0;
        out->count = in->count > 0 ? in->count : 0;
        out->user_timeout_ms = in->user_timeout > 0 ? in->user_timeout : 0;
        out->n_dst = in->n_destinations < TKA_BPF_PATH_DSTS_MAX ? in->n_destinations : TKA_BPF_PATH_DSTS_MAX;
        for (unsigned i = 0; i < out->n_dst; i++) {
                const struct ka_prefix *d = &in->destinations[i];
                uint8_t addr[16] = { 0 }, mask[16] = { 0 };
                for (unsigned bit = 0; bit < d->len && bit < 128; bit++)
                        mask[bit / 8] |= (uint8_t) (0x80 >> (bit % 8));
                for (unsigned b = 0; b < 16; b++)
                        addr[b] = d->addr[b] & mask[b];
                memcpy(out->dst[i].addr, addr, 16);
                memcpy(out->dst[i].mask, mask, 16);
                out->dst[i].family = d->family;
                out->dst[i].len = d->len;
                out->dst[i].exclude = d->exclude ? 1 : 0;
                if (!d->exclude)
                        out->has_include = 1;
        }
        out->n_ports = in->n_ports < TKA_BPF_PATH_PORTS_MAX ? in->n_ports : TKA_BPF_PATH_PORTS_MAX;
        for (unsigned i = 0; i < out->n_ports; i++)
                out->ports[i] = (struct tka_bpf_port_range) { in->ports[i].first, in->ports[i].last };
        out->n_lports = in->n_local_ports < TKA_BPF_PATH_PORTS_MAX ? in->n_local_ports : TKA_BPF_PATH_PORTS_MAX;
        for (unsigned i = 0; i < out->n_lports; i++)
                out->lports[i] = (struct tka_bpf_port_range) { in->local_ports[i].first, in->local_ports[i].last };
}
#endif
