#!/bin/sh
# bench/daemon-scale.sh: tcpkeepalived with 10,000 open TCP connections
# across 100 units, in a container with a real systemd. 100 instances of a
# Python server hold 100 accepted connections each (a client outside the
# units holds the other ends); then the latency of ListUnits (what
# `tcpkeepalivectl status` asks), of GetUnitSockets for one unit, of the
# whole `tcpkeepalivectl status`, and the daemon's RSS, each beside
# `ss -tnoe` (every TCP socket with its timer, no process lookup) timed in
# the same run; then the cost of each step of the gathering, measured apart
# by bench/sockread in the same container (TKA_SOCKREAD), the same facts
# from one pass of a BPF iterator (bench/sockiter, TKA_SOCKITER, where
# bpf() is allowed), and the daemon's `systemd-analyze security` exposure.
# With the BPF backend the daemon reads every socket through the iterator
# tcpkeepalive-bpf iter-pin pinned (bpf/sockets.bpf.c); the same calls are
# then timed without the pin, through /proc and pidfd_getfd (the fallback).
# Run by `make bench-daemon` (root: it boots a container).
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
UNITS=${UNITS:-100}
PER_UNIT=${PER_UNIT:-100}
RUNS=${RUNS:-5}

container_boot tka-bench
cat <<'PY' | inside_write /etc/holder.py
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(512)
held = [s.accept()[0] for _ in range(int(sys.argv[2]))]
time.sleep(3600)
PY
printf '[Service]\nExecStart=/usr/bin/python3 /etc/holder.py %%i %s\nLimitNOFILE=4096\n' "$PER_UNIT" |
        inside_write /etc/systemd/system/holder@.service
printf '[Match]\nUnit=holder@*.service\n[KeepAlive]\nIdleSec=60\n' | inside_write /etc/keepalived.d/50-holders.ini
inside systemctl daemon-reload
i=1
units=""
while [ $i -le "$UNITS" ]; do units="$units holder@$((20000 + i)).service"; i=$((i + 1)); done
# shellcheck disable=SC2086
inside systemctl start $units
for u in $units; do
        port=${u#holder@}
        wait_listening "${port%.service}"
done
cat <<'PY' | inside_write /etc/clients.py
import socket, sys, time
units, per = int(sys.argv[1]), int(sys.argv[2])
conns = [socket.create_connection(("127.0.0.1", 20000 + u)) for u in range(1, units + 1) for _ in range(per)]
print("connected", len(conns), flush=True)
time.sleep(3600)
PY
inside systemd-run --unit=bench-clients -p LimitNOFILE=$((UNITS * PER_UNIT + 1024)) python3 /etc/clients.py "$UNITS" "$PER_UNIT" >/dev/null
want=$((UNITS * PER_UNIT))
held() { # established connections whose local port is a holder's
        inside ss -Htn state established |
                awk -v hi=$((20000 + UNITS)) '{ n = split($3, a, ":"); p = a[n] + 0; if (p > 20000 && p <= hi) c++ } END { print c + 0 }'
}
_deadline=$(($(date +%s) + 120))
while [ "$(held)" -lt "$want" ]; do
        [ "$(date +%s)" -lt "$_deadline" ] || container_fail "only $(held) of $want connections after 120 s"
        sleep 0.2
done
container_start_daemon
pid=$(inside systemctl show -P MainPID tcpkeepalived.service)
rss0=$(inside sed -n 's/^VmRSS: *//p' "/proc/$pid/status")

time_ms() { # CMD...: median wall time in ms of RUNS runs
        n=0
        : >"$TMP/t"
        while [ $n -lt "$RUNS" ]; do
                t0=$(date +%s%N)
                "$@" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; fail "$* failed"; }
                t1=$(date +%s%N)
                echo $(((t1 - t0) / 1000000)) >>"$TMP/t"
                n=$((n + 1))
        done
        sort -n "$TMP/t" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
# CPU time per ListUnits of the daemon and of systemd (PID 1 of the
# container, answering the daemon's calls), over RUNS calls: what the wall
# times above become on an idle machine, whatever the load of this one.
ticks() { inside cat "/proc/$1/stat" | awk '{ print $14 + $15 }'; } # (no awk inside: /etc is volatile)
cpu_per_list() {
        _d0=$(ticks "$pid") _s0=$(ticks 1) n=0
        while [ $n -lt "$RUNS" ]; do
                inside busctl --timeout=120 call $BUS ListUnits >/dev/null
                n=$((n + 1))
        done
        _tck=$(getconf CLK_TCK)
        echo "daemon $((($(ticks "$pid") - _d0) * 1000 / _tck / RUNS)) ms, systemd $((($(ticks 1) - _s0) * 1000 / _tck / RUNS)) ms"
}
# Baseline: what an admin would run instead, every TCP socket with its
# process (ss walks /proc/*/fd as the daemon does, for all 20,000 ends).
t_ss=$(time_ms inside ss -tnpo state established)
# The lower bound for a report on every socket: ss -tnoe (all TCP sockets,
# their keepalive timers, socket inodes; one sock_diag dump, no /proc walk).
t_ssoe=$(time_ms inside ss -tnoe)
n_ssoe=$(inside ss -Htnoe | wc -l)
cpu_ssoe=$(inside sh -c 'command time -f "%U %S" ss -tnoe 2>&1 >/dev/null' | awk '{ printf "%d ms", ($1 + $2) * 1000 }')
t_list=$(time_ms inside busctl --timeout=120 call $BUS ListUnits)
t_sock=$(time_ms inside busctl --timeout=120 call $BUS GetUnitSockets s holder@20001.service)
nsock=$(inside busctl --timeout=120 call $BUS GetUnitSockets s holder@20001.service | awk '{print $2}')
t_status=$(time_ms inside tcpkeepalivectl status)
cpu_list=$(cpu_per_list)
lines=$(inside tcpkeepalivectl status | grep -c "holder@.*$PER_UNIT/$PER_UNIT" || true)
rss1=$(inside sed -n 's/^VmRSS: *//p' "/proc/$pid/status")
echo "tcpkeepalived with $want established connections in $UNITS units (+$want client ends), median of $RUNS:"
printf '  %-44s %6s ms  (baseline)\n' "ss -tnpo state established" "$t_ss"
printf '  %-44s %6s ms  (CPU: %s)\n' "ListUnits (all $UNITS units)" "$t_list" "$cpu_list"
printf '  %-44s %6s ms  (%s sockets)\n' "GetUnitSockets (one unit)" "$t_sock" "$nsock"
printf '  %-44s %6s ms  (%s units with %s/%s keepalive)\n' "tcpkeepalivectl status" "$t_status" "$lines" "$PER_UNIT" "$PER_UNIT"
printf '  %-44s %s -> %s\n' "daemon RSS (idle -> after the calls)" "$rss0" "$rss1"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
printf '  %-44s %6s ms  (%s sockets; CPU %s)\n' "ss -tnoe (baseline)" "$t_ssoe" "$n_ssoe" "$cpu_ssoe"
printf '  %-44s %6s x   (ListUnits %s x)\n' "tcpkeepalivectl status / ss -tnoe" "$(ratio "$t_status" "$t_ssoe")" \
        "$(ratio "$t_list" "$t_ssoe")"
# Where ListUnits read the sockets (the daemon logs it once), and the
# iterator's pass alone (one open and read of the pin, as the daemon does).
path=$(inside journalctl -u tcpkeepalived --no-pager -o cat | grep -E "sockets read through|cannot be read" | tail -n1)
printf '  %-44s %s\n' "gathering" "${path:-?}"
if inside test -e /sys/fs/bpf/tcpkeepalive/sockets; then
        t_iter=$(time_ms inside sh -c 'cat /sys/fs/bpf/tcpkeepalive/sockets >/dev/null')
        printf '  %-44s %6s ms  (%s bytes)\n' "the iterator's pass (cat of the pin)" "$t_iter" \
                "$(inside sh -c 'cat /sys/fs/bpf/tcpkeepalive/sockets | wc -c')"
        # The same calls through /proc and pidfd_getfd (the fallback: no pin).
        inside mv /sys/fs/bpf/tcpkeepalive/sockets /sys/fs/bpf/tcpkeepalive/sockets-off
        t_list_proc=$(time_ms inside busctl --timeout=120 call $BUS ListUnits)
        t_status_proc=$(time_ms inside tcpkeepalivectl status)
        lines_proc=$(inside tcpkeepalivectl status | grep -c "holder@.*$PER_UNIT/$PER_UNIT" || true)
        cpu_list_proc=$(cpu_per_list)
        rss2=$(inside sed -n 's/^VmRSS: *//p' "/proc/$pid/status")
        inside mv /sys/fs/bpf/tcpkeepalive/sockets-off /sys/fs/bpf/tcpkeepalive/sockets
        printf '  %-44s %6s ms  (CPU: %s)\n' "fallback (/proc, pidfd_getfd): ListUnits" "$t_list_proc" \
                "$cpu_list_proc"
        printf '  %-44s %6s ms  (%s x ss -tnoe; %s units with %s/%s; RSS %s)\n' "fallback: tcpkeepalivectl status" \
                "$t_status_proc" "$(ratio "$t_status_proc" "$t_ssoe")" "$lines_proc" "$PER_UNIT" "$PER_UNIT" "$rss2"
fi
exposure=$(inside systemd-analyze security --no-pager tcpkeepalived.service 2>&1 |
        sed -n 's/.*Overall exposure level for tcpkeepalived.service: *\([0-9.]*\).*/\1/p')
printf '  %-44s %s\n' "systemd-analyze security exposure" "${exposure:-?}"
if [ -n "${TKA_SOCKREAD:-}" ] && [ -x "$TKA_SOCKREAD" ]; then
        # Each step of the gathering alone, for all the holders' cgroups.
        inside_write /run/tka-sockread <"$TKA_SOCKREAD"
        inside chmod 0755 /run/tka-sockread
        cg=$(inside systemctl show -P ControlGroup holder@20001.service)
        echo "each step alone, for the $UNITS units (bench/sockread, median of $RUNS):"
        # shellcheck disable=SC2016
        inside sh -c 'exec /run/tka-sockread -n "$1" /sys/fs/cgroup"${2%/*}"/holder@*.service' sh "$RUNS" "$cg" ||
                fail "bench/sockread failed"
fi
if [ -n "${TKA_SOCKITER:-}" ] && [ -x "$TKA_SOCKITER" ]; then
        # All of it in one pass, in the kernel: every process's TCP sockets
        # with their cgroup and keepalive values (bpf/sockets.bpf.c, the daemon's own).
        inside_write /run/tka-sockiter <"$TKA_SOCKITER"
        inside_write /run/sockiter.bpf.o <"$TKA_SOCKITER_OBJECT"
        inside chmod 0755 /run/tka-sockiter
        inside /run/tka-sockiter /run/sockiter.bpf.o "$RUNS" || echo "  (bench/sockiter: no BPF here)"
fi
[ "$lines" -eq "$UNITS" ] || { inside tcpkeepalivectl status | head -n 20 >&2; fail "status showed $lines of $UNITS units with all connections kept alive"; }
if [ -n "${BENCH_HOLD:-}" ]; then # keep the container for a closer look
        echo "holding: touch $TMP/stop to end"
        while [ ! -e "$TMP/stop" ]; do sleep 1; done
fi
