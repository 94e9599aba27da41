/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/shared: time spans, unit names, the rule files' parsing
 * and layering (in temporary directories), matching, drop-in text. The
 * diagnostics are asserted to the line: they are what a sysadmin reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dropin.h"
#include "rules.h"
#include "safe-text.h"
#include "strv.h"
#include "timespan.h"
#include "unit-alias.h"
#include "unit-name.h"

static int failures, checks;

#define CHECK(cond)                                                                 \
        do {                                                                        \
                checks++;                                                           \
                if (!(cond)) {                                                      \
                        failures++;                                                 \
                        fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
                }                                                                   \
        } while (0)

#define CHECK_STR(a, b)                                                                        \
        do {                                                                                   \
                const char *a_ = (a), *b_ = (b);                                               \
                checks++;                                                                      \
                if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                       \
                        failures++;                                                            \
                        fprintf(stderr, "%s:%d: FAILED: %s == %s: '%s' vs '%s'\n", __FILE__, __LINE__, \
                                #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
                }                                                                              \
        } while (0)

static char root[] = "/tmp/tka-unit-XXXXXX";

/* The path of REL under the test's root (one static buffer: use it at once). */
static const char *at(const char *rel) {
        static char path[512];
        snprintf(path, sizeof(path), "%s%s", root, rel);
        return path;
}

static void write_file(const char *rel, const char *text) {
        const char *path = at(rel);
        FILE *f = fopen(path, "w");
        if (!f) {
                perror(path);
                exit(2);
        }
        fputs(text, f);
        fclose(f);
        chmod(path, 0644);
}

static void mkdirs(const char *rel) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s%s'", root, rel);
        if (system(cmd) != 0)
                exit(2);
}

/* The diag for path suffix and line, or NULL. */
static const struct ka_diag *find_diag(const struct ka_ruleset *rs, const char *suffix, unsigned line) {
        for (size_t i = 0; i < rs->n_diags; i++) {
                const char *p = rs->diags[i].path;
                size_t a = strlen(p), b = strlen(suffix);
                if (a >= b && strcmp(p + a - b, suffix) == 0 && rs->diags[i].line == line)
                        return &rs->diags[i];
        }
        return NULL;
}

static const struct ka_rule *find_rule(const struct ka_ruleset *rs, const char *name) {
        for (size_t i = 0; i < rs->n_rules; i++)
                if (strcmp(rs->rules[i].name, name) == 0)
                        return &rs->rules[i];
        return NULL;
}

static void test_timespan(void) {
        uint64_t u = 0;
        CHECK(timespan_parse("75", &u) == 0 && u == 75 * USEC_PER_SEC);
        CHECK(timespan_parse("75s", &u) == 0 && u == 75 * USEC_PER_SEC);
        CHECK(timespan_parse("2min", &u) == 0 && u == 120 * USEC_PER_SEC);
        CHECK(timespan_parse("1h 30min", &u) == 0 && u == 5400 * USEC_PER_SEC);
        CHECK(timespan_parse("5 min", &u) == 0 && u == 300 * USEC_PER_SEC);
        CHECK(timespan_parse("500ms", &u) == 0 && u == 500 * USEC_PER_MSEC);
        CHECK(timespan_parse("1w", &u) == 0 && u == 604800 * USEC_PER_SEC);
        CHECK(timespan_parse("", &u) == -EINVAL);
        CHECK(timespan_parse("abc", &u) == -EINVAL);
        /* What systemd takes (issue 18 item 5): fractions, a bare part, its units. */
        CHECK(timespan_parse("1.5h", &u) == 0 && u == 5400 * USEC_PER_SEC);
        CHECK(timespan_parse("1.5min", &u) == 0 && u == 90 * USEC_PER_SEC);
        CHECK(timespan_parse("1.5s", &u) == 0 && u == 1500 * USEC_PER_MSEC);
        CHECK(timespan_parse(".5s", &u) == 0 && u == 500 * USEC_PER_MSEC);
        CHECK(timespan_parse("0.25", &u) == 0 && u == 250 * USEC_PER_MSEC);
        CHECK(timespan_parse("1.5 min", &u) == 0 && u == 90 * USEC_PER_SEC);
        CHECK(timespan_parse("1h 30", &u) == 0 && u == 3630 * USEC_PER_SEC);
        CHECK(timespan_parse("1min30s", &u) == 0 && u == 90 * USEC_PER_SEC);
        CHECK(timespan_parse("2 minutes 3 seconds", &u) == 0 && u == 123 * USEC_PER_SEC);
        CHECK(timespan_parse("1M", &u) == 0 && u == 2629800 * USEC_PER_SEC);
        CHECK(timespan_parse("1y", &u) == 0 && u == 31557600 * USEC_PER_SEC);
        CHECK(timespan_parse("7\xc2\xb5s", &u) == 0 && u == 7);
        CHECK(timespan_parse("7\xce\xbcs", &u) == 0 && u == 7);
        CHECK(timespan_parse("1.000001s", &u) == 0 && u == USEC_PER_SEC + 1);
        CHECK(timespan_parse("12.34 .56", &u) == 0 && u == 12900 * USEC_PER_MSEC);
        CHECK(timespan_parse("12.34.56", &u) == -EINVAL);
        CHECK(timespan_parse("3.", &u) == -EINVAL);
        CHECK(timespan_parse(".", &u) == -EINVAL);
        CHECK(timespan_parse("3.s", &u) == -EINVAL);
        CHECK(timespan_parse("infinity", &u) == -EINVAL);
        CHECK(timespan_parse("-5", &u) == -EINVAL);
        CHECK(timespan_parse("5 parsecs", &u) == -EINVAL);
        CHECK(timespan_parse("99999999999999999999", &u) == -ERANGE);
        CHECK(timespan_parse("999999999999w", &u) == -ERANGE);
        /* overflow is told from bad syntax, to the last digit (issue 14 item 12) */
        CHECK(timespan_parse("18446744073709551616", &u) == -ERANGE);
        CHECK(timespan_parse("18446744073709551616us", &u) == -ERANGE);
        CHECK(timespan_parse("18446744073709551615us", &u) == 0 && u == UINT64_MAX);
        CHECK(timespan_parse("18446744073709551610us", &u) == 0 && u == UINT64_MAX - 5);
        CHECK(timespan_parse("1844674407370955161us", &u) == 0 && u == UINT64_MAX / 10);
        CHECK(timespan_parse("18446744073709551615", &u) == -ERANGE); /* seconds */
}

/* A value too large for any time span is out of range, not "not a time
 * span" (issue 14 item 12). */
static void test_out_of_range(void) {
        const char *dirs[] = { "/o", NULL };
        const struct ka_diag *d;
        struct ka_ruleset rs;

        mkdirs("/o");
        write_file("/o/10-big.ini", "[Match]\nUnit=big\n[KeepAlive]\nIdleSec=18446744073709551616\n"
                                    "IntervalSec=99999999999999999999999s\nUserTimeoutSec=18446744073709551616\n");
        write_file("/o/20-bad.ini", "[Match]\nUnit=bad\n[KeepAlive]\nIdleSec=1844674407370955161x\n");
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        d = find_diag(&rs, "10-big.ini", 4);
        CHECK(d && strcmp(d->key, "IdleSec") == 0 && d->message && strstr(d->message, "out of the kernel's range 1s..") &&
              !strstr(d->message, "not a time span"));
        d = find_diag(&rs, "10-big.ini", 5);
        CHECK(d && strcmp(d->key, "IntervalSec") == 0 && d->message && strstr(d->message, "out of the kernel's range 1s.."));
        d = find_diag(&rs, "10-big.ini", 6);
        CHECK(d && strcmp(d->key, "UserTimeoutSec") == 0 && d->message &&
              strstr(d->message, "out of the kernel's range 0.."));
        d = find_diag(&rs, "20-bad.ini", 4);
        CHECK(d && d->message && strstr(d->message, "not a time span"));
        CHECK(rs.n_rules == 0);
        ka_ruleset_done(&rs);
}

/* Time spans as systemd writes them; rounded to what the kernel counts,
 * with a warning, never refused (issue 18 item 5). */
/* Every build reads the four directories systemd's layout has, in
 * systemd's order (issue 18 item 2: a --prefix=/usr build ignored
 * /usr/local/lib/keepalived.d). */
static void test_rule_dirs(void) {
        static const char *const want[] = { "/run/keepalived.d", "/usr/local/lib/keepalived.d",
                                            "/usr/lib/keepalived.d" };
        size_t n = 0, w = 0;

        CHECK(ka_rule_dirs[0] && strstr(ka_rule_dirs[0], "/keepalived.d"));
        for (; ka_rule_dirs[n]; n++)
                if (w < 3 && strcmp(ka_rule_dirs[n], want[w]) == 0)
                        w++;
        CHECK(w == 3); /* all three, in this order */
        CHECK(strcmp(ka_rule_dirs[n - 1], "/usr/lib/keepalived.d") == 0);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        CHECK(strcmp(ka_rule_dirs[i], ka_rule_dirs[j]) != 0);
}

static void test_spans_rounded(void) {
        const char *dirs[] = { "/sp", NULL };
        const struct ka_diag *d;
        const struct ka_rule *r;
        struct ka_ruleset rs;

        mkdirs("/sp");
        write_file("/sp/10-span.ini", "[Match]\nUnit=span\n[KeepAlive]\nIdleSec=1.5min\nIntervalSec=1.5s\n"
                                      "UserTimeoutSec=1.5s\n");
        write_file("/sp/20-round.ini", "[Match]\nUnit=round\n[KeepAlive]\nIdleSec=400ms\nIntervalSec=1h 30\n"
                                       "UserTimeoutSec=1.0004s\n");
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        CHECK(rs.n_rules == 2 && rs.n_errors == 0);
        r = find_rule(&rs, "10-span.ini");
        CHECK(r && r->params.idle_sec == 90 && r->params.interval_sec == 2 && r->params.user_timeout_ms == 1500);
        CHECK(!find_diag(&rs, "10-span.ini", 4)); /* 1.5min is 90 s: nothing to say */
        d = find_diag(&rs, "10-span.ini", 5);
        CHECK(d && d->level == KA_DIAG_WARNING && strcmp(d->key, "IntervalSec") == 0 &&
              strstr(d->message, "rounded to 2s"));
        CHECK(!find_diag(&rs, "10-span.ini", 6));
        r = find_rule(&rs, "20-round.ini");
        CHECK(r && r->params.idle_sec == 1 && r->params.interval_sec == 3630 && r->params.user_timeout_ms == 1000);
        d = find_diag(&rs, "20-round.ini", 4);
        CHECK(d && d->level == KA_DIAG_WARNING && strstr(d->message, "rounded to 1s"));
        d = find_diag(&rs, "20-round.ini", 6);
        CHECK(d && d->level == KA_DIAG_WARNING && strstr(d->message, "rounded to 1000ms"));
        ka_ruleset_done(&rs);
}

static void test_unit_names(void) {
        const char *why = NULL;
        char *n, buf[64], longname[300];

        n = unit_glob_normalize("crm", &why);
        CHECK_STR(n, "crm.service");
        free(n);
        n = unit_glob_normalize("worker@*.service", &why);
        CHECK_STR(n, "worker@*.service");
        free(n);
        n = unit_glob_normalize("web[0-9].service", &why);
        CHECK_STR(n, "web[0-9].service");
        free(n);
        n = unit_glob_normalize("foo@bar.service", &why);
        CHECK_STR(n, "foo@bar.service");
        free(n);
        CHECK(!unit_glob_normalize("../x", &why) && strstr(why, "'/'"));
        CHECK(!unit_glob_normalize("a/b", &why) && strstr(why, "'/'"));
        CHECK(!unit_glob_normalize("a..b", &why) && strstr(why, "'..'"));
        /* found by fuzz-unit-names: "foo." became "foo..service" */
        CHECK(!unit_glob_normalize("foo.", &why) && strstr(why, "'..'"));
        CHECK(!unit_glob_normalize("bad\tname", &why) && strstr(why, "control character"));
        CHECK(!unit_glob_normalize("foo.socket", &why) && strstr(why, ".service"));
        CHECK(!unit_glob_normalize(".hidden", &why));
        CHECK(!unit_glob_normalize("-x", &why));
        CHECK(!unit_glob_normalize("", &why) && strstr(why, "empty"));
        CHECK(!unit_glob_normalize("a$b", &why));
        memset(longname, 'a', 256);
        longname[256] = '\0';
        CHECK(!unit_glob_normalize(longname, &why) && strstr(why, "255"));
        CHECK(unit_name_is_valid_service("crm.service"));
        CHECK(!unit_name_is_valid_service("crm*.service"));
        CHECK(!unit_name_is_valid_service("crm"));
        CHECK(unit_name_template("worker@7.service", buf, sizeof(buf)) && strcmp(buf, "worker@.service") == 0);
        CHECK(!unit_name_template("plain.service", buf, sizeof(buf)));
}

/* The rule tree test_layering_and_diagnostics loads: the same name in /etc,
 * /run and /usr/lib, masks, dangling links, good files and every kind of error. */
static void write_layered_rule_dirs(void) {
        char longline[300];

        mkdirs("/etc/k");
        mkdirs("/run/k");
        mkdirs("/usr/lib/k");
        /* the same name in three directories: /etc wins */
        write_file("/usr/lib/k/10-same.ini", "[Match]\nUnit=same\n[KeepAlive]\nIdleSec=3\n");
        write_file("/run/k/10-same.ini", "[Match]\nUnit=same\n[KeepAlive]\nIdleSec=2\n");
        write_file("/etc/k/10-same.ini", "[Match]\nUnit=same\n[KeepAlive]\nIdleSec=1\n");
        /* masked in /etc */
        write_file("/usr/lib/k/20-masked.ini", "[Match]\nUnit=masked\n");
        {
                char p[512];
                snprintf(p, sizeof(p), "%s/etc/k/20-masked.ini", root);
                CHECK(symlink("/dev/null", p) == 0);
                snprintf(p, sizeof(p), "%s/etc/k/25-dangling.ini", root);
                CHECK(symlink("/nonexistent/file.ini", p) == 0);
        }
        write_file("/usr/lib/k/25-dangling.ini", "[Match]\nUnit=dangling\n");
        /* ExtraPreload= names one library that exists and one that does not */
        write_file("/usr/lib/libjemalloc.so.2", "");
        /* comments, indentation, inline comments, Unit= over two lines */
        write_file("/etc/k/30-good.ini",
                   "# a comment\n"
                   "; another\n"
                   "[Match]\n"
                   "  Unit=web.service   # the front\n"
                   "Unit=worker@*.service\n"
                   "[KeepAlive]\n"
                   "\tIdleSec=2min\n"
                   "IntervalSec=30s ; probes\n"
                   "Count=4\n"
                   "UserTimeoutSec=500ms\n"
                   "Mode=force\n"
                   "Direction=outbound\n"
                   "Method=auto\n"
                   "[Service]\n"
                   "Restart=try\n"
                   "ExtraPreload=/usr/lib/libjemalloc.so.2 /opt/x/liby.so\n");
        /* every kind of error, each on a known line */
        snprintf(longline, sizeof(longline), "Unit=%0250d.service\n", 0);
        write_file("/etc/k/40-broken.ini",
                   "[Match]\n"                   /* 1 */
                   "Unit=ok.service ../etc\n"    /* 2 */
                   "[KeepAlive]\n"               /* 3 */
                   "IdleSec=abc\n"               /* 4 */
                   "IdleSec=5\n"                 /* 5 */
                   "Count=128\n"                 /* 6 */
                   "IntervalSec=1500ms\n"        /* 7 */
                   "Bogus=1\n"                   /* 8 */
                   "Mode: force\n"               /* 9 */
                   "[Nope]\n"                    /* 10 */
                   "X=1\n"                       /* 11 */
                   "just words\n");              /* 12 */
        write_file("/etc/k/41-long.ini", "[Match]\n");
        {
                char p[512];
                FILE *f;
                snprintf(p, sizeof(p), "%s/etc/k/41-long.ini", root);
                f = fopen(p, "a");
                fputs(longline, f);
                fclose(f);
        }
        write_file("/etc/k/42-nomatch.ini", "[KeepAlive]\nIdleSec=5\n");
        write_file("/etc/k/43-writable.ini", "[Match]\nUnit=w\n");
        {
                char p[512];
                snprintf(p, sizeof(p), "%s/etc/k/43-writable.ini", root);
                chmod(p, 0666);
        }
        write_file("/etc/k/44-warning.ini",
                   "[Match]\nUnit=warn\n[KeepAlive]\nIdleSec=60\nIntervalSec=10\nCount=6\nUserTimeoutSec=30s\n");
        if (geteuid() == 0) {
                /* a link in the rule dir to a file a user owns: refused like the file */
                char target[512], link[512];
                write_file("/user-owned.ini", "[Match]\nUnit=evil\n");
                snprintf(target, sizeof(target), "%s/user-owned.ini", root);
                snprintf(link, sizeof(link), "%s/etc/k/47-link.ini", root);
                if (chown(target, 65534, 65534) < 0 || symlink(target, link) < 0)
                        perror("symlink setup");
        }
        {
                /* a file over the size limit, of harmless comments: refused whole */
                char *huge = malloc(KA_RULE_FILE_MAX + 4);
                size_t n;
                if (!huge)
                        exit(2);
                n = (size_t) sprintf(huge, "[Match]\nUnit=huge\n");
                for (; n <= KA_RULE_FILE_MAX; n += 2)
                        memcpy(huge + n, "#\n", 3);
                write_file("/etc/k/48-huge.ini", huge);
                free(huge);
        }
        write_file("/etc/k/45-method.ini", "[Match]\nUnit=m\n[KeepAlive]\nMethod=ebpf\n");
        {
                /* a NUL byte inside a line: reported, never a silently cut value */
                static const char nul[] = "[Match]\nUnit=n\0.service\n";
                char p[512];
                FILE *f;
                snprintf(p, sizeof(p), "%s/etc/k/46-nul.ini", root);
                f = fopen(p, "w");
                fwrite(nul, 1, sizeof(nul) - 1, f);
                fclose(f);
                chmod(p, 0644);
        }
        /* a later rule overriding part of an earlier glob */
        write_file("/etc/k/90-exclude.ini", "[Match]\nUnit=worker@7.service\n[KeepAlive]\nMode=off\n");
        write_file("/usr/lib/k/defaults.conf", "[KeepAlive]\nIdleSec=60\nCount=4\n");
}

/* Which file wins, masks and links, size limit, and the good rule read whole. */
static void check_layering(const struct ka_ruleset *rs) {
        const struct ka_diag *d;
        const struct ka_rule *r;

        r = find_rule(rs, "10-same.ini");
        CHECK(r && r->params.idle_sec == 1 && strstr(r->path, "/etc/k/"));
        CHECK(!find_rule(rs, "20-masked.ini"));
        CHECK(rs->masked && strstr(rs->masked[0], "/etc/k/20-masked.ini"));
        CHECK(!find_rule(rs, "25-dangling.ini")); /* the /usr/lib one does not come through */
        d = find_diag(rs, "/etc/k/25-dangling.ini", 0);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "dangling"));

        CHECK(!find_rule(rs, "48-huge.ini"));
        d = find_diag(rs, "/etc/k/48-huge.ini", 0);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "bytes: rule files are limited to 1048576 bytes"));

        r = find_rule(rs, "30-good.ini");
        CHECK(r != NULL);
        if (r) {
                CHECK(strv_length(r->units) == 2);
                CHECK_STR(r->units[0], "web.service");
                CHECK_STR(r->units[1], "worker@*.service");
                CHECK(r->params.idle_sec == 120 && r->params.interval_sec == 30 && r->params.count == 4);
                CHECK(r->params.user_timeout_ms == 500);
                CHECK(r->params.mode == KA_MODE_FORCE && r->params.direction == KA_DIRECTION_OUTBOUND);
                CHECK(r->params.method == KA_METHOD_AUTO);
                CHECK(r->params.restart == KA_RESTART_TRY);
                CHECK(strv_length(r->params.extra_preload) == 2);
        }
        /* A missing ExtraPreload= library is warned about (ld.so would print
         * an error into every process), the one that exists is not. */
        d = find_diag(rs, "30-good.ini", 16);
        CHECK(d && d->level == KA_DIAG_WARNING && d->key && strcmp(d->key, "ExtraPreload") == 0 &&
              strstr(d->message, "'/opt/x/liby.so' does not exist"));
        for (size_t i = 0; i < rs->n_diags; i++)
                CHECK(!rs->diags[i].message || !strstr(rs->diags[i].message, "libjemalloc"));
}

/* Each error and warning named with its file, line, key and value. */
static void check_diagnostics(const struct ka_ruleset *rs) {
        const struct ka_diag *d;

        CHECK(!find_rule(rs, "40-broken.ini"));
        d = find_diag(rs, "40-broken.ini", 2);
        CHECK(d && d->level == KA_DIAG_ERROR && d->key && strcmp(d->key, "Unit") == 0 && strstr(d->message, "../etc"));
        d = find_diag(rs, "40-broken.ini", 4);
        CHECK(d && d->key && strcmp(d->key, "IdleSec") == 0 && strcmp(d->value, "abc") == 0 &&
              strstr(d->message, "not a time span"));
        d = find_diag(rs, "40-broken.ini", 5);
        CHECK(d && strstr(d->message, "set twice"));
        d = find_diag(rs, "40-broken.ini", 6);
        CHECK(d && strcmp(d->value, "128") == 0 && strstr(d->message, "1..127"));
        d = find_diag(rs, "40-broken.ini", 7); /* 1500ms: systemd takes it; rounded, said */
        CHECK(d && d->level == KA_DIAG_WARNING && strstr(d->message, "rounded to 2s: the kernel counts this in whole seconds"));
        d = find_diag(rs, "40-broken.ini", 8);
        CHECK(d && strcmp(d->key, "Bogus") == 0 && strstr(d->message, "unknown key"));
        d = find_diag(rs, "40-broken.ini", 9);
        CHECK(d && strstr(d->message, "expected Key=value"));
        d = find_diag(rs, "40-broken.ini", 11);
        CHECK(d && strstr(d->message, "unknown section [Nope]"));
        d = find_diag(rs, "40-broken.ini", 12);
        CHECK(d && strstr(d->message, "expected Key=value"));
        d = find_diag(rs, "41-long.ini", 2);
        CHECK(d && strstr(d->message, "line longer than"));
        d = find_diag(rs, "42-nomatch.ini", 0);
        CHECK(d && strstr(d->message, "no [Match] Unit="));
        if (geteuid() == 0) {
                d = find_diag(rs, "43-writable.ini", 0);
                CHECK(d && strstr(d->message, "someone other than root can write"));
                CHECK(!find_rule(rs, "43-writable.ini"));
        }
        if (geteuid() == 0) {
                d = find_diag(rs, "47-link.ini", 0);
                CHECK(d && strstr(d->message, "someone other than root can write"));
                CHECK(!find_rule(rs, "47-link.ini"));
        }
        d = find_diag(rs, "46-nul.ini", 2);
        CHECK(d && strstr(d->message, "NUL byte"));
        CHECK(!find_rule(rs, "46-nul.ini"));
        d = find_diag(rs, "45-method.ini", 4);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "want auto, preload or bpf") &&
              strcmp(d->key, "Method") == 0 && strcmp(d->value, "ebpf") == 0);
        d = find_diag(rs, "44-warning.ini", 0);
        CHECK(d && d->level == KA_DIAG_WARNING && strstr(d->message, "shorter than"));
        CHECK(find_rule(rs, "44-warning.ini") != NULL);
        CHECK(strv_contains(rs->broken, rs->broken ? rs->broken[0] : ""));

        CHECK(rs->defaults_path && strstr(rs->defaults_path, "/usr/lib/k/defaults.conf"));
        CHECK(rs->defaults.idle_sec == 60 && rs->defaults.count == 4 && rs->defaults.interval_sec == -1);
}

/* Matching: last file wins, the other is reported. */
static void check_matching(struct ka_ruleset *rs) {
        const struct ka_rule *r, *over;

        /* matching: last file wins, the other is reported */
        r = ka_ruleset_match(rs, "worker@3.service", &over);
        CHECK(r && strcmp(r->name, "30-good.ini") == 0 && over == NULL);
        r = ka_ruleset_match(rs, "worker@7.service", &over);
        CHECK(r && strcmp(r->name, "90-exclude.ini") == 0 && over && strcmp(over->name, "30-good.ini") == 0);
        r = ka_ruleset_match(rs, "worker@.service", &over);
        CHECK(r && strcmp(r->name, "30-good.ini") == 0);
        r = ka_ruleset_match(rs, "same.service", NULL);
        CHECK(r && strcmp(r->name, "10-same.ini") == 0);
        CHECK(ka_ruleset_match(rs, "unrelated.service", NULL) == NULL);
        CHECK(ka_ruleset_match(rs, "web.service.d", NULL) == NULL);
}

static void test_layering_and_diagnostics(void) {
        struct ka_ruleset rs;
        const char *dirs[] = { "/etc/k", "/run/k", "/usr/lib/k", NULL };

        write_layered_rule_dirs();
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        check_layering(&rs);
        check_diagnostics(&rs);
        check_matching(&rs);
        ka_ruleset_done(&rs);
}

static void test_dropin(void) {
        struct ka_dropin_setup setup = { .library = "/usr/lib/libtcpkeepalive.so" };
        struct ka_params p;
        char *t;

        ka_params_init(&p);
        p.idle_sec = 75;
        p.count = 20;
        p.mode = KA_MODE_FORCE;
        (void) strv_push_dup(&p.extra_preload, "/opt/lib/x.so");
        t = ka_dropin_render("crm.service", &p, "/etc/keepalived.d/50% \"odd\\.ini", &setup);
        CHECK(t && strstr(t, "[Service]\n"));
        CHECK(t && strstr(t, "Environment=\"LD_PRELOAD=/usr/lib/libtcpkeepalive.so:/opt/lib/x.so\"\n"));
        CHECK(t && strstr(t, "Environment=TCPKEEPALIVE_IDLE=75\n"));
        CHECK(t && strstr(t, "Environment=TCPKEEPALIVE_COUNT=20\n"));
        CHECK(t && !strstr(t, "TCPKEEPALIVE_INTERVAL"));
        CHECK(t && strstr(t, "Environment=\"TCPKEEPALIVE_MODE=force\"\n"));
        /* % doubled (specifier), " and \ escaped */
        CHECK(t && strstr(t, "TCPKEEPALIVE_SOURCE=/etc/keepalived.d/50%% \\\"odd\\\\.ini\""));
        CHECK(t && !strstr(t, "Environment=\n"));
        free(t);
        p.mode = KA_MODE_OFF;
        t = ka_dropin_render("crm.service", &p, "x.ini", &setup);
        CHECK(t && !strstr(t, "LD_PRELOAD") && strstr(t, "Environment=\"TCPKEEPALIVE_MODE=off\"\n"));
        CHECK(t && !strstr(t, "Environment=\n"));
        free(t);

        /* Method=bpf: no library; the helper around the start; never BPFProgram=. */
        p.mode = KA_MODE_FORCE;
        p.method = KA_METHOD_BPF;
        /* The static launcher, the parameters as its arguments (never the
         * environment: "+" runs as root with the unit's), % doubled in the
         * path and %n for the unit. */
        setup.bpf_helper = "/usr/libexec/tcp%keepalive/tcpkeepalive-bpf-launch";
        p.direction = KA_DIRECTION_INBOUND;
        p.user_timeout_ms = 0;
        t = ka_dropin_render("crm.service", &p, "x.ini", &setup);
        CHECK(t && !strstr(t, "LD_PRELOAD"));
        CHECK(t && strstr(t, "[Unit]\nWants=tcpkeepalive-bpf.service\nAfter=tcpkeepalive-bpf.service\n"));
        CHECK(t && strstr(t, "ExecStartPre=-+/usr/libexec/tcp%%keepalive/tcpkeepalive-bpf-launch attach --unit=%n "
                             "--idle=75 --count=20 --user-timeout=0 --mode=force --direction=inbound\n"));
        CHECK(t && strstr(t, "ExecStopPost=-+/usr/libexec/tcp%%keepalive/tcpkeepalive-bpf-launch detach --unit=%n\n"));
        p.direction = -1;
        p.user_timeout_ms = -1;
        CHECK(t && strstr(t, "Environment=\"TCPKEEPALIVE_METHOD=bpf\"\n"));
        CHECK(t && !strstr(t, "BPFProgram="));
        free(t);
        p.method = KA_METHOD_AUTO;
        t = ka_dropin_render("crm.service", &p, "x.ini", &setup);
        CHECK(t && strstr(t, "LD_PRELOAD=/usr/lib/libtcpkeepalive.so"));
        CHECK(t && strstr(t, "attach --unit=%n --auto --idle=75 --count=20 --mode=force\n") &&
              !strstr(t, "BPFProgram="));
        free(t);
        /* Built without BPF: auto falls back to the preload; bpf gets nothing to run. */
        setup.bpf_helper = NULL;
        t = ka_dropin_render("crm.service", &p, "x.ini", &setup);
        CHECK(t && strstr(t, "LD_PRELOAD=") && !strstr(t, "ExecStartPre") && !strstr(t, "BPFProgram"));
        free(t);
        ka_params_done(&p);
}

/* A rule file its reader may not open (tcpkeepalivectl verify run by a
 * user; a 0600 file): reported by name with the reason, the other rules
 * still load. Run as nobody in a child when we are root. */
static void test_unreadable(void) {
        const char *dirs[] = { "/etc/k2", NULL };
        pid_t pid;
        int st;

        mkdirs("/etc/k2");
        write_file("/etc/k2/10-secret.ini", "[Match]\nUnit=secret\n");
        write_file("/etc/k2/20-good.ini", "[Match]\nUnit=good\n");
        chmod(at("/etc/k2/10-secret.ini"), 0600);
        /* Loaded by a user, it is shown; the generator (root) would refuse it. */
        write_file("/etc/k2/30-nobodys.ini", "[Match]\nUnit=nobodys\n");
        chmod(at("/etc/k2/30-nobodys.ini"), 0664);
        if (geteuid() == 0)
                CHECK(chown(at("/etc/k2/30-nobodys.ini"), 65534, 65534) == 0);
        chmod(root, 0755);
        pid = fork();
        if (pid == 0) {
                struct ka_ruleset rs;
                const struct ka_diag *d;
                if (geteuid() == 0 &&
                    (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
                        _exit(2);
                ka_ruleset_init(&rs);
                CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
                CHECK(find_rule(&rs, "20-good.ini") != NULL);
                CHECK(!find_rule(&rs, "10-secret.ini"));
                d = find_diag(&rs, "/etc/k2/10-secret.ini", 0);
                CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "Permission denied"));
                CHECK(find_rule(&rs, "30-nobodys.ini") != NULL);
                d = find_diag(&rs, "/etc/k2/30-nobodys.ini", 0);
                CHECK(d && d->level == KA_DIAG_WARNING &&
                      strstr(d->message, "the generator (run as root) refuses this file") && strstr(d->message, "mode 0664"));
                ka_ruleset_done(&rs);
                _exit(failures ? 1 : 0);
        }
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        chmod(root, 0700);
}

/* Issue 12, item 2: no byte of a name may end a line of a unit file, and
 * only root may be able to change what the loader reads (the file, the
 * link to it, the directories on the way). */
static void test_names_and_trust(void) {
        const char *dirs[] = { "/etc/k3", NULL };
        const char *evil = "/etc/k3/a\nExecStartPre=+sh -c id>x\n#.ini";
        const struct ka_diag *d;
        struct ka_ruleset rs;
        struct ka_params p;
        char path[512], target[512];
        char *t;

        mkdirs("/etc/k3");
        mkdirs("/srv/nobody");
        write_file(evil, "[Match]\nUnit=evil\n");
        write_file("/etc/k3/20-escape.ini", "[Match]\nUnit=esc\n[KeepAlive]\nMode=\x1b[31mforce\n");
        write_file("/etc/k3/30-good.ini", "[Match]\nUnit=good *\n");
        write_file("/etc/k3/35-own.ini", "[Match]\nUnit=tcpkeepalived.service\n");
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        CHECK(find_rule(&rs, "30-good.ini") != NULL);
        CHECK(rs.n_rules == 2); /* 30-good and 35-own */
        /* the name is shown escaped, never raw */
        d = find_diag(&rs, "/etc/k3/a\\x0aExecStartPre=+sh -c id>x\\x0a#.ini", 0);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "control character"));
        for (size_t i = 0; i < rs.n_diags; i++)
                CHECK(!strchr(rs.diags[i].path, '\n') && !strchr(rs.diags[i].message, '\x1b') &&
                      (!rs.diags[i].value || !strchr(rs.diags[i].value, '\x1b')));
        d = find_diag(&rs, "/etc/k3/20-escape.ini", 4);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "control character"));
        /* Unit=* never reaches our own units; naming one is a warning */
        CHECK(ka_ruleset_match(&rs, "memcached.service", NULL) != NULL);
        CHECK(ka_ruleset_match(&rs, "tcpkeepalive-bpf.service", NULL) == NULL);
        CHECK(ka_ruleset_match(&rs, "tcpkeepalived.service", NULL) == NULL);
        CHECK(ka_ruleset_match(&rs, "tcpkeepalive@memcached.service", NULL) == NULL);
        d = find_diag(&rs, "/etc/k3/35-own.ini", 2);
        CHECK(d && d->level == KA_DIAG_WARNING && strstr(d->message, "own units"));
        ka_ruleset_done(&rs);

        /* Shown text: escaped, never cut inside a character or an escape. */
        {
                char out[7];
                t = text_escape("a\nb\xff\\\xc3\xa9");
                CHECK_STR(t, "a\\x0ab\\xff\\\\\xc3\xa9");
                free(t);
                text_escape_to(out, sizeof(out), "abcde\xc3\xa9");
                CHECK_STR(out, "abcde");
                text_escape_to(out, sizeof(out), "abcd\x1b");
                CHECK_STR(out, "abcd");
                text_escape_to(out, sizeof(out), "ab\xc3\xa9" "cd");
                CHECK_STR(out, "ab\xc3\xa9" "cd");
                CHECK(text_is_printable("caf\xc3\xa9") && !text_is_printable("\xc2\x85") &&
                      !text_is_printable("\xed\xa0\x80") && !text_is_printable("\xc0\xaf") &&
                      !text_is_printable("a\tb") && text_line_is_printable("a\tb"));
        }

        /* The drop-in renderer refuses what the loader missed. */
        ka_params_init(&p);
        struct ka_dropin_setup setup = { .library = "/usr/lib/libtcpkeepalive.so" };
        errno = 0;
        CHECK(!ka_dropin_render("x.service", &p, "/etc/k/a\nExecStartPre=+sh.ini", &setup) && errno == EINVAL);
        (void) strv_push_dup(&p.extra_preload, "/opt/x\r.so");
        CHECK(!ka_dropin_render("x.service", &p, "/etc/k/a.ini", &setup));
        ka_params_done(&p);
        t = ka_dropin_render("x.service", &p, "/etc/k/a.ini", &setup);
        CHECK(t != NULL);
        free(t);

        if (geteuid() != 0) {
                fprintf(stderr, "test_names_and_trust: not root: ownership checks not run\n");
                return;
        }
        /* A link owned by someone else; a root link to a file in someone
         * else's directory; a directory others can write. */
        write_file("/etc/k3/40-target.ini.real", "[Match]\nUnit=linked\n");
        snprintf(path, sizeof(path), "%s/etc/k3/40-userlink.ini", root);
        snprintf(target, sizeof(target), "%s/etc/k3/40-target.ini.real", root);
        CHECK(symlink(target, path) == 0 && lchown(path, 65534, 65534) == 0);
        write_file("/srv/nobody/50.ini", "[Match]\nUnit=theirs\n");
        snprintf(target, sizeof(target), "%s/srv/nobody", root);
        CHECK(chown(target, 65534, 65534) == 0);
        snprintf(path, sizeof(path), "%s/etc/k3/50-viadir.ini", root);
        snprintf(target, sizeof(target), "%s/srv/nobody/50.ini", root);
        CHECK(symlink(target, path) == 0);
        snprintf(path, sizeof(path), "%s/etc/k3/60-rootlink.ini", root);
        snprintf(target, sizeof(target), "%s/etc/k3/40-target.ini.real", root);
        CHECK(symlink(target, path) == 0);
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        CHECK(!find_rule(&rs, "40-userlink.ini"));
        d = find_diag(&rs, "/etc/k3/40-userlink.ini", 0);
        CHECK(d && strstr(d->message, "is owned by uid 65534, not root"));
        CHECK(!find_rule(&rs, "50-viadir.ini"));
        d = find_diag(&rs, "/etc/k3/50-viadir.ini", 0);
        CHECK(d && strstr(d->message, "/srv/nobody can be changed by someone other than root"));
        CHECK(find_rule(&rs, "60-rootlink.ini") != NULL);
        ka_ruleset_done(&rs);

        /* A chain whose middle link is someone else's (the review: realpath
         * checked only the ends), for a file and for a rule directory. */
        snprintf(path, sizeof(path), "%s/srv/chain.ini", root);
        snprintf(target, sizeof(target), "%s/etc/k3/40-target.ini.real", root);
        CHECK(symlink(target, path) == 0 && lchown(path, 65534, 65534) == 0);
        snprintf(target, sizeof(target), "%s/etc/k3/70-chain.ini", root);
        CHECK(symlink(path, target) == 0);
        mkdirs("/etc/k4real");
        write_file("/etc/k4real/10-x.ini", "[Match]\nUnit=x\n");
        snprintf(path, sizeof(path), "%s/srv/dirlink", root);
        snprintf(target, sizeof(target), "%s/etc/k4real", root);
        CHECK(symlink(target, path) == 0 && lchown(path, 65534, 65534) == 0);
        snprintf(target, sizeof(target), "%s/etc/k4", root);
        CHECK(symlink(path, target) == 0);
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        CHECK(!find_rule(&rs, "70-chain.ini"));
        d = find_diag(&rs, "/etc/k3/70-chain.ini", 0);
        CHECK(d && strstr(d->message, "srv/chain.ini is owned by uid 65534, not root"));
        ka_ruleset_done(&rs);
        {
                const char *dirs4[] = { "/etc/k4", NULL };
                ka_ruleset_init(&rs);
                CHECK(ka_ruleset_load_dirs(&rs, root, dirs4) == 0);
                CHECK(rs.n_rules == 0);
                d = find_diag(&rs, "/etc/k4/10-x.ini", 0);
                CHECK(d && strstr(d->message, "srv/dirlink is owned by uid 65534, not root"));
                ka_ruleset_done(&rs);
        }

        snprintf(path, sizeof(path), "%s/etc/k3", root);
        CHECK(chmod(path, 01777) == 0);
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        CHECK(rs.n_rules == 0);
        d = find_diag(&rs, "/etc/k3/30-good.ini", 0);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "k3 can be changed by someone other than root") &&
              strstr(d->message, "mode 1777"));
        ka_ruleset_done(&rs);
        CHECK(chmod(path, 0755) == 0);
}

/* The one matching test (ka_unit_matches) the generator, the daemon and
 * verify share, as a table; then through a rule set, where the file that
 * sorts last wins whether it names the instance, a glob or the template. */
static void test_matching(void) {
        static const struct {
                const char *pattern, *unit;
                bool match;
        } table[] = {
                /* exact */
                { "web.service", "web.service", true },
                { "web.service", "web2.service", false },
                { "wk@1.service", "wk@1.service", true },
                { "wk@1.service", "wk@2.service", false },
                { "wk@1.service", "wk@.service", false },
                /* glob */
                { "web*.service", "web2.service", true },
                { "web[0-9].service", "web7.service", true },
                { "web[!0-9].service", "web7.service", false },
                { "wk@*.service", "wk@1.service", true },
                { "wk@*.service", "wk@.service", true },
                { "wk@?*.service", "wk@.service", false },
                /* a named template reaches its instances (issue 14 item 6) */
                { "wk@.service", "wk@.service", true },
                { "wk@.service", "wk@1.service", true },
                { "wk@.service", "wk@a-b:c.service", true },
                { "wk@.service", "wk@1@2.service", true },
                { "wk@.service", "wk.service", false },
                { "wk@.service", "wkx@1.service", false },
                { "wk@.service", "xwk@1.service", false },
                { "w@.service", "wk@1.service", false },
                /* a glob that matches the template reaches them too */
                { "w?@.service", "wk@1.service", true },
                { "*@.service", "wk@1.service", true },
                { "*@.service", "web.service", false },
                /* an instance pattern never reaches the template or others */
                { "wk@1*.service", "wk@.service", false },
                { "wk@1*.service", "wk@2.service", false },
        };
        const char *dirs[] = { "/m", NULL };
        const struct ka_rule *r, *over;
        struct ka_ruleset rs;

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                bool got = ka_unit_matches(table[i].pattern, table[i].unit);
                checks++;
                if (got != table[i].match) {
                        failures++;
                        fprintf(stderr, "%s:%d: FAILED: ka_unit_matches(\"%s\", \"%s\") is %s\n", __FILE__, __LINE__,
                                table[i].pattern, table[i].unit, got ? "true" : "false");
                }
        }

        mkdirs("/m");
        write_file("/m/10-inst.ini", "[Match]\nUnit=wk@1.service\n[KeepAlive]\nIdleSec=10\n");
        write_file("/m/20-tmpl.ini", "[Match]\nUnit=wk@.service\n[KeepAlive]\nIdleSec=20\n");
        write_file("/m/30-glob.ini", "[Match]\nUnit=wk@3*.service\n[KeepAlive]\nIdleSec=30\n");
        write_file("/m/40-tmpl.ini", "[Match]\nUnit=ot@.service\n[KeepAlive]\nIdleSec=40\n");
        write_file("/m/50-inst.ini", "[Match]\nUnit=ot@5.service\n[KeepAlive]\nIdleSec=50\n");
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0);
        CHECK(rs.n_rules == 5);
        /* the template's rule sorts after the instance's: it wins */
        r = ka_ruleset_match(&rs, "wk@1.service", &over);
        CHECK(r && strcmp(r->name, "20-tmpl.ini") == 0 && over && strcmp(over->name, "10-inst.ini") == 0);
        r = ka_ruleset_match(&rs, "wk@2.service", &over);
        CHECK(r && strcmp(r->name, "20-tmpl.ini") == 0 && over == NULL);
        r = ka_ruleset_match(&rs, "wk@.service", &over);
        CHECK(r && strcmp(r->name, "20-tmpl.ini") == 0 && over == NULL);
        r = ka_ruleset_match(&rs, "wk@33.service", &over);
        CHECK(r && strcmp(r->name, "30-glob.ini") == 0 && over && strcmp(over->name, "20-tmpl.ini") == 0);
        /* the instance's rule sorts after the template's: it wins there only */
        r = ka_ruleset_match(&rs, "ot@5.service", &over);
        CHECK(r && strcmp(r->name, "50-inst.ini") == 0 && over && strcmp(over->name, "40-tmpl.ini") == 0);
        r = ka_ruleset_match(&rs, "ot@6.service", &over);
        CHECK(r && strcmp(r->name, "40-tmpl.ini") == 0 && over == NULL);
        CHECK(ka_ruleset_match(&rs, "ot.service", NULL) == NULL);
        CHECK(ka_ruleset_match(&rs, "wkx@1.service", NULL) == NULL);
        ka_ruleset_done(&rs);
}

/* Aliases (issue 14 item 10): read from unit file links, resolved through
 * chains; a rule naming any name of a unit matches it, the last file wins. */
static void test_aliases(void) {
        const char *udirs[] = { "/a/etc", "/a/lib", NULL }, *rdirs[] = { "/a/rules", NULL };
        struct unit_aliases a;
        struct ka_ruleset rs;
        const struct ka_rule *r, *over;
        char **names;

        mkdirs("/a/etc");
        mkdirs("/a/lib");
        mkdirs("/a/rules");
        write_file("/a/lib/real.service", "");
        CHECK(symlink("/a/lib/real.service", at("/a/etc/alias.service")) == 0);
        CHECK(symlink("alias.service", at("/a/etc/alias2.service")) == 0);     /* a chain */
        CHECK(symlink("../lib/real.service", at("/a/etc/real.service")) == 0); /* same name: no alias */
        CHECK(symlink("/dev/null", at("/a/etc/masked.service")) == 0);
        CHECK(symlink("loop2.service", at("/a/etc/loop1.service")) == 0);
        CHECK(symlink("loop1.service", at("/a/etc/loop2.service")) == 0);
        write_file("/a/etc/shadow.service", "");                            /* /a/etc decides the name */
        CHECK(symlink("real.service", at("/a/lib/shadow.service")) == 0);
        unit_aliases_init(&a);
        CHECK(unit_aliases_load(&a, root, udirs) == 0);
        CHECK_STR(unit_aliases_resolve(&a, "alias.service"), "real.service");
        CHECK_STR(unit_aliases_resolve(&a, "alias2.service"), "real.service");
        CHECK(unit_aliases_resolve(&a, "real.service") == NULL);
        CHECK(unit_aliases_resolve(&a, "masked.service") == NULL);
        CHECK(unit_aliases_resolve(&a, "loop1.service") == NULL);
        CHECK(unit_aliases_resolve(&a, "shadow.service") == NULL);
        names = unit_aliases_names(&a, "real.service");
        CHECK(names && strv_length(names) == 3 && strcmp(names[0], "real.service") == 0 &&
              strv_contains(names, "alias.service") && strv_contains(names, "alias2.service"));

        write_file("/a/rules/10-real.ini", "[Match]\nUnit=real\n[KeepAlive]\nIdleSec=10\n");
        write_file("/a/rules/90-alias.ini", "[Match]\nUnit=alias\n[KeepAlive]\nIdleSec=90\n");
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, rdirs) == 0);
        r = ka_ruleset_match_names(&rs, (const char *const *) names, &over);
        CHECK(r && strcmp(r->name, "90-alias.ini") == 0 && over && strcmp(over->name, "10-real.ini") == 0);
        r = ka_ruleset_match(&rs, "real.service", &over); /* by one name alone */
        CHECK(r && strcmp(r->name, "10-real.ini") == 0 && over == NULL);
        ka_ruleset_done(&rs);
        strv_free(names);
        unit_aliases_done(&a);
}

int main(void) {
        char cmd[64];

        if (!mkdtemp(root)) {
                perror("mkdtemp");
                return 2;
        }
        test_timespan();
        test_unit_names();
        test_layering_and_diagnostics();
        test_dropin();
        test_unreadable();
        test_names_and_trust();
        test_matching();
        test_out_of_range();
        test_spans_rounded();
        test_rule_dirs();
        test_aliases();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", root);
        printf("%d checks, %d failed\n", checks, failures);
        return failures ? 1 : 0;
}
