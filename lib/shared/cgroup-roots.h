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

#include <stdint.h>

/* The one of cgroup_v2_roots that is a cgroup v2 file system here (unified
 * or hybrid mode), or NULL (legacy mode: no v2 hierarchy at all). */
const char *cgroup_v2_root(void);

/* A cgroup's id, as BPF programs and the BPF helper's records have it: the
 * inode of its directory in the v2 hierarchy (cgroup: "/system.slice/x.service").
 * 0 when there is none (no v2 hierarchy, the cgroup gone). */
uint64_t cgroup_v2_id(const char *cgroup);
