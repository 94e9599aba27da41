#!/bin/sh
# An alias in a real systemd (issue 14 item 10): real.service has
# Alias=alias.service (systemctl enable links it); a rule naming the unit
# and a later one naming the alias both match, and the later one applies,
# to the running service too (Restart=try), where before the unit's own
# drop-in shadowed the alias's and the alias's rule lost silently.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

container_boot tka-alias
# The restart path is under test here, not the live apply (daemon-live.sh).
container_no_live_apply
container_start_daemon

printf '[Service]\nSuccessExitStatus=143\nExecStart=/usr/bin/socat TCP-LISTEN:7321,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n[Install]\nAlias=alias.service\nWantedBy=multi-user.target\n' |
        inside_write /etc/systemd/system/real.service
inside systemctl enable real.service
inside test -L /etc/systemd/system/alias.service || container_fail "systemctl enable made no alias link"
printf '[Match]\nUnit=real\n[KeepAlive]\nIdleSec=31\nIntervalSec=5\nCount=3\n' | inside_write /etc/keepalived.d/10-real.ini
inside systemctl daemon-reload
inside systemctl start real.service
wait_listening 7321
expect_idle "$(connection_timer 7321)" 31 "real.service under 10-real.ini"
before=$(inside systemctl show -P MainPID real.service)

printf '[Match]\nUnit=alias\n[KeepAlive]\nIdleSec=93\nIntervalSec=7\nCount=4\n[Service]\nRestart=try\n' |
        inside_write /etc/keepalived.d/90-alias.ini
container_wait 15 "real.service restarted by tcpkeepalived (Restart=try in the alias's rule)" \
        sh -c "[ \"\$(nsenter -t $CONTAINER_LEADER -a systemctl show -P MainPID real.service)\" != '$before' ]"
expect_match "$(inside journalctl -u tcpkeepalived --no-pager)" "real.service: restarting \\(Restart=try in /etc/keepalived.d/90-alias.ini\\)" "journal says why"
wait_listening 7321
expect_idle "$(connection_timer 7321)" 93 "real.service under 90-alias.ini"
expect_sockopts 7321 93 7 4 "real.service after the alias's rule was dropped in"
dropins=$(inside systemctl show -P DropInPaths real.service)
expect_match "$dropins" "real.service.d/50-tcpkeepalive.conf" "the drop-in under the unit's own name"
expect_no_match "$dropins" "alias.service.d" "no drop-in under the alias"
expect_match "$(inside tcpkeepalivectl verify 2>&1)" "applies to: real.service \(overridden by [^)]*\)" "verify marks the unit's rule overridden"
pass "an alias's rule that sorts last applies to the unit, running (Restart=try)"
