#!/bin/sh
# A rule naming a template exactly (Unit=wk@.service) reaches its running
# instances through Restart=try, as the generator's template drop-in
# reaches them (issue 14 item 6: the daemon matched only the literal
# template name, and the instances stayed pending-restart); GetUnit on the
# template says how many instances are loaded and names them (item 12).
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

container_boot tka-template
# The restart path is under test here, not the live apply (daemon-live.sh).
container_no_live_apply
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
call() { inside busctl call $BUS "$@"; }

container_start_daemon

# Two instances of a template run; then a rule naming the template, with
# Restart=try, is dropped in. Nothing else.
printf '[Service]\nSuccessExitStatus=143\nExecStart=/usr/bin/socat TCP-LISTEN:%%i,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/wk@.service
inside systemctl daemon-reload
inside systemctl start wk@7311.service wk@7312.service
before1=$(inside systemctl show -P MainPID wk@7311.service)
before2=$(inside systemctl show -P MainPID wk@7312.service)
printf '[Match]\nUnit=wk@.service\n[KeepAlive]\nIdleSec=43\nIntervalSec=7\nCount=4\n[Service]\nRestart=try\n' |
        inside_write /etc/keepalived.d/50-wk.ini
container_wait 15 "wk@7311.service restarted by tcpkeepalived" \
        sh -c "[ \"\$(nsenter -t $CONTAINER_LEADER -a systemctl show -P MainPID wk@7311.service)\" != '$before1' ]"
container_wait 15 "wk@7312.service restarted by tcpkeepalived" \
        sh -c "[ \"\$(nsenter -t $CONTAINER_LEADER -a systemctl show -P MainPID wk@7312.service)\" != '$before2' ]"
journal=$(inside journalctl -u tcpkeepalived --no-pager)
expect_match "$journal" "wk@7311.service: restarting \\(Restart=try in /etc/keepalived.d/50-wk.ini\\)" "journal says why (7311)"
expect_match "$journal" "wk@7312.service: restarting \\(Restart=try in /etc/keepalived.d/50-wk.ini\\)" "journal says why (7312)"
wait_listening 7311
expect_idle "$(connection_timer 7311)" 43 "wk@7311.service after the template's rule was dropped in"
expect_sockopts 7311 43 7 4 "wk@7311.service after the template's rule was dropped in"
container_wait 10 "wk@7311.service active" \
        sh -c "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s wk@7311.service | grep -q '\"wk@7311.service\" \"active\"'"
pass "a rule naming the template restarts its running instances (Restart=try)"

# The template's own row: the loaded instances, by count and name.
row=$(call GetUnit s wk@.service)
expect_match "$row" '"wk@.service" "inactive" "template: 2 instances are loaded \(wk@7311.service, wk@7312.service\); each has its own state"' "GetUnit on the template"
expect_no_match "$row" "no instance of it is loaded" "GetUnit on the template with instances"
inside systemctl stop wk@7311.service wk@7312.service
inside systemctl reset-failed "wk@*" || true
container_wait 10 "the instances unloaded" \
        sh -c "! nsenter -t $CONTAINER_LEADER -a systemctl list-units --all --no-legend 'wk@*' | grep -q wk@"
expect_match "$(call GetUnit s wk@.service)" '"template: no instance of it is loaded"' "GetUnit on the template without instances"
pass "GetUnit on a template names its loaded instances"
