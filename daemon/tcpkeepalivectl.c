/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpkeepalivectl: the admin's view of tcp-keepalive.
 *
 *   verify [FILE...]   check rule files offline, like systemd-analyze verify
 *   check UNIT         does UNIT's running process really have keepalive?
 *   status, list, show UNIT, reload, restart UNIT, metrics: ask tcpkeepalived
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "ctl-daemon.h"
#include "dropin.h"
#include "rules.h"
#include "strv.h"
#include "tcp-table.h"
#include "unit-alias.h"
#include "unit-check.h"
#include "unit-name.h"
#include "unit-scan.h"

#ifndef TCPKEEPALIVE_LIBRARY_PATH
#define TCPKEEPALIVE_LIBRARY_PATH "/usr/local/lib/libtcpkeepalive.so"
#endif

/* Exit statuses: scripts can tell "your rules are wrong" from "broken". */
#define EXIT_PROBLEMS CTL_EXIT_PROBLEMS
#define EXIT_USAGE CTL_EXIT_USAGE
#define EXIT_FAILURE_INTERNAL CTL_EXIT_FAILURE

static void help(void) {
        printf("Usage: tcpkeepalivectl [OPTIONS] COMMAND ...\n"
               "Inspect tcp-keepalive rules and the units they apply to.\n"
               "\n"
               "Commands (ask tcpkeepalived):\n"
               "  status               The daemon, rule errors, one line per managed unit\n"
               "  list                 Managed units: state, connections with the rule's values\n"
               "                       out of all established ones, method, rule\n"
               "  show UNIT            UNIT's state and reason, rule, the dead peers keepalive\n"
               "                       caught, and every TCP socket with its keepalive values\n"
               "                       as the kernel reports them\n"
               "  reload               Re-read the rules now (root)\n"
               "  apply UNIT           Apply UNIT's rule to its running processes now, with no\n"
               "                       restart (BPF): established and new connections; a\n"
               "                       service, a scope or a slice. Exit 0 when UNIT is then\n"
               "                       active, 1 when not (with the reason) (root)\n"
               "  restart UNIT         Restart UNIT if it runs, to apply its rule (root)\n"
               "  metrics              Prometheus text format, for node_exporter's textfile collector\n"
               "\n"
               "Commands (offline):\n"
               "  verify [FILE...]     Check rule files (default: every file in the rule\n"
               "                       directories, layered as the generator sees them);\n"
               "                       print every problem with file, line, key and value,\n"
               "                       and the units each rule applies to. Exit 1 on errors.\n"
               "  check UNIT           Without the daemon: whether UNIT's connections carry the rule's\n"
               "                       keepalive values; exit 0 when they do (active), when nothing\n"
               "                       could be found wrong (inactive, excluded, masked, unverified),\n"
               "                       1 otherwise (own-values, no-keepalive, ...: with the reason).\n"
               "\n"
               "Options:\n"
               "      --json           status, list, show: JSON on stdout\n"
               "  -H, --host=[USER@]HOST  ask the daemon on HOST over ssh (like systemctl -H)\n"
               "      --root=DIR       verify: read rule and unit directories below DIR\n"
               "      --wait=SEC       check: give a starting process up to SEC seconds\n"
               "                       to load the library (tcpkeepalive@.service uses it)\n"
               "  -h, --help           show this help\n"
               "      --version        show the version\n"
               "\n"
               "Rule directories, highest priority first:");
        for (size_t i = 0; ka_rule_dirs[i]; i++)
                printf("%s %s", i ? "," : "", ka_rule_dirs[i]);
        printf(".\nSee tcpkeepalivectl(1), keepalived.d(5).\n");
}

static void print_timing(int idle, int interval, int count, int64_t user_timeout_ms) {
        printf("idle=");
        idle > 0 ? printf("%ds", idle) : printf("kernel");
        printf(" interval=");
        interval > 0 ? printf("%ds", interval) : printf("kernel");
        printf(" count=");
        count > 0 ? printf("%d", count) : printf("kernel");
        if (user_timeout_ms > 0)
                printf(" user-timeout=%lldms", (long long) user_timeout_ms);
}

static void print_params(const struct ka_params *p) {
        if (p->mode == KA_MODE_OFF) {
                printf("keepalive off");
                return;
        }
        print_timing(p->idle_sec, p->interval_sec, p->count, p->user_timeout_ms);
        printf(" mode=%s direction=%s", p->mode >= 0 ? ka_mode_to_string(p->mode) : "default",
               p->direction >= 0 ? ka_direction_to_string(p->direction) : "both");
        if (p->restart == KA_RESTART_TRY)
                printf(" restart=try");
        for (char **l = p->extra_preload; l && *l; l++)
                printf(" +preload=%s", *l);
}

/* "to 10.0.0.0/8 !10.1.0.0/16, port 5432, local port 443" */
static void print_path_match(const struct ka_path *m) {
        const char *sep = "";
        if (m->n_destinations) {
                printf("to");
                for (unsigned i = 0; i < m->n_destinations; i++) {
                        char a[INET6_ADDRSTRLEN];
                        const struct ka_prefix *d = &m->destinations[i];
                        inet_ntop(d->family, d->addr, a, sizeof(a));
                        printf(" %s%s/%u", d->exclude ? "!" : "", a, d->len);
                }
                sep = ", ";
        }
        for (int k = 0; k < 2; k++) {
                const struct ka_port_range *r = k ? m->local_ports : m->ports;
                unsigned n = k ? m->n_local_ports : m->n_ports;
                if (!n)
                        continue;
                printf("%s%s", sep, k ? "local port" : "port");
                for (unsigned i = 0; i < n; i++)
                        r[i].first == r[i].last ? printf(" %u", r[i].first) : printf(" %u-%u", r[i].first, r[i].last);
                sep = ", ";
        }
}

/* What the timing does on a path that forgets idle connections after
 * timeout_sec (keepalived.d(5), PathIdleTimeoutSec=). */
static void print_path_verdict(const struct ka_params *p) {
        int t = p->path_idle_timeout_sec;
        long long found;

        if (t <= 0 || p->mode == KA_MODE_OFF)
                return;
        printf("    PathIdleTimeoutSec=%ds: ", t);
        if (p->idle_sec <= 0 || p->interval_sec <= 0 || p->count <= 0) {
                printf("the kernel's defaults are not known here: set IdleSec=, IntervalSec= and Count=\n");
                return;
        }
        found = (long long) p->idle_sec + (long long) p->interval_sec * p->count;
        if (p->user_timeout_ms > 0 && p->user_timeout_ms / 1000 < found)
                found = p->user_timeout_ms / 1000;
        printf("idle %d s, interval %d s, count %d: ", p->idle_sec, p->interval_sec, p->count);
        if (p->idle_sec >= t)
                printf("the path forgets an idle connection at %d s, before the first probe at %d s\n", t, p->idle_sec);
        else
                printf("the path's %d s is never reached; a dead peer is found within %lld s\n", t, found);
}

/* Per unit that path rules reach: which rule applies to which path, as
 * the generator writes it into the unit's drop-in. */
static void print_unit_paths(struct ka_ruleset *rs, const struct unit_aliases *aliases, char **units,
                             char **enabled) {
        for (char **u = units; u && *u; u++) {
                const struct ka_rule *rule = NULL;
                struct ka_params p;
                if (ka_unit_params(rs, aliases, enabled, *u, &p, &rule, NULL) <= 0)
                        continue;
                if (p.n_paths > 0 && p.mode == KA_MODE_OFF) {
                        printf("%s: keepalive off (Mode=off): its rules by path do not apply\n", *u);
                } else if (p.n_paths > 0) {
                        printf("%s: connections by path (the most specific match wins):\n", *u);
                        if (p.paths_left_out)
                                printf("    warning: %zu rules by path reach it, at most %d apply: the %zu that sort "
                                       "first are left out\n",
                                       p.n_paths + p.paths_left_out, KA_PATHS_MAX, p.paths_left_out);
                        for (size_t i = p.n_paths; i-- > 0;) {
                                const struct ka_path *m = &p.paths[i];
                                printf("    ");
                                print_path_match(m);
                                printf(": %s (", p.path_rules[i]);
                                print_timing(m->idle, m->interval, m->count, m->user_timeout);
                                printf(")\n");
                        }
                        printf("    every other connection: ");
                        if (p.paths_only)
                                printf("no keepalive (no rule without Destination=, Port= or LocalPort= reaches it)\n");
                        else {
                                printf("%s (", rule ? rule->name : "systemctl enable tcpkeepalive@UNIT");
                                print_timing(p.idle_sec, p.interval_sec, p.count, p.user_timeout_ms);
                                printf(")\n");
                        }
                }
                ka_params_done(&p);
        }
}

/* The rule the generator applies to the unit name is (or is an alias of):
 * the last matching any name of the unit. */
static const struct ka_rule *winner(struct ka_ruleset *rs, const struct unit_aliases *aliases, const char *name) {
        const char *target = unit_aliases_resolve(aliases, name);
        char **names = unit_aliases_names(aliases, target ? target : name);
        const char *one[] = { name, NULL };
        const struct ka_rule *w = ka_ruleset_match_names(rs, names ? (const char *const *) names : one, NULL);
        strv_free(names);
        return w;
}

/* The units a rule reaches, from the list the generator works from
 * (ka_units_reached): each unit one of its patterns matches under any of
 * its names, with the rule file that wins it where that is another. */
static void print_reach(struct ka_ruleset *rs, const struct unit_aliases *aliases, const struct ka_rule *rule,
                        char **units) {
        bool any = false;
        printf("    applies to:");
        for (char **u = units; u && *u; u++) {
                char **names = unit_aliases_names(aliases, *u);
                const char *one[] = { *u, NULL }, *const *n, *matched = NULL;
                const struct ka_rule *w;
                for (n = names ? (const char *const *) names : one; *n && !matched; n++)
                        for (char **g = rule->units; g && *g && !matched; g++)
                                if (ka_unit_matches(*g, *n))
                                        matched = *n;
                if (matched) {
                        if (strcmp(matched, *u) != 0)
                                printf(" %s (alias of %s)", matched, *u);
                        else
                                printf(" %s", *u);
                        if (!rule->match && (w = winner(rs, aliases, *u)) != rule)
                                printf(" (overridden by %s)", w ? w->name : "?");
                        any = true;
                }
                strv_free(names);
        }
        for (char **g = rule->units; g && *g; g++)
                if ((!unit_name_is_glob(*g) && strstr(*g, "@.service")) || strstr(*g, "@*.service"))
                        printf(" (and every instance of %s)", *g);
        if (!any)
                printf(" no unit found now (globs: %s)", rule->units && rule->units[0] ? rule->units[0] : "");
        printf("\n");
}

static int cmd_verify(const char *root, char **files, int n) {
        struct ka_ruleset rs;
        struct unit_aliases aliases;
        char **units = NULL, **enabled = NULL;
        int r;

        ka_ruleset_init(&rs);
        unit_aliases_init(&aliases);
        if (n > 0) {
                /* The files given, over the defaults.conf the rule
                 * directories give (one of the files may be another). */
                struct ka_ruleset layered;
                ka_ruleset_init(&layered);
                (void) ka_ruleset_load_dirs(&layered, root, ka_rule_dirs);
                if (layered.defaults_path) {
                        (void) ka_params_overlay(&rs.defaults, &layered.defaults);
                        rs.defaults_path = strdup(layered.defaults_path);
                }
                ka_ruleset_done(&layered);
                r = ka_ruleset_load_files(&rs, files, (size_t) n);
        } else
                r = ka_ruleset_load_dirs(&rs, root, ka_rule_dirs);
        if (r < 0) {
                fprintf(stderr, "tcpkeepalivectl: cannot load rules: %s\n", strerror(-r));
                return EXIT_FAILURE_INTERNAL;
        }
        for (size_t i = 0; i < rs.n_diags; i++)
                ka_diag_print(&rs.diags[i], stderr);
        (void) unit_aliases_load(&aliases, root ? root : "", ka_unit_dirs);
        /* What the generator would reach, found as it finds it. */
        ka_units_reached(&rs, &aliases, root ? root : "", &units, &enabled);
        if (rs.defaults_path) {
                /* As a rule gets them: PathIdleTimeoutSec= derived. */
                struct ka_params d;
                ka_params_init(&d);
                (void) ka_params_overlay(&d, &rs.defaults);
                printf("%s: defaults: ", rs.defaults_path);
                print_params(&d);
                printf("\n");
                print_path_verdict(&d);
                ka_params_done(&d);
        }
        for (size_t i = 0; i < rs.n_rules; i++) {
                struct ka_params eff;
                ka_params_init(&eff);
                (void) ka_params_overlay(&eff, &rs.defaults);
                (void) ka_params_overlay(&eff, &rs.rules[i].params);
                printf("%s: ok: ", rs.rules[i].path);
                if (rs.rules[i].match) {
                        printf("path ");
                        print_path_match(rs.rules[i].match);
                        printf(": ");
                        print_timing(eff.idle_sec, eff.interval_sec, eff.count, eff.user_timeout_ms);
                } else
                        print_params(&eff);
                printf("\n");
                print_path_verdict(&eff);
                ka_params_done(&eff);
                print_reach(&rs, &aliases, &rs.rules[i], units);
        }
        print_unit_paths(&rs, &aliases, units, enabled);
        for (char **m = rs.masked; m && *m; m++)
                printf("%s: masked\n", *m);
        for (char **b = rs.broken; b && *b; b++)
                printf("%s: skipped: errors above\n", *b);
        printf("%zu rule(s), %zu error(s), %zu masked\n", rs.n_rules, rs.n_errors, strv_length(rs.masked));
        r = rs.n_errors > 0 ? EXIT_PROBLEMS : 0;
        strv_free(units);
        strv_free(enabled);
        unit_aliases_done(&aliases);
        ka_ruleset_done(&rs);
        return r;
}

static int cmd_check(const char *unit_arg, double wait_sec) {
        struct ka_ruleset rs;
        struct ka_params live_params;
        struct live_rule live;
        int live_found = 0;
        struct unit_check c;
        sd_bus *bus = NULL;
        const char *reason;
        char *unit = unit_glob_normalize(unit_arg, &reason);
        struct timespec start, now;
        int r;

        if (!unit || unit_name_is_glob(unit)) {
                fprintf(stderr, "tcpkeepalivectl: '%s': %s\n", unit_arg, unit ? "a unit name, not a glob" : reason);
                free(unit);
                return EXIT_USAGE;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "tcpkeepalivectl: cannot reach the system bus: %s\n", strerror(-r));
                free(unit);
                return EXIT_FAILURE_INTERNAL;
        }
        /* A scope or slice: no drop-in says which rule covers it; the rules do. */
        ka_params_init(&live_params);
        ka_ruleset_init(&rs);
        if (unit_name_is_scope_or_slice(unit)) {
                (void) ka_ruleset_load_dirs(&rs, "", ka_rule_dirs);
                live_found = live_rule_find(&rs, unit, &live_params, &live);
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct tcp_tables tables = { 0 };
                r = unit_check(bus, unit, TCPKEEPALIVE_LIBRARY_PATH, &tables, NULL, NULL, live_found > 0 ? &live : NULL, &c);
                tcp_tables_done(&tables);
                if (r < 0 || wait_sec <= 0 || (c.state != UNIT_STATE_UNSUPPORTED && !c.main_pid_not_exec))
                        break;
                /* systemd counts a Type=simple service started once it has
                 * forked: the check (tcpkeepalive@.service, After= it) can
                 * find the main PID still systemd's child, setting up the
                 * sandbox before execve, or just exec'd, before ld.so mapped
                 * the preload (unsupported for now). No event says when a
                 * process has exec'd (a pidfd only reports its exit; the
                 * proc connector needs CAP_NET_ADMIN and a netlink socket of
                 * its own): so look again, every 20 ms while it has not
                 * exec'd (that is milliseconds away), every 100 ms while it
                 * is unsupported, never longer than wait_sec in all. */
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((double) (now.tv_sec - start.tv_sec) + (double) (now.tv_nsec - start.tv_nsec) / 1e9 > wait_sec)
                        break;
                usleep(c.main_pid_not_exec ? 20 * 1000 : 100 * 1000);
        }
        sd_bus_unref(bus);
        ka_params_done(&live_params);
        ka_ruleset_done(&rs);
        if (r < 0) {
                fprintf(stderr, "tcpkeepalivectl: %s: %s\n", unit, c.reason[0] ? c.reason : strerror(-r));
                free(unit);
                return EXIT_FAILURE_INTERNAL;
        }
        printf("%s: %s: %s\n", unit, unit_state_to_string(c.state), c.reason);
        /* Run by tcpkeepalive@.service: the verdict becomes the "Status:" line
         * of systemctl status (a no-op anywhere else). */
        (void) sd_notifyf(0, "STATUS=%s: %s: %s", unit, unit_state_to_string(c.state), c.reason);
        if (c.has_dropin)
                printf("  drop-in: %s\n", c.dropin_path);
        if (c.environment[0])
                printf("  settings: %s\n", c.environment);
        free(unit);
        /* Excluded and masked are what the admin asked for, not a fault;
         * unverified found nothing wrong, and says what it could not read. */
        switch (c.state) {
        case UNIT_STATE_ACTIVE:
        case UNIT_STATE_INACTIVE:
        case UNIT_STATE_EXCLUDED:
        case UNIT_STATE_MASKED:
        case UNIT_STATE_UNVERIFIED:
                return 0;
        default:
                return EXIT_PROBLEMS;
        }
}

int main(int argc, char **argv) {
        enum { OPT_ROOT = 0x100, OPT_WAIT, OPT_VERSION, OPT_JSON };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, OPT_JSON },
                { "host", required_argument, NULL, 'H' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "root", required_argument, NULL, OPT_ROOT },
                { "wait", required_argument, NULL, OPT_WAIT },
                {}
        };
        const char *root = NULL, *host = NULL, *cmd;
        double wait_sec = 0;
        bool json = false;
        int c;

        while ((c = getopt_long(argc, argv, "hH:", options, NULL)) >= 0) {
                switch (c) {
                case 'h': help(); return 0;
                case OPT_JSON: json = true; break;
                case 'H': host = optarg; break;
                case OPT_VERSION: printf("tcpkeepalivectl %s\n", PACKAGE_VERSION); return 0;
                case OPT_ROOT: root = optarg; break;
                case OPT_WAIT: {
                        unsigned w;
                        if (ka_parse_uint(optarg, 0, 3600, &w) < 0) {
                                fprintf(stderr, "tcpkeepalivectl: --wait: '%s' is not a number of seconds 0..3600\n", optarg);
                                return EXIT_USAGE;
                        }
                        wait_sec = w;
                        break;
                }
                default:
                        fprintf(stderr, "Try 'tcpkeepalivectl --help'.\n");
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "tcpkeepalivectl: no command given. Try 'tcpkeepalivectl --help'.\n");
                return EXIT_USAGE;
        }
        cmd = argv[optind];
        if (strcmp(cmd, "verify") == 0)
                return cmd_verify(root, argv + optind + 1, argc - optind - 1);
        if (!strcmp(cmd, "status") || !strcmp(cmd, "list") || !strcmp(cmd, "show") || !strcmp(cmd, "reload") ||
            !strcmp(cmd, "restart") || !strcmp(cmd, "metrics") || !strcmp(cmd, "apply")) {
                bool takes_unit = !strcmp(cmd, "show") || !strcmp(cmd, "restart") || !strcmp(cmd, "apply");
                char *unit = NULL;
                sd_bus *bus = NULL;
                int r;
                if (argc - optind != (takes_unit ? 2 : 1)) {
                        fprintf(stderr, "tcpkeepalivectl: %s takes %s\n", cmd, takes_unit ? "one unit name" : "no argument");
                        return EXIT_USAGE;
                }
                if (takes_unit) {
                        const char *why;
                        unit = unit_glob_normalize(argv[optind + 1], &why);
                        if (!unit || unit_name_is_glob(unit)) {
                                fprintf(stderr, "tcpkeepalivectl: '%s': %s\n", argv[optind + 1], unit ? "a unit name, not a glob" : why);
                                free(unit);
                                return EXIT_USAGE;
                        }
                }
                r = host ? sd_bus_open_system_remote(&bus, host) : sd_bus_open_system(&bus);
                if (r < 0) {
                        fprintf(stderr, "tcpkeepalivectl: cannot reach the system bus%s%s: %s\n", host ? " of " : "",
                                host ? host : "", strerror(-r));
                        free(unit);
                        return EXIT_FAILURE_INTERNAL;
                }
                if (!strcmp(cmd, "status"))
                        r = ctl_status(bus, json);
                else if (!strcmp(cmd, "list"))
                        r = ctl_list(bus, json);
                else if (!strcmp(cmd, "show"))
                        r = ctl_show(bus, unit, json);
                else if (!strcmp(cmd, "reload"))
                        r = ctl_call(bus, "Reload", NULL);
                else if (!strcmp(cmd, "restart"))
                        r = ctl_call(bus, "RestartUnit", unit);
                else if (!strcmp(cmd, "apply"))
                        r = ctl_apply(bus, unit);
                else
                        r = ctl_metrics(bus);
                sd_bus_flush_close_unref(bus);
                free(unit);
                return r;
        }
        if (strcmp(argv[optind], "check") == 0) {
                if (argc - optind != 2) {
                        fprintf(stderr, "tcpkeepalivectl: check takes one unit name\n");
                        return EXIT_USAGE;
                }
                return cmd_check(argv[optind + 1], wait_sec);
        }
        fprintf(stderr, "tcpkeepalivectl: unknown command '%s'. Try 'tcpkeepalivectl --help'.\n", argv[optind]);
        return EXIT_USAGE;
}
