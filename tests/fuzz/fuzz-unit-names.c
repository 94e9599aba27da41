/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: unit names and globs, as they come from rule files and from
 * D-Bus callers (tcpkeepalived validates every unit argument with
 * unit_name_is_valid_service before it goes anywhere). A name that passes
 * must be safe in a path; matching must not blow up on hostile globs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "unit-name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1), *glob, *name, template[260];
        const char *reason;

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        /* "glob\0name": both halves */
        name = s + strlen(s) + (strlen(s) < size ? 1 : 0);
        if (unit_name_is_valid_service(s) && (strstr(s, "..") || strchr(s, '/') || strlen(s) > 256))
                abort();
        glob = unit_glob_normalize(s, &reason);
        if (glob) {
                if (strchr(glob, '/') || strstr(glob, ".."))
                        abort();
                if (unit_name_is_valid_service(name))
                        (void) ka_unit_matches(glob, name);
                free(glob);
        }
        (void) unit_name_is_glob(s);
        (void) unit_name_template(s, template, sizeof(template));
        free(s);
        return 0;
}
