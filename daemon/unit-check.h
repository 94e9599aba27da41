/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The truth about one unit, from systemd (over D-Bus) and from /proc, never
 * guessed: is our drop-in in its configuration, is its running process
 * carrying the library, and do its TCP connections carry keepalive timers.
 */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

enum unit_state {
        UNIT_STATE_ACTIVE,          /* running with the library and its settings */
        UNIT_STATE_PENDING_RESTART, /* drop-in in place, running process predates it */
        UNIT_STATE_INACTIVE,        /* not running */
        UNIT_STATE_UNSUPPORTED,     /* the preload cannot work for this program */
        UNIT_STATE_OVERRIDDEN,      /* something in the unit defeats our drop-in */
        UNIT_STATE_UNMANAGED,       /* no drop-in of ours */
        UNIT_STATE_ERROR,
};

struct unit_check {
        enum unit_state state;
        char reason[512];       /* one sentence for a person */
        char active_state[32];  /* systemd's ActiveState */
        pid_t main_pid;
        bool has_dropin;
        char dropin_path[1024];
        bool library_mapped;
        char environment[512];  /* TCPKEEPALIVE_* of the running process, space-separated */
        char method[16];        /* "preload" or "bpf": how the running process gets keepalive */
        char source[512];       /* where the drop-in's values come from (its TCPKEEPALIVE_SOURCE) */
        unsigned tcp_established, tcp_with_keepalive, tcp_listening;
};

const char *unit_state_to_string(enum unit_state s);

/* One TCP socket of a unit, read with pidfd_getfd + getsockopt. */
struct unit_socket {
        char local[64], peer[64];
        char state[16];        /* "established", "listen", ... */
        pid_t pid;
        int fd;
        int keepalive, idle, interval, count, user_timeout; /* -1: unreadable */
};

/* The TCP sockets of the unit's processes (its cgroup and below), in *ret
 * (to be freed; NULL when none). Returns how many, or -errno. */
int unit_sockets(sd_bus *bus, const char *unit, struct unit_socket **ret);

/* Fills c for unit (a validated unit name). library: the installed path.
 * tables: TCP tables shared by the calls of one request, or NULL to skip
 * counting sockets (the state does not depend on them).
 * Returns 0, or -errno when systemd could not be asked. */
struct tcp_tables;
int unit_check(sd_bus *bus, const char *unit, const char *library, struct tcp_tables *tables, struct unit_check *c);
