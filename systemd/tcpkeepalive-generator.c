/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpkeepalive-generator: turns the rules in keepalived.d and the units
 * enabled with `systemctl enable tcpkeepalive@UNIT` into drop-ins that
 * preload libtcpkeepalive.so into those units. See systemd.generator(7)
 * and tcpkeepalive-generator(8).
 *
 * A generator runs before anything else at boot and on every
 * daemon-reload: no IPC, no syslog (messages go to /dev/kmsg), quick, and
 * exit 0 unless it could not run at all, so that one bad rule never
 * stands in the way of the others or of the boot.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include "dropin.h"
#include "rules.h"
#include "strv.h"
#include "unit-alias.h"
#include "unit-name.h"
#include "unit-scan.h"

#ifndef TCPKEEPALIVE_LIBRARY_PATH
#define TCPKEEPALIVE_LIBRARY_PATH "/usr/local/lib/libtcpkeepalive.so"
#endif
#define ENABLE_PREFIX "tcpkeepalive@"

static FILE *log_file;

/* LEVEL: a syslog priority by its <syslog.h> name (LOG_ERR, LOG_WARNING,
 * LOG_INFO, LOG_DEBUG), written as the kernel log's <N> prefix. */
__attribute__((format(printf, 2, 3)))
static void log_msg(int level, const char *fmt, ...) {
        char text[2048];
        va_list ap;
        if (!log_file)
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (fprintf(log_file, "<%d>tcpkeepalive-generator[%d]: %s\n", level, (int) getpid(), text) < 0 ||
            fflush(log_file) != 0) {
                if (log_file == stderr)
                        return;
                /* A /dev/kmsg that refuses writes (a container's): stderr,
                 * which systemd logs, from now on. */
                fclose(log_file);
                log_file = stderr;
                fprintf(log_file, "<%d>tcpkeepalive-generator[%d]: %s\n", level, (int) getpid(), text);
                fflush(log_file);
        }
}

/* The kernel log, as systemd.generator(7) asks; stderr when run by hand,
 * and where there is no kernel log: a container has no /dev/kmsg, or one
 * that is something else (a link to /dev/null or /dev/console), and
 * messages written there would vanish. */
static void log_open(void) {
        int fd = isatty(STDERR_FILENO) || getenv("TCPKEEPALIVE_GENERATOR_STDERR") ? -1
                                                                                  : open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 11))) {
                close(fd);
                fd = -1;
        }
        log_file = fd >= 0 ? fdopen(fd, "we") : NULL;
        if (!log_file) {
                if (fd >= 0)
                        close(fd);
                log_file = stderr;
        }
}

static void log_diag(const struct ka_diag *d) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return;
        ka_diag_print(d, f);
        fclose(f);
        text[strcspn(text, "\n")] = '\0';
        log_msg(d->level == KA_DIAG_ERROR ? LOG_ERR : LOG_WARNING, "%s", text);
        free(text);
}

static int write_file_at(const char *dir, const char *unit, const char *text) {
        char path[4096];
        int fd;
        size_t len = strlen(text);

        snprintf(path, sizeof(path), "%s/%s.d", dir, unit);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        snprintf(path, sizeof(path), "%s/%s.d/%s", dir, unit, KA_DROPIN_NAME);
        /* Exclusive: the output directory is fresh on every run; an existing
         * file means something else wrote it, and it is not ours to replace. */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, text, len) != (ssize_t) len) {
                int r = errno ? -errno : -EIO;
                close(fd);
                return r;
        }
        return close(fd) < 0 ? -errno : 0;
}

static int run(const char *dest, const char *root) {
        const struct ka_dropin_setup setup = {
                .library = TCPKEEPALIVE_LIBRARY_PATH,
#ifdef TCPKEEPALIVE_BPF_HELPER
                .bpf_helper = TCPKEEPALIVE_BPF_HELPER,
#endif
        };
        struct ka_ruleset rs;
        struct unit_aliases aliases;
        char **units = NULL, **enabled = NULL;
        unsigned written = 0, failed = 0;
        int r;

        ka_ruleset_init(&rs);
        r = ka_ruleset_load_dirs(&rs, root, ka_rule_dirs);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot load rules: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < rs.n_diags; i++)
                log_diag(&rs.diags[i]);
        for (char **b = rs.broken; b && *b; b++)
                log_msg(LOG_ERR, "%s: skipped because of the errors above; the other rules apply", *b);

        /* An alias and the unit it names are one unit: systemd applies the
         * drop-ins of every name, and of two files of the same name the
         * unit's own would win. One drop-in, under the unit's own name,
         * from the rule that sorts last among those matching any name. */
        unit_aliases_init(&aliases);
        if (unit_aliases_load(&aliases, root, ka_unit_dirs) < 0)
                log_msg(LOG_WARNING, "cannot read unit aliases: %s", strerror(ENOMEM));
        /* An exact name gets its drop-in even when no unit file was found:
         * it may be transient or come from another generator. */
        ka_units_reached(&rs, &aliases, root, &units, &enabled);

        for (char **u = units; u && *u; u++) {
                const struct ka_rule *overridden = NULL, *rule = NULL;
                struct ka_params params;
                char *text, source[4096 + 64];

                r = ka_unit_params(&rs, &aliases, enabled, *u, &params, &rule, &overridden);
                if (r == 0)
                        continue;
                if (overridden) {
                        char **names = unit_aliases_names(&aliases, *u);
                        log_msg(LOG_WARNING, "%s%s%s: matched by %s and %s; %s applies (the file that sorts last wins)", *u,
                                names && names[1] ? ", known also as " : "", names && names[1] ? names[1] : "",
                                overridden->path, rule->path, rule->path);
                        strv_free(names);
                }
                if (r < 0) {
                        failed++;
                        continue;
                }
                if (params.paths_left_out)
                        log_msg(4, "%s: %zu rules by path reach it, at most %d apply: the %zu that sort first are left out",
                                *u, params.n_paths + params.paths_left_out, KA_PATHS_MAX, params.paths_left_out);
                if (rule)
                        snprintf(source, sizeof(source), "%s", rule->path);
                else
                        snprintf(source, sizeof(source), "systemctl enable " ENABLE_PREFIX "%.*s.service%s%s",
                                 (int) (strlen(*u) - strlen(".service")), *u,
                                 rs.defaults_path ? " with " : "", rs.defaults_path ? rs.defaults_path : "");
                if (params.method == KA_METHOD_BPF && !setup.bpf_helper)
                        log_msg(LOG_WARNING, "%s: Method=bpf in %s, but this build has no BPF backend: no keepalive", *u, source);
                text = ka_dropin_render(*u, &params, source, &setup);
                r = text ? 0 : -errno;
                ka_params_done(&params);
                if (!text || (r = write_file_at(dest, *u, text)) < 0) {
                        log_msg(LOG_ERR, "%s: cannot write drop-in: %s", *u,
                                r == -EINVAL ? "a name or path has a control character" : strerror(-r));
                        failed++;
                } else
                        written++;
                free(text);
        }
        log_msg(written || failed || rs.n_errors ? LOG_INFO : LOG_DEBUG, "%u drop-ins written, %u failed, %zu rules, %zu errors",
                written, failed, rs.n_rules, rs.n_errors);
        strv_free(units);
        strv_free(enabled);
        unit_aliases_done(&aliases);
        ka_ruleset_done(&rs);
        return 0;
}

int main(int argc, char **argv) {
        const char *root = getenv("TCPKEEPALIVE_ROOT");
        struct stat st;

        log_open();
        if (argc != 2 && argc != 4) {
                log_msg(LOG_ERR, "usage: %s NORMAL-DIR [EARLY-DIR LATE-DIR] (run by systemd, see systemd.generator(7))",
                        argv[0]);
                return 1;
        }
        if (stat(argv[1], &st) < 0 || !S_ISDIR(st.st_mode)) {
                log_msg(LOG_ERR, "%s: not a directory", argv[1]);
                return 1;
        }
        umask(022);
        return run(argv[1], root && *root ? root : "") < 0 ? 1 : 0;
}
