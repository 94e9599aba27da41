/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BPF backend's path matcher (bpf/paths-match.h, the code the
 * sock_ops and iter/tcp programs run) against the contract's
 * ka_paths_match (lib/shared/keepalive-paths.h): the same path chosen for
 * random rules (prefixes near the connections' peers, exclusions, ports,
 * local ports, IPv4, IPv6, IPv4-mapped peers) and random connections,
 * through the text form the generator writes (ka_path_format, then
 * ka_path_parse as tcpkeepalive-bpf does) and tka_bpf_path_from.
 */
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "keepalive-paths.h"
#include "bpf/params.h"
#include "bpf/paths-match.h"

static unsigned seed = 1;
static unsigned rnd(unsigned n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % n;
}

/* Peers the rules and connections are drawn around. */
static const char *const peers4[] = { "10.0.0.1", "10.1.2.3", "10.1.255.7", "192.168.1.10", "127.0.0.2", "0.0.0.0" };
static const char *const peers6[] = { "fd00::1", "fd00:1::5", "2001:db8::1", "::1", "fe80::1:2" };
static const uint16_t ports[] = { 22, 443, 5432, 6000, 6005, 6010, 65535 };

static void random_prefix(struct ka_prefix *p) {
        bool v6 = rnd(3) == 0;
        unsigned max = v6 ? 128 : 32;

        memset(p, 0, sizeof(*p));
        p->family = v6 ? AF_INET6 : AF_INET;
        inet_pton(p->family, v6 ? peers6[rnd(5)] : peers4[rnd(6)], p->addr);
        p->len = (uint8_t) (rnd(4) == 0 ? max : rnd(max + 1));
        for (unsigned bit = p->len; bit < max; bit++)
                p->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
        p->exclude = rnd(4) == 0;
}

static void random_ports(struct ka_port_range *r, uint8_t *n) {
        *n = rnd(3) ? 0 : (uint8_t) (1 + rnd(3));
        for (unsigned i = 0; i < *n; i++) {
                uint16_t a = ports[rnd(7)], b = ports[rnd(7)];
                r[i] = (struct ka_port_range) { a < b ? a : b, rnd(2) ? (a < b ? a : b) : (a < b ? b : a) };
        }
}

static void random_path(struct ka_path *p) {
        memset(p, 0, sizeof(*p));
        p->n_destinations = (uint16_t) (rnd(3) == 0 ? 0 : 1 + rnd(rnd(8) == 0 ? KA_PATH_DESTINATIONS_MAX : 4));
        for (unsigned i = 0; i < p->n_destinations; i++)
                random_prefix(&p->destinations[i]);
        random_ports(p->ports, &p->n_ports);
        random_ports(p->local_ports, &p->n_local_ports);
        p->idle = 1 + (int) rnd(1000);
        p->interval = p->count = p->user_timeout = -1;
}

static void random_conn(struct ka_conn_ends *k, struct tka_conn_ends *t) {
        unsigned kind = rnd(3); /* IPv4, IPv6, IPv4-mapped IPv6 */
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
        struct sockaddr_in s4 = { .sin_family = AF_INET };
        struct sockaddr_in6 l6 = { .sin6_family = AF_INET6 };
        uint16_t pp = rnd(4) ? ports[rnd(7)] : (uint16_t) (1 + rnd(65535));
        uint16_t lp = rnd(2) ? ports[rnd(7)] : (uint16_t) (1 + rnd(65535));
        uint8_t a[16];

        if (kind == 1) {
                inet_pton(AF_INET6, peers6[rnd(5)], a);
                if (rnd(2))
                        a[15] ^= (uint8_t) rnd(256), a[3] ^= (uint8_t) (rnd(2) << rnd(8));
        } else {
                inet_pton(AF_INET, peers4[rnd(6)], a);
                if (rnd(2))
                        a[3] ^= (uint8_t) rnd(256), a[1] ^= (uint8_t) (rnd(2) << rnd(8));
        }
        l6.sin6_port = htons(lp);
        if (kind == 0) {
                memcpy(&s4.sin_addr, a, 4);
                s4.sin_port = htons(pp);
                ka_conn_ends_from(k, (struct sockaddr *) &s4, sizeof(s4), (struct sockaddr *) &l6, sizeof(l6));
        } else {
                if (kind == 2) {
                        memset(&s6.sin6_addr, 0, 10);
                        ((uint8_t *) &s6.sin6_addr)[10] = ((uint8_t *) &s6.sin6_addr)[11] = 0xff;
                        memcpy((uint8_t *) &s6.sin6_addr + 12, a, 4);
                } else
                        memcpy(&s6.sin6_addr, a, 16);
                s6.sin6_port = htons(pp);
                ka_conn_ends_from(k, (struct sockaddr *) &s6, sizeof(s6), (struct sockaddr *) &l6, sizeof(l6));
        }
        /* What conn_ends_of() in tcpkeepalive.bpf.c reads from the socket:
         * the address words as the kernel keeps them, a mapped peer as IPv4. */
        memset(t, 0, sizeof(*t));
        t->family = k->family;
        memcpy(t->peer, k->peer, k->family == AF_INET ? 4 : 16);
        t->peer_port = k->peer_port;
        t->local_port = k->local_port;
}

int main(void) {
        static struct ka_path paths[KA_PATHS_MAX], parsed;
        static struct tka_bpf_paths bp;
        static char text[KA_PATH_TEXT_MAX + 1];
        unsigned matched = 0, none = 0;

        for (unsigned round = 0; round < 3000; round++) {
                unsigned n = 1 + rnd(KA_PATHS_MAX);
                memset(&bp, 0, sizeof(bp));
                for (unsigned i = 0; i < n; i++) {
                        random_path(&paths[i]);
                        /* As the generator passes it and attach reads it. */
                        ka_path_format(&paths[i], text, sizeof(text));
                        CHECK(ka_path_parse(text, &parsed) == 0, "ka_path_parse(%s)", text);
                        tka_bpf_path_from(&parsed, &bp.path[bp.n++]);
                }
                for (unsigned c = 0; c < 50; c++) {
                        struct ka_conn_ends k;
                        struct tka_conn_ends t;
                        int want;
                        __u64 got;
                        random_conn(&k, &t);
                        want = ka_paths_match(paths, n, &k);
                        got = tka_paths_select(&bp, &t);
                        CHECK((int) got - 1 == want, "round %u conn %u: ka_paths_match %d, BPF matcher %d", round, c,
                              want, (int) got - 1);
                        if (want >= 0)
                                matched++;
                        else
                                none++;
                }
        }
        /* Both outcomes were exercised, not only one. */
        CHECK(matched > 10000 && none > 10000, "matched %u, none %u", matched, none);
        printf("%d checks, %d failures (%u connections matched a path, %u none)\n", checks, failures, matched, none);
        return failures != 0;
}
