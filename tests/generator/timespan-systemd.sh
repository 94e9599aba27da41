#!/bin/sh
# Rules take time spans "as systemd does" (keepalived.d(5)): every span of
# a list of ordinary and odd ones is parsed by lib/shared/timespan.c and by
# systemd itself (systemd-analyze timespan), and the two must agree, to
# the microsecond, on the value or on the refusal. Two known differences,
# both outside what a keepalive value can be: "infinity" (refused here),
# and 2^64-1 us (systemd's infinity; accepted here, then out of range).
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd systemd-analyze
PARSE=$TKA_BUILDDIR/tests/programs/timespan-parse
n=0
while IFS= read -r span; do
        ours=$("$PARSE" "$span")
        theirs=$(systemd-analyze timespan "$span" 2>/dev/null | sed -n 's/.*μs: //p')
        [ -n "$theirs" ] || theirs=err
        [ "$ours" = "$theirs" ] || fail "'$span': ours $ours, systemd's $theirs"
        n=$((n + 1))
done <<'SPANS'
75
75s
2min
1h 30min
500ms
1.5min
.5s
0.25
1.5 min
1h 30
1min30s
2 minutes 3 seconds
1M
2months
1y 2d
7µs
7μs
12.34 .56
12.34.56
3.
.
3.s
5s3
1 2 3
0
00.000
1.5 h 30m
 5 
5 s
1,5s
1e3
+5
+.5
+5min
++5
-5
5sec5
5secs
5mins
1.999999999s
0.0000001s
18446744073709551616us
99999999999999999999
5m5
5 m 5
1.5.s
1..5
abc
5 parsecs

SPANS
pass "$n time spans: the same value or the same refusal as systemd-analyze timespan ($(systemd --version | head -n1))"
