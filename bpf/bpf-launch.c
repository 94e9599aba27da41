/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpkeepalive-bpf-launch: the privileged step of a unit's drop-in
 * (ExecStartPre=-+… attach, ExecStopPost=-+… detach).
 *
 * systemd runs "+" commands as root, outside the unit's sandbox, but with
 * the unit's whole environment: LD_PRELOAD (our library, the rule's
 * ExtraPreload= libraries, or whatever an EnvironmentFile= the service's
 * user can write says), DBUS_SYSTEM_BUS_ADDRESS, TCPKEEPALIVE_*. A
 * dynamically linked program started that way runs code the unit chose,
 * as root. This one is linked statically (no ELF interpreter: the dynamic
 * loader never runs, so nothing is preloaded into it), clears its
 * environment before it does anything (the C library's start-up still
 * reads GLIBC_TUNABLES: allocator settings, no code), accepts only the
 * arguments the generator writes (numbers in the kernel's ranges, fixed
 * words, a service name), and then executes
 * tcpkeepalive-bpf at its build-time path with a fixed environment.
 * Everything it does not know is refused, with the argument named.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "keepalive-params.h"
#include "keepalive-paths.h"

#ifndef TCPKEEPALIVE_BPF_HELPER_PATH
#error "TCPKEEPALIVE_BPF_HELPER_PATH: the absolute path of tcpkeepalive-bpf"
#endif

#define NAME "tcpkeepalive-bpf-launch"
#define UNIT_NAME_MAX 255
/* The generator writes 10 at most, and a --path= per path rule and
 * --unmatched=off. */
#define MAX_ARGS (12 + KA_PATHS_MAX + 1)
enum { EXIT_USAGE = 2 };

/*
 * An Accept=yes (inetd-style) service's commands, ExecStartPre= and
 * ExecStopPost= too, get the client's connection as stdin, stdout and
 * stderr (tested with systemd 252): nothing may be written there. Any
 * socket counts (a Unix listener's client cannot be told from journald's
 * stream); the messages reach the journal through syslog then.
 */
static bool to_syslog;

static bool fd_is_socket(int fd) {
        struct stat st;
        return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (to_syslog)
                vsyslog(LOG_DAEMON | LOG_ERR, fmt, ap);
        else {
                fputs(NAME ": ", stderr);
                vfprintf(stderr, fmt, ap);
        }
        va_end(ap);
}

/* Stdin, stdout and stderr on /dev/null, for us and for the helper. */
static void leave_the_sockets(void) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        to_syslog = true;
        openlog(NAME, LOG_PID, LOG_DAEMON);
        if (null < 0)
                return;
        for (int fd = 0; fd <= 2; fd++)
                (void) dup2(null, fd); /* dup2 clears O_CLOEXEC on the copy */
        if (null > 2)
                close(null);
}

/* A service unit name as systemd writes %n: [A-Za-z0-9:_.\-@\\] ending in
 * ".service", at most 255 characters, no leading "-" or ".". */
static bool service_name_ok(const char *s) {
        size_t n = strlen(s);
        if (n <= strlen(".service") || n > UNIT_NAME_MAX || s[0] == '-' || s[0] == '.' ||
            strcmp(s + n - strlen(".service"), ".service") != 0)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr(":_.-@\\", *p)))
                        return false;
        return true;
}

struct option_rule {
        const char *name; /* "idle": --idle */
        unsigned min, max;
        const char *const *words; /* NULL: a number in [min, max] */
        bool attach_only;
        bool seen;
};

static const char *const modes[] = { "default", "force", NULL };
static const char *const directions[] = { "both", "inbound", "outbound", NULL };

static bool word_ok(const char *const *words, const char *v) {
        for (; *words; words++)
                if (strcmp(*words, v) == 0)
                        return true;
        return false;
}

int main(int argc, char **argv) {
#define NUMBER_RULE(s) { ka_setting(s)->option, ka_setting(s)->min, ka_setting(s)->max, NULL, true, false }
        struct option_rule rules[] = {
                NUMBER_RULE(KA_SETTING_IDLE),
                NUMBER_RULE(KA_SETTING_INTERVAL),
                NUMBER_RULE(KA_SETTING_COUNT),
                NUMBER_RULE(KA_SETTING_USER_TIMEOUT),
                { "mode", 0, 0, modes, true, false },
                { "direction", 0, 0, directions, true, false },
        };
#undef NUMBER_RULE
        static char *const clean_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        char *args[MAX_ARGS + 3];
        const char *verb;
        static struct ka_path path; /* what a --path= says: checked, then passed on as text */
        bool attach, have_unit = false, have_auto = false, have_unmatched = false;
        unsigned n_paths = 0;
        int n = 0;

        /* First: nothing below may read what the unit set (syslog's time
         * stamp reads TZ, a path root would open). GLIBC_TUNABLES is read by
         * the C library before main: malloc's settings, no code loaded. */
        if (clearenv() != 0)
                return 1;
        if (fd_is_socket(0) || fd_is_socket(1) || fd_is_socket(2))
                leave_the_sockets();

        if (argc < 2 || argc > MAX_ARGS) {
                complain("want attach|detach --unit=NAME.service [options], %d arguments given\n",
                        argc - 1);
                return EXIT_USAGE;
        }
        verb = argv[1];
        if (strcmp(verb, "attach") != 0 && strcmp(verb, "detach") != 0) {
                complain("unknown command '%s': want attach or detach\n", verb);
                return EXIT_USAGE;
        }
        attach = strcmp(verb, "attach") == 0;
        args[n++] = (char *) TCPKEEPALIVE_BPF_HELPER_PATH;
        if (to_syslog)
                args[n++] = (char *) "--syslog";
        args[n++] = argv[1];
        for (int i = 2; i < argc; i++) {
                const char *a = argv[i], *eq = strchr(a, '=');
                const char *v = eq ? eq + 1 : NULL;
                size_t klen = eq ? (size_t) (eq - a) : strlen(a);
                bool ok = false;

                if (strncmp(a, "--unit", klen) == 0 && klen == strlen("--unit") && v) {
                        if (have_unit || !service_name_ok(v)) {
                                complain("%s: %s\n", a,
                                        have_unit ? "given twice" : "not a service unit name");
                                return EXIT_USAGE;
                        }
                        have_unit = ok = true;
                } else if (strcmp(a, "--auto") == 0 && attach) {
                        if (have_auto) {
                                complain("--auto: given twice\n");
                                return EXIT_USAGE;
                        }
                        have_auto = ok = true;
                } else if (strncmp(a, "--path", klen) == 0 && klen == strlen("--path") && v && attach) {
                        if (n_paths >= KA_PATHS_MAX || ka_path_parse(v, &path) < 0) {
                                complain("%s: %s\n", a,
                                        n_paths >= KA_PATHS_MAX ? "too many path rules" : "not a path rule");
                                return EXIT_USAGE;
                        }
                        n_paths++;
                        ok = true;
                } else if (strcmp(a, "--unmatched=off") == 0 && attach) {
                        if (have_unmatched) {
                                complain("--unmatched=off: given twice\n");
                                return EXIT_USAGE;
                        }
                        have_unmatched = ok = true;
                } else {
                        for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
                                unsigned num;
                                if (klen < 2 || strncmp(a, "--", 2) != 0 || strlen(rules[r].name) != klen - 2 ||
                                    strncmp(a + 2, rules[r].name, klen - 2) != 0)
                                        continue;
                                if (!v || (rules[r].attach_only && !attach) || rules[r].seen)
                                        break;
                                if (rules[r].words ? !word_ok(rules[r].words, v)
                                                   : ka_parse_uint(v, rules[r].min, rules[r].max, &num) < 0) {
                                        if (rules[r].words)
                                                complain("%s: want %s\n", a,
                                                        rules[r].words == modes ? "default or force"
                                                                                : "both, inbound or outbound");
                                        else
                                                complain("%s: want a number in %u..%u\n", a,
                                                        rules[r].min, rules[r].max);
                                        return EXIT_USAGE;
                                }
                                rules[r].seen = ok = true;
                                break;
                        }
                }
                if (!ok) {
                        complain("%s: not an argument of %s (or given twice)\n", a, verb);
                        return EXIT_USAGE;
                }
                args[n++] = argv[i];
        }
        if (!have_unit) {
                complain("%s: --unit=NAME.service is required\n", verb);
                return EXIT_USAGE;
        }
        args[n] = NULL;
        execve(TCPKEEPALIVE_BPF_HELPER_PATH, args, clean_env);
        complain("cannot execute %s: %s\n", TCPKEEPALIVE_BPF_HELPER_PATH, strerror(errno));
        return 1;
}
