#!/bin/sh
# bench/daemon-busy.sh: tcpkeepalived on a busy host (issue 14), in a
# container with a real systemd. INSTANCES instances of a template covered
# by one rule are started and end (10,000 by default: "instances ever
# seen"); then the daemon's RSS and UnitStates size, and the time from a
# rule file written to the change applied (the daemon's Reloads property
# moved on: settle time, generator and systemd's reload included), RUNS
# times; then a rule naming NAMES units (10,000) and the time to READY of
# `systemctl restart tcpkeepalived` with it. A baseline in the same run:
# `systemctl daemon-reload` alone, the part of a rule change that is
# systemd's. Run by `make bench-busy` (root: it boots a container).
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
INSTANCES=${INSTANCES:-10000}
NAMES=${NAMES:-10000}
RUNS=${RUNS:-5}

container_boot tka-bench-busy
# Started here: a prefix outside /usr (make distcheck's) does not enable it at boot.
container_start_daemon
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
reloads() { inside busctl get-property $BUS Reloads | awk '{print $2}'; }
rss_kb() { inside sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$(inside systemctl show -P MainPID tcpkeepalived.service)/status"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '[Service]\nExecStart=/bin/true\n' | inside_write /etc/systemd/system/inst@.service
printf '[Match]\nUnit=inst@*.service\n[KeepAlive]\nIdleSec=61\n' | inside_write /etc/keepalived.d/50-inst.ini
inside systemctl daemon-reload
rss0=$(rss_kb)
t0=$(now_ms)
i=1
while [ $i -le "$INSTANCES" ]; do
        j=$((i + 499))
        [ $j -le "$INSTANCES" ] || j=$INSTANCES
        # shellcheck disable=SC2046
        inside systemctl start --no-block $(seq -f 'inst@%g.service' $i $j)
        container_wait 300 "instances $i..$j ended" sh -c \
                "[ -z \"\$(nsenter -t $CONTAINER_LEADER -a systemctl list-jobs --no-legend 'inst@*')\" ]"
        i=$((j + 1))
done
inside systemctl reset-failed 'inst@*' 2>/dev/null || true
echo "started and ended $INSTANCES instances in $(($(now_ms) - t0)) ms"
container_wait 120 "the record emptied" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS UnitStates | awk '{print \$2}') -le 1 ]"
echo "after $INSTANCES instances ever seen: UnitStates $(inside busctl get-property $BUS UnitStates | awk '{print $2}') entries; RSS ${rss0} kB before, $(rss_kb) kB after"

: >"$TMP/change"
: >"$TMP/reload"
n=0
while [ $n -lt "$RUNS" ]; do
        n=$((n + 1))
        r0=$(reloads)
        t0=$(now_ms)
        printf '[Match]\nUnit=inst@*.service\n[KeepAlive]\nIdleSec=%s\n' $((61 + n)) | inside_write /etc/keepalived.d/50-inst.ini
        container_wait 30 "rule change $n applied" sh -c \
                "[ \$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Reloads | awk '{print \$2}') -gt $r0 ]"
        echo $(($(now_ms) - t0)) >>"$TMP/change"
        t0=$(now_ms)
        inside systemctl daemon-reload
        echo $(($(now_ms) - t0)) >>"$TMP/reload"
done
echo "rule change applied, median of $RUNS: $(median <"$TMP/change") ms (systemctl daemon-reload alone: $(median <"$TMP/reload") ms); RSS $(rss_kb) kB"

inside python3 -c "
with open('/etc/keepalived.d/60-many.ini', 'w') as f:
    f.write('[Match]\n')
    for i in range($NAMES):
        f.write('Unit=many-%d.service\n' % i)
    f.write('[KeepAlive]\nIdleSec=70\n')
"
inside tcpkeepalivectl reload
: >"$TMP/ready"
n=0
while [ $n -lt "$RUNS" ]; do
        n=$((n + 1))
        t0=$(now_ms)
        inside systemctl restart tcpkeepalived.service
        echo $(($(now_ms) - t0)) >>"$TMP/ready"
done
echo "READY with $NAMES names, median of $RUNS restarts: $(median <"$TMP/ready") ms; RSS $(rss_kb) kB; units loaded by the checks: $(inside systemctl list-units --all --no-legend 'many-*' | wc -l)"
container_stop
