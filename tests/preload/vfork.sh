#!/bin/sh
# A vfork child runs in its parent's memory, the library's fd table
# included, with its own copy of the fd table: what it closes before exec
# (close_range, closefrom, close, dup2) is still open in the parent, whose
# sockets keep what the library knows about them (issue 12). Python's
# subprocess (3.10 and later) does exactly vfork + close_range.
. "$TKA_SRCDIR/tests/lib.sh"

for how in close_range closefrom close dup2; do
        # Direction=outbound: a socket made before the child, connected after.
        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DIRECTION=outbound "$PROBE" vfork $how) ||
                fail "vfork $how: the program failed: $out"
        expect_match "$(probe_line "$out" client)" "^client keepalive=1 idle=75 " \
                "outbound: a socket connected after a vfork child's $how"
        # Default mode, outbound: the program turned keepalive off on the
        # socket before the child; it stays off after connect().
        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DIRECTION=outbound "$PROBE" vfork $how off) ||
                fail "vfork $how off: the program failed: $out"
        expect_match "$(probe_line "$out" client)" "^client keepalive=0 " \
                "outbound: the program's SO_KEEPALIVE=0 before a vfork child's $how"
        # Default mode: the program turned keepalive off on its listener
        # before the child; after it, its connections stay as it chose.
        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_IDLE=75 "$PROBE" vfork $how) || fail "vfork $how: the program failed: $out"
        expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=0 " \
                "default mode: the program's SO_KEEPALIVE=0 on its listener after a vfork child's $how"
done
pass "vfork children: close_range, closefrom, close, dup2"

# The real thing: Python's subprocess, then connect().
need_cmd python3
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || skip "python3 older than 3.10 does not vfork"
cat >"$TMP/spawn.py" <<'PY'
import socket, subprocess
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.socket()
subprocess.run(["true"], check=True)
c.connect(l.getsockname())
print("client keepalive=%d idle=%d" % (c.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                                        c.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)))
PY
out=$(LD_PRELOAD=$TKA_LIB TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DIRECTION=outbound python3 "$TMP/spawn.py") ||
        fail "python3 subprocess: $out"
expect_eq "$out" "client keepalive=1 idle=75" "python3 $(python3 -c 'import platform; print(platform.python_version())'): a socket connected after subprocess.run"
pass "python3 subprocess.run, then connect: $out"
