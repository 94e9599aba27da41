/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* NULL-terminated string vectors, as systemd's strv.h, only what we use. */
#include <stdbool.h>
#include <stddef.h>

void strv_free(char **l);
size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Appends s, taking ownership (freed on failure too). */
int strv_push(char ***l, char *s);
int strv_push_dup(char ***l, const char *s);
/* Sorts l and drops repeated strings: sets of thousands of names without
 * quadratic strv_contains(). */
void strv_sort_unique(char **l);
/* strv_contains() for a list sorted by strv_sort_unique(). */
bool strv_contains_sorted(char *const *l, const char *s);

/* The value of key in an environment list ("KEY=value" entries), or NULL.
 * The last assignment wins, as in systemd's Environment= and as ld.so
 * reads LD_PRELOAD. */
const char *strv_env_get(char *const *env, const char *key);
