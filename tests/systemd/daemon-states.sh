#!/bin/sh
# tcpkeepalived's per-unit states, each produced by a real situation and
# read over D-Bus: active, pending-restart, inactive, unsupported (a static
# busybox), overridden (an admin's override.conf), a template's running
# instances; the UnitStateChanged and PropertiesChanged signals as units
# and rules change; zero CPU when idle; tcpkeepalivectl -H.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd busybox

container_boot tka-states
# The restart path is under test here, not the live apply (daemon-live.sh).
container_no_live_apply
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
call() { inside busctl call $BUS "$@"; }
state_of() { call GetUnit s "$1" | awk '{print $3}' | tr -d '"'; }
unit() { # NAME EXEC: a service unit
        printf '[Service]\nExecStart=%s\n' "$2" | inside_write "/etc/systemd/system/$1"
}
unit web.service "/usr/bin/python3 -m http.server --bind 127.0.0.1 7401"
unit static.service "/bin/busybox nc -ll -p 7402 -e /bin/cat"
unit overridden.service "/usr/bin/socat TCP-LISTEN:7403,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat"
unit stopped.service "/usr/bin/socat TCP-LISTEN:7404,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat"
unit worker@.service "/usr/bin/socat TCP-LISTEN:%i,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat"
inside mkdir -p /etc/systemd/system/overridden.service.d
printf '[Service]\nEnvironment=LD_PRELOAD=\n' | inside_write /etc/systemd/system/overridden.service.d/override.conf
rule() { # FILE UNIT [SERVICE-SECTION]: a rule with IdleSec=51
        printf '[Match]\nUnit=%s\n[KeepAlive]\nIdleSec=51\n%s' "$2" "${3:-}" | inside_write "/etc/keepalived.d/$1"
}
rule 50-static.ini static.service
rule 50-overridden.ini overridden.service
rule 50-stopped.ini stopped.service
rule 50-worker.ini 'worker@*.service'
inside systemctl daemon-reload
inside systemctl start web.service static.service overridden.service worker@7405.service worker@7406.service
for port in 7401 7402 7403 7405 7406; do wait_listening $port; done
container_start_daemon

# Every signal of the daemon, as busctl sees it on the bus.
inside systemd-run --quiet --unit=monitor -p StandardOutput=file:/run/monitor.txt \
        busctl monitor --match "type='signal',sender='org.tcpkeepalive1'"
signalled() { # PATTERN WHAT: wait until the monitor has seen it
        wait_until 15 "$2" sh -c "nsenter -t $CONTAINER_LEADER -a cat /run/monitor.txt | tr -d '\\n' | grep -Eq '$1'"
}
# busctl prints a signal's arguments one per line: join them, then match.
sig() { printf 'Member=UnitStateChanged.*STRING "%s";[[:space:]]*STRING "%s";' "$1" "$2"; }
wait_until 10 "busctl monitor subscribed" sh -c "nsenter -t $CONTAINER_LEADER -a grep -q 'Monitoring bus message stream' /run/monitor.txt"

# The states, each from its real situation.
expect_eq "$(state_of static.service)" unsupported "a static busybox"
expect_match "$(call GetUnit s static.service)" "statically linked" "the reason names the static binary"
expect_eq "$(state_of overridden.service)" overridden "an override.conf with Environment=LD_PRELOAD="
expect_match "$(call GetUnit s overridden.service)" "Environment=LD_PRELOAD=.*replaces ours" "the reason names the override"
expect_eq "$(state_of stopped.service)" inactive "a stopped unit"
expect_eq "$(state_of worker@7405.service)" active "a template instance started after the rule"
list=$(call ListUnits)
expect_match "$list" '"worker@7405.service" "active"' "ListUnits shows the template's instances"
expect_match "$list" '"worker@7406.service" "active"' "ListUnits shows every instance"
case $list in *'"worker@.service"'*) fail "ListUnits shows the template instead of its instances: $list" ;; esac
states=$(inside busctl get-property $BUS UnitStates)
expect_match "$states" '"static.service" "unsupported"' "the UnitStates property"
expect_match "$states" '"worker@7405.service" "active"' "UnitStates lists template instances"
pass "unsupported, overridden, inactive, template instances"

# pending-restart: a rule for a running service, without Restart=try.
rule 50-web.ini web.service
wait_until 15 "web.service pending-restart" sh -c "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s web.service | grep -q pending-restart"
signalled "$(sig web.service pending-restart)" "UnitStateChanged web.service pending-restart"
signalled 'Member=PropertiesChanged.*"Rules"' "PropertiesChanged for Rules"
signalled 'Member=PropertiesChanged.*"UnitStates"' "PropertiesChanged invalidating UnitStates"
inside systemctl restart web.service
wait_listening 7401
signalled "$(sig web.service active)" "UnitStateChanged web.service active after its restart"
expect_eq "$(state_of web.service)" active "web.service after the restart"
pass "pending-restart, then active; UnitStateChanged and PropertiesChanged signalled"

# A reload rewrites every drop-in with the same text: nothing is pending.
inside systemctl daemon-reload
expect_eq "$(state_of web.service)" active "web.service after an unrelated daemon-reload"
# New values for a running service: pending until it restarts.
printf '[Match]\nUnit=web.service\n[KeepAlive]\nIdleSec=52\n' | inside_write /etc/keepalived.d/50-web.ini
wait_until 15 "web.service pending-restart with older settings" \
        sh -c "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s web.service | grep -q 'pending-restart.*older settings'"
pass "a daemon-reload changes nothing; changed values are pending until a restart"

inside systemctl stop worker@7406.service
signalled "$(sig worker@7406.service inactive)" "UnitStateChanged worker@7406.service inactive"
inside systemctl start stopped.service
signalled "$(sig stopped.service active)" "UnitStateChanged stopped.service active"
pass "UnitStateChanged follows starts and stops"

# Idle is zero CPU: no polling, only events (and a watchdog ping at most).
pid=$(inside systemctl show -P MainPID tcpkeepalived.service)
# (awk runs on the host: the container's /etc lacks the alternatives link)
ticks() { inside cat "/proc/$pid/stat" | awk '{print $14 + $15}'; }
switches() { inside cat "/proc/$pid/status" | awk '/^voluntary_ctxt_switches/ {print $2}'; }
t0=$(ticks) s0=$(switches)
sleep 5 # the measurement window itself, not a wait for an event
t1=$(ticks) s1=$(switches)
[ $((t1 - t0)) -le 1 ] || fail "tcpkeepalived used $((t1 - t0)) ticks of CPU in 5 idle seconds"
[ $((s1 - s0)) -le 3 ] || fail "tcpkeepalived woke up $((s1 - s0)) times in 5 idle seconds"
pass "idle: $((t1 - t0)) CPU ticks, $((s1 - s0)) wake-ups in 5 s"

# -H: sd-bus runs "ssh -xT -- HOST systemd-stdio-bridge". There is no
# second machine here, so a stand-in ssh (the only mock in this test)
# records its arguments and runs the remote command locally; the bridge,
# the bus and the daemon are real.
inside mkdir -p /run/fakessh
printf '#!/bin/sh\necho "$@" >/run/fakessh/args\nwhile [ "$1" != -- ]; do shift; done\nshift 2\nexec "$@"\n' |
        inside_write /run/fakessh/ssh
inside chmod +x /run/fakessh/ssh
remote=$(inside sh -c 'PATH=/run/fakessh:$PATH exec tcpkeepalivectl -H admin@fleet-host-7 list') ||
        fail "tcpkeepalivectl -H failed: $remote"
expect_match "$(inside cat /run/fakessh/args)" "-- admin@fleet-host-7 systemd-stdio-bridge" "ssh asked for the host"
expect_match "$remote" "^pending-restart +web.service " "-H list shows the remote daemon's units"
pass "tcpkeepalivectl -H HOST over sd-bus's ssh transport"
