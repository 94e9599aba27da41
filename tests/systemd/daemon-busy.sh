#!/bin/sh
# tcpkeepalived on a busy host (issue 14, items 2, 4 and 5), in a real systemd:
#  - an Accept=yes socket whose per-connection instances come and go: the
#    daemon's record holds the instances loaded now, not every one ever
#    seen, and a rule change is still applied at once;
#  - a local user flooding GetUnit gets "ask again" beyond its share,
#    while root's status is answered at once;
#  - a rule naming 10,000 units: the daemon is READY at once and checks
#    the units in the background, loading none of them into PID 1.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd socat python3

container_boot tka-busy
# Started here: a prefix outside /usr (make distcheck's) does not enable it at boot.
container_start_daemon
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
reloads() { inside busctl get-property $BUS Reloads | awk '{print $2}'; }
n_states() { inside busctl get-property $BUS UnitStates | awk '{print $2}'; }
daemon_rss_kb() { inside sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$(inside systemctl show -P MainPID tcpkeepalived.service)/status"; }

# ---- per-connection instances ----------------------------------------------------
# As an Accept=yes socket's (systemd 252 in this container cannot run those
# reliably: "Failed to join unit cgroup"): N instances of a template, each
# a short-lived process, started and gone.
printf '[Service]\nExecStart=/bin/sleep 0.2\n' | inside_write /etc/systemd/system/echo@.service
printf '[Match]\nUnit=echo@*.service\n[KeepAlive]\nIdleSec=61\n' | inside_write /etc/keepalived.d/50-echo.ini
inside systemctl daemon-reload
N=300
# shellcheck disable=SC2046
inside systemctl start --no-block $(seq -f 'echo@%g.service' 1 $N)
# The instances end; systemd unloads them (a failed one once reset: a
# loaded container under load sometimes fails to set up a cgroup).
container_wait 120 "the $N echo@ instances ended" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a systemctl list-units --all --no-legend --state=active,activating,deactivating 'echo@*' | wc -l) -eq 0 ]"
inside systemctl reset-failed 'echo@*' 2>/dev/null || true
container_wait 60 "the $N echo@ instances unloaded" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a systemctl list-units --all --no-legend 'echo@*' | wc -l) -eq 0 ]"
container_wait 90 "tcpkeepalived's record emptied of the gone instances (UnitStates: \$(n_states))" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS UnitStates | awk '{print \$2}') -le 2 ]"
pass "after $N per-connection instances: the record holds $(n_states) unit(s), RSS $(daemon_rss_kb) kB"

r0=$(reloads)
t0=$(now_ms)
printf '[Match]\nUnit=echo@*.service\n[KeepAlive]\nIdleSec=62\n' | inside_write /etc/keepalived.d/50-echo.ini
container_wait 10 "the rule change applied" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Reloads | awk '{print \$2}') -gt $r0 ]"
t=$(($(now_ms) - t0))
[ "$t" -lt 4000 ] || fail "a rule change took $t ms to apply after $N instances"
pass "a rule change applied in $t ms (settle 100 ms included) after $N instances"

# ---- a flooding user ---------------------------------------------------------------
# nobody sends 3,000 GetUnit calls at once over one connection (a client
# speaking D-Bus itself, as an attacker would), while root asks for its
# status. Beyond its share nobody is told to ask again, at no cost to root.
cat <<'PY' | inside_write /etc/flood.py
# Minimal D-Bus client: EXTERNAL auth, Hello, then N GetUnit calls sent at
# once; counts the method returns and the errors of the replies.
import os, socket, struct, sys
def pad(b, n, base=0): return b + b"\0" * ((-(len(b) + base)) % n)
def field(code, sig, v):
    v = v.encode()
    f = bytes([code, 1]) + sig.encode() + b"\0"
    if sig == "g": return f + bytes([len(v)]) + v + b"\0"
    return pad(f, 4) + struct.pack("<I", len(v)) + v + b"\0"
def call(serial, dest, path, iface, member, sig="", body=b""):
    fields = [field(1, "o", path), field(2, "s", iface), field(3, "s", member), field(6, "s", dest)]
    if sig: fields.append(field(8, "g", sig))
    arr = b""
    for f in fields: arr = pad(arr, 8) + f
    head = struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body), serial, len(arr)) + arr
    return pad(head, 8) + body
n = int(sys.argv[1]); unit = sys.argv[2].encode()
s = socket.socket(socket.AF_UNIX); s.connect("/run/dbus/system_bus_socket"); s.settimeout(120)
s.sendall(b"\0AUTH EXTERNAL " + str(os.geteuid()).encode().hex().encode() + b"\r\n")
assert s.recv(512).startswith(b"OK"); s.sendall(b"BEGIN\r\n")
out = call(1, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello")
body = struct.pack("<I", len(unit)) + unit + b"\0"
for i in range(n):
    out += call(i + 2, "org.tcpkeepalive1", "/org/tcpkeepalive1", "org.tcpkeepalive1.Manager", "GetUnit", "s", body)
s.sendall(out)
buf, got, errors = b"", 0, 0
while got < n + 1:
    while len(buf) < 16: buf += s.recv(65536)
    blen, flen = struct.unpack_from("<I", buf, 4)[0], struct.unpack_from("<I", buf, 12)[0]
    total = 16 + flen + (-(16 + flen)) % 8 + blen
    while len(buf) < total: buf += s.recv(65536)
    if buf[1] == 3: errors += 1
    if buf[1] in (2, 3): got += 1
    buf = buf[total:]
print("replies %d errors %d" % (got - 1, errors))
PY
t0=$(now_ms)
inside tcpkeepalivectl status >/dev/null || fail "root's status failed"
base=$(($(now_ms) - t0))
inside setpriv --reuid=65534 --regid=65534 --clear-groups python3 /etc/flood.py 3000 tcpkeepalived.service >"$TMP/flood" &
flood=$!
container_wait 30 "nobody's flood under way" sh -c "nsenter -t $CONTAINER_LEADER -a pgrep -u 65534 python3 >/dev/null"
t0=$(now_ms)
inside tcpkeepalivectl status >/dev/null || fail "root's status failed during the flood"
t=$(($(now_ms) - t0))
wait "$flood" || fail "the flood client failed: $(cat "$TMP/flood")"
flood_result=$(cat "$TMP/flood")
refused=$(echo "$flood_result" | awk '{print $4}')
[ "${refused:-0}" -gt 2000 ] || fail "nobody's 3,000 calls at once: $flood_result; want most told to ask again"
# Measured against root's status without the flood, in the same run: the
# host's own load (CI, other tests) counts in both.
[ "$t" -lt $((3 * base + 2000)) ] || fail "root's status took $t ms during nobody's flood, $base ms without"
pass "root's status answered in $t ms during nobody's 3,000 GetUnit calls ($base ms without; $flood_result)"

# ---- 10,000 names in one rule --------------------------------------------------------
inside python3 -c '
with open("/etc/keepalived.d/60-many.ini", "w") as f:
    f.write("[Match]\n")
    for i in range(10000):
        f.write("Unit=many-%d.service\n" % i)
    f.write("[KeepAlive]\nIdleSec=70\n")
'
inside tcpkeepalivectl reload
# The daemon works through its queue of 10,000 units in the background: a
# stop is answered between two short batches, not after the queue.
t0=$(now_ms)
inside systemctl stop tcpkeepalived.service
t_stop=$(($(now_ms) - t0))
[ "$t_stop" -lt 3000 ] || fail "the daemon took $t_stop ms to stop with 10,000 units queued"
t0=$(now_ms)
container_start_daemon
t=$(($(now_ms) - t0))
# The goal (READY in under 5 s) is bench/daemon-busy.sh's figure; here a
# bound well below the 30 s watchdog, wider under ASan (4.1 s measured).
ready_limit=5000
[ -z "${TKA_SANITIZER_REPORTS:-}" ] || ready_limit=15000
[ "$t" -lt "$ready_limit" ] || fail "READY took $t ms with 10,000 names: $(inside journalctl -u tcpkeepalived.service -n 5 -o short-monotonic --no-pager | tr '\n' ' ')"
loaded=$(inside systemctl list-units --all --no-legend 'many-*' | wc -l)
expect_eq "$loaded" 0 "units loaded into PID 1 by the daemon's checks"
r0=$(reloads)
t0=$(now_ms)
sed_rule='s/IdleSec=70/IdleSec=71/'
inside sed -i "$sed_rule" /etc/keepalived.d/60-many.ini
container_wait 20 "the rule change applied" sh -c \
        "[ \$(nsenter -t $CONTAINER_LEADER -a busctl get-property $BUS Reloads | awk '{print \$2}') -gt $r0 ]"
t2=$(($(now_ms) - t0))
expect_eq "$(inside systemctl is-active tcpkeepalived.service)" active "the daemon after a rule change with 10,000 names"
pass "10,000 names: READY in $t ms (stopped in $t_stop ms), a rule change applied in $t2 ms, RSS $(daemon_rss_kb) kB, no unit loaded"
container_stop
