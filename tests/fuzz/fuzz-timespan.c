/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: time spans as rules write them ("75", "2min 5s", "500ms"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timespan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        uint64_t usec = 0;

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        if (timespan_parse(s, &usec) == 0 && strlen(s) == 0)
                abort(); /* an empty string is not a time span */
        free(s);
        return 0;
}
