#!/bin/sh
# Method=bpf on a system whose kernel refuses BPF (a container without
# bpf(2): nspawn's filter answers EPERM): tcpkeepalive-bpf records its
# failure when the unit starts, and the unit is "unsupported" with the
# helper's reason, never "pending-restart" (a restart would fail the same
# way). The record has cgroup_id=0: the helper failed before it opened the
# unit's cgroup.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

CONTAINER_BPF=refused container_boot tka-bpf-refused
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
getunit() { inside busctl call $BUS GetUnit s "$1"; }
state_of() { getunit "$1" | awk '{print $3}' | tr -d '"'; }
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7601,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/dynbpf.service
printf '[Match]\nUnit=dynbpf.service\n[KeepAlive]\nIdleSec=51\nMethod=bpf\n' | inside_write /etc/keepalived.d/50-bpf.ini
inside systemctl daemon-reload
inside systemctl start dynbpf.service
wait_listening 7601
container_start_daemon

record=$(inside cat /run/tcpkeepalive/bpf/dynbpf.service) || fail "no BPF record for dynbpf.service"
echo "the record: $record"
expect_match "$record" "method=error" "the helper recorded its failure"
expect_match "$record" "cgroup_id=0" "it failed before it opened the cgroup"
reason=$(printf '%s\n' "$record" | sed -n 's/^reason=//p')
expect_eq "$(state_of dynbpf.service)" unsupported "Method=bpf refused by the kernel"
expect_match "$(getunit dynbpf.service)" "\"$reason\"" "the reason is the helper's"
expect_no_match "$(getunit dynbpf.service)" "pending-restart|started before" "not pending-restart"
set +e
out=$(inside tcpkeepalivectl check dynbpf.service)
rc=$?
set -e
expect_eq "$rc" 1 "check exits 1: the process has no keepalive"
expect_match "$out" "^dynbpf.service: unsupported: $reason" "check prints the helper's reason"
pass "Method=bpf refused: unsupported ($reason)"
