#!/bin/sh
# Rules reach real services under a real systemd: each scenario drops rule
# files in /etc/keepalived.d, runs daemon-reload (the generator), starts the
# service (a real server: socat, memcached) and reads the keepalive timer of
# its accepted connection with ss.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"

container_boot tka-rules

unit() { # NAME EXECSTART [EXTRA-SERVICE-LINES]
        printf '[Service]\nExecStart=%s\n%s\n' "$2" "${3:-}" | inside_write "/etc/systemd/system/$1"
}
rule() { # FILE IDLE UNIT-GLOBS [EXTRA-LINES]
        printf '[Match]\nUnit=%s\n[KeepAlive]\nIdleSec=%s\nIntervalSec=5\nCount=3\n%s\n' "$3" "$2" "${4:-}" |
                inside_write "/etc/keepalived.d/$1"
}
socat_server() { echo "/usr/bin/socat TCP-LISTEN:$1,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat"; }

# -- an exact name, a template's instances, a glob, a server nobody here wrote
unit legacy.service "$(socat_server 7001)"
unit worker@.service "/usr/bin/socat TCP-LISTEN:%i,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat"
unit queue-mail.service "$(socat_server 7003)"
unit cache.service "/usr/bin/memcached -u nobody -l 127.0.0.1 -p 7004"
rule 50-legacy.ini 77 legacy.service
rule 50-workers.ini 88 "worker@*.service"
rule 50-queues.ini 66 "queue-*.service cache"
# -- a broken file beside the good ones
printf '[Match]\nUnit=legacy.service\n[KeepAlive]\nIdleSec=forever\n' | inside_write /etc/keepalived.d/60-broken.ini
inside systemctl daemon-reload
for u in legacy.service worker@7002.service queue-mail.service cache.service; do
        inside systemctl start "$u" || container_fail "cannot start $u"
done
for p in 7001 7002 7003 7004; do wait_listening $p; done
expect_idle "$(connection_timer 7001)" 77 "exact name legacy.service"
expect_sockopts 7001 77 5 3 "exact name legacy.service"
expect_idle "$(connection_timer 7002)" 88 "template instance worker@7002.service"
expect_sockopts 7002 88 5 3 "template instance worker@7002.service"
expect_idle "$(connection_timer 7003)" 66 "glob queue-*.service"
expect_sockopts 7003 66 5 3 "glob queue-*.service"
expect_idle "$(connection_timer 7004)" 66 "memcached (cache.service)"
expect_sockopts 7004 66 5 3 "memcached (cache.service)"
pass "exact name, template instance, glob, memcached; the broken file did not stop them"

set +e
verify=$(inside tcpkeepalivectl verify 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "tcpkeepalivectl verify exit status with a broken file"
expect_match "$verify" "/etc/keepalived.d/60-broken.ini:4: error: IdleSec=forever: not a time span" "verify names file, line, key, value"
expect_match "$verify" "50-legacy.ini: ok" "verify lists the good rules"
pass "verify reports the broken file"

# -- a masked rule: a file of the same name in /etc masks the one in /run
unit masked.service "$(socat_server 7005)"
inside mkdir -p /run/keepalived.d
printf '[Match]\nUnit=masked.service\n[KeepAlive]\nIdleSec=55\n' | inside_write /run/keepalived.d/50-masked.ini
inside systemctl daemon-reload
inside systemctl start masked.service
wait_listening 7005
expect_idle "$(connection_timer 7005)" 55 "a rule in /run before masking"
inside ln -s /dev/null /etc/keepalived.d/50-masked.ini
inside systemctl daemon-reload
inside systemctl restart masked.service
wait_listening 7005
line=$(connection_timer 7005)
expect_no_match "$line" "keepalive" "masked rule: no keepalive"
expect_eq "$(inside systemctl show -P DropInPaths masked.service)" "" "masked rule: no drop-in"
pass "a symlink to /dev/null in /etc masks the rule"

# -- a unit with its own LD_PRELOAD keeps it (ExtraPreload=)
extra=$(inside sh -c 'ls /usr/lib/x86_64-linux-gnu/libm.so.6 2>/dev/null || ls /lib/*/libm.so.6 | head -n1')
unit own-preload.service "$(socat_server 7006)" "Environment=LD_PRELOAD=$extra"
rule 50-own-preload.ini 44 own-preload.service "[Service]
ExtraPreload=$extra"
inside systemctl daemon-reload
inside systemctl start own-preload.service
wait_listening 7006
expect_idle "$(connection_timer 7006)" 44 "unit with its own LD_PRELOAD"
pid=$(inside systemctl show -P MainPID own-preload.service)
env=$(inside cat "/proc/$pid/environ" | tr '\0' '\n' | grep '^LD_PRELOAD=')
expect_match "$env" "^LD_PRELOAD=$PREFIX/lib/libtcpkeepalive.so:$extra\$" "LD_PRELOAD composed: ours, then the unit's"
pass "the unit's own preload is kept: $env"

# -- an admin's override.conf wins over the drop-in
inside mkdir -p /etc/systemd/system/legacy.service.d
printf '[Service]\nEnvironment=TCPKEEPALIVE_IDLE=99\n' | inside_write /etc/systemd/system/legacy.service.d/override.conf
inside systemctl daemon-reload
inside systemctl restart legacy.service
wait_listening 7001
expect_idle "$(connection_timer 7001)" 99 "override.conf's TCPKEEPALIVE_IDLE wins"
printf '[Service]\nEnvironment=LD_PRELOAD=\n' | inside_write /etc/systemd/system/legacy.service.d/override.conf
inside systemctl daemon-reload
inside systemctl restart legacy.service
wait_listening 7001
expect_no_match "$(connection_timer 7001)" "keepalive" "override.conf emptying LD_PRELOAD"
set +e
check=$(inside tcpkeepalivectl check legacy.service)
rc=$?
set -e
expect_eq "$rc" 1 "check exit status for an overridden unit"
expect_match "$check" "legacy.service: overridden: " "check says overridden"
pass "override.conf wins, and check says so"
