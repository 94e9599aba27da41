/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the BPF program and the user-space side: one service's
 * parameters, as the "params" map holds them under its cgroup id. */

#define TKA_BPF_MAX_UNITS 4096

/* Direction= in a "params" entry: inbound and outbound as enum
 * ka_direction has them (keepalive-params.h), but both is 0, not 3: a
 * zeroed entry means every connection, and programs already loaded (they
 * stay loaded across package upgrades until the next boot) read it so.
 * tcpkeepalive-bpf converts in one place, tka_bpf_direction(). */
enum {
        TKA_BPF_BOTH = 0,
        TKA_BPF_INBOUND = 1,
        TKA_BPF_OUTBOUND = 2,
};

struct tka_bpf_params {
        __u32 enabled;         /* 0: the entry only reserves the slot */
        __u32 force;           /* keep the program from changing the values */
        __u32 direction;       /* TKA_BPF_* */
        __s32 idle;            /* seconds; <= 0: the kernel's default */
        __s32 interval;
        __s32 count;
        __s32 user_timeout_ms; /* <= 0: the kernel's default */
        __u32 flags;           /* TKA_PARAMS_* (was "reserved", always 0: no path rules) */
};

enum {
        /* The unit has path rules: a "paths" entry under the same key.
         * Without it sock_ops never looks there (a unit without path rules
         * pays nothing for the feature). */
        TKA_PARAMS_PATHS = 1 << 0,
        /* --unmatched=off: a connection no path rule covers gets nothing. */
        TKA_PARAMS_UNMATCHED_OFF = 1 << 1,
        /* Bits 8..15: how many paths (TKA_PARAMS_N_PATHS). */
        TKA_PARAMS_N_PATHS_SHIFT = 8,
};
#define TKA_PARAMS_N_PATHS(flags) (((flags) >> TKA_PARAMS_N_PATHS_SHIFT) & 0xffU)

/* Rules by network path (lib/shared/keepalive-paths.h, the contract and
 * the matcher the BPF programs copy): the "paths" map holds the unit's
 * path rules, each under the cgroup id of its "params" entry and its
 * index (struct tka_bpf_path_key: one ~4.7 KiB element per path, not one
 * large value per unit the kernel would have to allocate in one piece),
 * in the form the BPF side matches fastest: each prefix with its mask
 * (network order, as the kernel keeps addresses; IPv4 in the first word). The selection
 * is ka_paths_match()'s: the most specific path (longest matching
 * included prefix, then Port= given, then LocalPort= given), the later one
 * between equals; an excluded prefix that contains the peer rules the
 * path out. Same limits as the contract's (KA_PATHS_MAX and friends). */
#define TKA_BPF_PATHS_MAX 16      /* KA_PATHS_MAX */
#define TKA_BPF_PATH_DSTS_MAX 128 /* KA_PATH_DESTINATIONS_MAX */
#define TKA_BPF_PATH_PORTS_MAX 16 /* KA_PATH_PORTS_MAX */

struct tka_bpf_prefix {
        __u32 addr[4];  /* the prefix, its host bits zero */
        __u32 mask[4];  /* its length as a mask */
        __u8 family;    /* 2 (AF_INET) or 10 (AF_INET6) */
        __u8 len;       /* 0..32 or 0..128 */
        __u8 exclude;   /* '!': a peer in it is not covered by this path */
        __u8 pad;
};

struct tka_bpf_port_range {
        __u16 first, last; /* host order */
};

struct tka_bpf_path {
        __s32 idle;            /* <= 0: the kernel's default (as in tka_bpf_params) */
        __s32 interval;
        __s32 count;
        __s32 user_timeout_ms;
        __u16 n_dst;
        __u8 n_ports, n_lports;
        __u8 has_include;      /* some dst without '!': the peer must be in one */
        __u8 pad[3];
        struct tka_bpf_port_range ports[TKA_BPF_PATH_PORTS_MAX];  /* the peer's port */
        struct tka_bpf_port_range lports[TKA_BPF_PATH_PORTS_MAX]; /* the local port */
        struct tka_bpf_prefix dst[TKA_BPF_PATH_DSTS_MAX];
};

struct tka_bpf_path_key {
        __u64 cgroup_id;       /* the key of the unit's "params" entry */
        __u32 index;           /* 0..n-1, in rule (file name) order */
        __u32 pad;
};

/* A unit's paths together (user space; the map holds them one by one). */
struct tka_bpf_paths {
        __u32 n;               /* path[0..n) in rule (file name) order */
        __u32 reserved;
        struct tka_bpf_path path[TKA_BPF_PATHS_MAX];
};

/* The "managed" socket storage (BPF_MAP_TYPE_SK_STORAGE, pinned as
 * TKA_MANAGED_PIN under KA_BPF_PIN_DIR): what the BPF backend did to one
 * socket. Written by tcpkeepalive.bpf.c (sock_ops, setsockopt, the live
 * apply), read by sockets.bpf.c (the daemon's iterator); both declare the
 * map with this value, and the one created first is the one both use. */
#define TKA_MANAGED_PIN "managed"

struct tka_sk_mark {
        __u64 cgroup_id; /* the "params" entry applied; 0: not (yet) managed */
        __u32 app_set;   /* APP_* options the program set itself */
        __u32 applied;   /* TKA_APPLIED_* in the low byte: how the rule's
                          * values came (was "reserved", always 0: older marks
                          * read as unknown); above it (TKA_MARK_PATH) which
                          * path rule's values: 0 the unit's own values,
                          * n the unit's path n-1 */
};

#define TKA_APPLIED_HOW(applied) ((applied) & 0xffU)
#define TKA_MARK_PATH_SHIFT 8
#define TKA_MARK_PATH(applied) (((applied) >> TKA_MARK_PATH_SHIFT) & 0xffU)

/* The map itself, as both objects must declare it (libbpf reuses a pinned
 * map only when type, sizes and flags match):
 *     TKA_MANAGED_MAP managed SEC(".maps");
 * BPF_F_CLONE: an accepted connection starts with its listener's entry. */
#define TKA_MANAGED_MAP                                                 \
        struct {                                                        \
                __uint(type, BPF_MAP_TYPE_SK_STORAGE);                  \
                __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);     \
                __type(key, int);                                       \
                __type(value, struct tka_sk_mark);                      \
        }

enum {
        APP_KEEPALIVE = 1 << 0,
        APP_IDLE = 1 << 1,
        APP_INTERVAL = 1 << 2,
        APP_COUNT = 1 << 3,
        APP_USER_TIMEOUT = 1 << 4,
};

/* The last of the programs that gave the socket the rule's values. */
enum {
        TKA_APPLIED_UNKNOWN = 0,     /* not recorded: a mark of older programs */
        TKA_APPLIED_ESTABLISHED = 1, /* sock_ops, at ACTIVE/PASSIVE_ESTABLISHED */
        TKA_APPLIED_LIVE = 2,        /* tcpkeepalive-bpf apply's iter/tcp pass, on an established connection */
};

/* tcpkeepalive-bpf apply: the iter/tcp program's input (.rodata, set before
 * load) and what one pass did (.bss, read after it). */
struct tka_apply_target {
        __u64 cgroup_id;       /* the unit's cgroup: its sockets and its descendants' */
};

struct tka_apply_counts {
        __u64 seen;            /* established connections in the subtree */
        __u64 live;            /* given the rule's values */
        __u64 own;             /* left alone: Mode=default, the program's own choice */
        __u64 direction;       /* left alone: Direction= does not cover them */
        __u64 failed;          /* bpf_setsockopt refused an option */
        __u64 listeners;       /* listening sockets of the subtree (for Direction=) */
        __u64 listeners_lost;  /* not noted: the listener map was full */
        __u64 unmatched;       /* left alone: no path rule covers them (--unmatched=off) */
        __u64 paths;           /* of live: given a path rule's values */
};
