#!/bin/sh
# The tcpkeepalive command and the library in the program it starts, under
# valgrind's memcheck (the library's own tests run under valgrind as the
# generated tests/preload/*-valgrind.vg): no invalid access, no uninitialised
# value reaching a syscall, no leak.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd valgrind

TCPKEEPALIVE_DEBUG=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --trace-children=yes "$TKA_BUILDDIR/tcpkeepalive" --library="$TKA_LIB" --idle=30 -- "$PROBE" connection4 \
        >"$TMP/out" 2>"$TMP/err" || fail "valgrind found errors:
$(cat "$TMP/err")"
expect_match "$(cat "$TMP/out")" "accepted keepalive=1 idle=30" "wrapper under valgrind did its job"
pass "memcheck clean"
