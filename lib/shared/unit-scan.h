/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which services a rule or the per-service switch reaches, as the
 * generator decides it and as tcpkeepalive-bpf apply decides it again for
 * one running unit: one code path, so that the live apply and the next
 * start can never disagree.
 */

#include <stdbool.h>

#include "rules.h"
#include "unit-alias.h"

/* systemd's system unit directories (the generator's search path), highest
 * priority first, NULL-terminated. */
extern const char *const ka_unit_dirs[];

/*
 * Reads the unit directories under root (may be ""): every service that has
 * a unit file or appears as a symlink in a .wants/ or .requires/ directory
 * into *units, and every service switched on with `systemctl enable
 * tcpkeepalive@UNIT.service` (links in /etc and /run only) into *enabled.
 * Our own units are never listed. Unsorted, with duplicates.
 */
void ka_unit_scan(const char *root, char ***units, char ***enabled);

/* Replaces each name of *list by the unit it is an alias of (if any), our
 * own and invalid names dropped, then sorts it and drops duplicates. */
void ka_units_canonical(const struct unit_aliases *aliases, char ***list);

/*
 * The units the generator writes drop-ins for, found as it finds them:
 * ka_unit_scan's, every name a rule of rs gives exactly (a unit with no
 * file yet may be transient or come from another generator), every
 * switched-on unit; canonical (ka_units_canonical) into *units, the
 * switched-on ones into *enabled. tcpkeepalivectl verify reports from the
 * same list, so that what it says a rule applies to is what the generator
 * does.
 */
void ka_units_reached(struct ka_ruleset *rs, const struct unit_aliases *aliases, const char *root, char ***units,
                      char ***enabled);

/*
 * The parameters that apply to the service (or scope, or slice) unit: the
 * defaults, overlaid by the rule that matches unit or one of its aliases
 * (the file that sorts last wins), or the defaults alone when the unit is
 * in enabled (sorted, alias-resolved names; NULL: none). Returns 1 with
 * *ret filled (ka_params_done() it), *ret_rule the rule or NULL (the
 * switch), *ret_overridden as ka_ruleset_match_names gives it; 0 when
 * nothing covers the unit; -ENOMEM.
 */
int ka_unit_params(struct ka_ruleset *rs, const struct unit_aliases *aliases, char **enabled, const char *unit,
                   struct ka_params *ret, const struct ka_rule **ret_rule, const struct ka_rule **ret_overridden);
