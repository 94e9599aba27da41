/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdbool.h>
#include <systemd/sd-bus.h>

/* Exit statuses of tcpkeepalivectl (see tcpkeepalivectl(1)). */
enum {
        CTL_EXIT_PROBLEMS = 1, /* rule errors, or a unit without keepalive */
        CTL_EXIT_USAGE = 2,
        CTL_EXIT_FAILURE = 3,  /* the daemon or systemd could not be asked */
        CTL_EXIT_NO_UNIT = 4,  /* show: systemd has no such unit (systemctl's 4) */
};

int ctl_status(sd_bus *bus, bool json);
int ctl_list(sd_bus *bus, bool json);
int ctl_show(sd_bus *bus, const char *unit, bool json);
int ctl_call(sd_bus *bus, const char *method, const char *unit);
int ctl_metrics(sd_bus *bus);
/* ApplyUnit: prints "UNIT: STATE: REASON"; 0 when active, else 1. */
int ctl_apply(sd_bus *bus, const char *unit);
