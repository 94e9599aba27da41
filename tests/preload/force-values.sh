#!/bin/sh
# Force mode keeps every value the rule sets, even one equal to the sysctl
# default, on a socket the program set its own values on before connect()
# or that an earlier process handed in (issue 12: the library skipped the
# setsockopt and the program's idle 10 stayed). And a call with a bad
# pointer, length or value gets exactly the kernel's answer, never a crash
# (issue 12: SO_KEEPALIVE with optval 8 was SIGSEGV, a bad TCP_KEEPIDLE 0).
. "$TKA_SRCDIR/tests/lib.sh"

def_idle=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)
def_intvl=$(cat /proc/sys/net/ipv4/tcp_keepalive_intvl)
def_count=$(cat /proc/sys/net/ipv4/tcp_keepalive_probes)

# The program sets keepalive on, idle 10, interval 3, count 5, user timeout
# 7000 before connect().
for dir in outbound both; do
        out=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_MODE=force TCPKEEPALIVE_DIRECTION=$dir TCPKEEPALIVE_IDLE=$def_idle \
                TCPKEEPALIVE_INTERVAL=$def_intvl TCPKEEPALIVE_COUNT=$def_count "$PROBE" preset-connect) ||
                fail "preset-connect: $out"
        expect_eq "$(probe_line "$out" client)" \
                "client keepalive=1 idle=$def_idle interval=$def_intvl count=$def_count user_timeout=7000" \
                "force, direction $dir, the rule's values equal to the sysctl defaults"
done
pass "force mode sets values equal to the sysctl defaults on a socket the program touched"

# The same on an inherited listener a parent set idle 10 on.
need_cmd python3
cat >"$TMP/parent.py" <<'PY'
import os, socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 10)
if l.fileno() != 3:
    os.dup2(l.fileno(), 3)
os.set_inheritable(3, True)
os.execve(sys.argv[1], sys.argv[1:], dict(os.environ, LD_PRELOAD=os.environ["CHILD_PRELOAD"]))
PY
# (python3 itself without the library: a sanitizer build's copy is for our programs)
out=$(CHILD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_MODE=force TCPKEEPALIVE_IDLE=$def_idle python3 "$TMP/parent.py" "$PROBE" accept-inherited) ||
        fail "accept-inherited: $out"
expect_match "$(probe_line "$out" accepted)" "^accepted keepalive=1 idle=$def_idle " \
        "force: an inherited listener with the parent's idle 10, the rule's idle equal to the sysctl default"
pass "force mode on an inherited listener"

# Bad pointers, lengths and values: the kernel's answers, with and without us.
# (Not under valgrind, which rightly reports the program's bad pointers.)
if [ "${TKA_VALGRIND:-}" != 1 ]; then
        without=$("$PROBE" badptr) || fail "badptr without the library"
        for mode in force default; do
                with=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_MODE=$mode TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 \
                        TCPKEEPALIVE_COUNT=20 TCPKEEPALIVE_USER_TIMEOUT=9000 "$PROBE" badptr) ||
                        fail "badptr in mode $mode: the program failed (status $?): $with"
                expect_eq "$(printf '%s\n' "$with" | grep -v '^after ')" "$(printf '%s\n' "$without" | grep -v '^after ')" \
                        "mode $mode: results and errno of bad setsockopt calls"
        done
        expect_eq "$(probe_line "$with" after)" "after keepalive=0 idle=75 interval=60 count=20 user_timeout=0" \
                "default mode: the valid calls of the program won"
        with=$(LD_PRELOAD=$TKA_PRELOAD TCPKEEPALIVE_MODE=force TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 \
                TCPKEEPALIVE_COUNT=20 TCPKEEPALIVE_USER_TIMEOUT=9000 "$PROBE" badptr)
        expect_eq "$(probe_line "$with" after)" "after keepalive=1 idle=75 interval=60 count=20 user_timeout=9000" \
                "force mode: the rule's values stay"
        expect_match "$with" "keepalive-badptr rc=-1 errno=14" "EFAULT for SO_KEEPALIVE with a bad pointer"
        pass "bad pointers, lengths and values get the kernel's answers"
fi
