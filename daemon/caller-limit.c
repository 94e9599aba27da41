/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "caller-limit.h"

bool caller_limit_take(struct caller_limit *l, uid_t uid, uint64_t now_usec, double cost) {
        struct caller_bucket *b = NULL;

        if (uid == 0)
                return true;
        for (size_t i = 0; i < l->n && !b; i++)
                if (l->v[i].uid == uid)
                        b = &l->v[i];
        if (!b) {
                if (l->n < CALLER_LIMIT_UIDS)
                        b = &l->v[l->n++];
                else {
                        b = &l->v[0];
                        for (size_t i = 1; i < l->n; i++)
                                if (l->v[i].last_usec < b->last_usec)
                                        b = &l->v[i];
                }
                *b = (struct caller_bucket) { .uid = uid, .tokens = CALLER_LIMIT_BURST, .last_usec = now_usec };
        }
        if (now_usec > b->last_usec) {
                b->tokens += (double) (now_usec - b->last_usec) / 1e6 * CALLER_LIMIT_RATE;
                if (b->tokens > CALLER_LIMIT_BURST)
                        b->tokens = CALLER_LIMIT_BURST;
                b->last_usec = now_usec;
        }
        if (b->tokens < cost)
                return false;
        b->tokens -= cost;
        return true;
}
