/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Rules by network path (keepalived.d(5), "Rules by network path"): which
 * connections of a unit a path rule covers, the text that carries path
 * rules from the generator's drop-in to the preload library
 * (TCPKEEPALIVE_PATH1..), to tcpkeepalive-bpf (--path=) and back to the
 * daemon, and the one matcher all of them use, so that the preload, BPF
 * and the state judge a connection alike.
 *
 * Header-only and libc-only for the same reason as keepalive-params.h: the
 * preload library includes it, and it allocates nothing (the library reads
 * its configuration into static storage).
 *
 * The text of one path rule, fields separated by ';', lists by ',', every
 * field optional, each at most once:
 *     dst=10.0.0.0/8,!10.1.0.0/16,fd00::/8;port=5432,6000-6010;lport=443;
 *     idle=300;interval=10;count=3;user_timeout=330000
 * dst: the peer's address (a prefix; '!' excludes); port: the peer's port;
 * lport: the local port. A connection is covered when its peer is in some
 * included prefix (or there are none) and in no excluded one, and its
 * ports are in the lists given. idle/interval/count in seconds/probes,
 * user_timeout in ms; a value not given keeps the kernel's default.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "keepalive-params.h"

/* The environment of the preload library: TCPKEEPALIVE_PATH1 .. _PATH16,
 * read in order until the first one missing. */
#define KA_ENV_PATH_PREFIX "TCPKEEPALIVE_PATH"
/* "off": a connection no path rule covers gets nothing (only path rules
 * reach the unit); absent: it gets the unit's own values. */
#define KA_ENV_UNMATCHED "TCPKEEPALIVE_UNMATCHED"

#define KA_PATHS_MAX 16
#define KA_PATH_DESTINATIONS_MAX 128
#define KA_PATH_PORTS_MAX 16
/* The longest text ka_path_parse takes (128 IPv6 prefixes and all). */
#define KA_PATH_TEXT_MAX 8192

struct ka_prefix {
        uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
        uint8_t family;   /* AF_INET or AF_INET6 */
        uint8_t len;      /* prefix length, 0..32 or 0..128 */
        uint8_t exclude;  /* '!': the rule does not cover this prefix */
};

struct ka_port_range {
        uint16_t first, last;
};

struct ka_path {
        struct ka_prefix destinations[KA_PATH_DESTINATIONS_MAX];
        struct ka_port_range ports[KA_PATH_PORTS_MAX];
        struct ka_port_range local_ports[KA_PATH_PORTS_MAX];
        uint16_t n_destinations;
        uint8_t n_ports, n_local_ports;
        /* -1: the kernel's default */
        int idle, interval, count, user_timeout;
};

/* A connection's ends as the matcher takes them. An IPv4-mapped IPv6 peer
 * (a dual-stack socket) is its IPv4 address. */
struct ka_conn_ends {
        uint8_t peer[16];
        uint8_t family; /* AF_INET, AF_INET6; 0: unknown (matches no dst) */
        uint16_t peer_port, local_port; /* host byte order; 0: unknown */
};

static inline bool ka_prefix_contains(const struct ka_prefix *p, const struct ka_conn_ends *c) {
        unsigned whole = p->len / 8, rest = p->len % 8;

        if (p->family != c->family)
                return false;
        if (memcmp(p->addr, c->peer, whole) != 0)
                return false;
        if (rest) {
                uint8_t mask = (uint8_t) (0xff << (8 - rest));
                if ((p->addr[whole] & mask) != (c->peer[whole] & mask))
                        return false;
        }
        return true;
}

static inline bool ka_port_in(const struct ka_port_range *r, unsigned n, uint16_t port) {
        for (unsigned i = 0; i < n; i++)
                if (port >= r[i].first && port <= r[i].last)
                        return true;
        return false;
}

/* How specifically the path covers the connection: -1 not at all, else
 * (longest included prefix + 1, 0 without dst) * 4 + (port given) * 2 +
 * (lport given). */
static inline int ka_path_specificity(const struct ka_path *p, const struct ka_conn_ends *c) {
        int best = -1;
        bool any_include = false;

        if (p->n_ports && !ka_port_in(p->ports, p->n_ports, c->peer_port))
                return -1;
        if (p->n_local_ports && !ka_port_in(p->local_ports, p->n_local_ports, c->local_port))
                return -1;
        for (unsigned i = 0; i < p->n_destinations && i < KA_PATH_DESTINATIONS_MAX; i++) {
                const struct ka_prefix *d = &p->destinations[i];
                if (!d->exclude)
                        any_include = true;
                if (!ka_prefix_contains(d, c))
                        continue;
                if (d->exclude)
                        return -1;
                if (d->len > best)
                        best = d->len;
        }
        if (any_include && best < 0)
                return -1;
        return (best + 1) * 4 + (p->n_ports ? 2 : 0) + (p->n_local_ports ? 1 : 0);
}

/*
 * The path rule that covers the connection: the most specific one (longest
 * matching destination prefix, then Port= given, then LocalPort= given),
 * the later one (in file name order) between equals. -1: none.
 */
static inline int ka_paths_match(const struct ka_path *paths, unsigned n, const struct ka_conn_ends *c) {
        int best = -1, best_score = -1;

        for (unsigned i = 0; i < n && i < KA_PATHS_MAX; i++) {
                int s = ka_path_specificity(&paths[i], c);
                if (s >= 0 && s >= best_score) {
                        best = (int) i;
                        best_score = s;
                }
        }
        return best;
}

/* The ends of a connection from its addresses (either may be NULL). */
static inline void ka_conn_ends_from(struct ka_conn_ends *c, const struct sockaddr *peer, socklen_t peer_len,
                                     const struct sockaddr *local, socklen_t local_len) {
        static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        memset(c, 0, sizeof(*c));
        if (peer && peer_len >= sizeof(struct sockaddr_in) && peer->sa_family == AF_INET) {
                const struct sockaddr_in *s = (const struct sockaddr_in *) peer;
                c->family = AF_INET;
                memcpy(c->peer, &s->sin_addr, 4);
                c->peer_port = ntohs(s->sin_port);
        } else if (peer && peer_len >= sizeof(struct sockaddr_in6) && peer->sa_family == AF_INET6) {
                const struct sockaddr_in6 *s = (const struct sockaddr_in6 *) peer;
                if (memcmp(&s->sin6_addr, v4mapped, 12) == 0) {
                        c->family = AF_INET;
                        memcpy(c->peer, (const uint8_t *) &s->sin6_addr + 12, 4);
                } else {
                        c->family = AF_INET6;
                        memcpy(c->peer, &s->sin6_addr, 16);
                }
                c->peer_port = ntohs(s->sin6_port);
        }
        if (local && local_len >= sizeof(struct sockaddr_in) && local->sa_family == AF_INET)
                c->local_port = ntohs(((const struct sockaddr_in *) local)->sin_port);
        else if (local && local_len >= sizeof(struct sockaddr_in6) && local->sa_family == AF_INET6)
                c->local_port = ntohs(((const struct sockaddr_in6 *) local)->sin6_port);
}

/* ---- the text form ------------------------------------------------------------------------- */

/*
 * One prefix: "10.0.0.0/8", "fd00::/8", an address alone (the host),
 * optionally after '!' when allow_exclude. The bits after the prefix must
 * be zero. Returns 0, -EINVAL (not an address or prefix), -ERANGE (prefix
 * length too long), -EDOM (bits set after the prefix; *ret is filled).
 */
static inline int ka_prefix_parse(const char *s, size_t n, bool allow_exclude, struct ka_prefix *ret) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash;
        unsigned len, max;
        struct ka_prefix p = { 0 };

        if (allow_exclude && n > 0 && s[0] == '!') {
                p.exclude = 1;
                s++;
                n--;
        }
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        slash = strchr(buf, '/');
        if (slash)
                buf[slash - buf] = '\0';
        if (inet_pton(AF_INET, buf, p.addr) == 1)
                p.family = AF_INET, max = 32;
        else if (inet_pton(AF_INET6, buf, p.addr) == 1)
                p.family = AF_INET6, max = 128;
        else
                return -EINVAL;
        len = max;
        if (slash) {
                int r = ka_parse_uint(slash + 1, 0, max, &len);
                if (r < 0)
                        return r;
        }
        p.len = (uint8_t) len;
        *ret = p; /* also for -EDOM: the caller may show what was meant */
        for (unsigned bit = len; bit < max; bit++)
                if (p.addr[bit / 8] & (0x80 >> (bit % 8)))
                        return -EDOM;
        return 0;
}

/* "5432" or "6000-6010", 1..65535. -EINVAL, -ERANGE (0, > 65535, or
 * first > last). */
static inline int ka_port_range_parse(const char *s, size_t n, struct ka_port_range *ret) {
        char buf[16];
        char *dash;
        unsigned a, b;
        int r;

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        dash = strchr(buf, '-');
        if (dash)
                *dash = '\0';
        if ((r = ka_parse_uint(buf, 1, 65535, &a)) < 0)
                return r;
        b = a;
        if (dash && (r = ka_parse_uint(dash + 1, 1, 65535, &b)) < 0)
                return r;
        if (b < a)
                return -ERANGE;
        *ret = (struct ka_port_range) { (uint16_t) a, (uint16_t) b };
        return 0;
}

static inline int ka_path_parse_number(const char *s, size_t n, unsigned min, unsigned max, int *ret) {
        char buf[16];
        unsigned v;

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (ka_parse_uint(buf, min, max, &v) < 0)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

/* Parses the text of one path rule (the format above; written by the
 * generator, so anything else is refused whole). 0 or -EINVAL. */
static inline int ka_path_parse(const char *text, struct ka_path *ret) {
        struct ka_path *p = ret;
        unsigned seen = 0;

        memset(p, 0, sizeof(*p));
        p->idle = p->interval = p->count = p->user_timeout = -1;
        if (!text || strnlen(text, KA_PATH_TEXT_MAX + 1) > KA_PATH_TEXT_MAX)
                return -EINVAL;
        for (const char *f = text; *f;) {
                size_t flen = strcspn(f, ";");
                const char *eq = memchr(f, '=', flen);
                const char *v;
                size_t klen, vlen;
                static const char *const keys[] = { "dst", "port", "lport", "idle", "interval", "count", "user_timeout" };
                unsigned k;

                if (!eq)
                        return -EINVAL;
                klen = (size_t) (eq - f);
                v = eq + 1;
                vlen = flen - klen - 1;
                for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
                        if (strlen(keys[k]) == klen && memcmp(keys[k], f, klen) == 0)
                                break;
                if (k == sizeof(keys) / sizeof(keys[0]) || (seen & (1U << k)))
                        return -EINVAL;
                seen |= 1U << k;
                if (k <= 2) {
                        for (const char *e = v; e < v + vlen;) {
                                size_t elen = strcspn(e, ",;");
                                int r;
                                if (elen > (size_t) (v + vlen - e))
                                        elen = (size_t) (v + vlen - e);
                                if (k == 0) {
                                        if (p->n_destinations >= KA_PATH_DESTINATIONS_MAX)
                                                return -EINVAL;
                                        r = ka_prefix_parse(e, elen, true, &p->destinations[p->n_destinations++]);
                                } else if (k == 1) {
                                        if (p->n_ports >= KA_PATH_PORTS_MAX)
                                                return -EINVAL;
                                        r = ka_port_range_parse(e, elen, &p->ports[p->n_ports++]);
                                } else {
                                        if (p->n_local_ports >= KA_PATH_PORTS_MAX)
                                                return -EINVAL;
                                        r = ka_port_range_parse(e, elen, &p->local_ports[p->n_local_ports++]);
                                }
                                if (r < 0)
                                        return -EINVAL;
                                e += elen;
                                if (*e == ',')
                                        e++;
                        }
                } else {
                        int r = k == 3   ? ka_path_parse_number(v, vlen, 1, KA_IDLE_MAX, &p->idle)
                                : k == 4 ? ka_path_parse_number(v, vlen, 1, KA_INTERVAL_MAX, &p->interval)
                                : k == 5 ? ka_path_parse_number(v, vlen, 1, KA_COUNT_MAX, &p->count)
                                         : ka_path_parse_number(v, vlen, 0, KA_USER_TIMEOUT_MAX, &p->user_timeout);
                        if (r < 0)
                                return r;
                }
                f += flen;
                if (*f == ';')
                        f++;
        }
        return 0;
}

/* Writes the text form of p (what ka_path_parse reads back). */
static inline void ka_path_format(const struct ka_path *p, char *buf, size_t size) {
        size_t at = 0;
        const char *sep = "";

#define KA_PATH_PUT(...)                                                                     \
        do {                                                                                 \
                int n_ = snprintf(buf + at, at < size ? size - at : 0, __VA_ARGS__);         \
                if (n_ > 0)                                                                  \
                        at += (size_t) n_;                                                   \
        } while (0)

        if (size)
                buf[0] = '\0';
        if (p->n_destinations) {
                KA_PATH_PUT("dst=");
                for (unsigned i = 0; i < p->n_destinations; i++) {
                        char a[INET6_ADDRSTRLEN];
                        inet_ntop(p->destinations[i].family, p->destinations[i].addr, a, sizeof(a));
                        KA_PATH_PUT("%s%s%s/%u", i ? "," : "", p->destinations[i].exclude ? "!" : "", a,
                                    p->destinations[i].len);
                }
                sep = ";";
        }
        for (int k = 0; k < 2; k++) {
                const struct ka_port_range *r = k ? p->local_ports : p->ports;
                unsigned n = k ? p->n_local_ports : p->n_ports;
                if (!n)
                        continue;
                KA_PATH_PUT("%s%s=", sep, k ? "lport" : "port");
                for (unsigned i = 0; i < n; i++) {
                        if (r[i].first == r[i].last)
                                KA_PATH_PUT("%s%u", i ? "," : "", r[i].first);
                        else
                                KA_PATH_PUT("%s%u-%u", i ? "," : "", r[i].first, r[i].last);
                }
                sep = ";";
        }
        if (p->idle > 0) {
                KA_PATH_PUT("%sidle=%d", sep, p->idle);
                sep = ";";
        }
        if (p->interval > 0) {
                KA_PATH_PUT("%sinterval=%d", sep, p->interval);
                sep = ";";
        }
        if (p->count > 0) {
                KA_PATH_PUT("%scount=%d", sep, p->count);
                sep = ";";
        }
        if (p->user_timeout >= 0)
                KA_PATH_PUT("%suser_timeout=%d", sep, p->user_timeout);
#undef KA_PATH_PUT
}
