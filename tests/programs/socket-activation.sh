#!/bin/sh
# placeholder
. "$TKA_SRCDIR/tests/lib.sh"
skip "not written yet"
