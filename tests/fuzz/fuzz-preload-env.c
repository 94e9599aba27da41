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

/* The library's compiled matcher answers as keepalive-paths.h's does, for
 * peers at, inside and just outside every prefix of the rules read. */
static void check_matcher(void) {
        for (unsigned i = 0; i < cfg.n_paths; i++)
                for (unsigned k = 0; k <= paths[i].n_destinations; k++) {
                        struct ka_conn_ends e = { 0 };
                        const struct ka_prefix *d = k < paths[i].n_destinations ? &paths[i].destinations[k] : NULL;
                        unsigned max = d && d->family == AF_INET6 ? 128 : 32;
                        if (d) {
                                e.family = d->family;
                                memcpy(e.peer, d->addr, 16);
                        }
                        e.peer_port = paths[i].n_ports ? paths[i].ports[0].first : 1;
                        e.local_port = paths[i].n_local_ports ? paths[i].local_ports[paths[i].n_local_ports - 1].last : 2;
                        for (unsigned flip = 0; flip <= 3; flip++) {
                                struct ka_conn_ends f = e;
                                /* 0: the prefix; 1: its last bit flipped; 2: the bit after; 3: the lowest */
                                unsigned bit = !d ? 0 : flip == 1 ? (d->len ? d->len - 1U : 0) : flip == 2 ? d->len : max - 1;
                                if (d && flip && bit < max)
                                        f.peer[bit / 8] ^= (uint8_t) (0x80 >> (bit % 8));
                                if (compiled_match(&f) != ka_paths_match(paths, cfg.n_paths, &f))
                                        abort();
                                f.peer_port ^= 1;
                                if (compiled_match(&f) != ka_paths_match(paths, cfg.n_paths, &f))
                                        abort();
                        }
                }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = {
                KA_ENV_IDLE, KA_ENV_INTERVAL, KA_ENV_COUNT, KA_ENV_USER_TIMEOUT, KA_ENV_MODE, KA_ENV_DIRECTION,
                KA_ENV_DEBUG, KA_ENV_COMPAT_IDLE, KA_ENV_COMPAT_INTERVAL, KA_ENV_COMPAT_COUNT, KA_ENV_COMPAT_KEEPALIVE,
                KA_ENV_UNMATCHED, KA_ENV_PATH_PREFIX "1", KA_ENV_PATH_PREFIX "2", KA_ENV_PATH_PREFIX "3",
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
                if (cfg.n_paths > KA_PATHS_MAX)
                        abort();
                for (unsigned k = 0; k <= cfg.n_paths; k++) {
                        /* k == n_paths: the unit's own values */
                        const struct ka_values *v = k < cfg.n_paths ? &path_values[k] : &cfg.base;
                        if ((v->idle != -1 && (v->idle < 1 || v->idle > (int) KA_IDLE_MAX)) ||
                            (v->interval != -1 && (v->interval < 1 || v->interval > (int) KA_INTERVAL_MAX)) ||
                            (v->count != -1 && (v->count < 1 || v->count > (int) KA_COUNT_MAX)) ||
                            (v->user_timeout != -1 && v->user_timeout < 0))
                                abort();
                        if (k < cfg.n_paths && (paths[k].n_destinations > KA_PATH_DESTINATIONS_MAX ||
                                                paths[k].n_ports > KA_PATH_PORTS_MAX ||
                                                paths[k].n_local_ports > KA_PATH_PORTS_MAX))
                                abort();
                }
                if (cfg.mode == KA_MODE_OFF || (cfg.unmatched_off && !cfg.n_paths))
                        abort();
                check_matcher();
        }
        free(copy);
        return 0;
}
