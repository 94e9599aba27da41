#!/bin/sh
# tests/unit/test-params built for a 32-bit target (gcc -m32; Debian's
# gcc-multilib), where unsigned long is 32 bits: the parser of every
# TCPKEEPALIVE_* number must give the same answers as on 64 bits (issue 12:
# TCPKEEPALIVE_USER_TIMEOUT=4294967300 parsed as 4 there).
. "$TKA_SRCDIR/tests/lib.sh"

cc=${CC:-cc}
# Static: no 32-bit loader needed. Run natively where the kernel runs
# 32-bit programs, else under qemu-i386 (qemu-user).
printf 'int main(void) { return sizeof(long) != 4; }\n' >"$TMP/probe.c"
"$cc" -m32 -static -o "$TMP/probe" "$TMP/probe.c" >/dev/null 2>&1 ||
        skip "$cc -m32 -static cannot build a 32-bit program (apt-get install gcc-multilib)"
if "$TMP/probe" 2>/dev/null; then
        run32=""
elif command -v qemu-i386 >/dev/null 2>&1 && qemu-i386 "$TMP/probe"; then
        run32=qemu-i386
else
        skip "this kernel runs no 32-bit programs and there is no qemu-i386 (apt-get install qemu-user)"
fi
"$cc" -m32 -static -std=gnu11 -Wall -Wextra -Werror -I"$TKA_SRCDIR/lib/shared" -o "$TMP/test-params-m32" \
        "$TKA_SRCDIR/tests/unit/test-params.c" >"$TMP/cc.log" 2>&1 || fail "building with -m32:
$(cat "$TMP/cc.log")"
out=$($run32 "$TMP/test-params-m32") || fail "32-bit build${run32:+ (under $run32)}:
$out"
expect_match "$out" "^ok: 32-bit unsigned long" "ran as a 32-bit program"
pass "$out${run32:+ (under $run32)}"
