/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A unit's state, decided from facts alone. unit_check (unit-check.c)
 * gathers them (systemd's properties, /proc, the BPF record, socket
 * counts); unit_verdict only decides, with no I/O, so that every state
 * and reason can be tested from a table (tests/unit/test-unit-verdict.c).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "unit-sockets.h"

enum unit_state {
        UNIT_STATE_ACTIVE,          /* running with the library and its settings */
        UNIT_STATE_PENDING_RESTART, /* drop-in in place, running process predates it */
        UNIT_STATE_INACTIVE,        /* not running */
        UNIT_STATE_UNSUPPORTED,     /* the preload cannot work for this program, or the kernel refused BPF */
        UNIT_STATE_OVERRIDDEN,      /* something in the unit defeats our drop-in */
        UNIT_STATE_UNMANAGED,       /* no drop-in of ours */
        UNIT_STATE_EXCLUDED,        /* a rule with Mode=off: keepalive deliberately not set */
        UNIT_STATE_MASKED,          /* an admin's file of our drop-in's name links to /dev/null */
        UNIT_STATE_OWN_VALUES,      /* connections carry keepalive, with values the program set itself */
        UNIT_STATE_NO_KEEPALIVE,    /* connections the rule covers carry no keepalive */
        UNIT_STATE_UNVERIFIED,      /* the process is set up, its connections' values could not be read */
        UNIT_STATE_ERROR,
};

/* What the rule asks of a connection: the unit's TCPKEEPALIVE_* (the
 * drop-in's Environment=). -1: not set by the rule (the kernel's or the
 * program's value stands, and is not compared). */
struct rule_values {
        int idle, interval, count, user_timeout;
        int direction; /* enum ka_direction; KA_DIRECTION_BOTH when not set */
        bool force;    /* Mode=force */
        /* Rules by path (keepalive-paths.h): a connection one of them
         * covers is judged by its values; with paths_only, one none
         * covers is not the rule's to judge. Owned: rule_values_done(). */
        struct ka_path *paths;
        size_t n_paths;
        bool paths_only;
};

void rule_values_done(struct rule_values *w);
/* The path rule (index in want->paths) that covers the socket, or -1. */
int socket_path(const struct rule_values *want, const struct unit_socket *s);

/* One established connection, compared with the rule. */
enum socket_class {
        SOCKET_CLASS_NOT_ESTABLISHED, /* listening, closing, ...: not judged */
        SOCKET_CLASS_NOT_COVERED,     /* Direction= leaves it out */
        SOCKET_CLASS_RULE,            /* keepalive with the rule's values */
        SOCKET_CLASS_OWN,             /* keepalive with other values: the program's own */
        SOCKET_CLASS_NONE,            /* no keepalive */
        SOCKET_CLASS_UNREAD,          /* its values could not be read */
};

enum socket_class socket_classify(const struct rule_values *want, const struct unit_socket *s);
const char *socket_class_to_string(enum socket_class c);

/* A unit's established connections by class, with what the reasons name. */
struct conn_tally {
        unsigned established;          /* all, covered or not */
        unsigned rule, own, none, unread, not_covered;
        unsigned unread_with_timer;    /* of the unread: a keepalive timer in the kernel's table */
        int unread_errno;              /* of the first unread */
        const char *unread_call;
        struct unit_socket own_first;  /* the first with the program's values */
        pid_t none_pids[4];            /* processes holding connections without keepalive */
        unsigned n_none_pids;
        /* Processes whose fds could not be listed: connections unknown. */
        unsigned unlisted;
        pid_t unlisted_pid;
        int unlisted_errno;
        char unlisted_path[64];        /* what could not be read */
};

void conn_tally_add(struct conn_tally *t, const struct rule_values *want, const struct unit_socket *s);

struct unit_check {
        enum unit_state state;
        char reason[512];       /* one sentence for a person */
        char active_state[32];  /* systemd's ActiveState */
        pid_t main_pid;
        bool main_pid_not_exec;  /* systemd's forked child, or inside execve: the program not started yet */
        bool has_dropin;
        char dropin_path[1024];
        bool library_mapped;
        char environment[512];  /* TCPKEEPALIVE_* of the running process, space-separated */
        char method[16];        /* "preload", "bpf" or "bpf-live" (applied live): how the running process gets keepalive */
        char source[512];       /* where the drop-in's values come from (its TCPKEEPALIVE_SOURCE) */
        bool not_loaded;          /* only_loaded asked, and systemd has not loaded the unit */
        struct conn_tally conns;  /* when counted */
        bool counted;
};

const char *unit_state_to_string(enum unit_state s);

/* Everything the verdict rests on. Strings may be NULL where unknown. */
struct unit_facts {
        const char *unit;
        const char *library;             /* the installed path, for messages */

        /* systemd's view of the unit */
        const char *active_state;        /* ActiveState */
        uint32_t main_pid;               /* MainPID; 0: not running */
        bool has_dropin;                 /* DropInPaths lists our drop-in, and it is not masked */
        const char *masked_by;           /* the /dev/null link (or empty file) hiding our drop-in, or NULL */
        const char *method;              /* the unit's TCPKEEPALIVE_METHOD (last Environment= wins) */
        const char *mode;                /* the unit's TCPKEEPALIVE_MODE */
        const char *source;              /* the unit's TCPKEEPALIVE_SOURCE: the rule file */
        bool unsets_preload;             /* UnsetEnvironment=LD_PRELOAD */
        bool unit_preload_has_library;   /* the unit's last Environment=LD_PRELOAD= names library */
        bool has_environment_files;      /* EnvironmentFile= */
        uint64_t activation_usec;        /* InactiveExitTimestamp (CLOCK_REALTIME): this run began; 0 unknown */
        uint64_t cgroup_id;              /* the inode of the unit's cgroup directory; 0 unknown */

        /* the main process, when main_pid > 0 */
        bool main_pid_left;              /* gone, or in another cgroup, before it was inspected */
        bool main_pid_exited;            /* its pidfd said it ended while it was inspected */
        /* Still systemd's forked child: a Type=simple service is started
         * once systemd has forked, before the child (systemd's binary, named
         * "(PROGRAM)", with systemd's environment) sets up the sandbox and
         * exec's the program; or inside execve, its environment not laid
         * out yet (read as empty). Nothing else about it is read then. */
        bool main_pid_not_exec;
        bool environ_read;               /* /proc/PID/environ could be read */
        bool settings_current;           /* its TCPKEEPALIVE_* equal the unit's */
        bool library_mapped;             /* /proc/PID/maps has libtcpkeepalive.so */
        bool process_preload_has_library;/* its LD_PRELOAD names library */
        const char *environment;         /* its TCPKEEPALIVE_*, escaped, for messages */
        /* Its executable, read only when the library is missing though
         * LD_PRELOAD names it (the one verdict that needs it). */
        bool exe_checked;
        bool exe_preload_works;
        const char *exe_why;             /* why the preload cannot reach it */

        /* /run/tcpkeepalive/bpf/UNIT, written by tcpkeepalive-bpf at ExecStartPre= */
        bool have_bpf_record;
        const char *bpf_method;          /* "bpf", "bpf-live", "preload" (auto chose it) or "error" */
        const char *bpf_reason;
        uint64_t bpf_cgroup_id;          /* 0 when the helper failed before it opened the cgroup */
        uint64_t bpf_written_usec;       /* the record's mtime (CLOCK_REALTIME) */
        uint64_t bpf_applied_usec;       /* bpf-live: when tcpkeepalive-bpf apply ran (CLOCK_REALTIME) */
        uint64_t bpf_live;               /* bpf-live: connections it gave the rule's values */
        /* BPF_APPLY_FAILED_DIR/UNIT: the last live apply failed, and why */
        const char *live_failure;
        uint64_t live_failure_usec;      /* when (CLOCK_REALTIME) */
        /* A scope or slice a rule covers (struct live_rule): reached live
         * only; no drop-in, no main process. mode, source, active_state,
         * want and the records are set, the rest is not. */
        bool cgroup_unit;
        /* Since when the unit's current keepalive settings (its drop-in's)
         * have been in effect (CLOCK_REALTIME); 0 unknown. */
        uint64_t settings_since_usec;

        /* The established connections, when they were counted, compared with want. */
        bool counted;
        struct rule_values want;
        struct conn_tally conns;
        /* Whether none_pids[0] has the library mapped (preload only). */
        bool none_pid_has_library;
};

/* Sets c->state, c->reason and c->method from f; touches nothing else. */
void unit_verdict(const struct unit_facts *f, struct unit_check *c);

/* Sets c's state and its reason, printf-style; the reason escaped where it
 * is not printable UTF-8 (see unit-verdict.c). Both the verdict and the
 * gathering's own errors use it. */
void unit_set_state(struct unit_check *c, enum unit_state s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
