#!/bin/sh
# tcpkeepalived under faults, on a real systemd: 1,000 rule files; the rule
# directory removed and re-created; a FIFO, a directory and a dangling
# symlink named *.ini; a rule replaced atomically by rename; SIGKILL while
# it reloads; 100 clients at once; systemd reloaded underneath; D-Bus
# restarted. After each: the right drop-ins, the right status, no rule
# lost, and no service restarted that should not have been.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

container_boot tka-faults
# The restart path is under test here, not the live apply (daemon-live.sh).
container_no_live_apply
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"

# A service whose rule never says Restart=try: nothing may restart it.
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7901,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/steady.service
printf '[Match]\nUnit=steady.service\n[KeepAlive]\nIdleSec=81\n' | inside_write /etc/keepalived.d/50-steady.ini
inside systemctl daemon-reload
inside systemctl start steady.service tcpkeepalived.service
wait_listening 7901
steady_pid=$(inside systemctl show -P MainPID steady.service)
container_wait 15 "the daemon sees 50-steady.ini" sh -c "nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Rules | grep -q 50-steady"

# 1,000 rule files at once.
inside sh -c 'for i in $(seq 1000); do printf "[Match]\nUnit=load%d.service\n[KeepAlive]\nIdleSec=%d\n" $i $((60 + i % 50)) > /etc/keepalived.d/60-load$i.ini; done'
container_wait 60 "1,001 rules in the daemon" sh -c "[ \"\$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Rules | awk '{print \$2}')\" = 1001 ]"
container_wait 30 "1,001 drop-ins" sh -c "[ \$(nsenter -t $CONTAINER_LEADER -a sh -c 'ls /run/systemd/generator/*/50-tcpkeepalive.conf | wc -l') -ge 1001 ]"
expect_match "$(inside cat /run/systemd/generator/load500.service.d/50-tcpkeepalive.conf)" "TCPKEEPALIVE_IDLE=60$" "load500's drop-in"
pass "1,000 rule files: all in the API and in drop-ins"

# The rule directory removed, then re-created with one rule.
inside rm -rf /etc/keepalived.d
container_wait 30 "no rules after the directory went" sh -c "[ \"\$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Rules | awk '{print \$2}')\" = 0 ]"
inside mkdir /etc/keepalived.d
printf '[Match]\nUnit=steady.service\n[KeepAlive]\nIdleSec=82\n' | inside_write /etc/keepalived.d/50-steady.ini
container_wait 15 "the re-created directory's rule" sh -c "nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Rules | grep -q '50-steady.ini\" 1 \"steady.service\" 82'"
pass "rule directory removed and re-created"

# Things that are not rule files, named like one: never block, never crash.
inside mkfifo /etc/keepalived.d/70-fifo.ini
inside mkdir /etc/keepalived.d/71-dir.ini
inside ln -s /nonexistent /etc/keepalived.d/72-dangling.ini
printf '[Match]\nUnit=steady.service\n[KeepAlive]\nIdleSec=83\n' | inside_write /etc/keepalived.d/.50-steady.ini.tmp
inside mv /etc/keepalived.d/.50-steady.ini.tmp /etc/keepalived.d/50-steady.ini
container_wait 15 "the renamed rule" sh -c "nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Rules | grep -q '\"steady.service\" 83'"
errors=$(inside busctl get-property $BUS Errors)
expect_match "$errors" "70-fifo.ini" "the FIFO is reported"
expect_match "$errors" "71-dir.ini" "the directory is reported"
expect_eq "$(inside systemctl is-active tcpkeepalived.service)" active "the daemon after the odd files"
pass "a FIFO, a directory, a dangling symlink; a rule replaced by rename"

# SIGKILL while it reloads systemd: systemd restarts it, nothing is lost.
printf '[Match]\nUnit=steady.service\n[KeepAlive]\nIdleSec=84\n' | inside_write /etc/keepalived.d/50-steady.ini
container_wait 10 "a reload under way" sh -c "nsenter -t $CONTAINER_LEADER -a journalctl -u tcpkeepalived -o cat | grep -q '; reloading systemd'"
inside sh -c 'kill -KILL "$(systemctl show -P MainPID tcpkeepalived.service)"'
container_wait 30 "the daemon back" sh -c "nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Rules | grep -q '\"steady.service\" 84'"
# The restarted daemon reloads systemd again, and a reload empties the
# generator directory while the generator runs (CI once read it then):
# the drop-in is there again, with the new value, within the bound.
container_wait 30 "the drop-in with IdleSec=84 after the kill" \
        sh -c "nsenter -t $CONTAINER_LEADER -a grep -q 'TCPKEEPALIVE_IDLE=84\$' /run/systemd/generator/steady.service.d/50-tcpkeepalive.conf"
pass "SIGKILL during a reload: restarted, the rule applied"

# 100 clients at once.
inside sh -c 'for i in $(seq 100); do (busctl call org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager GetUnit s steady.service >/dev/null && echo ok >>/run/clients) & done; wait'
expect_eq "$(inside grep -c ok /run/clients)" 100 "100 concurrent GetUnit calls answered"
pass "100 clients at once"

# systemd reloaded and D-Bus restarted underneath.
inside systemctl daemon-reload
expect_match "$(inside busctl call $BUS GetUnit s steady.service)" '"steady.service" "pending-restart"' "after systemd's reload"
inside systemctl restart dbus.service
container_wait 30 "the daemon on the new bus" sh -c "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s steady.service >/dev/null 2>&1"
pass "systemd reloaded, D-Bus restarted: the daemon answers"

expect_eq "$(inside systemctl show -P MainPID steady.service)" "$steady_pid" "steady.service was never restarted"
pass "no service restarted that should not have been"
