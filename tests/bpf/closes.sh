#!/bin/sh
# The close counters (bpf/closes.bpf.c) on this machine, through the test
# helper's iter-pin under a BPF file system of the test's own, read back as
# tcpkeepalived reads them (tests/programs/closes-dump): in a network
# namespace and a cgroup v2 directory made for the test, python3 connects
# to itself on loopback and, per case, nftables in the namespace drops
# every packet arriving (a peer that vanished):
#   keepalive      SO_KEEPALIVE, idle 2 s, interval 1 s, count 2, idle
#                  connection: counted as keepalive, within 2 + 1 x 2 + 2 s
#   user_timeout   TCP_USER_TIMEOUT 2 s, data in flight: user_timeout
#   retransmit     no user timeout, net.ipv4.tcp_retries2=2 in the
#                  namespace, data in flight: retransmit
#   healthy        keepalive on, nothing dropped, idle through 2 rounds of
#                  probes: no death counted, one connection covered
#   listener       a listener with SO_KEEPALIVE (as the preload sets it)
#                  closed: not a connection, not covered
# Each case's counts are read before and after: only its own reason moves.
# The counters count whatever set keepalive (here the program itself);
# the preload and Method=bpf units are in tests/systemd/closes.sh.
. "$TKA_SRCDIR/tests/lib.sh"
need_root
need_cmd ip nft python3
BPF=$TKA_BUILDDIR/tests/bpf/tcpkeepalive-bpf-test
DUMP=$TKA_BUILDDIR/tests/programs/closes-dump
export TCPKEEPALIVE_BPF_OBJECT="$TKA_BUILDDIR/bpf/tcpkeepalive.bpf.o"
export TCPKEEPALIVE_SOCKETS_OBJECT="$TKA_BUILDDIR/bpf/sockets.bpf.o"
export TCPKEEPALIVE_CLOSES_OBJECT="$TKA_BUILDDIR/bpf/closes.bpf.o"
PY=$(python3 -c 'import sys; print(sys.executable)')

cg_root=$(cgroup2_root) || skip "no cgroup v2 hierarchy"
CG=$cg_root/tka-closes-$$
ns=tka-closes-$$
mkdir -p "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs" || fail "cannot mount a BPF file system"
cleanup() {
        ip netns del "$ns" 2>/dev/null || true
        [ -d "$CG" ] && rmdir "$CG" 2>/dev/null
        umount "$TMP/bpffs" 2>/dev/null || true
}
on_exit cleanup
export TCPKEEPALIVE_BPF_PIN_DIR="$TMP/bpffs/tcpkeepalive"
PIN=$TCPKEEPALIVE_BPF_PIN_DIR/closes

# Before iter-pin: unavailable, never zeros.
set +e
out=$("$DUMP" "$PIN" "$cg_root")
rc=$?
set -e
expect_eq "$rc" 1 "closes-dump without a pin: exit status"
expect_match "$out" "^unavailable: not counted: .* is not pinned" "no pin: unavailable, not 0"

"$BPF" iter-pin 2>"$TMP/iter-pin.err" || fail "iter-pin: $(cat "$TMP/iter-pin.err")"
for pin in closes closes-map closes-errors closes-destroy; do
        [ -e "$TCPKEEPALIVE_BPF_PIN_DIR/$pin" ] || fail "iter-pin did not pin $pin"
done
expect_eq "$(stat -c %a "$PIN")" 400 "the iterator the daemon reads: mode"
expect_eq "$(stat -c %a "$TCPKEEPALIVE_BPF_PIN_DIR/closes-errors")" 400 "the counting link's pin: mode"
state_ino=$(stat -c %i "$TCPKEEPALIVE_BPF_PIN_DIR/closes-errors")
"$BPF" iter-pin 2>"$TMP/iter-pin.err" || fail "second iter-pin: $(cat "$TMP/iter-pin.err")"
expect_eq "$(stat -c %i "$TCPKEEPALIVE_BPF_PIN_DIR/closes-errors")" "$state_ino" \
        "a second iter-pin keeps the counting link (counts survive a daemon restart)"
pass "iter-pin pins the close counters, their iterator (0400), once"

mkdir "$CG"
ip netns add "$ns" || fail "cannot create network namespace $ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_retries2=2

expect_eq "$("$DUMP" "$PIN" "$CG")" "keepalive=0 user_timeout=0 retransmit=0 covered=0 probes=-" \
        "a new cgroup: nothing counted"

cat >"$TMP/case.py" <<'PYEOF'
import errno, socket, subprocess, sys, time
case = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
c = socket.create_connection(srv.getsockname())
a, _ = srv.accept()
if case in ("keepalive", "healthy"):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 2)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)
if case == "user_timeout":
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 2000)
def nft(*cmd):
    subprocess.run(["nft"] + list(cmd), check=True)
if case != "healthy":
    # The peer vanishes: nothing arrives any more (input hook, as a dead
    # peer: the sender's packets leave, no local error).
    nft("add table inet tka; add chain inet tka in { type filter hook input priority 0; policy drop; }")
if case in ("user_timeout", "retransmit"):
    c.send(b"x" * 1000)
c.settimeout(2 + 1 * 2 + 2)
t0 = time.monotonic()
try:
    # healthy: the probes are answered, recv() times out (the socket's own
    # timeout, the case's duration), nothing is closed by the kernel.
    data = c.recv(1)
    print("returned %r" % data)
except OSError as e:
    # socket.timeout is an OSError too (errno None); ETIMEDOUT from the
    # kernel is TimeoutError with its errno.
    what = errno.errorcode.get(e.errno, "timeout") if e.errno else "timeout"
    print("%s after %.1f" % (what, time.monotonic() - t0))
if case != "healthy":
    nft("delete table inet tka")
c.close(); a.close(); srv.close()
PYEOF

# run_case CASE: the case's python in the test's cgroup (joined first: ip
# netns exec mounts a /sys of the namespace, without the cgroup tree) and
# in the namespace.
run_case() {
        sh -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" "$3" "$4" "$5"' sh "$CG" "$ns" "$PY" \
                "$TMP/case.py" "$1"
}

out=$(run_case keepalive)
expect_match "$out" "^ETIMEDOUT after [3-5]\\." "keepalive: the kernel closed the connection after idle + interval x count"
expect_eq "$("$DUMP" "$PIN" "$CG")" "keepalive=1 user_timeout=0 retransmit=0 covered=1 probes=-" \
        "keepalive: counted as keepalive, and as covered"
pass "a vanished peer under keepalive (2 s, 1 s, 2): keepalive 0 -> 1 ($out)"

out=$(run_case user_timeout)
expect_match "$out" "^ETIMEDOUT after" "user_timeout: the kernel closed the connection"
expect_eq "$("$DUMP" "$PIN" "$CG")" "keepalive=1 user_timeout=1 retransmit=0 covered=1 probes=-" \
        "user_timeout: counted under its own reason"
pass "data in flight, TCP_USER_TIMEOUT 2 s: user_timeout 0 -> 1 ($out)"

out=$(run_case retransmit)
expect_match "$out" "^ETIMEDOUT after" "retransmit: the kernel closed the connection"
expect_eq "$("$DUMP" "$PIN" "$CG")" "keepalive=1 user_timeout=1 retransmit=1 covered=1 probes=-" \
        "retransmit: counted under its own reason"
pass "data in flight, tcp_retries2=2: retransmit 0 -> 1 ($out)"

out=$(run_case healthy)
expect_match "$out" "^timeout after" "healthy: the connection stayed up through its probes"
expect_eq "$("$DUMP" "$PIN" "$CG")" "keepalive=1 user_timeout=1 retransmit=1 covered=2 probes=-" \
        "healthy: no death counted, one more connection covered"
pass "a healthy idle connection with keepalive: no death counted ($out)"

run_listener() {
        sh -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" "$3" -c "$4"' sh "$CG" "$ns" "$PY" \
                'import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.bind(("127.0.0.1", 0))
s.listen(1)
s.close()'
}
run_listener
expect_eq "$("$DUMP" "$PIN" "$CG")" "keepalive=1 user_timeout=1 retransmit=1 covered=2 probes=-" \
        "a listener with SO_KEEPALIVE closed: not covered"
pass "a listener with keepalive is not counted as a connection"

