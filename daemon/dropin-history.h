/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Our drop-ins as the last systemd reload left them, to tell which a
 * reload changed: only their units are checked again and, with
 * Restart=try, restarted; a change to one rule touches no unit of
 * another. One entry per drop-in the generator wrote (a template has one
 * for all its instances): bounded by the rules, not by the instances ever
 * seen.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dropin_record {
        char *name;      /* "foo.service" or "foo@.service" */
        uint64_t hash;   /* of the drop-in's content */
};

struct dropin_history {
        struct dropin_record *v; /* sorted by name */
        size_t n;
        bool scanned;
};

/* Reads every UNIT.d/<our drop-in> of generator_dir (systemd has just
 * reloaded, or the daemon starts). *changed (may be NULL): the names of
 * the drop-ins new, changed or gone since the last scan, none on the first
 * (to be freed). Returns 0 or -errno. */
int dropin_history_scan(struct dropin_history *h, const char *generator_dir, char ***changed);

void dropin_history_done(struct dropin_history *h);
