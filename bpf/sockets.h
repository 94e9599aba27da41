/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by bpf/sockets.bpf.c (the task_file iterator tcpkeepalive-bpf
 * iter-pin pins) and the daemon (daemon/sock-iter.c), which reads it: a
 * header, then one record per TCP socket fd of every process. */

#define TKA_SOCKETS_MAGIC 0x746b6173U /* "tkas" */
#define TKA_SOCKETS_VERSION 1
#define TKA_SOCKETS_PIN "sockets" /* under KA_BPF_PIN_DIR */

/* The first 32 bytes of every read of the pin (the iterator's first call). */
struct tka_sockets_header {
        __u32 magic;
        __u16 version;
        __u16 record_size;
        __u32 hz;       /* the kernel's CONFIG_HZ; 0: unknown, the values below are unusable */
        __u32 reserved[5];
};

struct tka_socket_record {
        __u64 cgroup_id;        /* the process's cgroup v2 id (its directory's inode) */
        __u64 inode;            /* the socket's inode */
        __u32 netns;            /* the socket's network namespace (inode of /proc/PID/ns/net) */
        __s32 pid;              /* the process (thread group) in the reader's PID namespace; 0: not visible there */
        __s32 fd;
        __u16 local_port;
        __u8 state;             /* TCP_ESTABLISHED 1 ... TCP_LISTEN 10 */
        __u8 keepalive;         /* SO_KEEPALIVE */
        /* What getsockopt(2) returns: the socket's own value, else its
         * namespace's net.ipv4.tcp_keepalive_* */
        __s32 idle, interval, count; /* seconds, seconds, probes */
        __u32 user_timeout;     /* TCP_USER_TIMEOUT, ms */
        __u32 flags;            /* TKA_SOCKET_*; 0 from iterators older than the field (then: unknown) */
};

/* What the BPF backend's "managed" mark (bpf/params.h, struct tka_sk_mark)
 * says of the socket; none of them without a mark. */
enum {
        TKA_SOCKET_MANAGED = 1 << 0,           /* the rule's values through the BPF backend */
        TKA_SOCKET_APPLIED_LIVE = 1 << 1,      /* ... by tcpkeepalive-bpf apply, established before */
        TKA_SOCKET_APPLIED_ESTABLISHED = 1 << 2, /* ... by sock_ops, at establishment */
        /* Bits 8..15 (TKA_SOCKET_PATH()): which of the unit's path rules
         * gave the values, n for path n-1 (the order of attach's --path=);
         * 0: the unit's own values (or an older iterator). */
        TKA_SOCKET_PATH_SHIFT = 8,
};
#define TKA_SOCKET_PATH(flags) (((flags) >> TKA_SOCKET_PATH_SHIFT) & 0xffU)
