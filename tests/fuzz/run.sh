#!/bin/sh
# tests/fuzz/run.sh BUILDDIR [SECONDS]: builds the libFuzzer targets with
# clang (ASan+UBSan) and runs each for SECONDS (default 60) from its seed
# corpus (tests/fuzz/corpus/NAME, copied: the seeds in git stay as they
# are) after replaying every input in tests/fuzz/regressions/NAME. Prints
# "PASS: fuzz/NAME (N runs)" or "FAIL: ..." per target; exit 1 on any crash,
# leak or timeout. `make fuzz` and tools/check run it.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run.sh BUILDDIR [SECONDS]}
seconds=${2:-60}
out=$build/fuzz
mkdir -p "$out"
CLANG=${CLANG:-clang}
# compile NAME: the fuzzer NAME, with the shared code it needs.
compile() {
        _name=$1
        set -- -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=gnu11 \
                -include "$build/config.h" -I"$src/lib/shared" -I"$src" "$src/tests/fuzz/$_name.c" -o "$out/$_name"
        if [ "$_name" = fuzz-preload-env ]; then
                "$CLANG" "$@" -ldl -lpthread
        elif [ "$_name" = fuzz-path-text ]; then
                "$CLANG" "$@" # header-only, as the preload library takes it
        else
                "$CLANG" "$@" -DRULE_DIR_ETC="\"/etc/keepalived.d\"" -DRULE_DIR_LIB="\"/usr/lib/keepalived.d\"" \
                        "$src/lib/shared/strv.c" "$src/lib/shared/safe-text.c" "$src/lib/shared/trusted-path.c" "$src/lib/shared/timespan.c" "$src/lib/shared/unit-name.c" \
                        "$src/lib/shared/rules.c" "$src/lib/shared/dropin.c" "$src/lib/shared/exe-check.c" -linih
        fi
}
status=0
for name in fuzz-rules fuzz-timespan fuzz-unit-names fuzz-preload-env fuzz-path-text; do
        if ! compile "$name" >"$out/$name.build.log" 2>&1; then
                echo "FAIL: fuzz/$name (build: $(head -n 5 "$out/$name.build.log"))"
                status=1
                continue
        fi
        # Every input that ever crashed stays a test.
        if [ -d "$src/tests/fuzz/regressions/$name" ] &&
                ! "$out/$name" -runs=0 "$src/tests/fuzz/regressions/$name"/* >"$out/$name.replay.log" 2>&1; then
                echo "FAIL: fuzz/$name (a regression input crashes again: $out/$name.replay.log)"
                status=1
                continue
        fi
        rm -rf "$out/$name.corpus" && mkdir -p "$out/$name.corpus"
        cp "$src/tests/fuzz/corpus/$name"/* "$out/$name.corpus/" 2>/dev/null || true
        quiet=""
        [ "$name" = fuzz-preload-env ] && quiet=-close_fd_mask=2
        # shellcheck disable=SC2086
        if "$out/$name" $quiet -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/$name-" \
                -print_final_stats=1 "$out/$name.corpus" >"$out/$name.log" 2>&1; then
                runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
                echo "PASS: fuzz/$name (${runs:-?} runs in ${seconds} s)"
        else
                echo "FAIL: fuzz/$name: $(grep -m1 -E 'ERROR|SUMMARY' "$out/$name.log") (artifact: $(ls "$out/$name"-* 2>/dev/null | head -n1))"
                status=1
        fi
done
exit $status
