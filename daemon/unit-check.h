/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The truth about one unit, from systemd (over D-Bus) and from /proc, never
 * guessed: is our drop-in in its configuration, is its running process
 * carrying the library, and do its TCP connections carry keepalive timers.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "unit-verdict.h"


/* Time for the systemd calls of one request. tcpkeepalived answers in its
 * event loop: while a handler waits for systemd, nothing else runs, the
 * watchdog's keep-alive included. So each call waits per_call at most and
 * all calls of one request together at most until deadline; a unit whose
 * turn comes after that is reported as not asked, not waited for. */
struct call_budget {
        uint64_t deadline;      /* CLOCK_MONOTONIC, usec */
        uint64_t per_call;      /* usec */
        uint64_t total;         /* usec, for messages */
        uint64_t last_call;     /* usec the last call was given, for messages */
        unsigned not_answered;  /* calls systemd did not answer within their time */
        unsigned not_asked;     /* calls not made: the request's time was spent */
        /* unit_check asks GetUnit, not LoadUnit: a unit systemd has not
         * loaded is reported not running instead of being loaded for a
         * look (tcpkeepalived's background checks: 10,000 names in a rule
         * must not become 10,000 units loaded in PID 1). */
        bool only_loaded;
        /* systemd's answers kept in systemd_cache_active are handed out
         * only in a request whose Ping systemd answered (0: not asked yet,
         * 1: answered, -1: not): a systemd that hangs after answering
         * once shows as hung, not as the answers it gave then. */
        int cache_ping;
};
/* A call is not started with less than this left. */
#define CALL_BUDGET_MIN_USEC (100 * 1000ULL)

/* CLOCK_MONOTONIC in microseconds, the clock of budgets and deadlines. */
uint64_t monotonic_usec(void);
void call_budget_start(struct call_budget *b, uint64_t now_usec, uint64_t total_usec, uint64_t per_call_usec);
/* How long a call started at now_usec may wait; 0 when the budget is spent. */
uint64_t call_budget_usec(const struct call_budget *b, uint64_t now_usec);
/* A method call to systemd (org.freedesktop.systemd1) within budget (NULL:
 * the connection's default timeout). -ETIME when not made (budget spent),
 * -ETIMEDOUT when systemd did not answer in time, else as sd_bus_call. */
int systemd_call_method(sd_bus *bus, struct call_budget *budget, const char *path, const char *iface,
                        const char *member, sd_bus_error *error, sd_bus_message **reply, const char *types, ...);
/* Whether kept answers may be handed out in this request: the cache is
 * active and not empty, and systemd answered a Ping (sent once per budget,
 * within it). */
bool systemd_cache_usable(sd_bus *bus, struct call_budget *budget);
/* One sentence on why systemd could not be asked: r from systemd_call_method. */
void systemd_call_describe(char *buf, size_t size, const char *member, const char *unit, int r, const sd_bus_error *e,
                           const struct call_budget *budget);

/* A scope or slice a rule covers: no drop-in reaches these, the rule
 * reaches them live only (tcpkeepalive-bpf apply), so the caller, who has
 * the rules, says which (live_rule_find). NULL for a service: its drop-in
 * says it. */
struct ka_params;
struct ka_ruleset;
struct live_rule {
        const struct ka_params *params; /* effective: the defaults overlaid by the rule */
        const char *source;             /* the rule file */
};

/* The rule of rs that covers unit, a scope or slice: 1 with *ret and
 * *params filled (ka_params_done() it); 0 when unit is no scope or slice,
 * or no rule covers it; -ENOMEM. */
int live_rule_find(struct ka_ruleset *rs, const char *unit, struct ka_params *params, struct live_rule *ret);

/* The TCP sockets of the unit's processes (its cgroup and below), in *ret
 * (to be freed; NULL when none), with addresses; want: what the unit's
 * rule asks of them (live: see struct live_rule). Returns how many, or
 * -errno. */
int unit_sockets(sd_bus *bus, const char *unit, struct call_budget *budget, const struct live_rule *live,
                 struct unit_socket **ret, struct rule_values *want);

/* The close counters of the unit's cgroup and those below it, from snap
 * (one read of the pin, shared by a request). *since_usec: since when
 * they count, CLOCK_REALTIME usec: the later of the counters' start and
 * the unit's last activation (its cgroup, where they are kept, is made
 * anew at each start). -ESRCH when the unit has no cgroup (not running),
 * else -errno as unit_sockets. */
struct close_snapshot;
struct close_counts;
int unit_close_counts(sd_bus *bus, const char *unit, struct call_budget *budget, const struct close_snapshot *snap,
                      struct close_counts *ret, uint64_t *since_usec);

/* The unit's effective keepalive settings as systemd gives them (its
 * TCPKEEPALIVE_*, LD_PRELOAD, whether our drop-in is in effect), hashed,
 * and since when they have been so: the first systemd reload after which
 * they were seen (CLOCK_REALTIME usec), the latest time they can have
 * taken effect. Zero-initialise; kept per unit by tcpkeepalived. */
struct settings_record {
        uint64_t hash, since;
        bool valid;
};

/* Fills c for unit (a validated unit name). library: the installed path.
 * settings (may be NULL): what the caller knows of the unit's effective
 * keepalive settings (see struct settings_record), updated. A main process
 * that systemd started after the unit's settings took their present value
 * has them, whatever its environ says now (a program may write over it, as
 * nginx does for its title); an older one must show them in its environ.
 * tables: TCP tables shared by the calls of one request, or NULL to skip
 * counting sockets (the state does not depend on them). budget: see
 * struct call_budget (NULL: no overall limit).
 * Returns 0, or -errno when systemd could not be asked (c->state is then
 * UNIT_STATE_ERROR and c->reason says why: -ETIME not asked, -ETIMEDOUT
 * no answer in time). */
struct tcp_tables;
int unit_check(sd_bus *bus, const char *unit, const char *library, struct tcp_tables *tables,
               struct call_budget *budget, struct settings_record *settings, const struct live_rule *live,
               struct unit_check *c);
/* The time of systemd's last reload, CLOCK_REALTIME usec (it recreates its
 * generator directory on every reload); 0 unknown. */
uint64_t systemd_reload_usec(const char *generator_dir);
