/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safe-text.h"

/* Length of the valid UTF-8 sequence at s that is not a control
 * character, or 0. */
static size_t printable_char_len(const unsigned char *s) {
        uint32_t cp;
        size_t n;

        if (s[0] < 0x20 || s[0] == 0x7f)
                return 0;
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates, beyond Unicode, and the C1 controls. */
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
                return 0;
        return n;
}

static bool printable(const char *s, bool allow_tab) {
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                size_t n = allow_tab && *p == '\t' ? 1 : printable_char_len(p);
                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

bool text_is_printable(const char *s) {
        return printable(s, false);
}

bool text_line_is_printable(const char *s) {
        return printable(s, true);
}

void text_escape_to(char *out, size_t size, const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t used = 0;

        while (*p) {
                size_t n = *p == '\\' ? 0 : printable_char_len(p);
                char esc[8];
                const char *piece = (const char *) p;
                size_t len = n;
                if (n == 0) {
                        len = (size_t) (*p == '\\' ? snprintf(esc, sizeof(esc), "\\\\")
                                                   : snprintf(esc, sizeof(esc), "\\x%02x", *p));
                        piece = esc;
                        n = 1;
                }
                if (used + len >= size)
                        break;
                memcpy(out + used, piece, len);
                used += len;
                p += n;
        }
        out[used] = '\0';
}

char *text_escape(const char *s) {
        size_t size = strlen(s) * 4 + 1; /* "\xNN" for each byte at most */
        char *out = malloc(size);

        if (out)
                text_escape_to(out, size, s);
        return out;
}
