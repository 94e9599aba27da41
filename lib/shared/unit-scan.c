/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "strv.h"
#include "unit-name.h"
#include "unit-scan.h"

#ifndef SYSTEM_UNIT_DIR_PREFIX
#define SYSTEM_UNIT_DIR_PREFIX "/usr/local/lib/systemd/system"
#endif

#define ENABLE_PREFIX "tcpkeepalive@"

/* Where units and enablement symlinks live (systemd.unit(5), system mode). */
const char *const ka_unit_dirs[] = {
        "/etc/systemd/system", "/run/systemd/system", SYSTEM_UNIT_DIR_PREFIX,
        "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system", NULL,
};
/* Only these hold `systemctl enable` symlinks. */
static const char *const enable_dirs[] = { "/etc/systemd/system", "/run/systemd/system", NULL };

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void add_unit(char ***units, const char *name) {
        if (unit_name_is_valid_service(name) && !unit_name_is_own(name))
                (void) strv_push_dup(units, name);
}

/* "tcpkeepalive@foo.service" -> "foo.service", the unit it switches on. */
static void add_enabled(char ***enabled, const char *link) {
        char name[UNIT_NAME_MAX + 1];
        size_t n;
        if (strncmp(link, ENABLE_PREFIX, strlen(ENABLE_PREFIX)) != 0 || !has_suffix(link, ".service"))
                return;
        n = strlen(link) - strlen(ENABLE_PREFIX) - strlen(".service");
        if (n == 0 || n + strlen(".service") > UNIT_NAME_MAX)
                return;
        memcpy(name, link + strlen(ENABLE_PREFIX), n);
        strcpy(name + n, ".service");
        add_unit(enabled, name);
}

/* Unit files, and instance names that appear only as symlinks in .wants/ and
 * .requires/ directories. */
static void scan_dir(const char *root, const char *dir, char ***units, char ***enabled, bool enable_dir) {
        char path[4096];
        DIR *d;
        struct dirent *de;

        snprintf(path, sizeof(path), "%s%s", root, dir);
        if (!(d = opendir(path)))
                return;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (has_suffix(de->d_name, ".wants") || has_suffix(de->d_name, ".requires")) {
                        char sub[4096 + 256];
                        DIR *s;
                        struct dirent *se;
                        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                        if (!(s = opendir(sub)))
                                continue;
                        while ((se = readdir(s))) {
                                if (se->d_name[0] == '.')
                                        continue;
                                if (enable_dir)
                                        add_enabled(enabled, se->d_name);
                                add_unit(units, se->d_name);
                        }
                        closedir(s);
                } else if (has_suffix(de->d_name, ".service")) {
                        add_unit(units, de->d_name);
                }
        }
        closedir(d);
}

void ka_unit_scan(const char *root, char ***units, char ***enabled) {
        for (size_t i = 0; ka_unit_dirs[i]; i++) {
                bool enable_dir = false;
                for (size_t j = 0; enable_dirs[j]; j++)
                        enable_dir |= strcmp(ka_unit_dirs[i], enable_dirs[j]) == 0;
                scan_dir(root, ka_unit_dirs[i], units, enabled, enable_dir);
        }
}

void ka_units_canonical(const struct unit_aliases *aliases, char ***list) {
        char **canonical = NULL;
        for (char **u = *list; u && *u; u++) {
                const char *t = unit_aliases_resolve(aliases, *u);
                add_unit(&canonical, t ? t : *u);
        }
        strv_free(*list);
        *list = canonical;
        strv_sort_unique(*list);
}

void ka_units_reached(struct ka_ruleset *rs, const struct unit_aliases *aliases, const char *root, char ***units,
                      char ***enabled) {
        ka_unit_scan(root, units, enabled);
        for (size_t i = 0; i < rs->n_rules; i++)
                for (char **g = rs->rules[i].units; g && *g; g++)
                        if (!unit_name_is_glob(*g))
                                add_unit(units, *g);
        for (char **e = *enabled; e && *e; e++)
                add_unit(units, *e);
        ka_units_canonical(aliases, units);
        ka_units_canonical(aliases, enabled);
}

/* A path rule's values: the defaults, overlaid by the path rule's own. */
static int path_values(struct ka_ruleset *rs, const struct ka_rule *rule, struct ka_path *ret) {
        struct ka_params v;

        ka_params_init(&v);
        if (ka_params_overlay(&v, &rs->defaults) < 0 || ka_params_overlay(&v, &rule->params) < 0) {
                ka_params_done(&v);
                return -ENOMEM;
        }
        *ret = *rule->match;
        ret->idle = v.idle_sec > 0 ? v.idle_sec : -1;
        ret->interval = v.interval_sec > 0 ? v.interval_sec : -1;
        ret->count = v.count > 0 ? v.count : -1;
        ret->user_timeout = v.user_timeout_ms >= 0 && v.user_timeout_ms <= (int64_t) KA_USER_TIMEOUT_MAX
                                    ? (int) v.user_timeout_ms
                                    : -1;
        ka_params_done(&v);
        return 0;
}

int ka_unit_params(struct ka_ruleset *rs, const struct unit_aliases *aliases, char **enabled, const char *unit,
                   struct ka_params *ret, const struct ka_rule **ret_rule, const struct ka_rule **ret_overridden) {
        char **names = aliases ? unit_aliases_names(aliases, unit) : NULL;
        const char *one[] = { unit, NULL };
        const char *const *all = names ? (const char *const *) names : one;
        const struct ka_rule *overridden = NULL, *rule = ka_ruleset_match_names(rs, all, &overridden),
                             *paths[KA_PATHS_MAX];
        size_t n_paths = ka_ruleset_match_paths(rs, all, paths, KA_PATHS_MAX);
        bool is_enabled = enabled && strv_contains_sorted(enabled, unit);

        size_t left_out = n_paths > KA_PATHS_MAX ? n_paths - KA_PATHS_MAX : 0;

        strv_free(names);
        n_paths -= left_out;
        /* NULL: the switch; only path rules: the last of them names the source. */
        *ret_rule = rule ? rule : !is_enabled && n_paths ? paths[n_paths - 1] : NULL;
        if (ret_overridden)
                *ret_overridden = overridden;
        if (!rule && !is_enabled && n_paths == 0)
                return 0;
        ka_params_init(ret);
        if (ka_params_overlay(ret, &rs->defaults) < 0 || (rule && ka_params_overlay(ret, &rule->params) < 0))
                goto oom;
        if (n_paths > 0) {
                ret->paths = calloc(n_paths, sizeof(*ret->paths));
                if (!ret->paths)
                        goto oom;
                for (size_t i = 0; i < n_paths; i++)
                        if (path_values(rs, paths[i], &ret->paths[i]) < 0 ||
                            strv_push_dup(&ret->path_rules, paths[i]->name) < 0)
                                goto oom;
                ret->n_paths = n_paths;
                ret->paths_only = !rule && !is_enabled;
                ret->paths_left_out = left_out;
        }
        return 1;
oom:
        ka_params_done(ret);
        return -ENOMEM;
}
