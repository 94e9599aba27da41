/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * org.tcpkeepalive1: the contract between tcpkeepalived and its clients
 * (tcpkeepalivectl), in one place. Documented in tcpkeepalived(8).
 */

#define BUS_NAME "org.tcpkeepalive1"
#define OBJECT_PATH "/org/tcpkeepalive1"
#define MANAGER_IFACE "org.tcpkeepalive1.Manager"

/* A unit, as ListUnits and GetUnit give it: unit, state, reason, rule
 * file, main PID, then its established TCP connections: all, with the
 * rule's values, with the program's own, without keepalive, unread (the
 * rest were left out by Direction=); then the method ("preload", "bpf",
 * "-"). */
#define UNIT_ROW_SIGNATURE "(ssssuuuuuus)"

/* A socket, as GetUnitSockets gives it: local, peer, TCP state, PID, fd,
 * SO_KEEPALIVE, idle, interval, count, user timeout (-1: unread), its
 * class against the rule ("rule", "own", "none", "unread", "not-covered",
 * "" when not established), why it is unread ("" otherwise), and how a
 * "rule" socket got the values: "live" (tcpkeepalive-bpf apply, on the
 * established connection), "bpf" (the BPF backend at establishment), ""
 * (unknown: the preload, the socket iterator not pinned, older programs),
 * and, where rules by path reach the unit, which covers the connection: the
 * path rule's file name ("path N" when the rules changed since the unit
 * started), "unit" (the unit's own rule), "none" (no rule covers it), ""
 * without path rules or when not established. */
#define UNIT_SOCKET_SIGNATURE "(sssuubiiiissss)"

/* What the kernel's TCP timers did to a unit's connections, as GetUnitCloses
 * and ListUnitCloses give it: unit; why there are no counts ("" when there
 * are: the close counters are not pinned, the unit does not run, ...);
 * since when they count (CLOCK_REALTIME usec); connections closed because
 * keepalive probes went unanswered, because TCP_USER_TIMEOUT elapsed,
 * because retransmissions ran out; connections closed with keepalive on;
 * keepalive probes sent; whether probes are counted on this kernel (when
 * not, the probe count is 0 and means nothing). */
#define UNIT_CLOSES_SIGNATURE "(ssttttttb)"
