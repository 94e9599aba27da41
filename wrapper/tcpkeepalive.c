/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpkeepalive: runs one command with libtcpkeepalive.so preloaded, for use
 * without systemd. It validates the options with the same limits as the
 * library, so that a typo fails here, loudly, instead of being ignored by
 * the library inside the program.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "keepalive-params.h"
#include "string-match.h"

enum {
        EXIT_USAGE = 2,          /* bad option or value */
        EXIT_NO_LIBRARY = 3,     /* the library is not where it should be */
        EXIT_CANNOT_EXEC = 126,  /* as env(1) and the shells */
        EXIT_NOT_FOUND = 127,
};

/* ld.so expands these in LD_PRELOAD (ld.so(8), "Dynamic string tokens"):
 * $LIB to the library directory of the program's ABI (lib,
 * lib/x86_64-linux-gnu, lib64, ...), $PLATFORM to the processor type.
 * The Debian package's path is /usr/$LIB/tcp-keepalive/libtcpkeepalive.so:
 * checked literally, it never exists. */
static const struct {
        const char *token, *glob;
} dst_tokens[] = {
        { "${LIB}", "lib{,32,64,x32,/*}" },
        { "$LIB", "lib{,32,64,x32,/*}" },
        { "${PLATFORM}", "*" },
        { "$PLATFORM", "*" },
};

/* path with each token as a glob of what ld.so may expand it to, the rest
 * escaped; NULL when path has no token (or no memory). */
static char *dst_pattern(const char *path) {
        size_t size = strlen(path) * 2 + 64, n = 0;
        char *out = malloc(size);
        bool any = false;

        if (!out)
                return NULL;
        while (*path) {
                size_t i, len = 0;
                for (i = 0; i < sizeof(dst_tokens) / sizeof(dst_tokens[0]); i++)
                        if (!strncmp(path, dst_tokens[i].token, (len = strlen(dst_tokens[i].token))))
                                break;
                if (i < sizeof(dst_tokens) / sizeof(dst_tokens[0])) {
                        size_t g = strlen(dst_tokens[i].glob);
                        char *bigger = n + g + 3 > size ? realloc(out, (size += g + 64)) : out;
                        if (!bigger) {
                                free(out);
                                return NULL;
                        }
                        out = bigger;
                        memcpy(out + n, dst_tokens[i].glob, g);
                        n += g;
                        path += len;
                        any = true;
                        continue;
                }
                if (n + 3 > size) {
                        char *bigger = realloc(out, (size += 64));
                        if (!bigger) {
                                free(out);
                                return NULL;
                        }
                        out = bigger;
                }
                if (strchr("*?[]{}\\", *path))
                        out[n++] = '\\';
                out[n++] = *path++;
        }
        out[n] = '\0';
        if (!any) {
                free(out);
                return NULL;
        }
        return out;
}

/* Can ld.so open the library? A path with $LIB or $PLATFORM: is there a
 * readable file for any expansion. 0, or -errno (errno set). */
static int library_readable(const char *path) {
        char *pattern = dst_pattern(path);
        glob_t g;
        int r = -ENOENT;

        if (!pattern)
                return access(path, R_OK) < 0 ? -errno : 0;
        if (glob(pattern, GLOB_BRACE | GLOB_NOSORT, NULL, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc && r < 0; i++)
                        if (access(g.gl_pathv[i], R_OK) == 0)
                                r = 0;
                globfree(&g);
        }
        free(pattern);
        errno = -r;
        return r;
}

static void help(void) {
        printf("Usage: tcpkeepalive [OPTION]... [--] COMMAND [ARG]...\n"
               "Run COMMAND with TCP keepalive on its TCP sockets (libtcpkeepalive.so).\n"
               "\n"
               "  -i, --idle=SEC          idle time before the first probe, 1..%u s\n"
               "  -n, --interval=SEC      time between probes, 1..%u s\n"
               "  -c, --count=N           unanswered probes before the connection is dropped, 1..%u\n"
               "  -u, --user-timeout=MS   TCP_USER_TIMEOUT: max time sent data may stay unacked,\n"
               "                          0..%u ms (0: kernel default)\n"
               "  -m, --mode=MODE         default: the program's own setsockopt calls win;\n"
               "                          force: the values above stay whatever the program does;\n"
               "                          off: do nothing\n"
               "  -d, --direction=DIR     both (default), inbound (accepted connections),\n"
               "                          outbound (connections the program makes)\n"
               "      --debug             one line on stderr per configured socket\n"
               "      --library=PATH      the library to preload (default %s)\n"
               "  -h, --help              show this help and exit\n"
               "  -V, --version           show the version and exit\n"
               "\n"
               "Options not given keep the kernel's defaults (sysctl net.ipv4.tcp_keepalive_*),\n"
               "unless the environment already sets TCPKEEPALIVE_* for them. The library is put\n"
               "in front of any LD_PRELOAD already set.\n"
               "\n"
               "Exit status: COMMAND's own, or 2 for a bad option, 3 when the library is\n"
               "missing, 126 when COMMAND cannot run, 127 when it is not found.\n"
               "\n"
               "Example: tcpkeepalive --idle=60 --interval=10 --count=6 -- nc -l 5000\n"
               "See tcpkeepalive(1) and libtcpkeepalive(7).\n",
               KA_IDLE_MAX, KA_INTERVAL_MAX, KA_COUNT_MAX, KA_USER_TIMEOUT_MAX, TCPKEEPALIVE_LIBRARY_PATH);
}

/* Every error message goes through here. An inetd-style or Accept=yes
 * service started as "tcpkeepalive ... -- server" has the client's
 * connection as its stderr: never write into a socket (the client would
 * read our message in its protocol stream), use syslog then, as when stderr
 * is not open at all. See libtcpkeepalive(7), MESSAGES. */
__attribute__((format(printf, 2, 0)))
static void verror(const char *hint, const char *fmt, va_list ap) {
        struct stat st;

        if (fstat(STDERR_FILENO, &st) < 0 || S_ISSOCK(st.st_mode)) {
                char msg[512];
                vsnprintf(msg, sizeof(msg), fmt, ap);
                openlog("tcpkeepalive", LOG_PID, LOG_DAEMON);
                syslog(LOG_ERR, "%s", msg);
                closelog();
                return;
        }
        fprintf(stderr, "tcpkeepalive: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n%s", hint);
}

__attribute__((format(printf, 1, 2)))
static void report_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        verror("", fmt, ap);
        va_end(ap);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        verror("Try 'tcpkeepalive --help'.\n", fmt, ap);
        va_end(ap);
        return EXIT_USAGE;
}

/* --OPTION=N: the library's environment, checked as the library checks it. */
static int set_number(enum ka_setting setting, const char *value) {
        const struct ka_setting_info *s = ka_setting(setting);
        unsigned n;
        char buf[16];
        int r = ka_parse_uint(value, s->min, s->max, &n);

        if (r < 0) {
                return usage_error("--%s: '%s' is %s, want %u..%u", s->option, value,
                                   r == -ERANGE ? "out of range" : "not a number", s->min, s->max);
        }
        snprintf(buf, sizeof(buf), "%u", n);
        if (setenv(s->env, buf, 1) < 0)
                return usage_error("--%s: %s", s->option, strerror(errno));
        return 0;
}

/* Puts the library first in LD_PRELOAD, keeping what is there, once. */
static int prepend_preload(const char *library) {
        const char *old = getenv("LD_PRELOAD");
        char *value;
        int r;

        if (!old || !*old)
                return setenv("LD_PRELOAD", library, 1);
        /* Already in the list (a nested tcpkeepalive): leave the list alone. */
        if (preload_list_has(old, library))
                return 0;
        if (asprintf(&value, "%s:%s", library, old) < 0)
                return -1;
        r = setenv("LD_PRELOAD", value, 1);
        free(value);
        return r;
}

int main(int argc, char **argv) {
        enum { OPT_DEBUG = 0x100, OPT_LIBRARY };
        static const struct option options[] = {
                { "idle", required_argument, NULL, 'i' },
                { "interval", required_argument, NULL, 'n' },
                { "count", required_argument, NULL, 'c' },
                { "user-timeout", required_argument, NULL, 'u' },
                { "mode", required_argument, NULL, 'm' },
                { "direction", required_argument, NULL, 'd' },
                { "debug", no_argument, NULL, OPT_DEBUG },
                { "library", required_argument, NULL, OPT_LIBRARY },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const char *library = TCPKEEPALIVE_LIBRARY_PATH;
        enum ka_mode mode;
        enum ka_direction direction;
        int c, r;

        /* '+': stop at the first non-option, so COMMAND's own options stay its own.
         * ':' and opterr 0: getopt's own messages would go to stderr
         * whatever it is; ours go through verror(). */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:i:n:c:u:m:d:hV", options, NULL)) >= 0) {
                r = 0;
                switch (c) {
                case 'i': r = set_number(KA_SETTING_IDLE, optarg); break;
                case 'n': r = set_number(KA_SETTING_INTERVAL, optarg); break;
                case 'c': r = set_number(KA_SETTING_COUNT, optarg); break;
                case 'u': r = set_number(KA_SETTING_USER_TIMEOUT, optarg); break;
                case 'm':
                        if (ka_parse_mode(optarg, &mode) < 0)
                                return usage_error("--mode: '%s' is not one of default, force, off", optarg);
                        r = setenv(KA_ENV_MODE, optarg, 1);
                        break;
                case 'd':
                        if (ka_parse_direction(optarg, &direction) < 0)
                                return usage_error("--direction: '%s' is not one of both, inbound, outbound", optarg);
                        r = setenv(KA_ENV_DIRECTION, optarg, 1);
                        break;
                case OPT_DEBUG: r = setenv(KA_ENV_DEBUG, "1", 1); break;
                case OPT_LIBRARY: library = optarg; break;
                case 'h': help(); return 0;
                case 'V': printf("tcpkeepalive %s\n", PACKAGE_VERSION); return 0;
                case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
                default:
                        if (optopt && optopt < 0x100)
                                return usage_error("invalid option -- '%c'", optopt);
                        return usage_error("unrecognized option '%s'", argv[optind - 1]);
                }
                if (r != 0)
                        return r > 0 ? r : usage_error("environment: %s", strerror(errno));
        }
        if (optind >= argc)
                return usage_error("no COMMAND given");
        /* ld.so ignores a preload path it cannot open with only a warning the
         * program's users may never see: refuse here instead. */
        if (library[0] != '/')
                return usage_error("--library: '%s' is not an absolute path", library);
        if (library_readable(library) < 0) {
                report_error("%s: %s%s", library, strerror(errno),
                             strchr(library, '$') ? " (for every expansion of $LIB and $PLATFORM ld.so could make)" : "");
                return EXIT_NO_LIBRARY;
        }
        if (strpbrk(library, ": ")) {
                report_error("%s: a preload path cannot contain ':' or ' '", library);
                return EXIT_NO_LIBRARY;
        }
        if (prepend_preload(library) < 0) {
                report_error("LD_PRELOAD: %s", strerror(errno));
                return EXIT_USAGE;
        }
        execvp(argv[optind], argv + optind);
        r = errno;
        report_error("%s: %s", argv[optind], strerror(r));
        return r == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}
