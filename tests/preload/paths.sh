#!/bin/sh
# Rules by network path (issue 17): TCPKEEPALIVE_PATHn give the connections
# they cover their own values, by the peer's address (most specific prefix
# wins, '!' excludes), its port or the local port; TCPKEEPALIVE_UNMATCHED=off
# leaves every other connection alone, without it they get the unit's
# values. Outbound connections match on connect()'s address, accepted ones
# on the peer that connected. The values are read back from the kernel.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd python3

# conns.py SPEC...: SPEC is LABEL,SRC,DST,PORT[,fight]. For each: a listener
# on DST:PORT (0: a port of its own; one listener per DST:PORT otherwise),
# a client bound to SRC ('-': not bound) that connects to it, the accepted
# end; prints each end's keepalive options as the kernel has them. fight:
# the client then sets keepalive off and idle 5 itself; dupfight: the same
# through a copy made with fcntl(F_DUPFD), which the library does not see.
cat >"$TMP/conns.py" <<'PY'
import fcntl, socket, sys
T = socket.IPPROTO_TCP
def show(label, end, s):
    g = lambda lvl, opt: s.getsockopt(lvl, opt)
    print("%s %s keepalive=%d idle=%d interval=%d count=%d user_timeout=%d" % (label, end,
          g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), g(T, socket.TCP_KEEPIDLE), g(T, socket.TCP_KEEPINTVL),
          g(T, socket.TCP_KEEPCNT), g(T, socket.TCP_USER_TIMEOUT)))
listeners, keep = {}, []
for spec in sys.argv[1:]:
    f = spec.split(",")
    label, src, dst, port = f[0], f[1], f[2], int(f[3])
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    key = (dst, port)
    if port == 0 or key not in listeners:
        l = socket.socket(fam)
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind((dst, port))
        l.listen(8)
        listeners[key] = l
    l = listeners[key]
    c = socket.socket(fam)
    if src != "-":
        c.bind((src, 0))
    c.connect(l.getsockname()[:2])
    if len(f) > 4 and f[4] in ("fight", "dupfight"):
        d = c
        if f[4] == "dupfight":
            d = socket.socket(fileno=fcntl.fcntl(c.fileno(), fcntl.F_DUPFD, 200))
            keep.append(d)
        d.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)
        d.setsockopt(T, socket.TCP_KEEPIDLE, 5)
    a, peer = l.accept()
    show(label, "client", c)
    show(label, "accepted", a)
    keep += [c, a]
PY
# The interpreter itself: python3 may be a wrapper script (pyenv's shim runs
# a chain of shells, each with the library and its messages).
PY=$(python3 -c 'import sys; print(sys.executable)')
conns() {
        LD_PRELOAD=$TKA_LIB "$PY" "$TMP/conns.py" "$@"
}
line() { # OUTPUT LABEL END
        printf '%s\n' "$1" | grep -E "^$2 $3 " | head -n1
}
P1='idle=301;interval=11;count=4;user_timeout=7001'
V1='keepalive=1 idle=301 interval=11 count=4 user_timeout=7001'
def_idle=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)

# Outbound, by destination: the rule's connection gets the rule's values
# (all four), the other nothing with UNMATCHED=off, the unit's without.
export TCPKEEPALIVE_IDLE=75
out=$(TCPKEEPALIVE_PATH1="dst=127.0.0.2/32;$P1" TCPKEEPALIVE_UNMATCHED=off TCPKEEPALIVE_DIRECTION=outbound \
        conns a,-,127.0.0.2,0 b,-,127.0.0.3,0) || fail "conns: $out"
expect_eq "$(line "$out" a client)" "a client $V1" "dst=127.0.0.2/32: the connection to 127.0.0.2"
expect_match "$(line "$out" b client)" "^b client keepalive=0 idle=$def_idle " "UNMATCHED=off: the connection to 127.0.0.3"
out=$(TCPKEEPALIVE_PATH1="dst=127.0.0.2/32;$P1" TCPKEEPALIVE_DIRECTION=outbound \
        conns a,-,127.0.0.2,0 b,-,127.0.0.3,0) || fail "conns: $out"
expect_eq "$(line "$out" a client)" "a client $V1" "dst=127.0.0.2/32 without UNMATCHED"
expect_match "$(line "$out" b client)" "^b client keepalive=1 idle=75 " "without UNMATCHED: the unit's values"
expect_match "$(line "$out" b accepted)" "^b accepted keepalive=0 " "Direction=outbound still applies"
pass "outbound connections by destination, with and without UNMATCHED=off"

# IPv6, and the most specific rule wins whatever the order.
out=$(TCPKEEPALIVE_PATH1='dst=::1/128;idle=302' TCPKEEPALIVE_PATH2='dst=127.0.0.0/8;idle=303' \
        TCPKEEPALIVE_DIRECTION=outbound conns six,-,::1,0 four,-,127.0.0.1,0) || fail "conns: $out"
expect_match "$(line "$out" six client)" "^six client keepalive=1 idle=302 " "dst=::1/128"
expect_match "$(line "$out" four client)" "^four client keepalive=1 idle=303 " "dst=127.0.0.0/8 next to an IPv6 rule"
for order in "dst=127.0.0.0/8;idle=310 dst=127.0.0.2/32;idle=311" "dst=127.0.0.2/32;idle=311 dst=127.0.0.0/8;idle=310"; do
        set -- $order
        out=$(TCPKEEPALIVE_PATH1=$1 TCPKEEPALIVE_PATH2=$2 TCPKEEPALIVE_DIRECTION=outbound \
                conns a,-,127.0.0.2,0 b,-,127.0.0.3,0) || fail "conns: $out"
        expect_match "$(line "$out" a client)" "^a client keepalive=1 idle=311 " "the /32 over the /8 ($order)"
        expect_match "$(line "$out" b client)" "^b client keepalive=1 idle=310 " "the /8 ($order)"
done
pass "IPv6 destinations; the longest prefix wins"

# A CIDR exclusion.
out=$(TCPKEEPALIVE_PATH1='dst=127.0.0.0/8,!127.0.0.3/32;idle=304' TCPKEEPALIVE_UNMATCHED=off \
        TCPKEEPALIVE_DIRECTION=outbound conns a,-,127.0.0.2,0 b,-,127.0.0.3,0) || fail "conns: $out"
expect_match "$(line "$out" a client)" "^a client keepalive=1 idle=304 " "127.0.0.2 in 127.0.0.0/8"
expect_match "$(line "$out" b client)" "^b client keepalive=0 " "127.0.0.3 excluded"
# A long list (the library searches it by prefix length): 100 prefixes of
# three lengths, an exclusion among them.
long=$(awk 'BEGIN { for (i = 0; i < 97; i++) printf "10.%d.%d.0/24,", int(i / 10), i % 10 }')
out=$(TCPKEEPALIVE_PATH1="dst=${long}127.0.0.0/8,!127.0.0.3/32,fd00::/8;idle=314" TCPKEEPALIVE_UNMATCHED=off \
        TCPKEEPALIVE_DIRECTION=outbound conns a,-,127.0.0.2,0 b,-,127.0.0.3,0 six,-,::1,0) || fail "conns: $out"
expect_match "$(line "$out" a client)" "^a client keepalive=1 idle=314 " "127.0.0.2 in a list of 100"
expect_match "$(line "$out" b client)" "^b client keepalive=0 " "127.0.0.3 excluded in a list of 100"
expect_match "$(line "$out" six client)" "^six client keepalive=0 " "::1 in no prefix of a list of 100"
pass "excluded prefixes"

# Inbound: accepted connections by the peer that connected (the client's
# source address), the listener and unmatched peers by UNMATCHED.
for unmatched in off ""; do
        if [ -n "$unmatched" ]; then export TCPKEEPALIVE_UNMATCHED=$unmatched; else unset TCPKEEPALIVE_UNMATCHED; fi
        out=$(TCPKEEPALIVE_PATH1="dst=127.0.0.2;$P1" TCPKEEPALIVE_DIRECTION=inbound \
                conns a,127.0.0.2,127.0.0.1,0 b,127.0.0.3,127.0.0.1,0) || fail "conns: $out"
        expect_eq "$(line "$out" a accepted)" "a accepted $V1" "accepted from 127.0.0.2 (UNMATCHED=$unmatched)"
        expect_match "$(line "$out" a client)" "^a client keepalive=0 " "Direction=inbound: the client untouched"
        if [ "$unmatched" = off ]; then
                expect_match "$(line "$out" b accepted)" "^b accepted keepalive=0 idle=$def_idle " "accepted from 127.0.0.3, UNMATCHED=off"
        else
                expect_match "$(line "$out" b accepted)" "^b accepted keepalive=1 idle=75 interval=[0-9]+ count=[0-9]+ user_timeout=0$" \
                        "accepted from 127.0.0.3: the listener's (the unit's) values"
        fi
done
unset TCPKEEPALIVE_UNMATCHED
# A path rule leaves an option to the kernel: a connection accepted on a
# listener that got the unit's value does not keep it.
out=$(TCPKEEPALIVE_PATH1='dst=127.0.0.2;interval=12' TCPKEEPALIVE_DIRECTION=inbound \
        conns a,127.0.0.2,127.0.0.1,0) || fail "conns: $out"
expect_match "$(line "$out" a accepted)" "^a accepted keepalive=1 idle=$def_idle interval=12 " \
        "the path rule's kernel default for idle, not the listener's 75"
# accept(fd, NULL, NULL) (sockprobe): the peer from the library's own buffer.
out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_PATH1='dst=127.0.0.1;idle=313' TCPKEEPALIVE_UNMATCHED=off \
        "$PROBE" connection4) || fail "connection4: $out"
expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=313 " "accept() without an address buffer"
expect_match "$(probe_line "$out" client)" "^client keepalive=1 idle=313 " "connect() to 127.0.0.1"
expect_match "$(probe_line "$out" listener)" "^listener keepalive=0 " "UNMATCHED=off: the listener not configured"
pass "accepted connections by their peer"

# Connections inherited at start (inetd style): matched on their peer.
cat >"$TMP/inherit.py" <<'PY'
import os, socket, sys
if sys.argv[1] == "parent":
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
    high = []
    for src in ("127.0.0.2", "127.0.0.3"):
        c = socket.socket(); c.bind((src, 0)); c.connect(l.getsockname())
        a, _ = l.accept()
        high.append(100 + len(high))  # out of the way of fds 3 and 4
        os.dup2(a.fileno(), high[-1])
        os.set_inheritable(c.fileno(), True)  # the peers stay open
        c.detach()
    l.close()
    for fd, h in zip((3, 4), high):
        os.dup2(h, fd)
    os.execve(sys.executable, [sys.executable, sys.argv[0], "child"],
              dict(os.environ, LD_PRELOAD=os.environ["CHILD_PRELOAD"]))
T = socket.IPPROTO_TCP
for fd, name in ((3, "from2"), (4, "from3")):
    s = socket.socket(fileno=fd)
    print("%s keepalive=%d idle=%d" % (name, s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                                       s.getsockopt(T, socket.TCP_KEEPIDLE)))
PY
out=$(CHILD_PRELOAD=$TKA_LIB TCPKEEPALIVE_PATH1='dst=127.0.0.2;idle=315' TCPKEEPALIVE_UNMATCHED=off \
        "$PY" "$TMP/inherit.py" parent) || fail "inherit.py: $out"
expect_eq "$(printf '%s\n' "$out" | grep '^from2 ')" "from2 keepalive=1 idle=315" "an inherited connection from 127.0.0.2"
expect_eq "$(printf '%s\n' "$out" | grep '^from3 ')" "from3 keepalive=0 idle=$def_idle" "an inherited connection from 127.0.0.3, UNMATCHED=off"
out=$(CHILD_PRELOAD=$TKA_LIB TCPKEEPALIVE_PATH1='dst=127.0.0.2;idle=315' "$PY" "$TMP/inherit.py" parent) ||
        fail "inherit.py: $out"
expect_eq "$(printf '%s\n' "$out" | grep '^from3 ')" "from3 keepalive=1 idle=75" "an inherited connection from 127.0.0.3: the unit's values"
pass "inherited connections by their peer"

# Default mode: a listener the library did not see made (moved with
# F_DUPFD, received over SCM_RIGHTS) keeps the program's choice for its
# connections with path rules too; force mode gives them the path rule's.
for how in dupfd scm; do
        for unmatched in "" off; do
                if [ -n "$unmatched" ]; then export TCPKEEPALIVE_UNMATCHED=$unmatched; else unset TCPKEEPALIVE_UNMATCHED; fi
                # (With UNMATCHED=off the library never configured the
                # listener: keepalive off with every option at the kernel's
                # default cannot be told from untouched, as without path rules.)
                if [ -z "$unmatched" ]; then
                        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_PATH1='dst=127.0.0.1;idle=316' "$PROBE" moved-listener $how off) ||
                                fail "$how off: $out"
                        expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=0 " "$how: the program turned keepalive off"
                fi
                out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_PATH1='dst=127.0.0.1;idle=316' "$PROBE" moved-listener $how idle) ||
                        fail "$how idle: $out"
                expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=7 " "$how, UNMATCHED=$unmatched: the program's own idle"
                out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_PATH1='dst=127.0.0.1;idle=316' TCPKEEPALIVE_MODE=force \
                        "$PROBE" moved-listener $how off) || fail "$how force: $out"
                expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=316 " "$how, UNMATCHED=$unmatched, force mode"
        done
done
unset TCPKEEPALIVE_UNMATCHED
pass "moved and received listeners keep the program's choice"

# Port= (the peer's) and LocalPort=.
p1=$(free_port)
p2=$(free_port)
while [ "$p2" = "$p1" ]; do p2=$(free_port); done
out=$(TCPKEEPALIVE_PATH1="port=$p1;idle=306" TCPKEEPALIVE_PATH2="lport=$p2;idle=307" \
        conns one,-,127.0.0.1,$p1 two,-,127.0.0.1,$p2) || fail "conns: $out"
expect_match "$(line "$out" one client)" "^one client keepalive=1 idle=306 " "port=$p1: the client to it"
expect_match "$(line "$out" two client)" "^two client keepalive=1 idle=75 " "port=$p1: the client to $p2"
expect_match "$(line "$out" two accepted)" "^two accepted keepalive=1 idle=307 " "lport=$p2: accepted on it"
expect_match "$(line "$out" one accepted)" "^one accepted keepalive=1 idle=75 " "lport=$p2: accepted on $p1"
pass "Port= and LocalPort="

# Force mode keeps the socket's own rule's values, not the unit's.
out=$(TCPKEEPALIVE_PATH1="dst=127.0.0.2;$P1" TCPKEEPALIVE_MODE=force TCPKEEPALIVE_DIRECTION=outbound \
        conns a,-,127.0.0.2,0,fight b,-,127.0.0.3,0,fight) || fail "conns: $out"
expect_eq "$(line "$out" a client)" "a client $V1" "force: the path rule's values stay"
expect_match "$(line "$out" b client)" "^b client keepalive=1 idle=75 " "force: the unit's values stay"
out=$(TCPKEEPALIVE_PATH1="dst=127.0.0.2;$P1" TCPKEEPALIVE_DIRECTION=outbound \
        conns a,-,127.0.0.2,0,fight) || fail "conns: $out"
expect_match "$(line "$out" a client)" "^a client keepalive=0 idle=5 interval=11 " "default mode: the program's values win"
# On a copy the library did not see made, found by the values it carries
# (a rule that gives no value fits any socket with keepalive on: not it).
out=$(TCPKEEPALIVE_PATH1="dst=127.0.0.2;$P1" TCPKEEPALIVE_PATH2='dst=127.0.0.3' TCPKEEPALIVE_MODE=force \
        TCPKEEPALIVE_DIRECTION=outbound conns a,-,127.0.0.2,0,dupfight) || fail "conns: $out"
expect_eq "$(line "$out" a client)" "a client $V1" "force, through fcntl(F_DUPFD): the path rule's values stay"
pass "force mode keeps a path rule's values"

# A bad TCPKEEPALIVE_PATH1: one message, that rule left out, the next one used.
err=$(TCPKEEPALIVE_PATH1='dst=300.1.2.3/8;idle=5' TCPKEEPALIVE_PATH2='dst=127.0.0.2;idle=309' \
        TCPKEEPALIVE_DIRECTION=outbound conns a,-,127.0.0.2,0 b,-,127.0.0.3,0 2>&1 >"$TMP/out") ||
        fail "conns with a bad TCPKEEPALIVE_PATH1: $err"
out=$(cat "$TMP/out")
expect_match "$err" "^tcpkeepalive: ignoring TCPKEEPALIVE_PATH1='dst=300\.1\.2\.3/8;idle=5'" "the message about PATH1"
expect_eq "$(printf '%s\n' "$err" | grep -c .)" 1 "one message"
expect_match "$(line "$out" a client)" "^a client keepalive=1 idle=309 " "TCPKEEPALIVE_PATH2 still applies"
expect_match "$(line "$out" b client)" "^b client keepalive=1 idle=75 " "the unit's values still apply"
err=$(TCPKEEPALIVE_PATH1='dst=127.0.0.2;idle=0' TCPKEEPALIVE_UNMATCHED=maybe TCPKEEPALIVE_DIRECTION=outbound \
        conns a,-,127.0.0.2,0 2>&1 >"$TMP/out") || fail "conns: $err"
expect_match "$err" "ignoring TCPKEEPALIVE_PATH1='dst=127.0.0.2;idle=0'" "idle=0 refused"
expect_match "$err" "ignoring TCPKEEPALIVE_UNMATCHED='maybe'" "a bad UNMATCHED"
expect_match "$(line "$(cat "$TMP/out")" a client)" "^a client keepalive=1 idle=75 " "no path rule left: the unit's values"
pass "bad path rules are reported and left out"

# Debug names the path rule that applied.
err=$(TCPKEEPALIVE_PATH1="dst=127.0.0.2;$P1" TCPKEEPALIVE_DEBUG=1 TCPKEEPALIVE_DIRECTION=outbound \
        conns a,-,127.0.0.2,0 b,-,127.0.0.3,0 2>&1 >/dev/null)
expect_match "$err" "\(connect\): keepalive on, idle=301 interval=11 count=4 user_timeout=7001 \(path rule TCPKEEPALIVE_PATH1\)" \
        "debug: the path rule"
expect_match "$err" "\(connect\): keepalive on, idle=75 .*\(no path rule: the unit's values\)" "debug: no path rule"
pass "debug output"

# TCP Fast Open connects without connect(): matched on sendto()'s address.
if [ $(( $(cat /proc/sys/net/ipv4/tcp_fastopen) & 1 )) = 1 ]; then
        for how in sendto sendmsg sendmmsg; do
                out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_PATH1='dst=127.0.0.1;idle=312' TCPKEEPALIVE_UNMATCHED=off \
                        "$PROBE" fastopen $how) || fail "fastopen $how: $out"
                expect_match "$(probe_line "$out" client)" "^client keepalive=1 idle=312 " "fast open, $how, covered"
                out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_PATH1='dst=127.0.0.2;idle=312' TCPKEEPALIVE_UNMATCHED=off \
                        "$PROBE" fastopen $how) || fail "fastopen $how: $out"
                expect_match "$(probe_line "$out" client)" "^client keepalive=0 " "fast open, $how, not covered"
        done
        pass "fast open clients by their address"
fi

# Bad pointers under path rules: the kernel's EFAULT, never a crash. The
# library reads an address only after the kernel took it (connect, fast
# open) and never the program's accept() length (issue 12's rule for the
# wrappers). ctypes calls the interposed functions with pointers to page 0.
cat >"$TMP/badptr.py" <<'PY'
import ctypes, errno, socket
libc = ctypes.CDLL(None, use_errno=True)
bad = ctypes.c_void_p(16)
def call(name, *args):
    r = getattr(libc, name)(*args)
    print("%s %d %s" % (name, r, errno.errorcode.get(ctypes.get_errno(), "0") if r < 0 else "0"))
c = socket.socket(); call("connect", c.fileno(), bad, 16)
c = socket.socket(); call("sendto", c.fileno(), b"x", 1, 0x20000000, bad, 16)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
k = socket.create_connection(l.getsockname())
call("accept", l.fileno(), bad, bad)
PY
out=$(LD_PRELOAD=$TKA_LIB TCPKEEPALIVE_PATH1='dst=127.0.0.1;idle=317' "$PY" "$TMP/badptr.py" 2>&1) ||
        fail "bad pointers under path rules: the program died: $out"
expect_match "$out" "^connect -1 EFAULT$" "connect() with a bad address"
expect_match "$out" "^sendto -1 EFAULT$" "fast open with a bad address"
expect_match "$out" "^accept -1 EFAULT$" "accept() with a bad address and length"
pass "bad pointers under path rules: EFAULT, as without the library"
