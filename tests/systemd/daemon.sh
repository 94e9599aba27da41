#!/bin/sh
# tcpkeepalived under a real systemd and a real D-Bus: Type=notify, the
# capabilities it keeps, its API read with busctl (by root and by nobody),
# a rule dropped in while a service runs reaching it through Restart=try
# with no manual step, socket values that match getsockopt, refused
# arguments and callers, a broken rule in the API, and a restart that
# loses nothing.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

container_boot tka-daemon
# The restart path is under test here, not the live apply (daemon-live.sh).
container_no_live_apply
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
call() { inside busctl call $BUS "$@"; }
prop() { inside busctl get-property $BUS "$@"; }
as_nobody() { inside setpriv --reuid=65534 --regid=65534 --clear-groups busctl "$@"; }

container_start_daemon
expect_eq "$(inside systemctl show -P Type tcpkeepalived.service)" "notify" "Type=notify"
expect_eq "$(inside systemctl is-active tcpkeepalived.service)" "active" "active after READY=1"
pid=$(inside systemctl show -P MainPID tcpkeepalived.service)
caps=$(inside grep -E '^Cap(Eff|Prm|Bnd):' "/proc/$pid/status" | tr '\t' ' ')
# CAP_DAC_READ_SEARCH (bit 2) and CAP_SYS_PTRACE (bit 19) only: 0x80004.
expect_match "$caps" "CapEff: 0000000000080004" "effective capabilities"
expect_match "$caps" "CapPrm: 0000000000080004" "permitted capabilities"
expect_match "$caps" "CapBnd: 0000000000080004" "bounding set"
pass "Type=notify, capabilities: $(echo "$caps" | tr '\n' ' ')"

intro=$(inside busctl introspect org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager)
for member in .ListUnits .GetUnit .GetUnitSockets .Reload .RestartUnit .Version .RuleDirectories .Rules .Errors .Reloads; do
        expect_match "$intro" "^\\$member " "introspection lists $member"
done
expect_match "$(prop Version)" '^s "[0-9]+\.[0-9]+' "Version"
expect_match "$(prop RuleDirectories)" '"/etc/keepalived.d" "/run/keepalived.d"' "RuleDirectories"
pass "introspection"

# A service runs; then a rule with Restart=try is dropped in. Nothing else.
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7301,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/crm.service
inside systemctl daemon-reload
inside systemctl start crm.service
before=$(inside systemctl show -P MainPID crm.service)
reloads_before=$(prop Reloads | awk '{print $2}')
printf '[Match]\nUnit=crm\n[KeepAlive]\nIdleSec=41\nIntervalSec=6\nCount=3\n[Service]\nRestart=try\n' |
        inside_write /etc/keepalived.d/50-crm.ini
wait_until 15 "crm.service restarted by tcpkeepalived" \
        sh -c "[ \"\$(nsenter -t $CONTAINER_LEADER -a systemctl show -P MainPID crm.service)\" != '$before' ]"
wait_listening 7301
expect_idle "$(connection_timer 7301)" 41 "crm.service after the rule was dropped in"
expect_sockopts 7301 41 6 3 "crm.service after the rule was dropped in"
expect_match "$(inside journalctl -u tcpkeepalived --no-pager)" "crm.service: restarting \\(Restart=try in /etc/keepalived.d/50-crm.ini\\)" "journal says why"
expect_eq "$(prop Reloads | awk '{print $2}')" "$((reloads_before + 1))" "one systemd reload for one change"
pass "a rule dropped in reaches the running service (Restart=try)"

units=$(call ListUnits)
expect_match "$units" '"crm.service" "active" "PID [0-9]+ has .*libtcpkeepalive.so; 1 of 1 established connections carry the rule.{1,2}s values \(idle 41 s, interval 6 s, count 3\)" "/etc/keepalived.d/50-crm.ini" [0-9]+ 1 1 0 0 0 "preload"' "ListUnits"
socks=$(call GetUnitSockets s crm.service)
expect_match "$socks" '"127.0.0.1:7301" "-" "listen" [0-9]+ [0-9]+ true 41 6 3 0 "" "" ""' "GetUnitSockets: the listener"
expect_match "$socks" '"127.0.0.1:7301" "127.0.0.1:[0-9]+" "established" [0-9]+ [0-9]+ true 41 6 3 0 "rule" "" ""' "GetUnitSockets: the connection (preload: not applied by BPF)"
expect_match "$(prop Rules)" '"/etc/keepalived.d/50-crm.ini" 1 "crm.service" 41 6 3 -1 "default" "both" "try"' "Rules"
pass "ListUnits, GetUnitSockets, Rules"

# Everyone may read; only root may act; arguments are checked.
expect_match "$(as_nobody call $BUS GetUnit s crm.service)" '"crm.service" "active"' "nobody can read"
expect_match "$(as_nobody get-property $BUS Rules)" "50-crm.ini" "nobody can read properties"
set +e
err=$(as_nobody call $BUS Reload 2>&1)
rc=$?
err2=$(as_nobody call $BUS RestartUnit s crm.service 2>&1)
rc2=$?
bad=$(call GetUnit s "../../etc/passwd" 2>&1)
rc3=$?
bad2=$(call GetUnitSockets s "crm.socket" 2>&1)
rc4=$?
set -e
expect_eq "$rc/$rc2/$rc3/$rc4" "1/1/1/1" "refused calls fail"
expect_match "$err" "Access denied" "nobody cannot Reload"
expect_match "$err2" "Access denied" "nobody cannot RestartUnit"
# Socket detail (PIDs, fds, addresses) is root's; states and counts are everyone's.
set +e
socks_nobody=$(as_nobody call $BUS GetUnitSockets s crm.service 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "GetUnitSockets as nobody fails"
# (busctl prints "Access denied" for any AccessDenied: the daemon's reason
# is checked through tcpkeepalivectl below.)
expect_match "$socks_nobody" "Access denied" "GetUnitSockets as nobody: access denied"
expect_no_match "$socks_nobody" "127\.0\.0\.1" "no address reaches nobody"
expect_match "$(call GetUnitSockets s crm.service)" '"127.0.0.1:7301"' "root still gets socket detail"
expect_match "$bad" "is not a valid service \(or scope or slice\) name" "a path is not a unit name"
expect_match "$bad2" "is not a valid service \(or scope or slice\) name" "only services, scopes and slices"
pass "states for everyone, socket detail, Reload and RestartUnit for root, arguments validated"

# A broken rule: in the API and the journal; the good rule stays.
printf '[Match]\nUnit=other\n[KeepAlive]\nIdleSec=never\n' | inside_write /etc/keepalived.d/60-bad.ini
wait_until 10 "the broken rule in the Errors property" \
        sh -c "nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Errors | grep -q 60-bad.ini"
expect_match "$(prop Errors)" '"/etc/keepalived.d/60-bad.ini" 4 "IdleSec" "never" "not a time span' "Errors"
expect_match "$(prop Rules)" "50-crm.ini" "the good rule stays"
expect_eq "$(inside systemctl is-active tcpkeepalived.service)" "active" "the daemon survives a broken rule"
pass "a broken rule is reported, nothing else lost"

# Restarting the daemon loses nothing: the rules are files, the state is
# read from systemd and /proc.
inside systemctl restart tcpkeepalived.service
expect_match "$(call ListUnits)" '"crm.service" "active"' "ListUnits after a daemon restart"
expect_match "$(prop Errors)" "60-bad.ini" "Errors after a daemon restart"
crm_pid=$(inside systemctl show -P MainPID crm.service)
expect_eq "$crm_pid" "$(inside systemctl show -P MainPID crm.service)" "the daemon's restart did not restart services"
inside systemctl stop tcpkeepalived.service
[ "$(inside systemctl show -P Result tcpkeepalived.service)" = success ] ||
        container_fail "clean exit on SIGTERM: Result=$(inside systemctl show -P Result tcpkeepalived.service)"
pass "daemon restart and stop"

# tcpkeepalivectl, the admin's side of the same API.
container_start_daemon
# (open for 120 s: the checks below must all see it, in a sanitizer build
# on a loaded machine too; the container's end closes it)
(sleep 120 | inside socat - TCP:127.0.0.1:7301 >/dev/null 2>&1 &)
wait_until 10 "a connection to crm.service" \
        sh -c "nsenter -t $CONTAINER_LEADER -a ss -Htn state established 'sport = :7301' | grep -q ."
set +e
status=$(inside tcpkeepalivectl status)
rc=$?
set -e
expect_eq "$rc" 1 "status exit status with a rule error"
expect_match "$status" "^tcpkeepalived [0-9.]+: 1 rule\\(s\\)" "status: daemon line"
expect_match "$status" "/etc/keepalived.d/60-bad.ini:4: error: IdleSec=never: not a time span" "status: rule error"
# N/N: every established connection (one or two are open now) has keepalive.
expect_match "$status" "^active +crm.service +([1-9])/\\1 +preload +/etc/keepalived.d/50-crm.ini" "status: unit line"
expect_match "$(inside tcpkeepalivectl list)" "^active +crm.service +([1-9])/\\1 " "list"
# With the BPF backend built, ExecStartPre= pinned the socket iterator and
# ListUnits (status, list) read the sockets through it, in the daemon's
# sandbox; show reads them through /proc: the same counts either way.
if [ -x "$TKA_BUILDDIR/tcpkeepalive-bpf" ]; then
        expect_match "$(inside journalctl -u tcpkeepalived --no-pager)" \
                "sockets read through the BPF iterator /sys/fs/bpf/tcpkeepalive/sockets \\([0-9]+ sockets in one pass\\)" \
                "ListUnits: the BPF iterator's fast path"
fi
show=$(inside tcpkeepalivectl show crm)
expect_match "$show" "^crm.service: active PID [0-9]+ has " "show: state and reason"
expect_match "$show" "127.0.0.1:7301 +127.0.0.1:[0-9]+ +established +[0-9]+/[0-9]+ +on +41 +6 +3 +0" "show: socket table"
# A unit systemd does not know: the daemon's row, then exit 4 (it was 0).
rc=0; inside tcpkeepalivectl show no-such-unit-here >"$TMP/show-missing" 2>&1 || rc=$?
expect_eq "$rc" 4 "show of a unit that does not exist: exit status 4"
expect_match "$(cat "$TMP/show-missing")" "no-such-unit-here.service: no such unit" "show of a unit that does not exist: said"
json=$(inside tcpkeepalivectl --json show crm.service)
printf '%s' "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
est = [s for s in d["sockets"] if s["state"] == "established"]
assert d["unit"]["state"] == "active", d
assert est and all(s["keepalive"] and s["idle"] == 41 and s["interval"] == 6 and s["count"] == 3 for s in est), d
assert all(s["values"] == "rule" and s["unread"] == "" for s in est), d
assert d["unit"]["rule_values"] == d["unit"]["established"] == len(est), d
assert d["unit"]["own_values"] == d["unit"]["without_keepalive"] == d["unit"]["unread"] == 0, d
' || fail "show --json: $json"
inside tcpkeepalivectl --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["errors"][0]["line"] == 4, d' ||
        fail "status --json"
inside tcpkeepalivectl --json list | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["unit"] == "crm.service", d' ||
        fail "list --json"
metrics=$(inside tcpkeepalivectl metrics)
expect_match "$metrics" '^tcpkeepalive_unit_connections_rule_values\{name="crm.service"\} [1-9]$' "metrics: connections with the rule's values"
for m in own_values without_keepalive not_inspectable; do
        expect_match "$metrics" "^tcpkeepalive_unit_connections_$m\\{name=\"crm.service\"\\} 0\$" "metrics: none $m"
done
expect_match "$metrics" '^tcpkeepalive_unit_info\{name="crm.service",state="active",method="preload"\} 1$' "metrics: unit info"
# The exposition format: every sample follows its family's HELP and TYPE,
# and a family's samples are together (a family split in two is rejected).
printf '%s\n' "$metrics" | python3 -c '
import re, sys
typed, seen, current = set(), set(), None
for line in sys.stdin.read().splitlines():
    m = re.match(r"# (HELP|TYPE) (\w+) ", line)
    if m:
        assert m.group(2) not in seen or m.group(2) == current, "family %s split: %s" % (m.group(2), line)
        current = m.group(2); seen.add(current)
        if m.group(1) == "TYPE": typed.add(current)
        continue
    name = re.match(r"(\w+)[{ ]", line).group(1)
    assert name == current and name in typed, "sample outside its family: " + line
' || fail "metrics: not valid exposition format: $metrics"
expect_match "$metrics" '^tcpkeepalive_managed_units 1$' "metrics: managed units"
expect_match "$metrics" '^tcpkeepalive_rule_errors 1$' "metrics: rule errors"
inside tcpkeepalivectl reload || fail "reload as root"
before=$(inside systemctl show -P MainPID crm.service)
inside tcpkeepalivectl restart crm || fail "restart as root"
expect_match "$(inside systemctl show -P MainPID crm.service)" "^[0-9]+$" "crm runs after restart"
[ "$(inside systemctl show -P MainPID crm.service)" != "$before" ] || fail "tcpkeepalivectl restart did not restart crm"
set +e
shown=$(inside setpriv --reuid=65534 --regid=65534 --clear-groups tcpkeepalivectl show crm 2>"$TMP/err-show")
rc0=$?
set -e
expect_eq "$rc0" 3 "tcpkeepalivectl show as nobody: exit status"
expect_match "$(cat "$TMP/err-show")" "crm.service: socket detail \(PIDs, fds, addresses\) needs root" "show as nobody says why"
expect_match "$(cat "$TMP/err-show")" "the sockets of crm.service \(PIDs, fds, local and peer addresses\) are shown to root only" \
        "the daemon's reason reaches the user"
expect_match "$shown" "^crm.service: active " "show as nobody still prints the state"
expect_no_match "$shown" "127\.0\.0\.1:7301" "show as nobody prints no socket"
set +e
inside setpriv --reuid=65534 --regid=65534 --clear-groups tcpkeepalivectl reload 2>"$TMP/err"
rc1=$?
inside tcpkeepalivectl show ../x 2>/dev/null
rc2=$?
inside systemctl stop tcpkeepalived.service
inside tcpkeepalivectl list 2>"$TMP/err2"
rc3=$?
set -e
expect_eq "$rc1/$rc2/$rc3" "3/2/3" "exit statuses: denied / bad name / daemon not running"
expect_match "$(cat "$TMP/err")" "access denied" "unprivileged reload message"
expect_match "$(cat "$TMP/err2")" "tcpkeepalived is not running" "daemon not running message"
pass "tcpkeepalivectl status, list, show, --json, metrics, reload, restart"
