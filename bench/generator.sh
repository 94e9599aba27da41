#!/bin/sh
# bench/generator.sh GENERATOR: how long tcpkeepalive-generator takes at
# boot on a large machine: 1,000 rule files and 1,000 unit files (plus 200
# enabled template instances), in a fake root, RUNS runs with a fresh output
# directory each; median, min and max in ms. Then the worst case: every
# rule a glob, so every unit is matched against every pattern.
# The requirement: under 50 ms.
set -eu
gen=${1:?usage: generator.sh PATH-TO-tcpkeepalive-generator}
RUNS=${RUNS:-20}
tmp=$(mktemp -d)
# The output goes where systemd puts it: /run/systemd/generator is a tmpfs.
# (On ext4, creating 2,000 inodes just deleted costs more than everything else.)
out=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp" "$out"' EXIT

make_root() { # ROOT exact|glob
        root=$1
        mkdir -p "$root/etc/keepalived.d" "$root/usr/lib/systemd/system" \
                "$root/etc/systemd/system/multi-user.target.wants"
        i=0
        while [ $i -lt 1000 ]; do
                : >"$root/usr/lib/systemd/system/svc$i.service"
                if [ "$2" = exact ]; then
                        printf '[Match]\nUnit=svc%d.service\n[KeepAlive]\nIdleSec=%d\n' $i $((i % 300 + 60)) \
                                >"$root/etc/keepalived.d/r$i.ini"
                else
                        printf '[Match]\nUnit=svc%d*.service nomatch%d-*.service\n[KeepAlive]\nIdleSec=%d\n' \
                                $i $i $((i % 300 + 60)) >"$root/etc/keepalived.d/r$i.ini"
                fi
                i=$((i + 1))
        done
        : >"$root/usr/lib/systemd/system/worker@.service"
        i=0
        while [ $i -lt 200 ]; do
                ln -s /usr/lib/systemd/system/worker@.service \
                        "$root/etc/systemd/system/multi-user.target.wants/worker@$i.service"
                i=$((i + 1))
        done
}

measure() { # ROOT LABEL
        : >"$tmp/times"
        n=0
        while [ $n -lt "$RUNS" ]; do
                rm -rf "$out/o" && mkdir "$out/o"
                t0=$(date +%s%N)
                TCPKEEPALIVE_ROOT=$1 TCPKEEPALIVE_GENERATOR_STDERR=1 "$gen" "$out/o" 2>/dev/null
                t1=$(date +%s%N)
                echo $(((t1 - t0) / 1000)) >>"$tmp/times"
                n=$((n + 1))
        done
        files=$(find "$out/o" -name '*.conf' | wc -l)
        sort -n "$tmp/times" | awk -v label="$2" -v files="$files" '{a[NR]=$1} END {
                printf "%-44s median %6.1f ms  min %6.1f  max %6.1f  (%d drop-ins)\n",
                        label, a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000, files }'
}

make_root "$tmp/exact" exact
make_root "$tmp/glob" glob
echo "tcpkeepalive-generator, $RUNS runs each, wall time including exec, output on $(df --output=fstype "$out" | tail -n1):"
measure "$tmp/exact" "1,000 rules (exact names), 1,000+200 units"
measure "$tmp/glob" "1,000 rules (2 globs each), 1,000+200 units"
