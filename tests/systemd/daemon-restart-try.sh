#!/bin/sh
# Restart=try restarts only where due (issue 14, items 1 and 7).
#
# title.service runs a server that writes over its environment, as nginx's
# master does for its title: /proc/PID/environ no longer shows the
# TCPKEEPALIVE_* it was started with. Started after its drop-in, it is
# current (systemd's start time of the process against the reload that
# gave the drop-in its content), so it is active, not pending-restart, and
# an edit of an unrelated rule restarts nothing; an edit of its own rule
# restarts it once. plain.service: adding ExtraPreload= to its rule changes
# its drop-in's LD_PRELOAD: it is pending-restart until restarted.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd python3 socat

container_boot tka-restart-try
# The restart path is under test here, not the live apply (daemon-live.sh).
container_no_live_apply
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
state_of() { inside busctl call $BUS GetUnit s "$1" | awk '{print $3}' | tr -d '"'; }
main_pid() { inside systemctl show -P MainPID "$1"; }
reloads() { inside busctl get-property $BUS Reloads | awk '{print $2}'; }

cat <<'PY' | inside_write /etc/title.py
# A server that overwrites its environment block, then holds connections.
import ctypes, socket, sys
libc = ctypes.CDLL(None)
environ = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, "environ")
i = 0
while environ[i]:
    n = len(environ[i])
    ctypes.memset(ctypes.cast(environ, ctypes.POINTER(ctypes.c_void_p))[i], ord("x"), n)
    i += 1
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
while True:
    held.append(s.accept()[0])
PY
printf '[Service]\nExecStart=/usr/bin/python3 /etc/title.py 7501\n' | inside_write /etc/systemd/system/title.service
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7502,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/plain.service
printf '[Match]\nUnit=title.service\n[KeepAlive]\nIdleSec=41\n[Service]\nRestart=try\n' | inside_write /etc/keepalived.d/50-title.ini
printf '[Match]\nUnit=other.service\n[KeepAlive]\nIdleSec=30\n' | inside_write /etc/keepalived.d/50-other.ini
printf '[Match]\nUnit=plain.service\n[KeepAlive]\nIdleSec=41\n' | inside_write /etc/keepalived.d/50-plain.ini
inside systemctl daemon-reload
inside systemctl start title.service plain.service
wait_listening 7501
wait_listening 7502
pid=$(main_pid title.service)
# The case under test: the environ shows no TCPKEEPALIVE_* any more.
if inside tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q '^TCPKEEPALIVE_'; then
        fail "title.service's environ still shows TCPKEEPALIVE_*: the test no longer shows the case it is about"
fi
inside grep -q libtcpkeepalive "/proc/$pid/maps" || container_fail "title.service: the library is not mapped (Environment: $(inside systemctl show -P Environment title.service); DropInPaths: $(inside systemctl show -P DropInPaths title.service))"
container_start_daemon
expect_eq "$(state_of title.service)" active "title.service, its environ overwritten, started after its drop-in"
pass "a process that writes over its environ is active, not pending-restart"

# An unrelated rule changes: nothing of title.service's changed.
r0=$(reloads)
printf '[Match]\nUnit=other.service\n[KeepAlive]\nIdleSec=31\n' | inside_write /etc/keepalived.d/50-other.ini
container_wait 15 "tcpkeepalived's reload after 50-other.ini changed" sh -c "
        [ \"\$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Reloads | awk '{print \$2}')\" -gt $r0 ]"
# tcpkeepalivectl reload answers once its reload is done: any restart the
# first reload asked for has reached systemd by then.
inside tcpkeepalivectl reload
expect_eq "$(main_pid title.service)" "$pid" "title.service's main PID after an unrelated rule changed (twice reloaded)"
case $(inside journalctl -u tcpkeepalived --no-pager -o cat) in
*"title.service: restarting"*) fail "title.service was restarted for a change that was not its own" ;;
esac
pass "an unrelated rule change restarts nothing"

# Its own rule changes: restarted once, and the new process is current.
printf '[Match]\nUnit=title.service\n[KeepAlive]\nIdleSec=42\n[Service]\nRestart=try\n' | inside_write /etc/keepalived.d/50-title.ini
container_wait 20 "title.service restarted after its rule changed" sh -c "
        p=\$(nsenter -t $CONTAINER_LEADER -a systemctl show -P MainPID title.service); [ \"\$p\" != $pid ] && [ \"\$p\" != 0 ]"
wait_listening 7501
expect_idle "$(connection_timer 7501)" 42 "title.service after its rule changed"
expect_eq "$(state_of title.service)" active "title.service after its restart"
pid2=$(main_pid title.service)
inside tcpkeepalivectl reload
expect_eq "$(main_pid title.service)" "$pid2" "title.service is not restarted again"
pass "its own rule change restarts it once; then active"

# ExtraPreload= changes the drop-in's LD_PRELOAD: the running process lacks it.
expect_eq "$(state_of plain.service)" active "plain.service before ExtraPreload="
libm=$(inside sh -c 'ls /usr/lib/*/libm.so.6 | head -n1')
printf '[Match]\nUnit=plain.service\n[KeepAlive]\nIdleSec=41\n[Service]\nExtraPreload=%s\n' "$libm" | inside_write /etc/keepalived.d/50-plain.ini
inside tcpkeepalivectl reload
expect_match "$(inside systemctl show -P Environment plain.service)" "LD_PRELOAD=[^ ]*:$libm" "plain.service's drop-in has ExtraPreload="
expect_eq "$(state_of plain.service)" pending-restart "plain.service after ExtraPreload= was added"
inside systemctl restart plain.service
wait_listening 7502
expect_eq "$(state_of plain.service)" active "plain.service after its restart"
pass "an ExtraPreload= change is pending-restart until the unit restarts"
container_stop
