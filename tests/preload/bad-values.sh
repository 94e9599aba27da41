#!/bin/sh
# Bad values never crash, block or change the program otherwise: that option
# keeps the kernel default, the rest still applies, and one message per bad
# value goes to stderr.
. "$TKA_SRCDIR/tests/lib.sh"

sysctl_idle=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)
sysctl_count=$(cat /proc/sys/net/ipv4/tcp_keepalive_probes)

for bad in abc 0 99999 -5 " 75" 75s 0x10 "" 4294967371 99999999999999999999; do
        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE="$bad" TCPKEEPALIVE_INTERVAL=60 \
                "$PROBE" connection4 2>"$TMP/err") || fail "IDLE='$bad': the program failed"
        expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=$sysctl_idle interval=60 " \
                "IDLE='$bad' keeps the kernel default and the rest"
        err=$(cat "$TMP/err")
        # Under valgrind the wrapper shell and valgrind's launcher load the
        # library too, and each says so once.
        if [ -n "$bad" ] && [ "${TKA_VALGRIND:-}" != 1 ]; then
                expect_eq "$(printf '%s\n' "$err" | grep -c TCPKEEPALIVE_IDLE)" 1 "one message for IDLE='$bad'"
        fi
        if [ -n "$bad" ]; then
                expect_match "$err" "^tcpkeepalive: ignoring TCPKEEPALIVE_IDLE=" "message names the variable"
        fi
done
pass "bad TCPKEEPALIVE_IDLE values"

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_COUNT=128 KEEPCNT=5 "$PROBE" connection4 2>"$TMP/err")
expect_match "$(probe_line "$out" accepted)" "count=$sysctl_count " "a bad value of ours does not fall back to KEEPCNT"
expect_match "$(cat "$TMP/err")" "TCPKEEPALIVE_COUNT='128': out of range; want probes 1..127" "range in the message"
out=$(LD_PRELOAD=$TKA_PRELOAD KEEPIDLE=abc "$PROBE" connection4 2>"$TMP/err")
expect_match "$(cat "$TMP/err")" "ignoring KEEPIDLE='abc'" "bad libkeepalive value named as such"
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_MODE=sometimes TCPKEEPALIVE_DIRECTION=sideways TCPKEEPALIVE_IDLE=75 \
        "$PROBE" connection4 2>"$TMP/err")
expect_match "$(probe_line "$out" client)" "keepalive=1 idle=75 " "bad mode/direction fall back to default/both"
expect_match "$(cat "$TMP/err")" "TCPKEEPALIVE_MODE='sometimes'" "bad mode reported"
expect_match "$(cat "$TMP/err")" "TCPKEEPALIVE_DIRECTION='sideways'" "bad direction reported"
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_USER_TIMEOUT=0 "$PROBE" connection4 2>"$TMP/err")
expect_match "$(probe_line "$out" accepted)" "user_timeout=0$" "USER_TIMEOUT=0 is the kernel default"
expect_eq "$(cat "$TMP/err")" "" "USER_TIMEOUT=0 is valid"
pass "bad values of the other variables"

# A closed stderr must not hurt: the message has nowhere to go.
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=abc "$PROBE" connection4 2>&-) || fail "closed stderr"
expect_match "$(probe_line "$out" accepted)" "keepalive=1 " "closed stderr"
pass "closed stderr"
