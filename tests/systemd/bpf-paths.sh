#!/bin/sh
# Rules by network path through the BPF backend on a real systemd (issue
# 17): a Method=bpf rule and a path rule (Destination=) for one service;
# the generator's drop-in passes --path= through tcpkeepalive-bpf-launch to
# attach; the service's connection to the path's destination carries the
# path's values, its other connection the rule's own (getsockopt in the
# service); the path rule changed, tcpkeepalive-bpf apply (rules read from
# /etc/keepalived.d) gives the established connections their new values,
# matched by peer; Destination= alone with no rule of the unit's own
# (Method=bpf in defaults.conf): the other connection gets nothing.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd socat python3

unit() { # NAME EXEC
        printf '[Service]\nExecStart=%s\n' "$2" | inside_write "/etc/systemd/system/$1"
}

# values N: the app's report number N (1: at start, 2..: each after a
# "again" request), one line per destination
values() {
        container_wait 10 "app.service's report $1" inside test -e "/run/app.$1"
        inside cat "/run/app.$1"
}

scenario() { # MODE
        mode=$1
        CONTAINER_CGROUP=$mode container_boot "tka-bpf-paths-$mode"
        inside systemctl stop tcpkeepalived.service
        cat <<'PY' | inside_write /etc/app.py
import os, socket, time
# Connects to 127.0.0.2:7801 and 127.0.0.3:7801, reports what the kernel
# says of each connection in /run/app.1, and again in /run/app.N+1 each
# time /run/app.again.N appears.
TCP_KEEPIDLE = 4
conns = [(a, socket.create_connection((a, 7801))) for a in ("127.0.0.2", "127.0.0.3")]
n = 1
while True:
    with open("/run/app.tmp", "w") as f:
        for a, c in conns:
            f.write("%s keepalive=%d idle=%d\n" % (a, c.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                                                  c.getsockopt(socket.IPPROTO_TCP, TCP_KEEPIDLE)))
    os.rename("/run/app.tmp", "/run/app.%d" % n)
    while not os.path.exists("/run/app.again.%d" % n):
        time.sleep(0.05)
    n += 1
PY
        unit sink2.service "/usr/bin/socat TCP-LISTEN:7801,bind=127.0.0.2,fork,reuseaddr PIPE"
        unit sink3.service "/usr/bin/socat TCP-LISTEN:7801,bind=127.0.0.3,fork,reuseaddr PIPE"
        unit app.service "/usr/bin/python3 /etc/app.py"
        printf '[Match]\nUnit=app.service\n[KeepAlive]\nIdleSec=100\nMethod=bpf\n' |
                inside_write /etc/keepalived.d/50-app.ini
        printf '[Match]\nUnit=app.service\nDestination=127.0.0.2/32\n[KeepAlive]\nIdleSec=222\n' |
                inside_write /etc/keepalived.d/60-db.ini
        inside systemctl daemon-reload
        inside systemctl start sink2.service sink3.service
        container_wait 10 "both sinks listening" sh -c \
                "[ \$(nsenter -t $CONTAINER_LEADER -a ss -Htln 'sport = :7801' | wc -l) -eq 2 ]"
        dropin=$(inside systemctl cat app.service)
        expect_match "$dropin" "tcpkeepalive-bpf-launch attach --unit=%n .*--path=dst=127\\.0\\.0\\.2/32;idle=222" \
                "$mode: the drop-in passes the path rule"
        inside sh -c 'rm -f /run/app.*'
        inside systemctl start app.service
        out=$(values 1)
        expect_match "$out" "^127\\.0\\.0\\.2 keepalive=1 idle=222\$" "$mode: the path's destination"
        expect_match "$out" "^127\\.0\\.0\\.3 keepalive=1 idle=100\$" "$mode: the other destination"
        expect_match "$(inside tcpkeepalive-bpf list)" "path 1: dst=127\\.0\\.0\\.2/32 idle=222" "$mode: list shows the path rule"
        pass "$mode: attach through the launcher: the path's values on its destination, the rule's own on the other"

        # The path rule changes; apply gives the running service's
        # established connections their new values.
        printf '[Match]\nUnit=app.service\nDestination=127.0.0.2/32\n[KeepAlive]\nIdleSec=333\n' |
                inside_write /etc/keepalived.d/60-db.ini
        inside systemctl start tcpkeepalive-apply@app.service.service ||
                container_fail "$mode: apply: $(inside systemctl status --no-pager tcpkeepalive-apply@app.service.service 2>&1)"
        journal=$(inside journalctl --no-pager -o cat -u tcpkeepalive-apply@app.service.service)
        expect_match "$journal" "app\\.service: 1 path rule\\(s\\): 1 of those connection\\(s\\) given a path rule's values" \
                "$mode: apply says what the path rule reached"
        inside touch /run/app.again.1
        out=$(values 2)
        expect_match "$out" "^127\\.0\\.0\\.2 keepalive=1 idle=333\$" "$mode: apply: the path's new value"
        expect_match "$out" "^127\\.0\\.0\\.3 keepalive=1 idle=100\$" "$mode: apply: the other keeps the rule's own"
        pass "$mode: apply reads the path rules and reaches established connections by peer"
        inside systemctl stop app.service

        # Only the path rule reaches the unit (Method= for the unit as a
        # whole from defaults.conf): the other connection gets nothing.
        inside rm -f /etc/keepalived.d/50-app.ini
        printf '[KeepAlive]\nMethod=bpf\n' | inside_write /etc/keepalived.d/defaults.conf
        printf '[Match]\nUnit=app.service\nDestination=127.0.0.2/32\n[KeepAlive]\nIdleSec=444\n' |
                inside_write /etc/keepalived.d/60-db.ini
        inside systemctl daemon-reload
        expect_match "$(inside systemctl cat app.service)" "--unmatched=off" "$mode: the drop-in says unmatched off"
        inside sh -c 'rm -f /run/app.*'
        inside systemctl start app.service
        out=$(values 1)
        expect_match "$out" "^127\\.0\\.0\\.2 keepalive=1 idle=444\$" "$mode: path only: its destination"
        expect_match "$out" "^127\\.0\\.0\\.3 keepalive=0 " "$mode: path only: nothing on the other"
        pass "$mode: a unit reached by a path rule only: the other connections get nothing"
        inside systemctl stop app.service
        container_stop
}

container_layouts scenario
