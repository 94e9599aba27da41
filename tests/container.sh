# tests/container.sh: a real systemd, booted in a container, with
# this build installed. Sourced after tests/lib.sh.
#
#   container_boot NAME   stage `make install`, boot, wait until systemd is up;
#                         the container is always stopped when the test exits
#   inside CMD...         run CMD in the container (all its namespaces)
#   inside_write PATH     write stdin to PATH in the container
#   container_fail MSG    fail with the container's journal attached
#   container_wait S WHAT CMD...  bounded wait; on timeout, container_fail
#
# The container runs the host's /usr with the staged install laid over it
# (--overlay-ro), a volatile / and /etc (nothing persists), its own network
# namespace (nothing clashes with the host's ports), cgroup v2 only.
# nspawn's own seccomp allow-list lacks pidfd_getfd (tcpkeepalived reads
# services' sockets with it), hence --system-call-filter (but with
# CONTAINER_SANDBOX=default, see container_boot). A prefix outside
# /usr (make distcheck's) is bound at its own path instead, and its units,
# generator and D-Bus policy are linked where systemd and dbus look, in the
# container's /etc; its rule directory is the container's /etc/keepalived.d.

need_root
need_cmd systemd-nspawn nsenter

CONTAINER_PID=""
CONTAINER_LEADER=""

container_stage() {
        STAGE=$TMP/stage
        # Not the parent make's jobserver (make check -jN): its descriptors
        # are not passed to tests.
        (cd "$TKA_BUILDDIR" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s install DESTDIR="$STAGE") \
                >"$TMP/install.log" 2>&1 || fail "make install DESTDIR=$STAGE failed:
$(cat "$TMP/install.log")"
        [ -f "$TKA_BUILDDIR/tests/install-dirs.sh" ] || fail "$TKA_BUILDDIR/tests/install-dirs.sh missing: run make first"
        . "$TKA_BUILDDIR/tests/install-dirs.sh"
        PREFIX=$prefix
        case $PREFIX in
        /usr | /usr/*) CONTAINER_FS="--overlay-ro=/usr:$STAGE/usr:/usr" ;;
        /*) CONTAINER_FS="--bind=$STAGE$PREFIX:$PREFIX" ;;
        *) fail "prefix '$PREFIX' is not an absolute path" ;;
        esac
}

# A prefix outside /usr: show systemd and dbus what it installed, where
# they look, then reload both.
container_link_prefix() {
        case $PREFIX in /usr | /usr/*) return 0 ;; esac
        inside mkdir -p /etc/systemd/system-generators /etc/dbus-1/system.d
        for f in "$STAGE$unitdir"/*; do
                inside ln -sf "$unitdir/${f##*/}" "/etc/systemd/system/${f##*/}"
        done
        for f in "$STAGE$generatordir"/*; do
                inside ln -sf "$generatordir/${f##*/}" "/etc/systemd/system-generators/${f##*/}"
        done
        for f in "$STAGE$dbuspolicydir"/*; do # copied: it may be under /usr, not bound here
                inside_write "/etc/dbus-1/system.d/${f##*/}" <"$f"
        done
        if [ "$sysconfdir" != /etc ]; then
                inside rm -rf "$sysconfdir/keepalived.d"
                inside mkdir -p "$sysconfdir"
                inside ln -s /etc/keepalived.d "$sysconfdir/keepalived.d"
        fi
        # Our units' sandboxes hide /tmp and /home, where such a prefix
        # (make distcheck's _inst) often lives: make it visible, read-only.
        for u in tcpkeepalived.service tcpkeepalive@.service tcpkeepalive-apply@.service; do
                inside mkdir -p "/etc/systemd/system/$u.d"
                printf '[Service]\nBindReadOnlyPaths=%s\nProtectHome=read-only\n' "$PREFIX" |
                        inside_write "/etc/systemd/system/$u.d/test-prefix.conf"
        done
        inside busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
        inside systemctl daemon-reload
}

container_stop() {
        [ -n "$CONTAINER_PID" ] || return 0
        # SIGTERM makes nspawn power the container off; wait for it, bounded.
        kill "$CONTAINER_PID" 2>/dev/null || true
        _i=0
        while kill -0 "$CONTAINER_PID" 2>/dev/null && [ $_i -lt 150 ]; do
                sleep 0.1
                _i=$((_i + 1))
        done
        kill -9 "$CONTAINER_PID" 2>/dev/null || true
        CONTAINER_PID=""
        if [ -n "${CONTAINER_BPFFS:-}" ]; then
                umount "$CONTAINER_BPFFS" 2>/dev/null || true
                CONTAINER_BPFFS=""
        fi
        if [ -n "${CONTAINER_OVERLAY:-}" ]; then
                umount "$CONTAINER_OVERLAY/root" 2>/dev/null || true
                umount "$CONTAINER_OVERLAY/ovl" 2>/dev/null || true
                CONTAINER_OVERLAY=""
        fi
}

container_boot() {
        _name=$1-$$
        # CONTAINER_IMAGE=host-overlay: no staged install; the host's root
        # file system under an overlay whose writes go to a tmpfs, so that
        # packages can be installed inside and everything is gone after.
        _root=/
        if [ "${CONTAINER_IMAGE:-}" = host-overlay ]; then
                mkdir -p "$TMP/ovl" "$TMP/root"
                mount -t tmpfs tmpfs "$TMP/ovl" || fail "cannot mount a tmpfs on $TMP/ovl"
                mkdir "$TMP/ovl/upper" "$TMP/ovl/work"
                mount -t overlay overlay -o "lowerdir=/,upperdir=$TMP/ovl/upper,workdir=$TMP/ovl/work" "$TMP/root" ||
                        fail "cannot mount an overlay of / on $TMP/root"
                CONTAINER_OVERLAY=$TMP
                _root=$TMP/root
                CONTAINER_FS=""
                PREFIX=/usr
        else
                container_stage
                CONTAINER_FS="--volatile=yes $CONTAINER_FS"
        fi
        # CONTAINER_CGROUP=hybrid boots the container the way this host
        # runs (cgroup v1 with the v2 hierarchy beside it) where the host
        # is hybrid; the default is cgroup v2 only.
        # (nspawn picks hybrid when the variable is unset and the host is.)
        if [ "${CONTAINER_CGROUP:-unified}" = hybrid ]; then
                [ -d /sys/fs/cgroup/unified ] || fail "CONTAINER_CGROUP=hybrid needs a hybrid host"
                _cgenv="-u SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"
        else
                _cgenv="SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1"
        fi
        # The BPF backend's tests need bpf(2) (nspawn's filter lacks it) and
        # a BPF file system at /sys/fs/bpf: a fresh instance per container,
        # so that parallel tests never share pinned programs or maps.
        # CONTAINER_BPF=refused leaves bpf(2) to nspawn's filter, which
        # answers EPERM: a system whose kernel says no to BPF.
        _syscalls='pidfd_open pidfd_getfd bpf'
        [ "${CONTAINER_BPF:-}" = refused ] && _syscalls='pidfd_open pidfd_getfd'
        # CONTAINER_SANDBOX=default: nspawn's own system call filter and
        # capabilities, nothing added: pidfd_getfd and bpf(2) are refused to
        # everything the container's systemd starts, as on a restricted host
        # (the daemon cannot read a service's sockets). Commands run with
        # `inside` (nsenter) are not under that filter.
        _caps=CAP_BPF,CAP_PERFMON
        if [ "${CONTAINER_SANDBOX:-}" = default ]; then
                _syscalls=""
                _caps=""
        fi
        mkdir -p "$TMP/bpffs"
        mount -t bpf bpf "$TMP/bpffs" || fail "cannot mount a BPF file system on $TMP/bpffs"
        CONTAINER_BPFFS=$TMP/bpffs
        # shellcheck disable=SC2086
        env $_cgenv systemd-nspawn --quiet --keep-unit --register=no \
                --private-network -D "$_root" -M "$_name" \
                ${_syscalls:+--system-call-filter="$_syscalls"} ${_caps:+--capability=$_caps} \
                --bind="$TMP/bpffs:/sys/fs/bpf" \
                ${TKA_SANITIZER_REPORTS:+--bind="$TMP/sanitizer:$TKA_SANITIZER_REPORTS"} \
                $CONTAINER_FS -b systemd.firstboot=off \
                >"$TMP/container.log" 2>&1 </dev/null &
        CONTAINER_PID=$!
        on_exit container_stop
        _deadline=$(($(date +%s) + 60))
        while :; do
                kill -0 "$CONTAINER_PID" 2>/dev/null || fail "systemd-nspawn exited:
$(tail -n 30 "$TMP/container.log")"
                CONTAINER_LEADER=$(pgrep -P "$CONTAINER_PID" | head -n1 || true)
                if [ -n "$CONTAINER_LEADER" ]; then
                        _state=$(nsenter -t "$CONTAINER_LEADER" -a systemctl is-system-running 2>/dev/null || true)
                        case $_state in running | degraded) break ;; esac
                fi
                [ "$(date +%s)" -lt "$_deadline" ] || fail "systemd in the container not up after 60 s (state '$_state'):
$(tail -n 30 "$TMP/container.log")"
                sleep 0.1
        done
        [ "${CONTAINER_IMAGE:-}" = host-overlay ] && return 0
        inside mkdir -p /etc/keepalived.d
        container_link_prefix
        container_sanitizer_units
}

# A sanitizer build: our programs started by systemd report into the
# directory bound at TKA_SANITIZER_REPORTS (see container_boot), which the
# units' sandboxes must let them write. LeakSanitizer stops the program's
# threads with ptrace(2) at exit, which tcpkeepalived's system call filter
# refuses: the filter is lifted there (the other builds test it).
container_sanitizer_units() {
        [ -n "${TKA_SANITIZER_REPORTS:-}" ] || return 0
        for u in tcpkeepalived.service tcpkeepalive@.service tcpkeepalive-apply@.service; do
                inside mkdir -p "/etc/systemd/system/$u.d"
                printf '[Service]\nBindPaths=%s\nSystemCallFilter=\n' "$TKA_SANITIZER_REPORTS" |
                        inside_write "/etc/systemd/system/$u.d/test-sanitizer.conf"
        done
        inside systemctl daemon-reload
}

inside() {
        nsenter -t "$CONTAINER_LEADER" -a env PATH="$PREFIX/bin:$PREFIX/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
}

inside_write() {
        nsenter -t "$CONTAINER_LEADER" -a sh -c 'cat > "$1"' sh "$1"
}

container_fail() {
        fail "$*
--- journal (last 40 lines) ---
$(inside journalctl --no-pager -n 40 2>&1)"
}

# wait_listening PORT [UNIT]: bounded wait (10 s) until something listens on
# PORT inside. UNIT, the service that listens there: a start systemd 252
# could not complete (219/CGROUP, the program never ran: the unit's cgroup
# was gone when its process was moved in; once in a distcheck run, see
# container_start_daemon) is tried again, at most twice, and said.
wait_listening() {
        _port=$1 _unit=${2:-} _try=0
        _deadline=$(($(date +%s) + 10))
        until nsenter -t "$CONTAINER_LEADER" -a ss -Htln "sport = :$_port" | grep -q .; do
                if [ -n "$_unit" ] && [ $_try -lt 2 ] && container_reset_219 "$_unit"; then
                        _try=$((_try + 1))
                        inside systemctl start "$_unit"
                        _deadline=$(($(date +%s) + 10))
                fi
                [ "$(date +%s)" -lt "$_deadline" ] ||
                        container_fail "timed out after 10s waiting for: a listener on port $_port in the container"
                sleep 0.05
        done
}

# container_start_daemon: starts tcpkeepalived; when it does not start,
# fails with systemctl status and the journal's end (a start that failed
# once in CI without a word of why). systemd 252 in these containers now
# and then cannot move a new process into its unit's cgroup (219/CGROUP:
# our program never ran; see switch-restarts.sh): tried again, at most
# twice, and said.
container_start_daemon() {
        _try=0
        until inside systemctl start tcpkeepalived.service; do
                _try=$((_try + 1))
                [ $_try -le 2 ] && container_reset_219 tcpkeepalived.service ||
                        container_fail "tcpkeepalived did not start:
$(inside systemctl status --no-pager tcpkeepalived.service 2>&1 | tail -n 20)"
        done
}

# container_reset_219 UNIT: whether UNIT's last start failed at systemd
# 252's 219/CGROUP (our program never ran); if so, says so and resets UNIT
# for another start. The one place both waits above take it from.
container_reset_219() {
        [ "$(inside systemctl show -P ExecMainStatus "$1")" = 219 ] || return 1
        echo "note: systemd could not start $1 (219/CGROUP); again" >&2
        inside systemctl reset-failed "$1"
}

# container_no_live_apply: the admin's way to keep rules from reaching
# running units live (keepalived.d(5)): the apply unit masked. For tests of
# the restart path (pending-restart, Restart=try), which a live apply
# would otherwise make active with no restart.
container_no_live_apply() {
        # As systemctl mask does, over the link to PREFIX's unit that
        # container_link_prefix made (which systemctl mask refuses to replace).
        inside ln -sfn /dev/null /etc/systemd/system/tcpkeepalive-apply@.service
        inside systemctl daemon-reload
}

# container_wait SECONDS WHAT CMD...: wait_until, failing with the journal.
container_wait() {
        WAIT_FAIL=container_fail wait_until "$@"
}

# connection_timer PORT: connects a client inside (kept open 20 s) and prints
# the server end of that new connection as ss shows it. Connections that
# were there before are left out: their timers have run down since (a test
# under load once read an old one's 64 s left as the new one's 77).
connection_timer() {
        nsenter -t "$CONTAINER_LEADER" -n ss -Htn state established "sport = :$1" | awk '{ print $4 }' >"$TMP/peers-before"
        _n0=$(wc -l <"$TMP/peers-before")
        inside sh -c "(sleep 20 | socat - TCP:127.0.0.1:$1 >/dev/null 2>&1 &)"
        wait_until 10 "a new established connection to port $1 in the container" \
                sh -c "[ \$(nsenter -t $CONTAINER_LEADER -n ss -Htn state established 'sport = :$1' | wc -l) -gt $_n0 ]"
        inside ss -Htnoe state established "sport = :$1" |
                awk -v before="$(tr '\n' ' ' <"$TMP/peers-before")" \
                        'BEGIN { n = split(before, b, " "); for (i = 1; i <= n; i++) old[b[i]] } !($4 in old)'

}

# expect_idle LINE SECONDS WHAT: the keepalive timer was armed with SECONDS
# (ss shows the time left: SECONDS minus the few seconds the test took).
expect_idle() {
        _left=$(printf '%s\n' "$1" | sed -n 's/.*timer:(keepalive,\([^,]*\),.*/\1/p' | head -n1)
        [ -n "$_left" ] || container_fail "$3: no keepalive timer in: $1"
        _secs=$(printf '%s\n' "$_left" | awk '{
                s = 0; t = $0
                if (match(t, /[0-9]+min/)) { s += substr(t, RSTART, RLENGTH - 3) * 60 }
                if (match(t, /[0-9.]+sec/)) { s += substr(t, RSTART, RLENGTH - 3) }
                else if (match(t, /[0-9.]+ms/)) { s += substr(t, RSTART, RLENGTH - 2) }
                printf "%d", s }')
        [ "$_secs" -le "$2" ] && [ "$_secs" -ge $(($2 - 8)) ] ||
                container_fail "$3: keepalive timer shows $_left left, want about $2 s: $1"
}

# expect_sockopts PORT IDLE INTERVAL COUNT WHAT: getsockopt on the service's
# own accepted socket for PORT: ss -p in the container's network namespace
# names the process (host PID) and fd, sockpeek reads it via pidfd_getfd.
# A forking server's parent holds the socket for a moment after fork and
# then reuses the fd number: up to 5 readings, 0.5 s apart, until one is
# the connection's (a socket with other values every time still fails).
expect_sockopts() {
        _try=0
        while :; do
                _owner=$(nsenter -t "$CONTAINER_LEADER" -n ss -Htnp state established "sport = :$1" |
                        sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1 \2/p' | head -n1)
                [ -n "$_owner" ] || container_fail "$5: no process owns the connection on port $1"
                # shellcheck disable=SC2086
                _got=$("$TKA_BUILDDIR/tests/programs/sockpeek" $_owner 2>&1) || _got="sockpeek $_owner failed: $_got"
                case $_got in
                "peek keepalive=1 idle=$2 interval=$3 count=$4 "*) return 0 ;;
                esac
                _try=$((_try + 1))
                [ $_try -lt 5 ] || container_fail "$5: getsockopt on the service's socket: got '$_got', want keepalive=1 idle=$2 interval=$3 count=$4"
                sleep 0.5
        done
}

# container_layouts FUNCTION: FUNCTION unified, then FUNCTION hybrid where the
# host is hybrid (a cgroup v2 only host cannot boot a hybrid container; the
# unified run is the whole test there).
container_layouts() {
        "$1" unified
        if [ -d /sys/fs/cgroup/unified ]; then
                "$1" hybrid
        else
                echo "note: cgroup v2 only host: the hybrid scenario needs a hybrid host"
        fi
}
