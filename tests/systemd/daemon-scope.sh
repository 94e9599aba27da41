#!/bin/sh
# Scopes and slices through the daemon (issue 15, items 3 and 7): no
# drop-in reaches these, a rule reaches them live only. With tcpkeepalived
# running and a rule `Unit=docker-*.scope` written first, a container
# manager's scope started after it (systemd-run --scope
# --unit=docker-<64 hex>.scope around socat) gets the rule's values on its
# connections with no change to its command: the daemon applies the rule
# when systemd says the scope became active. GetUnit, ListUnits and
# `tcpkeepalivectl check` report the scope `active` (method bpf-live); a
# slice rule reaches a scope started inside the slice; a scope that ends
# leaves no record behind. In nspawn's default sandbox, where bpf(2) is
# refused, the scope's state is `unsupported` and its reason names the
# refusal, never active.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd socat

BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
# GetUnit's row: (unit, state, reason, rule, pid, established, rule, own, none, unread, method)
row_of() { inside busctl call $BUS GetUnit s "$1"; }
state_of() { row_of "$1" | awk '{print $3}' | tr -d '"'; }
method_of() { row_of "$1" | awk '{print $NF}' | tr -d '"'; }
hex=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
docker=docker-$hex.scope

# scope NAME PORT [SYSTEMD-RUN OPTIONS]: a scope around a socat echo server on PORT.
scope() {
        _name=$1 _port=$2
        shift 2
        inside sh -c "systemd-run --quiet --scope $* --unit=$_name socat TCP-LISTEN:$_port,bind=127.0.0.1,fork,reuseaddr PIPE </dev/null >/dev/null 2>&1 &"
        wait_listening "$_port"
}
# wait_state UNIT STATE WHAT
state_fail() { container_fail "$_wait_what (GetUnit says: $(row_of "$_wait_unit" 2>&1))"; }
wait_state() {
        _wait_unit=$1 _wait_what="$3: $1 $2"
        WAIT_FAIL=state_fail wait_until 20 "$_wait_what" sh -c \
                "nsenter -t $CONTAINER_LEADER -a busctl call $BUS GetUnit s $1 | grep -q '^(ssssuuuuuus) \"$1\" \"$2\"'"
}
# rules_applied: the daemon has reloaded for the rules written so far.
rules_applied() {
        _r0=$1
        container_wait 20 "the daemon reloaded for the new rule" sh -c \
                "[ \$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Reloads | awk '{print \$2}') -gt $_r0 ]"
}
reloads() { inside busctl get-property $BUS Reloads | awk '{print $2}'; }

# ---- a host that allows BPF --------------------------------------------------------
container_boot tka-scope
container_start_daemon
r0=$(reloads)
printf '[Match]\nUnit=docker-*.scope\n[KeepAlive]\nIdleSec=78\nIntervalSec=12\nCount=5\n' |
        inside_write /etc/keepalived.d/50-docker.ini
rules_applied "$r0"

# A container started after the rule: nothing in its command knows of us.
scope "$docker" 7711
wait_state "$docker" active "a docker-<64 hex>.scope started after the rule"
expect_idle "$(connection_timer 7711)" 78 "the scope's connection (ss)"
expect_sockopts 7711 78 12 5 "a connection to the scope's server"
expect_eq "$(method_of "$docker")" bpf-live "the scope's method"
pass "a docker-<64 hex>.scope started after its rule: 78/12/5 on its connection, state active: $(row_of "$docker" | cut -d'"' -f6 | cut -c1-140)"

# ListUnits, status and check name it, as they name services.
inside busctl call $BUS ListUnits | grep -q "\"$docker\" \"active\"" ||
        container_fail "ListUnits does not list $docker as active: $(inside busctl call $BUS ListUnits | cut -c1-600)"
out=$(inside tcpkeepalivectl status 2>&1) || true
case $out in *"$docker"*) ;; *) container_fail "tcpkeepalivectl status does not list $docker: $out" ;; esac
out=$(inside tcpkeepalivectl check "$docker") || container_fail "tcpkeepalivectl check $docker failed: $out"
expect_match "$out" "^$docker: active: BPF, applied live" "tcpkeepalivectl check $docker"
out=$(inside tcpkeepalivectl show "$docker") || container_fail "tcpkeepalivectl show $docker failed: $out"
printf '%s\n' "$out" | grep -E '127\.0\.0\.1:7711 .* on +78 +12 +5 .*rule' >/dev/null ||
        container_fail "tcpkeepalivectl show $docker does not list the connection with the rule's values: $out"
pass "ListUnits, status, check and show report the scope active (bpf-live), its connection with the rule's values"

# A slice rule reaches a scope started inside the slice.
r0=$(reloads)
printf '[Match]\nUnit=tkatest.slice\n[KeepAlive]\nIdleSec=79\n' | inside_write /etc/keepalived.d/50-slice.ini
rules_applied "$r0"
scope inner.scope 7712 --slice=tkatest.slice
wait_state tkatest.slice active "a slice whose rule was written before it existed"
expect_idle "$(connection_timer 7712)" 79 "a connection of a scope inside tkatest.slice"
pass "a slice rule reaches a scope started inside the slice: idle 79; tkatest.slice $(state_of tkatest.slice)"

# A scope that ends leaves nothing behind: each container would.
inside systemctl stop "$docker"
container_wait 20 "the records of the stopped $docker gone" sh -c \
        "! nsenter -t $CONTAINER_LEADER -a test -e /run/tcpkeepalive/bpf/$docker"
if inside busctl call $BUS ListUnits | grep -q "\"$docker\""; then
        container_fail "ListUnits still lists the stopped $docker"
fi
if inside journalctl -u tcpkeepalived.service -o cat --no-pager | grep "^$docker: the live apply ended"; then
        container_fail "the daemon reported the cleanup of a stopped scope as a failed apply"
fi
pass "a stopped scope: its record removed, ListUnits no longer lists it, no failure logged"
container_stop

# ---- nspawn's default sandbox: bpf(2) refused ------------------------------------------------
CONTAINER_SANDBOX=default container_boot tka-scope-sandbox
container_start_daemon
r0=$(reloads)
printf '[Match]\nUnit=docker-*.scope\n[KeepAlive]\nIdleSec=78\n' | inside_write /etc/keepalived.d/50-docker.ini
rules_applied "$r0"
scope "$docker" 7711
wait_state "$docker" unsupported "a scope where bpf(2) is refused"
row=$(row_of "$docker")
case $row in
*"applying it failed: "*refused*) ;;
*) container_fail "the scope's reason where bpf(2) is refused does not name the refusal: $row" ;;
esac
pass "bpf(2) refused: the scope is unsupported, the reason names the refusal: $(printf '%s\n' "$row" | cut -d'"' -f6 | cut -c1-160)"
container_stop
