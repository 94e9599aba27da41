# tests/lib.sh: sourced by every shell test (run by `make check`).
#
# Gives each test: TKA_LIB (the build tree's libtcpkeepalive.so), TKA_BUILDDIR,
# TKA_SRCDIR, PROBE (tests/programs/sockprobe), and helpers that fail with a
# message that says what was expected. A skipped test fails when CI=true:
# CI runs as root with every package installed, so a skip there is a bug.

set -eu

: "${TKA_LIB:?run this test through make check (TKA_LIB unset)}"
: "${TKA_BUILDDIR:?}"
: "${TKA_SRCDIR:?}"
# What the library's tests preload into programs built here: in a
# sanitizer build, the library's sanitized copy behind ASan's runtime
# (which must come first). Programs nobody here wrote (socat, python, nc)
# get TKA_LIB: with ASan's runtime in them, their own leaks would be
# reported as ours.
if [ -n "${TKA_SANITIZED_LIB:-}" ]; then
        TKA_PRELOAD=$TKA_ASAN_RUNTIME:$TKA_SANITIZED_LIB
else
        TKA_PRELOAD=$TKA_LIB
fi
TEST_NAME=$(basename "$0" .sh)

fail() {
        echo "FAIL: $TEST_NAME: $*" >&2
        exit 1
}

skip() {
        if [ "${CI:-}" = true ]; then
                echo "FAIL: $TEST_NAME: would skip, but CI=true: $*" >&2
                exit 1
        fi
        echo "SKIP: $TEST_NAME: $*" >&2
        exit 77
}

pass() {
        echo "ok: $*"
}

# cgroup2_root: where the cgroup v2 hierarchy is mounted (unified or
# hybrid layout); fails when there is none.
cgroup2_root() {
        for _d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
                [ "$(stat -f -c %T "$_d" 2>/dev/null)" = cgroup2fs ] && echo "$_d" && return 0
        done
        return 1
}

need_root() {
        [ "$(id -u)" = 0 ] || skip "needs root"
}

need_cmd() {
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || skip "needs $c (apt-get install it; tools/check does)"
        done
}

# Cleanups run in reverse order on any exit, failure included. Then
# the reports of sanitizers and valgrind fail the test: a program whose
# exit status the test ignores (a daemon in the container, a child) is
# checked too.
_cleanups=""
on_exit() {
        _cleanups="$*
$_cleanups"
}
_run_cleanups() {
        rc=$?
        set +e
        printf '%s\n' "$_cleanups" | while IFS= read -r c; do
                [ -n "$c" ] && eval "$c" >/dev/null 2>&1
        done
        for _d in "$TMP/sanitizer" "$TMP/valgrind"; do
                [ -d "$_d" ] || continue
                for _f in "$_d"/*; do
                        # A program that closed its stderr may write into
                        # valgrind's log: a report has valgrind's "==PID==".
                        [ -s "$_f" ] || continue
                        [ "${_d##*/}" = sanitizer ] || grep -Eq '^==[0-9]+==' "$_f" || continue
                        echo "FAIL: $TEST_NAME: ${_d##*/} report $_f:" >&2
                        cat "$_f" >&2
                        rc=1
                done
        done
        rm -rf "$TMP"
        exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

# A scratch directory removed at exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tka-$TEST_NAME.XXXXXX")

# A sanitizer build: reports of everything this test starts go to
# $TMP/sanitizer (the container test bed binds it where the programs it
# boots report, TKA_SANITIZER_REPORTS).
if [ -n "${TKA_SANITIZER_REPORTS:-}" ]; then
        mkdir -m 1777 "$TMP/sanitizer"
        ASAN_OPTIONS=log_path=$TMP/sanitizer/asan
        UBSAN_OPTIONS=log_path=$TMP/sanitizer/ubsan
        export ASAN_OPTIONS UBSAN_OPTIONS
fi

# test_program NAME: the path of tests/programs/NAME, or with TKA_VALGRIND=1
# (the generated X-valgrind.vg tests) of a script that runs it under
# valgrind's memcheck, children too (but /bin/true, which the stress test
# runs hundreds of times, each a second's start under valgrind), reports
# to $TMP/valgrind.
test_program() {
        if [ "${TKA_VALGRIND:-}" != 1 ]; then
                echo "$TKA_BUILDDIR/tests/programs/$1"
                return
        fi
        need_cmd valgrind
        mkdir -p "$TMP/valgrind"
        printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --trace-children=yes --trace-children-skip=*/true --log-file=%s/%s.%%p %s "$@"\n' \
                "$TMP/valgrind" "$1" "$TKA_BUILDDIR/tests/programs/$1" >"$TMP/valgrind-$1"
        chmod +x "$TMP/valgrind-$1"
        echo "$TMP/valgrind-$1"
}
PROBE=$(test_program sockprobe)

# wait_until SECONDS DESCRIPTION COMMAND...: for conditions no event tells
# us about (a port starts listening, ss shows a timer); polls every 50 ms and
# fails naming DESCRIPTION when the time is up.
wait_until() {
        _limit=$1
        _what=$2
        shift 2
        _deadline=$(( $(date +%s%N) + _limit * 1000000000 ))
        while ! "$@" >/dev/null 2>&1; do
                [ "$(date +%s%N)" -lt "$_deadline" ] || ${WAIT_FAIL:-fail} "timed out after ${_limit}s waiting for: $_what"
                sleep 0.05
        done
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
        [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# expect_match TEXT EXTENDED-REGEX WHAT
expect_match() {
        printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: '$2' not found in:
$1"
}

# expect_no_match TEXT EXTENDED-REGEX WHAT
expect_no_match() {
        if printf '%s\n' "$1" | grep -Eq -- "$2"; then
                fail "$3: '$2' unexpectedly found in:
$1"
        fi
}

# probe_line OUTPUT LABEL: the sockprobe line for LABEL.
probe_line() {
        printf '%s\n' "$1" | grep -E "^$2 " | head -n1
}

# A free TCP port on loopback (the kernel picks it; a race with another
# process taking it in between is possible but harmless for these tests).
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# now_ms: the time in milliseconds, for durations a test reports.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
