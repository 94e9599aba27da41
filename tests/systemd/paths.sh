#!/bin/sh
# Rules by network path on a real systemd (keepalived.d(5), "Rules by
# network path"): a client service that connects to three destinations
# (127.0.0.2, 127.0.0.3, [::1]) and a server service whose clients come
# from 127.0.0.2 and 127.0.0.3, each once through the preload and once
# through BPF. Path rules cover some connections: those carry their path
# rule's values (read back with getsockopt by the programs themselves,
# which are python, nobody's keepalive-aware code), the others the unit's
# own rule's values or, where only path rules reach the unit, none. The
# state judges each connection by its own path's rule: active, and show
# names the rule per connection.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd python3 socat

container_boot tka-paths
inside systemctl stop tcpkeepalived.service

cat <<'PY' | inside_write /etc/listeners.py
import socket, time
# Listens where the clients connect; accepts and holds.
socks = []
for fam, addr in ((socket.AF_INET, ("127.0.0.2", 7701)), (socket.AF_INET, ("127.0.0.3", 7701)),
                  (socket.AF_INET6, ("::1", 7702))):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr); s.listen(64); s.setblocking(False); socks.append(s)
held = []
while True:
    for s in socks:
        try: held.append(s.accept()[0])
        except BlockingIOError: pass
    time.sleep(0.05)
PY
cat <<'PY' | inside_write /etc/values.py
import socket
def values(c, peer):
    g = lambda l, o: c.getsockopt(l, o)
    return "%s %d %d %d %d %d" % (peer, g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        g(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL), g(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
        g(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT))
PY
cat <<'PY' | inside_write /etc/client.py
import socket, sys, time
sys.path.insert(0, "/etc")
from values import values
# Connects to each HOST:PORT, then writes what the kernel says of each
# connection: "HOST keepalive idle interval count user_timeout".
out, held = [], []
for target in sys.argv[2:]:
    host, port = target.rsplit(":", 1)
    c = socket.create_connection((host.strip("[]"), int(port)))
    held.append(c)
    out.append(values(c, host))
with open(sys.argv[1] + ".tmp", "w") as f: f.write("\n".join(out) + "\n")
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(3600)
PY
cat <<'PY' | inside_write /etc/server.py
import socket, sys, time
sys.path.insert(0, "/etc")
from values import values
# Accepts; appends "PEER keepalive idle interval count user_timeout" per connection.
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[2]))); s.listen(16)
held = []
while True:
    c, peer = s.accept(); held.append(c)
    with open(sys.argv[1], "a") as f: f.write(values(c, peer[0]) + "\n")
PY
unit() { # NAME EXEC
        printf '[Service]\nExecStart=%s\n' "$2" | inside_write "/etc/systemd/system/$1"
}
rule() { # FILE TEXT
        printf '%s\n' "$2" | inside_write "/etc/keepalived.d/$1"
}
targets="127.0.0.2:7701 127.0.0.3:7701 [::1]:7702"
unit listeners.service "/usr/bin/python3 /etc/listeners.py"
unit client-pre.service "/usr/bin/python3 /etc/client.py /run/client-pre.out $targets"
unit client-bpf.service "/usr/bin/python3 /etc/client.py /run/client-bpf.out $targets"
unit server-pre.service "/usr/bin/python3 /etc/server.py /run/server-pre.out 7711"
unit server-bpf.service "/usr/bin/python3 /etc/server.py /run/server-bpf.out 7712"
# The NAT: every loopback destination but 127.0.0.3, and its timeout.
rule 60-nat.ini "[Match]
Unit=client-pre.service client-bpf.service
Destination=127.0.0.0/8 !127.0.0.3
[KeepAlive]
PathIdleTimeoutSec=350"
rule 61-v6.ini "[Match]
Unit=client-pre.service client-bpf.service
Destination=::1
Port=7702
[KeepAlive]
IdleSec=71
IntervalSec=7
Count=2"
# client-bpf has a rule of its own for every other connection; client-pre has none.
rule 50-client-bpf.ini "[Match]
Unit=client-bpf.service
[KeepAlive]
IdleSec=55
Method=bpf"
rule 50-server-pre.ini "[Match]
Unit=server-pre.service
[KeepAlive]
IdleSec=77"
rule 50-server-bpf.ini "[Match]
Unit=server-bpf.service
[KeepAlive]
IdleSec=78
Method=bpf"
rule 60-server-peer.ini "[Match]
Unit=server-pre.service server-bpf.service
Destination=127.0.0.2
[KeepAlive]
IdleSec=88
IntervalSec=8
Count=4"
inside systemctl daemon-reload
out=$(inside tcpkeepalivectl verify)
expect_match "$out" "PathIdleTimeoutSec=350s: idle 300 s, interval 10 s, count 3: the path's 350 s is never reached; a dead peer is found within 330 s" \
        "verify: the derivation"
expect_match "$out" "every other connection: no keepalive" "verify: client-pre has path rules only"
dropin=$(inside cat /run/systemd/generator/client-bpf.service.d/50-tcpkeepalive.conf)
# defaults.conf (installed: IntervalSec=15, Count=4) gives what the rules leave.
expect_match "$dropin" "attach --unit=%n --idle=55 --interval=15 --count=4 --path=dst=127.0.0.0/8,!127.0.0.3/32;idle=300;interval=10;count=3;user_timeout=330000 --path=dst=::1/128;port=7702;idle=71;interval=7;count=2" \
        "the BPF helper gets the path rules"
inside systemctl start listeners.service
wait_listening 7702 listeners.service
inside systemctl start client-pre.service client-bpf.service server-pre.service server-bpf.service
wait_listening 7711 server-pre.service
wait_listening 7712 server-bpf.service
for src in 127.0.0.2 127.0.0.3; do
        for port in 7711 7712; do
                inside sh -c "(sleep 600 | socat - TCP:127.0.0.1:$port,bind=$src >/dev/null 2>&1 &)"
        done
done
for f in client-pre client-bpf; do
        container_wait 20 "$f's report" inside test -s /run/$f.out
done
for f in server-pre server-bpf; do
        container_wait 20 "$f's report of two connections" sh -c "[ \$(nsenter -t $CONTAINER_LEADER -a cat /run/$f.out 2>/dev/null | wc -l) -ge 2 ]"
done

# peer keepalive idle interval count user_timeout
line() { inside grep "^$2 " "/run/$1.out" || container_fail "$1: no connection with $2 in: $(inside cat /run/$1.out)"; }
def=15 cnt=4 # the installed defaults.conf's IntervalSec= and Count=
for how in pre bpf; do
        expect_eq "$(line client-$how 127.0.0.2)" "127.0.0.2 1 300 10 3 330000" "$how: to the NAT: derived from 350 s"
        expect_eq "$(line client-$how '\[::1\]')" "[::1] 1 71 7 2 0" "$how: IPv6 peer and port"
done
expect_match "$(line client-pre 127.0.0.3)" "^127.0.0.3 0 " "preload: the excluded destination, only path rules: no keepalive"
expect_eq "$(line client-bpf 127.0.0.3)" "127.0.0.3 1 55 $def $cnt 0" "bpf: the excluded destination: the unit's own rule"
for how in pre bpf; do
        own=77
        [ $how = bpf ] && own=78
        expect_eq "$(line server-$how 127.0.0.2)" "127.0.0.2 1 88 8 4 0" "$how: accepted from 127.0.0.2: matched by its peer"
        expect_eq "$(line server-$how 127.0.0.3)" "127.0.0.3 1 $own $def $cnt 0" "$how: accepted from 127.0.0.3: the unit's rule"
done
pass "each connection carries its path's values, preload and BPF, outbound and accepted, IPv4 and IPv6"

# The state: each connection judged by its own path's rule.
container_start_daemon
for u in client-pre client-bpf server-pre server-bpf; do
        # inside: PATH has the build's bin (distcheck installs below its own prefix)
        container_wait 20 "$u.service active" inside tcpkeepalivectl check $u.service
done
show=$(inside tcpkeepalivectl show client-pre.service)
expect_match "$show" "127.0.0.2:7701 .* rule.* \\(path: 60-nat.ini\\)" "show: the NAT's connection under its rule"
expect_match "$show" "127.0.0.3:7701 .* off .* not-covered \\(path: no rule\\)" "show: the excluded one is no rule's"
expect_match "$show" "\\[::1\\]:7702 .* rule.* \\(path: 61-v6.ini\\)" "show: IPv6 under its rule"
show=$(inside tcpkeepalivectl show client-bpf.service)
expect_match "$show" "127.0.0.3:7701 .* rule.* \\(path: the unit's rule\\)" "show: the unit's own rule"
json=$(inside tcpkeepalivectl show --json server-bpf.service)
expect_match "$json" "\"peer\":\"127.0.0.2:[0-9]+\"[^}]*\"values\":\"rule\"[^}]*\"path\":\"60-server-peer.ini\"" "show --json: the path per connection"
pass "the state judges each connection by its own path's rule; show names it"
