/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Since when each of our drop-ins has had its present content. A unit's
 * main process started after that has the present settings, whatever its
 * /proc/PID/environ shows (a program may write over it, as nginx does for
 * its title); and after a reload only the units whose own drop-in changed
 * are due a restart. One entry per drop-in the generator wrote (a template
 * has one for all its instances): bounded by the rules, not by the
 * instances ever seen.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dropin_record {
        char *name;      /* "foo.service" or "foo@.service" */
        uint64_t hash;   /* of the drop-in's content */
        uint64_t since;  /* CLOCK_REALTIME usec */
};

struct dropin_history {
        struct dropin_record *v; /* sorted by name */
        size_t n;
        bool scanned;
};

/* Reads every UNIT.d/<our drop-in> of generator_dir (systemd has just
 * reloaded, or the daemon starts): a drop-in new or changed since the last
 * scan gets since = reload_usec (the reload that wrote it); on the first
 * scan every drop-in gets it (the latest its content can have changed).
 * Drop-ins gone are forgotten. *changed (may be NULL): the names new or
 * changed, not on the first scan (to be freed). Returns 0 or -errno. */
int dropin_history_scan(struct dropin_history *h, const char *generator_dir, uint64_t reload_usec, char ***changed);

/* The since of unit's drop-in, or of its template's; 0 unknown. */
uint64_t dropin_history_since(const struct dropin_history *h, const char *unit);

void dropin_history_done(struct dropin_history *h);
