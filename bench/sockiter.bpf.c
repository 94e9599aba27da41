// SPDX-License-Identifier: GPL-2.0-only
/* bench/sockiter.bpf.c: one pass over every process's open files (a BPF
 * task_file iterator, Linux >= 5.8; not bound to a network namespace): for
 * each TCP socket, one record of what tcpkeepalived gathers per connection
 * from cgroup.procs, /proc/PID/fd, /proc/PID/net/tcp and pidfd_getfd +
 * getsockopt: owner tgid and fd, socket inode, the process's and the
 * socket's cgroup ids, TCP state, SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT as
 * set on the socket (0: the sysctl default), TCP_USER_TIMEOUT.
 * CO-RE: only the fields read are declared. Read by bench/sockiter. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define CORE __attribute__((preserve_access_index))
struct seq_file;
struct bpf_iter_meta { struct seq_file *seq; } CORE;
struct kernfs_node { __u64 id; } CORE;
struct cgroup { struct kernfs_node *kn; } CORE;
struct css_set { struct cgroup *dfl_cgrp; } CORE;
struct task_struct { int tgid; struct css_set *cgroups; } CORE;
struct inode { unsigned long i_ino; } CORE;
struct file { struct inode *f_inode; } CORE;
struct sock_cgroup_data { struct cgroup *cgroup; } CORE;
struct sock_common { unsigned char skc_state; unsigned long skc_flags; } CORE;
struct sock {
        struct sock_common __sk_common;
        struct sock_cgroup_data sk_cgrp_data;
        __u16 sk_type, sk_protocol;
} CORE;
struct socket { struct sock *sk; } CORE;
struct inet_connection_sock { __u32 icsk_user_timeout; } CORE;
struct tcp_sock {
        struct inet_connection_sock inet_conn;
        unsigned int keepalive_time, keepalive_intvl;
        __u8 keepalive_probes;
} CORE;
struct bpf_iter__task_file {
        struct bpf_iter_meta *meta;
        struct task_struct *task;
        __u32 fd;
        struct file *file;
} CORE;

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
char LICENSE[] SEC("license") = "GPL";

SEC("iter/task_file")
int tcp_sockets(struct bpf_iter__task_file *ctx) {
        struct file *file = ctx->file;
        struct task_struct *task = ctx->task;
        struct socket *sock;
        struct sock *sk;
        struct tcp_sock *tp;
        __u64 rec[10];

        if (!file || !task || !(sock = bpf_sock_from_file(file)))
                return 0;
        sk = sock->sk;
        if (!sk || sk->sk_protocol != 6 /* IPPROTO_TCP */ || sk->sk_type != 1 /* SOCK_STREAM */)
                return 0;
        tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
        rec[0] = task->tgid;
        rec[1] = ctx->fd;
        rec[2] = file->f_inode->i_ino;
        rec[3] = task->cgroups->dfl_cgrp->kn->id;
        rec[4] = sk->sk_cgrp_data.cgroup->kn->id;
        rec[5] = sk->__sk_common.skc_state;
        rec[6] = (sk->__sk_common.skc_flags >> 3) & 1; /* SOCK_KEEPOPEN */
        rec[7] = tp->keepalive_time; /* jiffies */
        rec[8] = ((__u64) tp->keepalive_intvl << 8) | tp->keepalive_probes;
        rec[9] = tp->inet_conn.icsk_user_timeout;
        bpf_seq_write(ctx->meta->seq, rec, sizeof(rec));
        return 0;
}
