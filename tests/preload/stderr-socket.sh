#!/bin/sh
# Messages never go into a socket. For an inetd-style or Accept=yes service
# fd 2 is the client's connection: the library's warnings and debug lines,
# and the tcpkeepalive command's errors, go to syslog then (issue 12: a
# client read "tcpkeepalive: ignoring KEEPIDLE='75s'..." in its protocol
# stream). Run in a mount namespace whose /dev/log is a socket of this
# test's, to see what reaches syslog. (tests/systemd/accept-stderr.sh does
# the same with a real systemd and journald.)
. "$TKA_SRCDIR/tests/lib.sh"
need_root
need_cmd unshare python3

cat >"$TMP/run.py" <<'PY'
# run.py KIND CMD...: runs CMD with stderr a socket of KIND (tcp, unix);
# prints what the other end received and what reached /dev/log.
import os, select, socket, subprocess, sys, time
kind, cmd = sys.argv[1], sys.argv[2:]
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind("/dev/log")
if kind == "tcp":
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
    peer = socket.create_connection(l.getsockname()); end, _ = l.accept()
else:
    peer, end = socket.socketpair()
subprocess.run(cmd, stderr=end.fileno(), stdout=subprocess.DEVNULL, timeout=60)
end.close()
peer.settimeout(10)
got = b""
while True:
    b = peer.recv(4096)
    if not b:
        break
    got += b
print("peer received=%r" % got)
log.setblocking(False)
while True:
    try:
        print("syslog %r" % log.recv(4096))
    except BlockingIOError:
        break
PY
# A private /dev (a tmpfs) for the test's /dev/log; the rest stays.
run() { # KIND CMD...
        unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /dev && exec python3 "$@"' sh "$TMP/run.py" "$@"
}

for kind in tcp unix; do
        out=$(run $kind env LD_PRELOAD="$TKA_PRELOAD" KEEPIDLE=75s "$PROBE" connection4) || fail "$kind: $out"
        expect_eq "$(probe_line "$out" peer)" "peer received=b''" "$kind stderr: nothing written into the socket"
        expect_match "$out" "^syslog b.<28>sockprobe\[[0-9]+\]: tcpkeepalive: ignoring KEEPIDLE='75s'" \
                "$kind stderr: the warning went to syslog"
done
out=$(run tcp env LD_PRELOAD="$TKA_PRELOAD" TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_DEBUG=1 "$PROBE" connection4) || fail "debug: $out"
expect_eq "$(probe_line "$out" peer)" "peer received=b''" "debug lines: nothing written into the socket"
expect_match "$out" "^syslog .*tcpkeepalive: fd [0-9]+ \(socket\): keepalive on, idle=75" "debug lines went to syslog"
pass "the library writes no message into a socket on fd 2"

# Not a socket: stderr as before.
err=$(LD_PRELOAD=$TKA_PRELOAD KEEPIDLE=75s "$PROBE" connection4 2>&1 >/dev/null | cat)
expect_match "$err" "^tcpkeepalive: ignoring KEEPIDLE='75s'" "a pipe on fd 2 still gets the message"
pass "stderr that is not a socket still gets the messages"

# The tcpkeepalive command in front of an inetd-style server.
out=$(run tcp "$TKA_BUILDDIR/tcpkeepalive" --library="$TKA_LIB" --idle=75s -- true) || fail "tcpkeepalive: $out"
expect_eq "$(probe_line "$out" peer)" "peer received=b''" "tcpkeepalive --idle=75s: nothing written into the socket"
expect_match "$out" "^syslog b.<27>.*tcpkeepalive\[[0-9]+\]: --idle: '75s' is not a number" "tcpkeepalive's error went to syslog"
out=$(run tcp "$TKA_BUILDDIR/tcpkeepalive" --library="$TKA_LIB" --no-such-option -- true) || fail "tcpkeepalive: $out"
expect_eq "$(probe_line "$out" peer)" "peer received=b''" "tcpkeepalive --no-such-option: nothing written into the socket"
expect_match "$out" "^syslog .*unrecognized option '--no-such-option'" "getopt's error went to syslog"
pass "the tcpkeepalive command writes no message into a socket on fd 2"
