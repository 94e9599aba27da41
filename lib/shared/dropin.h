/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include "rules.h"

/* The generator writes this file in UNIT.d/; the name sorts before an
 * admin's override.conf, so theirs wins, and the same name in
 * /etc/systemd/system/UNIT.d/ (e.g. a symlink to /dev/null) masks ours. */
#define KA_DROPIN_NAME "50-tcpkeepalive.conf"

#define KA_BPF_SERVICE "tcpkeepalive-bpf.service"

/* What the drop-ins point at. */
struct ka_dropin_setup {
        const char *library;    /* the preload library */
        /* What ExecStartPre=+/ExecStopPost=+ run: tcpkeepalive-bpf-launch (a
         * static program that runs tcpkeepalive-bpf with a clean environment);
         * NULL when built without the BPF backend. */
        const char *bpf_helper;
};

/*
 * Renders the drop-in for one unit: LD_PRELOAD (the library, then the unit's
 * own preloads from ExtraPreload=) and a TCPKEEPALIVE_* variable for every
 * parameter set; for Method=bpf and auto, tcpkeepalive-bpf-launch before
 * start and after stop, with the parameters as its arguments.
 * source names where the values come from (rule file path or "systemctl
 * enable tcpkeepalive@UNIT"). Returns a malloc'ed text or NULL.
 */
char *ka_dropin_render(const char *unit, const struct ka_params *p, const char *source,
                       const struct ka_dropin_setup *setup);
