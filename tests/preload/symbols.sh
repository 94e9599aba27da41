#!/bin/sh
# The library exports the wrapped calls and nothing else, and needs nothing
# but libc (it runs inside other people's programs).
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd nm readelf

exported=$(nm -D --defined-only "$TKA_LIB" | awk '{print $3}' | sort | tr '\n' ' ')
expect_eq "$exported" "accept accept4 close close_range closefrom connect dup dup2 dup3 listen sendmmsg sendmsg sendto setsockopt socket " \
        "exported symbols"
needed=$(readelf -d "$TKA_LIB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v '^libc\.so' | grep -v '^ld-linux' || true)
for lib in $needed; do
        case "$lib" in
        libdl.so.* | libpthread.so.*) ;; # stubs inside libc since glibc 2.34
        libasan.so.* | libubsan.so.*) ;; # the sanitizer build only
        *) fail "needs $lib: the library must depend on libc only" ;;
        esac
done
pass "exports: $exported"
