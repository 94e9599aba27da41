/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

void strv_free(char **l) {
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

bool strv_contains(char *const *l, const char *s) {
        for (char *const *p = l; p && *p; p++)
                if (strcmp(*p, s) == 0)
                        return true;
        return false;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

int strv_push(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c;
        if (!s)
                return -ENOMEM;
        c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_push_dup(char ***l, const char *s) {
        return strv_push(l, strdup(s));
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort_unique(char **l) {
        size_t n = strv_length(l), w = 0;
        if (n == 0)
                return;
        qsort(l, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (w > 0 && strcmp(l[w - 1], l[i]) == 0)
                        free(l[i]);
                else
                        l[w++] = l[i];
        }
        l[w] = NULL;
}

bool strv_contains_sorted(char *const *l, const char *s) {
        size_t n = strv_length(l);
        return n > 0 && bsearch(&s, l, n, sizeof(char *), cmp_str) != NULL;
}

const char *strv_env_get(char *const *env, const char *key) {
        size_t n = strlen(key);
        const char *v = NULL;
        for (char *const *e = env; e && *e; e++)
                if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
                        v = *e + n + 1;
        return v;
}
