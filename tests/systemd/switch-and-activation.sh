#!/bin/sh
# The per-service switch with plain systemctl (enable gives keepalive,
# status tells the truth, disable takes it away), a static binary reported
# as unsupported, and a socket-activated service (.socket, Accept=no) whose
# first connection, the one that started it, gets keepalive.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

container_boot tka-switch

status_line() { inside systemctl show -P StatusText "tcpkeepalive@$1.service"; }

printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7101,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/echo.service
inside systemctl daemon-reload
inside systemctl start echo.service
wait_listening 7101
expect_no_match "$(connection_timer 7101)" "keepalive" "before enable: no keepalive"

# enable while the service runs: the drop-in exists, the process predates it.
set +e
inside systemctl enable --now tcpkeepalive@echo.service >/dev/null 2>&1
set -e
expect_eq "$(inside systemctl is-enabled tcpkeepalive@echo.service)" "enabled" "is-enabled"
expect_match "$(inside systemctl show -P DropInPaths echo.service)" "/run/systemd/generator/echo.service.d/50-tcpkeepalive.conf" "enable: drop-in"
expect_match "$(status_line echo)" "^echo.service: pending-restart: " "status before the restart"
expect_eq "$(inside systemctl is-failed tcpkeepalive@echo.service)" "failed" "the switch fails while the process lacks keepalive"

inside systemctl restart echo.service
inside systemctl start tcpkeepalive@echo.service # waits for the check that restart triggered
wait_listening 7101
# defaults.conf: IdleSec=60
expect_idle "$(connection_timer 7101)" 60 "enabled: the defaults' idle time"
expect_sockopts 7101 60 15 4 "enabled: the defaults"
expect_match "$(status_line echo)" "^echo.service: active: PID [0-9]+ has $PREFIX/lib/libtcpkeepalive.so" "status after the restart"
expect_eq "$(inside systemctl is-active tcpkeepalive@echo.service)" "active" "the switch is active"
pass "enable, restart, status: $(status_line echo)"

inside systemctl disable --now tcpkeepalive@echo.service >/dev/null 2>&1
expect_eq "$(inside systemctl show -P DropInPaths echo.service)" "" "disable removes the drop-in"
inside systemctl restart echo.service
wait_listening 7101
expect_no_match "$(connection_timer 7101)" "keepalive" "after disable and restart: no keepalive"
pass "disable takes it away"

# A static binary: the switch says why it cannot work instead of pretending.
printf '[Service]\nExecStart=/bin/busybox nc -ll -p 7102 -e /bin/cat\n' |
        inside_write /etc/systemd/system/static.service
inside systemctl daemon-reload
set +e
inside systemctl enable --now tcpkeepalive@static.service >/dev/null 2>&1
inside systemctl start static.service
inside systemctl restart tcpkeepalive@static.service >/dev/null 2>&1
set -e
expect_match "$(status_line static)" "^static.service: unsupported: PID [0-9]+: (/usr)?/bin/busybox is statically linked: LD_PRELOAD cannot reach it" "static binary"
pass "static binary: $(status_line static)"

# Socket activation, Accept=no: the first connection is queued before the
# service (and the library) start.
printf '[Socket]\nListenStream=127.0.0.1:7103\n' | inside_write /etc/systemd/system/activated.socket
cat <<'PY' | inside_write /etc/accept-hello.py
import socket, time
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    time.sleep(30)
PY
printf '[Service]\nExecStart=/usr/bin/python3 /etc/accept-hello.py\n' | inside_write /etc/systemd/system/activated.service
printf '[Match]\nUnit=activated.service\n[KeepAlive]\nIdleSec=33\n' | inside_write /etc/keepalived.d/50-activated.ini
inside systemctl daemon-reload
inside systemctl start activated.socket
wait_listening 7103
expect_eq "$(inside systemctl is-active activated.service || true)" "inactive" "the service waits for its first connection"
connection_timer 7103 >/dev/null
# Until the service accepts it, the connection sits in the queue of systemd's
# listener, owned by no process; then python3 holds it.
wait_until 10 "activated.service accepting the first connection" \
        sh -c "nsenter -t $CONTAINER_LEADER -a ss -Htnp state established 'sport = :7103' | grep -q python3"
line=$(inside ss -Htnoe state established 'sport = :7103')
expect_idle "$line" 33 "the connection that started the socket-activated service"
expect_sockopts 7103 33 15 4 "the connection that started the socket-activated service (defaults.conf: interval 15, count 4)"
pass "socket activation, Accept=no: $(printf '%s' "$line" | grep -o 'timer:([^)]*)')"
