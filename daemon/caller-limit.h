/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * How much each local user may ask of tcpkeepalived: a request costs
 * systemd calls, made while the daemon's event loop waits, so one user's
 * flood would hold everyone else's answers back (5,000 GetUnit calls from
 * nobody once made root's status take 15 s). Per UID, a token bucket:
 * CALLER_LIMIT_RATE requests a second on average, CALLER_LIMIT_BURST at
 * once. Root is not limited. The table is bounded: the UID idle longest
 * makes room.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CALLER_LIMIT_RATE 20.0
#define CALLER_LIMIT_BURST 40.0
#define CALLER_LIMIT_UIDS 64

struct caller_bucket {
        uid_t uid;
        double tokens;
        uint64_t last_usec;
};

struct caller_limit {
        struct caller_bucket v[CALLER_LIMIT_UIDS];
        size_t n;
};

/* Takes cost tokens from uid's bucket at now_usec (CLOCK_MONOTONIC): true
 * when it had them, false when uid must wait. */
bool caller_limit_take(struct caller_limit *l, uid_t uid, uint64_t now_usec, double cost);
