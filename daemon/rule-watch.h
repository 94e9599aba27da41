/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Watches the rule directories with inotify and calls back once a burst of
 * changes has settled (an editor's save is several events; a package
 * upgrade, hundreds). Nothing polls: an idle daemon uses no CPU.
 */

#include <stdint.h>
#include <systemd/sd-event.h>

typedef void (*rule_watch_handler_t)(void *userdata);

struct rule_watch;

/* dirs: NULL-terminated, with root prefixed; missing ones are watched from
 * their closest existing ancestor so that creating /etc/keepalived.d is
 * noticed too, and each one's parent for its name, so that a symbolic link
 * swapped to a new target is noticed. Only events that concern a rule
 * directory count: other traffic in /run is not ours. handler runs once no
 * event has come for settle_usec, or max_settle_usec after the first event
 * of a burst that does not settle (0: no bound). */
int rule_watch_new(sd_event *event, char *const *dirs, uint64_t settle_usec, uint64_t max_settle_usec,
                   rule_watch_handler_t handler, void *userdata, struct rule_watch **ret);
struct rule_watch *rule_watch_free(struct rule_watch *w);
