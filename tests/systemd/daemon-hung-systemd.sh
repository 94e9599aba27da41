#!/bin/sh
# tcpkeepalived when systemd does not answer: each of its calls to systemd
# is bounded (3 s), one request's calls together too (10 s, under the 30 s
# watchdog and the client's 25 s), and the reply names the units systemd
# did not answer for and those not asked; Reload and Subscribe are not
# waited for. The systemd here is tests/programs/hung-systemd on a private
# dbus-daemon: it owns org.freedesktop.systemd1 and never reads a message.
# The daemon, the bus and the clients are real.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd dbus-daemon busctl

ROOT=$TMP/root
BUSADDR=unix:path=$TMP/bus
DBUS_SYSTEM_BUS_ADDRESS=$BUSADDR
export DBUS_SYSTEM_BUS_ADDRESS
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
bctl() { busctl --address="$BUSADDR" "$@"; }

# Six managed units: the generator's drop-in for each, under the test root.
for i in 1 2 3 4 5 6; do
        mkdir -p "$ROOT/run/systemd/generator/svc$i.service.d"
        : >"$ROOT/run/systemd/generator/svc$i.service.d/50-tcpkeepalive.conf"
done
mkdir -p "$ROOT/etc/keepalived.d"

dbus-daemon --session --nofork --nopidfile --address="$BUSADDR" >"$TMP/dbus.log" 2>&1 &
on_exit "kill $!"
wait_until 10 "the private dbus-daemon's socket $TMP/bus" test -S "$TMP/bus"

mkfifo "$TMP/hung.out"
"$TKA_BUILDDIR/tests/programs/hung-systemd" >"$TMP/hung.out" &
on_exit "kill $!"
read -r ready <"$TMP/hung.out" || true
expect_eq "$ready" ready "hung-systemd owns org.freedesktop.systemd1"

TCPKEEPALIVE_ROOT=$ROOT "$TKA_BUILDDIR/tcpkeepalived" 2>"$TMP/daemon.log" &
DAEMON=$!
on_exit "kill $DAEMON"
t0=$(now_ms)
# Starting: Subscribe is not waited for, the name is owned before any
# unit is looked at (that happens in the background, and backs off while
# systemd does not answer).
wait_until 20 "tcpkeepalived owns org.tcpkeepalive1 while systemd does not answer (journal: $(cat "$TMP/daemon.log" 2>/dev/null | tail -n 5))" \
        sh -c "busctl --address='$BUSADDR' list --no-legend | grep -q '^org.tcpkeepalive1 '"
pass "started in $(($(now_ms) - t0)) ms with a systemd that does not answer"

# GetUnit: one unit, its LoadUnit bounded at 3 s; the reply says so.
t0=$(now_ms)
one=$(bctl --timeout=25 call $BUS GetUnit s svc1.service 2>&1) || fail "GetUnit got no reply: $one"
t=$(($(now_ms) - t0))
expect_match "$one" '"svc1.service" "error" "systemd did not answer LoadUnit for svc1.service within 3.0 s"' "GetUnit's reason"
[ "$t" -lt 6000 ] || fail "GetUnit took $t ms, want about 3 s (one call's bound)"
pass "GetUnit answered in $t ms: $one"

# ListUnits: six units x (LoadUnit) would be 18 s at 3 s each; the request's
# 10 s budget ends it: the first units timed out, the rest not asked, all
# six named in the reply.
t0=$(now_ms)
list=$(bctl --timeout=25 call $BUS ListUnits 2>&1) || fail "ListUnits got no reply: $list"
t=$(($(now_ms) - t0))
[ "$t" -lt 12000 ] || fail "ListUnits took $t ms, want at most the 10 s budget"
for i in 1 2 3 4 5 6; do
        expect_match "$list" "\"svc$i.service\" \"error\"" "ListUnits names svc$i.service"
done
expect_match "$list" 'systemd did not answer LoadUnit for svc1.service within 3.0 s' "units systemd did not answer for"
expect_match "$list" 'not asked: systemd was slow, and this request.{1,2}s 10.0 s for systemd calls were spent before svc6.service' \
        "units not asked"
pass "ListUnits answered in $t ms, naming the units not answered and not asked"

# UnitStates (a property) is the record of the states last seen: answered
# without asking systemd, at once. GetUnitSockets is bounded as GetUnit.
t0=$(now_ms)
states=$(bctl --timeout=25 get-property $BUS UnitStates 2>&1) || fail "UnitStates got no reply: $states"
t=$(($(now_ms) - t0))
[ "$t" -lt 1500 ] || fail "UnitStates took $t ms, want it answered from the record"
case $states in
*'"active"'*) fail "UnitStates claims a unit active while systemd answers nothing: $states" ;;
esac
set +e
socks=$(bctl --timeout=25 call $BUS GetUnitSockets s svc2.service 2>&1)
set -e
expect_match "$socks" "systemd did not answer LoadUnit/GetAll for svc2.service within 3.0 s" "GetUnitSockets's error"
pass "UnitStates and GetUnitSockets bounded"

# Reload is not waited for in the event loop: the daemon keeps answering
# while systemd sits on the Reload.
bctl --timeout=25 call $BUS Reload >"$TMP/reload.out" 2>&1 &
t0=$(now_ms)
v=$(bctl --timeout=5 get-property $BUS Version) || fail "Version while a Reload waits for systemd: no answer"
t=$(($(now_ms) - t0))
[ "$t" -lt 2000 ] || fail "Version took $t ms while a Reload waited for systemd"
expect_match "$v" '^s "' "Version"
kill -0 "$DAEMON" || fail "tcpkeepalived died: $(tail -n 20 "$TMP/daemon.log")"
pass "the daemon answers ($t ms) while systemd sits on its Reload"
