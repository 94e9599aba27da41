#!/bin/sh
# The BPF backend on a real systemd: a static busybox under Method=auto and
# a dynamic socat under Method=bpf get keepalive from the kernel with their
# own parameters at the same time (ss and getsockopt on their sockets);
# connections arriving while systemd reloads all get keepalive;
# Mode=force against a program that turns keepalive off after accept; a
# dynamic program under Method=auto keeps the preload; the status says
# which method and why; a stopped unit leaves no map entry behind. Run once
# on a cgroup v2 only container and, where the host is hybrid, once on a
# hybrid one.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd busybox bpftool

unit() { # NAME EXEC
        printf '[Service]\nExecStart=%s\n' "$2" | inside_write "/etc/systemd/system/$1"
}
rule() { # FILE UNIT KEEPALIVE-LINES
        printf '[Match]\nUnit=%s\n[KeepAlive]\n%s\n' "$2" "$3" | inside_write "/etc/keepalived.d/$1"
}
# state_of UNIT: "STATE METHOD" from the daemon
state_of() {
        inside busctl call org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager GetUnit s "$1" |
                sed -n 's/^(ssssuuuuuus) "[^"]*" "\([^"]*\)" .* "\([^"]*\)"$/\1 \2/p'
}
# cgroup_id UNIT: the inode of the unit's cgroup directory
cgroup_id() {
        inside stat -c %i "$(inside sh -c "d=/sys/fs/cgroup; [ -d /sys/fs/cgroup/unified ] && d=/sys/fs/cgroup/unified; echo \$d\$(systemctl show -P ControlGroup $1)")"
}

# bpf_state: what the kernel holds, for failure messages
bpf_state() {
        inside tcpkeepalive-bpf list 2>&1
        for u in static dynbpf; do
                echo "$u: $(inside sh -c "bpftool cgroup show /sys/fs/cgroup\$(systemctl show -P ControlGroup $u.service) 2>&1 | tr '\n' ' '")"
        done
}

scenario() { # MODE
        mode=$1
        CONTAINER_CGROUP=$mode container_boot "tka-bpf-$mode"
        # The daemon (started at boot by the presets) would reload systemd
        # a moment after the rules below appear, and a reload empties the
        # generator directory while it runs: the drop-ins are read before
        # it starts.
        inside systemctl stop tcpkeepalived.service
        cat <<'PY' | inside_write /etc/fight.py
import socket, sys, time
# Accepts one connection, then tries to turn keepalive off and change the
# idle time, and reports what the kernel kept.
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
a, _ = s.accept()
a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)
a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 999)
print("after-fight keepalive=%d idle=%d" % (a.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
      a.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)), flush=True)
time.sleep(3600)
PY
        unit static.service "/bin/busybox nc -ll -p 7601 -e /bin/busybox cat"
        unit dynbpf.service "/usr/bin/socat TCP-LISTEN:7602,bind=127.0.0.1,fork,reuseaddr SYSTEM:'exec /bin/busybox cat'"
        unit dynauto.service "/usr/bin/socat TCP-LISTEN:7603,bind=127.0.0.1,fork,reuseaddr SYSTEM:'exec /bin/busybox cat'"
        unit forced.service "/usr/bin/python3 /etc/fight.py 7604"
        unit unforced.service "/usr/bin/python3 /etc/fight.py 7605"
        rule 50-static.ini static.service "IdleSec=61
IntervalSec=7
Count=3
Method=auto"
        rule 50-dynbpf.ini dynbpf.service "IdleSec=62
IntervalSec=8
Count=2
Method=bpf"
        rule 50-dynauto.ini dynauto.service "IdleSec=63
Method=auto"
        rule 50-forced.ini forced.service "IdleSec=64
Mode=force
Method=bpf"
        rule 50-unforced.ini unforced.service "IdleSec=65
Method=bpf"
        inside systemctl daemon-reload
        dropin=$(inside cat /run/systemd/generator/dynbpf.service.d/50-tcpkeepalive.conf) ||
                container_fail "$mode: no drop-in for dynbpf.service after daemon-reload; generator dir:
$(inside ls -lR /run/systemd/generator 2>&1 | head -n 40)
rules: $(inside ls -l /etc/keepalived.d 2>&1)"
        # Never BPFProgram=: systemd detaches those programs while it reloads.
        case $dropin in *BPFProgram=*) fail "$mode: BPFProgram= in the drop-in: $dropin" ;; esac
        case $dropin in *LD_PRELOAD*) fail "$mode: Method=bpf must not preload: $dropin" ;; esac
        expect_match "$dropin" "^ExecStartPre=-\\+.*/tcpkeepalive-bpf-launch attach --unit=%n --idle=62 --interval=8 --count=2$" \
                "$mode: the helper attaches, through the launcher, the rule as its arguments"
        inside systemctl start static.service dynbpf.service dynauto.service forced.service unforced.service
        for port in 7601 7602 7603 7604 7605; do wait_listening $port; done
        container_start_daemon

        # Two services, their own parameters, at the same time.
        expect_idle "$(connection_timer 7601)" 61 "$mode: static busybox under Method=auto"
        expect_sockopts 7601 61 7 3 "$mode: static busybox under Method=auto"
        line=$(connection_timer 7602)
        case $line in *"timer:(keepalive"*) ;; *) container_fail "$mode: no keepalive on dynbpf: $line
$(bpf_state)" ;; esac
        expect_idle "$line" 62 "$mode: dynamic socat under Method=bpf"
        expect_sockopts 7602 62 8 2 "$mode: dynamic socat under Method=bpf"
        socat_pid=$(inside systemctl show -P MainPID dynbpf.service)
        if inside grep -q libtcpkeepalive "/proc/$socat_pid/maps"; then
                fail "$mode: Method=bpf: socat has the library mapped"
        fi
        expect_match "$(inside journalctl -u dynbpf.service)" "dynbpf.service: BPF \\(Method=bpf\\).*attached here" \
                "$mode: tcpkeepalive-bpf attached the programs"
        pass "$mode: static (auto) and dynamic (bpf) services, each with its own values, from the kernel"

        # The method, and why, in the status.
        expect_eq "$(state_of static.service)" "active bpf" "$mode: static.service"
        expect_match "$(inside tcpkeepalivectl show static)" "BPF \\(/bin/busybox is statically linked\\)" "$mode: why BPF"
        expect_eq "$(state_of dynbpf.service)" "active bpf" "$mode: dynbpf.service"
        expect_eq "$(state_of dynauto.service)" "active preload" "$mode: a dynamic program under Method=auto keeps the preload"
        expect_idle "$(connection_timer 7603)" 63 "$mode: dynamic socat under Method=auto (preload)"
        expect_match "$(inside tcpkeepalivectl list)" "^active +static.service +[0-9]+/[0-9]+ +bpf " "$mode: list shows the method"
        pass "$mode: status says bpf or preload, and why"

        # Force mode against a program that turns keepalive off after accept.
        inside sh -c "(sleep 20 | socat - TCP:127.0.0.1:7604 >/dev/null 2>&1 &)"
        inside sh -c "(sleep 20 | socat - TCP:127.0.0.1:7605 >/dev/null 2>&1 &)"
        wait_until 10 "forced.service reports" sh -c "nsenter -t $CONTAINER_LEADER -a journalctl -u forced.service | grep -q after-fight"
        wait_until 10 "unforced.service reports" sh -c "nsenter -t $CONTAINER_LEADER -a journalctl -u unforced.service | grep -q after-fight"
        expect_match "$(inside journalctl -u forced.service)" "after-fight keepalive=1 idle=64" "$mode: Mode=force keeps keepalive on"
        expect_match "$(inside journalctl -u unforced.service)" "after-fight keepalive=0 idle=999" "$mode: Mode=default lets the program decide"
        pass "$mode: force mode holds against the program, default mode does not"

        # systemd reloads while connections arrive: every one gets keepalive
        # (with BPFProgram= about a quarter did not: systemd detaches the
        # programs it attached while it reloads).
        cat <<'PY' | inside_write /etc/count.py
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7606)); s.listen(512)
while True:
    a, _ = s.accept()
    print("ka=%d" % a.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), flush=True)
    a.close()
PY
        unit counted.service "/usr/bin/python3 /etc/count.py"
        rule 50-counted.ini counted.service "IdleSec=66
Method=bpf"
        inside systemctl daemon-reload
        inside systemctl start counted.service
        wait_listening 7606
        inside sh -c 'for i in $(seq 10); do systemctl daemon-reload; done' &
        reloads=$!
        made=$(inside python3 -c '
import socket, time
end, n = time.time() + 4, 0
while time.time() < end:
    socket.create_connection(("127.0.0.1", 7606)).close()
    n += 1
    time.sleep(0.002)
print(n)')
        wait "$reloads"
        container_wait 10 "counted.service logged all $made connections" \
                sh -c "[ \$(nsenter -t $CONTAINER_LEADER -a journalctl -u counted.service -o cat | grep -c '^ka=') -ge $made ]"
        total=$(inside journalctl -u counted.service -o cat | grep -c '^ka=' || true)
        without=$(inside journalctl -u counted.service -o cat | grep -c '^ka=0' || true)
        [ "$total" -ge 100 ] || fail "$mode: only $total connections during the reloads"
        expect_eq "$without" 0 "$mode: connections without keepalive among $total accepted during 10 daemon-reloads"
        pass "$mode: $total connections during 10 daemon-reloads, all with keepalive"

        # A stopped unit leaves nothing in the map.
        id=$(cgroup_id static.service)
        expect_match "$(inside tcpkeepalive-bpf list)" "^$id " "$mode: static.service's entry while it runs"
        inside systemctl stop static.service dynbpf.service
        list=$(inside tcpkeepalive-bpf list)
        case $list in *"$id "*) fail "$mode: static.service's entry is left after stop: $list" ;; esac
        expect_eq "$(inside bpftool map dump pinned /sys/fs/bpf/tcpkeepalive/params | grep -c '"key"')" 3 \
                "$mode: only forced, unforced and counted have entries (bpftool)"
        inside test ! -e /run/tcpkeepalive/bpf/static.service || fail "$mode: the record of static.service is left"
        pass "$mode: stopping units removes their entries"
        container_stop
}

container_layouts scenario
