/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live-apply.h"

int live_apply_unit_name(const char *unit, char *buf, size_t size) {
        char escaped[UNIT_NAME_MAX + 1];
        int r;

        if (!unit_name_is_valid_cgroup_unit(unit))
                return -EINVAL;
        if ((r = unit_name_escape_instance(unit, escaped, sizeof(escaped))) < 0)
                return r;
        if ((size_t) snprintf(buf, size, LIVE_APPLY_TEMPLATE_PREFIX "%s.service", escaped) >= size ||
            strlen(buf) > UNIT_NAME_MAX)
                return -ENOBUFS;
        return 0;
}

struct live_apply *live_applies_get(struct live_applies *l, const char *unit, bool create) {
        struct live_apply *grown, *a;

        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].unit, unit) == 0)
                        return &l->v[i];
        if (!create)
                return NULL;
        if (!(grown = realloc(l->v, (l->n + 1) * sizeof(*grown))))
                return NULL;
        l->v = grown;
        a = &l->v[l->n];
        *a = (struct live_apply) { 0 };
        if (live_apply_unit_name(unit, a->apply_unit, sizeof(a->apply_unit)) < 0)
                return NULL;
        snprintf(a->unit, sizeof(a->unit), "%s", unit);
        l->n++;
        return a;
}

struct live_apply *live_applies_find_job_unit(struct live_applies *l, const char *apply_unit) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].apply_unit, apply_unit) == 0)
                        return &l->v[i];
        return NULL;
}

int live_apply_add_caller(struct live_apply *a, sd_bus_message *caller) {
        sd_bus_message **grown = realloc(a->callers, (a->n_callers + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        a->callers = grown;
        a->callers[a->n_callers++] = sd_bus_message_ref(caller);
        return 0;
}

void live_applies_remove(struct live_applies *l, struct live_apply *a) {
        size_t i = (size_t) (a - l->v);

        if (i >= l->n)
                return;
        for (size_t j = 0; j < a->n_callers; j++)
                sd_bus_message_unref(a->callers[j]);
        free(a->callers);
        memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
        l->n--;
}

void live_applies_done(struct live_applies *l) {
        while (l->n > 0)
                live_applies_remove(l, &l->v[l->n - 1]);
        free(l->v);
        *l = (struct live_applies) { 0 };
}
