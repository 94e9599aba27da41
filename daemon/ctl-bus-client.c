/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpkeepalivectl's bus client: the commands that ask tcpkeepalived (org.tcpkeepalive1):
 * status, list, show, reload, restart, metrics. Plain text when piped,
 * colour and aligned tables on a terminal, --json for scripts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus-api.h"
#include "ctl-bus-client.h"
#include "unit-name.h"


/* A ListUnits/GetUnit row (UNIT_ROW_SIGNATURE); strings point into the message. */
struct unit_row {
        const char *unit, *state, *reason, *rule, *method;
        uint32_t pid, established, rule_values, own_values, without_keepalive, unread;
};

static bool use_colour(void) {
        const char *t = getenv("TERM");
        return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && t && strcmp(t, "dumb") != 0;
}

static const char *state_colour(const char *state) {
        if (!use_colour())
                return "";
        if (strcmp(state, "active") == 0)
                return "\033[0;32m";
        if (strcmp(state, "inactive") == 0 || strcmp(state, "unmanaged") == 0 || strcmp(state, "excluded") == 0 ||
            strcmp(state, "masked") == 0)
                return "";
        return "\033[0;31m"; /* pending-restart, overridden, unsupported, error */
}

static const char *colour_off(void) {
        return use_colour() ? "\033[0m" : "";
}

/* A JSON string, escaped. */
static void json_str(const char *s) {
        putchar('"');
        for (; s && *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static int bus_error(const char *what, sd_bus_error *e, int r) {
        int status = sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS) ? CTL_EXIT_USAGE : CTL_EXIT_FAILURE;
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) || sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                fprintf(stderr, "tcpkeepalivectl: tcpkeepalived is not running (systemctl start tcpkeepalived)\n");
        else if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED))
                fprintf(stderr, "tcpkeepalivectl: %s: access denied (root only)\n", what);
        else
                fprintf(stderr, "tcpkeepalivectl: %s: %s\n", what, e->message ? e->message : strerror(-r));
        sd_bus_error_free(e);
        return status;
}

static int read_unit_row(sd_bus_message *m, struct unit_row *u) {
        return sd_bus_message_read(m, UNIT_ROW_SIGNATURE, &u->unit, &u->state, &u->reason, &u->rule, &u->pid,
                                   &u->established, &u->rule_values, &u->own_values, &u->without_keepalive, &u->unread,
                                   &u->method);
}

static void print_unit_json(const struct unit_row *u) {
        printf("{\"unit\":");
        json_str(u->unit);
        printf(",\"state\":");
        json_str(u->state);
        printf(",\"reason\":");
        json_str(u->reason);
        printf(",\"rule\":");
        json_str(u->rule);
        printf(",\"method\":");
        json_str(u->method);
        printf(",\"pid\":%u,\"established\":%u,\"rule_values\":%u,\"own_values\":%u,\"without_keepalive\":%u,"
               "\"unread\":%u}",
               u->pid, u->established, u->rule_values, u->own_values, u->without_keepalive, u->unread);
}

static void print_unit_line(const struct unit_row *u) {
        printf("%s%-16s%s %-32s %5u/%-5u %-7s %s\n", state_colour(u->state), u->state, colour_off(), u->unit,
               u->rule_values, u->established, u->method, u->rule);
}

static void print_connections(const struct unit_row *u) {
        printf("  connections: %u established: %u with the rule's values, %u with the program's own, %u without "
               "keepalive, %u unread",
               u->established, u->rule_values, u->own_values, u->without_keepalive, u->unread);
        if (u->established > u->rule_values + u->own_values + u->without_keepalive + u->unread)
                printf(", %u left out by Direction=",
                       u->established - (u->rule_values + u->own_values + u->without_keepalive + u->unread));
        printf("\n");
}

/* A GetUnitCloses/ListUnitCloses row (UNIT_CLOSES_SIGNATURE). */
struct closes_row {
        const char *unit, *unavailable;
        uint64_t since, keepalive, user_timeout, retransmit, covered, probes;
        int probes_counted;
};

static int read_closes_row(sd_bus_message *m, struct closes_row *c) {
        return sd_bus_message_read(m, UNIT_CLOSES_SIGNATURE, &c->unit, &c->unavailable, &c->since, &c->keepalive,
                                   &c->user_timeout, &c->retransmit, &c->covered, &c->probes, &c->probes_counted);
}

/* "12:04" today, "2026-12-01 12:04" before. */
static void format_since(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000ULL), now = time(NULL);
        struct tm tm, today;

        if (!localtime_r(&t, &tm) || !localtime_r(&now, &today))
                snprintf(buf, size, "?");
        else if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
                strftime(buf, size, "%H:%M", &tm);
        else
                strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

/* "keepalive detected 3 dead peers since 12:04; ...": never a 0 where
 * nothing was counted. */
static void print_closes_text(const struct closes_row *c, const char *prefix) {
        char since[32];

        if (*c->unavailable) {
                printf("%sdead peers: %s%s%s\n", prefix, state_colour("error"), c->unavailable, colour_off());
                return;
        }
        format_since(c->since, since, sizeof(since));
        printf("%skeepalive detected %llu dead peer%s since %s; closed by TCP_USER_TIMEOUT: %llu, by retransmission "
               "timeout: %llu; %llu connection%s closed with keepalive on; probes sent: ",
               prefix, (unsigned long long) c->keepalive, c->keepalive == 1 ? "" : "s", since,
               (unsigned long long) c->user_timeout, (unsigned long long) c->retransmit,
               (unsigned long long) c->covered, c->covered == 1 ? "" : "s");
        if (c->probes_counted)
                printf("%llu\n", (unsigned long long) c->probes);
        else
                printf("not counted on this kernel\n");
}

static void print_closes_json(const struct closes_row *c) {
        printf("{\"unit\":");
        json_str(c->unit);
        if (*c->unavailable) {
                printf(",\"unavailable\":");
                json_str(c->unavailable);
                printf("}");
                return;
        }
        printf(",\"since_usec\":%llu,\"keepalive\":%llu,\"user_timeout\":%llu,\"retransmit\":%llu,"
               "\"covered\":%llu,\"probes\":",
               (unsigned long long) c->since, (unsigned long long) c->keepalive, (unsigned long long) c->user_timeout,
               (unsigned long long) c->retransmit, (unsigned long long) c->covered);
        if (c->probes_counted)
                printf("%llu}", (unsigned long long) c->probes);
        else
                printf("null}");
}

/* ListUnitCloses, then fn for each row; the rows seen or a negative exit. */
static int for_each_closes(sd_bus *bus, void (*fn)(const struct closes_row *, void *), void *userdata) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        struct closes_row c;
        int r, n = 0;

        r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "ListUnitCloses", &e, &reply, NULL);
        if (r < 0)
                return -bus_error("ListUnitCloses", &e, r);
        r = sd_bus_message_enter_container(reply, 'a', UNIT_CLOSES_SIGNATURE);
        while (r >= 0 && (r = read_closes_row(reply, &c)) > 0) {
                fn(&c, userdata);
                n++;
        }
        sd_bus_message_unref(reply);
        return r < 0 ? -CTL_EXIT_FAILURE : n;
}

static void closes_text(const struct closes_row *c, void *userdata) {
        (void) userdata;
        printf("  %s: ", c->unit);
        print_closes_text(c, "");
}

static void closes_json(const struct closes_row *c, void *userdata) {
        int *first = userdata;
        printf("%s", *first ? "" : ",");
        *first = 0;
        print_closes_json(c);
}

/* ListUnits, then fn for each row; returns the rows seen or a negative exit. */
static int for_each_unit(sd_bus *bus, void (*fn)(const struct unit_row *, void *), void *userdata) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        struct unit_row u;
        int r, n = 0;

        r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "ListUnits", &e, &reply, NULL);
        if (r < 0)
                return -bus_error("ListUnits", &e, r);
        r = sd_bus_message_enter_container(reply, 'a', UNIT_ROW_SIGNATURE);
        while (r >= 0 && (r = read_unit_row(reply, &u)) > 0) {
                fn(&u, userdata);
                n++;
        }
        sd_bus_message_unref(reply);
        return r < 0 ? -CTL_EXIT_FAILURE : n;
}

static void list_json(const struct unit_row *u, void *userdata) {
        int *first = userdata;
        printf("%s", *first ? "" : ",");
        *first = 0;
        print_unit_json(u);
}

static void list_text(const struct unit_row *u, void *userdata) {
        (void) userdata;
        print_unit_line(u);
}

int ctl_list(sd_bus *bus, bool json) {
        int first = 1, n;

        if (json)
                printf("[");
        else
                printf("%-16s %-32s %11s %-7s %s\n", "STATE", "UNIT", "RULE/CONNS", "METHOD", "RULE");
        n = for_each_unit(bus, json ? list_json : list_text, &first);
        if (n < 0)
                return -n;
        if (json)
                printf("]\n");
        else
                printf("\n%d unit(s). RULE/CONNS: established TCP connections with the rule's values / all.\n", n);
        return 0;
}

static int get_props(sd_bus *bus, char **version, uint64_t *reloads, sd_bus_message **rules, sd_bus_message **errors) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if ((r = sd_bus_get_property_string(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "Version", &e, version)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "Reloads", &e, 't', reloads)) < 0 ||
            (r = sd_bus_get_property(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "Rules", &e, rules, "a(sasiiixsss)")) < 0 ||
            (r = sd_bus_get_property(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "Errors", &e, errors, "a(sussss)")) < 0)
                return -bus_error("properties", &e, r);
        return 0;
}

int ctl_status(sd_bus *bus, bool json) {
        sd_bus_message *rules = NULL, *errors = NULL;
        char *version = NULL;
        uint64_t reloads = 0;
        const char *path, *key, *value, *message, *level;
        uint32_t line;
        int r, n_rules = 0, n_errors = 0, first = 1;

        if ((r = get_props(bus, &version, &reloads, &rules, &errors)) < 0)
                return -r;
        r = sd_bus_message_enter_container(rules, 'a', "(sasiiixsss)");
        while (r >= 0 && (r = sd_bus_message_skip(rules, "(sasiiixsss)")) > 0)
                n_rules++;
        if (json) {
                printf("{\"version\":");
                json_str(version);
                printf(",\"reloads\":%llu,\"rules\":%d,\"errors\":[", (unsigned long long) reloads, n_rules);
        } else
                printf("tcpkeepalived %s: %d rule(s), %llu reload(s) of systemd since start\n", version, n_rules,
                       (unsigned long long) reloads);
        r = sd_bus_message_enter_container(errors, 'a', "(sussss)");
        while (r >= 0 && (r = sd_bus_message_read(errors, "(sussss)", &path, &line, &key, &value, &message, &level)) > 0) {
                n_errors++;
                if (json) {
                        printf("%s{\"file\":", n_errors > 1 ? "," : "");
                        json_str(path);
                        printf(",\"line\":%u,\"key\":", line);
                        json_str(key);
                        printf(",\"value\":");
                        json_str(value);
                        printf(",\"message\":");
                        json_str(message);
                        printf(",\"level\":");
                        json_str(level);
                        printf("}");
                } else if (*key)
                        printf("  %s%s:%u: %s: %s=%s: %s%s\n", state_colour("error"), path, line, level, key, value,
                               message, colour_off());
                else
                        printf("  %s%s%s%u: %s: %s%s\n", state_colour("error"), path, line ? ":" : "", line, level,
                               message, colour_off());
        }
        if (json)
                printf("],\"units\":[");
        else
                printf("\n");
        r = for_each_unit(bus, json ? list_json : list_text, &first);
        if (r >= 0) {
                first = 1;
                if (json)
                        printf("],\"closes\":[");
                else
                        printf("\nWhat the kernel's timers closed, per unit (its cgroup and below):\n");
                /* A daemon that cannot answer this (said on stderr) still
                 * gave the status above. */
                (void) for_each_closes(bus, json ? closes_json : closes_text, &first);
        }
        if (json)
                printf("]}\n");
        sd_bus_message_unref(rules);
        sd_bus_message_unref(errors);
        free(version);
        return r < 0 ? -r : (n_errors > 0 ? CTL_EXIT_PROBLEMS : 0);
}

/* Whether systemd knows UNIT: LoadState=not-found is a name with no unit
 * file and nothing running under it (a typo, as often as not). When systemd
 * cannot be asked, the unit is taken to exist: the daemon's answer stands. */
static bool unit_not_found(sd_bus *bus, const char *unit) {
        sd_bus_message *reply = NULL;
        const char *opath;
        char *load_state = NULL;
        bool not_found = false;

        if (sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", NULL, &reply, "s", unit) >= 0 &&
            sd_bus_message_read(reply, "o", &opath) >= 0 &&
            sd_bus_get_property_string(bus, "org.freedesktop.systemd1", opath, "org.freedesktop.systemd1.Unit",
                                       "LoadState", NULL, &load_state) >= 0)
                not_found = strcmp(load_state, "not-found") == 0;
        free(load_state);
        sd_bus_message_unref(reply);
        return not_found;
}

/* show's closes: the row, or why it could not be had (as a row). */
static sd_bus_message *get_closes(sd_bus *bus, const char *unit, struct closes_row *c, char *why, size_t size) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "GetUnitCloses", &e, &reply, "s", unit);

        if (r >= 0 && read_closes_row(reply, c) > 0) {
                sd_bus_error_free(&e);
                return reply;
        }
        snprintf(why, size, "cannot ask tcpkeepalived (GetUnitCloses): %s", e.message ? e.message : strerror(r < 0 ? -r : EBADMSG));
        *c = (struct closes_row) { .unit = unit, .unavailable = why };
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        return NULL;
}

int ctl_show(sd_bus *bus, const char *unit, bool json) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL, *socks = NULL, *closes = NULL;
        struct closes_row cr;
        char closes_why[512];
        struct unit_row u;
        const char *local, *peer, *state, *class, *note, *applied, *path;
        uint32_t pid, fd;
        int ka, idle, intvl, cnt, uto, r, n = 0;

        r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "GetUnit", &e, &reply, "s", unit);
        if (r < 0)
                return bus_error(unit, &e, r);
        if ((r = read_unit_row(reply, &u)) <= 0) {
                sd_bus_message_unref(reply);
                return CTL_EXIT_FAILURE;
        }
        closes = get_closes(bus, unit, &cr, closes_why, sizeof(closes_why));
        r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "GetUnitSockets", &e, &socks, "s", unit);
        if (r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED)) {
                /* What this user may see (state, counts), then why the rest is missing. */
                if (json) {
                        printf("{\"unit\":");
                        print_unit_json(&u);
                        printf(",\"closes\":");
                        print_closes_json(&cr);
                        printf(",\"sockets\":null}\n");
                } else {
                        printf("%s%s%s: %s %s\n", state_colour(u.state), u.unit, colour_off(), u.state, u.reason);
                        printf("  rule: %s\n", *u.rule ? u.rule : "(none)");
                        printf("  method: %s\n", u.method);
                        print_connections(&u);
                        print_closes_text(&cr, "  ");
                }
                fflush(stdout);
                fprintf(stderr, "tcpkeepalivectl: %s: socket detail (PIDs, fds, addresses) needs root: "
                                "run 'tcpkeepalivectl show' as root (%s)\n", u.unit, e.message ? e.message : "access denied");
                sd_bus_error_free(&e);
                sd_bus_message_unref(reply);
                sd_bus_message_unref(closes);
                return CTL_EXIT_FAILURE;
        }
        if (r < 0) {
                sd_bus_message_unref(reply);
                sd_bus_message_unref(closes);
                return bus_error(unit, &e, r);
        }
        if (json) {
                printf("{\"unit\":");
                print_unit_json(&u);
                printf(",\"closes\":");
                print_closes_json(&cr);
                printf(",\"sockets\":[");
        } else {
                printf("%s%s%s: %s %s\n", state_colour(u.state), u.unit, colour_off(), u.state, u.reason);
                printf("  rule: %s\n", *u.rule ? u.rule : "(none)");
                printf("  method: %s\n", u.method);
                print_connections(&u);
                print_closes_text(&cr, "  ");
                printf("\n  %-24s %-24s %-12s %8s %9s %5s %5s %5s %8s %s\n", "LOCAL", "PEER", "STATE", "PID/FD",
                       "KEEPALIVE", "IDLE", "INTVL", "CNT", "UTO(ms)", "VALUES");
        }
        r = sd_bus_message_enter_container(socks, 'a', UNIT_SOCKET_SIGNATURE);
        while (r >= 0 && (r = sd_bus_message_read(socks, UNIT_SOCKET_SIGNATURE, &local, &peer, &state, &pid, &fd, &ka,
                                                  &idle, &intvl, &cnt, &uto, &class, &note, &applied, &path)) > 0) {
                if (json) {
                        printf("%s{\"local\":", n ? "," : "");
                        json_str(local);
                        printf(",\"peer\":");
                        json_str(peer);
                        printf(",\"state\":");
                        json_str(state);
                        printf(",\"pid\":%u,\"fd\":%u,\"keepalive\":%s,\"idle\":%d,\"interval\":%d,\"count\":%d,"
                               "\"user_timeout_ms\":%d,\"values\":",
                               pid, fd, *note ? "null" : ka ? "true" : "false", idle, intvl, cnt, uto);
                        json_str(class);
                        printf(",\"unread\":");
                        json_str(note);
                        printf(",\"applied\":");
                        if (*applied)
                                json_str(applied);
                        else
                                printf("null");
                        printf(",\"path\":");
                        if (*path)
                                json_str(path);
                        else
                                printf("null");
                        printf("}");
                } else if (*note) {
                        /* Never shown as "off" or as no socket: what stopped the reading. */
                        char pf[32];
                        snprintf(pf, sizeof(pf), "%u/%u", pid, fd);
                        printf("  %-24s %-24s %-12s %8s %s%9s%s unread: %s\n", local, peer, state, pf,
                               state_colour("error"), "?", colour_off(), note);
                } else {
                        char pf[32];
                        snprintf(pf, sizeof(pf), "%u/%u", pid, fd);
                        printf("  %-24s %-24s %-12s %8s %s%9s%s %5d %5d %5d %8d %s%s%s", local, peer, state, pf,
                               ka ? state_colour("active") : state_colour("error"), ka ? "on" : "off", colour_off(),
                               idle, intvl, cnt, uto, *class ? class : "-", *applied ? ", " : "", applied);
                        /* Rules by path: the rule this connection is judged by. */
                        if (strcmp(path, "unit") == 0)
                                printf(" (path: the unit's rule)");
                        else if (strcmp(path, "none") == 0)
                                printf(" (path: no rule)");
                        else if (*path)
                                printf(" (path: %s)", path);
                        printf("\n");
                }
                n++;
        }
        if (json)
                printf("]}\n");
        else if (n == 0)
                printf("  (no TCP sockets)\n");
        r = 0;
        if (unit_not_found(bus, u.unit)) { /* u.unit is the name as the daemon completed it */
                fflush(stdout);
                fprintf(stderr, "tcpkeepalivectl: %s: no such unit (systemd has no unit file for it)\n", u.unit);
                r = CTL_EXIT_NO_UNIT;
        }
        sd_bus_message_unref(reply);
        sd_bus_message_unref(socks);
        sd_bus_message_unref(closes);
        return r;
}

int ctl_call(sd_bus *bus, const char *method, const char *unit) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r = unit ? sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, method, &e, &reply, "s", unit)
                     : sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, method, &e, &reply, NULL);
        sd_bus_message_unref(reply);
        if (r < 0)
                return bus_error(method, &e, r);
        return 0;
}

int ctl_apply(sd_bus *bus, const char *unit) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *call = NULL, *reply = NULL;
        const char *result, *state, *reason;
        int r;

        /* The apply is a unit systemd runs: waited for longer than a call. */
        r = sd_bus_message_new_method_call(bus, &call, BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "ApplyUnit");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", unit);
        if (r >= 0)
                r = sd_bus_call(bus, call, 120 * 1000000ULL, &e, &reply);
        sd_bus_message_unref(call);
        if (r < 0)
                return bus_error("ApplyUnit", &e, r);
        r = sd_bus_message_read(reply, "sss", &result, &state, &reason);
        if (r < 0) {
                sd_bus_message_unref(reply);
                return bus_error("ApplyUnit", &e, r);
        }
        printf("%s: %s: %s", unit, state, reason);
        if (strcmp(result, "done") != 0)
                printf(" (the apply: %s; journalctl -u 'tcpkeepalive-apply@*')", result);
        putchar('\n');
        r = strcmp(result, "done") == 0 && (strcmp(state, "active") == 0 || strcmp(state, "-") == 0) ? 0 : CTL_EXIT_PROBLEMS;
        sd_bus_message_unref(reply);
        return r;
}

/* Prometheus text exposition, for node_exporter's textfile collector. The
 * label is name="UNIT", as node_exporter's systemd collector has it, so
 * the two join. Each family is printed whole (HELP, TYPE, then all its
 * samples): a family split in two is rejected by the parser. */
struct metric_row {
        char *name, *state, *method;
        uint32_t v[5]; /* established, rule_values, own_values, without_keepalive, unread */
};

struct metric_rows {
        struct metric_row *v;
        size_t n;
        bool failed;
};

static void collect_metric_row(const struct unit_row *u, void *userdata) {
        struct metric_rows *rows = userdata;
        struct metric_row *grown = realloc(rows->v, (rows->n + 1) * sizeof(*grown));
        if (!grown) {
                rows->failed = true;
                return;
        }
        rows->v = grown;
        grown[rows->n] = (struct metric_row) { strdup(u->unit), strdup(u->state), strdup(u->method),
                                               { u->established, u->rule_values, u->own_values, u->without_keepalive,
                                                 u->unread } };
        if (!grown[rows->n].name || !grown[rows->n].state || !grown[rows->n].method)
                rows->failed = true;
        rows->n++;
}

/* A label value: \, " and newline escaped (the exposition format's rule). */
static void label_value(const char *s) {
        for (; s && *s; s++)
                if (*s == '\\' || *s == '"')
                        printf("\\%c", *s);
                else if (*s == '\n')
                        printf("\\n");
                else
                        putchar(*s);
}

/* The counted units' close counters, for metrics (copied: the reply goes). */
struct closes_rows {
        struct closes_row *v;
        size_t n;
        bool failed;
};

static void collect_closes_row(const struct closes_row *c, void *userdata) {
        struct closes_rows *rows = userdata;
        struct closes_row *grown;

        if (*c->unavailable)
                return; /* absent, not 0: nothing was counted */
        if (!(grown = realloc(rows->v, (rows->n + 1) * sizeof(*grown)))) {
                rows->failed = true;
                return;
        }
        rows->v = grown;
        grown[rows->n] = *c;
        grown[rows->n].unavailable = "";
        if (!(grown[rows->n].unit = strdup(c->unit)))
                rows->failed = true;
        rows->n++;
}

/* Counters, Prometheus style: _total, one family per thing counted, the
 * reason of a death as a label. A unit whose counts are unavailable has
 * no sample (absent is not 0); the counters restart with the unit's cgroup. */
static void print_closes_metrics(const struct closes_rows *rows) {
        static const char *const reasons[] = { "keepalive", "user_timeout", "retransmit" };
        bool probes = false;

        printf("# HELP tcpkeepalive_unit_dead_connections_total Connections of the unit the kernel closed because a "
               "timer ran out: keepalive probes unanswered (keepalive), TCP_USER_TIMEOUT (user_timeout), "
               "retransmissions (retransmit).\n"
               "# TYPE tcpkeepalive_unit_dead_connections_total counter\n");
        for (size_t i = 0; i < rows->n; i++) {
                const uint64_t v[] = { rows->v[i].keepalive, rows->v[i].user_timeout, rows->v[i].retransmit };
                for (size_t k = 0; k < 3; k++) {
                        printf("tcpkeepalive_unit_dead_connections_total{name=\"");
                        label_value(rows->v[i].unit);
                        printf("\",reason=\"%s\"} %llu\n", reasons[k], (unsigned long long) v[k]);
                }
                probes = probes || rows->v[i].probes_counted;
        }
        printf("# HELP tcpkeepalive_unit_keepalive_connections_total Connections of the unit closed with keepalive "
               "on.\n# TYPE tcpkeepalive_unit_keepalive_connections_total counter\n");
        for (size_t i = 0; i < rows->n; i++) {
                printf("tcpkeepalive_unit_keepalive_connections_total{name=\"");
                label_value(rows->v[i].unit);
                printf("\"} %llu\n", (unsigned long long) rows->v[i].covered);
        }
        if (!probes)
                return; /* not counted on this kernel: no family at all */
        printf("# HELP tcpkeepalive_unit_keepalive_probes_total Keepalive probes the kernel sent on the unit's "
               "connections.\n# TYPE tcpkeepalive_unit_keepalive_probes_total counter\n");
        for (size_t i = 0; i < rows->n; i++)
                if (rows->v[i].probes_counted) {
                        printf("tcpkeepalive_unit_keepalive_probes_total{name=\"");
                        label_value(rows->v[i].unit);
                        printf("\"} %llu\n", (unsigned long long) rows->v[i].probes);
                }
}

int ctl_metrics(sd_bus *bus) {
        static const struct {
                const char *name, *help;
        } families[] = {
                { "tcpkeepalive_unit_connections", "Established TCP connections of the unit." },
                { "tcpkeepalive_unit_connections_rule_values",
                  "Established connections that carry keepalive with the rule's values." },
                { "tcpkeepalive_unit_connections_own_values",
                  "Established connections that carry keepalive with values the program set itself." },
                { "tcpkeepalive_unit_connections_without_keepalive",
                  "Established connections the rule covers that carry no keepalive." },
                { "tcpkeepalive_unit_connections_not_inspectable",
                  "Established connections whose keepalive values could not be read." },
        };
        sd_bus_message *rules = NULL, *errors = NULL;
        struct metric_rows rows = { 0 };
        struct closes_rows closes = { 0 };
        char *version = NULL;
        uint64_t reloads = 0;
        int r, n_errors = 0, n;

        if ((r = get_props(bus, &version, &reloads, &rules, &errors)) < 0)
                return -r;
        r = sd_bus_message_enter_container(errors, 'a', "(sussss)");
        while (r >= 0 && (r = sd_bus_message_skip(errors, "(sussss)")) > 0)
                n_errors++;
        n = for_each_unit(bus, collect_metric_row, &rows);
        /* Without them (said on stderr) the other metrics still go out. */
        if (n >= 0)
                (void) for_each_closes(bus, collect_closes_row, &closes);
        if (n >= 0 && (rows.failed || closes.failed)) {
                fprintf(stderr, "tcpkeepalivectl: metrics: out of memory\n");
                n = -CTL_EXIT_FAILURE;
        }
        if (n >= 0) {
                printf("# HELP tcpkeepalive_rule_errors Problems found in the rule files.\n"
                       "# TYPE tcpkeepalive_rule_errors gauge\ntcpkeepalive_rule_errors %d\n", n_errors);
                printf("# HELP tcpkeepalive_reloads_total systemd reloads done by tcpkeepalived.\n"
                       "# TYPE tcpkeepalive_reloads_total counter\ntcpkeepalive_reloads_total %llu\n",
                       (unsigned long long) reloads);
                printf("# HELP tcpkeepalive_managed_units Units with a tcp-keepalive drop-in.\n"
                       "# TYPE tcpkeepalive_managed_units gauge\ntcpkeepalive_managed_units %d\n", n);
                printf("# HELP tcpkeepalive_unit_info Managed units: their state and method.\n"
                       "# TYPE tcpkeepalive_unit_info gauge\n");
                for (size_t i = 0; i < rows.n; i++) {
                        printf("tcpkeepalive_unit_info{name=\"");
                        label_value(rows.v[i].name);
                        printf("\",state=\"");
                        label_value(rows.v[i].state);
                        printf("\",method=\"");
                        label_value(rows.v[i].method);
                        printf("\"} 1\n");
                }
                for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
                        printf("# HELP %s %s\n# TYPE %s gauge\n", families[f].name, families[f].help, families[f].name);
                        for (size_t i = 0; i < rows.n; i++) {
                                printf("%s{name=\"", families[f].name);
                                label_value(rows.v[i].name);
                                printf("\"} %u\n", rows.v[i].v[f]);
                        }
                }
                print_closes_metrics(&closes);
        }
        for (size_t i = 0; i < closes.n; i++)
                free((char *) closes.v[i].unit);
        free(closes.v);
        for (size_t i = 0; i < rows.n; i++) {
                free(rows.v[i].name);
                free(rows.v[i].state);
                free(rows.v[i].method);
        }
        free(rows.v);
        sd_bus_message_unref(rules);
        sd_bus_message_unref(errors);
        free(version);
        return n < 0 ? -n : 0;
}
