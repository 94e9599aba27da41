/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the text of a path rule (lib/shared/keepalive-paths.h), which
 * the preload library reads from its environment and tcpkeepalive-bpf from
 * its arguments. Whatever the input: what ka_path_parse takes stays in its
 * limits, prints (ka_path_format) as text that parses back to the same
 * rule, and the matcher answers for any connection without reading past
 * its arrays. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keepalive-paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct ka_path p[2], q;
        static char text[KA_PATH_TEXT_MAX + 1], again[KA_PATH_TEXT_MAX];
        struct ka_conn_ends c = { 0 };
        size_t n = size < KA_PATH_TEXT_MAX ? size : KA_PATH_TEXT_MAX;

        memcpy(text, data, n);
        text[n] = '\0';
        if (ka_path_parse(text, &p[0]) < 0)
                return 0;
        if (p[0].n_destinations > KA_PATH_DESTINATIONS_MAX || p[0].n_ports > KA_PATH_PORTS_MAX ||
            p[0].n_local_ports > KA_PATH_PORTS_MAX || p[0].idle > (int) KA_IDLE_MAX || p[0].count > (int) KA_COUNT_MAX)
                abort();
        ka_path_format(&p[0], again, sizeof(again));
        if (ka_path_parse(again, &q) < 0 || memcmp(&p[0], &q, sizeof(q)) != 0)
                abort();
        /* The connection from the input's tail: any family, address, ports. */
        if (size >= 21) {
                const uint8_t *t = data + size - 21;
                c.family = t[0] & 1 ? AF_INET6 : AF_INET;
                memcpy(c.peer, t + 1, 16);
                c.peer_port = (uint16_t) (t[17] << 8 | t[18]);
                c.local_port = (uint16_t) (t[19] << 8 | t[20]);
        }
        p[1] = p[0];
        if (ka_paths_match(p, 2, &c) == 0) /* equals: the later wins */
                abort();
        return 0;
}
