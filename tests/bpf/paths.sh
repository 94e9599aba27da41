#!/bin/sh
# Rules by network path in the BPF backend (issue 17): tcpkeepalive-bpf
# attach --path=TEXT [--unmatched=off] on a cgroup of the test's own, and
# real connections of a process in it, their values read back from the
# kernel (getsockopt): a path by destination (IPv4, IPv6, an IPv4-mapped
# peer), a CIDR exclusion, the most specific path winning, Port= and
# LocalPort=, an accepted connection matched by the peer that connected,
# force mode keeping the path's values, the live apply (iter/tcp) on
# established connections, and bad options refused by name.
. "$TKA_SRCDIR/tests/lib.sh"
need_root
need_cmd python3
BPF=$TKA_BUILDDIR/tests/bpf/tcpkeepalive-bpf-test
CONN="python3 $TKA_SRCDIR/tests/bpf/paths-conn.py"
export TCPKEEPALIVE_BPF_OBJECT="$TKA_BUILDDIR/bpf/tcpkeepalive.bpf.o"

cg_root=$(cgroup2_root) || skip "no cgroup v2 hierarchy"
CG=/tka-paths-$$.scope
mkdir -p "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs" || fail "cannot mount a BPF file system"
holder=
cleanup() {
        [ -n "$holder" ] && kill "$holder" 2>/dev/null
        for d in "$cg_root$CG" "$cg_root$CG-live" "$cg_root$CG-gc"; do
                [ -d "$d" ] && rmdir "$d" 2>/dev/null
        done
        rm -f "/run/tcpkeepalive/bpf/tka-paths-$$.scope" "/run/tcpkeepalive/bpf/tka-paths-$$.scope-live"
        umount "$TMP/bpffs" 2>/dev/null || true
}
on_exit cleanup
export TCPKEEPALIVE_BPF_PIN_DIR="$TMP/bpffs/tcpkeepalive"
mkdir "$cg_root$CG"
PROCS=$cg_root$CG/cgroup.procs
"$BPF" load || fail "load"
[ -e "$TCPKEEPALIVE_BPF_PIN_DIR/paths" ] || fail "load did not pin the path rules' map"

# attach ARGS...: the test cgroup's rule (a new attach replaces the last).
attach() {
        "$BPF" --cgroup="$CG" "$@" attach >"$TMP/attach" 2>&1 || fail "attach $*: $(cat "$TMP/attach")"
}
# line OUTPUT SPEC: the values printed for SPEC
line() {
        printf '%s\n' "$1" | grep -F -- "$2 " | head -n1
}
# expect_conn OUTPUT SPEC REGEX WHAT
expect_conn() {
        _l=$(line "$1" "$2")
        [ -n "$_l" ] || fail "$4: no line for $2 in:
$1"
        expect_match "$_l" "^$2 $3" "$4"
}
sys_idle=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)

# ---- Destination=: the path's values, the unit's own for the rest ----------
attach --idle=100 --interval=10 --path='dst=127.0.0.2/32;idle=222;interval=22;count=2;user_timeout=22000'
expect_match "$(cat "$TMP/attach")" "1 path rule\\(s\\); connections none covers get the values above" "attach says what it stored"
expect_match "$("$BPF" list)" "path 1: dst=127\\.0\\.0\\.2/32 idle=222 interval=22 count=2 user_timeout=22000" "list shows the path rule"
out=$($CONN out "$PROCS" 127.0.0.2,0,0 127.0.0.3,0,0) || fail "the client: $out"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=222 interval=22 count=2 uto=22000" "the path's values on the matching connection"
expect_conn "$out" 127.0.0.3,0,0 "keepalive=1 idle=100 interval=10 " "the unit's own values on the other"
pass "Destination=: the matching connection gets the path's values, the other the unit's"

attach --idle=100 --path='dst=127.0.0.2/32;idle=222' --unmatched=off
expect_match "$("$BPF" list)" "\\(path rules, unmatched off\\)" "list shows unmatched off"
out=$($CONN out "$PROCS" 127.0.0.2,0,0 127.0.0.3,0,0) || fail "the client: $out"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=222 " "unmatched off: the matching connection"
expect_conn "$out" 127.0.0.3,0,0 "keepalive=0 idle=$sys_idle " "unmatched off: nothing on the other"
pass "--unmatched=off: a connection no path covers gets nothing"

# ---- IPv6, and an IPv4-mapped peer counting as IPv4 ------------------------
attach --path='dst=::1/128;idle=444' --path='dst=127.0.0.2/32;idle=445' --unmatched=off
out=$($CONN out "$PROCS" ::1,0,0 ::ffff:127.0.0.2,0,0 127.0.0.3,0,0) || fail "the client: $out"
expect_conn "$out" ::1,0,0 "keepalive=1 idle=444 " "IPv6 ::1"
expect_conn "$out" ::ffff:127.0.0.2,0,0 "keepalive=1 idle=445 " "an IPv4-mapped peer matches its IPv4 prefix"
expect_conn "$out" 127.0.0.3,0,0 "keepalive=0 " "IPv4 outside both"
pass "IPv6 prefixes, IPv4-mapped IPv6 peers as IPv4"

# ---- CIDR exclusion, the most specific path, the later one on a tie --------
attach --path='dst=127.0.0.0/8,!127.0.0.3/32;idle=333' --unmatched=off
out=$($CONN out "$PROCS" 127.0.0.2,0,0 127.0.0.3,0,0 127.0.0.4,0,0) || fail "the client: $out"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=333 " "in the prefix"
expect_conn "$out" 127.0.0.3,0,0 "keepalive=0 " "excluded by !127.0.0.3/32"
expect_conn "$out" 127.0.0.4,0,0 "keepalive=1 idle=333 " "in the prefix (another)"
pass "a CIDR exclusion"

p1=$(free_port)
attach --path='dst=127.0.0.3/32;idle=302' --path='dst=127.0.0.0/8;idle=301' --path="port=$p1;idle=311" \
        --path="port=$p1;idle=312"
out=$($CONN out "$PROCS" 127.0.0.2,0,0 127.0.0.3,0,0 ::1,0,0 "::1,$p1,0") || fail "the client: $out"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=301 " "/8 only"
expect_conn "$out" 127.0.0.3,0,0 "keepalive=1 idle=302 " "the /32 beats the /8 (given before it)"
expect_conn "$out" ::1,0,0 "keepalive=1 idle=$sys_idle " "no path: the unit's own (no idle: the kernel's)"
expect_conn "$out" "::1,$p1,0" "keepalive=1 idle=312 " "equal paths: the later wins"
pass "the most specific path wins, the later one between equals"

# ---- Port= and LocalPort= -----------------------------------------------------
p1=$(free_port); p2=$(free_port); lp=$(free_port)
attach --path="port=$p1;idle=555" --path="lport=$lp;idle=566" --unmatched=off
out=$($CONN out "$PROCS" "127.0.0.2,$p1,0" "127.0.0.2,$p2,0" "127.0.0.3,$p2,$lp") || fail "the client: $out"
expect_conn "$out" "127.0.0.2,$p1,0" "keepalive=1 idle=555 " "Port=: the peer's port"
expect_conn "$out" "127.0.0.2,$p2,0" "keepalive=0 " "Port=: another port"
expect_conn "$out" "127.0.0.3,$p2,$lp" "keepalive=1 idle=566 " "LocalPort=: the local port"
pass "Port= and LocalPort="

# ---- accepted connections: matched by the peer that connected -----------------
attach --path='dst=127.0.0.2/32;idle=611' --unmatched=off
out=$($CONN in "$PROCS" 127.0.0.1 127.0.0.2 127.0.0.3) || fail "the server: $out"
expect_conn "$out" 127.0.0.2 "keepalive=1 idle=611 " "accepted from 127.0.0.2"
expect_conn "$out" 127.0.0.3 "keepalive=0 " "accepted from 127.0.0.3"
pass "an accepted connection is matched by its peer"

# ---- Mode=force: the path's values stay -----------------------------------------
# The program sets the other rule's idle: absorbed only when the socket
# remembers which values it got.
attach --mode=force --idle=100 --path='dst=127.0.0.2/32;idle=700'
out=$($CONN out "$PROCS" --fight=100 127.0.0.2,0,0) || fail "the client: $out"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=700 " "force: the path's values stay"
out=$($CONN out "$PROCS" --fight=700 127.0.0.3,0,0) || fail "the client: $out"
expect_conn "$out" 127.0.0.3,0,0 "keepalive=1 idle=100 " "force: the unit's own values stay"
pass "force mode keeps each connection's own path's values"

# ---- the live apply: established connections, matched by peer -------------------
mkdir "$cg_root$CG-live"
$CONN out "$cg_root$CG-live/cgroup.procs" --hold="$TMP/go" 127.0.0.2,0,0 127.0.0.3,0,0 ::1,0,0 >"$TMP/live" 2>&1 &
holder=$!
wait_until 10 "the connections to be established" grep -q ready "$TMP/live"
"$BPF" --cgroup="$CG-live" --idle=100 --path='dst=127.0.0.2/32;idle=801' --path='dst=::1/128;idle=802' \
        apply >"$TMP/apply" 2>&1 || fail "apply: $(cat "$TMP/apply")"
expect_match "$(cat "$TMP/apply")" "3 connection\\(s\\) given the rule's values" "apply counts the connections"
expect_match "$(cat "$TMP/apply")" "2 path rule\\(s\\): 2 of those connection\\(s\\) given a path rule's values, 1 covered by none given the unit's own" "apply counts the paths"
touch "$TMP/go"
wait "$holder" || fail "the held client: $(cat "$TMP/live")"
holder=
out=$(cat "$TMP/live")
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=801 " "live: the IPv4 path"
expect_conn "$out" ::1,0,0 "keepalive=1 idle=802 " "live: the IPv6 path"
expect_conn "$out" 127.0.0.3,0,0 "keepalive=1 idle=100 " "live: the unit's own"
pass "live apply: established connections get their path's values"

rm -f "$TMP/go"
$CONN out "$cg_root$CG-live/cgroup.procs" --hold="$TMP/go" 127.0.0.2,0,0 127.0.0.3,0,0 >"$TMP/live" 2>&1 &
holder=$!
wait_until 10 "the connections to be established" grep -q ready "$TMP/live"
# Those connections got the last rule at establishment: a new one, path only.
"$BPF" --cgroup="$CG-live" --path='dst=127.0.0.3/32;idle=803' --unmatched=off apply >"$TMP/apply" 2>&1 ||
        fail "apply: $(cat "$TMP/apply")"
expect_match "$(cat "$TMP/apply")" "1 of those connection\\(s\\) given a path rule's values, 1 covered by none left alone" "apply counts what it left"
touch "$TMP/go"
wait "$holder" || fail "the held client: $(cat "$TMP/live")"
holder=
out=$(cat "$TMP/live")
expect_conn "$out" 127.0.0.3,0,0 "keepalive=1 idle=803 " "live, unmatched off: the path"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=801 " "live, unmatched off: the other keeps what it had"
pass "live apply with --unmatched=off leaves the others alone"

# ---- refused: exit 2, the value named; nothing stored -------------------------
set +e
"$BPF" --cgroup="$CG" --path='dst=300.1.2.3/8;idle=5' attach >/dev/null 2>"$TMP/e1"; rc1=$?
"$BPF" --cgroup="$CG" --path='dst=127.0.0.2;idle=5' --unmatched=on attach >/dev/null 2>"$TMP/e2"; rc2=$?
"$BPF" --cgroup="$CG" --idle=5 --unmatched=off attach >/dev/null 2>"$TMP/e3"; rc3=$?
"$BPF" --cgroup="$CG" --path='dst=10.0.0.1/8' attach >/dev/null 2>"$TMP/e4"; rc4=$?
"$TKA_BUILDDIR/tcpkeepalive-bpf-launch" attach --unit=x.service --path='port=0' >/dev/null 2>"$TMP/e5"; rc5=$?
set -e
expect_eq "$rc1/$rc2/$rc3/$rc4/$rc5" "2/2/2/2/2" "exit statuses: bad prefix, --unmatched=on, --unmatched without --path, host bits set, the launcher"
expect_match "$(cat "$TMP/e1")" "--path=dst=300\\.1\\.2\\.3/8;idle=5: not a path rule" "a bad --path is named"
expect_match "$(cat "$TMP/e2")" "--unmatched=on: want off" "a bad --unmatched is named"
expect_match "$(cat "$TMP/e3")" "--unmatched=off: only with --path" "--unmatched=off alone"
expect_match "$(cat "$TMP/e4")" "--path=dst=10\\.0\\.0\\.1/8: not a path rule" "host bits after the prefix"
expect_match "$(cat "$TMP/e5")" "--path=port=0: not a path rule" "the launcher checks --path too"
expect_match "$("$BPF" list)" "idle=700" "the last good rule is still stored"
pass "bad --path and --unmatched refused by name"

# ---- detach and gc take the path rules too -----------------------------------
# A cgroup that goes without a detach: gc removes its path rules.
mkdir "$cg_root$CG-gc"
"$BPF" --cgroup="$CG-gc" --path='dst=127.0.0.2;idle=5' --path='port=22;idle=6' attach >/dev/null || fail "attach $CG-gc"
rmdir "$cg_root$CG-gc"
expect_eq "$("$BPF" gc)" "1 stale entries removed" "gc removes the entry of a cgroup that is gone"
"$BPF" --cgroup="$CG" detach || fail "detach"
expect_no_match "$("$BPF" list)" "path 1:.*idle=700" "detach removed the path rules"
"$BPF" --cgroup="$CG-live" detach || fail "detach live"
if command -v bpftool >/dev/null 2>&1; then
        expect_match "$(bpftool map getnext pinned "$TCPKEEPALIVE_BPF_PIN_DIR/paths" 2>&1 || true)" "can't get next key" \
                "the path rules' map is empty after detach and gc"
fi
out=$($CONN out "$PROCS" 127.0.0.2,0,0) || fail "the client: $out"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=0 " "after detach: nothing"
pass "detach removes the path rules"

# ---- a backend without the matcher (what load falls back to where the
# kernel refuses it, Linux < 5.12): no "paths" pin, path rules refused by
# name, the rest works, the live apply too ------------------------------------
"$BPF" unload
export TCPKEEPALIVE_BPF_OBJECT="$TKA_BUILDDIR/bpf/tcpkeepalive-nopaths.bpf.o"
"$BPF" load || fail "load the backend without the matcher"
[ ! -e "$TCPKEEPALIVE_BPF_PIN_DIR/paths" ] || fail "the backend without the matcher pinned a paths map"
set +e
"$BPF" --cgroup="$CG" --idle=100 --path='dst=127.0.0.2;idle=5' attach >/dev/null 2>"$TMP/e6"; rc6=$?
set -e
expect_eq "$rc6" 3 "attach --path without the matcher: exit status"
expect_match "$(cat "$TMP/e6")" "no path rule matcher" "attach --path without the matcher says why"
attach --idle=100
out=$($CONN out "$PROCS" 127.0.0.2,0,0) || fail "the client: $out"
expect_conn "$out" 127.0.0.2,0,0 "keepalive=1 idle=100 " "without the matcher: the unit's own values"
"$BPF" --cgroup="$CG" --idle=101 apply >"$TMP/apply" 2>&1 || fail "apply without the matcher: $(cat "$TMP/apply")"
"$BPF" --cgroup="$CG" detach || fail "detach"
pass "the backend without the matcher: path rules refused, the rest works"
