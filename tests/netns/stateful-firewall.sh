#!/bin/sh
# A stateful firewall that forgets idle flows: the real outcome.
#
# What is proven: an idle TCP connection through a firewall that forgets a
# flow after 5 s of silence is dead after 8 s idle without the library (the
# firewall's state entry is gone, the client's data is dropped as invalid and
# never reaches the server), and alive with it (keepalive probes every 2 s
# refresh the entry; the same data arrives at once).
#
# How: everything runs in a network namespace made for the test, on its
# loopback. In that namespace only (these settings are per namespace; the
# host's own value is checked unchanged at the end):
#   net.netfilter.nf_conntrack_tcp_timeout_established=5  forget after 5 s idle
#   net.netfilter.nf_conntrack_tcp_loose=0  never pick up a flow mid-stream:
#       with the default 1, the first data packet after the entry expired
#       would simply create a new entry and get through
# and an nftables input chain like a firewall's: policy drop, accept
# established/related, drop invalid, accept new connections to the servers.
# On loopback each packet crosses output and then input; conntrack classifies
# it once, and the input chain sees every packet once, as a middlebox would.
#
# Two connections run side by side, at the same time and through the same
# rules; the servers are plain python3 and never under the library. Only the
# client of the first runs under the library: the client is the end that sits
# behind a NAT or firewall in real life and the one an operator can wrap, and
# its probes (answered by the server's kernel) refresh the entry both ways.
# Keepalive from the server would do the same.
. "$TKA_SRCDIR/tests/lib.sh"
need_root
need_cmd ip nft ss conntrack python3

CT_TIMEOUT=5            # seconds the firewall keeps an idle flow
IDLE_FOR=$((CT_TIMEOUT + 3))
KA_IDLE=2               # keepalive well inside the firewall's timeout
KA_INTERVAL=1
WITH=7001               # server port of the connection with the library
WITHOUT=7002            # and of the one without

# The interpreter itself, not a version manager's shell-script shim, so that
# the PID we hold (and signal) is python's.
PY=$(python3 -c 'import sys; print(sys.executable)')
sysctl_file=/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established
host_before=$(cat "$sysctl_file" 2>/dev/null || echo absent)

ns=tka-firewall-$$
ip netns add "$ns" || fail "cannot create network namespace $ns"
on_exit "ip netns del '$ns'"
nsx() { ip netns exec "$ns" "$@"; }
ip -n "$ns" link set lo up

# The ct expressions make conntrack track this namespace's traffic.
nsx nft -f - <<EOF || fail "cannot load the firewall rules"
table inet tka {
        chain in {
                type filter hook input priority 0; policy drop;
                ct state established,related accept
                ct state invalid counter drop comment "invalid"
                tcp dport { $WITH, $WITHOUT } ct state new accept
        }
}
EOF
nsx sysctl -q net.netfilter.nf_conntrack_tcp_timeout_established=$CT_TIMEOUT \
        net.netfilter.nf_conntrack_tcp_loose=0
expect_eq "$(nsx sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established)" $CT_TIMEOUT \
        "conntrack timeout in the namespace"

# Server: accepts one connection and prints what arrives.
cat >"$TMP/server.py" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
print("accepted", flush=True)
while True:
    data = c.recv(100)
    print("got %r" % data, flush=True)
    if not data:
        break
EOF
# Client: connects, stays silent, sends one line on SIGUSR1.
cat >"$TMP/client.py" <<'EOF'
import signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
signal.signal(signal.SIGUSR1, lambda *_: s.send(b"ping\n"))
print("connected", flush=True)
while True:
    signal.pause()
EOF

# start PORT [VAR=VALUE...]: a server on PORT, and a client (with the
# environment given) connected to it. Sets $client to the client's PID.
# Not through nsx: $! must be python's PID (ip and env exec it).
start() {
        port=$1
        shift
        ip netns exec "$ns" "$PY" "$TMP/server.py" "$port" >"$TMP/server-$port" 2>&1 &
        on_exit "kill $!"
        wait_until 10 "the server listening on port $port" grep -q '^listening' "$TMP/server-$port"
        ip netns exec "$ns" env "$@" "$PY" "$TMP/client.py" "$port" >"$TMP/client-$port" 2>&1 &
        client=$!
        on_exit "kill $client"
        wait_until 10 "the client connected to port $port" grep -q '^connected' "$TMP/client-$port"
        wait_until 5 "the server accepting on port $port" grep -q '^accepted' "$TMP/server-$port"
}
# client_socket PORT: the client's end of the connection to PORT, from ss.
client_socket() {
        nsx ss -Htno state established "( dport = :$1 )"
}
# flows PORT: the firewall's state entries for the connection to PORT.
flows() {
        nsx conntrack -L -p tcp --dport "$1" 2>&1
}

start $WITH LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=$KA_IDLE TCPKEEPALIVE_INTERVAL=$KA_INTERVAL
client_with=$client
start $WITHOUT
client_without=$client

# Both connections are known to the firewall, with the short timeout; only
# the client under the library has a keepalive timer.
for port in $WITH $WITHOUT; do
        f=$(flows "$port")
        expect_match "$f" "ESTABLISHED .*dport=$port " "firewall state for the connection to $port"
        left=$(printf '%s\n' "$f" | awk '/ESTABLISHED/ { print $3; exit }')
        [ "$left" -le $CT_TIMEOUT ] || fail "the firewall keeps the flow to $port for $left s, want at most $CT_TIMEOUT"
done
expect_match "$(client_socket $WITH)" "timer:\(keepalive," "with the library: the client's keepalive timer"
expect_no_match "$(client_socket $WITHOUT)" "timer:\(keepalive," "without the library: the client's socket"

# Silence, longer than the firewall remembers.
sleep $IDLE_FOR

f=$(flows $WITH)
expect_match "$f" "ESTABLISHED .*dport=$WITH " "with the library: firewall state after $IDLE_FOR s idle"
f=$(flows $WITHOUT)
expect_match "$f" " 0 flow entries have been shown" "without the library: firewall state after $IDLE_FOR s idle"

# Now both clients send a line.
kill -USR1 "$client_with" "$client_without"
wait_until 3 "with the library: the line to arrive at the server" grep -q "^got b'ping" "$TMP/server-$WITH"
# The other line has had the same chance, and its retransmissions too.
sleep 2
got=$(grep -c '^got' "$TMP/server-$WITHOUT") || true
expect_eq "$got" 0 "without the library: lines that arrived at the server"
dropped=$(nsx nft list chain inet tka in |
        sed -n 's/.* counter packets \([0-9]*\) .*comment "invalid".*/\1/p')
[ "${dropped:-0}" -ge 1 ] || fail "without the library: the firewall dropped no invalid packets"
expect_match "$(client_socket $WITHOUT)" "timer:\(on," "without the library: the client retransmitting its line"

host_after=$(cat "$sysctl_file" 2>/dev/null || echo absent)
expect_eq "$host_after" "$host_before" "the host's own conntrack timeout (must not change)"

pass "with the library: firewall state kept through $IDLE_FOR s idle (probes every $KA_IDLE s, timeout $CT_TIMEOUT s), the line arrived"
pass "without the library: firewall state gone after $IDLE_FOR s idle, $dropped packets of the line dropped as invalid, nothing arrived"
