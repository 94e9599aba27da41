/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rules.h"
#include "safe-text.h"
#include "strv.h"
#include "timespan.h"
#include "trusted-path.h"
#include "unit-name.h"

#ifndef RULE_DIR_ETC
#define RULE_DIR_ETC "/etc/keepalived.d"
#endif
#ifndef RULE_DIR_LIB
#define RULE_DIR_LIB "/usr/lib/keepalived.d"
#endif

/* Like systemd's unit path: a /usr/local install is searched before the
 * distribution's /usr/lib, and a prefix of /usr lists /usr/lib once. */
/* As systemd reads unit directories: /etc, /run, /usr/local/lib and
 * /usr/lib in every build (a --prefix=/usr package still reads the
 * admin's /usr/local/lib/keepalived.d), and a prefix of its own (/opt/...)
 * between /run and those. */
const char *const ka_rule_dirs[] = {
        RULE_DIR_ETC,
        "/run/keepalived.d",
#ifdef RULE_DIR_LIB_IS_OWN
        RULE_DIR_LIB,
#endif
        "/usr/local/lib/keepalived.d",
        "/usr/lib/keepalived.d",
        NULL,
};

/* Debian's libinih is built with a 200-byte line buffer; we read lines
 * ourselves (to count them) with room for more, and refuse what inih could
 * not hold instead of letting it split a line in two. */
#define READ_LINE_MAX 4096

void ka_params_init(struct ka_params *p) {
        *p = (struct ka_params) {
                .idle_sec = -1, .interval_sec = -1, .count = -1, .user_timeout_ms = -1,
                .mode = -1, .direction = -1, .restart = -1, .method = -1, .path_idle_timeout_sec = -1,
        };
}

void ka_params_done(struct ka_params *p) {
        strv_free(p->extra_preload);
        free(p->paths);
        strv_free(p->path_rules);
        ka_params_init(p);
}

/*
 * The path's idle timeout T is the one number an admin knows (the NAT's,
 * the load balancer's). Probes every 10 s (T/12, at least 1 s, below 120 s),
 * 3 of them; the first after idle = T - probing - 5% of T (at least 1 s),
 * rounded down to 10 s from 100 s on. So the path sees a packet before it
 * forgets the connection (idle < T), and a dead peer is found at idle +
 * interval x count, before T: the connection is closed before the path
 * would have dropped it silently. TCP_USER_TIMEOUT ends there too, so
 * unacknowledged data gives up no later than the probes do.
 */
int ka_path_timing(unsigned timeout_sec, int *idle, int *interval, int *count, int64_t *user_timeout_ms) {
        unsigned iv, probing, margin, id;

        if (timeout_sec < KA_PATH_TIMEOUT_MIN)
                return -ERANGE;
        iv = timeout_sec >= 120 ? 10 : timeout_sec / 12 ? timeout_sec / 12 : 1;
        probing = iv * 3;
        margin = timeout_sec / 20 ? timeout_sec / 20 : 1;
        id = timeout_sec > probing + margin ? timeout_sec - probing - margin : 1;
        if (id >= 100)
                id -= id % 10;
        if (id > KA_IDLE_MAX)
                id = KA_IDLE_MAX;
        *idle = (int) id;
        *interval = (int) iv;
        *count = 3;
        *user_timeout_ms = ((int64_t) id + probing) * 1000;
        return 0;
}

int ka_params_overlay(struct ka_params *a, const struct ka_params *b) {
        if (b->path_idle_timeout_sec >= 0) {
                a->path_idle_timeout_sec = b->path_idle_timeout_sec;
                (void) ka_path_timing((unsigned) b->path_idle_timeout_sec, &a->idle_sec, &a->interval_sec, &a->count,
                                      &a->user_timeout_ms);
                a->user_timeout_derived = true;
        }
        if (b->user_timeout_ms >= 0)
                a->user_timeout_derived = false;
        if (b->idle_sec >= 0) a->idle_sec = b->idle_sec;
        if (b->interval_sec >= 0) a->interval_sec = b->interval_sec;
        if (b->count >= 0) a->count = b->count;
        if (b->user_timeout_ms >= 0) a->user_timeout_ms = b->user_timeout_ms;
        if (b->mode >= 0) a->mode = b->mode;
        if (b->direction >= 0) a->direction = b->direction;
        if (b->restart >= 0) a->restart = b->restart;
        if (b->method >= 0) a->method = b->method;
        /* A derived user timeout ends where the probing ends, whichever
         * layer set IdleSec=, IntervalSec= or Count= (a rule's IdleSec=
         * over a PathIdleTimeoutSec= of defaults.conf too). */
        if (a->user_timeout_derived && a->idle_sec > 0 && a->interval_sec > 0 && a->count > 0) {
                int64_t ms = ((int64_t) a->idle_sec + (int64_t) a->interval_sec * a->count) * 1000;
                a->user_timeout_ms = ms > (int64_t) KA_USER_TIMEOUT_MAX ? (int64_t) KA_USER_TIMEOUT_MAX : ms;
        }
        if (b->extra_preload) {
                char **copy = strv_copy(b->extra_preload);
                if (!copy)
                        return -ENOMEM;
                strv_free(a->extra_preload);
                a->extra_preload = copy;
        }
        return 0;
}

void ka_ruleset_init(struct ka_ruleset *rs) {
        *rs = (struct ka_ruleset) {};
        ka_params_init(&rs->defaults);
}

static void rule_done(struct ka_rule *r) {
        free(r->path);
        free(r->name);
        strv_free(r->units);
        free(r->match);
        ka_params_done(&r->params);
}

void ka_ruleset_done(struct ka_ruleset *rs) {
        for (size_t i = 0; i < rs->n_rules; i++)
                rule_done(&rs->rules[i]);
        free(rs->rules);
        ka_params_done(&rs->defaults);
        free(rs->defaults_path);
        free(rs->root);
        strv_free(rs->masked);
        strv_free(rs->broken);
        for (size_t i = 0; i < rs->n_diags; i++) {
                free(rs->diags[i].path);
                free(rs->diags[i].key);
                free(rs->diags[i].value);
                free(rs->diags[i].message);
        }
        free(rs->diags);
        free(rs->patterns);
        ka_ruleset_init(rs);
}

/* A diag is printed to terminals, logs and D-Bus: a name with control
 * characters or bytes that are not UTF-8 is shown escaped. */
static char *shown(const char *s) {
        return text_is_printable(s) ? strdup(s) : text_escape(s);
}

/* The lists of masked and broken files are shown, never opened. */
static void push_shown(char ***list, const char *path) {
        char *s = shown(path);
        if (s && strv_push(list, s) < 0)
                free(s);
}

__attribute__((format(printf, 6, 7)))
static void diag(struct ka_ruleset *rs, enum ka_diag_level level, const char *path, unsigned line,
                 const char *key_value /* "key\0value" or NULL */, const char *fmt, ...) {
        struct ka_diag *d, *n;
        va_list ap;

        n = realloc(rs->diags, (rs->n_diags + 1) * sizeof(*n));
        if (!n)
                return; /* a lost message is better than a lost rule set */
        rs->diags = n;
        d = &rs->diags[rs->n_diags];
        *d = (struct ka_diag) { .level = level, .line = line, .path = shown(path) };
        if (key_value) {
                d->key = shown(key_value);
                d->value = shown(key_value + strlen(key_value) + 1);
        }
        va_start(ap, fmt);
        if (vasprintf(&d->message, fmt, ap) < 0)
                d->message = NULL;
        va_end(ap);
        if (d->message && !text_is_printable(d->message)) {
                char *m = text_escape(d->message);
                free(d->message);
                d->message = m;
        }
        rs->n_diags++;
        if (level == KA_DIAG_ERROR)
                rs->n_errors++;
}

void ka_diag_print(const struct ka_diag *d, void *file) {
        FILE *f = file;
        fprintf(f, "%s", d->path);
        if (d->line)
                fprintf(f, ":%u", d->line);
        fprintf(f, ": %s: ", d->level == KA_DIAG_ERROR ? "error" : "warning");
        if (d->key)
                fprintf(f, "%s=%s: ", d->key, d->value ? d->value : "");
        fprintf(f, "%s\n", d->message ? d->message : "(out of memory)");
}

/* ---- parsing one file ------------------------------------------------------ */

enum file_kind { FILE_RULE, FILE_DEFAULTS };

struct parser {
        struct ka_ruleset *rs;
        FILE *f;
        const char *path;
        enum file_kind kind;
        unsigned line;
        unsigned errors;
        char section[64];
        bool has_match;
        char **seen; /* "Section/Key" of scalar keys seen, for duplicates */
        struct ka_rule rule;
};

#define P_ERROR(p, kv, ...) \
        do { diag((p)->rs, KA_DIAG_ERROR, (p)->path, (p)->line, kv, __VA_ARGS__); (p)->errors++; } while (0)
#define P_WARNING(p, kv, ...) diag((p)->rs, KA_DIAG_WARNING, (p)->path, (p)->line, kv, __VA_ARGS__)

static bool line_is_blank_or_comment(const char *s) {
        return !*s || *s == '#' || *s == ';' || *s == '\n';
}

/* inih's reader: counts lines, checks what inih would accept silently
 * (an over-long line, "key: value", junk), strips indentation (which inih
 * would take for a continuation line) and trailing comments. A bad line is
 * reported here and handed to inih as a comment. */
static char *read_line(char *out, int size, void *userdata) {
        struct parser *p = userdata;
        char buf[READ_LINE_MAX], *s, *e;
        size_t len;

        bool nul = false, too_long = false;
        int c = EOF;

        /* By hand, not fgets: a NUL byte must be seen, not end the line. */
        len = 0;
        while ((c = getc_unlocked(p->f)) != EOF && c != '\n') {
                if (c == '\0')
                        nul = true;
                if (len < sizeof(buf) - 2)
                        buf[len++] = (char) c;
                else
                        too_long = true;
        }
        if (c == EOF && len == 0 && !nul && !too_long)
                return NULL;
        buf[len] = '\0';
        p->line++;
        if (too_long) {
                P_ERROR(p, NULL, "line longer than %d characters", READ_LINE_MAX - 2);
                goto as_comment;
        }
        if (nul) {
                P_ERROR(p, NULL, "NUL byte in the line (a binary file?)");
                goto as_comment;
        }
        if (len > 0 && buf[len - 1] == '\r') /* a CRLF file */
                buf[--len] = '\0';
        /* A value is copied into unit files, logs and terminals: a control
         * character there could end a line of a unit file or drive a
         * terminal. */
        if (!text_line_is_printable(buf)) {
                P_ERROR(p, NULL, "control character or invalid UTF-8 in the line");
                goto as_comment;
        }
        for (s = buf; *s == ' ' || *s == '\t'; s++)
                ;
        if (line_is_blank_or_comment(s))
                goto as_comment;
        /* "Key=value   # note": systemd has no inline comments, but people write them. */
        for (e = s; *e; e++)
                if ((*e == '#' || *e == ';') && e > s && (e[-1] == ' ' || e[-1] == '\t')) {
                        *e = '\0';
                        break;
                }
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                *--e = '\0';
        if (*s == '[') {
                size_t n = strlen(s);
                if (n < 3 || s[n - 1] != ']') {
                        P_ERROR(p, NULL, "malformed section header '%s'", s);
                        goto as_comment;
                }
        } else {
                char *eq = strchr(s, '=');
                if (!eq || eq == s || (strchr(s, ':') && strchr(s, ':') < eq)) {
                        P_ERROR(p, NULL, "expected Key=value, [Section] or a comment, got '%s'", s);
                        goto as_comment;
                }
        }
        if ((int) strlen(s) + 2 > size) {
                P_ERROR(p, NULL, "line longer than %d characters (split a long list over several lines of its key: "
                                "Unit=, Destination=, Port=, LocalPort= and ExtraPreload= add up)",
                        size - 2);
                goto as_comment;
        }
        snprintf(out, (size_t) size, "%s\n", s);
        return out;
as_comment:
        snprintf(out, (size_t) size, "#\n");
        return out;
}

static bool seen_before(struct parser *p, const char *section, const char *key) {
        char *k;
        bool dup;

        if (asprintf(&k, "%s/%s", section, key) < 0)
                return false;
        dup = strv_contains(p->seen, k);
        if (!dup && strv_push(&p->seen, k) == 0)
                return false;
        free(k);
        return dup;
}

/* Seconds-valued key: a systemd time span, whole seconds, in [1, max]. */
static int parse_seconds_in(struct parser *p, const char *kv, const char *value, const char *range, unsigned min,
                            unsigned max, int *ret) {
        uint64_t usec;
        int r = timespan_parse(value, &usec);
        if (r == -ERANGE) {
                /* A span beyond 64 bits of microseconds is a time span, just
                 * far too long. */
                P_ERROR(p, kv, "out of %s %us..%us", range, min, max);
                return r;
        }
        if (r < 0) {
                P_ERROR(p, kv, "not a time span (examples: 75, 75s, 2min, 1h)");
                return r;
        }
        /* systemd takes "1.5s" and "500ms"; the kernel counts whole seconds:
         * the nearest (at least 1 s), said. */
        if (usec % USEC_PER_SEC != 0) {
                uint64_t rounded = (usec + USEC_PER_SEC / 2) / USEC_PER_SEC * USEC_PER_SEC;
                if (rounded == 0)
                        rounded = USEC_PER_SEC;
                P_WARNING(p, kv, "rounded to %llus: the kernel counts this in whole seconds",
                          (unsigned long long) (rounded / USEC_PER_SEC));
                usec = rounded;
        }
        if (usec < USEC_PER_SEC || usec / USEC_PER_SEC > max) {
                P_ERROR(p, kv, "out of %s %us..%us", range, min, max);
                return -ERANGE;
        }
        *ret = (int) (usec / USEC_PER_SEC);
        return 0;
}

static int parse_seconds(struct parser *p, const char *kv, const char *value, unsigned max, int *ret) {
        return parse_seconds_in(p, kv, value, "the kernel's range", 1, max, ret);
}

/* False only when the library is known to be missing: a path with ld.so's
 * $LIB or $PLATFORM, or one this reader may not look into, is not judged. */
static bool extra_preload_exists(const char *root, const char *path) {
        char full[PATH_MAX];
        struct stat st;

        if (strchr(path, '$'))
                return true;
        if (snprintf(full, sizeof(full), "%s%s", root ? root : "", path) >= (int) sizeof(full))
                return true;
        return stat(full, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

static int parse_preload_list(struct parser *p, const char *kv, const char *value, char ***list) {
        char *copy = strdup(value), *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (w[0] != '/' || strstr(w, "/../") || strstr(w, "/./") || strchr(w, ':') ||
                    strlen(w) >= 4096) {
                        P_ERROR(p, kv, "'%s' is not an absolute path of a library", w);
                        r = -EINVAL;
                        continue;
                }
                /* ld.so prints an error into every process of the unit for a
                 * library it cannot find, and goes on: say it here. Checked
                 * under the root the rules are read from. */
                if (!extra_preload_exists(p->rs->root, w))
                        P_WARNING(p, kv, "'%s' does not exist: ld.so will print an error in every process of the unit",
                                  w);
                if (strv_push_dup(list, w) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        free(copy);
        return r;
}

static int parse_units(struct parser *p, const char *kv, const char *value) {
        char *copy = strdup(value), *save = NULL;
        bool any = false;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                const char *reason = NULL;
                char *n = unit_glob_normalize(w, &reason);
                any = true;
                if (!n) {
                        P_ERROR(p, kv, "'%s': %s", w, reason);
                        continue;
                }
                if (unit_name_is_own(n) && !unit_name_is_glob(n))
                        diag(p->rs, KA_DIAG_WARNING, p->path, p->line, kv,
                             "'%s' is one of tcp-keepalive's own units, which no rule ever applies to", n);
                if (strv_push(&p->rule.units, n) < 0) {
                        free(n);
                        free(copy);
                        return -ENOMEM;
                }
        }
        free(copy);
        if (!any)
                P_ERROR(p, kv, "empty Unit= list");
        return 0;
}

static struct ka_path *rule_match(struct parser *p) {
        if (!p->rule.match) {
                p->rule.match = calloc(1, sizeof(*p->rule.match));
                if (p->rule.match)
                        p->rule.match->idle = p->rule.match->interval = p->rule.match->count =
                                p->rule.match->user_timeout = -1;
        }
        return p->rule.match;
}

/* Destination= (addresses and prefixes, '!' to exclude), Port= and
 * LocalPort= (numbers and ranges): blank-separated lists; lines add up.
 * Returns -ENOMEM or 0 (errors are diags). */
static int parse_path_list(struct parser *p, const char *kv, const char *key, const char *value) {
        struct ka_path *m = rule_match(p);
        bool dst = strcmp(key, "Destination") == 0, local = strcmp(key, "LocalPort") == 0, any = false;

        if (!m)
                return -ENOMEM;
        for (const char *t = value; *t;) {
                size_t n = strcspn(t, " \t");
                int r;
                if (n == 0) {
                        t++;
                        continue;
                }
                any = true;
                if (dst) {
                        struct ka_prefix pf;
                        r = ka_prefix_parse(t, n, true, &pf);
                        if (r == -EDOM) {
                                char net[INET6_ADDRSTRLEN];
                                for (unsigned bit = pf.len; bit < (pf.family == AF_INET ? 32U : 128U); bit++)
                                        pf.addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
                                inet_ntop(pf.family, pf.addr, net, sizeof(net));
                                P_ERROR(p, kv, "'%.*s' has bits set after its /%u prefix (did you mean %s%s/%u?)", (int) n,
                                        t, pf.len, pf.exclude ? "!" : "", net, pf.len);
                        } else if (r == -ERANGE)
                                P_ERROR(p, kv, "'%.*s': the prefix length is out of range (0..32 for IPv4, 0..128 for IPv6)",
                                        (int) n, t);
                        else if (r < 0)
                                P_ERROR(p, kv, "'%.*s' is not an IPv4 or IPv6 address or prefix "
                                               "(examples: 10.0.0.0/8, 2001:db8::/32, 192.0.2.7, !10.1.0.0/16)",
                                        (int) n, t);
                        else if (m->n_destinations >= KA_PATH_DESTINATIONS_MAX) {
                                P_ERROR(p, kv, "more than %d destinations in one rule", KA_PATH_DESTINATIONS_MAX);
                                return 0;
                        } else
                                m->destinations[m->n_destinations++] = pf;
                } else {
                        struct ka_port_range pr;
                        uint8_t *count = local ? &m->n_local_ports : &m->n_ports;
                        r = ka_port_range_parse(t, n, &pr);
                        if (r < 0)
                                P_ERROR(p, kv, "'%.*s' is not a port (1..65535) or a range of them (6000-6010, first <= last)",
                                        (int) n, t);
                        else if (*count >= KA_PATH_PORTS_MAX) {
                                P_ERROR(p, kv, "more than %d ports or ranges in one rule's %s=", KA_PATH_PORTS_MAX, key);
                                return 0;
                        } else
                                (local ? m->local_ports : m->ports)[(*count)++] = pr;
                }
                t += n;
        }
        if (!any)
                P_ERROR(p, kv, "empty %s= list", key);
        return 0;
}

static int handle_key(void *userdata, const char *section, const char *key, const char *value) {
        struct parser *p = userdata;
        struct ka_params *pr = &p->rule.params;
        char kv[512];
        size_t kl = strlen(key);
        unsigned n;

        /* "key\0value" for the diag */
        if (kl + strlen(value) + 2 > sizeof(kv)) {
                P_ERROR(p, NULL, "key or value too long");
                return 1;
        }
        memcpy(kv, key, kl + 1);
        memcpy(kv + kl + 1, value, strlen(value) + 1);

        if (strcmp(section, "Match") == 0 && p->kind == FILE_RULE) {
                if (strcmp(key, "Unit") == 0) {
                        p->has_match = true;
                        return parse_units(p, kv, value) == -ENOMEM ? 0 : 1;
                }
                if (strcmp(key, "Destination") == 0 || strcmp(key, "Port") == 0 || strcmp(key, "LocalPort") == 0)
                        return parse_path_list(p, kv, key, value) == -ENOMEM ? 0 : 1;
                P_ERROR(p, kv, "unknown key in [Match] (known: Unit, Destination, Port, LocalPort)");
                return 1;
        }
        if (strcmp(section, "KeepAlive") == 0) {
                if (strcmp(key, "IdleSec") && strcmp(key, "IntervalSec") && strcmp(key, "Count") &&
                    strcmp(key, "UserTimeoutSec") && strcmp(key, "Mode") && strcmp(key, "Direction") &&
                    strcmp(key, "Method") && strcmp(key, "PathIdleTimeoutSec")) {
                        P_ERROR(p, kv, "unknown key in [KeepAlive] (known: IdleSec, IntervalSec, Count, "
                                       "UserTimeoutSec, PathIdleTimeoutSec, Mode, Direction, Method)");
                        return 1;
                }
                if (seen_before(p, section, key)) {
                        P_ERROR(p, kv, "%s= is set twice in [KeepAlive]", key);
                        return 1;
                }
                if (strcmp(key, "IdleSec") == 0)
                        (void) parse_seconds(p, kv, value, KA_IDLE_MAX, &pr->idle_sec);
                else if (strcmp(key, "IntervalSec") == 0)
                        (void) parse_seconds(p, kv, value, KA_INTERVAL_MAX, &pr->interval_sec);
                else if (strcmp(key, "PathIdleTimeoutSec") == 0) {
                        int t;
                        if (parse_seconds_in(p, kv, value, "the range", KA_PATH_TIMEOUT_MIN, KA_PATH_TIMEOUT_MAX, &t) ==
                            0) {
                                if ((unsigned) t < KA_PATH_TIMEOUT_MIN)
                                        P_ERROR(p, kv, "a path that forgets connections idle for less than %us "
                                                       "cannot be kept open by keepalive (want %us..%us)",
                                                KA_PATH_TIMEOUT_MIN, KA_PATH_TIMEOUT_MIN, KA_PATH_TIMEOUT_MAX);
                                else
                                        pr->path_idle_timeout_sec = t;
                        }
                } else if (strcmp(key, "Count") == 0) {
                        if (ka_parse_uint(value, 1, KA_COUNT_MAX, &n) < 0)
                                P_ERROR(p, kv, "want a number of probes in the kernel's range 1..%u", KA_COUNT_MAX);
                        else
                                pr->count = (int) n;
                } else if (strcmp(key, "UserTimeoutSec") == 0) {
                        uint64_t usec;
                        int r = timespan_parse(value, &usec);
                        if (r == -ERANGE)
                                P_ERROR(p, kv, "out of the kernel's range 0..%ums", KA_USER_TIMEOUT_MAX);
                        else if (r < 0)
                                P_ERROR(p, kv, "not a time span (examples: 0, 90s, 500ms, 5min)");
                        else {
                                uint64_t ms = (usec + USEC_PER_MSEC / 2) / USEC_PER_MSEC;
                                if (usec % USEC_PER_MSEC != 0)
                                        P_WARNING(p, kv, "rounded to %llums: the kernel counts this in whole milliseconds",
                                                  (unsigned long long) ms);
                                if (ms > KA_USER_TIMEOUT_MAX)
                                        P_ERROR(p, kv, "out of the kernel's range 0..%ums", KA_USER_TIMEOUT_MAX);
                                else
                                        pr->user_timeout_ms = (int64_t) ms;
                        }
                } else if (strcmp(key, "Mode") == 0) {
                        enum ka_mode m;
                        if (ka_parse_mode(value, &m) < 0)
                                P_ERROR(p, kv, "want default, force or off");
                        else
                                pr->mode = m;
                } else if (strcmp(key, "Method") == 0) {
                        enum ka_method m;
                        if (ka_parse_method(value, &m) < 0)
                                P_ERROR(p, kv, "want auto, preload or bpf");
                        else
                                pr->method = m;
                } else {
                        enum ka_direction d;
                        if (ka_parse_direction(value, &d) < 0)
                                P_ERROR(p, kv, "want both, inbound or outbound");
                        else
                                pr->direction = d;
                }
                return 1;
        }
        if (strcmp(section, "Service") == 0) {
                if (strcmp(key, "Restart") == 0) {
                        if (seen_before(p, section, key))
                                P_ERROR(p, kv, "Restart= is set twice in [Service]");
                        else if (strcmp(value, "no") == 0)
                                pr->restart = KA_RESTART_NO;
                        else if (strcmp(value, "try") == 0)
                                pr->restart = KA_RESTART_TRY;
                        else
                                P_ERROR(p, kv, "want no or try");
                        return 1;
                }
                if (strcmp(key, "ExtraPreload") == 0)
                        return parse_preload_list(p, kv, value, &pr->extra_preload) == -ENOMEM ? 0 : 1;
                P_ERROR(p, kv, "unknown key in [Service] (known: Restart, ExtraPreload)");
                return 1;
        }
        if (!*section)
                P_ERROR(p, kv, "key outside any section");
        else
                P_ERROR(p, kv, "unknown section [%s] (known: %s)", section,
                        p->kind == FILE_RULE ? "Match, KeepAlive, Service" : "KeepAlive, Service");
        return 1;
}

/* Not cached: a test drops to nobody in a forked child. */
static bool running_as_root(void) {
        return geteuid() == 0;
}

/* A rule file can put a library into the processes of root's services:
 * only root may be able to write it. */
static int check_trust(struct ka_ruleset *rs, const char *path, const struct stat *st) {
        bool foreign = st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH));
        if (foreign && !running_as_root()) {
                /* verify run by a user: nothing to protect, but "ok" would
                 * promise what the generator, run as root, refuses. */
                diag(rs, KA_DIAG_WARNING, path, 0, NULL,
                     "the generator (run as root) refuses this file: someone other than root can write it "
                     "(owner uid %u, mode %04o)",
                     (unsigned) st->st_uid, (unsigned) (st->st_mode & 07777));
                return 0;
        }
        if (foreign) {
                diag(rs, KA_DIAG_ERROR, path, 0, NULL,
                     "refusing a file that someone other than root can write (owner uid %u, mode %04o)",
                     (unsigned) st->st_uid, (unsigned) (st->st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

/* A path rule sets the timing of its connections; what applies to the
 * unit as a whole (the library in its processes, force, direction, the
 * backend, restarts) stays with the unit's own rule. */
static void check_path_rule(struct parser *p) {
        const struct ka_params *pr = &p->rule.params;
        const char *unit_wide = pr->mode >= 0          ? "Mode="
                                : pr->direction >= 0   ? "Direction="
                                : pr->method >= 0      ? "Method="
                                : pr->restart >= 0     ? "Restart="
                                : pr->extra_preload    ? "ExtraPreload="
                                                       : NULL;
        if (!p->rule.match || !unit_wide)
                return;
        diag(p->rs, KA_DIAG_ERROR, p->path, 0, NULL,
             "%s applies to every connection of a unit, but this rule has Destination=, Port= or LocalPort= "
             "and sets the timing of its path only: set %s in a rule without them, or in " KA_DEFAULTS_FILE,
             unit_wide, unit_wide);
        p->errors++;
}

static void warn_semantics(struct parser *p, const struct ka_params *pr) {
        if (pr->path_idle_timeout_sec > 0 && pr->idle_sec >= pr->path_idle_timeout_sec)
                diag(p->rs, KA_DIAG_WARNING, p->path, 0, NULL,
                     "IdleSec=%ds is not below PathIdleTimeoutSec=%ds: the path forgets an idle connection before "
                     "keepalive sends its first probe",
                     pr->idle_sec, pr->path_idle_timeout_sec);
        /* tcp(7): TCP_USER_TIMEOUT overrides keepalive for deciding when to
         * give up, so a shorter one cuts the probing short. */
        if (pr->user_timeout_ms > 0 && pr->idle_sec > 0 && pr->interval_sec > 0 && pr->count > 0) {
                int64_t keepalive_ms = ((int64_t) pr->idle_sec + (int64_t) pr->interval_sec * pr->count) * 1000;
                if (pr->user_timeout_ms < keepalive_ms)
                        diag(p->rs, KA_DIAG_WARNING, p->path, 0, NULL,
                             "UserTimeoutSec=%lldms is shorter than IdleSec + IntervalSec x Count = %llds: "
                             "connections are dropped before keepalive has probed Count times",
                             (long long) pr->user_timeout_ms, (long long) keepalive_ms / 1000);
        }
}

/* Parses one file, given by an O_PATH descriptor of it (trusted_path_open);
 * on success the rule (or the defaults) joins the set. */
static int load_file(struct ka_ruleset *rs, int path_fd, const char *path, const char *name, enum file_kind kind) {
        struct parser p = { .rs = rs, .path = path, .kind = kind };
        struct stat st;
        int fd, r;

        ka_params_init(&p.rule.params);
        /* O_PATH opened nothing: a FIFO or a device is refused unopened. */
        if (fstat(path_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "not a regular file");
                r = -EINVAL;
                goto broken;
        }
        fd = trusted_path_reopen(path_fd);
        if (fd < 0) {
                r = fd;
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot open: %s", strerror(-r));
                goto broken;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot stat: %s", strerror(-r));
                close(fd);
                goto broken;
        }
        if ((r = check_trust(rs, path, &st)) < 0) {
                close(fd);
                goto broken;
        }
        /* The generator reads every rule file at each boot and reload, with
         * systemd's time limit on it: a log or a dump saved here by mistake
         * is refused, not parsed. */
        if (st.st_size > KA_RULE_FILE_MAX) {
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "%lld bytes: rule files are limited to %d bytes",
                     (long long) st.st_size, KA_RULE_FILE_MAX);
                close(fd);
                r = -EFBIG;
                goto broken;
        }
        p.f = fdopen(fd, "r"); /* already O_CLOEXEC: "e" would cost an fcntl */
        if (!p.f) {
                close(fd);
                r = -ENOMEM;
                goto broken;
        }
        r = ini_parse_stream(read_line, &p, handle_key, &p);
        fclose(p.f);
        if (r < 0 || r == -2) {
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot parse: out of memory");
                p.errors++;
        } else if (r > 0 && p.errors == 0) {
                diag(rs, KA_DIAG_ERROR, path, (unsigned) r, NULL, "syntax error");
                p.errors++;
        }
        if (kind == FILE_RULE && !p.has_match) {
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "no [Match] Unit=: the rule would apply to nothing");
                p.errors++;
        }
        strv_free(p.seen);
        check_path_rule(&p);
        if (p.errors > 0) {
                r = -EINVAL;
                goto broken;
        }
        warn_semantics(&p, &p.rule.params);

        if (kind == FILE_DEFAULTS) {
                ka_params_done(&rs->defaults);
                rs->defaults = p.rule.params;
                free(rs->defaults_path);
                rs->defaults_path = strdup(path);
                return 0;
        }
        {
                struct ka_rule *n = realloc(rs->rules, (rs->n_rules + 1) * sizeof(*n));
                if (!n) {
                        r = -ENOMEM;
                        goto broken;
                }
                rs->rules = n;
                rs->indexed = false;
                p.rule.path = strdup(path);
                p.rule.name = strdup(name);
                rs->rules[rs->n_rules++] = p.rule;
        }
        return 0;
broken:
        rule_done(&p.rule);
        push_shown(&rs->broken, path);
        return r;
}

/* ---- layering -------------------------------------------------------------- */

/* The mask is a symlink to /dev/null: compare the device, not the text. */
static bool is_mask(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a > b && strcmp(s + a - b, suffix) == 0;
}

static unsigned trust_flags(void) {
        return running_as_root() ? TRUSTED_PATH_CHECK : 0; /* verify run by a user: nothing to protect */
}

/* One entry: path_fd opened by trusted_path_open, or its -errno and why. A
 * refused file still takes its name: a broken file in /etc must not
 * silently let the one in /usr/lib through. */
static void load_entry(struct ka_ruleset *rs, int path_fd, char *why, const char *path, const char *name) {
        struct stat st;

        if (path_fd == -EPERM)
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "refusing the file: %s",
                     why ? why : "a step on its path can be changed by someone other than root");
        else if (path_fd == -ENOENT)
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "dangling symlink");
        else if (path_fd < 0)
                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot open: %s", strerror(-path_fd));
        else if (fstat(path_fd, &st) == 0 && is_mask(&st)) {
                push_shown(&rs->masked, path);
                close(path_fd);
                return;
        } else {
                (void) load_file(rs, path_fd, path, name,
                                 strcmp(name, KA_DEFAULTS_FILE) == 0 ? FILE_DEFAULTS : FILE_RULE);
                close(path_fd);
                return;
        }
        push_shown(&rs->broken, path);
}

int ka_ruleset_load_dirs(struct ka_ruleset *rs, const char *root, const char *const *dirs) {
        char **names = NULL, **dirpaths = NULL, **distrust = NULL;
        int *dirfds = NULL;
        size_t n_dirs = 0;
        int r = 0;

        if (!root)
                root = "";
        free(rs->root);
        if (!(rs->root = strdup(root)))
                return -ENOMEM;
        for (size_t i = 0; dirs[i]; i++) {
                char *dp;
                if (asprintf(&dp, "%s%s", root, dirs[i]) < 0 || strv_push(&dirpaths, dp) < 0)
                        return -ENOMEM;
                n_dirs++;
        }
        /* Each directory, resolved step by step (O_PATH), and why it is not
         * root's alone (NULL: it is). */
        distrust = calloc(n_dirs + 1, sizeof(char *));
        dirfds = calloc(n_dirs + 1, sizeof(int));
        if (!distrust || !dirfds) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n_dirs; i++) {
                dirfds[i] = trusted_path_open(AT_FDCWD, dirpaths[i], trust_flags() | TRUSTED_PATH_STRICT_LAST,
                                              &distrust[i]);
                if (dirfds[i] == -EPERM && !distrust[i])
                        distrust[i] = strdup("a step on its path can be changed by someone other than root");
        }
        /* Every file name, once, in sorted order. */
        for (size_t i = 0; i < n_dirs; i++) {
                /* Names only (an untrusted directory's names still take their
                 * place); files are opened through dirfds[i] alone. */
                int lfd;
                DIR *d;
                struct dirent *de;
                if (dirfds[i] < 0 && !distrust[i]) {
                        if (dirfds[i] != -ENOENT)
                                diag(rs, KA_DIAG_WARNING, dirpaths[i], 0, NULL, "cannot read directory: %s",
                                     strerror(-dirfds[i]));
                        continue;
                }
                lfd = dirfds[i] >= 0 ? openat(dirfds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                     : open(dirpaths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                d = lfd >= 0 ? fdopendir(lfd) : NULL;
                if (!d) {
                        if (errno != ENOENT)
                                diag(rs, KA_DIAG_WARNING, dirpaths[i], 0, NULL, "cannot read directory: %s",
                                     strerror(errno));
                        if (lfd >= 0)
                                close(lfd);
                        continue;
                }
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        if (!has_suffix(de->d_name, KA_RULE_SUFFIX) && strcmp(de->d_name, KA_DEFAULTS_FILE) != 0)
                                continue;
                        if (strv_push_dup(&names, de->d_name) < 0) {
                                closedir(d);
                                r = -ENOMEM;
                                goto out;
                        }
                }
                closedir(d);
        }
        strv_sort_unique(names); /* each name once, in order */

        for (size_t n = 0; names && names[n]; n++) {
                for (size_t i = 0; i < n_dirs; i++) {
                        struct stat lst;
                        char *path, *why = NULL;
                        if (dirfds[i] < 0 && !distrust[i])
                                continue; /* absent */
                        if (asprintf(&path, "%s/%s", dirpaths[i], names[n]) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                        if (dirfds[i] >= 0 ? fstatat(dirfds[i], names[n], &lst, AT_SYMLINK_NOFOLLOW) < 0
                                           : lstat(path, &lst) < 0) {
                                free(path); /* not in this directory */
                                continue;
                        }
                        if (!text_is_printable(names[n])) {
                                /* Its name would be copied into drop-ins and logs. */
                                diag(rs, KA_DIAG_ERROR, path, 0, NULL,
                                     "refusing a file whose name has a control character or is not UTF-8: rename it");
                                push_shown(&rs->broken, path);
                        } else if (distrust[i]) {
                                diag(rs, KA_DIAG_ERROR, path, 0, NULL, "refusing the file: %s", distrust[i]);
                                push_shown(&rs->broken, path);
                        } else {
                                int fd = trusted_path_open(dirfds[i], names[n], trust_flags(), &why);
                                load_entry(rs, fd, why, path, names[n]);
                                free(why);
                        }
                        free(path);
                        break; /* the highest-priority directory wins the name */
                }
        }
out:
        for (size_t i = 0; distrust && i < n_dirs; i++)
                free(distrust[i]);
        for (size_t i = 0; dirfds && i < n_dirs; i++)
                if (dirfds[i] >= 0)
                        close(dirfds[i]);
        free(distrust);
        free(dirfds);
        strv_free(names);
        strv_free(dirpaths);
        return r;
}

int ka_ruleset_load_files(struct ka_ruleset *rs, char *const *paths, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const char *slash = strrchr(paths[i], '/');
                const char *name = slash ? slash + 1 : paths[i];
                char *why = NULL;
                int fd;

                if (!text_is_printable(paths[i])) {
                        diag(rs, KA_DIAG_ERROR, paths[i], 0, NULL,
                             "refusing a path with a control character or that is not UTF-8: rename it");
                        push_shown(&rs->broken, paths[i]);
                        continue;
                }
                fd = trusted_path_open(AT_FDCWD, paths[i], trust_flags(), &why);
                if (fd == -ENOENT) {
                        diag(rs, KA_DIAG_ERROR, paths[i], 0, NULL, "cannot open: %s", strerror(ENOENT));
                        push_shown(&rs->broken, paths[i]);
                } else
                        load_entry(rs, fd, why, paths[i], name);
                free(why);
        }
        return 0;
}

/* ---- matching -------------------------------------------------------------- */

/* An instance "foo@bar.service" is reached through its template's drop-in
 * (systemd reads foo@.service.d/ for every instance): a pattern that names
 * or matches the template reaches the instance too. */
static bool instance_template(const char *unit, char *buf, unsigned size) {
        return unit_name_template(unit, buf, size) && strcmp(buf, unit) != 0;
}

bool ka_unit_matches(const char *glob, const char *unit) {
        char template[UNIT_NAME_MAX + 1];

        if (fnmatch(glob, unit, FNM_NOESCAPE) == 0)
                return true;
        return instance_template(unit, template, sizeof(template)) &&
               fnmatch(glob, template, FNM_NOESCAPE) == 0;
}

static int cmp_pattern(const void *a, const void *b) {
        const struct ka_pattern *x = a, *y = b;
        size_t n = x->prefix_len < y->prefix_len ? x->prefix_len : y->prefix_len;
        int c = strncmp(x->text, y->text, n);
        return c ? c : (x->prefix_len > y->prefix_len) - (x->prefix_len < y->prefix_len);
}

static int build_index(struct ka_ruleset *rs) {
        size_t n = 0;

        for (size_t i = 0; i < rs->n_rules; i++)
                n += strv_length(rs->rules[i].units);
        free(rs->patterns);
        rs->patterns = calloc(n ? n : 1, sizeof(*rs->patterns));
        if (!rs->patterns)
                return -ENOMEM;
        rs->n_patterns = 0;
        for (size_t i = 0; i < rs->n_rules; i++)
                for (char **g = rs->rules[i].units; g && *g && !rs->rules[i].match; g++)
                        rs->patterns[rs->n_patterns++] = (struct ka_pattern) {
                                .text = *g, .prefix_len = strcspn(*g, "*?["), .rule = i,
                        };
        qsort(rs->patterns, rs->n_patterns, sizeof(*rs->patterns), cmp_pattern);
        rs->indexed = true;
        return 0;
}

/* The first pattern whose literal prefix is >= unit[0, len) in index order. */
static size_t lower_bound(const struct ka_ruleset *rs, const char *unit, size_t len) {
        struct ka_pattern key = { .text = unit, .prefix_len = len };
        size_t lo = 0, hi = rs->n_patterns;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cmp_pattern(&rs->patterns[mid], &key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* The patterns that could match name (whose literal prefix begins it), each
 * tested against unit with ka_unit_matches(); the two latest matching rules
 * are kept in *best and *second. Idempotent: a pattern seen twice changes
 * nothing. */
static void match_candidates(const struct ka_ruleset *rs, const char *name, const char *unit, size_t *best,
                             size_t *second) {
        size_t len = strlen(name);

        /* A pattern can match only if its literal prefix is a prefix of the
         * name: look up each prefix length of the name. */
        for (size_t l = 0; l <= len; l++) {
                for (size_t i = lower_bound(rs, name, l); i < rs->n_patterns; i++) {
                        const struct ka_pattern *p = &rs->patterns[i];
                        if (p->prefix_len != l || strncmp(p->text, name, l) != 0)
                                break;
                        if (p->rule == *best || p->rule == *second || !ka_unit_matches(p->text, unit))
                                continue;
                        /* Keep the two latest rules: the winner and the one it overrides. */
                        if (*best == SIZE_MAX || p->rule > *best) {
                                *second = *best;
                                *best = p->rule;
                        } else if (*second == SIZE_MAX || p->rule > *second)
                                *second = p->rule;
                }
        }
}

const struct ka_rule *ka_ruleset_match(struct ka_ruleset *rs, const char *unit,
                                       const struct ka_rule **ret_overridden) {
        const char *names[] = { unit, NULL };
        return ka_ruleset_match_names(rs, names, ret_overridden);
}

const struct ka_rule *ka_ruleset_match_names(struct ka_ruleset *rs, const char *const *names,
                                             const struct ka_rule **ret_overridden) {
        size_t best = SIZE_MAX, second = SIZE_MAX;

        if (ret_overridden)
                *ret_overridden = NULL;
        for (size_t i = 0; names[i]; i++)
                if (unit_name_is_own(names[i]))
                        return NULL;
        if (!rs->indexed && build_index(rs) < 0)
                return NULL;
        for (size_t i = 0; names[i]; i++) {
                char template[UNIT_NAME_MAX + 1];
                match_candidates(rs, names[i], names[i], &best, &second);
                /* An instance: also the patterns that match its template. */
                if (instance_template(names[i], template, sizeof(template)))
                        match_candidates(rs, template, names[i], &best, &second);
        }
        if (ret_overridden)
                *ret_overridden = second == SIZE_MAX ? NULL : &rs->rules[second];
        return best == SIZE_MAX ? NULL : &rs->rules[best];
}

size_t ka_ruleset_match_paths(struct ka_ruleset *rs, const char *const *names, const struct ka_rule **ret,
                              size_t max) {
        size_t n = 0;

        for (size_t i = 0; names[i]; i++)
                if (unit_name_is_own(names[i]))
                        return 0;
        /* Few path rules per host: each is tried, in file name order. */
        for (size_t r = 0; r < rs->n_rules; r++) {
                bool hit = false;
                if (!rs->rules[r].match)
                        continue;
                for (char **g = rs->rules[r].units; g && *g && !hit; g++)
                        for (size_t i = 0; names[i] && !hit; i++)
                                hit = ka_unit_matches(*g, names[i]);
                if (!hit)
                        continue;
                /* Past max, the earliest give way: the file that sorts
                 * last wins, as between unit rules. */
                if (n >= max && max > 0)
                        memmove(ret, ret + 1, (max - 1) * sizeof(*ret));
                if (max > 0)
                        ret[n < max ? n : max - 1] = &rs->rules[r];
                n++;
        }
        return n;
}
