#!/bin/sh
# bench/run-churn.sh CHURN: the cost per connection of each preload library
# and of the BPF backend.
# Variants, interleaved over ROUNDS rounds so machine noise hits all alike;
# the median ns/cycle of each and its ratio to no library, from this run.
# Then the deterministic figure: setsockopt/getsockopt calls per cycle,
# counted with strace on a shorter run. Needs TKA_LIB (make bench sets it).
set -eu
churn=${1:?usage: run-churn.sh PATH-TO-churn}
: "${TKA_LIB:?set TKA_LIB to libtcpkeepalive.so}"
CYCLES=${CYCLES:-50000}
ROUNDS=${ROUNDS:-5}
OLD=/usr/lib/libkeepalive.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

def_idle=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)
def_intvl=$(cat /proc/sys/net/ipv4/tcp_keepalive_intvl)
def_cnt=$(cat /proc/sys/net/ipv4/tcp_keepalive_probes)

# name|environment (values differ from the sysctl defaults, so every option is set)
variants="none|
tcpkeepalive|LD_PRELOAD=$TKA_LIB TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 TCPKEEPALIVE_COUNT=20
tcpkeepalive-sysctl-values|LD_PRELOAD=$TKA_LIB TCPKEEPALIVE_IDLE=$def_idle TCPKEEPALIVE_INTERVAL=$def_intvl TCPKEEPALIVE_COUNT=$def_cnt"
if [ -r "$OLD" ]; then
        variants="$variants
libkeepalive-0.3|LD_PRELOAD=$OLD KEEPIDLE=75 KEEPINTVL=60 KEEPCNT=20"
else
        echo "(libkeepalive 0.3 not installed: apt-get install libkeepalive0 to compare)"
fi

# The library before a change (TKA_LIB_BASELINE: another build's
# libtcpkeepalive.so), with the same values: what the change costs.
if [ -n "${TKA_LIB_BASELINE:-}" ]; then
        variants="$variants
tcpkeepalive-baseline|LD_PRELOAD=$TKA_LIB_BASELINE TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 TCPKEEPALIVE_COUNT=20"
fi

# Path rules (TKA_BENCH_PATHS=1, or =only for these and the baselines
# alone; make bench-paths): one TCPKEEPALIVE_PATH1 with 100 destination
# prefixes, none of which covers the churn's 127.0.0.1 (every connection
# gets the unit's values after the matcher's whole walk), or the last of
# which does, with the unit's values (the walk, and no setsockopt more
# than without path rules: what the matcher costs), or with values of its
# own (each accepted connection then needs its own setsockopt calls).
if [ -n "${TKA_BENCH_PATHS:-}" ]; then
        dsts=$(awk 'BEGIN { for (i = 0; i < 99; i++) printf "%s10.%d.%d.0/24", i ? "," : "", int(i / 10), i % 10 }')
        miss="dst=$dsts,192.168.77.0/24;idle=76;interval=61;count=21"
        last_same="dst=$dsts,127.0.0.0/8;idle=75;interval=60;count=20"
        last_own="dst=$dsts,127.0.0.0/8;idle=76;interval=61;count=21"
        base_env="LD_PRELOAD=$TKA_LIB TCPKEEPALIVE_IDLE=75 TCPKEEPALIVE_INTERVAL=60 TCPKEEPALIVE_COUNT=20"
        [ "$TKA_BENCH_PATHS" != only ] || variants=$(printf '%s\n' "$variants" | grep -E '^(none|tcpkeepalive|tcpkeepalive-baseline)\|')
        variants="$variants
paths-100-none-match|$base_env TCPKEEPALIVE_PATH1=$miss
paths-100-last-match|$base_env TCPKEEPALIVE_PATH1=$last_same
paths-100-last-own-values|$base_env TCPKEEPALIVE_PATH1=$last_own"
fi

# The BPF backend (make bench sets TKA_BPF_HELPER when it is built): the
# churn process runs in a cgroup of its own, to which the helper attaches
# the programs with the same values, from a private bpffs.
CG=""
if [ -n "${TKA_BPF_HELPER:-}" ] && [ "$(id -u)" = 0 ]; then
        for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
                [ "$(stat -f -c %T "$root" 2>/dev/null)" = cgroup2fs ] && CG=$root/tka-bench-$$ && break
        done
fi
[ "${TKA_BENCH_PATHS:-}" != only ] || CG=""
if [ -n "$CG" ]; then
        mkdir -p "$tmp/bpffs" "$CG"
        mount -t bpf bpf "$tmp/bpffs"
        trap 'rmdir "$CG" 2>/dev/null; umount "$tmp/bpffs" 2>/dev/null; rm -rf "$tmp"' EXIT
        case $CG in
        /sys/fs/cgroup/unified/*) cg_path=/${CG#/sys/fs/cgroup/unified/} ;;
        *) cg_path=/${CG#/sys/fs/cgroup/} ;;
        esac
        TCPKEEPALIVE_BPF_PIN_DIR=$tmp/bpffs/tcpkeepalive "$TKA_BPF_HELPER" --cgroup="$cg_path" \
                --idle=75 --interval=60 --count=20 attach >/dev/null
        variants="$variants
bpf-backend|TKA_IN_CGROUP=$CG"
else
        echo "(BPF backend not built or not root: no bpf-backend variant)"
fi
# Runs "$@" in the bench cgroup when TKA_IN_CGROUP is set (bpf-backend).
# shellcheck disable=SC2016
enter='[ -z "${TKA_IN_CGROUP:-}" ] || echo $$ >"$TKA_IN_CGROUP/cgroup.procs"; exec "$@"'

# Each run in a network namespace of its own (when root): the TIME_WAIT
# sockets of earlier runs would otherwise slow the later ones down.
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
        fresh_netns() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; }
        where="a fresh network namespace per run"
else
        fresh_netns() { "$@"; }
        where="the current network namespace (not root: runs share TIME_WAIT state, expect noise)"
fi
echo "churn: $CYCLES loopback connect+accept+close cycles per run, $ROUNDS interleaved rounds, $(nproc) cores, $where"
round=1
while [ $round -le "$ROUNDS" ]; do
        printf '%s\n' "$variants" | while IFS='|' read -r name envs; do
                # shellcheck disable=SC2086
                line=$(fresh_netns env $envs sh -c "$enter" sh "$churn" "$CYCLES")
                echo "$line" >>"$tmp/$name"
                case $name in none) ;; *)
                        case $line in *keepalive_client=1*keepalive_accepted=1*) ;; *)
                                echo "bench: $name did not turn keepalive on: $line" >&2; exit 1 ;;
                        esac ;;
                esac
        done
        round=$((round + 1))
done

median() { sed -n 's/.*ns_per_cycle=\([0-9]*\).*/\1/p' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median "$tmp/none")
lib=$(median "$tmp/tcpkeepalive")
printf '\n%-28s %14s %10s %16s %18s\n' variant "median ns/cycle" "vs none" "vs tcpkeepalive" "set/getsockopt/cycle"
printf '%s\n' "$variants" | while IFS='|' read -r name envs; do
        m=$(median "$tmp/$name")
        # shellcheck disable=SC2086
        fresh_netns env $envs sh -c "$enter" sh strace -f -c -o "$tmp/strace.$name" -e trace=setsockopt,getsockopt \
                "$churn" 2000 >/dev/null
        calls=$(awk '$NF=="setsockopt"{s=$4} $NF=="getsockopt"{g=$4} END {printf "%.2f / %.2f", (s+0)/2000, (g+0)/2000}' "$tmp/strace.$name")
        printf '%-28s %14s %10s %16s %18s\n' "$name" "$m" "$(awk "BEGIN {printf \"%.3f\", $m/$base}")" \
                "$(awk "BEGIN {printf \"%.3f\", $m/$lib}")" "$calls"
done
# With path rules, also the deterministic figure for what the matcher adds:
# user-space instructions per cycle (callgrind; this machine's noise does
# not touch it), from the difference of a 4000- and a 2000-cycle run, which
# cancels start-up and reading the configuration.
if [ -n "${TKA_BENCH_PATHS:-}" ] && command -v valgrind >/dev/null 2>&1; then
        ir() { # ENVS CYCLES
                # shellcheck disable=SC2086
                env $1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$churn" "$2" 2>&1 >/dev/null |
                        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
        }
        printf '\n%-28s %16s %16s\n' variant "user instr/cycle" "vs tcpkeepalive"
        printf '%s\n' "$variants" | while IFS='|' read -r name envs; do
                per=$(( ($(ir "$envs" 4000) - $(ir "$envs" 2000)) / 2000 ))
                echo "$name $per" >>"$tmp/ir"
                lib_ir=$(sed -n 's/^tcpkeepalive \([0-9]*\)$/\1/p' "$tmp/ir")
                printf '%-28s %16s %16s\n' "$name" "$per" "$([ -n "$lib_ir" ] && awk "BEGIN {printf \"%.3f\", $per/$lib_ir}" || echo -)"
        done
fi
echo
echo "set/getsockopt per cycle include the churn program's own getsockopt of the first cycle"
echo "and its listener's SO_REUSEADDR (amortized to ~0). Accepted sockets inherit keepalive"
echo "from their listener in the kernel, so a library that configures the listener needs no"
echo "call per accepted connection."
