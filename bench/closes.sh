#!/bin/sh
# bench/closes.sh CHURN: what the close counters (bpf/closes.bpf.c) cost
# per connection, counting on vs off in the same run. The covered counter
# runs at every TCP socket's end (tcp_destroy_sock, two per cycle); a
# socket with keepalive on costs a map update there (both ends here: the
# accepted socket inherits keepalive from the listener). The death counter
# runs on errors only (none here). So two pairs: without keepalive (the
# early return) and with the preload library (every end counted). Off and on alternate over ROUNDS rounds, each run
# in a fresh network namespace; the median ns/cycle of each variant and
# the on/off ratio of each pair. Counting is turned on by the test helper's
# iter-pin under a private bpffs and off by removing the counting link's
# pin (the pin holds the only reference: the program is detached).
set -eu
churn=${1:?usage: closes.sh PATH-TO-churn}
: "${TKA_LIB:?set TKA_LIB to libtcpkeepalive.so}"
: "${TKA_BPF_HELPER:?set TKA_BPF_HELPER to tests/bpf/tcpkeepalive-bpf-test (make bench-closes sets it)}"
: "${TCPKEEPALIVE_CLOSES_OBJECT:?}"
CYCLES=${CYCLES:-50000}
ROUNDS=${ROUNDS:-7}
[ "$(id -u)" = 0 ] || { echo "bench/closes.sh: needs root (BPF)" >&2; exit 1; }
tmp=$(mktemp -d)
mkdir "$tmp/bpffs"
mount -t bpf bpf "$tmp/bpffs"
trap 'umount "$tmp/bpffs" 2>/dev/null; rm -rf "$tmp"' EXIT
export TCPKEEPALIVE_BPF_PIN_DIR=$tmp/bpffs/tcpkeepalive
export TCPKEEPALIVE_CLOSES_OBJECT
counting_on() { "$TKA_BPF_HELPER" iter-pin >/dev/null 2>&1 || true; [ -e "$TCPKEEPALIVE_BPF_PIN_DIR/closes-errors" ]; }
counting_off() {
        rm -f "$TCPKEEPALIVE_BPF_PIN_DIR/closes-errors" "$TCPKEEPALIVE_BPF_PIN_DIR/closes-destroy" \
                "$TCPKEEPALIVE_BPF_PIN_DIR/closes-probes"
}
run() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh env "$@" "$churn" "$CYCLES"; }

counting_on || { echo "bench/closes.sh: the kernel refused the close counters" >&2; exit 1; }
counting_off
echo "closes: $CYCLES loopback connect+accept+close cycles per run, $ROUNDS rounds, $(nproc) cores, counting off/on alternating"
round=1
while [ $round -le "$ROUNDS" ]; do
        for v in plain keepalive; do
                if [ $v = keepalive ]; then
                        set -- LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 TCPKEEPALIVE_COUNT=20
                else
                        set -- TKA_PLAIN=1
                fi
                # Which goes first alternates, so drift hits both alike.
                if [ $((round % 2)) = 1 ]; then order="off on"; else order="on off"; fi
                for state in $order; do
                        if [ $state = on ]; then counting_on; else counting_off; fi
                        run "$@" >>"$tmp/$v-$state"
                done
        done
        round=$((round + 1))
done
counting_on
# The counters did count: the keepalive runs' connections, as covered.
covered=$(od -A n -t u8 -j 32 -w48 "$TCPKEEPALIVE_BPF_PIN_DIR/closes" | awk '{s += $5} END {print s + 0}')
# The deterministic part, unlike the medians above (which a loaded machine
# blurs): the covered counter's own run time per cycle, from the
# kernel's BPF statistics (kernel.bpf_stats_enabled, which adds its own
# clock reads to each run: an upper bound), one run per variant.
stats_before=$(cat /proc/sys/kernel/bpf_stats_enabled)
progid=$(bpftool link show pinned "$TCPKEEPALIVE_BPF_PIN_DIR/closes-destroy" 2>/dev/null | sed -n 's/.*prog \([0-9]*\).*/\1/p' | head -n1)
if [ -n "$progid" ] && command -v bpftool >/dev/null; then
        sysctl -qw kernel.bpf_stats_enabled=1
        for v in plain keepalive; do
                if [ $v = keepalive ]; then
                        set -- LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 TCPKEEPALIVE_COUNT=20
                else
                        set -- TKA_PLAIN=1
                fi
                b=$(bpftool prog show id "$progid" | sed -n 's/.*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2/p')
                [ -n "$b" ] || b="0 0" # no run yet: bpftool shows no statistics
                line=$(run "$@")
                a=$(bpftool prog show id "$progid" | sed -n 's/.*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2/p')
                echo "$v $b $a $line" >>"$tmp/stats"
        done
        sysctl -qw kernel.bpf_stats_enabled="$stats_before"
fi
counting_off

median() { sed -n 's/.*ns_per_cycle=\([0-9]*\).*/\1/p' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '\n%-12s %16s %16s %8s\n' variant "off ns/cycle" "on ns/cycle" "on/off"
for v in plain keepalive; do
        off=$(median "$tmp/$v-off")
        on=$(median "$tmp/$v-on")
        printf '%-12s %16s %16s %8s\n' "$v" "$off" "$on" "$(awk "BEGIN {printf \"%.3f\", $on/$off}")"
done
if [ -s "$tmp/stats" ]; then
        printf '\n%-12s %14s %14s %16s %10s\n' variant "runs/cycle" "ns/run" "program ns/cycle" "of cycle"
        while read -r v t0 c0 t1 c1 line; do
                cyc=$(printf '%s\n' "$line" | sed -n 's/.*cycles=\([0-9]*\).*/\1/p')
                ns=$(printf '%s\n' "$line" | sed -n 's/.*ns_per_cycle=\([0-9]*\).*/\1/p')
                awk -v v="$v" -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v cyc="$cyc" -v ns="$ns" 'BEGIN {
                        printf "%-12s %14.1f %14.1f %16.1f %9.2f%%\n", v, c / cyc, t / c, t / cyc, 100 * t / cyc / ns }'
        done <"$tmp/stats"
fi
echo
echo "connections counted as covered (keepalive on at close) by the on runs of all cgroups: $covered"
echo "(plain: no keepalive, the program returns early; keepalive: the preload library, a map update per close)"
