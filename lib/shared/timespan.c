/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "timespan.h"

#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (3600 * USEC_PER_SEC)
#define USEC_PER_DAY (86400 * USEC_PER_SEC)
#define USEC_PER_WEEK (7 * USEC_PER_DAY)
#define USEC_PER_MONTH (2629800 * USEC_PER_SEC) /* systemd's: 30.44 days */
#define USEC_PER_YEAR (31557600 * USEC_PER_SEC) /* 365.25 days */

/* systemd's table (src/basic/time-util.c), in its order: the first suffix
 * the text starts with wins ("ms" before "m", "M" for months). */
static const struct {
        const char *suffix;
        uint64_t usec;
} units[] = {
        { "seconds", USEC_PER_SEC },   { "second", USEC_PER_SEC },    { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },         { "minutes", USEC_PER_MINUTE }, { "minute", USEC_PER_MINUTE },
        { "min", USEC_PER_MINUTE },    { "months", USEC_PER_MONTH },  { "month", USEC_PER_MONTH },
        { "M", USEC_PER_MONTH },       { "msec", USEC_PER_MSEC },     { "ms", USEC_PER_MSEC },
        { "m", USEC_PER_MINUTE },      { "hours", USEC_PER_HOUR },    { "hour", USEC_PER_HOUR },
        { "hr", USEC_PER_HOUR },       { "h", USEC_PER_HOUR },        { "days", USEC_PER_DAY },
        { "day", USEC_PER_DAY },       { "d", USEC_PER_DAY },         { "weeks", USEC_PER_WEEK },
        { "week", USEC_PER_WEEK },     { "w", USEC_PER_WEEK },        { "years", USEC_PER_YEAR },
        { "year", USEC_PER_YEAR },     { "y", USEC_PER_YEAR },        { "usec", 1 },
        { "us", 1 },                   { "\xce\xbcs", 1 } /* U+03BC GREEK SMALL LETTER MU */,
        { "\xc2\xb5s", 1 } /* U+00B5 MICRO SIGN */,
};

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* a + b, or false on overflow. */
static bool add(uint64_t *a, uint64_t b) {
        if (*a > UINT64_MAX - b)
                return false;
        *a += b;
        return true;
}

int timespan_parse(const char *s, uint64_t *ret_usec) {
        uint64_t total = 0;
        const char *p = s;
        bool something = false;

        if (!s)
                return -EINVAL;
        for (;;) {
                uint64_t n = 0, mult = USEC_PER_SEC, k;
                const char *digits, *frac = NULL, *number_end;
                size_t i;

                while (is_blank(*p))
                        p++;
                if (!*p)
                        break;
                /* "+5" is 5 s (strtoll takes the sign, so systemd does); "-5"
                 * is no span. */
                if (*p == '+' && !is_digit(*++p))
                        return -EINVAL; /* "+.5": strtoll finds no number there */
                if (!is_digit(*p) && *p != '.')
                        return -EINVAL;
                for (digits = p; is_digit(*p); p++) {
                        uint64_t d = (uint64_t) (*p - '0');
                        if (n > (UINT64_MAX - d) / 10)
                                return -ERANGE; /* more than 64 bits hold: out of range, not bad syntax */
                        n = n * 10 + d;
                }
                if (*p == '.') {
                        frac = ++p;
                        while (is_digit(*p))
                                p++;
                        /* "3." and "." are not numbers: "0.5", ".5" and "1.5" are */
                        if (p == frac)
                                return -EINVAL;
                } else if (p == digits)
                        return -EINVAL;
                number_end = p;
                while (is_blank(*p))
                        p++;
                /* A bare number is seconds, also as a part ("1h 30" is 1h 30s). */
                for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                        if (strncmp(p, units[i].suffix, strlen(units[i].suffix)) == 0)
                                break;
                if (i < sizeof(units) / sizeof(units[0])) {
                        mult = units[i].usec;
                        p += strlen(units[i].suffix);
                } else if (*p && (p == number_end || (!is_digit(*p) && *p != '.')))
                        return -EINVAL; /* "5 parsecs"; "12.34.56" (systemd takes "12.34 .56") */
                if (n > UINT64_MAX / mult || !add(&total, n * mult))
                        return -ERANGE;
                /* The fraction, a digit at a time, as systemd adds it. */
                k = mult / 10;
                for (const char *f = frac; f && is_digit(*f); f++, k /= 10)
                        if (!add(&total, (uint64_t) (*f - '0') * k))
                                return -ERANGE;
                something = true;
        }
        if (!something)
                return -EINVAL;
        *ret_usec = total;
        return 0;
}
