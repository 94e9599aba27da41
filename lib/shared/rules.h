/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The rule model: the *.ini files of /etc/keepalived.d and its layering, shared by the
 * generator, the daemon, tcpkeepalivectl and the tests. See keepalived.d(5).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keepalive-params.h"
#include "keepalive-paths.h"

enum ka_restart { KA_RESTART_NO, KA_RESTART_TRY };

/* What one rule (or the defaults file) sets; -1 / false: not set. */
struct ka_params {
        int idle_sec, interval_sec, count;
        int64_t user_timeout_ms; /* 0: the kernel default */
        int mode;                /* enum ka_mode, or -1 */
        int direction;           /* enum ka_direction, or -1 */
        int restart;             /* enum ka_restart, or -1 */
        int method;              /* enum ka_method, or -1 (preload) */
        char **extra_preload;    /* NULL-terminated; the unit's own preloads, kept */
        /* PathIdleTimeoutSec=: the path's idle timeout the timing is derived
         * from (ka_path_timing); -1 unset. An overlay derives the four
         * values from it first, then takes the layer's explicit ones. */
        int path_idle_timeout_sec;
        bool user_timeout_derived; /* from PathIdleTimeoutSec=, no layer set UserTimeoutSec= over it */
        /* Filled by ka_unit_params only: the path rules that reach the unit
         * (file name order, each with its resolved values), their files'
         * names, and whether only path rules reach it (a connection none
         * covers gets nothing). */
        struct ka_path *paths;
        char **path_rules;
        size_t n_paths;
        bool paths_only;
        size_t paths_left_out; /* path rules past KA_PATHS_MAX: the earliest in file name order */
};

/* The timing derived from a path's idle timeout (keepalived.d(5),
 * "PathIdleTimeoutSec="): 0, or -ERANGE when it is too short (< 5 s) to
 * derive from. */
#define KA_PATH_TIMEOUT_MIN 5U
#define KA_PATH_TIMEOUT_MAX 864000U /* 10 days: the idle then is the kernel's maximum anyway */
int ka_path_timing(unsigned timeout_sec, int *idle, int *interval, int *count, int64_t *user_timeout_ms);

enum ka_diag_level { KA_DIAG_WARNING, KA_DIAG_ERROR };

/* One problem found in a file: everything a sysadmin needs to find it. */
struct ka_diag {
        enum ka_diag_level level;
        char *path;
        unsigned line; /* 0: the file as a whole */
        char *key;     /* NULL when not about one key */
        char *value;
        char *message;
};

struct ka_rule {
        char *path;  /* the file that won the layering */
        char *name;  /* its file name, e.g. "crm.ini" */
        char **units; /* normalized unit names and globs */
        struct ka_params params;
        /* Destination=, Port=, LocalPort=: a path rule, which covers only
         * the connections it matches (its values unset here); NULL: the
         * rule covers every connection of its units. */
        struct ka_path *match;
};

/* One Unit= pattern of one rule, for matching without trying every pattern. */
struct ka_pattern {
        const char *text;   /* the rule's string */
        size_t prefix_len;  /* literal characters before the first glob character */
        size_t rule;        /* index in rules[] */
};

struct ka_ruleset {
        struct ka_rule *rules; /* valid rules only, sorted by file name */
        size_t n_rules;
        struct ka_params defaults; /* from defaults.conf, or all unset */
        char *defaults_path;       /* NULL when there is none */
        char **masked;             /* paths of masked rule files */
        char **broken;             /* paths of files skipped for errors */
        char *root;                /* ka_ruleset_load_dirs' root, for the paths rules name */
        struct ka_diag *diags;
        size_t n_diags;
        size_t n_errors;
        /* Built by the first match: patterns sorted by their literal prefix. */
        struct ka_pattern *patterns;
        size_t n_patterns;
        bool indexed;
};

#define KA_DEFAULTS_FILE "defaults.conf"
#define KA_RULE_SUFFIX ".ini"
/* A rule file larger than this is an error (1 MiB: some 40,000 Unit= lines). */
#define KA_RULE_FILE_MAX (1024 * 1024)

void ka_params_init(struct ka_params *p);
void ka_params_done(struct ka_params *p);
/* Copies every value b sets over a (a rule over the defaults). */
int ka_params_overlay(struct ka_params *a, const struct ka_params *b);

void ka_ruleset_init(struct ka_ruleset *rs);
void ka_ruleset_done(struct ka_ruleset *rs);

/*
 * Loads the rule directories, highest priority first (/etc, /run, /usr/lib):
 * for each file name the first directory that has it wins, a symlink to
 * /dev/null masks it. Every problem becomes a diag; a broken file is
 * skipped and the others load. root, when not NULL, prefixes every path
 * (for tests and image builds). Returns 0, or -errno when nothing could be
 * read at all (out of memory).
 */
int ka_ruleset_load_dirs(struct ka_ruleset *rs, const char *root, const char *const *dirs);

/* Loads the given files as rules (tcpkeepalivectl verify FILE...). */
int ka_ruleset_load_files(struct ka_ruleset *rs, char *const *paths, size_t n);

/*
 * The rule that applies to a concrete unit name: the last one, in file name
 * order, with a matching Unit= (see ka_unit_matches: an instance is matched
 * by the patterns of its template too). *ret_overridden, when not NULL, gets the
 * earlier matching rule the winner overrides (the conflict to report), or
 * NULL. The first call indexes the rules (one sort); later calls cost a few
 * binary searches plus fnmatch() of the patterns whose literal prefix
 * begins the unit's name.
 */
const struct ka_rule *ka_ruleset_match(struct ka_ruleset *rs, const char *unit,
                                       const struct ka_rule **ret_overridden);

/*
 * The same for a unit known by several names (names[0] and its aliases,
 * NULL-terminated; see unit-alias.h): the last rule, in file name order,
 * that matches any of them, so that the file that sorts last wins
 * whichever name it gives. NULL when any name is one of our own units.
 */
const struct ka_rule *ka_ruleset_match_names(struct ka_ruleset *rs, const char *const *names,
                                             const struct ka_rule **ret_overridden);

/*
 * The path rules (rules with a Destination=, Port= or LocalPort=) that
 * match any of names, in file name order, at most max into ret; returns
 * how many match in all (more than max: the earliest are left out).
 * ka_ruleset_match and ka_ruleset_match_names consider the other rules
 * only.
 */
size_t ka_ruleset_match_paths(struct ka_ruleset *rs, const char *const *names, const struct ka_rule **ret,
                              size_t max);

/*
 * Does this Unit= entry (a name or a glob) reach the unit? The one test the
 * generator, the daemon and verify share: the entry matches the name
 * exactly or as a glob, or the unit is an instance ("wk@1.service") and the
 * entry matches its template ("wk@.service"), whose drop-in systemd applies
 * to every instance.
 */
bool ka_unit_matches(const char *glob, const char *unit);

void ka_diag_print(const struct ka_diag *d, void *file /* FILE* */);

/* The default rule directories, highest priority first, NULL-terminated. */
extern const char *const ka_rule_dirs[];
