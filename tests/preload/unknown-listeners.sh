#!/bin/sh
# Default mode: a listener the library did not see made (moved with
# F_DUPFD, received over SCM_RIGHTS, or at an fd beyond its table) on which
# the program turned keepalive off or set its own idle time keeps that
# choice for its connections (issue 12: they were configured anyway).
. "$TKA_SRCDIR/tests/lib.sh"

for how in dupfd scm highfd; do
        lib=$TKA_PRELOAD
        # The 1,024-entry copy: fd 2000 lies beyond its table.
        [ $how = highfd ] && lib=$TKA_SMALLTABLE_LIB
        [ $how = highfd ] && [ "${TKA_VALGRIND:-}" = 1 ] && continue # valgrind keeps fds above the soft limit
        out=$(LD_PRELOAD=$lib TCPKEEPALIVE_IDLE=75 "$PROBE" moved-listener $how off) || fail "$how off: $out"
        expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=0 " "$how: the program turned keepalive off"
        out=$(LD_PRELOAD=$lib TCPKEEPALIVE_IDLE=75 "$PROBE" moved-listener $how idle) || fail "$how idle: $out"
        expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=7 " "$how: the program's own idle time"
        # Force mode still configures them.
        out=$(LD_PRELOAD=$lib TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_MODE=force "$PROBE" moved-listener $how off) ||
                fail "$how force: $out"
        expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=75 " "$how, force mode"
done
pass "moved, received and high listeners keep the program's choice"

# An untouched listener moved the same ways is still configured.
out=$(LD_PRELOAD=$TKA_PRELOAD "$PROBE" dup-reuse)
expect_match "$(probe_line "$out" dup2-accepted)" "^dup2-accepted keepalive=1 " "a raw listener dup2'ed over a configured socket"
pass "untouched unknown listeners are configured"
