#!/bin/sh
# A peer that vanishes: the real outcome, not just the socket options.
#
# What is proven: a server that never asks for keepalive (python3, blocked in
# recv() on an idle accepted connection) learns that its peer is gone when it
# runs under the library: recv() fails with ETIMEDOUT after
# idle + interval x count seconds (2 + 1 x 2 = 4 s here), because the kernel
# sent `count` keepalive probes and none was answered. The same server without
# the library is still blocked in recv() at that time, and would be forever.
#
# How: everything runs in a network namespace made for the test, on its
# loopback. Once the connection is established and idle, nftables in the
# namespace drops every packet of it in the input hook: packets still leave
# the sender (a probe is sent and counted) but never arrive, which is what a
# peer that lost power or a cut cable looks like. (A drop in the output hook
# instead would hand the sender EPERM, a local error no real dead peer gives.)
# The rule's counter shows the probes the server sent into the void.
#
# Timing: the keepalive timer counts from the last packet received, the
# handshake's final ACK, which is just before accept() returns; the server
# measures from there, and the drop must be in place before the first probe
# at `idle` (checked, with a clear message if the machine is too slow).
. "$TKA_SRCDIR/tests/lib.sh"
need_root
need_cmd ip nft ss python3

IDLE=2
INTERVAL=1
COUNT=2
EXPECTED=$((IDLE + INTERVAL * COUNT)) # when the kernel gives up
LIMIT=$((EXPECTED + 1))               # with a second to spare
EARLIEST=$(awk -v e=$EXPECTED 'BEGIN { print e - 0.5 }')

# The interpreter itself, not a version manager's shell-script shim, so that
# the PID we hold is python's and the library is loaded into python.
PY=$(python3 -c 'import sys; print(sys.executable)')

ns=tka-deadpeer-$$
ip netns add "$ns" || fail "cannot create network namespace $ns"
on_exit "ip netns del '$ns'"
nsx() { ip netns exec "$ns" "$@"; }
ip -n "$ns" link set lo up

# One table for the test; a chain in the input hook gets the drop rules.
nsx nft add table inet tka
nsx nft add chain inet tka in '{ type filter hook input priority 0; policy accept; }'

# The subject: accepts one connection, then blocks in recv() and reports what
# ended the wait, and when, counted from accept().
cat >"$TMP/server.py" <<'EOF'
import errno, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
t0 = time.monotonic()
print("accepted", flush=True)
try:
    data = c.recv(1)
    print("returned %r after %.2f" % (data, time.monotonic() - t0), flush=True)
except OSError as e:
    print("error %s after %.2f" % (errno.errorcode.get(e.errno, e.errno),
                                   time.monotonic() - t0), flush=True)
EOF
# The peer: connects and stays silent; never under the library.
client='import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(60)'

# established PORT: the server's end of the connection, as ss shows it.
established() {
        nsx ss -Htno state established "( sport = :$1 )"
}
# dropped PORT WHAT: packets of the connection dropped by the rule WHAT.
dropped() {
        nsx nft list chain inet tka in |
                sed -n "s/.* counter packets \([0-9]*\) .*comment \"$2-$1\".*/\1/p"
}

# start_case PORT [VAR=VALUE...]: server (with the environment given) and
# client connected, then the connection's packets dropped. Sets $server, $out.
start_case() {
        port=$1
        shift
        out=$TMP/server-$port.out
        # Not through nsx: $! must be python's PID (ip and env exec it).
        ip netns exec "$ns" env "$@" "$PY" "$TMP/server.py" "$port" >"$out" 2>&1 &
        server=$!
        on_exit "kill $server"
        wait_until 10 "the server listening on port $port" grep -q '^listening' "$out"
        ip netns exec "$ns" "$PY" -c "$client" "$port" &
        on_exit "kill $!"
        wait_until 5 "the server accepting on port $port" grep -q '^accepted' "$out"
        t_accepted=$(date +%s%N)
        conn=$(established "$port")
        [ -n "$conn" ] || fail "port $port: no established connection in ss: $(cat "$out")"
        # From the server: resets, and everything else (the probes); from
        # the client: everything.
        nsx nft add rule inet tka in tcp sport "$port" tcp flags '&' rst == rst \
                counter drop comment "\"server-resets-$port\""
        nsx nft add rule inet tka in tcp sport "$port" counter drop comment "\"server-$port\""
        nsx nft add rule inet tka in tcp dport "$port" counter drop comment "\"client-$port\""
        late=$((($(date +%s%N) - t_accepted) / 1000000))
        [ "$late" -lt $((IDLE * 1000 - 300)) ] ||
                fail "port $port: the drop rules took ${late} ms after accept; the first probe (at ${IDLE} s) may have been answered, the machine is too slow for this test"
}

# --- With the library ----------------------------------------------------------
start_case 7001 LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=$IDLE \
        TCPKEEPALIVE_INTERVAL=$INTERVAL TCPKEEPALIVE_COUNT=$COUNT
# python3 creates its sockets through libc, so the library configured the
# accepted connection: ss shows the keepalive timer counting down from idle.
expect_match "$conn" "timer:\(keepalive," "with the library: keepalive timer on the accepted connection"
wait_until $((LIMIT + 3)) "the server's recv() to end (with the library)" grep -Eq '^(error|returned)' "$out"
result=$(cat "$out")
expect_match "$result" "^error ETIMEDOUT after " "with the library: how recv() ended"
elapsed=$(sed -n 's/^error ETIMEDOUT after \([0-9.]*\)$/\1/p' "$out")
awk -v e="$elapsed" -v lo="$EARLIEST" -v hi=$LIMIT 'BEGIN { exit !(e >= lo && e <= hi) }' ||
        fail "with the library: ETIMEDOUT after $elapsed s, want between $EARLIEST and $LIMIT s (idle $IDLE + interval $INTERVAL x count $COUNT = $EXPECTED s)"
probes=$(dropped 7001 server)
expect_eq "$probes" "$COUNT" "with the library: keepalive probes sent by the server and dropped"
# Giving up, the kernel also sends the peer a reset (not asserted).
resets=$(dropped 7001 server-resets)
pass "with the library: ETIMEDOUT after $elapsed s (expected $EXPECTED s, limit $LIMIT s), $probes unanswered probes, then $resets reset"

# --- Without the library -------------------------------------------------------
start_case 7002
expect_no_match "$conn" "timer:\(keepalive," "without the library: no keepalive timer"
sleep $LIMIT
state=$(awk '{ print $3 }' "/proc/$server/stat" 2>/dev/null) || true
expect_eq "$state" S "without the library: the server's process state (sleeping; output: $(cat "$out"))"
expect_eq "$(grep -Ec '^(error|returned)' "$out")" 0 "without the library: recv() results"
[ -n "$(established 7002)" ] || fail "without the library: the connection is no longer established"
expect_eq "$(dropped 7002 server)$(dropped 7002 server-resets)" 00 "without the library: packets sent by the server"
pass "without the library: still blocked in recv() after $LIMIT s, connection ESTAB, 0 packets sent"
