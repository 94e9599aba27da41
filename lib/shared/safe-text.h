/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Text that ends up in a unit file, a log line, a terminal or a D-Bus
 * string: a rule file's name, a unit name, a path. systemd ends a unit
 * file's line at \n, \r and NUL; a terminal obeys escape sequences; sd-bus
 * refuses to send invalid UTF-8. Such bytes are refused where a name comes
 * in, and escaped wherever one is shown.
 */

#include <stdbool.h>
#include <stddef.h>

/* Valid UTF-8 without control characters (C0, DEL, C1); "" is printable. */
bool text_is_printable(const char *s);
/* The same, but a tab is allowed (a line of a rule file). */
bool text_line_is_printable(const char *s);

/* Writes s escaped as text_escape() does into out (size > 0), cut before a
 * character or an escape that would not fit: always valid UTF-8, always
 * terminated. */
void text_escape_to(char *out, size_t size, const char *s);

/* A copy to show: control characters and bytes that are not UTF-8 as
 * \xNN, a backslash as \\. NULL when out of memory. */
char *text_escape(const char *s);
