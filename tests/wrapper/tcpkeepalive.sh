#!/bin/sh
# The tcpkeepalive command: options reach the program's sockets; bad options
# fail before anything runs, naming the option and value; exit statuses mean
# something; LD_PRELOAD already set is kept.
. "$TKA_SRCDIR/tests/lib.sh"

TK=$TKA_BUILDDIR/tcpkeepalive
# A sanitizer build runs the library's sanitized copy; ASan's runtime must
# stay first: the wrapper keeps an existing LD_PRELOAD behind the library,
# so put it there beforehand.
run() {
        if [ -n "${TKA_SANITIZED_LIB:-}" ]; then
                LD_PRELOAD=$TKA_ASAN_RUNTIME "$TK" --library="$TKA_SANITIZED_LIB" "$@"
        else
                "$TK" --library="$TKA_LIB" "$@"
        fi
}

out=$(run --idle=41 --interval=7 --count=3 --user-timeout=9000 -- "$PROBE" connection4)
for end in listener client accepted; do
        expect_eq "$(probe_line "$out" $end)" "$end keepalive=1 idle=41 interval=7 count=3 user_timeout=9000" "$end"
done
out=$(run -i 42 -n 8 -c 4 -u 0 -m force -d outbound -- "$PROBE" connection4)
expect_match "$(probe_line "$out" client)" "keepalive=1 idle=42 interval=8 count=4 " "short options"
expect_match "$(probe_line "$out" accepted)" "keepalive=0 " "--direction=outbound"
pass "options reach the sockets"

status() { # EXPECTED-STATUS MESSAGE-REGEX ARGS...
        _want=$1 _re=$2
        shift 2
        set +e
        "$TK" --library="$TKA_LIB" "$@" >"$TMP/o" 2>"$TMP/e"
        _rc=$?
        set -e
        expect_eq "$_rc" "$_want" "exit status of: tcpkeepalive $*"
        expect_match "$(cat "$TMP/e")" "$_re" "message of: tcpkeepalive $*"
}
status 2 "--idle: '0' is out of range, want 1..32767" --idle=0 -- true
status 2 "--idle: 'abc' is not a number, want 1..32767" --idle=abc -- true
status 2 "--count: '128' is out of range, want 1..127" --count=128 -- true
status 2 "--mode: 'bogus' is not one of default, force, off" --mode=bogus -- true
status 2 "--direction: 'up' is not one of both, inbound, outbound" --direction=up -- true
status 2 "no COMMAND given" --idle=5
status 2 "Try 'tcpkeepalive --help'" --no-such-option -- true
status 127 "no-such-command-here: No such file or directory" -- no-such-command-here
status 126 "Permission denied" -- "$TKA_SRCDIR/README.md"
set +e
"$TK" --library=/nonexistent/libtcpkeepalive.so -- true 2>"$TMP/e"
rc=$?
set -e
expect_eq "$rc" 3 "missing library"
expect_match "$(cat "$TMP/e")" "/nonexistent/libtcpkeepalive.so: No such file or directory" "missing library message"
set +e
"$TK" --library="$TKA_LIB" -- sh -c 'exit 7'
rc=$?
set -e
expect_eq "$rc" 7 "the command's own exit status"
pass "bad options and exit statuses"

out=$(LD_PRELOAD=/lib/x86_64-linux-gnu/libc.so.6 "$TK" --library="$TKA_LIB" -- sh -c 'echo "$LD_PRELOAD"')
expect_eq "$out" "$TKA_LIB:/lib/x86_64-linux-gnu/libc.so.6" "existing LD_PRELOAD kept, library first"
out=$(LD_PRELOAD=$TKA_LIB "$TK" --library="$TKA_LIB" -- sh -c 'echo "$LD_PRELOAD"')
expect_eq "$out" "$TKA_LIB" "the library is not added twice"
out=$("$TK" --library="$TKA_LIB" -- sh -c 'echo "$TCPKEEPALIVE_IDLE-$1"' sh --idle=9)
expect_eq "$out" "---idle=9" "options after COMMAND belong to COMMAND (and set nothing)"
out=$("$TK" --library="$TKA_LIB" --idle=9 -- sh -c 'echo "$TCPKEEPALIVE_IDLE"')
expect_eq "$out" "9" "environment set for the command"
pass "LD_PRELOAD composition and argument boundaries"

help=$("$TK" --help)
for o in --idle --interval --count --user-timeout --mode --direction --debug --library --help --version; do
        expect_match "$help" "$o" "--help mentions $o"
done
expect_match "$("$TK" --version)" "^tcpkeepalive [0-9]+\.[0-9]+" "--version"
pass "--help and --version"

# A library path with $LIB, as the Debian package's
# (/usr/$LIB/tcp-keepalive/libtcpkeepalive.so): ld.so expands it, so must
# the check that the library is there (it said "No such file" for the
# literal path and exited 3, every time).
multiarch=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH)
mkdir -p "$TMP/dst/lib/$multiarch"
cp "${TKA_SANITIZED_LIB:-$TKA_LIB}" "$TMP/dst/lib/$multiarch/libtcpkeepalive.so"
# shellcheck disable=SC2016
dst_lib="$TMP/dst/"'$LIB'"/libtcpkeepalive.so"
if [ -n "${TKA_SANITIZED_LIB:-}" ]; then
        out=$(LD_PRELOAD=$TKA_ASAN_RUNTIME "$TK" --library="$dst_lib" --idle=43 -- "$PROBE" connection4)
else
        out=$("$TK" --library="$dst_lib" --idle=43 -- "$PROBE" connection4)
fi
expect_match "$(probe_line "$out" client)" "keepalive=1 idle=43 " "--library with \$LIB, expanded by ld.so to lib/$multiarch"
# shellcheck disable=SC2016
status 3 'for every expansion of \$LIB and \$PLATFORM' --library="$TMP/none/"'$LIB'"/libtcpkeepalive.so" -- true
status 3 'No such file' --library="$TMP/d*/"'$LIB'"/libtcpkeepalive.so" -- true
pass "a --library path with \$LIB: found where ld.so looks; none there: exit 3, saying so"
