#!/bin/sh
# Threads opening, accepting and closing at once (fd numbers reused across
# threads all the time), and fork + exec: every connection still carries
# keepalive, in the child and in the new image too.
. "$TKA_SRCDIR/tests/lib.sh"

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 "$PROBE" threads 8 250)
expect_eq "$out" "threads connections=2000 without-keepalive=0" "8 threads x 250 connections"
pass "threads"

out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 "$PROBE" fork-exec) || fail "fork-exec failed"
expect_match "$(probe_line "$out" forked-child)" "keepalive=1 idle=75 " "socket in the forked child"
expect_match "$(probe_line "$out" tcp6)" "keepalive=1 idle=75 " "socket after exec"
pass "fork and exec"
