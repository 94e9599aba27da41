/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdint.h>

#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC 1000000ULL

/*
 * Parses a time span the way systemd.time(7) writes one: "75", "75s",
 * "2min", "1h 30min", "500ms". A bare number is seconds. Returns 0 and the
 * span in microseconds, or -EINVAL (syntax) / -ERANGE (overflow).
 */
int timespan_parse(const char *s, uint64_t *ret_usec);
