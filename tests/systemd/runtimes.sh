#!/bin/sh
# Real runtimes under a rule `IdleSec=77 IntervalSec=11 Count=4 Method=auto`,
# each a service of a real systemd booted in a container: a Java server
# (Debian's openjdk-17-jre-headless, `java Srv.java`), a Node.js server
# (net.createServer), a Python server, and a forking Python server whose
# connections live in its children (the parent closes its copy). Each is
# dynamically linked and calls libc for its sockets: Method=auto chooses the
# preload. A client inside connects over loopback; the server's accepted
# socket must carry the rule's values, read back with ss (the keepalive
# timer) and getsockopt (sockpeek, on the owner's fd via pidfd_getfd), and
# `tcpkeepalivectl check UNIT`, run by the container's systemd, must say
# `active` and exit 0.
#
# Then the Python server once more in a container with nspawn's default
# system call filter (CONTAINER_SANDBOX=default: pidfd_getfd and bpf(2)
# refused, a restricted host): the values are still the rule's (ss, and
# sockpeek from the host, outside that filter), but nothing in the container
# can read them: the state must be `unverified`, its reason naming
# pidfd_getfd (issue 13, item 1), never `active`.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd socat python3 node ss
# Real paths: the container's volatile /etc has no /etc/alternatives.
JAVA=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)/bin/java
[ -x "$JAVA" ] || skip "needs $JAVA (openjdk-17-jre-headless; tools/install-deps installs it)"
NODE=$(readlink -f "$(command -v node)")
PYTHON=$(readlink -f /usr/bin/python3)
IDLE=77 INTERVAL=11 COUNT=4

# ---- the servers -----------------------------------------------------------------
# Each listens on 127.0.0.1:PORT (its first argument) and holds every
# connection it accepts, reading until the peer closes.
mkdir -p "$TMP/srv"
cat >"$TMP/srv/Srv.java" <<'JAVA'
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

public class Srv {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(Integer.parseInt(args[0]), 50, InetAddress.getByName("127.0.0.1"));
        List<Socket> held = new ArrayList<>();
        while (true)
            held.add(server.accept());
    }
}
JAVA
cat >"$TMP/srv/srv.js" <<'JS'
const net = require('net');
net.createServer((c) => { c.on('data', () => {}); c.on('error', () => {}); })
    .listen(Number(process.argv[2]), '127.0.0.1');
JS
cat >"$TMP/srv/srv.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])
PY
cat >"$TMP/srv/fork.py" <<'PY'
# One child per connection; the parent closes its copy at once.
import os, signal, socket, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    if os.fork() == 0:
        s.close()
        while c.recv(4096):
            pass
        os._exit(0)
    c.close()
PY

unit() { # NAME EXEC
        printf '[Service]\nExecStart=%s\n' "$2" | inside_write "/etc/systemd/system/$1"
}
rule() { # UNIT
        printf '[Match]\nUnit=%s\n[KeepAlive]\nIdleSec=%s\nIntervalSec=%s\nCount=%s\nMethod=auto\n' \
                "$1" $IDLE $INTERVAL $COUNT | inside_write "/etc/keepalived.d/50-${1%.service}.ini"
}
# The servers' files and, for Java, its configuration (the container's /etc
# is empty), then units and rules; the daemon is stopped so that it starts
# with all of them in place (as go-runtime.sh).
setup() { # UNIT...
        inside systemctl stop tcpkeepalived.service
        inside mkdir -p /opt/srv
        for f in Srv.java srv.js srv.py fork.py; do
                inside_write "/opt/srv/$f" <"$TMP/srv/$f"
        done
        tar -C /etc -cf - java-17-openjdk | inside tar -C /etc -xf -
        for u in "$@"; do rule "$u"; done
}
# check UNIT: `tcpkeepalivectl check UNIT` run by the container's systemd
# (under the container's system call filter, as a user's would be); prints
# its output, then "exit=N".
check() {
        inside systemd-run --quiet --wait --pipe --collect -p StandardInput=null \
                "$PREFIX/bin/tcpkeepalivectl" check "$1" 2>&1 && echo "exit=0" || echo "exit=$?"
}
# values PORT WHAT: the server end of a new loopback connection carries the
# rule's values: ss's keepalive timer, and getsockopt on the owner's fd.
values() {
        line=$(connection_timer "$1")
        expect_idle "$line" $IDLE "$2: the keepalive timer (ss -tnoe)"
        expect_sockopts "$1" $IDLE $INTERVAL $COUNT "$2: getsockopt on the server's accepted socket"
}

# held_by_child PORT: the established connection on PORT is held by
# processes, none of them the listener (host PIDs, as ss -p shows them).
held_by_child() {
        _owners=$(nsenter -t "$CONTAINER_LEADER" -n ss -Htnp state established "sport = :$1" |
                sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | sort -u)
        _listener=$(nsenter -t "$CONTAINER_LEADER" -n ss -Htlnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -n1)
        [ -n "$_owners" ] && [ -n "$_listener" ] && ! printf '%s\n' "$_owners" | grep -qx "$_listener"
}

# ---- the four runtimes, nspawn's filter extended (pidfd_getfd allowed) -----------
container_boot tka-rt
setup java-srv.service node-srv.service py-srv.service py-fork.service
unit java-srv.service "$JAVA -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m /opt/srv/Srv.java 7801"
unit node-srv.service "$NODE /opt/srv/srv.js 7802"
unit py-srv.service "$PYTHON /opt/srv/srv.py 7803"
unit py-fork.service "$PYTHON /opt/srv/fork.py 7804"
inside systemctl daemon-reload
dropin=$(inside cat /run/systemd/generator/py-srv.service.d/50-tcpkeepalive.conf) ||
        container_fail "no drop-in for py-srv.service after daemon-reload"
expect_match "$dropin" "--auto --idle=$IDLE --interval=$INTERVAL --count=$COUNT" "the drop-in lets the helper choose (Method=auto)"
inside systemctl start java-srv.service node-srv.service py-srv.service py-fork.service
# `java Srv.java` compiles its source before it listens: seconds of CPU,
# longer than wait_listening's 10 s on a machine busy with parallel tests.
container_wait 90 "Java's listener on port 7801 in the container" \
        sh -c "nsenter -t $CONTAINER_LEADER -a ss -Htln 'sport = :7801' | grep -q ."
wait_listening 7802 node-srv.service
wait_listening 7803 py-srv.service
wait_listening 7804 py-fork.service
container_start_daemon

for u in java-srv node-srv py-srv py-fork; do
        case $u in
        java-srv) port=7801 what="Java (OpenJDK 17, java Srv.java)" ;;
        node-srv) port=7802 what="Node.js (net.createServer)" ;;
        py-srv) port=7803 what="Python (socket)" ;;
        py-fork) port=7804 what="a forking Python server (connections in children)" ;;
        esac
        u=$u.service
        # Method=auto chose the preload: the library is in the main process.
        expect_match "$(inside journalctl -u "$u" -o cat)" "^$u: Method=auto: preload " "$what: what Method=auto chose"
        pid=$(inside systemctl show -P MainPID "$u")
        inside grep -q libtcpkeepalive "/proc/$pid/maps" ||
                container_fail "$what: Method=auto did not preload the library into PID $pid:
$(inside journalctl -u "$u" -o cat)"
        values "$port" "$what"
        # The forking server: the connection is its child's alone (the
        # parent closes its copy right after fork).
        [ $u = py-fork.service ] && container_wait 5 "$what: the connection held by a child only" held_by_child "$port"
        out=$(check "$u")
        expect_match "$out" "^$u: active: " "$what: tcpkeepalivectl check's state"
        expect_match "$out" "^exit=0$" "$what: tcpkeepalivectl check's exit status"
        pass "$what: idle $IDLE, interval $INTERVAL, count $COUNT on the accepted socket; check: $(printf '%s\n' "$out" | head -n1)"
done
container_stop

# ==== A restricted host: `unverified` (issue 13, item 1) ==========================
# nspawn's default system call filter (CONTAINER_SANDBOX=default): pidfd_getfd
# and bpf(2) are refused to everything the container's systemd starts. The
# Python server still gets the rule's values through the preload; the check
# cannot read them and must say so: state `unverified`, the reason naming
# pidfd_getfd (its exit status is not asserted here, only the state).
CONTAINER_SANDBOX=default container_boot tka-rt-sandbox
setup py-srv.service
unit py-srv.service "$PYTHON /opt/srv/srv.py 7803"
inside systemctl daemon-reload
inside systemctl start py-srv.service
wait_listening 7803 py-srv.service
container_start_daemon
what="Python under nspawn's default filter"
# The filter is really there: pidfd_getfd refused to a service.
probe=$(inside systemd-run --quiet --wait --pipe --collect -p StandardInput=null \
        "$PYTHON" -c 'import ctypes, os; l = ctypes.CDLL(None, use_errno=True); p = l.syscall(434, os.getpid(), 0); r = l.syscall(438, p, 0, 0); print("getfd", r, os.strerror(ctypes.get_errno()))' 2>&1) || true
expect_match "$probe" "^getfd -1 Operation not permitted" "$what: the container refuses pidfd_getfd"
values 7803 "$what"
pass "$what: idle $IDLE, interval $INTERVAL, count $COUNT on the accepted socket (ss; getsockopt from the host)"
out=$(check py-srv.service)
case $out in
"py-srv.service: unverified: "*pidfd_getfd*) ;;
*) container_fail "$what: tcpkeepalivectl check: want state 'unverified' with a reason naming pidfd_getfd (values cannot be read), got:
$out" ;;
esac
pass "$what: check says unverified, naming pidfd_getfd: $(printf '%s\n' "$out" | head -n1)"
container_stop
