#!/bin/sh
# The library inside a program run under valgrind's memcheck: no invalid
# access, no uninitialised value reaching a syscall, no leak, in the paths
# that matter (each socket kind, accept, threads, fork + exec, fd reuse) and
# in the wrapper command.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd valgrind
[ -z "${TKA_PRELOAD_PREFIX:-}" ] || skip "valgrind and ASan do not mix (the sanitizer build runs the other tests)"

vg() {
        LD_PRELOAD=$TKA_LIB TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 TCPKEEPALIVE_COUNT=20 \
                TCPKEEPALIVE_USER_TIMEOUT=5000 TCPKEEPALIVE_DEBUG=1 \
                valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                --trace-children=yes "$@" >"$TMP/out" 2>"$TMP/err" ||
                fail "valgrind found errors in: $*
$(cat "$TMP/err")"
}
for cmd in kinds connection4 connection6 accept4 fight passthrough dup-reuse fork-exec "threads 4 50"; do
        # shellcheck disable=SC2086
        vg "$PROBE" $cmd
done
vg "$TKA_BUILDDIR/tcpkeepalive" --library="$TKA_LIB" --idle=30 -- "$PROBE" connection4
expect_match "$(cat "$TMP/out")" "accepted keepalive=1 idle=30" "wrapper under valgrind did its job"
pass "memcheck clean"
