/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-params: ka_parse_uint (lib/shared/keepalive-params.h), the parser of
 * every TCPKEEPALIVE_* number, KEEPCNT and the tcpkeepalive command's
 * options, at the edges of its ranges and of 32-bit arithmetic. Built
 * natively by make check, and with -m32 by tests/unit/params-m32.sh, where
 * unsigned long is 32 bits (issue 12: "4294967300" parsed as 4 there).
 * Exits 1 naming every failed case.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "keepalive-params.h"

static int failures;

static void expect(const char *s, unsigned min, unsigned max, int want_r, unsigned want_v) {
        unsigned v = 12345;
        int r = ka_parse_uint(s, min, max, &v);
        if (r != want_r || (r == 0 && v != want_v)) {
                printf("FAIL: ka_parse_uint(\"%s\", %u, %u) = %d (value %u), want %d (value %u)\n", s, min, max, r, v,
                       want_r, want_v);
                failures++;
        } else if (r != 0 && v != 12345) {
                printf("FAIL: ka_parse_uint(\"%s\", %u, %u) failed but wrote %u\n", s, min, max, v);
                failures++;
        }
}

int main(void) {
        /* ordinary values */
        expect("75", 1, KA_IDLE_MAX, 0, 75);
        expect("1", 1, KA_IDLE_MAX, 0, 1);
        expect("32767", 1, KA_IDLE_MAX, 0, 32767);
        expect("32768", 1, KA_IDLE_MAX, -ERANGE, 0);
        expect("0", 1, KA_IDLE_MAX, -ERANGE, 0);
        expect("0", 0, KA_USER_TIMEOUT_MAX, 0, 0);
        expect("007", 1, KA_COUNT_MAX, 0, 7);
        expect("", 0, 10, -EINVAL, 0);
        expect("75s", 1, KA_IDLE_MAX, -EINVAL, 0);
        expect("-5", 0, KA_IDLE_MAX, -EINVAL, 0);
        expect(" 75", 1, KA_IDLE_MAX, -EINVAL, 0);
        expect("0x10", 0, KA_IDLE_MAX, -EINVAL, 0);
        /* the edges of TCP_USER_TIMEOUT's int */
        expect("2147483647", 0, KA_USER_TIMEOUT_MAX, 0, 2147483647U);
        expect("2147483648", 0, KA_USER_TIMEOUT_MAX, -ERANGE, 0);
        /* what wraps around in 32-bit arithmetic: 2^32 + 4, 2^32 + 75, 2^32 * 10 + 75 */
        expect("4294967300", 0, KA_USER_TIMEOUT_MAX, -ERANGE, 0);
        expect("4294967371", 1, KA_IDLE_MAX, -ERANGE, 0);
        expect("42949672960075", 1, KA_IDLE_MAX, -ERANGE, 0);
        expect("99999999999999999999", 0, KA_USER_TIMEOUT_MAX, -ERANGE, 0);
        expect("000000000000000000000000000042", 1, KA_COUNT_MAX, 0, 42);
        /* the whole unsigned range: max = UINT32_MAX */
        expect("4294967295", 0, UINT32_MAX, 0, 4294967295U);
        expect("4294967296", 0, UINT32_MAX, -ERANGE, 0);
        expect("4294967290", 0, UINT32_MAX, 0, 4294967290U);
        expect("4294967299", 0, UINT32_MAX, -ERANGE, 0);
        expect("42949672950", 0, UINT32_MAX, -ERANGE, 0);
        /* small maxima, where max - digit would wrap */
        expect("5", 0, 3, -ERANGE, 0);
        expect("3", 0, 3, 0, 3);
        expect("9", 0, 0, -ERANGE, 0);
        expect("0", 0, 0, 0, 0);
        expect("10", 0, 9, -ERANGE, 0);
        printf("%s: %zu-bit unsigned long, %d failure(s)\n", failures ? "FAIL" : "ok", sizeof(unsigned long) * 8,
               failures);
        return failures ? 1 : 0;
}
