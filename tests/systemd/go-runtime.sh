#!/bin/sh
# Go under Method=auto, on a real systemd: the Go runtime makes its socket
# calls with raw system calls, so a preloaded library, though mapped, never
# sees them, even in a dynamically linked Go program. A small Go TCP echo
# server is built here at test time (standard library only, no network),
# once dynamically linked (cgo, Debian's default: it has an ELF
# interpreter) and once with CGO_ENABLED=0 (static); each runs as a service
# under IdleSec=77 Method=auto Mode=force. Method=auto must choose BPF for
# both and say why ("Go runtime"), and the service's own accepted socket
# must hold the rule's values (Go sets 15 s right after accept: force mode
# keeps the rule's), and the state is active on that connection's values.
# Then in Mode=default Go's own 15 s win, and the state must be own-values
# with the remedy; and under Method=preload (the library mapped, never
# called) the same, naming the Go runtime (the case once shown "active").
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd go readelf bpftool socat

# ---- the Go programs, built here ----------------------------------------------
mkdir -p "$TMP/go"
cat >"$TMP/go/main.go" <<'GO'
// An echo server: listens on 127.0.0.1:PORT, copies every connection back.
package main

import (
	"io"
	"net"
	"os"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		go func() { io.Copy(c, c); c.Close() }()
	}
}
GO
printf 'module echo\n\ngo 1.13\n' >"$TMP/go/go.mod"
# Caches and module path under $TMP; the standard library only: no proxy.
# The module cache is read-only: made writable again so that $TMP can go.
gobuild() { # OUTPUT [ENV...]
        _out=$1
        shift
        (cd "$TMP/go" && env HOME="$TMP/go" GOCACHE="$TMP/go/cache" GOPATH="$TMP/go/path" GOFLAGS=-mod=mod \
                GOPROXY=off GOTOOLCHAIN=local "$@" go build -o "$_out" .) >"$TMP/go/build.log" 2>&1 ||
                fail "go build $* failed: $(cat "$TMP/go/build.log")"
}
on_exit "chmod -R u+w '$TMP/go'"
gobuild "$TMP/go/echo-dyn"
gobuild "$TMP/go/echo-static" CGO_ENABLED=0
readelf -lW "$TMP/go/echo-dyn" | grep -q 'Requesting program interpreter' ||
        fail "the default go build is not dynamically linked (no INTERP): $(readelf -lW "$TMP/go/echo-dyn" | head -n 20)"
if readelf -lW "$TMP/go/echo-static" | grep -q 'Requesting program interpreter'; then
        fail "the CGO_ENABLED=0 build has an ELF interpreter"
fi
pass "built a dynamic (INTERP) and a static (CGO_ENABLED=0) Go echo server"

# ---- in the container ------------------------------------------------------------
container_boot tka-go
# As in bpf-backend.sh: the rules and drop-ins are in place before the
# daemon (which would reload systemd) starts.
inside systemctl stop tcpkeepalived.service
inside mkdir -p /opt
for kind in dyn static; do
        inside_write "/opt/echo-$kind" <"$TMP/go/echo-$kind"
        inside chmod 755 "/opt/echo-$kind"
done
unit() { # NAME EXEC
        printf '[Service]\nExecStart=%s\n' "$2" | inside_write "/etc/systemd/system/$1"
}
rule() { # FILE UNIT
        printf '[Match]\nUnit=%s\n[KeepAlive]\nIdleSec=77\nMethod=auto\nMode=force\n' "$2" |
                inside_write "/etc/keepalived.d/$1"
}
unit go-dyn.service "/opt/echo-dyn 7701"
unit go-static.service "/opt/echo-static 7702"
rule 50-go-dyn.ini go-dyn.service
rule 50-go-static.ini go-static.service
inside systemctl daemon-reload
dropin=$(inside cat /run/systemd/generator/go-dyn.service.d/50-tcpkeepalive.conf) ||
        container_fail "no drop-in for go-dyn.service after daemon-reload"
expect_match "$dropin" "tcpkeepalive-bpf-launch attach --unit=%n --auto --idle=77 --interval=15 --count=4 --mode=force$" \
        "the drop-in asks the helper to choose (Method=auto)"
inside systemctl start go-dyn.service go-static.service
wait_listening 7701
wait_listening 7702
container_start_daemon

BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
for kind in dyn static; do
        case $kind in dyn) port=7701 what="dynamically linked Go" ;; static) port=7702 what="static Go" ;; esac
        u=go-$kind.service
        # What the helper chose, and why, as it logged it.
        journal=$(inside journalctl -u "$u" -o cat)
        expect_match "$journal" "$u: BPF \\(/opt/echo-$kind: Go runtime: its sockets do not go through libc\\): cgroup" \
                "$what: tcpkeepalive-bpf --auto chose BPF for the Go runtime"
        case $journal in *"Method=auto: preload"*) fail "$what: Method=auto chose the preload: $journal" ;; esac
        # The status: method bpf, the reason names the Go runtime.
        getunit=$(inside busctl call $BUS GetUnit s "$u")
        expect_match "$getunit" '"bpf"$' "$what: GetUnit's method"
        expect_match "$getunit" "/opt/echo-$kind: Go runtime: its sockets do not go through libc" "$what: GetUnit's reason"
        expect_match "$(inside tcpkeepalivectl show "$u")" "BPF \\(/opt/echo-$kind: Go runtime: its sockets do not go through libc\\)" \
                "$what: tcpkeepalivectl show"
        # Method=auto's drop-in keeps LD_PRELOAD (the helper decides at
        # start): the dynamic Go program maps the library, which never sees
        # a socket call; that is why BPF is needed. The static one cannot.
        pid=$(inside systemctl show -P MainPID "$u")
        if [ $kind = dyn ]; then
                inside grep -q libtcpkeepalive "/proc/$pid/maps" ||
                        fail "$what: the library is not mapped: the test no longer shows the case it is about"
        elif inside grep -q libtcpkeepalive "/proc/$pid/maps"; then
                fail "$what: a static program has the library mapped"
        fi
        pass "$what: Method=auto chose BPF and says why (GetUnit: $getunit)"

        # The rule's values on the service's own socket, through Go's
        # setsockopt calls after accept (force mode keeps the rule's idle).
        line=$(connection_timer $port)
        expect_idle "$line" 77 "$what: the keepalive timer"
        # Interval 15 and count 4 are the rules' defaults; idle 77 is
        # what Go's own 15 s would have replaced.
        expect_sockopts $port 77 15 4 "$what: getsockopt on the Go server's accepted socket"
        pass "$what: the accepted socket holds the rule's values in force mode (idle 77, interval 15, count 4)"
        # The state is decided by that connection: the rule's values.
        check=$(inside tcpkeepalivectl check "$u") || container_fail "$what: check exit $?: $check"
        expect_match "$check" "^$u: active: BPF .*; 1 of 1 established connections carry the rule's values \\(idle 77 s, interval 15 s, count 4\\)" \
                "$what, Mode=force: check"
done

# Mode=default: Go's own setsockopt after accept wins (its 15 s), which is
# what the connection carries; the state must say so, with the remedy,
# never "active".
for kind in dyn static; do
        printf '[Match]\nUnit=go-%s.service\n[KeepAlive]\nIdleSec=77\nMethod=auto\n' "$kind" |
                inside_write "/etc/keepalived.d/50-go-$kind.ini"
done
inside tcpkeepalivectl reload
inside systemctl restart go-dyn.service go-static.service
wait_listening 7701
wait_listening 7702
for kind in dyn static; do
        case $kind in dyn) port=7701 what="dynamically linked Go" ;; static) port=7702 what="static Go" ;; esac
        u=go-$kind.service
        line=$(connection_timer $port)
        expect_idle "$line" 15 "$what, Mode=default: Go's own keepalive timer"
        expect_sockopts $port 15 15 4 "$what, Mode=default: getsockopt (Go's idle and interval, the rule's count)"
        set +e
        check=$(inside tcpkeepalivectl check "$u")
        rc=$?
        set -e
        expect_eq "$rc" 1 "$what, Mode=default: check exits 1 ($check)"
        expect_match "$check" "^$u: own-values: 1 of 1 established connections carry the program's own values \\(PID [0-9]+ fd [0-9]+: idle 15 s, interval 15 s, count 4, user timeout 0 ms\\), not the rule's \\(idle 77 s, interval 15 s, count 4\\): Mode=force keeps the rule's" \
                "$what, Mode=default: the program's own values, with the remedy"
        getunit=$(inside busctl call $BUS GetUnit s "$u")
        expect_match "$getunit" '"own-values" .* [0-9]+ 1 0 1 0 0 "bpf"$' "$what, Mode=default: GetUnit counts one connection with the program's values"
        pass "$what, Mode=default: reported as the program's own 15 s values, remedy Mode=force"
done

# Method=preload (the default) on the dynamically linked Go program: the
# library is mapped and never sees a socket call; once reported "active",
# the connection's Go values must now be the verdict, naming the runtime.
unit go-preload.service "/opt/echo-dyn 7703"
printf '[Match]\nUnit=go-preload.service\n[KeepAlive]\nIdleSec=77\n' | inside_write /etc/keepalived.d/50-go-preload.ini
inside tcpkeepalivectl reload
inside systemctl start go-preload.service
wait_listening 7703
pid=$(inside systemctl show -P MainPID go-preload.service)
inside grep -q libtcpkeepalive "/proc/$pid/maps" || fail "Go, Method=preload: the library is not mapped"
connection_timer 7703 >/dev/null
set +e
check=$(inside tcpkeepalivectl check go-preload.service)
rc=$?
set -e
expect_eq "$rc" 1 "Go, Method=preload: check exits 1 ($check)"
expect_match "$check" "^go-preload.service: own-values: 1 of 1 established connections carry the program's own values \\(PID [0-9]+ fd [0-9]+: idle 15 s, interval 15 s, .*\\), not the rule's \\(idle 77 s, interval 15 s, count 4\\): /opt/echo-dyn: Go runtime: its sockets do not go through libc; Method=bpf with Mode=force sets the rule's" \
        "Go, Method=preload: the program's own values, the runtime named, the remedy"
pass "Go, Method=preload: not active: Go's own values, the runtime named, remedy Method=bpf with Mode=force"
container_stop
