/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Unit aliases as systemd finds them: a symlink in a unit directory whose
 * target has another name ("alias.service -> real.service", as
 * `systemctl enable` writes for Alias=) makes both names one unit, and
 * systemd applies the drop-ins of every name to it. The generator, the
 * daemon and verify read them to match a unit by all its names (see
 * ka_ruleset_match_names), so that the rule file that sorts last wins
 * whichever name it gives.
 */

#include <stddef.h>

struct unit_aliases {
        char **alias;  /* alias[i] names target[i] */
        char **target;
        size_t n;
};

void unit_aliases_init(struct unit_aliases *a);
void unit_aliases_done(struct unit_aliases *a);

/* Reads the symlinks of dirs (ka_unit_dirs: every reader uses the
 * generator's list; each prefixed with root, which may be ""):
 * the first directory that has a name decides what it is, as for systemd.
 * A link to /dev/null (a mask) or to a file of the same name is no alias.
 * Returns 0 or -ENOMEM; a missing directory is skipped. */
int unit_aliases_load(struct unit_aliases *a, const char *root, const char *const *dirs);

/* The unit name is an alias of (followed through a chain of aliases), or
 * NULL when name is no alias. */
const char *unit_aliases_resolve(const struct unit_aliases *a, const char *name);

/* Every name of the unit: unit itself first, then each alias resolving to
 * it; NULL-terminated, freed with strv_free (NULL when out of memory). */
char **unit_aliases_names(const struct unit_aliases *a, const char *unit);
