#!/bin/sh
# What a service controls cannot break tcpkeepalived's answers: a process
# that rewrites its TCPKEEPALIVE_* environment with bytes that are not
# UTF-8 and a terminal escape, and a static program whose file name holds
# a newline and such a byte, both run as nobody. Their reasons come back
# escaped, on one line; ListUnits still answers for every unit.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd busybox socat

container_boot tka-hostile
BUS="org.tcpkeepalive1 /org/tcpkeepalive1 org.tcpkeepalive1.Manager"
call() { inside busctl call $BUS "$@"; }

inside mkdir -p /opt/hostile
# printf's octal escapes: \377 is no UTF-8, \033 starts a terminal escape, \012 a newline.
# (the newline inside printf: $(...) drops trailing ones)
# (in a directory's name: busybox takes its applet from the file's)
inside sh -c 'd="/opt/hostile/bb$(printf "\377\012x")" && mkdir "$d" && cp /bin/busybox "$d/"'
printf '#!/bin/sh\nexec env "TCPKEEPALIVE_IDLE=$(printf "\\377\\033[31m")" /usr/bin/socat TCP-LISTEN:7501,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /opt/hostile/env.sh
printf '#!/bin/sh\nexec "/opt/hostile/bb$(printf "\\377\\012x")/busybox" nc -ll -p 7502 -e /bin/cat\n' |
        inside_write /opt/hostile/exe.sh
inside chmod 755 /opt/hostile/env.sh /opt/hostile/exe.sh
for u in env exe; do
        printf '[Service]\nUser=nobody\nExecStart=/opt/hostile/%s.sh\n' "$u" | inside_write "/etc/systemd/system/hostile-$u.service"
done
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7503,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/plain.service
printf '[Match]\nUnit=hostile-env hostile-exe plain\n[KeepAlive]\nIdleSec=51\n' | inside_write /etc/keepalived.d/50-all.ini
inside systemctl daemon-reload
inside systemctl start hostile-env.service hostile-exe.service plain.service
for port in 7501 7502 7503; do wait_listening $port; done
container_start_daemon

list=$(call ListUnits) || container_fail "ListUnits failed with hostile services running: $list"
expect_match "$list" '"plain.service" "active"' "ListUnits answers for the other units"
env_reason=$(call GetUnit s hostile-env.service) || container_fail "GetUnit hostile-env.service failed: $env_reason"
# Started after its drop-in, it is judged by its connections (none yet), not
# by the environ it rewrote; check shows that environ, escaped.
env_check=$(inside tcpkeepalivectl check hostile-env.service 2>&1) || true
case $env_check in *"$(printf '\033')"*) fail "tcpkeepalivectl check prints a raw escape: $env_check" ;; esac
expect_match "$env_check" 'settings: .*TCPKEEPALIVE_IDLE=\\xff\\x1b\[31m ' "the environment shown escaped"
exe_reason=$(call GetUnit s hostile-exe.service) || container_fail "GetUnit hostile-exe.service failed: $exe_reason"
expect_match "$exe_reason" 'bb\\\\xff\\\\x0ax/busybox is statically linked' "the program's name shown escaped"
status=$(inside tcpkeepalivectl status 2>&1) || true
case $status in *"$(printf '\033')"*) fail "tcpkeepalivectl status prints a raw escape: $status" ;; esac
expect_match "$status" "plain.service" "tcpkeepalivectl status lists the units"
pass "a service's own bytes come back escaped; ListUnits and status still answer"
