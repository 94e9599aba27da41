#!/bin/sh
# shellcheck disable=SC2154 # install-dirs.sh sets the directories
# What the README and the man pages promise is what happens (issue 18):
# the built man pages name this build's paths; the commands and options
# they and the README name exist; the samples are what the programs print
# (the generator's drop-in, verify on the README's rule, status rows, ss);
# the README's quick-start commands run.
. "$TKA_SRCDIR/tests/lib.sh"

README=$TKA_SRCDIR/README.md
MAN=$TKA_BUILDDIR/man
CTL=$TKA_BUILDDIR/tcpkeepalivectl
GEN=$TKA_BUILDDIR/tcpkeepalive-generator
BPF=$TKA_BUILDDIR/tcpkeepalive-bpf
# prefix, sbindir, sysconfdir, unitdir, generatordir, dbuspolicydir,
# pkglibexecdir, preloaddir: where make install puts things.
# shellcheck source=/dev/null disable=SC2154
. "$TKA_BUILDDIR/tests/install-dirs.sh"
# The LD_PRELOAD value configure compiled in (it may hold ld.so's $LIB).
PRELOAD_PATH=$(sed -n 's/^#define TCPKEEPALIVE_LIBRARY_PATH "\(.*\)"$/\1/p' "$TKA_BUILDDIR/config.h")
[ -n "$PRELOAD_PATH" ] || fail "no TCPKEEPALIVE_LIBRARY_PATH in $TKA_BUILDDIR/config.h"

# A man page as its reader sees the text: roff's escaped hyphens plain.
page_text() { sed -e 's/\\-/-/g' -e 's/\\(em/--/g' "$MAN/$1"; }
PAGES="tcpkeepalive.1 libtcpkeepalive.7 keepalived.d.5 tcpkeepalive-generator.8 tcpkeepalivectl.1 tcpkeepalived.8 tcpkeepalive-bpf.8"

# ---- 1. every path a page names is this build's ---------------------------
for p in $PAGES; do
        [ -s "$MAN/$p" ] || fail "$MAN/$p was not built"
        left=$(grep -n '@[A-Za-z_]*@' "$MAN/$p" || true)
        [ -z "$left" ] || fail "$p: placeholders left: $left"
done
# check_paths NAME ALLOWED...: every absolute path in a page that ends in
# NAME is one of ALLOWED (the Debian default is named as such in tcpkeepalive(1)).
check_paths() {
        name=$1
        shift
        for p in $PAGES; do
                page_text "$p" | grep -o "/[][A-Za-z0-9_.\$@/+-]*$name" | sort -u | while read -r path; do
                        ok=
                        for a in "$@"; do [ "$path" = "$a" ] && ok=1; done
                        [ -n "$ok" ] || { echo "$p names $path (this build: $*)"; exit 1; }
                done || fail "a man page names a path of another build"
        done
}
# shellcheck disable=SC2016,SC2154
check_paths libtcpkeepalive.so "$PRELOAD_PATH" "$preloaddir/libtcpkeepalive.so" '/usr/$LIB/tcp-keepalive/libtcpkeepalive.so'
check_paths tcpkeepalive-bpf-launch "$pkglibexecdir/tcpkeepalive-bpf-launch"
check_paths /tcpkeepalived "$sbindir/tcpkeepalived"
check_paths /tcpkeepalive-generator "$generatordir/tcpkeepalive-generator"
check_paths 'tcpkeepalive-apply@.service' "$unitdir/tcpkeepalive-apply@.service"
check_paths org.tcpkeepalive1.conf "$dbuspolicydir/org.tcpkeepalive1.conf"
check_paths keepalived.d "$sysconfdir/keepalived.d" /run/keepalived.d /usr/local/lib/keepalived.d \
        /usr/lib/keepalived.d "$prefix/lib/keepalived.d" /opt/tka/lib/keepalived.d
check_paths keepalived.d/defaults.conf "$sysconfdir/keepalived.d/defaults.conf" "$prefix/lib/keepalived.d/defaults.conf"
expect_match "$(page_text libtcpkeepalive.7)" "^LD_PRELOAD='$(printf '%s' "$PRELOAD_PATH" | sed 's/[$.]/\\&/g')' " \
        "libtcpkeepalive(7) SYNOPSIS: this build's LD_PRELOAD value"
pass "the man pages name this build's paths"

# tcpkeepalive(1) has every option of tcpkeepalive --help, and its default library.
wrap_help=$("$TKA_BUILDDIR/tcpkeepalive" --help)
wrap_page=$(page_text tcpkeepalive.1)
for o in $(printf '%s\n' "$wrap_help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        expect_match "$wrap_page" "$o" "tcpkeepalive(1) describes the option $o of --help"
done
expect_match "$wrap_help" "default $(printf '%s' "$PRELOAD_PATH" | sed 's/[$.]/\\&/g')\)" "tcpkeepalive --help: this build's library"
pass "tcpkeepalive(1) has every option of tcpkeepalive --help"

if [ ! -x "$CTL" ]; then
        echo "# a build without systemd parts: the rest is theirs"
        exit 0
fi

# ---- 2. commands and options named are the programs' ----------------------
# help_commands HELP: the command words of a --help text.
help_commands() { printf '%s\n' "$1" | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' | sort -u; }
ctl_help=$("$CTL" --help)
ctl_commands=$(help_commands "$ctl_help")
expect_match "$ctl_commands" "^verify$" "tcpkeepalivectl --help lists commands"
ctl_page=$(page_text tcpkeepalivectl.1)
for c in $ctl_commands; do
        expect_match "$ctl_page" "^\.B[IR]? \"?$c( |\"|$)" "tcpkeepalivectl(1) describes the command '$c' of --help"
done
for o in $(printf '%s\n' "$ctl_help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        expect_match "$ctl_page" "$o" "tcpkeepalivectl(1) describes the option $o of --help"
done
# Every "tcpkeepalivectl WORD" in the README and the pages is a command or an option.
bpf_help=$("$BPF" --help 2>&1 || true)
bpf_commands=$(help_commands "$bpf_help")
all_text=$( { cat "$README"; for p in $PAGES; do page_text "$p"; done; } | sed 's/\\f[BIRP]//g; s/^\.B[IR]* //; s/"//g')
for w in $(printf '%s\n' "$all_text" | grep -o 'tcpkeepalivectl \(--\{0,1\}[A-Za-z][-A-Za-z]*\(=[^ ]*\| [^ -][^ ]*\)\{0,1\} \)*[a-z][a-z-]*' | awk '{print $NF}' | sort -u); do
        case $w in
        -*|"" ) ;;
        *) printf '%s\n' "$ctl_commands" | grep -qx -- "$w" ||
                fail "'tcpkeepalivectl $w' is named in the docs, but --help has no command $w" ;;
        esac
done
if [ -x "$BPF" ]; then
        for w in $(printf '%s\n' "$all_text" | grep -o 'tcpkeepalive-bpf [a-z][a-z-]*' | awk '{print $2}' | sort -u); do
                printf '%s\n' "$bpf_commands" | grep -qx -- "$w" ||
                        fail "'tcpkeepalive-bpf $w' is named in the docs, but its --help has no command $w"
        done
fi
pass "every tcpkeepalivectl and tcpkeepalive-bpf command the docs name is in --help, and tcpkeepalivectl(1) has them all"

# ---- 3. the generator's drop-in in tcpkeepalive-generator(8) --------------
# keepalived.d(5)'s 50-crm.ini example through the generator, against the
# drop-in the generator's page shows for it.
R=$TMP/root
mkdir -p "$R$sysconfdir/keepalived.d" "$R/usr/lib/systemd/system" "$TMP/out"
: >"$R/usr/lib/systemd/system/crm.service"
page_text keepalived.d.5 | sed -n "\\|^# $sysconfdir/keepalived.d/50-crm.ini\$|,/^\\.RE/p" | sed '1d;$d' \
        >"$R$sysconfdir/keepalived.d/50-crm.ini"
expect_match "$(cat "$R$sysconfdir/keepalived.d/50-crm.ini")" "^Unit=crm.service$" "keepalived.d(5)'s 50-crm.ini example extracted"
TCPKEEPALIVE_ROOT=$R TCPKEEPALIVE_GENERATOR_STDERR=1 "$GEN" "$TMP/out" 2>"$TMP/gen.log" || fail "generator: $(cat "$TMP/gen.log")"
sed "s|$R||g" "$TMP/out/crm.service.d/50-tcpkeepalive.conf" >"$TMP/dropin.real"
page_text tcpkeepalive-generator.8 | sed -n '/^# Generated by/,/^\.RE/p' | sed '$d' >"$TMP/dropin.page"
diff -u "$TMP/dropin.page" "$TMP/dropin.real" >"$TMP/dropin.diff" ||
        fail "tcpkeepalive-generator(8)'s drop-in is not what the generator writes for keepalived.d(5)'s 50-crm.ini (- page, + real):
$(cat "$TMP/dropin.diff")"
pass "tcpkeepalive-generator(8)'s sample drop-in is the generator's, line for line"
if [ -x "$BPF" ]; then
        # The page's two commands for IdleSec=75, Count=20, Mode=force, Method=auto.
        printf '[Match]\nUnit=auto.service\n[KeepAlive]\nIdleSec=75\nCount=20\nMode=force\nMethod=auto\n' \
                >"$R$sysconfdir/keepalived.d/60-auto.ini"
        : >"$R/usr/lib/systemd/system/auto.service"
        rm -rf "$TMP/out" && mkdir "$TMP/out"
        TCPKEEPALIVE_ROOT=$R TCPKEEPALIVE_GENERATOR_STDERR=1 "$GEN" "$TMP/out" 2>"$TMP/gen.log" || fail "generator: $(cat "$TMP/gen.log")"
        real=$(cat "$TMP/out/auto.service.d/50-tcpkeepalive.conf")
        n=0
        for line in $(page_text tcpkeepalive-generator.8 | grep -n '^Exec\(StartPre\|StopPost\)=' | cut -d: -f1); do
                want=$(page_text tcpkeepalive-generator.8 | sed -n "${line}p")
                printf '%s\n' "$real" | grep -qxF -- "$want" ||
                        fail "tcpkeepalive-generator(8)'s line is not in the generator's drop-in for Method=auto: $want
$real"
                n=$((n + 1))
        done
        expect_eq "$n" 2 "tcpkeepalive-generator(8) shows two BPF commands"
        pass "tcpkeepalive-generator(8)'s BPF commands are the generator's"
        # tcpkeepalive-bpf(8)'s, for IdleSec=75, Mode=force, Method=bpf.
        printf '[Match]\nUnit=gw.service\n[KeepAlive]\nIdleSec=75\nMode=force\nMethod=bpf\n' \
                >"$R$sysconfdir/keepalived.d/60-gw.ini"
        : >"$R/usr/lib/systemd/system/gw.service"
        rm -rf "$TMP/out" && mkdir "$TMP/out"
        TCPKEEPALIVE_ROOT=$R TCPKEEPALIVE_GENERATOR_STDERR=1 "$GEN" "$TMP/out" 2>"$TMP/gen.log" || fail "generator: $(cat "$TMP/gen.log")"
        real=$(grep '^Exec' "$TMP/out/gw.service.d/50-tcpkeepalive.conf")
        expect_eq "$(page_text tcpkeepalive-bpf.8 | grep '^Exec\(StartPre\|StopPost\)=')" "$real" \
                "tcpkeepalive-bpf(8)'s commands are the generator's for IdleSec=75, Mode=force, Method=bpf"
        pass "tcpkeepalive-bpf(8)'s commands are the generator's"
fi

# ---- 4. the README's rule, verified -----------------------------------------
R2=$TMP/root2
mkdir -p "$R2$sysconfdir/keepalived.d" "$R2/usr/lib/systemd/system"
: >"$R2/usr/lib/systemd/system/crm.service"
sed -n "/^cat > \/etc\/keepalived.d\/50-crm.ini <<'RULE'\$/,/^RULE\$/p" "$README" | sed -n '2,/^RULE$/p' | sed '$d' |
        awk 'BEGIN{n=0} /^\[Match\]/{n++} n==1' >"$R2$sysconfdir/keepalived.d/50-crm.ini"
expect_match "$(cat "$R2$sysconfdir/keepalived.d/50-crm.ini")" "^IdleSec=2min$" "the README's first 50-crm.ini extracted"
out=$("$CTL" verify --root="$R2" 2>&1) || fail "verify of the README's rule: exit $?: $out"
expect_no_match "$out" "(error|warning):" "the README's rule verifies clean"
expect_match "$out" "idle=120s interval=30s count=4" "the README's rule: 2min/30s/4 as the README says (120/30/4)"
expect_match "$out" "applies to: crm.service" "the README's rule applies to crm.service"
pass "the README's rule verifies as the README says"

# The README's path rule ("Keepalive only where the NAT is"): verify's
# output, the drop-in and the two rules combined, line for line.
R5=$TMP/root5
mkdir -p "$R5$sysconfdir/keepalived.d" "$R5/usr/local/lib/keepalived.d" "$R5/usr/lib/systemd/system" "$TMP/out5"
: >"$R5/usr/lib/systemd/system/crm.service"
cp "$TKA_SRCDIR/conf/defaults.conf" "$R5/usr/local/lib/keepalived.d/defaults.conf"
sed -n "/^cat > \/etc\/keepalived.d\/60-crm-postgres.ini <<'RULE'\$/,/^RULE\$/p" "$README" | sed '1d;$d' \
        >"$R5$sysconfdir/keepalived.d/60-crm-postgres.ini"
expect_match "$(cat "$R5$sysconfdir/keepalived.d/60-crm-postgres.ini")" "^PathIdleTimeoutSec=350s " "the README's 60-crm-postgres.ini extracted"
# real_paths: the root's paths as the README names them.
real_paths() { sed -e "s|$R5$sysconfdir/keepalived.d/|/etc/keepalived.d/|g" -e "s|$R5||g"; }
# readme_sample START: the "#   " lines right after the line START.
readme_sample() { awk -v start="$1" 'on && !/^#/ { exit } on && sub(/^#   /, "") { print } $0 == start { on = 1 }' "$README"; }
out=$("$CTL" verify --root="$R5" 2>&1) || fail "verify of the README's path rule: exit $?: $out"
expect_eq "$(readme_sample "tcpkeepalivectl verify")" "$(printf '%s\n' "$out" | real_paths)" \
        "the README's verify sample for 60-crm-postgres.ini is verify's output"
TCPKEEPALIVE_ROOT=$R5 TCPKEEPALIVE_GENERATOR_STDERR=1 "$GEN" "$TMP/out5" 2>"$TMP/gen.log" || fail "generator: $(cat "$TMP/gen.log")"
expect_eq "$(readme_sample "systemctl cat crm.service | grep -A20 50-tcpkeepalive.conf" | sed '1d' | grep -v '^Environment="LD_PRELOAD=')" \
        "$(real_paths <"$TMP/out5/crm.service.d/50-tcpkeepalive.conf" | grep -v '^Environment="LD_PRELOAD=')" \
        "the README's drop-in for 60-crm-postgres.ini is the generator's (but for the library's path)"
expect_match "$(readme_sample "systemctl cat crm.service | grep -A20 50-tcpkeepalive.conf" | sed -n 1p)" \
        "^# /run/systemd/generator/crm.service.d/50-tcpkeepalive.conf\$" "the README's systemctl cat names the drop-in"
cp "$R2$sysconfdir/keepalived.d/50-crm.ini" "$R5$sysconfdir/keepalived.d/50-crm.ini"
out=$("$CTL" verify --root="$R5" 2>&1) || fail "verify of the README's two crm rules: exit $?: $out"
expect_eq "$(readme_sample "tcpkeepalivectl verify | sed -n '/by path/,\$p'")" \
        "$(printf '%s\n' "$out" | real_paths | sed -n '/by path/,$p')" "the README's sample for 50-crm.ini and 60-crm-postgres.ini combined is verify's"
pass "the README's path rule: verify's output, the drop-in and the combination as the README shows them"

# keepalived.d(5)'s EXAMPLES and the shipped conf/examples: no errors.
R4=$TMP/root4
mkdir -p "$R4$sysconfdir/keepalived.d" "$R4/usr/lib/systemd/system"
for name in $(page_text keepalived.d.5 | sed -n "s|^# $sysconfdir/keepalived.d/\([^ ]*\.ini\)\$|\1|p"); do
        page_text keepalived.d.5 | sed -n "\\|^# $sysconfdir/keepalived.d/$name\$|,/^\\.RE/p" | sed '1d;$d' \
                >"$R4$sysconfdir/keepalived.d/$name"
done
set -- "$R4$sysconfdir/keepalived.d"/*.ini
[ $# -ge 3 ] || fail "keepalived.d(5)'s examples not found: $*"
out=$("$CTL" verify --root="$R4" 2>&1) || fail "verify of keepalived.d(5)'s examples: exit $?: $out"
expect_no_match "$out" "error:" "keepalived.d(5)'s examples verify without errors"
# The per-unit paths the page shows for its path rules are verify's.
expect_eq "$(page_text keepalived.d.5 | sed -n '/^shows, for these two units:$/,/^\.RE$/p' | sed '1,4d;$d')" \
        "$(printf '%s\n' "$out" | sed -n '/^crm.service: connections by path/,/^[0-9]* rule(s)/p' | sed '$d')" \
        "keepalived.d(5)'s verify sample for its path rules is verify's"
out=$("$CTL" verify "$TKA_SRCDIR"/conf/examples/*.ini 2>&1) || fail "verify of conf/examples: exit $?: $out"
expect_no_match "$out" "error:" "conf/examples verify without errors"
pass "keepalived.d(5)'s examples and conf/examples verify without errors"

# keepalived.d(5): " ;" after a value starts a comment like " #"; a
# defaults.conf replaces the one of a later directory whole (no key merge).
R3=$TMP/root3
mkdir -p "$R3$sysconfdir/keepalived.d" "$R3/usr/lib/keepalived.d" "$R3/usr/lib/systemd/system"
: >"$R3/usr/lib/systemd/system/crm.service"
printf '[KeepAlive]\nIdleSec=60\nIntervalSec=15\nCount=4\n' >"$R3/usr/lib/keepalived.d/defaults.conf"
printf '[KeepAlive]\nIdleSec=99\n' >"$R3$sysconfdir/keepalived.d/defaults.conf"
printf '[Match]\nUnit=crm.service ; the CRM\n' >"$R3$sysconfdir/keepalived.d/50-crm.ini"
out=$("$CTL" verify --root="$R3" 2>&1) || fail "verify: exit $?: $out"
expect_match "$out" "idle=99s interval=kernel count=kernel" \
        "keepalived.d(5): $sysconfdir/keepalived.d/defaults.conf replaces the packaged one whole"
expect_match "$out" "applies to: crm.service$" "keepalived.d(5): ' ;' after a value starts a comment"
pass "keepalived.d(5)'s comment and defaults.conf sentences hold"

# ---- 5. status rows as tcpkeepalivectl prints them -------------------------
# The README's rows, formatted by print_unit_line's format (checked to be
# still the one in daemon/ctl-bus-client.c), must come out unchanged.
grep -qF '"%s%-16s%s %-32s %5u/%-5u %-7s %s\n"' "$TKA_SRCDIR/daemon/ctl-bus-client.c" ||
        fail "print_unit_line's format changed: update this test and the README's status samples"
rows=$(grep -E '^#   [a-z-]+ +[a-z0-9@_.-]+\.(service|scope|slice) +[0-9]+/[0-9]+ ' "$README" || true)
[ -n "$rows" ] || fail "no status rows found in the README"
printf '%s\n' "$rows" | while IFS= read -r line; do
        # shellcheck disable=SC2086 # the row's words, split
        set -- ${line#"#   "}
        [ $# -ge 4 ] || fail "README status row with fewer than 4 fields: $line"
        want=$(printf '#   %-16s %-32s %5s/%-5s %-7s %s' "$1" "$2" "${3%/*}" "${3#*/}" "$4" "${5:-}")
        [ "$line" = "$want" ] || fail "README status row not as tcpkeepalivectl prints it:
  README: '$line'
  prints: '$want'"
done
# status prints no header line (list does).
expect_no_match "$(sed -n '/^tcpkeepalivectl status$/,/^[^#]/p' "$README")" "^#   STATE " "README: status prints no header"
for m in $(printf '%s\n' "$rows" | awk '{print $5}' | sort -u); do
        case $m in preload|bpf|-) ;; *) fail "README status row with method '$m'" ;; esac
done
pass "the README's status rows are laid out as tcpkeepalivectl prints them"

# The README's check sample, in the words of unit-verdict.c's active state.
grep -qF '"%s; %u of %u established connections carry the rule'"'"'s values (%s)%s"' "$TKA_SRCDIR/daemon/unit-verdict.c" ||
        fail "the active state's reason changed in daemon/unit-verdict.c: update this test and the README's check sample"
sample=$(sed -n '/^tcpkeepalivectl check crm.service$/,/^```$/p' "$README" | sed -n 's/^#   //p' | tr '\n' ' ' | sed 's/ $//')
expect_match "$sample" "^crm\.service: active: PID [0-9]+ has [^;]+; [0-9]+ of [0-9]+ established connections carry the rule's values \(idle 120 s, interval 30 s, count 4\)\$" \
        "the README's check sample is the active state's reason for its rule (2min, 30s, 4)"
# show's first line: "UNIT: STATE REASON" (no colon after the state; check has one).
grep -qF '"BPF, applied live%s (%" PRIu64 " connection(s) given the rule'"'"'s values then, new ones as they connect)"' \
        "$TKA_SRCDIR/daemon/unit-verdict.c" || fail "the live-apply reason changed in daemon/unit-verdict.c: update this test and the README"
sample=$(sed -n '/^tcpkeepalivectl show crm.service$/,/^[^#]/p' "$README" | sed -n 's/^#   //p' | tr '\n' ' ' | sed 's/ $//')
expect_match "$sample" "^crm\.service: active BPF, applied live with no restart \([0-9]+ connection\(s\) given the rule's values then, new ones as they connect\); [0-9]+ of [0-9]+ established connections carry the rule's values \(idle 120 s, interval 30 s, count 4\)\$" \
        "the README's show sample is show's first line for a rule applied live"
pass "the README's check sample is what check prints"

# ---- 6. the quick start's preload and ss, run -------------------------------
# ss leaves the State column out with a state filter: no sample may show one.
for f in "$README" $(for p in $PAGES; do echo "$MAN/$p"; done); do
        bad=$(grep -A3 'ss -tnoe state' "$f" | grep -E '^#? *(ESTAB|LISTEN|SYN-SENT|TIME-WAIT) ' || true)
        [ -z "$bad" ] || fail "$(basename "$f"): an ss sample with a state filter shows a State column: $bad"
done
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ss >/dev/null && command -v python3 >/dev/null; then
        run_line=$(grep -E '^LD_PRELOAD=/usr/local/lib/libtcpkeepalive.so KEEPIDLE=75 ' "$README") ||
                fail "the README's libkeepalive-style line is gone"
        ss_line=$(grep -E '^ss -tnoe state established \| grep keepalive$' "$README") || fail "the README's ss line is gone"
        # The README's line with this build's library and a program that
        # connects to a listener of its own and waits.
        app="python3 -c 'import socket,time; l=socket.socket(); l.bind((\"127.0.0.1\",5000)); l.listen(); c=socket.create_connection((\"127.0.0.1\",5000)); a=l.accept(); print(\"up\", flush=True); time.sleep(5)'"
        run_line=$(printf '%s' "$run_line" | sed "s|/usr/local/lib/libtcpkeepalive.so|$TKA_LIB|; s|/path/to/app|$app|")
        out=$(unshare -n sh -c "ip link set lo up 2>/dev/null || ifconfig lo up; ($run_line) >'$TMP/app.out' & \
                for i in \$(seq 50); do grep -q up '$TMP/app.out' 2>/dev/null && break; sleep 0.1; done; $ss_line; kill \$! 2>/dev/null; wait" 2>&1) ||
                fail "the README's quick start: $out"
        expect_match "$out" '^0 +0 +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:[0-9]+ +timer:\(keepalive,1min1[0-5]sec,0\)' \
                "the README's quick start: ss shows the connection with a keepalive timer (idle 75 s), no State column"
        pass "the README's quick start runs: LD_PRELOAD with KEEPIDLE=75, and ss shows what the README says"
else
        echo "# not root or no unshare, ss, python3: the quick start is not run here"
fi
