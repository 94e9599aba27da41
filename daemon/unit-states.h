/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The state and reason last signalled for each unit tcpkeepalived follows:
 * UnitStateChanged goes out only on a change, and the UnitStates property
 * is answered from here, without asking systemd. An entry goes when
 * systemd unloads its unit (UnitRemoved), so the table holds the units
 * loaded now, not every instance ever seen. Sorted by name: lookups are
 * O(log n).
 */

#include <stdbool.h>
#include <stddef.h>

#include "unit-check.h"
#include "unit-verdict.h"

struct unit_state_entry {
        char *unit;
        enum unit_state state;
        char *reason;
        struct settings_record settings; /* since when its settings are what they are */
};

struct unit_states {
        struct unit_state_entry *v;
        size_t n, cap;
};

struct unit_state_entry *unit_states_get(const struct unit_states *s, const char *unit);
/* Records unit's state and reason. Returns 1 when they differ from the
 * recorded ones (or unit is new), 0 when not, -ENOMEM. */
int unit_states_set(struct unit_states *s, const char *unit, enum unit_state state, const char *reason);
/* Forgets unit; true when it was there. */
bool unit_states_remove(struct unit_states *s, const char *unit);
void unit_states_done(struct unit_states *s);
