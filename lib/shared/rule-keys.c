/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The keys of a rule file: one table (section, name, parser, whether it may
 * repeat) drives parsing, duplicate detection and the "known:" lists of
 * the diagnostics. What each value may be is checked here.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include "rule-parser.h"
#include "strv.h"
#include "timespan.h"
#include "unit-name.h"

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
                        P_WARNING(p, kv, "'%s' is one of tcp-keepalive's own units, which no rule ever applies to", n);
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

/* ---- the keys ------------------------------------------------------------- */

/* One key's parser: the value into the rule, problems as diags. Returns
 * -ENOMEM (the file is given up) or 0. */
typedef int key_parser(struct parser *p, const char *kv, const char *key, const char *value);

static int key_unit(struct parser *p, const char *kv, const char *key, const char *value) {
        (void) key;
        p->has_match = true;
        return parse_units(p, kv, value) == -ENOMEM ? -ENOMEM : 0;
}

static int key_path_list(struct parser *p, const char *kv, const char *key, const char *value) {
        return parse_path_list(p, kv, key, value) == -ENOMEM ? -ENOMEM : 0;
}

static int key_idle(struct parser *p, const char *kv, const char *key, const char *value) {
        (void) key;
        (void) parse_seconds(p, kv, value, KA_IDLE_MAX, &p->rule.params.idle_sec);
        return 0;
}

static int key_interval(struct parser *p, const char *kv, const char *key, const char *value) {
        (void) key;
        (void) parse_seconds(p, kv, value, KA_INTERVAL_MAX, &p->rule.params.interval_sec);
        return 0;
}

static int key_count(struct parser *p, const char *kv, const char *key, const char *value) {
        unsigned n;
        (void) key;
        if (ka_parse_uint(value, 1, KA_COUNT_MAX, &n) < 0)
                P_ERROR(p, kv, "want a number of probes in the kernel's range 1..%u", KA_COUNT_MAX);
        else
                p->rule.params.count = (int) n;
        return 0;
}

static int key_user_timeout(struct parser *p, const char *kv, const char *key, const char *value) {
        uint64_t usec;
        int r = timespan_parse(value, &usec);
        (void) key;
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
                        p->rule.params.user_timeout_ms = (int64_t) ms;
        }
        return 0;
}

static int key_path_idle_timeout(struct parser *p, const char *kv, const char *key, const char *value) {
        int t;
        (void) key;
        if (parse_seconds_in(p, kv, value, "the range", KA_PATH_TIMEOUT_MIN, KA_PATH_TIMEOUT_MAX, &t) == 0) {
                if ((unsigned) t < KA_PATH_TIMEOUT_MIN)
                        P_ERROR(p, kv, "a path that forgets connections idle for less than %us "
                                       "cannot be kept open by keepalive (want %us..%us)",
                                KA_PATH_TIMEOUT_MIN, KA_PATH_TIMEOUT_MIN, KA_PATH_TIMEOUT_MAX);
                else
                        p->rule.params.path_idle_timeout_sec = t;
        }
        return 0;
}

static int key_mode(struct parser *p, const char *kv, const char *key, const char *value) {
        enum ka_mode m;
        (void) key;
        if (ka_parse_mode(value, &m) < 0)
                P_ERROR(p, kv, "want default, force or off");
        else
                p->rule.params.mode = m;
        return 0;
}

static int key_direction(struct parser *p, const char *kv, const char *key, const char *value) {
        enum ka_direction d;
        (void) key;
        if (ka_parse_direction(value, &d) < 0)
                P_ERROR(p, kv, "want both, inbound or outbound");
        else
                p->rule.params.direction = d;
        return 0;
}

static int key_method(struct parser *p, const char *kv, const char *key, const char *value) {
        enum ka_method m;
        (void) key;
        if (ka_parse_method(value, &m) < 0)
                P_ERROR(p, kv, "want auto, preload or bpf");
        else
                p->rule.params.method = m;
        return 0;
}

static int key_restart(struct parser *p, const char *kv, const char *key, const char *value) {
        (void) key;
        if (strcmp(value, "no") == 0)
                p->rule.params.restart = KA_RESTART_NO;
        else if (strcmp(value, "try") == 0)
                p->rule.params.restart = KA_RESTART_TRY;
        else
                P_ERROR(p, kv, "want no or try");
        return 0;
}

static int key_extra_preload(struct parser *p, const char *kv, const char *key, const char *value) {
        (void) key;
        return parse_preload_list(p, kv, value, &p->rule.params.extra_preload) == -ENOMEM ? -ENOMEM : 0;
}

/* The sections, in the order "known:" lists them; [Match] only in a rule
 * file (defaults.conf applies to every rule). */
static const struct section_def {
        const char *name;
        bool rule_only;
} sections[] = {
        { "Match", true },
        { "KeepAlive", false },
        { "Service", false },
};

/* Every key: what parses it and whether it may repeat (a list that lines
 * add up to) or is set once; "known:" lists them in this order. */
static const struct key_def {
        const char *section;
        const char *name;
        bool repeats;
        key_parser *parse;
} keys[] = {
        { "Match", "Unit", true, key_unit },
        { "Match", "Destination", true, key_path_list },
        { "Match", "Port", true, key_path_list },
        { "Match", "LocalPort", true, key_path_list },
        { "KeepAlive", "IdleSec", false, key_idle },
        { "KeepAlive", "IntervalSec", false, key_interval },
        { "KeepAlive", "Count", false, key_count },
        { "KeepAlive", "UserTimeoutSec", false, key_user_timeout },
        { "KeepAlive", "PathIdleTimeoutSec", false, key_path_idle_timeout },
        { "KeepAlive", "Mode", false, key_mode },
        { "KeepAlive", "Direction", false, key_direction },
        { "KeepAlive", "Method", false, key_method },
        { "Service", "Restart", false, key_restart },
        { "Service", "ExtraPreload", true, key_extra_preload },
};

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* "A, B, C": the names the table has for section (NULL: the sections a
 * file of this kind may have). */
static void known_names(const struct parser *p, const char *section, char *buf, size_t size) {
        size_t n = 0;
        buf[0] = '\0';
        if (!section) {
                for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                        if (!sections[i].rule_only || p->kind == FILE_RULE)
                                n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? ", " : "",
                                                       sections[i].name);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcmp(keys[i].section, section) == 0)
                        n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? ", " : "", keys[i].name);
}

static const struct section_def *find_section(const struct parser *p, const char *section) {
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (strcmp(sections[i].name, section) == 0)
                        return sections[i].rule_only && p->kind != FILE_RULE ? NULL : &sections[i];
        return NULL;
}

static const struct key_def *find_key(const char *section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, key) == 0)
                        return &keys[i];
        return NULL;
}

int rule_key_handle(void *userdata, const char *section, const char *key, const char *value) {
        struct parser *p = userdata;
        const struct key_def *k;
        char kv[512], known[256];
        size_t kl = strlen(key);

        /* "key\0value" for the diag */
        if (kl + strlen(value) + 2 > sizeof(kv)) {
                P_ERROR(p, NULL, "key or value too long");
                return 1;
        }
        memcpy(kv, key, kl + 1);
        memcpy(kv + kl + 1, value, strlen(value) + 1);

        if (!find_section(p, section)) {
                known_names(p, NULL, known, sizeof(known));
                if (!*section)
                        P_ERROR(p, kv, "key outside any section");
                else
                        P_ERROR(p, kv, "unknown section [%s] (known: %s)", section, known);
                return 1;
        }
        if (!(k = find_key(section, key))) {
                known_names(p, section, known, sizeof(known));
                P_ERROR(p, kv, "unknown key in [%s] (known: %s)", section, known);
                return 1;
        }
        if (!k->repeats && seen_before(p, section, key)) {
                P_ERROR(p, kv, "%s= is set twice in [%s]", key, section);
                return 1;
        }
        return k->parse(p, kv, key, value) == -ENOMEM ? 0 : 1;
}
