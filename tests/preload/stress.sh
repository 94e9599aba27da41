#!/bin/sh
# The library under stress (tests/programs/stress.c): 8 threads churning
# loopback connections while another forks and execs and another sends
# signals into the wrappers, for 10 s; fd numbers reused between TCP, UDP,
# pipes and sockets the library never saw; RLIMIT_NOFILE raised to the
# kernel's nr_open at run time (where CAP_SYS_RESOURCE allows; else the
# hard limit) and sockets at the highest fd numbers it allows.
. "$TKA_SRCDIR/tests/lib.sh"
STRESS=$(test_program stress)

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 "$STRESS" churn 8 10) || fail "churn: $out"
expect_match "$out" "without-keepalive=0 .*errno-lost=0" "churn"
pass "$out"

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=force "$STRESS" reuse 20000) || fail "reuse: $out"
pass "$out"

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=force "$STRESS" high-fds) || fail "high fds: $out"
pass "$out"
