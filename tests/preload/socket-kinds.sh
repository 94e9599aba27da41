#!/bin/sh
# Every way a TCP socket appears gets the configured options, read back with
# getsockopt; every socket that is not TCP is left exactly as it was.
. "$TKA_SRCDIR/tests/lib.sh"
need_root # raw sockets

run() {
        LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 TCPKEEPALIVE_COUNT=20 \
                TCPKEEPALIVE_USER_TIMEOUT=30000 "$@"
}
want="keepalive=1 idle=75 interval=60 count=20 user_timeout=30000"

out=$(run "$PROBE" kinds)
for k in tcp4 tcp6 tcp4-proto tcp4-nonblock tcp6-cloexec tcp4-nonblock-cloexec; do
        expect_eq "$(probe_line "$out" "$k")" "$k $want" "socket kind $k"
done
# MPTCP: the kernel has no getsockopt(TCP_USER_TIMEOUT) for it; the rest reads back.
for k in mptcp4 mptcp6; do
        expect_match "$(probe_line "$out" "$k")" "^$k keepalive=1 idle=75 interval=60 count=20 " "socket kind $k"
done
for k in udp4 udp6 raw4 raw6 unix-stream unix-dgram; do
        expect_match "$(probe_line "$out" "$k")" "^$k keepalive=0 " "non-TCP socket $k must stay untouched"
done
# SCTP is a module this kernel may not have; when it has, it must stay untouched.
for k in sctp4-stream sctp4-seqpacket; do
        expect_match "$(probe_line "$out" "$k")" "^$k (unavailable|keepalive=0 )" "SCTP socket $k"
done
pass "socket kinds"

for c in connection4 connection6 accept4; do
        out=$(run "$PROBE" "$c")
        for end in listener client accepted; do
                expect_eq "$(probe_line "$out" $end)" "$end $want" "$c: $end"
        done
done
pass "listener, client, accepted (accept and accept4), IPv4 and IPv6"

# A library's constructor opened a socket before ours ran.
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 "$(test_program early-socket)")
expect_eq "$out" "early keepalive=1 idle=75" "socket() before the library's constructor"
pass "socket from another library's constructor"

# A listener that never passed through socket() dup2'ed onto a number the
# library had configured: the stale state must not fool accept().
out=$(run "$PROBE" dup-reuse)
expect_match "$(probe_line "$out" raw-listener-before)" "keepalive=0" "raw-syscall listener starts without keepalive"
expect_eq "$(probe_line "$out" dup2-accepted)" "dup2-accepted $want" "accepted from a dup2'ed raw listener"
pass "fd reuse through dup2"

# Without the library nothing of this happens: the probe itself sets nothing.
out=$("$PROBE" connection4)
expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=0 " "no library, no keepalive"
pass "control: no library, no keepalive"
