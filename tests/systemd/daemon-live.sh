#!/bin/sh
# A rule reaches a running service live, through the daemon (issue 15):
# echo.service (a Python echo server, started with no rule) holds three
# established connections. A rule file written for it: within a bounded
# wait, all three carry the rule's values, with the same main PID, and
# still echo; the state is active with method bpf-live; a connection
# opened after gets the values too. `tcpkeepalivectl show` marks the three
# "rule, live" and the one opened after "rule, bpf" (sock_ops), in its
# text and --json. `tcpkeepalivectl apply` does the same
# on demand. The rule removed: a new connection gets no keepalive, the
# three keep theirs (keepalived.d(5): "leave"). In nspawn's default
# sandbox, where bpf(2) is refused, the unit stays pending-restart with the
# reason, and Restart=try restarts it.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd python3 socat

BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
# GetUnit's row: (unit, state, reason, rule, pid, established, rule, own, none, unread, method)
row_of() { inside busctl call $BUS GetUnit s "$1"; }
state_of() { row_of "$1" | awk '{print $3}' | tr -d '"'; }
method_of() { row_of "$1" | awk '{print $NF}' | tr -d '"'; }
main_pid() { inside systemctl show -P MainPID "$1"; }

# shows_applied LIVE BPF: `tcpkeepalivectl show echo.service` marks LIVE of
# the service's established connections "rule, live" and BPF "rule, bpf",
# in the text (VALUES) and in --json ("applied").
json_applied() {
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for s in d["sockets"] if s["state"] == "established" and s["applied"] == sys.argv[2]))' "$TMP/show.json" "$1"
}
shows_applied() {
        inside tcpkeepalivectl show echo.service >"$TMP/show" 2>&1 || return 1
        inside tcpkeepalivectl --json show echo.service >"$TMP/show.json" 2>&1 || return 1
        [ "$(grep -c ' established .* rule, live$' "$TMP/show")" -eq "$1" ] &&
                [ "$(grep -c ' established .* rule, bpf$' "$TMP/show")" -eq "$2" ] &&
                [ "$(json_applied live)" -eq "$1" ] && [ "$(json_applied bpf)" -eq "$2" ]
}
show_fail() {
        container_fail "$*
--- tcpkeepalivectl show echo.service ---
$(cat "$TMP/show" 2>/dev/null)
--- --json ---
$(cat "$TMP/show.json" 2>/dev/null)"
}

setup_echo() {
        cat <<'PY' | inside_write /etc/echo.py
import socket, sys, threading
def serve(c):
    while True:
        d = c.recv(4096)
        if not d:
            return
        c.sendall(d)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
PY
        # A client that holds N connections; on each line of its FIFO it
        # sends the line on every connection and writes the echoes out.
        cat <<'PY' | inside_write /etc/hold.py
import socket, sys
port, n, fifo, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
open(out, "w").write("connected\n")
while True:
    with open(fifo) as f:
        for line in f:
            got = []
            for c in conns:
                c.sendall(line.encode())
                got.append(c.recv(4096).decode().strip())
            open(out, "a").write(" ".join(got) + "\n")
PY
        printf '[Service]\nExecStart=/usr/bin/python3 /etc/echo.py 7601\n' | inside_write /etc/systemd/system/echo.service
        inside systemctl daemon-reload
        inside systemctl start echo.service
        wait_listening 7601
        inside rm -f /run/hold.fifo /run/hold.out
        inside mkfifo /run/hold.fifo
        inside systemd-run --quiet --unit=hold.service /usr/bin/python3 /etc/hold.py 7601 3 /run/hold.fifo /run/hold.out
        container_wait 10 "three connections to echo.service" sh -c \
                "[ \$(nsenter -t $CONTAINER_LEADER -a ss -Htn state established 'sport = :7601' | wc -l) -eq 3 ]"
}

# every_server_end PORT IDLE WHAT: each established connection of the
# server on PORT has a keepalive timer armed with about IDLE s.
every_server_end() {
        inside ss -Htnoe state established "sport = :$1" >"$TMP/ends"
        [ -s "$TMP/ends" ] || container_fail "$3: no established connection on port $1"
        while IFS= read -r line; do
                expect_idle "$line" "$2" "$3"
        done <"$TMP/ends"
}

echo_round_trip() {
        inside sh -c "echo $1 >/run/hold.fifo"
        container_wait 10 "the echo of '$1' on the three held connections" sh -c \
                "nsenter -t $CONTAINER_LEADER -a grep -qx '$1 $1 $1' /run/hold.out"
}

# ---- a host that allows BPF --------------------------------------------------------
container_boot tka-live
setup_echo
pid=$(main_pid echo.service)
if inside ss -Htnoe state established 'sport = :7601' | grep -q keepalive; then
        fail "echo.service's connections carry keepalive before any rule: the test shows nothing"
fi
container_start_daemon
expect_eq "$(state_of echo.service)" unmanaged "echo.service before its rule"

t0=$(now_ms)
printf '[Match]\nUnit=echo.service\n[KeepAlive]\nIdleSec=77\nIntervalSec=11\nCount=4\n' |
        inside_write /etc/keepalived.d/50-echo.ini
container_wait 15 "all three connections of echo.service carrying keepalive after its rule was written" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a ss -Htnoe state established 'sport = :7601' | grep -c 'timer:(keepalive') -eq 3 ]"
t_live=$(($(now_ms) - t0))
every_server_end 7601 77 "echo.service's three connections, applied live"
expect_sockopts 7601 77 11 4 "echo.service's connection, applied live"
expect_eq "$(main_pid echo.service)" "$pid" "echo.service's main PID after the live apply"
echo_round_trip one
container_wait 10 "echo.service's state active after the live apply" sh -c \
        "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s echo.service | grep -q '^(ssssuuuuuus) \"echo.service\" \"active\"'"
expect_eq "$(method_of echo.service)" bpf-live "echo.service's method after the live apply"
pass "a rule written for a running service: its 3 connections carry 77/11/4 in $t_live ms (settle and reload included), same PID $pid, still echoing; state $(row_of echo.service | cut -d'"' -f6 | cut -c1-120)"

WAIT_FAIL=show_fail wait_until 10 "tcpkeepalivectl show echo.service marking its 3 connections 'rule, live'" \
        shows_applied 3 0
pass "tcpkeepalivectl show: the 3 connections applied live (text and --json)"

expect_idle "$(connection_timer 7601)" 77 "a connection to echo.service opened after the live apply"
pass "a connection opened after the live apply gets the rule's values"
# Before `tcpkeepalivectl apply` below, which gives it the values live too.
WAIT_FAIL=show_fail wait_until 10 "tcpkeepalivectl show echo.service marking the new connection 'rule, bpf'" \
        shows_applied 3 1
pass "tcpkeepalivectl show: the connection opened after the apply got its values from sock_ops (rule, bpf)"

out=$(inside tcpkeepalivectl apply echo.service) || fail "tcpkeepalivectl apply echo.service failed: $out"
case $out in
"echo.service: active: "*) ;;
*) fail "tcpkeepalivectl apply echo.service printed: $out" ;;
esac
out=$(inside tcpkeepalivectl apply 'no such/unit' 2>&1) && fail "tcpkeepalivectl apply accepted 'no such/unit': $out"
out=$(inside setpriv --reuid=65534 --regid=65534 --clear-groups tcpkeepalivectl apply echo.service 2>&1) &&
        fail "nobody could apply a rule: $out"
pass "tcpkeepalivectl apply: active for root; a bad name and a user refused"

# The rule removed: the daemon takes the parameters away from the cgroup.
inside rm /etc/keepalived.d/50-echo.ini
container_wait 15 "echo.service unmanaged after its rule was removed" sh -c \
        "[ \"\$(nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s echo.service | awk '{print \$3}')\" = '\"unmanaged\"' ]"
container_wait 10 "the live apply's record of echo.service gone" sh -c \
        "! nsenter -t $CONTAINER_LEADER -a test -e /run/tcpkeepalive/bpf/echo.service"
# The new connection (connection_timer prints it alone) has no timer.
line=$(connection_timer 7601)
[ -n "$line" ] && ! printf '%s\n' "$line" | grep -q 'timer:(keepalive' ||
        fail "a connection opened after the rule was removed carries keepalive: $line; the BPF parameters: $(inside tcpkeepalive-bpf list 2>&1 | tr '\n' ' ')"
[ "$(inside ss -Htnoe state established 'sport = :7601' | grep -c 'timer:(keepalive,')" -ge 3 ] ||
        fail "the three connections lost their keepalive when the rule was removed (keepalived.d(5) says they keep it)"
echo_round_trip two
pass "the rule removed: new connections get none, the three keep theirs and still echo"

# Restarted without the rule, then the same rule again: the drop-in comes
# back with the content it had, but the running process started without
# it. It must be applied live (it was called "overridden" once: the daemon
# took the settings for the ones from before the restart).
inside systemctl stop hold.service
inside systemctl restart echo.service
wait_listening 7601
pid=$(main_pid echo.service)
printf '[Match]\nUnit=echo.service\n[KeepAlive]\nIdleSec=77\nIntervalSec=11\nCount=4\n' |
        inside_write /etc/keepalived.d/50-echo.ini
container_wait 15 "echo.service active (bpf-live) after the same rule came back" sh -c \
        "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s echo.service | grep -q '^(ssssuuuuuus) \"echo.service\" \"active\"'"
expect_eq "$(method_of echo.service)" bpf-live "echo.service's method when the same rule came back"
expect_idle "$(connection_timer 7601)" 77 "a connection to echo.service, restarted without the rule, the rule back"
expect_eq "$(main_pid echo.service)" "$pid" "echo.service's main PID"
pass "the same rule removed and written again around a restart: applied live, not taken for the old settings"
container_stop

# ---- nspawn's default sandbox: bpf(2) refused ------------------------------------------------
CONTAINER_SANDBOX=default container_boot tka-live-sandbox
setup_echo
pid=$(main_pid echo.service)
container_start_daemon
printf '[Match]\nUnit=echo.service\n[KeepAlive]\nIdleSec=77\n' | inside_write /etc/keepalived.d/50-echo.ini
container_wait 20 "echo.service pending-restart, the live apply refused" sh -c \
        "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s echo.service | grep -q '\"pending-restart\"'"
if out=$(inside tcpkeepalivectl apply echo.service); then
        fail "tcpkeepalivectl apply succeeded where bpf(2) is refused: $out"
fi
case $out in
*pending-restart*) ;;
*) fail "tcpkeepalivectl apply where bpf(2) is refused printed: $out" ;;
esac
inside journalctl --no-pager -o cat -u 'tcpkeepalive-apply@*' | grep -qi 'bpf.*operation not permitted\|Operation not permitted' ||
        container_fail "the refused apply's journal does not name the refusal"
# The state says why a restart is still needed (issue 15, item 7).
container_wait 10 "echo.service's reason naming the refused live apply" sh -c \
        "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s echo.service | grep -q 'applying them live failed: bpf(.*) refused: EPERM'"
expect_eq "$(main_pid echo.service)" "$pid" "echo.service's main PID (no Restart=try)"
pass "bpf(2) refused: pending-restart, apply exits 1 and says so, nothing restarted"
printf '[Match]\nUnit=echo.service\n[KeepAlive]\nIdleSec=78\n[Service]\nRestart=try\n' |
        inside_write /etc/keepalived.d/50-echo.ini
container_wait 20 "echo.service restarted by Restart=try where the live apply is refused" sh -c \
        "p=\$(nsenter -t $CONTAINER_LEADER -a systemctl show -P MainPID echo.service); [ \"\$p\" != $pid ] && [ \"\$p\" != 0 ]"
pass "bpf(2) refused, Restart=try: the unit restarted instead"
container_stop
