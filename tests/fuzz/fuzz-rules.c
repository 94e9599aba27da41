/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: one rule file through the parser and validator, then through
 * what the generator does with the result (matching, drop-in text). Every
 * input must be either a rule or a diagnostic, never a crash or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dropin.h"
#include "rules.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct ka_dropin_setup setup = { .library = "/usr/lib/libtcpkeepalive.so",
                                                      .bpf_helper = "/usr/sbin/tcpkeepalive-bpf" };
        static const char *const units[] = { "crm.service", "worker@1.service", "a.service", "x-y_z.service" };
        char *paths[1] = { path };
        struct ka_ruleset rs;
        FILE *f;

        if (!path[0]) {
                char dir[] = "/tmp/fuzz-rules.XXXXXX";
                if (!mkdtemp(dir))
                        abort();
                snprintf(path, sizeof(path), "%s/50-fuzz.ini", dir);
        }
        if (!(f = fopen(path, "we")))
                abort();
        fwrite(data, 1, size, f);
        fclose(f);

        ka_ruleset_init(&rs);
        (void) ka_ruleset_load_files(&rs, paths, 1);
        for (size_t i = 0; i < rs.n_diags; i++) {
                FILE *null = fopen("/dev/null", "we");
                ka_diag_print(&rs.diags[i], null);
                fclose(null);
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                const struct ka_rule *r = ka_ruleset_match(&rs, units[i], NULL);
                if (r) {
                        char *text = ka_dropin_render(units[i], &r->params, r->path, &setup);
                        /* A drop-in never holds an empty Environment= (it resets all). */
                        if (text && strstr(text, "Environment=\n"))
                                abort();
                        free(text);
                }
        }
        for (size_t i = 0; i < rs.n_rules; i++)
                for (char **u = rs.rules[i].units; u && *u; u++)
                        if (strstr(*u, "..") || strchr(*u, '/'))
                                abort(); /* a unit name ends up in a path */
        ka_ruleset_done(&rs);
        return 0;
}
