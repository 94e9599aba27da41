/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process-ref.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

bool pid_in_cgroup(pid_t pid, const char *cgroup) {
        char path[64], line[4096];
        bool in = false;
        size_t n = strlen(cgroup);
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        if (!(f = fopen(path, "re")))
                return false;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0) {
                        const char *cg = line + 3;
                        line[strcspn(line, "\n")] = '\0';
                        in = strncmp(cg, cgroup, n) == 0 && (cg[n] == '\0' || cg[n] == '/');
                        break;
                }
        fclose(f);
        return in;
}

bool pidfd_alive(int pidfd) {
        /* Only ESRCH says gone; a filter's EPERM or ENOSYS says nothing. */
        return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno != ESRCH;
}
