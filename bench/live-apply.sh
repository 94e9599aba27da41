#!/bin/sh
# bench/live-apply.sh: a rule reaching a running service live (issue 15),
# in a container with a real systemd and tcpkeepalived. For N in $SIZES
# (100 and 10,000): a Python server (started with no rule) holds N
# established connections from a client in the same container; a rule file
# for it is written, and the time is taken until all N server ends carry a
# keepalive timer (ss, polled every 20 ms: the wall time an admin sees,
# the 0.1 s settle time and systemd's reload included). Baselines in the
# same run: `systemctl daemon-reload` alone (the part of a rule change that
# is systemd's) and one `ss -tnoe` of the N connections. RUNS runs per size;
# the rule is removed and the service restarted between runs. Run by
# `make bench-live` (root: it boots a container).
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
SIZES=${SIZES:-100 10000}
RUNS=${RUNS:-3}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

container_boot tka-bench-live
cat <<'PY' | inside_write /etc/bench-server.py
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7701)); s.listen(4096)
held = []
while True:
    held.append(s.accept()[0])
PY
cat <<'PY' | inside_write /etc/bench-client.py
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", 7701)) for _ in range(int(sys.argv[1]))]
time.sleep(3600)
PY
printf '[Service]\nExecStart=/usr/bin/python3 /etc/bench-server.py\nLimitNOFILE=65536\n' |
        inside_write /etc/systemd/system/bench-server.service
inside systemctl daemon-reload
container_start_daemon

established() { inside ss -Htn state established 'sport = :7701' | wc -l; }
with_timer() { inside ss -Htnoe state established 'sport = :7701' | grep -c 'timer:(keepalive' || true; }

for n in $SIZES; do
        runs="" reloads="" sss=""
        r=1
        while [ $r -le "$RUNS" ]; do
                inside rm -f /etc/keepalived.d/60-bench.ini
                inside tcpkeepalivectl reload
                inside systemctl stop bench-client.service 2>/dev/null || true
                inside systemctl reset-failed bench-client.service 2>/dev/null || true
                inside systemctl restart bench-server.service
                wait_listening 7701
                inside systemd-run --quiet --unit=bench-client.service -p LimitNOFILE=65536 \
                        /usr/bin/python3 /etc/bench-client.py "$n"
                container_wait 120 "$n connections established" sh -c \
                        "[ \$(nsenter -t $CONTAINER_LEADER -a ss -Htn state established 'sport = :7701' | wc -l) -ge $n ]"
                [ "$(with_timer)" = 0 ] || fail "connections carry keepalive before the rule"
                t0=$(now_ms)
                inside systemctl daemon-reload
                reloads="$reloads $(($(now_ms) - t0))"
                t0=$(now_ms)
                inside ss -Htnoe state established 'sport = :7701' >/dev/null
                sss="$sss $(($(now_ms) - t0))"
                t0=$(now_ms)
                printf '[Match]\nUnit=bench-server.service\n[KeepAlive]\nIdleSec=77\n' |
                        inside_write /etc/keepalived.d/60-bench.ini
                k=0
                while [ "$(with_timer)" -lt "$n" ]; do
                        k=$((k + 1))
                        [ $k -lt 1500 ] || container_fail "N=$n: after 30 s, $(with_timer) of $n connections carry keepalive; GetUnit: $(inside busctl call org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager GetUnit s bench-server.service)"
                        sleep 0.02
                done
                runs="$runs $(($(now_ms) - t0))"
                r=$((r + 1))
                # Where the time went, the last run: the daemon's and the apply's lines.
                timeline=$(inside journalctl -o short-precise --no-pager -n 12 _COMM=tcpkeepalived + _COMM=tcpkeepalive-bp + _COMM=systemd 2>/dev/null |
                        grep -E 'rules changed|Reloading|applying its rule|applied live|Reloading finished' | tail -n 6)
        done
        echo "N=$n: rule file written -> all $n connections carry keepalive: median $(echo $runs | tr ' ' '\n' | median) ms (runs:$runs); baselines: systemctl daemon-reload median $(echo $reloads | tr ' ' '\n' | median) ms, ss -tnoe of the $n median $(echo $sss | tr ' ' '\n' | median) ms; the apply unit: $(inside journalctl -u 'tcpkeepalive-apply@*' -o cat --no-pager | grep 'applied live' | tail -n 1)"
        printf 'the last run, from the journal:\n%s\n' "$timeline"
done
container_stop
