#!/bin/sh
# TCP Fast Open clients connect with sendto(), sendmsg() or sendmmsg() and
# MSG_FASTOPEN, without connect(): with Direction=outbound they get
# keepalive too (issue 12). TCP_FASTOPEN_CONNECT goes through connect().
. "$TKA_SRCDIR/tests/lib.sh"

case $(( $(cat /proc/sys/net/ipv4/tcp_fastopen) & 1 )) in
1) ;;
*) skip "net.ipv4.tcp_fastopen has the client bit off" ;;
esac
for how in sendto sendmsg sendmmsg connect; do
        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DIRECTION=outbound "$PROBE" fastopen $how) ||
                fail "fastopen $how: $out"
        expect_match "$(probe_line "$out" client)" "^client keepalive=1 idle=75 " "a fast open client, $how"
        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DIRECTION=inbound "$PROBE" fastopen $how) ||
                fail "fastopen $how: $out"
        expect_match "$(probe_line "$out" client)" "^client keepalive=0 " "inbound only: a fast open client untouched, $how"
done
pass "fast open clients: sendto, sendmsg, sendmmsg, TCP_FASTOPEN_CONNECT"
