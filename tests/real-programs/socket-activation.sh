#!/bin/sh
# Sockets the program did not create: systemd-socket-activate hands a
# listener in as fd 3, or (--inetd) the connection itself as fd 0/1. Only the
# activated program is under the library (-E), as under systemd.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd systemd-socket-activate python3 socat ss

PY=$(python3 -c 'import sys; print(sys.executable)') # the interpreter, not a shim
ENVS="-E LD_PRELOAD=$TKA_LIB -E TCPKEEPALIVE_IDLE=33 -E TCPKEEPALIVE_INTERVAL=7 -E TCPKEEPALIVE_COUNT=3"
[ -z "${ASAN_OPTIONS:-}" ] || ENVS="$ENVS -E ASAN_OPTIONS=$ASAN_OPTIONS"
want="keepalive=1 idle=33 interval=7 count=3"

# 1. A listener passed in; the program connects to it after it started.
port=$(free_port)
# shellcheck disable=SC2086
out=$(timeout 20 systemd-socket-activate -l "127.0.0.1:$port" $ENVS "$PROBE" accept-inherited 2>"$TMP/err" &
      wait_until 10 "socket-activate listening" sh -c "ss -Htln 'sport = :$port' | grep -q ."
      # socket-activate starts the program on the first connection:
      (sleep 3 | socat - "TCP:127.0.0.1:$port") >/dev/null 2>&1 &
      wait) || true
expect_match "$(probe_line "$out" accepted)" "^accepted $want " "connection accepted from a passed listener"
pass "socket activation: $(probe_line "$out" accepted)"

# 2. The connection that triggers the start is queued on the listener before
#    the program (and the library) run: it must get keepalive too. Started
#    through python's launcher chain when there is one (exec after exec).
port=$(free_port)
cat >"$TMP/accept-one.py" <<'PY'
import socket
s = socket.socket(fileno=3)
c, _ = s.accept()
g = lambda l, o: c.getsockopt(l, o)
print("first keepalive=%d idle=%d interval=%d count=%d" % (
    g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
    g(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL), g(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)), flush=True)
PY
# shellcheck disable=SC2086
timeout 20 systemd-socket-activate -l "127.0.0.1:$port" $ENVS python3 "$TMP/accept-one.py" >"$TMP/out2" 2>"$TMP/err2" &
sa=$!
on_exit "kill $sa 2>/dev/null"
wait_until 10 "socket-activate listening" sh -c "ss -Htln 'sport = :$port' | grep -q ."
(sleep 5 | socat - "TCP:127.0.0.1:$port") >/dev/null 2>&1 &
on_exit "pkill -f 'TCP:127.0.0.1:$port' 2>/dev/null"
wait $sa || true
expect_eq "$(cat "$TMP/out2")" "first $want" "the queued first connection (stderr: $(cat "$TMP/err2"))"
pass "the connection that triggered activation"

# 3. inetd style: the connection itself is fd 0 and 1.
port=$(free_port)
cat >"$TMP/inetd.py" <<'PY'
import socket, sys
c = socket.socket(fileno=0)
g = lambda l, o: c.getsockopt(l, o)
sys.stdout.write("inetd keepalive=%d idle=%d interval=%d count=%d\n" % (
    g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
    g(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL), g(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)))
sys.stdout.flush()
PY
# shellcheck disable=SC2086
timeout 20 systemd-socket-activate --inetd -a -l "127.0.0.1:$port" $ENVS "$PY" "$TMP/inetd.py" 2>"$TMP/err3" &
sa=$!
on_exit "kill $sa 2>/dev/null"
wait_until 10 "socket-activate --inetd listening" sh -c "ss -Htln 'sport = :$port' | grep -q ."
reply=$(timeout 10 socat -T 5 - "TCP:127.0.0.1:$port" </dev/null) || true
expect_eq "$reply" "inetd $want" "inetd-style connection on fd 0 (stderr: $(cat "$TMP/err3"))"
pass "inetd style (Accept=yes)"
