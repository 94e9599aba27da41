/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/magic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup-roots.h"

#define CGROUP_V2_ROOTS "/sys/fs/cgroup", "/sys/fs/cgroup/unified"

const char *const cgroup_v2_roots[] = { CGROUP_V2_ROOTS, NULL };
const char *const cgroup_process_roots[] = { CGROUP_V2_ROOTS, "/sys/fs/cgroup/systemd", NULL };

const char *cgroup_v2_root(void) {
        for (size_t i = 0; cgroup_v2_roots[i]; i++) {
                struct statfs fs;
                if (statfs(cgroup_v2_roots[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                        return cgroup_v2_roots[i];
        }
        return NULL;
}

uint64_t cgroup_v2_id(const char *cgroup) {
        const char *root = cgroup_v2_root();
        char path[4096];
        struct stat st;

        if (!root || !cgroup || cgroup[0] != '/')
                return 0;
        if (snprintf(path, sizeof(path), "%s%s", root, cgroup) >= (int) sizeof(path) || stat(path, &st) < 0 ||
            !S_ISDIR(st.st_mode))
                return 0;
        return (uint64_t) st.st_ino;
}
