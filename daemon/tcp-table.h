/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kernel's TCP tables (/proc/PID/net/tcp and tcp6) of the network
 * namespaces the daemon looks into, indexed by socket inode. Reading them
 * through a PID of the namespace needs no setns(); one read per namespace
 * serves every unit in a ListUnits call, so the cost stays linear in the
 * number of sockets, not units x sockets.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "bpf-record.h"
#include "bpf/sockets.h"

#include "keepalive-paths.h"

enum {
        TCP_STATE_ESTABLISHED = 0x01,
        TCP_STATE_LISTEN = 0x0A,
        TCP_TIMER_KEEPALIVE = 2, /* "tr" column: 1 retransmit, 2 keepalive, 4 zero window probe */
};

struct tcp_entry {
        uint64_t inode;
        uint16_t local_port;
        uint8_t state, timer;
        struct ka_conn_ends ends; /* the peer, for rules by path */
};

struct tcp_table {
        uint64_t netns; /* inode of /proc/PID/ns/net */
        struct tcp_entry *entries;
        size_t n;
        uint16_t *listening_ports; /* sorted, unique */
        size_t n_listening;
};

/* One socket as the BPF iterator (bpf/sockets.bpf.c) reports it. */
struct iter_socket {
        uint64_t cgroup_id; /* the process's cgroup v2 id */
        uint64_t inode;
        uint32_t netns;
        int32_t pid, fd;
        uint16_t local_port;
        uint8_t state, keepalive;
        int32_t idle, interval, count, user_timeout;
        uint32_t flags; /* TKA_SOCKET_* (bpf/sockets.h): the BPF backend's mark; 0 from older iterators */
};

struct iter_listener {
        uint32_t netns;
        uint16_t port;
};

/* Every TCP socket fd of every process, from one pass of the iterator
 * tcpkeepalive-bpf iter-pin pins (TCP_SOCKETS_ITER_PIN). */
struct sock_snapshot {
        struct iter_socket *sockets; /* ordered by cgroup id, pid, fd */
        size_t n;
        struct iter_listener *listeners; /* sorted, unique */
        size_t n_listeners;
};

#define TCP_SOCKETS_ITER_PIN KA_BPF_PIN_DIR "/" TKA_SOCKETS_PIN

/* The tables read so far, one per network namespace. Zero-initialise.
 * use_iterator: a request about many units (ListUnits) reads every
 * socket of the system at once through the pinned iterator when it can
 * (one pass, then a lookup per unit); a request about one unit reads
 * that unit's processes through /proc, which costs less then. */
struct tcp_tables {
        struct tcp_table *tables;
        size_t n;
        bool use_iterator;
        bool snapshot_tried;
        int snapshot_errno;              /* why there is none: ENOENT (not pinned), EPERM (sandbox), EBADMSG */
        struct sock_snapshot *snapshot;
};

/* The request's snapshot through the iterator, read on first use; NULL
 * when !use_iterator or it cannot be read (then cache->snapshot_errno). */
const struct sock_snapshot *tcp_tables_snapshot(struct tcp_tables *cache);
/* Parses what a read of the pin returned (header, records) into ret.
 * 0, -EBADMSG (not our format, or truncated), -EOPNOTSUPP (the kernel's
 * HZ unknown: the values cannot be converted), -ENOMEM. */
int sock_snapshot_parse(const void *buf, size_t len, struct sock_snapshot *ret);
void sock_snapshot_done(struct sock_snapshot *s);
/* The sockets of processes in the cgroup with this id: *first, count. */
size_t sock_snapshot_cgroup(const struct sock_snapshot *s, uint64_t cgroup_id, const struct iter_socket **first);
/* Whether a socket of network namespace netns listens on port. */
bool sock_snapshot_listening(const struct sock_snapshot *s, uint32_t netns, uint16_t port);

/* The table of pid's network namespace, read on first use; NULL when pid
 * is gone or its namespace cannot be read. */
const struct tcp_table *tcp_tables_for_pid(struct tcp_tables *cache, pid_t pid);
const struct tcp_entry *tcp_table_find(const struct tcp_table *t, uint64_t inode);
/* Whether a socket of t's namespace listens on port: an established
 * connection on such a local port was accepted (inbound), not connected. */
bool tcp_table_port_listening(const struct tcp_table *t, uint16_t port);
void tcp_tables_done(struct tcp_tables *cache);

/* A socket held by a process: the fd through which it was found. */
struct socket_ref {
        uint64_t inode;
        pid_t pid;
        int fd;
};

/* Processes whose fds could not be listed (not those that exited): their
 * sockets are unknown, never "none". */
struct socket_scan_errors {
        unsigned n;
        pid_t first_pid;
        int first_errno;
        char first_path[64]; /* what could not be read: /proc/PID/fd, /proc/PID/net/tcp */
};
/* The sockets held by the pids, each once (a socket shared by several
 * processes after fork is reported with the first pid that holds it),
 * ordered by pid then fd. errors (may be NULL): the processes whose fds
 * could not be listed. Returns the count (*ret may be NULL when 0) or
 * -ENOMEM. */
ssize_t socket_refs_collect_errors(const pid_t *pids, size_t n_pids, struct socket_ref **ret,
                                   struct socket_scan_errors *errors);

/* A duplicate (pidfd_getfd(2)) of the socket ref names, taken through
 * pidfd (a pidfd of ref->pid), to be closed by the caller. The fd is
 * looked up by number after the scan: meanwhile it may have been closed
 * and reused, or the pid may be another process's now. The duplicate is
 * returned only when it is the file the scan saw (same inode): else
 * -ESTALE. -errno when it cannot be duplicated at all. */
int socket_ref_dup(int pidfd, const struct socket_ref *ref);
