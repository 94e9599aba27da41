/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit-states.h"

/* The index of unit, or of where it would go. */
static size_t position(const struct unit_states *s, const char *unit, bool *found) {
        size_t lo = 0, hi = s->n;
        *found = false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(s->v[mid].unit, unit);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

struct unit_state_entry *unit_states_get(const struct unit_states *s, const char *unit) {
        bool found;
        size_t i = position(s, unit, &found);
        return found ? &s->v[i] : NULL;
}

int unit_states_set(struct unit_states *s, const char *unit, enum unit_state state, const char *reason) {
        bool found;
        size_t i = position(s, unit, &found);
        char *r;

        if (found) {
                struct unit_state_entry *e = &s->v[i];
                if (e->state == state && strcmp(e->reason, reason) == 0)
                        return 0;
                if (!(r = strdup(reason)))
                        return -ENOMEM;
                free(e->reason);
                e->reason = r;
                e->state = state;
                return 1;
        }
        if (s->n == s->cap) {
                size_t ncap = s->cap ? s->cap * 2 : 64;
                struct unit_state_entry *grown = realloc(s->v, ncap * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                s->v = grown;
                s->cap = ncap;
        }
        struct unit_state_entry e = { .unit = strdup(unit), .state = state, .reason = strdup(reason) };
        if (!e.unit || !e.reason) {
                free(e.unit);
                free(e.reason);
                return -ENOMEM;
        }
        memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
        s->v[i] = e;
        s->n++;
        return 1;
}

bool unit_states_remove(struct unit_states *s, const char *unit) {
        bool found;
        size_t i = position(s, unit, &found);
        if (!found)
                return false;
        free(s->v[i].unit);
        free(s->v[i].reason);
        memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
        s->n--;
        return true;
}

void unit_states_done(struct unit_states *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].unit);
                free(s->v[i].reason);
        }
        free(s->v);
        *s = (struct unit_states) { 0 };
}
