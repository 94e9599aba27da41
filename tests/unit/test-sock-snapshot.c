/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sock_snapshot_parse (daemon/tcp-table.c): what one read of the pinned
 * socket iterator (bpf/sockets.bpf.c, pinned by tcpkeepalive-bpf iter-pin)
 * returns, parsed into the per-request snapshot ListUnits selects each
 * unit's sockets from: the header checked (format, record size, the
 * kernel's HZ), the records ordered by cgroup, pid and fd, the listeners
 * per network namespace (inbound detection), the BPF backend's flags per
 * socket (how the rule's values came; 0 in an older iterator's records,
 * read as unknown). Records are built here by
 * hand; the iterator itself is exercised in the container tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "tcp-table.h"
#include "../bpf/sockets.h"
#include "check.h"

static size_t build(char *buf, const struct tka_sockets_header *h, const struct tka_socket_record *r, size_t n) {
        memcpy(buf, h, sizeof(*h));
        memcpy(buf + sizeof(*h), r, n * sizeof(*r));
        return sizeof(*h) + n * sizeof(*r);
}

int main(void) {
        struct tka_sockets_header h = { .magic = TKA_SOCKETS_MAGIC, .version = TKA_SOCKETS_VERSION,
                                        .record_size = sizeof(struct tka_socket_record), .hz = 250 };
        const struct tka_socket_record recs[] = {
                /* cgroup 200: a listener on 8080 in netns 1, a connection accepted on it, one outbound */
                { .cgroup_id = 200, .inode = 11, .netns = 1, .pid = 20, .fd = 4, .local_port = 8080, .state = 10 },
                { .cgroup_id = 200, .inode = 13, .netns = 1, .pid = 20, .fd = 7, .local_port = 40000, .state = 1,
                  .keepalive = 1, .idle = 60, .interval = 10, .count = 5, .user_timeout = 30000,
                  .flags = TKA_SOCKET_MANAGED | TKA_SOCKET_APPLIED_ESTABLISHED },
                { .cgroup_id = 200, .inode = 12, .netns = 1, .pid = 20, .fd = 5, .local_port = 8080, .state = 1,
                  .keepalive = 0, .idle = 7200, .interval = 75, .count = 9,
                  .flags = TKA_SOCKET_MANAGED | TKA_SOCKET_APPLIED_LIVE },
                /* cgroup 100: port 8080 in another namespace, not listened on there */
                { .cgroup_id = 100, .inode = 21, .netns = 2, .pid = 10, .fd = 3, .local_port = 8080, .state = 1 },
                /* a second listener on the same port and namespace (SO_REUSEPORT): one entry */
                { .cgroup_id = 300, .inode = 31, .netns = 1, .pid = 30, .fd = 3, .local_port = 8080, .state = 10 },
        };
        char buf[4096];
        struct sock_snapshot s;
        const struct iter_socket *first;
        size_t len = build(buf, &h, recs, sizeof(recs) / sizeof(recs[0])), m;
        struct tka_sockets_header bad;

        CHECK(sock_snapshot_parse(buf, len, &s) == 0, "a valid snapshot is refused");
        CHECK(s.n == 5, "%zu sockets, want 5", s.n);
        CHECK(s.n_listeners == 1, "%zu listeners, want 1 (same netns and port twice)", s.n_listeners);
        m = sock_snapshot_cgroup(&s, 200, &first);
        CHECK(m == 3, "cgroup 200: %zu sockets, want 3", m);
        CHECK(m == 3 && first[0].fd == 4 && first[1].fd == 5 && first[2].fd == 7, "cgroup 200 not ordered by fd");
        CHECK(m == 3 && first[2].keepalive == 1 && first[2].idle == 60 && first[2].interval == 10 &&
                      first[2].count == 5 && first[2].user_timeout == 30000,
              "values not carried over");
        CHECK(m == 3 && first[0].flags == 0 && first[1].flags == (TKA_SOCKET_MANAGED | TKA_SOCKET_APPLIED_LIVE) &&
                      first[2].flags == (TKA_SOCKET_MANAGED | TKA_SOCKET_APPLIED_ESTABLISHED),
              "flags not carried over: %u %u %u", m == 3 ? first[0].flags : 0, m == 3 ? first[1].flags : 0,
              m == 3 ? first[2].flags : 0);
        CHECK(sock_snapshot_cgroup(&s, 100, &first) == 1 && first[0].inode == 21, "cgroup 100 not found");
        CHECK(sock_snapshot_cgroup(&s, 150, &first) == 0, "cgroup 150 has no sockets");
        CHECK(sock_snapshot_cgroup(&s, 999, &first) == 0, "cgroup 999 has no sockets");
        CHECK(sock_snapshot_listening(&s, 1, 8080), "8080 listened on in netns 1");
        CHECK(!sock_snapshot_listening(&s, 2, 8080), "8080 not listened on in netns 2");
        CHECK(!sock_snapshot_listening(&s, 1, 40000), "40000 not listened on");
        sock_snapshot_done(&s);

        /* An empty system: the header alone. */
        CHECK(sock_snapshot_parse(buf, sizeof(h), &s) == 0 && s.n == 0, "header alone refused");
        sock_snapshot_done(&s);

        /* What is not ours, or cut short, or cannot be converted. */
        CHECK(sock_snapshot_parse(buf, len - 1, &s) == -EBADMSG, "a truncated record accepted");
        CHECK(sock_snapshot_parse(buf, 10, &s) == -EBADMSG, "a truncated header accepted");
        bad = h;
        bad.magic ^= 1;
        build(buf, &bad, recs, 1);
        CHECK(sock_snapshot_parse(buf, sizeof(bad) + sizeof(recs[0]), &s) == -EBADMSG, "wrong magic accepted");
        bad = h;
        bad.version = TKA_SOCKETS_VERSION + 1;
        build(buf, &bad, recs, 1);
        CHECK(sock_snapshot_parse(buf, sizeof(bad) + sizeof(recs[0]), &s) == -EBADMSG, "another version accepted");
        bad = h;
        bad.hz = 0;
        build(buf, &bad, recs, 1);
        CHECK(sock_snapshot_parse(buf, sizeof(bad) + sizeof(recs[0]), &s) == -EOPNOTSUPP, "HZ 0 accepted");
        /* A record of an iterator older than the flags (the field was
         * "reserved", always 0): the same size, read as no mark. */
        {
                struct tka_socket_record old = recs[1];
                old.flags = 0;
                len = build(buf, &h, &old, 1);
                CHECK(sock_snapshot_parse(buf, len, &s) == 0 && s.n == 1 && s.sockets[0].flags == 0 &&
                              s.sockets[0].idle == 60,
                      "an older iterator's record misread");
                sock_snapshot_done(&s);
        }
        /* A longer record (a newer iterator with fields appended) is read by its known prefix. */
        {
                char big[2 * (sizeof(recs[0]) + 8) + sizeof(h)];
                bad = h;
                bad.record_size = sizeof(recs[0]) + 8;
                memset(big, 0, sizeof(big));
                memcpy(big, &bad, sizeof(bad));
                memcpy(big + sizeof(bad), &recs[1], sizeof(recs[1]));
                memcpy(big + sizeof(bad) + bad.record_size, &recs[0], sizeof(recs[0]));
                CHECK(sock_snapshot_parse(big, sizeof(big), &s) == 0 && s.n == 2 && s.sockets[0].fd == 4 &&
                              s.sockets[1].idle == 60 &&
                              s.sockets[1].flags == (TKA_SOCKET_MANAGED | TKA_SOCKET_APPLIED_ESTABLISHED),
                      "longer records misread");
                sock_snapshot_done(&s);
        }
        if (failures)
                return 1;
        printf("PASS: socket iterator snapshot parsing\n");
        return 0;
}
