#!/bin/sh
# An Accept=yes service (inetd style) has the client's connection as its
# stdin, stdout and stderr. The library's warning about a bad value
# (libkeepalive's KEEPIDLE=75s) and its debug lines must not reach the
# client: they go to syslog, which is the journal (issue 12: the client
# read "tcpkeepalive: ignoring KEEPIDLE='75s'..." in its protocol stream).
# And an ordinary service, whose stderr is the journal's stream socket,
# still gets its messages into the journal.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd socat

container_boot tka-accept

# client_line PORT TEMPLATE OUT: one line sent to the Accept=yes service on
# PORT, its answer in OUT. systemd 252 in this container now and then cannot
# move an instance's process into its cgroup (219/CGROUP, "Failed to join
# unit cgroup"): the instance never ran, the client got nothing. Only then,
# up to 3 times, the line is sent again; anything else is the answer.
client_line() {
        _try=0
        while :; do
                inside sh -c "printf 'hello\\n' | timeout 20 socat -t 10 - TCP:127.0.0.1:$1" >"$3" ||
                        container_fail "the client's connection to the Accept=yes service on port $1 failed"
                [ -s "$3" ] && return 0
                _try=$((_try + 1))
                inside journalctl --no-pager -o cat -u "$2" | grep -q '219/CGROUP' || return 0
                [ $_try -lt 3 ] || return 0
                echo "note: $2: systemd could not start the instance (219/CGROUP); the line is sent again"
        done
}
LIB=$PREFIX/lib/libtcpkeepalive.so
inside test -r "$LIB" || container_fail "the library is not installed at $LIB"

printf '[Socket]\nListenStream=127.0.0.1:7501\nAccept=yes\n' | inside_write /etc/systemd/system/echo-accept.socket
printf '[Service]\nExecStart=/bin/cat\nStandardInput=socket\nEnvironment=LD_PRELOAD=%s KEEPIDLE=75s KEEPINTVL=9 TCPKEEPALIVE_DEBUG=1\n' "$LIB" |
        inside_write /etc/systemd/system/echo-accept@.service
inside systemctl daemon-reload
inside systemctl start echo-accept.socket
wait_listening 7501

# The client sends one line and half-closes; cat echoes it and exits.
client_line 7501 'echo-accept@*' "$TMP/client"
expect_eq "$(cat -v "$TMP/client")" "hello" "what the client received"
pass "the client received its own line and nothing else"

journal() { inside journalctl --no-pager -o cat -t cat; }
container_wait 15 "the warning in the journal" sh -c \
        "nsenter -t $CONTAINER_LEADER -a journalctl --no-pager -o cat | grep -q \"tcpkeepalive: ignoring KEEPIDLE='75s'\""
container_wait 15 "the debug lines in the journal" sh -c \
        "nsenter -t $CONTAINER_LEADER -a journalctl --no-pager -o cat | grep -q 'tcpkeepalive: fd 0 (inherited connection): keepalive on'"
line=$(inside journalctl --no-pager -o verbose --grep "ignoring KEEPIDLE" | grep -E '^ *(_SYSTEMD_UNIT|SYSLOG_IDENTIFIER)=' | tr -d ' ' | sort | tr '\n' ' ')
expect_match "$line" "SYSLOG_IDENTIFIER=cat" "the warning names the program"
expect_match "$line" "_SYSTEMD_UNIT=echo-accept@[^ ]+\.service" "the warning is in the service's journal"
pass "the warning and the debug lines went to the journal: $line"

# Keepalive itself: KEEPINTVL=9 applied to the connection (fd 0).
inside sh -c '(sleep 20 | socat - TCP:127.0.0.1:7501 >/dev/null 2>&1 &)'
container_wait 10 "a connection to the Accept=yes service" \
        sh -c "nsenter -t $CONTAINER_LEADER -a ss -Htnp state established 'sport = :7501' | grep -q cat"
expect_sockopts 7501 "$(inside cat /proc/sys/net/ipv4/tcp_keepalive_time)" 9 "$(inside cat /proc/sys/net/ipv4/tcp_keepalive_probes)" \
        "the Accept=yes service's connection"
pass "the connection has keepalive"

# An ordinary service: stderr is journald's stream (a Unix socket); the
# message reaches the journal too, through syslog.
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7502,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\nEnvironment=LD_PRELOAD=%s KEEPIDLE=76s\n' "$LIB" |
        inside_write /etc/systemd/system/plain.service
inside systemctl daemon-reload
inside systemctl start plain.service
container_wait 15 "plain.service's warning in the journal" sh -c \
        "nsenter -t $CONTAINER_LEADER -a journalctl --no-pager -o cat -u plain.service | grep -q \"tcpkeepalive: ignoring KEEPIDLE='76s'\""
pass "an ordinary service's warning is in its journal"

# The same for the BPF backend's privileged step: systemd gives an
# Accept=yes service's ExecStartPre= and ExecStopPost= the client's
# connection as stdout and stderr too; tcpkeepalive-bpf's report of what it
# attached goes to the journal, never to the client.
printf '[Socket]\nListenStream=127.0.0.1:7503\nAccept=yes\n' | inside_write /etc/systemd/system/echo-bpf.socket
printf '[Service]\nExecStart=/bin/cat\nStandardInput=socket\n' | inside_write /etc/systemd/system/echo-bpf@.service
printf '[Match]\nUnit=echo-bpf@*.service\n[KeepAlive]\nIdleSec=61\nMethod=bpf\n' | inside_write /etc/keepalived.d/50-echo-bpf.ini
inside systemctl daemon-reload
inside systemctl start echo-bpf.socket
wait_listening 7503
client_line 7503 'echo-bpf@*' "$TMP/client-bpf"
expect_eq "$(cat -v "$TMP/client-bpf")" "hello" "what the BPF service's client received"
container_wait 15 "tcpkeepalive-bpf's attach report in the journal" sh -c \
        "nsenter -t $CONTAINER_LEADER -a journalctl --no-pager -o cat -t tcpkeepalive-bpf | grep -q 'echo-bpf@.*: BPF (Method=bpf): cgroup .* idle=61'"
pass "tcpkeepalive-bpf wrote nothing into the client's connection; its report is in the journal"
