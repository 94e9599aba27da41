#!/bin/sh
# What keepalive caught, per unit (issue 16), in a real systemd with
# tcpkeepalived: python3 servers under rules with IdleSec=2 IntervalSec=1
# Count=2, each holding a connection from a socat client outside the unit;
# then the peer vanishes: nftables in the container's network namespace
# drops every packet the server sends on that connection (the client never
# hears of it, as with a peer that lost power). Asserted through
# tcpkeepalived's GetUnitCloses (the counters tcpkeepalive-bpf iter-pin
# pinned, summed over the unit's cgroup), `tcpkeepalivectl show`, `status`
# and `metrics`:
#   ka-preload.service (Method=preload)  keepalive 0 -> 1 within
#                                        idle + interval x count + 2 s
#   ka-bpf.service (Method=bpf)          the same through sock_ops
#   ka-uto.service (UserTimeoutSec=2, IdleSec=600): data in flight to the
#                                        vanished peer: user_timeout 0 -> 1,
#                                        keepalive stays 0
#   ka-healthy.service (Method=preload)  an idle connection whose probes are
#                                        answered through it all: nothing counted
# In nspawn's default sandbox (bpf(2) refused) the counts are unavailable,
# and show, status and metrics say so: never a 0.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd python3 socat nft

BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
IDLE=2
INTERVAL=1
COUNT=2
# The kernel closes the connection IDLE + INTERVAL x COUNT s after the peer
# vanished; each look (nsenter, busctl) takes up to seconds when make
# distcheck runs beside the other suites (a 2 s margin ran out there once).
LIMIT=$((IDLE + INTERVAL * COUNT + 8))

# closes UNIT: GetUnitCloses as "unavailable=... keepalive=N user_timeout=N retransmit=N covered=N".
closes() {
        inside busctl --json=short call $BUS GetUnitCloses s "$1" | python3 -c 'import json, sys
d = json.load(sys.stdin)["data"][0]
print("unavailable=%s keepalive=%d user_timeout=%d retransmit=%d covered=%d" % (d[1] or "-", d[3], d[4], d[5], d[6]))'
}
# count_is UNIT REASON N: GetUnitCloses has N under REASON. Plain busctl
# output (unit, reason, since, keepalive, user_timeout, ...), no python: a
# check costs little, so the time it reports is the kernel's, not ours.
count_is() {
        _field=$(case $2 in keepalive) echo 5 ;; user_timeout) echo 6 ;; esac)
        [ "$(inside busctl call $BUS GetUnitCloses s "$1" | awk -v f="$_field" '{print $f}')" = "$3" ]
}
# closes_become UNIT EXPECTED WHAT: GetUnitCloses reaches EXPECTED within
# 5 s (covered is counted when the program closes the dead socket, just
# after the kernel reported its death); else fails showing the last answer.
closes_equal() {
        [ "$(closes "$1")" = "$2" ]
}
closes_become() {
        _deadline=$(($(date +%s) + 5))
        while ! closes_equal "$1" "$2" && [ "$(date +%s)" -lt $_deadline ]; do
                sleep 0.1
        done
        expect_eq "$(closes "$1")" "$2" "$3"
}

setup_units() {
        cat <<'PY' | inside_write /etc/server.py
import socket, sys, threading
# Each connection: blocks in recv(); on "go", sends 64 KiB (data in flight).
def serve(c):
    try:
        while True:
            d = c.recv(4096)
            if not d:
                return
            if d.startswith(b"go"):
                c.sendall(b"x" * 65536)
    except OSError:
        pass
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
PY
        rule() {
                printf '[Match]\nUnit=%s\n[KeepAlive]\n%s\n' "$2" "$3" | inside_write "/etc/keepalived.d/$1"
        }
        rule 10-preload.ini "ka-preload.service ka-healthy.service" \
                "IdleSec=$IDLE
IntervalSec=$INTERVAL
Count=$COUNT
Method=preload"
        rule 20-bpf.ini ka-bpf.service "IdleSec=$IDLE
IntervalSec=$INTERVAL
Count=$COUNT
Method=bpf"
        rule 30-uto.ini ka-uto.service "IdleSec=600
UserTimeoutSec=2
Method=preload"
        for u in preload:7701 bpf:7702 uto:7703 healthy:7704; do
                printf '[Service]\nExecStart=/usr/bin/python3 /etc/server.py %s\n' "${u#*:}" |
                        inside_write "/etc/systemd/system/ka-${u%:*}.service"
        done
        inside systemctl daemon-reload
}

# start_units NAME:PORT...: ka-NAME.service started, listening on PORT.
start_units() {
        for u in "$@"; do
                inside systemctl start "ka-${u%:*}.service"
                wait_listening "${u#*:}"
        done
}

# connect PORT: a socat client (outside the units) holding a connection to
# PORT; its input is a FIFO, /run/client-PORT, kept open.
connect() {
        inside rm -f "/run/client-$1"
        inside mkfifo "/run/client-$1"
        inside systemd-run --quiet --unit="client-$1.service" sh -c \
                "exec socat -u OPEN:/run/client-$1,rdonly TCP:127.0.0.1:$1 3<>/run/client-$1"
        container_wait 10 "a connection to port $1" sh -c \
                "nsenter -t $CONTAINER_LEADER -a ss -Htn state established 'sport = :$1' | grep -q ."
}

# vanish PORT: from now on, nothing the server on PORT sends arrives (the
# input hook: the segments leave the server's stack as they would towards
# a dead peer; a drop in the output hook would give the sender EPERM).
vanish() {
        inside nft add rule inet tka in tcp sport "$1" drop
}

# ---- a host that allows BPF --------------------------------------------------------
container_boot tka-closes
inside nft add table inet tka
inside nft add chain inet tka in '{ type filter hook input priority 0; policy accept; }'
setup_units
start_units preload:7701 bpf:7702 uto:7703 healthy:7704
inside systemctl start tcpkeepalived.service
for u in ka-preload ka-bpf ka-uto ka-healthy; do
        container_wait 15 "$u.service active" sh -c \
                "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s $u.service | grep -q '\"active\"'"
        expect_eq "$(closes $u.service)" "unavailable=- keepalive=0 user_timeout=0 retransmit=0 covered=0" \
                "$u.service before any connection died"
done
pass "4 units active under their rules; GetUnitCloses counts nothing yet"

connect 7704 # healthy: its probes are answered through the test
for p in 7701 7702; do
        connect $p
        vanish $p
        t0=$(now_ms)
        u=$([ $p = 7701 ] && echo ka-preload || echo ka-bpf)
        container_wait $LIMIT "$u.service's keepalive count 0 -> 1 (idle $IDLE + interval $INTERVAL x count $COUNT + 2 s)" \
                count_is $u.service keepalive 1
        took=$(($(now_ms) - t0))
        # The last check may have begun before the deadline and ended after.
        [ "$took" -le $((LIMIT * 1000)) ] || container_fail "$u.service: keepalive counted after $took ms, limit $LIMIT s"
        closes_become $u.service "unavailable=- keepalive=1 user_timeout=0 retransmit=0 covered=1" \
                "$u.service after its peer vanished"
        pass "$u.service: its peer vanished: keepalive 0 -> 1 in $took ms (limit $LIMIT s)"
done

connect 7703
vanish 7703
inside sh -c 'echo go >/run/client-7703' # the server answers with 64 KiB that never arrive
container_wait 10 "ka-uto.service's user_timeout count 0 -> 1 (TCP_USER_TIMEOUT 2 s, data in flight)" \
        count_is ka-uto.service user_timeout 1
closes_become ka-uto.service "unavailable=- keepalive=0 user_timeout=1 retransmit=0 covered=1" \
        "ka-uto.service after its data went unacknowledged"
pass "ka-uto.service: data in flight to a vanished peer: counted under user_timeout, not keepalive"

# The healthy connection has been idle through several rounds of probes by now.
inside ss -Htnoe state established 'sport = :7704' | grep -q 'timer:(keepalive' ||
        container_fail "ka-healthy.service's connection has no keepalive timer: the healthy case shows nothing"
expect_eq "$(closes ka-healthy.service)" "unavailable=- keepalive=0 user_timeout=0 retransmit=0 covered=0" \
        "ka-healthy.service, its connection idle and answered"
pass "ka-healthy.service: an idle connection whose probes are answered counts nothing"

show=$(inside tcpkeepalivectl show ka-preload.service)
expect_match "$show" "keepalive detected 1 dead peer since [0-9]{2}:[0-9]{2}; closed by TCP_USER_TIMEOUT: 0, by retransmission timeout: 0; 1 connection closed with keepalive on" \
        "tcpkeepalivectl show ka-preload.service"
inside tcpkeepalivectl --json show ka-preload.service >"$TMP/show.json"
expect_eq "$(python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["closes"]; print(c["keepalive"], c["user_timeout"], c["retransmit"], c["covered"])' "$TMP/show.json")" \
        "1 0 0 1" "tcpkeepalivectl --json show: closes"
status=$(inside tcpkeepalivectl status) || true
expect_match "$status" "ka-bpf.service: keepalive detected 1 dead peer since" "tcpkeepalivectl status: ka-bpf.service"
expect_match "$status" "ka-uto.service: keepalive detected 0 dead peers since .*closed by TCP_USER_TIMEOUT: 1" \
        "tcpkeepalivectl status: ka-uto.service"
metrics=$(inside tcpkeepalivectl metrics)
for want in 'tcpkeepalive_unit_dead_connections_total\{name="ka-preload.service",reason="keepalive"\} 1' \
        'tcpkeepalive_unit_dead_connections_total\{name="ka-bpf.service",reason="keepalive"\} 1' \
        'tcpkeepalive_unit_dead_connections_total\{name="ka-uto.service",reason="user_timeout"\} 1' \
        'tcpkeepalive_unit_dead_connections_total\{name="ka-uto.service",reason="keepalive"\} 0' \
        'tcpkeepalive_unit_dead_connections_total\{name="ka-healthy.service",reason="keepalive"\} 0' \
        'tcpkeepalive_unit_keepalive_connections_total\{name="ka-preload.service"\} 1' \
        '# TYPE tcpkeepalive_unit_dead_connections_total counter'; do
        expect_match "$metrics" "^$want\$" "tcpkeepalivectl metrics"
done
pass "show, status, --json and metrics report the counts"

# The daemon cannot change the counters: it has no bpf(2), and the pins
# are root's, read-only, under a /sys its sandbox makes read-only.
expect_eq "$(inside stat -c '%a %U' /sys/fs/bpf/tcpkeepalive/closes)" "400 root" "the iterator's pin"
pid=$(inside systemctl show -P MainPID tcpkeepalived.service)
if inside nsenter -t "$pid" -m rm -f /sys/fs/bpf/tcpkeepalive/closes-errors 2>/dev/null ||
        ! inside test -e /sys/fs/bpf/tcpkeepalive/closes-errors; then
        fail "from tcpkeepalived's mount namespace the counting link's pin could be removed"
fi
pass "the daemon's view of the pins is read-only"
container_stop

# ---- a host that refuses BPF (nspawn's default sandbox) ------------------------------
CONTAINER_SANDBOX=default container_boot tka-closes-sandbox
setup_units
start_units preload:7701
inside systemctl start tcpkeepalived.service
container_wait 15 "GetUnitCloses answering" sh -c \
        "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnitCloses s ka-preload.service >/dev/null"
expect_match "$(closes ka-preload.service)" "^unavailable=not counted: .* is not pinned .* keepalive=0" \
        "GetUnitCloses where BPF is refused"
show=$(inside tcpkeepalivectl show ka-preload.service)
expect_match "$show" "dead peers: not counted: /sys/fs/bpf/tcpkeepalive/closes is not pinned" "show where BPF is refused"
expect_no_match "$show" "keepalive detected" "show where BPF is refused: no count"
expect_match "$(inside tcpkeepalivectl status || true)" "ka-preload.service: dead peers: not counted" \
        "status where BPF is refused"
expect_no_match "$(inside tcpkeepalivectl metrics)" "^tcpkeepalive_unit_dead_connections_total\\{" \
        "metrics where BPF is refused: no samples (absent, not 0)"
pass "where BPF is refused the counts are unavailable, never 0: $(printf '%s\n' "$show" | grep 'dead peers')"
