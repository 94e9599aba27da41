/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A test library: every process that loads it (LD_PRELOAD) appends one
 * line "uid=U euid=E lib=PATH exe=PATH" to TKA_UID_RECORD_DIR/PID, from
 * its constructor. tests/systemd/bpf-privilege.sh preloads it into a
 * unit the way a service's own settings can (ExtraPreload=, an
 * EnvironmentFile= with LD_PRELOAD) and looks for a record of uid 0.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void uid_record(void) {
        const char *dir = getenv("TKA_UID_RECORD_DIR");
        char path[4096], exe[1024] = "?", line[6144];
        Dl_info info = { 0 };
        ssize_t n;
        int fd, len;

        if (!dir)
                return;
        if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0)
                exe[n] = '\0';
        (void) dladdr((void *) uid_record, &info);
        snprintf(path, sizeof(path), "%s/%ld", dir, (long) getpid());
        len = snprintf(line, sizeof(line), "uid=%u euid=%u lib=%s exe=%s\n", (unsigned) getuid(), (unsigned) geteuid(),
                       info.dli_fname ? info.dli_fname : "?", exe);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        if (len > 0 && write(fd, line, (size_t) len) < 0)
                (void) 0;
        close(fd);
}
