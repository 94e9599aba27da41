#!/bin/sh
# The bash completion of tcpkeepalivectl completes its commands and options.
. "$TKA_SRCDIR/tests/lib.sh"
[ -r /usr/share/bash-completion/bash_completion ] || skip "needs bash-completion"
need_cmd bash

complete_words() { # LINE...: what bash would offer for the last word
        bash -c '
                source /usr/share/bash-completion/bash_completion
                source "$1"
                shift
                COMP_WORDS=("$@")
                COMP_CWORD=$(($# - 1))
                COMP_LINE="$*"
                COMP_POINT=${#COMP_LINE}
                _tcpkeepalivectl
                echo "${COMPREPLY[*]}"' sh "$TKA_SRCDIR/completion/tcpkeepalivectl" "$@"
}
expect_eq "$(complete_words tcpkeepalivectl s)" "status show" "commands starting with s"
expect_eq "$(complete_words tcpkeepalivectl r)" "reload restart" "commands starting with r"
expect_match "$(complete_words tcpkeepalivectl --j)" "^--json$" "options"
expect_eq "$(complete_words tcpkeepalivectl --json m)" "metrics" "a command after an option"
pass "bash completion"
