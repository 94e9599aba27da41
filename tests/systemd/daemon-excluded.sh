#!/bin/sh
# Two states that are what the admin asked for, each from its real
# situation and read over D-Bus: a unit a Mode=off rule takes out is
# "excluded" (never "overridden"), a unit whose drop-in an admin masked
# with a link to /dev/null in /etc is "masked" (never "unmanaged");
# tcpkeepalivectl check exits 0 for both, and --json list shows them.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

container_boot tka-excluded
# The restart path is under test here, not the live apply (daemon-live.sh).
container_no_live_apply
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
getunit() { inside busctl call $BUS GetUnit s "$1"; }
state_of() { getunit "$1" | awk '{print $3}' | tr -d '"'; }
unit() { # NAME PORT: a socat echo service
        printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:%s,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' "$2" |
                inside_write "/etc/systemd/system/$1"
}
unit queue-audit.service 7501
unit masked.service 7502
unit stopped-audit.service 7503
# A rule, then a later one that takes two units out (conf/examples).
printf '[Match]\nUnit=queue-audit.service stopped-audit.service masked.service\n[KeepAlive]\nIdleSec=51\n' | inside_write /etc/keepalived.d/50-all.ini
printf '[Match]\nUnit=queue-audit.service stopped-audit.service\n[KeepAlive]\nMode=off\n' |
        inside_write /etc/keepalived.d/90-exclude-audit.ini
# The admin masks our drop-in for one unit, as systemd.unit(5) says.
inside mkdir -p /etc/systemd/system/masked.service.d
inside ln -s /dev/null /etc/systemd/system/masked.service.d/50-tcpkeepalive.conf
inside systemctl daemon-reload
inside systemctl start queue-audit.service masked.service
for port in 7501 7502; do wait_listening $port; done
container_start_daemon

# What systemd itself says, for the record of this test.
echo "masked.service DropInPaths: $(inside systemctl show -P DropInPaths masked.service)"

expect_eq "$(state_of queue-audit.service)" excluded "a running unit under Mode=off"
expect_match "$(getunit queue-audit.service)" '"excluded by /etc/keepalived.d/90-exclude-audit.ini \(Mode=off\)"' \
        "the reason names the rule file"
expect_eq "$(state_of stopped-audit.service)" excluded "a stopped unit under Mode=off"
out=$(inside tcpkeepalivectl check queue-audit.service) || fail "check exited $? for an excluded unit: $out"
expect_match "$out" "^queue-audit.service: excluded: excluded by " "check prints the state"
pass "Mode=off: excluded, check exits 0"

expect_eq "$(state_of masked.service)" masked "a masked drop-in"
expect_match "$(getunit masked.service)" \
        '"the drop-in is masked by /etc/systemd/system/masked.service.d/50-tcpkeepalive.conf"' "the reason names the mask"
out=$(inside tcpkeepalivectl check masked.service) || fail "check exited $? for a masked drop-in: $out"
expect_match "$out" "^masked.service: masked: " "check prints the state"
expect_no_match "$(connection_timer 7502)" "keepalive" "the masked unit has no keepalive"
pass "a masked drop-in: masked, check exits 0"

json=$(inside tcpkeepalivectl --json list) || fail "tcpkeepalivectl --json list failed: $json"
expect_match "$json" '"unit":"queue-audit.service","state":"excluded"' "--json list: excluded"
expect_match "$json" '"unit":"masked.service","state":"masked"' "--json list: masked"
pass "tcpkeepalivectl --json list shows both"

# Unmasked: the generator's drop-in is back, the running process predates it.
inside rm /etc/systemd/system/masked.service.d/50-tcpkeepalive.conf
inside systemctl daemon-reload
expect_eq "$(state_of masked.service)" pending-restart "unmasked while running"
pass "unmasked: pending-restart"
