/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * systemd's answers to unit_check's calls, kept until systemd says they
 * changed: per unit, keyed by its object path, the answer to LoadUnit (or
 * GetUnit, the same answer: the path) and to GetAll of the Unit and of the
 * Service interface. A ListUnits over units that did not change asks
 * systemd nothing. tcpkeepalived forgets an entry on systemd's
 * PropertiesChanged (any interface) or UnitRemoved for its path, and
 * everything on Reloading and when systemd's bus name changes hands
 * (daemon-reexec); it uses the cache only while subscribed to those
 * signals (see tcpkeepalived.c).
 *
 * Only successful answers are kept: an error (no such unit, a timeout)
 * is asked again each time. Bounded: when full, everything is dropped (see
 * systemd_cache_put).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

enum systemd_cache_slot {
        SYSTEMD_CACHE_LOAD,    /* LoadUnit or GetUnit: the unit's object path */
        SYSTEMD_CACHE_UNIT,    /* GetAll(org.freedesktop.systemd1.Unit) */
        SYSTEMD_CACHE_SERVICE, /* GetAll(org.freedesktop.systemd1.Service) */
        _SYSTEMD_CACHE_SLOT_MAX,
};

struct systemd_cache_stats {
        uint64_t hits, misses, stored, dropped_full;
};

struct systemd_cache;

int systemd_cache_new(size_t max_units, struct systemd_cache **ret);
struct systemd_cache *systemd_cache_free(struct systemd_cache *c);

/* Which answer a call to systemd is, and under which key (a unit's object
 * path, to be freed): LoadUnit(name) and GetUnit(name) on the Manager, and
 * GetAll(iface) on a unit's path. 0 when the call is none of them. */
int systemd_cache_key(const char *path, const char *member, const char *arg, char **ret_key,
                      enum systemd_cache_slot *ret_slot);

/* The kept answer, rewound, as a new reference; NULL when none. */
sd_bus_message *systemd_cache_get(struct systemd_cache *c, const char *key, enum systemd_cache_slot slot);
/* Keeps m (a reference is taken) for key. An error reply is refused
 * (-EINVAL). When max_units are kept and key is new, all entries are
 * dropped first. */
int systemd_cache_put(struct systemd_cache *c, const char *key, enum systemd_cache_slot slot, sd_bus_message *m);
/* Whether all three answers of key are kept. */
bool systemd_cache_has_all(struct systemd_cache *c, const char *key);
/* Drops key's answers; true if there were any. */
bool systemd_cache_forget(struct systemd_cache *c, const char *key);
void systemd_cache_forget_all(struct systemd_cache *c);
size_t systemd_cache_units(const struct systemd_cache *c);
struct systemd_cache_stats systemd_cache_stats(const struct systemd_cache *c);
void systemd_cache_count(struct systemd_cache *c, bool hit);

/* Consulted by systemd_call_method(): set by tcpkeepalived while it is
 * subscribed to systemd's signals, NULL otherwise (and in tcpkeepalivectl). */
extern struct systemd_cache *systemd_cache_active;
