// SPDX-License-Identifier: GPL-2.0-only
/* bpf/sockets.bpf.c: one pass over every process's open files (a BPF
 * task_file iterator, Linux >= 5.8, not bound to a network namespace): for
 * each TCP socket, one record (bpf/sockets.h) of what tcpkeepalived
 * otherwise gathers per connection from cgroup.procs, /proc/PID/fd,
 * /proc/PID/net/tcp and pidfd_getfd + getsockopt. tcpkeepalive-bpf
 * iter-pin loads it and pins the iterator; each open() of the pin runs it
 * once for the reader. CO-RE: only the fields read are declared.
 * The socket's flags come from the BPF backend's "managed" socket storage:
 * iter-pin makes this object's map the pinned one tcpkeepalive.bpf.o uses. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/params.h"
#include "bpf/sockets.h"
#include "bpf/kernel-types.h"

struct css_set { struct cgroup *dfl_cgrp; } CORE;
struct pid_namespace;
struct upid { int nr; struct pid_namespace *ns; } CORE;
struct pid { unsigned int level; struct upid numbers[1]; } CORE;
struct task_struct {
        int tgid;
        struct css_set *cgroups;
        struct task_struct *group_leader;
        struct pid *thread_pid;
} CORE;
struct inode { unsigned long i_ino; } CORE;
struct file { struct inode *f_inode; } CORE;
struct ns_common { unsigned int inum; } CORE;
struct netns_ipv4 {
        int sysctl_tcp_keepalive_time;
        __u8 sysctl_tcp_keepalive_probes;
        int sysctl_tcp_keepalive_intvl;
} CORE;
struct net { struct ns_common ns; struct netns_ipv4 ipv4; } CORE;
typedef struct { struct net *net; } possible_net_t;
struct sock_common {
        unsigned short skc_family;
        unsigned char skc_state;
        __u16 skc_num;
        possible_net_t skc_net;
        unsigned long skc_flags;
} CORE;
struct bpf_local_storage;
struct sock {
        struct sock_common __sk_common;
        __u16 sk_type, sk_protocol;
        struct bpf_local_storage *sk_bpf_storage;
} CORE;
/* The kernel's socket storage (kernel/bpf/bpf_local_storage.c), for
 * storage_mark(): a socket's storage lists one element per map. */
struct hlist_node { struct hlist_node *next; } CORE;
struct hlist_head { struct hlist_node *first; } CORE;
struct bpf_local_storage { struct hlist_head list; } CORE;
struct bpf_local_storage_map;
struct bpf_local_storage_data { struct bpf_local_storage_map *smap; __u8 data[0]; } CORE;
struct bpf_local_storage_elem { struct hlist_node snode; struct bpf_local_storage_data sdata; } CORE;
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
enum sock_flags { SOCK_KEEPOPEN = 3 };

/* tcpkeepalive.bpf.c's map (bpf/params.h). */
TKA_MANAGED_MAP managed SEC(".maps");

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
extern unsigned int CONFIG_HZ __kconfig __weak;
char LICENSE[] SEC("license") = "GPL";

#define MAX_STORAGE_MAPS 16 /* a socket's storage elements searched: one per map that has one */

/* The socket's "managed" mark, read into *mark; false when it has none.
 * Not bpf_sk_storage_get(): the verifier takes only a trusted socket
 * pointer, and sock->sk of bpf_sock_from_file()'s socket is not one
 * (Linux >= 6.x marks walked pointers untrusted). The storage is read as
 * bpf_sk_storage_get reads it, through its list of elements, one per map;
 * each probe read fails safely on a socket closing meanwhile. */
static __always_inline bool storage_mark(struct sock *sk, struct tka_sk_mark *mark) {
        __u64 snode = bpf_core_field_offset(struct bpf_local_storage_elem, snode);
        __u64 sdata = bpf_core_field_offset(struct bpf_local_storage_elem, sdata);
        __u64 smap_at = sdata + bpf_core_field_offset(struct bpf_local_storage_data, smap);
        __u64 data_at = sdata + bpf_core_field_offset(struct bpf_local_storage_data, data);
        __u64 first_at = bpf_core_field_offset(struct bpf_local_storage, list) +
                         bpf_core_field_offset(struct hlist_head, first);
        __u64 next_at = bpf_core_field_offset(struct hlist_node, next);
        __u64 storage = 0, node = 0, smap = 0;

        if (bpf_core_read(&storage, sizeof(storage), &sk->sk_bpf_storage) < 0 || !storage ||
            bpf_probe_read_kernel(&node, sizeof(node), (void *) (storage + first_at)) < 0)
                return false;
        for (int i = 0; i < MAX_STORAGE_MAPS && node; i++) {
                __u64 elem = node - snode;
                if (bpf_probe_read_kernel(&smap, sizeof(smap), (void *) (elem + smap_at)) < 0)
                        return false;
                if (smap == (__u64) (unsigned long) &managed)
                        return bpf_probe_read_kernel(mark, sizeof(*mark), (void *) (elem + data_at)) == 0;
                if (bpf_probe_read_kernel(&node, sizeof(node), (void *) (node + next_at)) < 0)
                        return false;
        }
        return false;
}

/* The task's thread group id as the reader's PID namespace numbers it. */
static __always_inline __s32 pid_in_reader_ns(struct task_struct *task) {
        struct task_struct *me = bpf_get_current_task_btf();
        struct pid *mine = me->thread_pid, *its = task->group_leader->thread_pid;
        unsigned int level = mine ? mine->level : 0;
        struct upid u = { 0 };
        struct pid_namespace *ns = NULL;

        if (!its || level > 31 || its->level < level)
                return 0;
        bpf_probe_read_kernel(&u, sizeof(u), (char *) &its->numbers[0] + level * bpf_core_type_size(struct upid));
        if (mine)
                bpf_probe_read_kernel(&ns, sizeof(ns),
                                      (char *) &mine->numbers[0] + level * bpf_core_type_size(struct upid) +
                                              bpf_core_field_offset(struct upid, ns));
        return u.ns == ns ? u.nr : 0;
}

SEC("iter/task_file")
int tcp_sockets(struct bpf_iter__task_file *ctx) {
        struct seq_file *seq = ctx->meta->seq;
        struct file *file = ctx->file;
        struct task_struct *task = ctx->task;
        struct tka_socket_record rec = { 0 };
        struct socket *sock;
        struct sock *sk;
        struct tcp_sock *tp;
        struct tka_sk_mark mark = { 0 };
        struct net *net;
        unsigned int hz = CONFIG_HZ;
        __u32 v;

        if (ctx->meta->seq_num == 0) {
                struct tka_sockets_header h = { .magic = TKA_SOCKETS_MAGIC, .version = TKA_SOCKETS_VERSION,
                                                .record_size = sizeof(struct tka_socket_record), .hz = hz };
                bpf_seq_write(seq, &h, sizeof(h));
        }
        if (!file || !task || !(sock = bpf_sock_from_file(file)))
                return 0;
        sk = sock->sk;
        if (!sk || sk->sk_protocol != 6 /* IPPROTO_TCP */ || sk->sk_type != 1 /* SOCK_STREAM */ ||
            (sk->__sk_common.skc_family != 2 && sk->__sk_common.skc_family != 10))
                return 0;
        tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
        net = sk->__sk_common.skc_net.net;
        if (!hz)
                hz = 1;
        rec.cgroup_id = task->cgroups->dfl_cgrp->kn->id;
        rec.inode = file->f_inode->i_ino;
        rec.netns = net->ns.inum;
        rec.pid = pid_in_reader_ns(task);
        rec.fd = (__s32) ctx->fd;
        rec.local_port = sk->__sk_common.skc_num;
        rec.state = sk->__sk_common.skc_state;
        rec.keepalive = (sk->__sk_common.skc_flags >> bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)) & 1;
        /* keepalive_time_when() and friends: 0 on the socket is its namespace's sysctl. */
        v = tp->keepalive_time;
        rec.idle = (__s32) ((v ? v : (__u32) net->ipv4.sysctl_tcp_keepalive_time) / hz);
        v = tp->keepalive_intvl;
        rec.interval = (__s32) ((v ? v : (__u32) net->ipv4.sysctl_tcp_keepalive_intvl) / hz);
        v = tp->keepalive_probes;
        rec.count = (__s32) (v ? v : net->ipv4.sysctl_tcp_keepalive_probes);
        rec.user_timeout = tp->inet_conn.icsk_user_timeout;
        if (storage_mark(sk, &mark) && mark.cgroup_id) {
                rec.flags = TKA_SOCKET_MANAGED;
                if (TKA_APPLIED_HOW(mark.applied) == TKA_APPLIED_LIVE)
                        rec.flags |= TKA_SOCKET_APPLIED_LIVE;
                else if (TKA_APPLIED_HOW(mark.applied) == TKA_APPLIED_ESTABLISHED)
                        rec.flags |= TKA_SOCKET_APPLIED_ESTABLISHED;
                rec.flags |= TKA_MARK_PATH(mark.applied) << TKA_SOCKET_PATH_SHIFT;
        }
        bpf_seq_write(seq, &rec, sizeof(rec));
        return 0;
}
