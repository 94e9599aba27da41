/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Small string tests the programs share. Header only: the tcpkeepalive
 * command, which links no libshared, uses them too.
 */

#include <stdbool.h>
#include <string.h>

/* s ends with suffix; s equal to suffix counts too (systemd's endswith()).
 * Callers that need something before the suffix skip such names first
 * (the rule directories skip every dot file). */
static inline bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* An LD_PRELOAD list (entries separated by ':' or ' ', as ld.so reads it)
 * names library as one whole entry. list may be NULL (no LD_PRELOAD). */
static inline bool preload_list_has(const char *list, const char *library) {
        size_t n = strlen(library);
        for (const char *p = list; p && (p = strstr(p, library)); p++)
                if ((p == list || p[-1] == ':' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ':' || p[n] == ' '))
                        return true;
        return false;
}
