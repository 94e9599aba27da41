#!/bin/sh
# Modes and directions: default lets the program's own setsockopt win, force
# keeps the rule's values and absorbs the program's calls with success, off
# does nothing; a direction filter configures only inbound or outbound ends.
# Unrelated setsockopt calls and failing calls behave exactly as without us.
. "$TKA_SRCDIR/tests/lib.sh"

fight() {
        LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=$1 "$PROBE" fight
}

out=$(fight default)
expect_eq "$(probe_line "$out" setsockopt-keepalive-0)" "setsockopt-keepalive-0 rc=0 errno=0" "default: disable call"
expect_match "$(probe_line "$out" after-fight)" "keepalive=0 idle=5 " "default mode: the program's values win"
out=$(fight force)
expect_eq "$(probe_line "$out" setsockopt-keepalive-0)" "setsockopt-keepalive-0 rc=0 errno=0" "force: the disable call succeeds"
expect_eq "$(probe_line "$out" setsockopt-idle-5)" "setsockopt-idle-5 rc=0 errno=0" "force: the idle call succeeds"
expect_match "$(probe_line "$out" after-fight)" "keepalive=1 idle=75 " "force mode: the rule's values stay"
out=$(fight off)
expect_match "$(probe_line "$out" after-fight)" "keepalive=0 idle=5 " "mode off"
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 KEEPALIVE=off "$PROBE" connection4)
expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=0 " "libkeepalive's KEEPALIVE=off"
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=default KEEPALIVE=off "$PROBE" connection4)
expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=75 " "TCPKEEPALIVE_MODE wins over KEEPALIVE=off"
pass "modes default, force, off"

# Force mode leaves options the configuration does not manage to the program.
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_INTERVAL=9 TCPKEEPALIVE_MODE=force "$PROBE" fight)
expect_match "$(probe_line "$out" after-fight)" "keepalive=1 idle=5 interval=9 " "force mode, idle not managed"
pass "force mode manages only configured options"

dir() {
        LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DIRECTION=$1 "$PROBE" connection4
}
out=$(dir inbound)
expect_match "$(probe_line "$out" listener)" "keepalive=1 idle=75 " "inbound: listener"
expect_match "$(probe_line "$out" accepted)" "keepalive=1 idle=75 " "inbound: accepted"
expect_match "$(probe_line "$out" client)" "keepalive=0 " "inbound: client untouched"
out=$(dir outbound)
expect_match "$(probe_line "$out" listener)" "keepalive=0 " "outbound: listener untouched"
expect_match "$(probe_line "$out" accepted)" "keepalive=0 " "outbound: accepted untouched"
expect_match "$(probe_line "$out" client)" "keepalive=1 idle=75 " "outbound: client"
out=$(dir both)
for end in listener client accepted; do
        expect_match "$(probe_line "$out" $end)" "keepalive=1 idle=75 " "both: $end"
done
pass "directions inbound, outbound, both"

# Everything else passes through with the same results and errno.
with=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=force "$PROBE" passthrough)
without=$("$PROBE" passthrough)
expect_eq "$with" "$without" "unrelated and failing calls, errno included"
expect_match "$with" "socket-success errno=4242" "errno preserved across a successful socket()"
pass "pass-through and errno"

# libkeepalive's names are honoured; ours win when both are set.
out=$(LD_PRELOAD=$TKA_PRELOAD KEEPIDLE=75 KEEPINTVL=60 KEEPCNT=20 "$PROBE" connection4)
expect_match "$(probe_line "$out" accepted)" "keepalive=1 idle=75 interval=60 count=20 " "libkeepalive 0.3 variables"
out=$(LD_PRELOAD=$TKA_PRELOAD KEEPIDLE=75 TCPKEEPALIVE_IDLE=44 "$PROBE" connection4)
expect_match "$(probe_line "$out" accepted)" "keepalive=1 idle=44 " "TCPKEEPALIVE_IDLE wins over KEEPIDLE"
pass "libkeepalive 0.3 compatibility"

# Debug: one line per configured socket, on stderr.
err=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DEBUG=1 "$PROBE" connection4 2>&1 >/dev/null)
expect_match "$err" "fd [0-9]+ \(socket\): keepalive on, idle=75" "debug line for a configured socket"
expect_match "$err" "fd [0-9]+ \(accept\): inherits the listener's keepalive" "debug line for an accepted socket"
err=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 "$PROBE" connection4 2>&1 >/dev/null)
expect_eq "$err" "" "no debug: silent"
pass "debug output"
