#!/bin/sh
# Issue 12, item 1: the drop-in's "+" step (root, outside the sandbox, with
# the unit's whole environment) loads nothing the unit chose. Two services
# run as nobody with a test library that records the uid of every process
# that loads it: one names it in its rule's ExtraPreload=, the other in an
# EnvironmentFile= (writable by nobody) that sets LD_PRELOAD; the first
# also points DBUS_SYSTEM_BUS_ADDRESS at a bus that is not there (the
# helper asks systemd over D-Bus for Method=auto). The libraries load in
# the services' own unprivileged processes (records of uid 65534), never
# in a root one (no record of uid 0), and the BPF backend still applies
# both rules. The launcher the drop-in runs has no ELF interpreter and no
# shared library.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd busybox readelf

REC_LIB=$TKA_BUILDDIR/.libs/libuidrecord.so
[ -f "$REC_LIB" ] || fail "$REC_LIB is not built"

CONTAINER_CGROUP=unified container_boot tka-bpf-priv
inside systemctl stop tcpkeepalived.service # its reloads would race the drop-ins (see bpf-backend.sh)
inside_write /etc/tka-uidrec-a.so <"$REC_LIB"
inside_write /etc/tka-uidrec-b.so <"$REC_LIB"
inside chmod 0755 /etc/tka-uidrec-a.so /etc/tka-uidrec-b.so
inside mkdir -m 1777 /run/uidrec
printf 'LD_PRELOAD=/etc/tka-uidrec-b.so\n' | inside_write /etc/uidrec-b.env
inside chown nobody /etc/uidrec-b.env

printf '[Service]
User=nobody
Environment=TKA_UID_RECORD_DIR=/run/uidrec
Environment=DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/uidrec/not-a-bus
ExecStartPre=/bin/true
ExecStart=/bin/busybox nc -ll -p 7611 -e /bin/busybox cat
' | inside_write /etc/systemd/system/extra.service
printf '[Service]
User=nobody
Environment=TKA_UID_RECORD_DIR=/run/uidrec
EnvironmentFile=/etc/uidrec-b.env
ExecStartPre=/bin/true
ExecStart=/usr/bin/socat TCP-LISTEN:7612,bind=127.0.0.1,fork,reuseaddr SYSTEM:"exec /bin/busybox cat"
' | inside_write /etc/systemd/system/envfile.service
printf '[Match]\nUnit=extra.service\n[KeepAlive]\nIdleSec=71\nIntervalSec=7\nCount=3\nMode=force\nMethod=auto\n[Service]\nExtraPreload=/etc/tka-uidrec-a.so\n' |
        inside_write /etc/keepalived.d/50-extra.ini
printf '[Match]\nUnit=envfile.service\n[KeepAlive]\nIdleSec=72\nIntervalSec=8\nCount=2\nMethod=bpf\n' |
        inside_write /etc/keepalived.d/50-envfile.ini
inside systemctl daemon-reload

dropin=$(inside cat /run/systemd/generator/extra.service.d/50-tcpkeepalive.conf) ||
        container_fail "no drop-in for extra.service"
expect_match "$dropin" "^ExecStartPre=-\\+/[^ ]*/tcpkeepalive-bpf-launch attach --unit=%n --auto --idle=71 --interval=7 --count=3 --mode=force$" \
        "the drop-in runs the launcher with the rule as arguments"
expect_match "$dropin" "^ExecStopPost=-\\+/[^ ]*/tcpkeepalive-bpf-launch detach --unit=%n$" "the drop-in detaches through the launcher"
expect_match "$dropin" "LD_PRELOAD=[^\"]*:/etc/tka-uidrec-a.so\"" "ExtraPreload= is in the unit's LD_PRELOAD"
launcher=$(printf '%s\n' "$dropin" | sed -n 's/^ExecStartPre=-+\([^ ]*\) .*/\1/p')
[ -f "$STAGE$launcher" ] || fail "the launcher $launcher is not installed (in $STAGE)"
headers=$(readelf -lW "$STAGE$launcher") || fail "readelf -l $launcher"
expect_no_match "$headers" "INTERP" "$launcher has no ELF interpreter"
expect_no_match "$(readelf -dW "$STAGE$launcher" 2>&1)" "NEEDED" "$launcher needs no shared library"
pass "the drop-in runs a static launcher, parameters as arguments"

inside systemctl start extra.service envfile.service
wait_listening 7611
wait_listening 7612

# The BPF backend applied both rules: static busybox under Method=auto
# (the question to systemd went to the real bus), socat under Method=bpf.
expect_idle "$(connection_timer 7611)" 71 "extra.service (static, Method=auto, as nobody)"
expect_sockopts 7611 71 7 3 "extra.service (static, Method=auto, as nobody)"
expect_idle "$(connection_timer 7612)" 72 "envfile.service (Method=bpf, as nobody)"
expect_sockopts 7612 72 8 2 "envfile.service (Method=bpf, as nobody)"
expect_match "$(inside journalctl -u extra.service)" "extra.service: BPF \\(/bin/busybox is statically linked\\)" \
        "Method=auto asked the real systemd"
pass "the BPF backend applies both rules"

records=$(inside sh -c 'cat /run/uidrec/[0-9]* 2>/dev/null')
expect_match "$records" "^uid=65534 euid=65534 lib=/etc/tka-uidrec-a.so " "the ExtraPreload= library loads in the service's own processes"
expect_match "$records" "^uid=65534 euid=65534 lib=/etc/tka-uidrec-b.so " "the EnvironmentFile= library loads in the service's own processes"
expect_no_match "$records" "^uid=0 |euid=0 " "a library the unit chose was loaded into a root process"
pass "the unit's libraries load as nobody, never as root"

inside systemctl stop extra.service envfile.service
inside test ! -e /run/tcpkeepalive/bpf/extra.service || fail "the record of extra.service is left after stop (detach)"
inside test ! -e /run/tcpkeepalive/bpf/envfile.service || fail "the record of envfile.service is left after stop (detach)"
expect_eq "$(inside tcpkeepalive-bpf list | tail -n +2)" "" "no map entry is left after stop"
records=$(inside sh -c 'cat /run/uidrec/[0-9]* 2>/dev/null')
expect_no_match "$records" "^uid=0 |euid=0 " "ExecStopPost=: a library the unit chose was loaded into a root process"
pass "detach at stop, through the launcher too"
container_stop
