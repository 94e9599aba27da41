#!/bin/sh
# tcpkeepalived keeps systemd's answers until systemd says they changed
# (daemon/systemd-cache.h), in a real systemd:
#  - a second status over unchanged units makes no LoadUnit, GetUnit or
#    GetAll call to systemd: counted on the bus itself (busctl monitor of
#    every method call to org.freedesktop.systemd1), not by the daemon;
#  - nothing stale after a change: a restart's new MainPID, a
#    daemon-reload that changes a unit's Environment= through a drop-in
#    (pending-restart), a stop (inactive), each in the status right after
#    the systemctl command returns;
#  - after systemctl daemon-reexec the states are still right, later
#    changes still show at once, the daemon subscribed again, and the
#    cache is used again;
#  - a systemd that stops answering is not hidden by what it said before.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd socat python3

container_boot tka-cache
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
N=12
for i in $(seq 1 $N); do
        printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' \
                $((7600 + i)) | inside_write "/etc/systemd/system/cache-$i.service"
done
printf '[Match]\nUnit=cache-*.service\n[KeepAlive]\nIdleSec=47\n' | inside_write /etc/keepalived.d/50-cache.ini
inside systemctl daemon-reload
# shellcheck disable=SC2046
inside systemctl start $(seq -f 'cache-%g.service' 1 $N)
container_start_daemon
container_wait 20 "the daemon's first look at the $N units" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS UnitStates | awk '{print \$2}') -eq $N ]"

# Every method call to systemd, as the bus routes it. A marker call of the
# test's own (ListUnitsByNames, which the daemon never makes) on each side
# of what is counted.
inside systemd-run --quiet --unit=monitor -p StandardOutput=file:/run/monitor.txt \
        busctl monitor --match "type='method_call',destination='org.freedesktop.systemd1'"
container_wait 10 "busctl monitor subscribed" sh -c \
        "nsenter -t $CONTAINER_LEADER -a grep -q 'Monitoring bus message stream' /run/monitor.txt"
marker() {
        inside busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager \
                ListUnitsByNames as 1 "$1.service" >/dev/null
        container_wait 10 "the monitor saw $1" sh -c "nsenter -t $CONTAINER_LEADER -a grep -q '\"$1.service\"' /run/monitor.txt"
}
# calls_between A B MEMBER-REGEX: the calls the monitor saw between two markers.
calls_between() {
        inside cat /run/monitor.txt | awk -v a="\"$1.service\"" -v b="\"$2.service\"" -v re="Member=($3)\$" '
                index($0, a) { on = 1; next }
                index($0, b) { on = 0 }
                on { for (i = 1; i <= NF; i++) if ($i ~ re) n++ }
                END { print n + 0 }'
}
status_json() { inside tcpkeepalivectl status --json; }
# field JSON UNIT KEY
field() {
        printf '%s' "$1" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print([u for u in d["units"] if u["unit"] == sys.argv[1]][0][sys.argv[2]])' "$2" "$3"
}

# ---- unchanged units: nothing asked ----------------------------------------------
marker mark-1
s1=$(status_json)
marker mark-2
s2=$(status_json)
marker mark-3
first=$(calls_between mark-1 mark-2 'LoadUnit|GetUnit|GetAll')
second=$(calls_between mark-2 mark-3 'LoadUnit|GetUnit|GetAll')
pings=$(calls_between mark-2 mark-3 'Ping')
expect_eq "$second" 0 "LoadUnit/GetUnit/GetAll calls to systemd during the second status over $N unchanged units"
expect_eq "$(field "$s2" cache-1.service state)" active "cache-1.service in the second status"
[ "$s1" = "$s2" ] || fail "the two statuses differ:
$s1
$s2"
pass "status over $N units: $first unit calls to systemd the first time, $second the second time ($pings Ping)"

# ---- a restart: the new MainPID at once ------------------------------------------
old=$(field "$s2" cache-3.service pid)
inside systemctl restart cache-3.service
new=$(inside systemctl show -P MainPID cache-3.service)
[ "$new" != "$old" ] || fail "the restart kept PID $old"
s=$(status_json)
expect_eq "$(field "$s" cache-3.service pid)" "$new" "cache-3.service's PID in the status right after its restart (was $old)"
pass "a restart: PID $old, then $new in the next status"

# ---- a daemon-reload that changes Environment= (no PropertiesChanged) ------------
# (systemd 252 also sends PropertiesChanged for the units it reloads, which
# drops them too: the drop on Reloading is the guard that does not rest on
# that; this part passes without it.)
inside mkdir -p /etc/systemd/system/cache-4.service.d
printf '[Service]\nEnvironment=TCPKEEPALIVE_IDLE=48\n' | inside_write /etc/systemd/system/cache-4.service.d/60-admin.conf
marker reload-1
inside systemctl daemon-reload
s=$(status_json)
marker reload-2
# Everything was dropped: each unit asked again (by the status, or by the
# daemon's background refresh before it), which also shows the count works.
asked=$(calls_between reload-1 reload-2 'LoadUnit|GetUnit')
[ "$asked" -ge $N ] || fail "$asked LoadUnit/GetUnit calls after a daemon-reload, want one per unit ($N) at least"
expect_eq "$(field "$s" cache-4.service state)" pending-restart \
        "cache-4.service right after a daemon-reload gave it new TCPKEEPALIVE_IDLE ($(field "$s" cache-4.service reason))"
expect_eq "$(field "$s" cache-5.service state)" active "cache-5.service, unchanged by the reload"
pass "a daemon-reload with a new Environment=: pending-restart at once ($asked LoadUnit/GetUnit calls after it)"

# ---- a stop: inactive at once ----------------------------------------------------
inside systemctl stop cache-5.service
s=$(status_json)
expect_eq "$(field "$s" cache-5.service state)" inactive "cache-5.service right after its stop"
expect_eq "$(field "$s" cache-5.service pid)" 0 "cache-5.service's PID after its stop"
pass "a stop: inactive at once"

# ---- daemon-reexec ---------------------------------------------------------------
before=$(status_json)
marker reexec-1
inside systemctl daemon-reexec
container_wait 30 "systemd back on the bus after daemon-reexec" sh -c \
        "nsenter -t $CONTAINER_LEADER -a busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.DBus.Peer Ping"
# The daemon saw org.freedesktop.systemd1 change hands and subscribed again
# (its own Subscribe: from the bus name it owns org.tcpkeepalive1 with).
me=$(inside busctl status --no-pager org.tcpkeepalive1 | sed -n 's/^UniqueName=//p')
[ -n "$me" ] || fail "no unique name for org.tcpkeepalive1"
container_wait 10 "tcpkeepalived's ($me) Subscribe to the new systemd" sh -c \
        "nsenter -t $CONTAINER_LEADER -a sed -n '/\"reexec-1.service\"/,\$p' /run/monitor.txt | grep -q 'Sender=$me .*Member=Subscribe'"
marker reexec-2
after=$(status_json)
for u in cache-1.service cache-3.service cache-4.service cache-5.service; do
        expect_eq "$(field "$after" $u state) $(field "$after" $u pid)" "$(field "$before" $u state) $(field "$before" $u pid)" \
                "$u after daemon-reexec"
done
old=$(field "$after" cache-6.service pid)
inside systemctl restart cache-6.service
new=$(inside systemctl show -P MainPID cache-6.service)
s=$(status_json)
expect_eq "$(field "$s" cache-6.service pid)" "$new" "cache-6.service's PID right after a restart that followed daemon-reexec (was $old)"
# Subscribed again: the cache serves the unchanged units once more.
container_wait 10 "the daemon subscribed again" sh -c \
        "nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS UnitStates >/dev/null"
status_json >/dev/null
marker mark-4
status_json >/dev/null
marker mark-5
expect_eq "$(calls_between mark-4 mark-5 'LoadUnit|GetUnit|GetAll')" 0 "unit calls to systemd in a status after daemon-reexec"
pass "daemon-reexec: states unchanged, a later restart shows at once, the cache used again"

# ---- a systemd that stops answering -----------------------------------------------
# PID 1 of the container stopped (SIGSTOP from the host): the kept answers
# must not make the units look fine; the status says systemd did not
# answer (the request's Ping went unanswered, so nothing kept is used).
kill -STOP "$CONTAINER_LEADER"
on_exit "kill -CONT $CONTAINER_LEADER"
t0=$(now_ms)
s=$(status_json) || true
t=$(($(now_ms) - t0))
kill -CONT "$CONTAINER_LEADER"
expect_eq "$(field "$s" cache-1.service state)" error "cache-1.service while systemd does not answer"
case $s in *'"state":"active"'*) fail "a unit shown active while systemd did not answer: $s" ;; esac
why=$(field "$s" cache-1.service reason)
expect_match "$why" "did not answer|not asked" "cache-1.service's reason"
s=$(status_json)
expect_eq "$(field "$s" cache-1.service state)" active "cache-1.service once systemd answers again"
pass "a stopped systemd: every unit in error after $t ms (\"$why\"), then active again"

pid=$(inside systemctl show -P MainPID tcpkeepalived.service)
rss=$(inside sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")
pass "daemon RSS $rss kB"
inside systemctl stop monitor.service
container_stop
