/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "timespan.h"

static const struct {
        const char *suffix;
        uint64_t usec;
} units[] = {
        /* Longest first where one is a prefix of another ("ms" before "m"). */
        { "seconds", USEC_PER_SEC }, { "second", USEC_PER_SEC }, { "sec", USEC_PER_SEC }, { "s", USEC_PER_SEC },
        { "minutes", 60 * USEC_PER_SEC }, { "minute", 60 * USEC_PER_SEC }, { "min", 60 * USEC_PER_SEC },
        { "msec", USEC_PER_MSEC }, { "ms", USEC_PER_MSEC }, { "m", 60 * USEC_PER_SEC },
        { "hours", 3600 * USEC_PER_SEC }, { "hour", 3600 * USEC_PER_SEC }, { "hr", 3600 * USEC_PER_SEC },
        { "h", 3600 * USEC_PER_SEC },
        { "days", 86400 * USEC_PER_SEC }, { "day", 86400 * USEC_PER_SEC }, { "d", 86400 * USEC_PER_SEC },
        { "weeks", 604800 * USEC_PER_SEC }, { "week", 604800 * USEC_PER_SEC }, { "w", 604800 * USEC_PER_SEC },
        { "usec", 1 }, { "us", 1 },
};

int timespan_parse(const char *s, uint64_t *ret_usec) {
        uint64_t total = 0;
        const char *p = s;
        int parts = 0;
        bool bare = false;

        if (!s)
                return -EINVAL;
        for (;;) {
                uint64_t n = 0, mult = USEC_PER_SEC;
                size_t len = 0;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++) {
                        uint64_t d = (uint64_t) (*p - '0');
                        if (n > (UINT64_MAX - d) / 10)
                                return -ERANGE; /* more than 64 bits hold: out of range, not bad syntax */
                        n = n * 10 + d;
                }
                while (*p == ' ' || *p == '\t')
                        p++;
                if (isalpha((unsigned char) *p)) {
                        size_t i;
                        while (isalpha((unsigned char) p[len]))
                                len++;
                        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                                if (strlen(units[i].suffix) == len && strncmp(p, units[i].suffix, len) == 0)
                                        break;
                        if (i == sizeof(units) / sizeof(units[0]))
                                return -EINVAL;
                        mult = units[i].usec;
                        p += len;
                } else {
                        bare = true; /* seconds, but only alone: "1h 30" is ambiguous */
                }
                if (n > UINT64_MAX / mult || total > UINT64_MAX - n * mult)
                        return -ERANGE;
                total += n * mult;
                parts++;
        }
        if (parts == 0 || (bare && parts > 1))
                return -EINVAL;
        *ret_usec = total;
        return 0;
}
