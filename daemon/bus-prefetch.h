/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The systemd calls of unit_check() for many units at once: LoadUnit,
 * GetAll(Unit) and GetAll(Service) of each unit are sent together on a
 * connection of their own (not the one the daemon serves on: its handler is
 * running), and the answers kept; systemd_call_method() takes a kept answer
 * instead of asking again. What was not answered in time is asked as
 * before, one call at a time, within the request's budget.
 */

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

struct bus_prefetch;

/* A connection of its own to the system bus. */
int bus_prefetch_new(struct bus_prefetch **ret);
struct bus_prefetch *bus_prefetch_free(struct bus_prefetch *p);
/* Asks for units[0..n) (templates skipped, and units whose three answers
 * cached holds: NULL skips none), waits until all are answered or
 * CLOCK_MONOTONIC deadline_usec; the answers not taken before are dropped.
 * A call not answered by then is not kept: the caller asks it again. */
struct systemd_cache;
void bus_prefetch_units(struct bus_prefetch *p, char **units, size_t n, uint64_t deadline_usec,
                        struct systemd_cache *cached);
/* Drops the answers not taken. */
void bus_prefetch_clear(struct bus_prefetch *p);
/* The answer to (path, member, arg), once: 1 with *reply (the caller's
 * reference) or *error and *ret_r set as sd_bus_call would; 0 if not kept. */
int bus_prefetch_take(struct bus_prefetch *p, const char *path, const char *member, const char *arg,
                      sd_bus_message **reply, sd_bus_error *error, int *ret_r);

/* Consulted by systemd_call_method(); set for the time of one request. */
extern struct bus_prefetch *bus_prefetch_active;
