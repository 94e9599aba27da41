/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf-record.h"
#include "safe-text.h"
#include "unit-name.h"

static const char *const methods[] = { "bpf", "bpf-live", "preload", "error", NULL };

static bool method_ok(const char *m) {
        for (size_t i = 0; methods[i]; i++)
                if (strcmp(m, methods[i]) == 0)
                        return true;
        return false;
}

bool bpf_record_unit_ok(const char *unit) {
        return unit && unit_name_is_valid_cgroup_unit(unit);
}

static int record_path(char *buf, size_t size, const char *dir, const char *unit) {
        if (!bpf_record_unit_ok(unit))
                return -EINVAL;
        return snprintf(buf, size, "%s/%s", dir ? dir : BPF_RECORD_DIR, unit) < (int) size ? 0 : -ENAMETOOLONG;
}

int bpf_record_write(const char *dir, const char *unit, const struct bpf_record *rec) {
        char path[4096], tmp[4096 + 8], shown[256];
        FILE *f;
        int r;

        if (!method_ok(rec->method))
                return -EINVAL;
        if ((r = record_path(path, sizeof(path), dir, unit)) < 0)
                return r;
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if (!(f = fopen(tmp, "we")))
                return -errno;
        /* One line per field: a reason can quote a program's path (ExecStart=
         * takes C escapes, a newline too). */
        text_escape_to(shown, sizeof(shown), rec->reason);
        fprintf(f, "method=%s\nreason=%s\ncgroup_id=%llu\nattached=%s\n", rec->method, shown,
                (unsigned long long) rec->cgroup_id, rec->explicit_attach ? "explicit" : "systemd");
        if (strcmp(rec->method, "bpf-live") == 0)
                fprintf(f, "live=%llu\nown=%llu\napplied_usec=%llu\n", (unsigned long long) rec->live,
                        (unsigned long long) rec->own, (unsigned long long) rec->applied_usec);
        if (fclose(f) != 0 || rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

/* A decimal number, all of the value. */
static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int bpf_record_read(const char *dir, const char *unit, struct bpf_record *rec) {
        char path[4096], line[512];
        struct stat st;
        FILE *f;
        int r = 0;

        *rec = (struct bpf_record) { 0 };
        if ((r = record_path(path, sizeof(path), dir, unit)) < 0)
                return r;
        if (!(f = fopen(path, "re")))
                return -errno;
        if (fstat(fileno(f), &st) < 0 || st.st_uid != 0) { /* only tcpkeepalive-bpf, as root, writes these */
                fclose(f);
                return -EPERM;
        }
        rec->written_usec = (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000ULL;
        while (r == 0 && fgets(line, sizeof(line), f)) {
                size_t n = strcspn(line, "\n");
                if (line[n] != '\n' && !feof(f)) {
                        r = -EINVAL; /* longer than any field we write */
                        break;
                }
                line[n] = '\0';
                if (strncmp(line, "method=", 7) == 0) {
                        if (!method_ok(line + 7))
                                r = -EINVAL;
                        else
                                snprintf(rec->method, sizeof(rec->method), "%s", line + 7);
                } else if (strncmp(line, "reason=", 7) == 0) {
                        /* Written escaped: anything else is not ours. */
                        if (strlen(line + 7) >= sizeof(rec->reason) || !text_is_printable(line + 7))
                                r = -EINVAL;
                        else
                                snprintf(rec->reason, sizeof(rec->reason), "%s", line + 7);
                } else if (strncmp(line, "cgroup_id=", 10) == 0)
                        r = parse_u64(line + 10, &rec->cgroup_id);
                else if (strncmp(line, "attached=", 9) == 0) {
                        if (strcmp(line + 9, "explicit") == 0)
                                rec->explicit_attach = true;
                        else if (strcmp(line + 9, "systemd") != 0)
                                r = -EINVAL;
                } else if (strncmp(line, "live=", 5) == 0)
                        r = parse_u64(line + 5, &rec->live);
                else if (strncmp(line, "own=", 4) == 0)
                        r = parse_u64(line + 4, &rec->own);
                else if (strncmp(line, "applied_usec=", 13) == 0)
                        r = parse_u64(line + 13, &rec->applied_usec);
                else
                        r = -EINVAL;
        }
        fclose(f);
        if (r == 0 && rec->method[0] == '\0')
                r = -EINVAL;
        if (r < 0)
                *rec = (struct bpf_record) { 0 };
        return r;
}

int bpf_record_remove(const char *dir, const char *unit) {
        char path[4096];
        int r = record_path(path, sizeof(path), dir, unit);
        if (r < 0)
                return r;
        return unlink(path) < 0 ? -errno : 0;
}
