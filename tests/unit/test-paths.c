/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rules by network path: the contract of lib/shared/keepalive-paths.h (text
 * form, parser, matcher), the [Match] keys and PathIdleTimeoutSec= in rule
 * files (diagnostics to the line), the derivation, how path rules and the
 * unit's own rule combine (ka_unit_params) and the drop-in they give.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "dropin.h"
#include "keepalive-paths.h"
#include "rules.h"
#include "strv.h"
#include "unit-scan.h"

static char root[] = "/tmp/tka-paths-XXXXXX";

static void write_rule(const char *name, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/rules/%s", root, name);
        f = fopen(path, "w");
        if (!f) {
                perror(path);
                exit(2);
        }
        fputs(text, f);
        fclose(f);
        chmod(path, 0644);
}

static const struct ka_diag *find_diag(const struct ka_ruleset *rs, const char *name, unsigned line) {
        for (size_t i = 0; i < rs->n_diags; i++) {
                const char *slash = strrchr(rs->diags[i].path, '/');
                if (slash && strcmp(slash + 1, name) == 0 && rs->diags[i].line == line)
                        return &rs->diags[i];
        }
        return NULL;
}

static struct ka_conn_ends ends(const char *peer, unsigned peer_port, unsigned local_port) {
        struct ka_conn_ends c = { .peer_port = (uint16_t) peer_port, .local_port = (uint16_t) local_port };
        if (inet_pton(AF_INET, peer, c.peer) == 1)
                c.family = AF_INET;
        else if (inet_pton(AF_INET6, peer, c.peer) == 1)
                c.family = AF_INET6;
        return c;
}

static void test_text_form(void) {
        static struct ka_path p, q;
        char text[KA_PATH_TEXT_MAX];
        const char *in = "dst=10.0.0.0/8,!10.1.0.0/16,fd00::/8,192.0.2.7/32;port=5432,6000-6010;lport=443;"
                         "idle=300;interval=10;count=3;user_timeout=330000";

        CHECK(ka_path_parse(in, &p) == 0, "parse %s", in);
        CHECK(p.n_destinations == 4 && p.destinations[1].exclude && p.destinations[2].family == AF_INET6 &&
                      p.destinations[2].len == 8 && p.destinations[3].len == 32,
              "destinations");
        CHECK(p.n_ports == 2 && p.ports[1].first == 6000 && p.ports[1].last == 6010 && p.n_local_ports == 1,
              "ports");
        CHECK(p.idle == 300 && p.interval == 10 && p.count == 3 && p.user_timeout == 330000, "values");
        ka_path_format(&p, text, sizeof(text));
        CHECK(strcmp(text, in) == 0, "round trip: %s", text);
        CHECK(ka_path_parse(text, &q) == 0 && memcmp(&p, &q, sizeof(p)) == 0, "parse of the format");

        /* Written by the generator only: anything else is refused whole. */
        const char *bad[] = { "dst=10.0.0.1/8", "dst=10.0.0.0/33", "dst=300.0.0.0/8", "dst=,", "port=0",
                              "port=70000", "port=10-5", "idle=0", "idle=40000", "count=128", "x=1", "idle=1;idle=2",
                              "idle", "user_timeout=-1", "dst=!", NULL };
        for (const char **b = bad; *b; b++)
                CHECK(ka_path_parse(*b, &q) < 0, "'%s' refused", *b);
        CHECK(ka_path_parse("", &q) == 0 && q.idle == -1 && q.n_destinations == 0, "empty: covers all");
}

static void test_matcher(void) {
        static struct ka_path paths[4];
        struct ka_conn_ends c;

        /* 0: every connection to 10/8 but 10.1/16; 1: 10.1.2/24; 2: port 5432 anywhere; 3: 10/8 port 5432 */
        CHECK(ka_path_parse("dst=10.0.0.0/8,!10.1.0.0/16;idle=1", &paths[0]) == 0, "p0");
        CHECK(ka_path_parse("dst=10.1.2.0/24;idle=2", &paths[1]) == 0, "p1");
        CHECK(ka_path_parse("port=5432;idle=3", &paths[2]) == 0, "p2");
        CHECK(ka_path_parse("dst=10.0.0.0/8;port=5432;idle=4", &paths[3]) == 0, "p3");

        c = ends("10.9.9.9", 80, 0);
        CHECK(ka_paths_match(paths, 4, &c) == 0, "10.9.9.9:80 -> p0");
        c = ends("10.1.3.4", 80, 0);
        CHECK(ka_paths_match(paths, 4, &c) == -1, "excluded 10.1.3.4 -> none");
        c = ends("10.1.2.5", 80, 0);
        CHECK(ka_paths_match(paths, 4, &c) == 1, "the /24 inside the exclusion -> p1");
        c = ends("192.0.2.1", 5432, 0);
        CHECK(ka_paths_match(paths, 4, &c) == 2, "port only -> p2");
        c = ends("10.9.9.9", 5432, 0);
        CHECK(ka_paths_match(paths, 4, &c) == 3, "10/8 and port beats 10/8 alone -> p3");
        c = ends("10.1.2.5", 5432, 0);
        CHECK(ka_paths_match(paths, 4, &c) == 1, "a longer prefix beats a port -> p1");
        c = ends("::1", 5432, 0);
        CHECK(ka_paths_match(paths, 4, &c) == 2, "IPv6 peer, port rule -> p2");
        c = ends("::1", 80, 0);
        CHECK(ka_paths_match(paths, 4, &c) == -1, "IPv6 peer, no rule");
        /* Equal specificity: the later rule (file name order) wins. */
        CHECK(ka_path_parse("dst=10.0.0.0/8;idle=5", &paths[1]) == 0, "p1'");
        c = ends("10.9.9.9", 80, 0);
        CHECK(ka_paths_match(paths, 2, &c) == 1, "tie -> the later");

        /* A dual-stack socket's IPv4-mapped peer is IPv4. */
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(5432) };
        inet_pton(AF_INET6, "::ffff:10.9.9.9", &s6.sin6_addr);
        ka_conn_ends_from(&c, (struct sockaddr *) &s6, sizeof(s6), NULL, 0);
        CHECK(c.family == AF_INET && c.peer_port == 5432 && ka_paths_match(paths, 4, &c) == 3, "mapped -> p3");
        CHECK(ka_path_parse("lport=8000-8999;idle=6", &paths[0]) == 0, "lport");
        c = ends("192.0.2.1", 40000, 8080);
        CHECK(ka_paths_match(paths, 1, &c) == 0, "local port in range");
        c = ends("192.0.2.1", 8080, 9000);
        CHECK(ka_paths_match(paths, 1, &c) == -1, "local port out of range (the peer's port does not count)");
        c = ends("fd00::1", 1, 1);
        CHECK(ka_path_parse("dst=fd00::/8,!fd00::1;idle=7", &paths[0]) == 0 && ka_paths_match(paths, 1, &c) == -1,
              "IPv6 host exclusion");
}

static void test_derivation(void) {
        static const struct {
                unsigned t;
                int idle, interval, count;
                long long ut;
        } table[] = {
                { 350, 300, 10, 3, 330000 },    /* AWS NAT gateway, NLB */
                { 240, 190, 10, 3, 220000 },    /* Azure load balancer's default */
                { 1200, 1110, 10, 3, 1140000 }, /* GCP Cloud NAT, established TCP */
                { 3600, 3390, 10, 3, 3420000 }, /* many firewalls */
                { 60, 42, 5, 3, 57000 },
                { 5, 1, 1, 3, 4000 },
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                int idle, interval, count;
                int64_t ut;
                CHECK(ka_path_timing(table[i].t, &idle, &interval, &count, &ut) == 0, "%u", table[i].t);
                CHECK(idle == table[i].idle && interval == table[i].interval && count == table[i].count &&
                              ut == table[i].ut,
                      "PathIdleTimeoutSec=%u: idle %d interval %d count %d ut %lld", table[i].t, idle, interval, count,
                      (long long) ut);
                /* The two promises of keepalived.d(5). */
                CHECK((unsigned) idle < table[i].t, "%u: a probe before the path forgets", table[i].t);
                CHECK((unsigned) (idle + interval * count) < table[i].t, "%u: a dead peer found before", table[i].t);
        }
        for (unsigned t = 5; t <= 100000; t += t < 1000 ? 1 : 997) {
                int idle, interval, count;
                int64_t ut;
                CHECK(ka_path_timing(t, &idle, &interval, &count, &ut) == 0 && idle >= 1 && (unsigned) idle < t &&
                              ((unsigned) (idle + interval * count) < t || idle == KA_IDLE_MAX),
                      "promises for %u: idle %d interval %d", t, idle, interval);
        }
        int i1, i2, i3;
        int64_t u;
        CHECK(ka_path_timing(4, &i1, &i2, &i3, &u) == -ERANGE, "4 s is too short");
}

static void test_rule_files(void) {
        const char *dirs[] = { "/rules", NULL };
        const struct ka_diag *d;
        const struct ka_rule *rule;
        struct ka_ruleset rs;
        struct ka_params p;
        char *text;
        struct ka_dropin_setup setup = { .library = "/lib/libtcpkeepalive.so", .bpf_helper = "/sbin/tcpkeepalive-bpf" };

        write_rule("50-app.ini", "[Match]\nUnit=app.service\n[KeepAlive]\nIdleSec=600\n");
        write_rule("60-db.ini", "[Match]\nUnit=app.service\nDestination=10.0.0.0/8 !10.1.0.0/16\nDestination=fd00::/8\n"
                                "Port=5432 6000-6010\n[KeepAlive]\nPathIdleTimeoutSec=350\n");
        write_rule("61-lb.ini", "[Match]\nUnit=app.service only.service\nLocalPort=443\n[KeepAlive]\n"
                                "PathIdleTimeoutSec=4min\nIdleSec=200\n");
        write_rule("62-warn.ini", "[Match]\nUnit=warn.service\nDestination=192.0.2.0/24\n[KeepAlive]\n"
                                  "PathIdleTimeoutSec=350\nIdleSec=400\n");
        write_rule("70-bad.ini", "[Match]\nUnit=bad.service\nDestination=10.1.2.3/8 300.1.1.1 10.0.0.0/33 !fd00::1/129\n"
                                 "Port=0 70000 10-5 x\nLocalPort=\n[KeepAlive]\nPathIdleTimeoutSec=3\n");
        write_rule("71-mode.ini", "[Match]\nUnit=bad.service\nPort=22\n[KeepAlive]\nMode=force\n");
        {
                /* 129 destinations, 8 a line: one more than a rule takes. */
                char many[8192] = "[Match]\nUnit=bad.service\n";
                for (int i = 0; i < 129; i++) {
                        size_t at = strlen(many);
                        snprintf(many + at, sizeof(many) - at, "%s10.%d.0.0/16%s", i % 8 ? " " : "Destination=", i,
                                 i % 8 == 7 || i == 128 ? "\n" : "");
                }
                write_rule("72-many.ini", many);
        }
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0, "load");
        CHECK(rs.n_rules == 4, "4 rules load, the 2 bad ones are skipped: %zu", rs.n_rules);

        d = find_diag(&rs, "70-bad.ini", 3);
        CHECK(d && d->level == KA_DIAG_ERROR && strcmp(d->key, "Destination") == 0 &&
                      strstr(d->message, "'10.1.2.3/8' has bits set after its /8 prefix (did you mean 10.0.0.0/8?)"),
              "host bits: %s", d ? d->message : "none");
        CHECK(rs.n_diags >= 10, "every bad value said: %zu", rs.n_diags);
        size_t dst = 0, port = 0;
        for (size_t i = 0; i < rs.n_diags; i++) {
                if (rs.diags[i].line == 3 && strstr(rs.diags[i].path, "70-bad.ini"))
                        dst++;
                if (rs.diags[i].line == 4 && strstr(rs.diags[i].path, "70-bad.ini") &&
                    strstr(rs.diags[i].message, "is not a port"))
                        port++;
        }
        CHECK(dst == 4 && port == 4, "one diag per bad value: %zu destinations, %zu ports", dst, port);
        d = find_diag(&rs, "70-bad.ini", 5);
        CHECK(d && strcmp(d->key, "LocalPort") == 0 && strstr(d->message, "empty"), "empty LocalPort=");
        d = find_diag(&rs, "70-bad.ini", 7);
        CHECK(d && strcmp(d->key, "PathIdleTimeoutSec") == 0 && strstr(d->message, "5s..864000s"), "too short");
        d = find_diag(&rs, "72-many.ini", 19);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "more than 128 destinations in one rule"),
              "129 destinations: %s", d ? d->message : "none");
        d = find_diag(&rs, "71-mode.ini", 0);
        CHECK(d && d->level == KA_DIAG_ERROR && strstr(d->message, "Mode= applies to every connection of a unit"),
              "Mode= in a path rule");
        d = find_diag(&rs, "62-warn.ini", 0);
        CHECK(d && d->level == KA_DIAG_WARNING && strstr(d->message, "IdleSec=400s is not below PathIdleTimeoutSec=350s"),
              "explicit idle not below the path's timeout");

        /* app.service: its own rule for every other connection, two path rules. */
        CHECK(ka_unit_params(&rs, NULL, NULL, "app.service", &p, &rule, NULL) == 1, "app.service reached");
        CHECK(rule && strcmp(rule->name, "50-app.ini") == 0, "the unit's own rule");
        CHECK(p.idle_sec == 600 && p.n_paths == 2 && !p.paths_only, "two paths, unmatched get 600");
        CHECK(p.n_paths == 2 && strcmp(p.path_rules[0], "60-db.ini") == 0 && p.paths[0].idle == 300 &&
                      p.paths[0].interval == 10 && p.paths[0].count == 3 && p.paths[0].user_timeout == 330000,
              "60-db.ini derived from 350 s");
        /* 61-lb.ini: 4min derives 190/10/3; its explicit IdleSec=200 wins, and the
         * derived user timeout ends where its probing does. */
        CHECK(p.n_paths == 2 && p.paths[1].idle == 200 && p.paths[1].interval == 10 && p.paths[1].user_timeout == 230000,
              "61-lb.ini: idle %d ut %d", p.n_paths == 2 ? p.paths[1].idle : -2, p.n_paths == 2 ? p.paths[1].user_timeout : -2);
        text = ka_dropin_render("app.service", &p, "/rules/50-app.ini", &setup);
        CHECK(text && strstr(text, "Environment=\"TCPKEEPALIVE_PATH1=dst=10.0.0.0/8,!10.1.0.0/16,fd00::/8;"
                                   "port=5432,6000-6010;idle=300;interval=10;count=3;user_timeout=330000\"\n"),
              "PATH1 in the drop-in:\n%s", text ? text : "(none)");
        CHECK(text && strstr(text, "TCPKEEPALIVE_PATH2=lport=443;idle=200;interval=10;count=3;user_timeout=230000"),
              "PATH2");
        CHECK(text && !strstr(text, "UNMATCHED"), "the unit's own rule covers the rest");
        free(text);
        p.method = KA_METHOD_BPF;
        text = ka_dropin_render("app.service", &p, "/rules/50-app.ini", &setup);
        CHECK(text && strstr(text, " --path=dst=10.0.0.0/8,!10.1.0.0/16,fd00::/8;port=5432,6000-6010;idle=300;") &&
                      strstr(text, " --path=lport=443;"),
              "--path= for the helper:\n%s", text ? text : "(none)");
        free(text);
        ka_params_done(&p);

        /* only.service: reached by a path rule alone. */
        CHECK(ka_unit_params(&rs, NULL, NULL, "only.service", &p, &rule, NULL) == 1, "only.service reached");
        CHECK(p.paths_only && p.n_paths == 1, "only paths");
        text = ka_dropin_render("only.service", &p, rule ? rule->path : "?", &setup);
        CHECK(text && strstr(text, "Environment=\"TCPKEEPALIVE_UNMATCHED=off\"\n"), "unmatched off:\n%s", text ? text : "(none)");
        free(text);
        p.method = KA_METHOD_BPF;
        text = ka_dropin_render("only.service", &p, rule ? rule->path : "?", &setup);
        CHECK(text && strstr(text, " --unmatched=off"), "--unmatched=off");
        free(text);
        ka_params_done(&p);
        CHECK(ka_unit_params(&rs, NULL, NULL, "none.service", &p, &rule, NULL) == 0, "none.service: nothing");
        ka_ruleset_done(&rs);
}

/* Layers: defaults.conf's PathIdleTimeoutSec=, a rule's IdleSec= over it;
 * the switch with path rules; more path rules than apply. */
static void test_layers(void) {
        const char *dirs[] = { "/layers", NULL };
        const struct ka_rule *rule = NULL;
        char **enabled = NULL, dir[600];
        struct ka_ruleset rs;
        struct ka_params p;

        snprintf(dir, sizeof(dir), "mkdir -p '%s/layers'", root);
        if (system(dir) != 0)
                exit(2);
        snprintf(dir, sizeof(dir), "%s/layers", root);
        for (int i = 0; i < 18; i++) {
                char name[64], text[256], path[700];
                FILE *f;
                snprintf(name, sizeof(name), "%02d-many.ini", 10 + i);
                snprintf(text, sizeof(text), "[Match]\nUnit=many.service\nPort=%d\n[KeepAlive]\nIdleSec=%d\n", 1000 + i, 100 + i);
                snprintf(path, sizeof(path), "%s/%s", dir, name);
                if (!(f = fopen(path, "w")))
                        exit(2);
                fputs(text, f);
                fclose(f);
        }
        {
                char path[700];
                FILE *f;
                snprintf(path, sizeof(path), "%s/defaults.conf", dir);
                if (!(f = fopen(path, "w")))
                        exit(2);
                fputs("[KeepAlive]\nPathIdleTimeoutSec=350\n", f);
                fclose(f);
                snprintf(path, sizeof(path), "%s/50-long.ini", dir);
                if (!(f = fopen(path, "w")))
                        exit(2);
                fputs("[Match]\nUnit=long.service\n[KeepAlive]\nIdleSec=10min\n", f);
                fclose(f);
        }
        ka_ruleset_init(&rs);
        CHECK(ka_ruleset_load_dirs(&rs, root, dirs) == 0 && rs.n_errors == 0, "layers load");
        CHECK(ka_unit_params(&rs, NULL, NULL, "long.service", &p, &rule, NULL) == 1, "long.service");
        CHECK(p.idle_sec == 600 && p.interval_sec == 10 && p.count == 3 && p.user_timeout_ms == 630000,
              "a rule's IdleSec= over defaults' PathIdleTimeoutSec=: the user timeout follows (%lld)",
              (long long) p.user_timeout_ms);
        ka_params_done(&p);
        CHECK(ka_unit_params(&rs, NULL, NULL, "many.service", &p, &rule, NULL) == 1, "many.service");
        CHECK(p.n_paths == KA_PATHS_MAX && p.paths_left_out == 2 && strcmp(p.path_rules[0], "12-many.ini") == 0 &&
                      p.paths[KA_PATHS_MAX - 1].idle == 117,
              "18 path rules: the 16 that sort last apply, 2 left out (%zu, %zu)", p.n_paths, p.paths_left_out);
        CHECK(rule && strcmp(rule->name, "27-many.ini") == 0 && p.paths_only, "only path rules: the last names the source");
        ka_params_done(&p);
        if (strv_push_dup(&enabled, "many.service") < 0)
                exit(2);
        CHECK(ka_unit_params(&rs, NULL, enabled, "many.service", &p, &rule, NULL) == 1, "many.service switched on");
        CHECK(!rule && !p.paths_only && p.n_paths == KA_PATHS_MAX, "the switch: no rule, the defaults for the rest");
        ka_params_done(&p);
        strv_free(enabled);
        ka_ruleset_done(&rs);
}

int main(void) {
        char cmd[600];

        if (!mkdtemp(root)) {
                perror("mkdtemp");
                return 2;
        }
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/rules'", root);
        if (system(cmd) != 0)
                return 2;
        test_text_form();
        test_matcher();
        test_derivation();
        test_rule_files();
        test_layers();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", root);
        printf("%d checks, %d failed\n", checks, failures);
        return failures ? 1 : 0;
}
