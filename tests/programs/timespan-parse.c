/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* timespan-parse SPAN...: one line per argument, the span in microseconds
 * as lib/shared/timespan.c parses it, or "err"; the form
 * tests/generator/timespan-systemd.sh compares with systemd-analyze's. */
#include <stdint.h>
#include <stdio.h>

#include "timespan.h"

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                uint64_t usec = 0;
                if (timespan_parse(argv[i], &usec) == 0)
                        printf("%llu\n", (unsigned long long) usec);
                else
                        printf("err\n");
        }
        return 0;
}
