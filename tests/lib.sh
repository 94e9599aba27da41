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
PROBE=$TKA_BUILDDIR/tests/programs/sockprobe
# Sanitizer builds put their runtime in front of the library (tools/check).
TKA_PRELOAD=${TKA_PRELOAD_PREFIX:+$TKA_PRELOAD_PREFIX:}$TKA_LIB
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

need_root() {
        [ "$(id -u)" = 0 ] || skip "needs root"
}

need_cmd() {
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || skip "needs $c (apt-get install it; tools/check does)"
        done
}

# Cleanups run in reverse order on any exit, failure included.
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
        exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

# A scratch directory removed at exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tka-$TEST_NAME.XXXXXX")
on_exit "rm -rf '$TMP'"

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
