/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Live apply (keepalived.d(5), "Live"): a rule that starts to cover a
 * running unit reaches its established connections and its new ones with
 * no restart. The privileged step is tcpkeepalive-bpf apply, run as root
 * by systemd in tcpkeepalive-apply@UNIT.service (this daemon keeps no BPF
 * privilege); the daemon starts that unit and follows its job. This module
 * keeps the applies in flight: which apply unit serves which unit, and
 * the D-Bus calls (ApplyUnit) that wait for it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "unit-name.h"

#define LIVE_APPLY_TEMPLATE_PREFIX "tcpkeepalive-apply@"

struct live_apply {
        char apply_unit[UNIT_NAME_MAX + 1]; /* tcpkeepalive-apply@ESCAPED.service */
        char unit[UNIT_NAME_MAX + 1];       /* the unit it applies the rule to */
        sd_bus_message **callers;           /* ApplyUnit calls answered when it ends */
        size_t n_callers;
        bool again;                         /* the rules changed while it ran: run it once more */
};

struct live_applies {
        struct live_apply *v;
        size_t n;
};

/* "tcpkeepalive-apply@ESCAPED.service" for unit, into buf; -EINVAL when
 * unit is not a service, scope or slice name, -ENOBUFS when the escaped
 * name would be longer than systemd takes. */
int live_apply_unit_name(const char *unit, char *buf, size_t size);

/* The apply in flight for unit; created (with no caller) when there is
 * none and create is set. NULL: none, or out of memory. */
struct live_apply *live_applies_get(struct live_applies *l, const char *unit, bool create);
/* The apply whose systemd unit is apply_unit. */
struct live_apply *live_applies_find_job_unit(struct live_applies *l, const char *apply_unit);
/* caller waits for a's end (a reference is taken). */
int live_apply_add_caller(struct live_apply *a, sd_bus_message *caller);
/* Forgets a; its callers must have been answered (their references are dropped). */
void live_applies_remove(struct live_applies *l, struct live_apply *a);
void live_applies_done(struct live_applies *l);
