/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Inside lib/shared: the state of parsing one rule file, shared by rules.c
 * (reading its lines, loading and layering files) and rule-keys.c (what
 * each key means). The programs use rules.h.
 */

#include <stdbool.h>
#include <stdio.h>

#include "rules.h"

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

/* Adds a diag to rs, with the file's path and line and, for a key's
 * problem, key_value ("key\0value"; NULL otherwise). */
__attribute__((format(printf, 6, 7)))
void ka_ruleset_diag(struct ka_ruleset *rs, enum ka_diag_level level, const char *path, unsigned line,
                     const char *key_value, const char *fmt, ...);

#define P_ERROR(p, kv, ...)                                                                     \
        do {                                                                                    \
                ka_ruleset_diag((p)->rs, KA_DIAG_ERROR, (p)->path, (p)->line, kv, __VA_ARGS__); \
                (p)->errors++;                                                                  \
        } while (0)
#define P_WARNING(p, kv, ...) ka_ruleset_diag((p)->rs, KA_DIAG_WARNING, (p)->path, (p)->line, kv, __VA_ARGS__)

/* inih's handler (rule-keys.c): one Key=value of section into p's rule,
 * checked against the table of keys. 1 to go on, 0 to give the file up
 * (out of memory). */
int rule_key_handle(void *userdata, const char *section, const char *key, const char *value);
