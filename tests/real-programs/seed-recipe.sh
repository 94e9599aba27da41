#!/bin/sh
# The seed article's recipe, unchanged but for the library: libkeepalive's
# variables, strace showing the setsockopt calls of `nc -l`, and ss showing a
# keepalive timer on the accepted connection. And the control: without the
# library nc makes none of those calls and its connection has no timer.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd nc strace ss socat

listen_with() { # PORT [ENV...]: nc -l under strace, in the background
        _port=$1
        shift
        env "$@" strace -f -o "$TMP/strace.$_port" -e trace=setsockopt nc -l 127.0.0.1 "$_port" \
                </dev/null >/dev/null 2>&1 &
        echo $! >"$TMP/pid.$_port"
        on_exit "kill $(cat "$TMP/pid.$_port") 2>/dev/null"
        wait_until 10 "nc listening on 127.0.0.1:$_port" sh -c "ss -Htln 'sport = :$_port' | grep -q ."
}

connect_and_show() { # PORT: a client stays connected; prints ss for the server end
        (sleep 10 | socat - "TCP:127.0.0.1:$1") >/dev/null 2>&1 &
        on_exit "kill $! 2>/dev/null; pkill -f 'TCP:127.0.0.1:$1' 2>/dev/null"
        wait_until 10 "an established connection on port $1" \
                sh -c "ss -Htn state established 'sport = :$1' | grep -q ."
        ss -Htnoe state established "sport = :$1"
}

port=$(free_port)
listen_with "$port" LD_PRELOAD="$TKA_LIB" KEEPCNT=20 KEEPIDLE=75 KEEPINTVL=60
trace=$(cat "$TMP/strace.$port")
expect_match "$trace" 'setsockopt\(3, SOL_SOCKET, SO_KEEPALIVE, \[1\], 4\) = 0' "SO_KEEPALIVE on the listener"
expect_match "$trace" 'setsockopt\(3, SOL_TCP, TCP_KEEPCNT, \[20\], 4\) = 0' "TCP_KEEPCNT 20"
expect_match "$trace" 'setsockopt\(3, SOL_TCP, TCP_KEEPIDLE, \[75\], 4\) = 0' "TCP_KEEPIDLE 75"
expect_match "$trace" 'setsockopt\(3, SOL_TCP, TCP_KEEPINTVL, \[60\], 4\) = 0' "TCP_KEEPINTVL 60"
line=$(connect_and_show "$port")
# ss prints the time left of the running timer: 75 s at most, just started.
expect_match "$line" 'timer:\(keepalive,1min(1[0-5]|[0-9])(\.[0-9]+)?sec,0\)' "accepted connection's keepalive timer (~75 s)"
pass "seed recipe: $(printf '%s' "$line" | grep -o 'timer:([^)]*)')"

# The accepted connection inherited the listener's options: no setsockopt on it.
expect_eq "$(grep -c 'SO_KEEPALIVE' "$TMP/strace.$port")" 1 "setsockopt(SO_KEEPALIVE) calls: the listener only"
pass "the accepted connection inherits (no extra setsockopt)"

port=$(free_port)
listen_with "$port"
expect_no_match "$(cat "$TMP/strace.$port")" 'SO_KEEPALIVE|TCP_KEEP' "control: nc alone sets no keepalive"
line=$(connect_and_show "$port")
expect_no_match "$line" 'keepalive' "control: no keepalive timer without the library"
pass "control: without the library, no keepalive"
