#!/bin/sh
# tcpkeepalive-bpf on this machine, with a BPF file system and a cgroup of
# the test's own: usage errors, a missing object named, load (twice),
# attach with the parameters as options (a bad one refused and named; the
# environment never read), list,
# real sockets of a process in the cgroup, gc of a cgroup that is gone,
# unload. The service-level tests are in tests/systemd/bpf-backend.sh.
. "$TKA_SRCDIR/tests/lib.sh"
need_root
# The test build: the only one that takes the object and the pin directory
# from the environment (the installed one has them fixed).
BPF=$TKA_BUILDDIR/tests/bpf/tcpkeepalive-bpf-test
export TCPKEEPALIVE_BPF_OBJECT="$TKA_BUILDDIR/bpf/tcpkeepalive.bpf.o"

cg_root=$(cgroup2_root) || skip "no cgroup v2 hierarchy"
CG=/tka-test-$$
mkdir -p "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs" || fail "cannot mount a BPF file system"
cleanup() {
        for d in "$cg_root$CG/worker" "$cg_root$CG" "$cg_root$CG-in"; do
                [ -d "$d" ] && rmdir "$d" 2>/dev/null
        done
        umount "$TMP/bpffs" 2>/dev/null || true
}
on_exit cleanup
export TCPKEEPALIVE_BPF_PIN_DIR="$TMP/bpffs/tcpkeepalive"

# Usage errors: exit 2, and a message that says what is wrong.
set +e
"$BPF" >/dev/null 2>"$TMP/e1"; rc1=$?
"$BPF" frobnicate >/dev/null 2>"$TMP/e2"; rc2=$?
"$BPF" --cgroup=/system.slice/../../etc attach >/dev/null 2>"$TMP/e3"; rc3=$?
TCPKEEPALIVE_BPF_OBJECT=/nonexistent/tka.bpf.o "$BPF" load >/dev/null 2>"$TMP/e4"; rc4=$?
set -e
expect_eq "$rc1/$rc2/$rc3/$rc4" "2/2/2/1" "exit statuses: no command, unknown command, bad --cgroup, missing object"
expect_match "$(cat "$TMP/e2")" "unknown command 'frobnicate'" "unknown command named"
expect_match "$(cat "$TMP/e3")" "without \\.\\." "a cgroup path with .. refused"
expect_match "$(cat "$TMP/e4")" "cannot open /nonexistent/tka.bpf.o" "the missing object is named"
expect_match "$("$BPF" --help)" "attach \\[--auto\\]" "--help lists the commands"
pass "usage errors"

"$BPF" load || fail "load"
for pin in sockops setsockopt params; do
        [ -e "$TCPKEEPALIVE_BPF_PIN_DIR/$pin" ] || fail "load did not pin $pin"
done
"$BPF" load || fail "a second load (idempotent)"
pass "load pins the programs and the map, once"

mkdir "$cg_root$CG"
# A bad value is refused, named, and nothing is attached.
set +e
"$BPF" --cgroup="$CG" --idle=abc --interval=9 attach >/dev/null 2>"$TMP/warn"; rc=$?
set -e
expect_eq "$rc" 2 "attach --idle=abc: exit status"
expect_match "$(cat "$TMP/warn")" "--idle=abc: want a number in 1\\.\\.32767" "a bad value is named"
# TCPKEEPALIVE_* in the environment are not read (they were: a unit's
# environment chose what root stored).
out=$(TCPKEEPALIVE_IDLE=55 TCPKEEPALIVE_COUNT=7 TCPKEEPALIVE_MODE=default \
        "$BPF" --cgroup="$CG" --interval=9 --count=2 --mode=force attach 2>"$TMP/warn") || fail "attach: $(cat "$TMP/warn")"
expect_match "$out" "attached here" "attach attached the programs"
id=$(stat -c %i "$cg_root$CG")
expect_match "$("$BPF" list)" "^$id +force +both +0 +9 +2 +0  $cg_root$CG\$" "list shows the entry with its cgroup (options, not the environment)"

# A process in the cgroup: its connections get interval 9 and count 2
# (idle stays the kernel's: TCPKEEPALIVE_IDLE was not read).
sh -c "echo \$\$ > '$cg_root$CG/cgroup.procs'; exec '$TKA_BUILDDIR/tests/programs/sockprobe' connection4" >"$TMP/probe" 2>&1 ||
        fail "sockprobe in the cgroup: $(cat "$TMP/probe")"
idle=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)
expect_match "$(cat "$TMP/probe")" "^accepted keepalive=1 idle=$idle interval=9 count=2 " "getsockopt: the accepted end"
expect_match "$(cat "$TMP/probe")" "^client keepalive=1 idle=$idle interval=9 count=2 " "getsockopt: the connecting end"
pass "attach: the kernel sets the values on the cgroup's connections"

# A sub-cgroup inherits (no entry of its own: the nearest ancestor's).
mkdir "$cg_root$CG/worker"
sh -c "echo \$\$ > '$cg_root$CG/worker/cgroup.procs'; exec '$TKA_BUILDDIR/tests/programs/sockprobe' connection4" >"$TMP/probe" 2>&1 ||
        fail "sockprobe in the sub-cgroup: $(cat "$TMP/probe")"
expect_match "$(cat "$TMP/probe")" "^accepted keepalive=1 idle=$idle interval=9 count=2 " "a sub-cgroup inherits"
rmdir "$cg_root$CG/worker"
pass "sub-cgroups inherit their unit's parameters"

# Direction=inbound: accepted connections only.
mkdir "$cg_root$CG-in"
"$BPF" --cgroup="$CG-in" --idle=33 --direction=inbound attach >/dev/null || fail "attach inbound"
sh -c "echo \$\$ > '$cg_root$CG-in/cgroup.procs'; exec '$TKA_BUILDDIR/tests/programs/sockprobe' connection4" >"$TMP/probe" 2>&1 ||
        fail "sockprobe in the inbound cgroup: $(cat "$TMP/probe")"
expect_match "$(cat "$TMP/probe")" "^accepted keepalive=1 idle=33 " "inbound: the accepted end"
expect_match "$(cat "$TMP/probe")" "^client keepalive=0 " "inbound: not the connecting end"
"$BPF" --cgroup="$CG-in" detach || fail "detach"
rmdir "$cg_root$CG-in"
pass "Direction=inbound"

# The cgroup goes without a detach (a unit whose ExecStopPost never ran).
rmdir "$cg_root$CG"
expect_eq "$("$BPF" gc)" "1 stale entries removed" "gc removes the entry of a cgroup that is gone"
case $("$BPF" list) in *"$id "*) fail "the stale entry is still listed" ;; esac
pass "gc"

"$BPF" unload
[ ! -e "$TCPKEEPALIVE_BPF_PIN_DIR/params" ] || fail "unload left the map pinned"
pass "unload"

# The launcher, as systemd starts it for an Accept=yes service: stdout and
# stderr a socket, the unit's environment. It reads nothing of that
# environment (TZ naming a FIFO used to block it in syslog's time stamp,
# as root) and writes nothing into the socket.
LAUNCH=$TKA_BUILDDIR/tcpkeepalive-bpf-launch
[ -x "$LAUNCH" ] || fail "no $LAUNCH"
mkfifo "$TMP/tz-fifo"
out=$(python3 - "$LAUNCH" "$TMP/tz-fifo" <<'PY'
import socket, subprocess, sys
a, b = socket.socketpair()
try:
    r = subprocess.run([sys.argv[1], "bogus"], stdin=a, stdout=a, stderr=a, timeout=10,
                       env={"TZ": sys.argv[2], "LANGUAGE": "de"})
except subprocess.TimeoutExpired:
    print("blocked")
    sys.exit(0)
a.close()
b.settimeout(1)
try:
    data = b.recv(4096)
except socket.timeout:
    data = b""
print("exit=%d socket=%r" % (r.returncode, data))
PY
)
expect_eq "$out" "exit=2 socket=b''" "the launcher with a socket for stdio and TZ naming a FIFO"
pass "the launcher reads no TZ and writes nothing into a socket"
