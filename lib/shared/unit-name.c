/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "string-match.h"
#include "unit-name.h"

#define SUFFIX ".service"

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ':' || c == '_' || c == '.' || c == '@' || c == '-' || c == '\\';
}

static bool is_glob_char(char c) {
        return c == '*' || c == '?' || c == '[' || c == ']' || c == '!';
}

bool unit_name_is_glob(const char *s) {
        return strpbrk(s, "*?[") != NULL;
}

char *unit_glob_normalize(const char *s, const char **ret_reason) {
        size_t len = strlen(s);
        char *r;

#define REFUSE(why)                 \
        do {                        \
                *ret_reason = why;  \
                errno = EINVAL;     \
                return NULL;        \
        } while (0)

        if (len == 0)
                REFUSE("empty unit name");
        if (len > UNIT_NAME_MAX)
                REFUSE("unit name longer than 255 characters");
        for (const char *p = s; *p; p++) {
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        REFUSE("control character in unit name");
                if (*p == '/')
                        REFUSE("'/' in unit name");
                if (!is_name_char(*p) && !is_glob_char(*p))
                        REFUSE("character not allowed in a unit name (allowed: letters, digits, : _ . @ - \\ and the globs * ? [ ])");
        }
        if (strstr(s, ".."))
                REFUSE("'..' in unit name");
        if (s[0] == '.' || s[0] == '-')
                REFUSE("unit name starts with '.' or '-'");
        if (strchr(s, '!') && !strstr(s, "[!"))
                REFUSE("'!' outside a [!...] glob class");

        if (ends_with(s, SUFFIX) || ends_with(s, ".scope") || ends_with(s, ".slice")) {
                r = strdup(s);
        } else {
                /* Another unit type ("foo.socket") is a mistake, not a name to extend. */
                const char *dot = strrchr(s, '.');
                if (dot && !unit_name_is_glob(dot) && dot[1] && strcmp(dot, ".") != 0 &&
                    (strcmp(dot, ".socket") == 0 || strcmp(dot, ".target") == 0 || strcmp(dot, ".timer") == 0 ||
                     strcmp(dot, ".mount") == 0 || strcmp(dot, ".path") == 0 || strcmp(dot, ".device") == 0 || strcmp(dot, ".swap") == 0 ||
                     strcmp(dot, ".automount") == 0))
                        REFUSE("only .service, .scope and .slice units hold programs that keepalive applies to");
                if (len + strlen(SUFFIX) > UNIT_NAME_MAX)
                        REFUSE("unit name longer than 255 characters");
                r = malloc(len + strlen(SUFFIX) + 1);
                if (r) {
                        memcpy(r, s, len);
                        memcpy(r + len, SUFFIX, strlen(SUFFIX) + 1);
                }
        }
        if (!r)
                REFUSE("out of memory");
        if (r[0] == '@' || strcmp(r, SUFFIX) == 0 || strcmp(r, ".scope") == 0 || strcmp(r, ".slice") == 0) {
                free(r);
                REFUSE("unit name has no prefix before '@' or its suffix");
        }
        /* "foo." + ".service" (found by fuzz-unit-names) */
        if (strstr(r, "..")) {
                free(r);
                REFUSE("'..' in unit name");
        }
        return r;
#undef REFUSE
}

/* A plain name that unit_glob_normalize keeps as it is. */
static bool unit_name_is_valid_plain(const char *s) {
        const char *reason;
        char *n;
        bool ok;

        if (unit_name_is_glob(s) || strchr(s, ']') || strchr(s, '!'))
                return false;
        n = unit_glob_normalize(s, &reason);
        ok = n && strcmp(n, s) == 0;
        free(n);
        return ok;
}

bool unit_name_is_valid_service(const char *s) {
        return ends_with(s, SUFFIX) && unit_name_is_valid_plain(s);
}

bool unit_name_is_valid_cgroup_unit(const char *s) {
        /* Templates have no cgroup: only instances run. */
        if (ends_with(s, "@" SUFFIX))
                return false;
        return (ends_with(s, SUFFIX) || ends_with(s, ".scope") || ends_with(s, ".slice")) &&
               unit_name_is_valid_plain(s);
}

bool unit_name_is_scope_or_slice(const char *s) {
        return unit_name_is_valid_cgroup_unit(s) && !unit_name_is_valid_service(s);
}

int unit_name_escape_instance(const char *s, char *buf, unsigned size) {
        static const char hex[] = "0123456789abcdef";
        unsigned n = 0;

        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                             c == ':' || c == '_' || (c == '.' && p != s);
                if (c == '/') {
                        if (n + 1 >= size)
                                return -ENOBUFS;
                        buf[n++] = '-';
                } else if (plain) {
                        if (n + 1 >= size)
                                return -ENOBUFS;
                        buf[n++] = (char) c;
                } else {
                        if (n + 4 >= size)
                                return -ENOBUFS;
                        buf[n++] = '\\';
                        buf[n++] = 'x';
                        buf[n++] = hex[c >> 4];
                        buf[n++] = hex[c & 15];
                }
        }
        if (size == 0)
                return -ENOBUFS;
        buf[n] = '\0';
        return 0;
}

bool unit_name_template(const char *s, char *buf, unsigned size) {
        const char *at = strchr(s, '@');
        size_t prefix;

        if (!at || !ends_with(s, SUFFIX))
                return false;
        prefix = (size_t) (at - s) + 1;
        if (prefix + strlen(SUFFIX) + 1 > size)
                return false;
        memcpy(buf, s, prefix);
        memcpy(buf + prefix, SUFFIX, strlen(SUFFIX) + 1);
        return true;
}

bool unit_name_is_own(const char *s) {
        return strncmp(s, UNIT_OWN_PREFIX, strlen(UNIT_OWN_PREFIX)) == 0;
}
