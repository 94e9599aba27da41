#!/bin/sh
# tcpkeepalived's watch of the rule directories, on a private bus under a
# test root (TCPKEEPALIVE_ROOT): no systemd is needed to see a rule change
# applied, since the daemon logs "rules changed" as soon as it has re-read
# them (its Reload then fails at once: nobody owns org.freedesktop.systemd1).
#  - Unrelated activity in the parent of a missing rule directory (here
#    /run, as /run/keepalived.d is absent by default) does not hold a rule
#    change back: only events for the name keepalived.d count there.
#  - Events that keep coming in a rule directory hold the change back at
#    most 1 s after the first one.
#  - A rule directory that is a symbolic link swapped to a new target
#    (ln -sfn) is noticed: the new target's rules are read, and watched.
# Which events count is tested exactly by tests/unit/test-rule-watch; here
# the times, with the daemon (the figures in its log).
. "$TKA_SRCDIR/tests/lib.sh"
need_root
need_cmd dbus-daemon busctl

ROOT=$TMP/root
BUSADDR=unix:path=$TMP/bus
DBUS_SYSTEM_BUS_ADDRESS=$BUSADDR
export DBUS_SYSTEM_BUS_ADDRESS
bctl() { busctl --address="$BUSADDR" "$@"; }
rules() { bctl get-property org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager Rules; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
loaded() { rules | grep -Eq "$1"; }

# rule FILE UNIT IDLE: writes a rule file (into a temporary name first, as
# an editor or a package does).
rule() {
        printf '[Match]\nUnit=%s\n[KeepAlive]\nIdleSec=%s\n' "$2" "$3" >"$1.tmp"
        mv "$1.tmp" "$1"
}

# time_to_apply DESCRIPTION PATTERN COMMAND...: runs COMMAND (which
# changes the rules) and prints the milliseconds until the daemon's Rules
# property matches PATTERN (an ERE); fails after 15 s.
time_to_apply() {
        _what=$1
        _want=$2
        shift 2
        _t0=$(now_ms)
        "$@"
        while ! loaded "$_want"; do
                [ "$(now_ms)" -lt $((_t0 + 15000)) ] ||
                        fail "$_what: not applied after 15 s (log: $(tail -n 5 "$TMP/daemon.log"))"
                sleep 0.02
        done
        echo $(($(now_ms) - _t0))
}

# churn DIR SECONDS: rewrites a file in DIR every 0.1 s, SECONDS long, in
# the background; its PID in CHURN.
churn() {
        (
                _i=0
                while [ "$_i" -lt $(($2 * 10)) ]; do
                        echo "$_i" >"$1/churn"
                        _i=$((_i + 1))
                        sleep 0.1
                done
                rm -f "$1/churn"
        ) &
        CHURN=$!
        on_exit "kill $CHURN"
}

mkdir -p "$ROOT/etc/keepalived.d" "$ROOT/run" "$ROOT/usr/lib"
rule "$ROOT/etc/keepalived.d/50-a.ini" a.service 60s

dbus-daemon --session --nofork --nopidfile --address="$BUSADDR" >"$TMP/dbus.log" 2>&1 &
on_exit "kill $!"
wait_until 10 "the private dbus-daemon's socket $TMP/bus" test -S "$TMP/bus"

TCPKEEPALIVE_ROOT=$ROOT "$TKA_BUILDDIR/tcpkeepalived" 2>"$TMP/daemon.log" &
DAEMON=$!
on_exit "kill $DAEMON"
wait_until 20 "tcpkeepalived owns org.tcpkeepalive1 (log: $(tail -n 5 "$TMP/daemon.log" 2>/dev/null))" \
        sh -c "busctl --address='$BUSADDR' list --no-legend | grep -q '^org.tcpkeepalive1 '"
rules=$(rules)
expect_match "$rules" '50-a.ini" 1 "a.service" 60 ' "the first rule is loaded"

# Quiet: the 0.1 s settle time plus our polling.
quiet=$(time_to_apply "a rule change on a quiet host" '"a.service" 61 ' rule "$ROOT/etc/keepalived.d/50-a.ini" a.service 61s)
pass "a rule change is applied in $quiet ms on a quiet host"

# A file in /run rewritten every 0.1 s, /run/keepalived.d absent: the
# daemon watches /run for keepalived.d to appear, and the writer's events
# are not about it. The change is applied as on a quiet host, not when the
# writer stops (8 s from now).
churn "$ROOT/run" 8
sleep 0.5
busy=$(time_to_apply "a rule change while /run is busy" '"a.service" 62 ' rule "$ROOT/etc/keepalived.d/50-a.ini" a.service 62s)
[ "$busy" -lt 1800 ] || fail "a rule change while a file in /run is rewritten every 0.1 s took $busy ms (quiet: $quiet ms)"
pass "a rule change is applied in $busy ms while a file in /run is rewritten every 0.1 s"
kill "$CHURN" 2>/dev/null || true
wait "$CHURN" 2>/dev/null || true

# Events that do concern the rules (a file in /etc/keepalived.d rewritten
# every 0.1 s, 8 s long) hold a change back at most 1 s after the first.
churn "$ROOT/etc/keepalived.d" 8
sleep 0.5
bounded=$(time_to_apply "a rule change while /etc/keepalived.d is busy" '"a.service" 63 ' rule "$ROOT/etc/keepalived.d/50-a.ini" a.service 63s)
[ "$bounded" -lt 1800 ] || fail "a rule change while a file in /etc/keepalived.d is rewritten every 0.1 s took $bounded ms, want at most about 1 s"
pass "a rule change is applied in $bounded ms while a file in /etc/keepalived.d is rewritten every 0.1 s (bound: 1 s)"
kill "$CHURN" 2>/dev/null || true
wait "$CHURN" 2>/dev/null || true
expect_match "$(rules)" '50-a.ini" 1 "a.service" 63 ' "the last rule is loaded"

# /etc/keepalived.d -> /srv/rules-a, swapped to /srv/rules-b.
mkdir -p "$ROOT/srv/rules-a" "$ROOT/srv/rules-b"
rule "$ROOT/srv/rules-a/60-link.ini" link-a.service 70s
rule "$ROOT/srv/rules-b/60-link.ini" link-b.service 80s
mv "$ROOT/etc/keepalived.d" "$ROOT/etc/keepalived.d.old"
swapped=$(time_to_apply "the rule directory replaced by a link" '"link-a.service" 70 ' \
        ln -s "$ROOT/srv/rules-a" "$ROOT/etc/keepalived.d")
pass "the rule directory replaced by a link to rules-a: applied in $swapped ms"
swapped=$(time_to_apply "the link swapped to rules-b" '"link-b.service" 80 ' \
        ln -sfn "$ROOT/srv/rules-b" "$ROOT/etc/keepalived.d")
pass "the link swapped to rules-b (ln -sfn): applied in $swapped ms"
edited=$(time_to_apply "a rule edited in the link's new target" '"link-b.service" 81 ' \
        rule "$ROOT/srv/rules-b/60-link.ini" link-b.service 81s)
pass "a rule edited in the new target: applied in $edited ms"

kill -0 "$DAEMON" || fail "tcpkeepalived died: $(tail -n 20 "$TMP/daemon.log")"
