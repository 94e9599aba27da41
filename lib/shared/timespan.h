/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdint.h>

#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC 1000000ULL

/*
 * Parses a time span as systemd does (systemd.time(7); parse_sec() in its
 * src/basic/time-util.c): "75", "75s", "2min", "1h 30min", "500ms",
 * "1.5min", ".5s", "1h 30" (a bare number is seconds, also as a part),
 * the units of systemd's table (us .. y, M for months). Returns 0 and the
 * span in microseconds, or -EINVAL (syntax) / -ERANGE (overflow).
 * "infinity" is not taken: no keepalive value can be infinite.
 */
int timespan_parse(const char *s, uint64_t *ret_usec);
