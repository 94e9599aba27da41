#!/bin/sh
# Mode=force (and default) means the same in both backends: one table of
# cases (tests/programs/force-cases.c), run once with the preload library
# and the rule in TCPKEEPALIVE_*, once in a cgroup of this test's own with
# the BPF programs and the rule attached by the test build of
# tcpkeepalive-bpf (a private BPF file system). Every rule of the table,
# both backends; the test fails naming each case that does not hold.
. "$TKA_SRCDIR/tests/lib.sh"
need_root
BPF=$TKA_BUILDDIR/tests/bpf/tcpkeepalive-bpf-test
CASES=$(test_program force-cases)
export TCPKEEPALIVE_BPF_OBJECT="$TKA_BUILDDIR/bpf/tcpkeepalive.bpf.o"

cg_root=$(cgroup2_root) || skip "no cgroup v2 hierarchy"
HOME_CG=$cg_root/tka-force-$$
OUT_CG=$cg_root/tka-force-$$-outside
mkdir -p "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs" || fail "cannot mount a BPF file system"
cleanup() {
        rmdir "$HOME_CG" "$OUT_CG" 2>/dev/null
        umount "$TMP/bpffs" 2>/dev/null || true
}
on_exit cleanup
export TCPKEEPALIVE_BPF_PIN_DIR="$TMP/bpffs/tcpkeepalive"
mkdir "$HOME_CG" "$OUT_CG"
"$BPF" load || fail "tcpkeepalive-bpf load"

failed=""
for rule in $("$CASES" --list-rules); do
        # The preload: the rule in the environment.
        # shellcheck disable=SC2046
        if env $("$CASES" --rule="$rule" --env) LD_PRELOAD="$TKA_PRELOAD" \
                "$CASES" --rule="$rule" --method=preload >"$TMP/out" 2>&1; then
                pass "preload $rule: $(tail -n1 "$TMP/out")"
        else
                failed="$failed
--- preload, rule $rule:
$(grep -v '^ok ' "$TMP/out")"
        fi
        # BPF: the rule attached to the cgroup the cases run in.
        # shellcheck disable=SC2046
        "$BPF" --cgroup="/${HOME_CG#"$cg_root"/}" $("$CASES" --rule="$rule" --args) attach >"$TMP/attach" 2>&1 ||
                fail "attach $rule: $(cat "$TMP/attach")"
        if sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$HOME_CG" \
                "$CASES" --rule="$rule" --method=bpf --home="$HOME_CG" --outside="$OUT_CG" >"$TMP/out" 2>&1; then
                pass "bpf $rule: $(tail -n1 "$TMP/out")"
        else
                failed="$failed
--- bpf, rule $rule:
$(grep -v '^ok ' "$TMP/out")"
        fi
        "$BPF" --cgroup="/${HOME_CG#"$cg_root"/}" detach || fail "detach $rule"
done
"$BPF" unload
[ -z "$failed" ] || fail "cases that do not hold:$failed"
pass "every case of the table, both backends"
