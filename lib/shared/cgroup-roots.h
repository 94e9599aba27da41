/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Where a unit's cgroup (its ControlGroup=, "/system.slice/x.service") is
 * found: below one of these, in this order. NULL-terminated.
 */

/* The cgroup v2 hierarchy: /sys/fs/cgroup (unified mode) or
 * /sys/fs/cgroup/unified (hybrid mode). A cgroup's id (its directory's
 * inode, as BPF programs see it) is found here only. */
extern const char *const cgroup_v2_roots[];

/* For a unit's processes: the v2 places, then systemd's own v1 hierarchy
 * (legacy mode), whose cgroup.procs lists them as well. */
extern const char *const cgroup_process_roots[];
