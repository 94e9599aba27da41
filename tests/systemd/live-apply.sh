#!/bin/sh
# A rule reaches a running unit with no restart (tcpkeepalive-bpf apply,
# started as tcpkeepalive-apply@INSTANCE.service): a socat service with
# three established connections gets the rule's values on all three (same
# MainPID, each connection still echoes), a connection opened after gets
# them too (sock_ops); Mode=default leaves a connection on which the
# program set keepalive itself (counted "own"), Mode=force overrides it;
# the rule removed, a new connection gets nothing and the old ones keep
# their values ("leave"); a docker-<id>.scope matched by a glob, and a
# slice rule reaching a scope below it; where bpf(2) is refused (nspawn's
# own filter) apply exits 3 naming bpf and EPERM and leaves the service as
# it was. On a cgroup v2 only container and, where the host is hybrid, on a
# hybrid one too.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd socat python3

rule() { # FILE UNIT KEEPALIVE-LINES
        printf '[Match]\nUnit=%s\n[KeepAlive]\n%s\n' "$2" "$3" | inside_write "/etc/keepalived.d/$1"
}

# apply UNIT: starts tcpkeepalive-apply@ for UNIT, the instance escaped by
# systemd-escape; prints the helper's line from the journal.
apply() {
        _inst=$(inside systemd-escape -- "$1")
        _since=$(inside date '+%Y-%m-%d %H:%M:%S')
        # systemd 252 in a hybrid container now and then cannot move a
        # new process into the cgroup of an instance that just ended
        # (219/CGROUP: our program never ran; see switch-restarts.sh): tried
        # again, at most twice, and said.
        _try=0
        until inside systemctl start "tcpkeepalive-apply@$_inst.service" 2>/dev/null; do
                _try=$((_try + 1))
                [ "$(inside systemctl show -P ExecMainStatus "tcpkeepalive-apply@$_inst.service")" = 219 ] && [ $_try -le 2 ] ||
                        container_fail "tcpkeepalive-apply@$_inst.service failed:
$(inside systemctl status --no-pager "tcpkeepalive-apply@$_inst.service" 2>&1)"
                echo "note: systemd could not start tcpkeepalive-apply@$_inst.service (219/CGROUP); again" >&2
                inside systemctl reset-failed "tcpkeepalive-apply@$_inst.service"
        done
        inside journalctl --no-pager -o cat --since "$_since" -u "tcpkeepalive-apply@$_inst.service" |
                grep -F -e "$1: applied live: " -e "$1: no rule covers it" | tail -n 1
}

# owners PORT: "PID FD" of each server end of the established connections on PORT.
owners() {
        nsenter -t "$CONTAINER_LEADER" -n ss -Htnp state established "sport = :$1" |
                sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1 \2/p'
}

# expect_all PORT N "peek ..." WHAT: N server ends on PORT, each with those values.
expect_all() {
        _n=0
        for _o in $(owners "$1" | tr ' ' ':'); do
                # shellcheck disable=SC2046
                _got=$("$TKA_BUILDDIR/tests/programs/sockpeek" $(echo "$_o" | tr ':' ' ') 2>&1) || true
                case $_got in "$3"*) ;; *) container_fail "$4: $_o has '$_got', want '$3'" ;; esac
                _n=$((_n + 1))
        done
        expect_eq "$_n" "$2" "$4: server ends on port $1"
}

# clients PORT N NAME: a client service holding N connections to PORT open;
# "ping" written to /run/NAME.fifo sends a line on each and writes how many
# came back to /run/NAME.result.
clients() {
        _want=$(($(owners "$1" | wc -l) + $2))
        inside rm -f "/run/$3.fifo" "/run/$3.result" "/run/$3.ready"
        inside mkfifo "/run/$3.fifo"
        inside systemd-run --quiet --unit="$3.service" python3 /etc/clients.py "$1" "$2" "$3"
        container_wait 10 "$3 holds $2 connections to port $1" inside test -e "/run/$3.ready"
        # Accepted by the server (ss -p names its process), not only established.
        container_wait 10 "$_want server ends on port $1 owned by a process" \
                sh -c "[ \$(nsenter -t $CONTAINER_LEADER -n ss -Htnp state established 'sport = :$1' | grep -c pid=) -ge $_want ]"
}
ping_clients() { # NAME N WHAT
        inside rm -f "/run/$1.result"
        inside sh -c "echo ping > /run/$1.fifo"
        container_wait 10 "$1 answered" inside test -s "/run/$1.result"
        expect_eq "$(inside cat "/run/$1.result")" "$2" "$3: connections that echoed"
}

live_units() { # MODE: boots the container; the units and programs of the steps below
        mode=$1
        CONTAINER_CGROUP=$mode container_boot "tka-live-$mode"
        # The daemon would reload systemd when the rules below change; this
        # test is about the helper alone.
        inside systemctl stop tcpkeepalived.service
        cat <<'PY' | inside_write /etc/clients.py
import socket, sys
port, n, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
open("/run/%s.ready" % name, "w").close()
while True:
    with open("/run/%s.fifo" % name) as f:
        for line in f:
            ok = 0
            for c in conns:
                c.settimeout(5)
                c.sendall(b"ping\n")
                got = b""
                while not got.endswith(b"\n"):
                    chunk = c.recv(64)
                    if not chunk:
                        break
                    got += chunk
                ok += got == b"ping\n"
            with open("/run/%s.result.tmp" % name, "w") as r:
                r.write("%d\n" % ok)
            import os; os.rename("/run/%s.result.tmp" % name, "/run/%s.result" % name)
PY
        cat <<'PY' | inside_write /etc/own.py
import socket, sys, time
# Sets keepalive with its own idle time (33 s) on the first connection it
# accepts, nothing on the others; holds them all.
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
held = []
while True:
    a, _ = s.accept()
    if not held:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 33)
    held.append(a)
PY
        printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:%%i,bind=127.0.0.1,fork,reuseaddr PIPE\n' |
                inside_write /etc/systemd/system/live@.service
        printf '[Service]\nExecStart=/usr/bin/python3 /etc/own.py 7702\n' | inside_write /etc/systemd/system/own.service
        inside systemctl daemon-reload
        inside systemctl start live@7701.service own.service
        wait_listening 7701
        wait_listening 7702
        pid=$(inside systemctl show -P MainPID live@7701.service)
}

live_running() {
        # Three connections, no keepalive yet.
        clients 7701 3 three
        expect_all 7701 3 "peek keepalive=0 " "$mode: before the rule"
        rule 50-live.ini "live@7701.service" "IdleSec=77
IntervalSec=11
Count=4"
        t0=$(now_ms)
        line=$(apply live@7701.service)
        took=$(($(now_ms) - t0))
        expect_match "$line" "^live@7701.service: applied live: 3 connection\\(s\\) given the rule's values, 0 left with the program's own \\(cgroup [0-9]+\\)$" \
                "$mode: the helper's line"
        expect_all 7701 3 "peek keepalive=1 idle=77 interval=11 count=4 " "$mode: the three connections after apply"
        expect_idle "$(inside ss -Htnoe state established 'sport = :7701' | head -n1)" 77 "$mode: ss shows the timer"
        expect_eq "$(inside systemctl show -P MainPID live@7701.service)" "$pid" "$mode: same MainPID"
        ping_clients three 3 "$mode: after apply"
        record=$(inside cat /run/tcpkeepalive/bpf/live@7701.service)
        expect_match "$record" "^method=bpf-live$" "$mode: record method"
        expect_match "$record" "^live=3$" "$mode: record live="
        expect_match "$record" "^own=0$" "$mode: record own="
        expect_match "$record" "^applied_usec=[0-9]{16}$" "$mode: record applied_usec="
        pass "$mode: three running connections got 77/11/4 with no restart (pid $pid), still echo; systemctl start of the apply unit took $took ms"
}

live_not_loaded() {
        # Nothing runs that a rule could reach: exit 1, said.
        set +e
        out=$(inside tcpkeepalive-bpf apply --unit=stopped.service 2>&1)
        rc=$?
        set -e
        expect_eq "$rc" 1 "$mode: apply to a unit that is not loaded"
        expect_match "$out" "stopped.service: not loaded" "$mode: apply to a unit that is not loaded says so"
}

live_later() {
        # A connection after the apply: sock_ops.
        clients 7701 1 later
        expect_all 7701 4 "peek keepalive=1 idle=77 interval=11 count=4 " "$mode: a connection opened after apply"
        pass "$mode: a new connection gets 77/11/4 too"
}

live_own() {
        # Mode=default leaves the program's own choice; force overrides it.
        clients 7702 2 owners
        rule 50-own.ini own.service "IdleSec=77
Mode=default"
        line=$(apply own.service)
        expect_match "$line" "1 connection\\(s\\) given the rule's values, 1 left with the program's own" "$mode: Mode=default"
        peeks=$(for o in $(owners 7702 | tr ' ' ':'); do "$TKA_BUILDDIR/tests/programs/sockpeek" $(echo "$o" | tr ':' ' '); done)
        expect_match "$peeks" "peek keepalive=1 idle=33 " "$mode: Mode=default: the program's own 33 s stays"
        expect_match "$peeks" "peek keepalive=1 idle=77 " "$mode: Mode=default: the other gets 77 s"
        rule 50-own.ini own.service "IdleSec=77
Mode=force"
        line=$(apply own.service)
        expect_match "$line" "2 connection\\(s\\) given the rule's values, 0 left" "$mode: Mode=force"
        expect_all 7702 2 "peek keepalive=1 idle=77 " "$mode: Mode=force overrides the program's own"
        pass "$mode: Mode=default leaves the program's keepalive (own counted), Mode=force overrides it"
}

live_removed() {
        # The rule goes: new connections get nothing, the old ones keep theirs.
        inside rm /etc/keepalived.d/50-live.ini
        line=$(apply live@7701.service)
        expect_match "$line" "no rule covers it" "$mode: apply without a rule"
        inside test ! -e /run/tcpkeepalive/bpf/live@7701.service || fail "$mode: the record is left"
        clients 7701 1 after
        peeks=$(for o in $(owners 7701 | tr ' ' ':'); do "$TKA_BUILDDIR/tests/programs/sockpeek" $(echo "$o" | tr ':' ' '); done)
        expect_eq "$(printf '%s\n' "$peeks" | grep -c 'keepalive=1 idle=77 interval=11 count=4 ')" 4 \
                "$mode: the four connections of before keep 77/11/4"
        expect_eq "$(printf '%s\n' "$peeks" | grep -c 'keepalive=0 ')" 1 "$mode: the new connection has no keepalive"
        ping_clients three 3 "$mode: after the rule went"
        expect_eq "$(inside systemctl show -P MainPID live@7701.service)" "$pid" "$mode: same MainPID at the end"
        pass "$mode: rule removed: new connections get none, the old ones keep theirs"
}

live_docker_scope() {
        # A container manager's scope, matched by a glob.
        hex=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        rule 50-docker.ini 'docker-*.scope' "IdleSec=78
IntervalSec=12
Count=5"
        inside sh -c "systemd-run --quiet --scope --unit=docker-$hex.scope socat TCP-LISTEN:7703,bind=127.0.0.1,fork,reuseaddr PIPE </dev/null >/dev/null 2>&1 &"
        wait_listening 7703
        clients 7703 1 docker
        line=$(apply "docker-$hex.scope")
        expect_match "$line" "applied live: 1 connection\\(s\\) given" "$mode: docker-<id>.scope"
        expect_all 7703 1 "peek keepalive=1 idle=78 interval=12 count=5 " "$mode: the scope's connection"
        clients 7703 1 docker2
        expect_all 7703 2 "peek keepalive=1 idle=78 interval=12 count=5 " "$mode: the scope's new connection"
        pass "$mode: docker-<64 hex>.scope matched by docker-*.scope gets 78/12/5 live"
}

live_slice() {
        # A slice rule reaches a scope below the slice.
        rule 50-slice.ini tkatest.slice "IdleSec=79"
        inside sh -c "systemd-run --quiet --scope --slice=tkatest.slice --unit=inner.scope socat TCP-LISTEN:7704,bind=127.0.0.1,fork,reuseaddr PIPE </dev/null >/dev/null 2>&1 &"
        wait_listening 7704
        clients 7704 1 inner
        line=$(apply tkatest.slice)
        expect_match "$line" "^tkatest.slice: applied live: 1 connection\\(s\\) given" "$mode: tkatest.slice"
        expect_all 7704 1 "peek keepalive=1 idle=79 " "$mode: the connection of a scope in the slice"
        pass "$mode: a slice rule reaches a scope below it"
}

live_direction() {
        # Direction=: inbound is a connection on a port the unit listens on.
        cat <<'PY' | inside_write /etc/dir.py
import socket
# Listens on 7706 and holds what it accepts; holds one connection out to 7701.
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7706)); s.listen(8)
out = socket.create_connection(("127.0.0.1", 7701))
open("/run/dir.ready", "w").close()
held = []
while True:
    held.append(s.accept()[0])
PY
        printf '[Service]\nExecStart=/usr/bin/python3 /etc/dir.py\n' | inside_write /etc/systemd/system/dir.service
        inside systemctl daemon-reload
        inside systemctl start dir.service
        container_wait 10 "dir.service connected out" inside test -e /run/dir.ready
        clients 7706 1 dirin
        # dir.service's end of its connection out (ss and sockpeek run here,
        # with this side's PIDs: the process is told by its cgroup).
        outbound() {
                nsenter -t "$CONTAINER_LEADER" -n ss -Htnp state established "dport = :7701" |
                        sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1 \2/p' | while read -r _p _f; do
                        if grep -q '/dir\.service$' "/proc/$_p/cgroup" 2>/dev/null; then echo "$_p $_f"; fi
                done
        }
        rule 50-dir.ini dir.service "IdleSec=81
Direction=inbound"
        line=$(apply dir.service)
        expect_match "$line" "1 connection\\(s\\) given the rule's values" "$mode: Direction=inbound"
        expect_all 7706 1 "peek keepalive=1 idle=81 " "$mode: Direction=inbound: the accepted connection"
        # shellcheck disable=SC2046
        expect_match "$("$TKA_BUILDDIR/tests/programs/sockpeek" $(outbound))" "^peek keepalive=0 " \
                "$mode: Direction=inbound: the connection out is left"
        rule 50-dir.ini dir.service "IdleSec=82
Direction=outbound"
        line=$(apply dir.service)
        expect_match "$line" "1 connection\\(s\\) given the rule's values" "$mode: Direction=outbound"
        # shellcheck disable=SC2046
        expect_match "$("$TKA_BUILDDIR/tests/programs/sockpeek" $(outbound))" "^peek keepalive=1 idle=82 " \
                "$mode: Direction=outbound: the connection out"
        expect_all 7706 1 "peek keepalive=1 idle=81 " "$mode: Direction=outbound: the accepted one keeps 81"
        pass "$mode: Direction=inbound and outbound tell accepted from connected connections"
}

live_private_network() {
        # A unit with a network namespace of its own (PrivateNetwork=): the
        # pass runs there too.
        cat <<'PY' | inside_write /etc/priv.py
import socket
s = socket.socket(); s.bind(("127.0.0.1", 7707)); s.listen(8)
c = socket.create_connection(("127.0.0.1", 7707)); a, _ = s.accept()
open("/run/priv.ready", "w").close()
s.accept()
PY
        printf '[Service]\nPrivateNetwork=yes\nExecStart=/usr/bin/python3 /etc/priv.py\n' |
                inside_write /etc/systemd/system/priv.service
        inside systemctl daemon-reload
        inside systemctl start priv.service
        container_wait 10 "priv.service connected to itself" inside test -e /run/priv.ready
        # Its PID on this side, for nsenter and sockpeek.
        privpid=$(grep -l '/priv\.service$' /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | head -n1)
        [ -n "$privpid" ] || container_fail "$mode: no process of priv.service found from outside"
        rule 50-priv.ini priv.service "IdleSec=83"
        line=$(apply priv.service)
        expect_match "$line" "2 connection\\(s\\) given the rule's values" "$mode: PrivateNetwork=yes"
        n=0
        for o in $(nsenter -t "$privpid" -n ss -Htnp state established | sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1:\2/p'); do
                # shellcheck disable=SC2046
                expect_match "$("$TKA_BUILDDIR/tests/programs/sockpeek" $(echo "$o" | tr ':' ' '))" "^peek keepalive=1 idle=83 " \
                        "$mode: PrivateNetwork=yes: $o"
                n=$((n + 1))
        done
        expect_eq "$n" 2 "$mode: PrivateNetwork=yes: both ends"
        pass "$mode: a unit in a network namespace of its own gets the values there"
}

scenario() { # MODE
        live_units "$1"
        live_running
        live_not_loaded
        live_later
        live_own
        live_removed
        live_docker_scope
        live_slice
        live_direction
        live_private_network
        container_stop
}

# Where bpf(2) is refused: exit 3, the reason names the call and EPERM, the
# service untouched.
refused() {
        CONTAINER_SANDBOX=default container_boot tka-live-refused
        inside systemctl stop tcpkeepalived.service
        printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7711,bind=127.0.0.1,fork,reuseaddr PIPE\n' |
                inside_write /etc/systemd/system/plain.service
        inside systemctl daemon-reload
        inside systemctl start plain.service
        wait_listening 7711
        pid=$(inside systemctl show -P MainPID plain.service)
        line=$(connection_timer 7711)
        rule 50-plain.ini plain.service "IdleSec=77"
        if inside systemctl start tcpkeepalive-apply@plain.service.service; then
                fail "refused: apply succeeded where bpf(2) is refused"
        fi
        expect_eq "$(inside systemctl show -P ExecMainStatus tcpkeepalive-apply@plain.service.service)" 3 "refused: exit status"
        journal=$(inside journalctl --no-pager -o cat -u tcpkeepalive-apply@plain.service.service)
        expect_match "$journal" "bpf\\(BPF_[A-Z_]+\\) refused: EPERM" "refused: the reason names bpf and EPERM"
        expect_eq "$(inside systemctl show -P MainPID plain.service)" "$pid" "refused: same MainPID"
        case $(inside ss -Htnoe state established 'sport = :7711') in
        *"timer:(keepalive"*) fail "refused: the connection got keepalive anyway" ;;
        esac
        inside test ! -e /run/tcpkeepalive/bpf/plain.service || fail "refused: a record was written"
        pass "refused: exit 3, $(printf '%s\n' "$journal" | grep -o 'bpf([A-Z_]*) refused: EPERM' | head -n1), the service untouched"
        container_stop
}

container_layouts scenario
refused
