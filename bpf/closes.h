/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by bpf/closes.bpf.c (the close counters tcpkeepalive-bpf iter-pin
 * loads, and the cgroup iterator it pins over them) and the daemon
 * (daemon/close-counts.c), which reads the iterator: a header, then one
 * record per existing cgroup that has counters. */

#define TKA_CLOSES_MAGIC 0x746b6163U /* "tkac" */
#define TKA_CLOSES_VERSION 1
/* Pins under KA_BPF_PIN_DIR (bpffs refuses dots in names). */
#define TKA_CLOSES_PIN "closes"              /* the iterator the daemon reads (0400) */
#define TKA_CLOSES_MAP_PIN "closes-map"      /* the counters (0600) */
#define TKA_CLOSES_ERRORS_PIN "closes-errors" /* link: tp_btf/inet_sk_error_report (counting is on while it is pinned) */
#define TKA_CLOSES_DESTROY_PIN "closes-destroy" /* link: tp_btf/tcp_destroy_sock */
#define TKA_CLOSES_PROBES_PIN "closes-probes" /* link: fentry/tcp_write_wakeup */
/* Cgroups counted at once: an LRU hash, so the cgroups of units long gone
 * make room for new ones. */
#define TKA_CLOSES_MAX_CGROUPS 16384

enum {
        TKA_CLOSES_PROBES_COUNTED = 1 << 0, /* keepalive_probes is counted (the fentry program is attached) */
};

/* closes.bpf.c's globals (.bss), which tcpkeepalive-bpf sets after loading. */
struct tka_closes_globals {
        __u64 since;       /* the header's */
        __u32 flags;       /* the header's */
        /* LINUX_MIB_TCPKEEPALIVE of the running kernel, from its BTF: the
         * enum has no name CO-RE could match, and its values move between
         * versions (110 in Linux 6.1's UAPI header, 114 in 6.18). 0: probes
         * are not counted. */
        __s32 keepalive_mib;
};

/* The first 32 bytes of every read of the pin (the iterator's first call). */
struct tka_closes_header {
        __u32 magic;
        __u16 version;
        __u16 record_size;
        __u64 since;    /* when counting started: CLOCK_REALTIME seconds */
        __u32 flags;    /* TKA_CLOSES_* */
        __u32 reserved[3];
};

/* What the kernel did to the connections of one cgroup (the cgroup of the
 * process that created the socket, or the listener's for an accepted one). */
struct tka_close_counts {
        /* Connections the kernel closed with ETIMEDOUT (or the soft error
         * that stood for it), by what timed out: */
        __u64 keepalive;    /* keepalive probes unanswered: TCP_KEEPCNT reached */
        __u64 user_timeout; /* TCP_USER_TIMEOUT elapsed (while probing or with data unacknowledged) */
        __u64 retransmit;   /* data unacknowledged after net.ipv4.tcp_retries2 (no TCP_USER_TIMEOUT) */
        __u64 covered;      /* connections ended (any way) with SO_KEEPALIVE on */
        __u64 probes;       /* keepalive probes sent (TKA_CLOSES_PROBES_COUNTED) */
};

struct tka_closes_record {
        __u64 cgroup_id;
        struct tka_close_counts counts;
};
