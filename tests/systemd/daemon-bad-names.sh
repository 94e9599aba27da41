#!/bin/sh
# Every method call gets a reply: a unit name that is not a service unit
# name, however long and whatever its characters, gets an error that names
# it (cut on a character boundary, escaped), at once. A long name of
# two-byte characters once got no reply at all: the error cut the name in
# the middle of a character, and sd-bus cannot send invalid UTF-8.
# The daemon runs on a private bus under a test root; the calls are
# refused before any call to systemd, so none is needed.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd dbus-daemon busctl

ROOT=$TMP/root
BUSADDR=unix:path=$TMP/bus
DBUS_SYSTEM_BUS_ADDRESS=$BUSADDR
export DBUS_SYSTEM_BUS_ADDRESS
bctl() { busctl --address="$BUSADDR" "$@"; }
call() { bctl --timeout=5 call org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

mkdir -p "$ROOT/etc/keepalived.d"
dbus-daemon --session --nofork --nopidfile --address="$BUSADDR" >"$TMP/dbus.log" 2>&1 &
on_exit "kill $!"
wait_until 10 "the private dbus-daemon's socket $TMP/bus" test -S "$TMP/bus"

TCPKEEPALIVE_ROOT=$ROOT "$TKA_BUILDDIR/tcpkeepalived" 2>"$TMP/daemon.log" &
DAEMON=$!
on_exit "kill $DAEMON"
wait_until 20 "tcpkeepalived owns org.tcpkeepalive1 (log: $(tail -n 5 "$TMP/daemon.log" 2>/dev/null))" \
        sh -c "busctl --address='$BUSADDR' list --no-legend | grep -q '^org.tcpkeepalive1 '"

# 100 x 'é' (2 bytes each): 200 bytes; 64 bytes would be 32 characters,
# 63 bytes half of one.
e2=$(printf '\303\251')
long=""
i=0
while [ "$i" -lt 100 ]; do
        long=$long$e2
        i=$((i + 1))
done
odd="x$long"         # the character boundaries at odd offsets
three=$(printf 'a\342\202\254%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20) # 'a€' x 20
ctl=$(printf 'bad\033[31mname')

for method in GetUnit GetUnitSockets; do
        for name in "$long" "$odd" "$three.service" "$ctl"; do
                t0=$(now_ms)
                set +e
                out=$(call "$method" s "$name" 2>&1)
                rc=$?
                set -e
                t=$(($(now_ms) - t0))
                [ "$rc" -ne 0 ] || fail "$method of an invalid name succeeded: $out"
                expect_match "$out" 'is not a valid service \(or scope or slice\) name' "$method's error for a ${#name}-character name"
                [ "$t" -lt 3000 ] || fail "$method took $t ms to refuse a name"
        done
        pass "$method refuses long, non-ASCII and control-character names at once, with an error that names them"
done
# The name is shown cut on a character boundary, and said to be cut.
out=$(call GetUnit s "$long" 2>&1 || true)
expect_match "$out" "'($e2){32}…' is not" "the name cut after 32 characters (64 bytes)"
out=$(call GetUnit s "$ctl" 2>&1 || true)
expect_match "$out" "'bad.x1b.31mname' is not" "a control character escaped"
pass "the error shows the name cut on a character boundary, escaped: $out"

# RestartUnit needs CAP_SYS_ADMIN, which root has: the name is checked first.
set +e
out=$(call RestartUnit s "$long" 2>&1)
set -e
expect_match "$out" 'is not a valid service unit name' "RestartUnit's error"
kill -0 "$DAEMON" || fail "tcpkeepalived died: $(tail -n 20 "$TMP/daemon.log")"
pass "RestartUnit refuses it too"
