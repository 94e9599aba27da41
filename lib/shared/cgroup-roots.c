/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "cgroup-roots.h"

#define CGROUP_V2_ROOTS "/sys/fs/cgroup", "/sys/fs/cgroup/unified"

const char *const cgroup_v2_roots[] = { CGROUP_V2_ROOTS, NULL };
const char *const cgroup_process_roots[] = { CGROUP_V2_ROOTS, "/sys/fs/cgroup/systemd", NULL };
