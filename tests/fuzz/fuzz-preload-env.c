/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the preload library's environment parsing, the real code
 * (lib/preload/tcpkeepalive.c is compiled into this fuzzer): the input is
 * split at newlines into the values of every variable the library reads.
 * Whatever the values, the configuration stays inside the kernel's ranges.
 * (run.sh runs it with -close_fd_mask=2: the library's messages about bad
 * values are expected by the thousand.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/preload/tcpkeepalive.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = {
                KA_ENV_IDLE, KA_ENV_INTERVAL, KA_ENV_COUNT, KA_ENV_USER_TIMEOUT, KA_ENV_MODE, KA_ENV_DIRECTION,
                KA_ENV_DEBUG, KA_ENV_COMPAT_IDLE, KA_ENV_COMPAT_INTERVAL, KA_ENV_COMPAT_COUNT, KA_ENV_COMPAT_KEEPALIVE,
        };
        char *copy = malloc(size + 1), *p, *save = NULL;
        size_t i = 0;

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = '\0';
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                unsetenv(names[i]);
        i = 0;
        for (p = strtok_r(copy, "\n", &save); p && i < sizeof(names) / sizeof(names[0]); p = strtok_r(NULL, "\n", &save))
                if (*p != '-') /* "-": leave this one unset */
                        setenv(names[i++], p, 1);
        else
                i++;
        memset(&cfg, 0, sizeof(cfg));
        read_config();
        if (cfg.active) {
                if ((cfg.idle != -1 && (cfg.idle < 1 || cfg.idle > (int) KA_IDLE_MAX)) ||
                    (cfg.interval != -1 && (cfg.interval < 1 || cfg.interval > (int) KA_INTERVAL_MAX)) ||
                    (cfg.count != -1 && (cfg.count < 1 || cfg.count > (int) KA_COUNT_MAX)) ||
                    (cfg.user_timeout != -1 && cfg.user_timeout < 0) || cfg.mode == KA_MODE_OFF)
                        abort();
        }
        free(copy);
        return 0;
}
