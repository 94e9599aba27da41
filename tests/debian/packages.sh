#!/bin/sh
# The Debian packages: built from this tree with dpkg-buildpackage, checked
# with lintian (no errors), installed with dpkg into a booted container (the
# host's tree under a throw-away overlay), used the way an admin would (a
# rule for a real server; ss and getsockopt on its connection; the library
# found through ld.so's $LIB; the per-service switch for another), removed
# while both servers run (the warning names them, nothing restarts them),
# then purged: nothing they installed is left, no switch link dangles, and
# systemd has forgotten the drop-ins and the switch instances.
. "$TKA_SRCDIR/tests/lib.sh"
. "$TKA_SRCDIR/tests/container.sh"
need_cmd dpkg-buildpackage dh lintian socat

# Build in a copy: the packaging writes into the tree.
mkdir "$TMP/src"
tar -C "$TKA_SRCDIR" --exclude=./.git --exclude='./build*' --exclude=./debian/build -cf - . | tar -C "$TMP/src" -xf -
# Without make's environment: the TESTS= of this `make check` would
# otherwise reach the package's own test step (and run this test again).
(cd "$TMP/src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEFILES -u TESTS \
        dpkg-buildpackage -us -uc -b) >"$TMP/build.log" 2>&1 ||
        fail "dpkg-buildpackage failed:
$(tail -n 40 "$TMP/build.log")"
arch=$(dpkg --print-architecture)
lib_deb=$TMP/libtcpkeepalive_0.1.0_$arch.deb
main_deb=$TMP/tcpkeepalive_0.1.0_$arch.deb
[ -f "$lib_deb" ] && [ -f "$main_deb" ] || fail "the packages are missing: $(ls "$TMP")"
lintian --tag-display-limit 0 "$TMP"/tcp-keepalive_0.1.0_"$arch".changes >"$TMP/lintian.log" 2>&1 || true
if grep -q '^E:' "$TMP/lintian.log"; then
        fail "lintian errors:
$(grep '^E:' "$TMP/lintian.log")"
fi
pass "dpkg-buildpackage -b: $(ls "$TMP"/*.deb | wc -l) packages; lintian: $(grep -c '^W:' "$TMP/lintian.log" || true) warnings, no errors"

# The split: the library alone in its package, multiarch.
expect_eq "$(dpkg-deb -f "$lib_deb" Multi-Arch)" same "libtcpkeepalive is Multi-Arch: same"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
expect_match "$(dpkg-deb -c "$lib_deb")" "\\./usr/lib/$multiarch/tcp-keepalive/libtcpkeepalive\\.so\$" "the library under the multiarch libdir"
expect_match "$(dpkg-deb -f "$main_deb" Depends)" "libtcpkeepalive \\(= 0\\.1\\.0\\)" "tcpkeepalive depends on the library"
pass "package split and multiarch layout"

# The packaged man pages name the package's paths (issue 18 item 3: they
# named a /usr/lib or /usr/local build's).
man_page() { dpkg-deb --fsys-tarfile "$1" | tar -xOf - "./usr/share/man/$2.gz" | gzip -dc | sed 's/\\-/-/g'; }
# shellcheck disable=SC2016
expect_match "$(man_page "$lib_deb" man7/libtcpkeepalive.7)" "^LD_PRELOAD='/usr/\\\$LIB/tcp-keepalive/libtcpkeepalive\\.so' " \
        "libtcpkeepalive(7): the package's LD_PRELOAD value"
expect_match "$(man_page "$lib_deb" man7/libtcpkeepalive.7)" "^\\.I /usr/lib/$multiarch/tcp-keepalive/libtcpkeepalive\\.so\$" \
        "libtcpkeepalive(7) FILES: the multiarch directory by its name"
expect_match "$(man_page "$main_deb" man8/tcpkeepalive-generator.8)" "^\\.B /lib/systemd/system-generators/tcpkeepalive-generator\$" \
        "tcpkeepalive-generator(8): the package's generator directory"
expect_match "$(man_page "$main_deb" man8/tcpkeepalive-bpf.8)" "/usr/libexec/tcp-keepalive/tcpkeepalive-bpf-launch" \
        "tcpkeepalive-bpf(8): the package's launcher"
pass "the packaged man pages name the package's paths"

CONTAINER_IMAGE=host-overlay container_boot tka-deb
# A build machine's policy-rc.d (it forbids starting services) is not what
# an admin's machine has; this one is the overlay's, gone after the test.
inside rm -f /usr/sbin/policy-rc.d
inside mkdir -p /var/tmp/debs
inside_write /var/tmp/debs/lib.deb <"$lib_deb"
inside_write /var/tmp/debs/main.deb <"$main_deb"
inside dpkg -i /var/tmp/debs/lib.deb /var/tmp/debs/main.deb >"$TMP/dpkg.log" 2>&1 ||
        container_fail "dpkg -i failed: $(cat "$TMP/dpkg.log")"
expect_eq "$(inside systemctl is-enabled tcpkeepalived.service)" enabled "postinst enabled the daemon"
[ "$(inside systemctl is-active tcpkeepalived.service)" = active ] ||
        container_fail "postinst did not start the daemon: $(cat "$TMP/dpkg.log")"
pass "dpkg -i: the daemon enabled and running"

# An admin's first rule, for a real server.
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7801,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/legacy.service
printf '[Match]\nUnit=legacy.service\n[KeepAlive]\nIdleSec=71\nIntervalSec=9\nCount=3\n' |
        inside_write /etc/keepalived.d/50-legacy.ini
inside systemctl daemon-reload
inside systemctl start legacy.service
wait_listening 7801
expect_idle "$(connection_timer 7801)" 71 "legacy.service under the packaged generator"
expect_sockopts 7801 71 9 3 "legacy.service under the packaged generator"
dropin=$(inside cat /run/systemd/generator/legacy.service.d/50-tcpkeepalive.conf)
# shellcheck disable=SC2016
expect_match "$dropin" 'LD_PRELOAD=/usr/\$LIB/tcp-keepalive/libtcpkeepalive\.so' "the drop-in names the library through \$LIB"
pid=$(inside systemctl show -P MainPID legacy.service)
expect_match "$(inside cat "/proc/$pid/maps")" "/usr/lib/$multiarch/tcp-keepalive/libtcpkeepalive\\.so" "ld.so found the $multiarch library"
expect_match "$(inside tcpkeepalivectl check legacy.service)" "^legacy.service: active: " "tcpkeepalivectl check"
pass "a rule for a real server works with the installed packages"

# The tcpkeepalive command, as packaged: its library path has $LIB, which
# ld.so expands (the command once checked the literal path and always
# failed, exit 3).
out=$(inside tcpkeepalive --idle=61 --interval=8 -- python3 -c 'import socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname())
print(c.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), c.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
      c.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL))' 2>&1) || fail "the packaged tcpkeepalive command failed: $out"
expect_eq "$out" "1 61 8" "a python3 client under the packaged tcpkeepalive command (keepalive, idle, interval)"
pass "the packaged tcpkeepalive command: idle 61, interval 8 on a python3 client's socket"

# /usr/local/lib/keepalived.d, which the docs name, is read by the packaged
# (--prefix=/usr) build too (it was not: the rule was ignored).
inside mkdir -p /usr/local/lib/keepalived.d
printf '[Match]\nUnit=local-only.service\n[KeepAlive]\nIdleSec=66\n' |
        inside_write /usr/local/lib/keepalived.d/60-local.ini
out=$(inside tcpkeepalivectl verify 2>&1) || true
expect_match "$out" "^/usr/local/lib/keepalived.d/60-local.ini: ok: idle=66s" "verify of the packaged build reads /usr/local/lib/keepalived.d"
expect_match "$(inside tcpkeepalivectl --help)" "/usr/local/lib/keepalived.d, /usr/lib/keepalived.d" "--help lists the four rule directories"
inside rm /usr/local/lib/keepalived.d/60-local.ini
pass "the packaged build reads /usr/local/lib/keepalived.d and says so in --help"

# The per-service switch for a second server, the way the README shows it.
printf '[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:7802,bind=127.0.0.1,fork,reuseaddr EXEC:/bin/cat\n' |
        inside_write /etc/systemd/system/switched.service
inside systemctl daemon-reload
inside systemctl enable tcpkeepalive@switched.service >/dev/null 2>&1
inside systemctl start switched.service
inside systemctl start tcpkeepalive@switched.service # waits for the check the start triggered
wait_listening 7802
expect_eq "$(inside systemctl is-active tcpkeepalive@switched.service)" active "the switch instance"
inside test -L /etc/systemd/system/switched.service.wants/tcpkeepalive@switched.service ||
        fail "systemctl enable made no switched.service.wants/tcpkeepalive@switched.service"
pass "the switch for a second server"

# Remove while both servers run with the library preloaded: the packages
# name them (the library is about to vanish from under their LD_PRELOAD)
# and do not restart them behind the admin's back.
legacy_pid=$(inside systemctl show -P MainPID legacy.service)
switched_pid=$(inside systemctl show -P MainPID switched.service)
inside dpkg -r tcpkeepalive libtcpkeepalive >"$TMP/remove.log" 2>&1 ||
        container_fail "dpkg -r failed: $(cat "$TMP/remove.log")"
removelog=$(cat "$TMP/remove.log")
expect_match "$removelog" "^tcpkeepalive: warning: .*libtcpkeepalive\.so preloaded" "dpkg -r tcpkeepalive warns"
expect_match "$removelog" "^libtcpkeepalive: warning: .*libtcpkeepalive\.so, which is being removed" "dpkg -r libtcpkeepalive warns"
expect_match "$removelog" "^  legacy\.service\$" "the warning names legacy.service (a rule)"
expect_match "$removelog" "^  switched\.service\$" "the warning names switched.service (the switch)"
expect_match "$removelog" "systemctl restart legacy\.service switched\.service" "the warning says how to restart them"
expect_no_match "$removelog" "^  (tcpkeepalived|tcpkeepalive@)" "the warning names only preloaded units"
expect_eq "$(inside systemctl show -P MainPID legacy.service)" "$legacy_pid" "legacy.service is not restarted by dpkg -r"
expect_eq "$(inside systemctl show -P MainPID switched.service)" "$switched_pid" "switched.service is not restarted by dpkg -r"
expect_eq "$(inside systemctl is-active tcpkeepalive@switched.service || true)" inactive "dpkg -r stops the switch instances"
sed 's/^/    /' "$TMP/remove.log"
pass "dpkg -r with preloaded services running: the warnings name $(sed -n 's/^  //p' "$TMP/remove.log" | sort -u | tr '\n' ' ')"

# Purge: nothing of the packages is left.
inside rm /etc/keepalived.d/50-legacy.ini
inside systemctl stop legacy.service switched.service
inside dpkg --purge tcpkeepalive libtcpkeepalive >"$TMP/purge.log" 2>&1 ||
        container_fail "dpkg --purge failed: $(cat "$TMP/purge.log")"
left=""
for f in $(dpkg-deb -c "$lib_deb" | awk '{print $6}') $(dpkg-deb -c "$main_deb" | awk '{print $6}'); do
        f=${f#.}
        case $f in */) continue ;; esac # directories are shared with other packages
        inside test -e "$f" && left="$left $f"
done
[ -z "$left" ] || fail "left after purge:$left"
for d in /etc/keepalived.d /usr/lib/keepalived.d "/usr/lib/$multiarch/tcp-keepalive" /usr/share/doc/tcpkeepalive; do
        inside test ! -e "$d" || fail "left after purge: $d"
done
inside systemctl daemon-reload
case $(inside sh -c 'ls /run/systemd/generator/*/50-tcpkeepalive.conf 2>/dev/null') in
?*) fail "drop-ins left after purge and daemon-reload" ;;
esac
expect_match "$(inside systemctl show -P LoadState tcpkeepalived.service)" "not-found" "the daemon's unit is gone"
pass "dpkg --purge leaves nothing behind"

# The switch's enablement, kept on remove as every unit's is, goes on purge:
# no dangling link, no empty UNIT.wants, no switch instance left loaded.
links=$(inside find /etc/systemd/system /run/systemd/system -name 'tcpkeepalive@*' 2>/dev/null || true)
[ -z "$links" ] || fail "links left after purge: $links"
inside test ! -e /etc/systemd/system/switched.service.wants || fail "left after purge: switched.service.wants"
expect_eq "$(inside systemctl list-units --all --plain --no-legend 'tcpkeepalive@*')" "" "switch instances loaded after purge"
pass "dpkg --purge removes the switch's links and systemd forgets its instances"
