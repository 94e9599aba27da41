/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The TCP sockets of a unit's processes (its cgroup and the cgroups below),
 * each read as the kernel holds it: its state and local port from the
 * kernel's TCP table of the namespace, its keepalive values from a
 * duplicate of the process's fd (pidfd_getfd(2) and getsockopt(2)). Where
 * the duplicate is refused (a sandbox without pidfd_getfd, a process
 * beyond ptrace's reach) the socket is still listed, with the error.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "keepalive-paths.h"

struct tcp_tables;
struct socket_scan_errors;

/* How a socket got the rule's values, from the BPF backend's mark (the
 * socket iterator's record, joined in by inode). */
enum unit_socket_applied {
        UNIT_SOCKET_APPLIED_UNKNOWN, /* no mark read: not the BPF backend, no iterator, older programs */
        UNIT_SOCKET_APPLIED_BPF,     /* the sock_ops program, at establishment */
        UNIT_SOCKET_APPLIED_LIVE,    /* tcpkeepalive-bpf apply, on the established connection */
};

struct unit_socket {
        uint64_t inode;
        char local[64], peer[64];   /* only with UNIT_SOCKETS_ADDRESSES; else "" */
        char state[16];             /* "established", "listen", ... */
        pid_t pid;
        int fd;
        bool established;
        bool inbound;               /* its local port is one a socket of the namespace listens on: accepted */
        bool keepalive_timer;       /* the kernel's table shows a keepalive timer pending */
        /* 0, or the errno of the call that refused the values (read_call):
         * the values are then -1. */
        int read_errno;
        const char *read_call;      /* "pidfd_open" or "pidfd_getfd", static */
        int keepalive, idle, interval, count, user_timeout; /* -1: unread */
        enum unit_socket_applied applied;
        struct ka_conn_ends ends;   /* peer and local port from the kernel's table; family 0: unknown (the iterator) */
};

/* "live", "bpf", "" (unknown): GetUnitSockets' word for it. */
const char *unit_socket_applied_to_string(enum unit_socket_applied a);

enum {
        UNIT_SOCKETS_ADDRESSES = 1 << 0, /* getsockname/getpeername, for show */
        /* The peers (ends) for rules by path: from the kernel's tables, so
         * not through the iterator, whose records have none. */
        UNIT_SOCKETS_PEERS = 1 << 1,
};

/* The TCP sockets of the processes in cgroup (a unit's ControlGroup=, ""
 * for none: then main_pid alone), in *ret (to be freed; NULL when none).
 * tables: the TCP tables of the request (one read per namespace); with
 * tables->use_iterator, each socket's applied comes from the iterator's
 * snapshot also when its values are read through /proc.
 * errors (may be NULL): the processes whose fds could not be listed.
 * Returns how many, or -ENOMEM. */
ssize_t unit_sockets_read(const char *cgroup, pid_t main_pid, struct tcp_tables *tables, unsigned flags,
                          struct unit_socket **ret, struct socket_scan_errors *errors);

/* The ids of the cgroup (a unit's ControlGroup=) and of the cgroups below
 * it, in *ret (to be freed): how many, -ENOENT when it is not on a cgroup
 * v2 hierarchy here, -ENOMEM. */
ssize_t unit_cgroup_id_list(const char *cgroup, uint64_t **ret);
