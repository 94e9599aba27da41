#!/bin/sh
# The library under stress (tests/programs/stress.c): 8 threads churning
# loopback connections while another forks and execs and another sends
# signals into the wrappers, for 10 s (TKA_STRESS_SECONDS; `make stress
# STRESS_SECONDS=600` for a long run); fd numbers reused between TCP, UDP,
# pipes and sockets the library never saw; RLIMIT_NOFILE raised to the
# kernel's nr_open at run time (where CAP_SYS_RESOURCE allows; else the
# hard limit) and sockets at the highest fd numbers it allows, also
# beyond the library's fd table.
. "$TKA_SRCDIR/tests/lib.sh"
STRESS=$(test_program stress)

seconds=${TKA_STRESS_SECONDS:-10}
case $seconds in '' | *[!0-9]*) fail "TKA_STRESS_SECONDS='$seconds': want a whole number of seconds" ;; esac
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 "$STRESS" churn 8 "$seconds") || fail "churn: $out"
expect_match "$out" "without-keepalive=0 .*errno-lost=0" "churn"
pass "$out"

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=force "$STRESS" reuse 20000) || fail "reuse: $out"
pass "$out"

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=force "$STRESS" high-fds) || fail "high fds: $out"
pass "$out"
# The same with a copy of the library whose fd table has 1,024 entries:
# every socket of the run lies beyond it (what fds past 1,048,576 would be).
out2=$(LD_PRELOAD=$TKA_SMALLTABLE_LIB TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=force "$STRESS" high-fds) ||
        fail "high fds beyond the library's table: $out2"
pass "beyond a 1,024-entry fd table: $out2"
case $out in
*" limit=$(cat /proc/sys/fs/nr_open) "*) ;;
*) echo "note: RLIMIT_NOFILE stayed at the hard limit $(ulimit -Hn): raising it to fs.nr_open needs CAP_SYS_RESOURCE, which this root lacks" ;;
esac
