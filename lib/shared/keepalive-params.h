/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The keepalive parameters, their kernel limits and their text form.
 *
 * Header-only on purpose: the preload library links nothing but libc and
 * exports nothing but its wrappers, and the wrapper command, the rule parser
 * and the tests must agree with it on every limit, so they all include this.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* include/net/tcp.h: MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT */
#define KA_IDLE_MAX 32767U
#define KA_INTERVAL_MAX 32767U
#define KA_COUNT_MAX 127U
/* TCP_USER_TIMEOUT takes an int of milliseconds; 0 means the kernel default. */
#define KA_USER_TIMEOUT_MAX 2147483647U

/* Environment of the preload library. */
#define KA_ENV_IDLE "TCPKEEPALIVE_IDLE"
#define KA_ENV_INTERVAL "TCPKEEPALIVE_INTERVAL"
#define KA_ENV_COUNT "TCPKEEPALIVE_COUNT"
#define KA_ENV_USER_TIMEOUT "TCPKEEPALIVE_USER_TIMEOUT"
#define KA_ENV_MODE "TCPKEEPALIVE_MODE"
#define KA_ENV_DIRECTION "TCPKEEPALIVE_DIRECTION"
#define KA_ENV_DEBUG "TCPKEEPALIVE_DEBUG"
#define KA_ENV_LOG "TCPKEEPALIVE_LOG"
/* Which backend a unit's drop-in asked for (read by tcpkeepalive-bpf and
 * the daemon; the library ignores it). */
#define KA_ENV_METHOD "TCPKEEPALIVE_METHOD"
/* The rule file a drop-in came from (the daemon shows it; not a setting:
 * a rule renamed changes no connection). */
#define KA_ENV_SOURCE "TCPKEEPALIVE_SOURCE"
#define KA_ENV_PREFIX "TCPKEEPALIVE_"
/* libkeepalive 0.3 names, honoured when ours are absent. */
#define KA_ENV_COMPAT_IDLE "KEEPIDLE"
#define KA_ENV_COMPAT_INTERVAL "KEEPINTVL"
#define KA_ENV_COMPAT_COUNT "KEEPCNT"
#define KA_ENV_COMPAT_KEEPALIVE "KEEPALIVE"

/* The four numbers of a rule as every side of the contract takes them:
 * the drop-in's environment (the library reads it, libkeepalive 0.3's name
 * where ours is absent), the tcpkeepalive command's options (it writes
 * the environment) and tcpkeepalive-bpf's arguments (the drop-in's
 * ExecStartPre=, checked first by tcpkeepalive-bpf-launch). */
enum ka_setting { KA_SETTING_IDLE, KA_SETTING_INTERVAL, KA_SETTING_COUNT, KA_SETTING_USER_TIMEOUT };

struct ka_setting_info {
        const char *env;        /* ours */
        const char *compat_env; /* libkeepalive 0.3's, or NULL */
        const char *option;     /* the command's and the helper's, without "--" */
        unsigned min, max;
        const char *unit;       /* for messages: "seconds", "probes", "milliseconds" */
};

static inline const struct ka_setting_info *ka_setting(enum ka_setting s) {
        static const struct ka_setting_info table[] = {
                [KA_SETTING_IDLE] = { KA_ENV_IDLE, KA_ENV_COMPAT_IDLE, "idle", 1, KA_IDLE_MAX, "seconds" },
                [KA_SETTING_INTERVAL] = { KA_ENV_INTERVAL, KA_ENV_COMPAT_INTERVAL, "interval", 1, KA_INTERVAL_MAX,
                                          "seconds" },
                [KA_SETTING_COUNT] = { KA_ENV_COUNT, KA_ENV_COMPAT_COUNT, "count", 1, KA_COUNT_MAX, "probes" },
                /* 0: the kernel's default (tcp(7)) */
                [KA_SETTING_USER_TIMEOUT] = { KA_ENV_USER_TIMEOUT, NULL, "user-timeout", 0, KA_USER_TIMEOUT_MAX,
                                              "milliseconds" },
        };
        return &table[s];
}

enum ka_mode {
        KA_MODE_DEFAULT, /* the application's own setsockopt calls win */
        KA_MODE_FORCE,   /* the rule's values stay; conflicting calls are absorbed */
        KA_MODE_OFF,     /* do nothing */
};

enum ka_direction {
        KA_DIRECTION_INBOUND = 1,  /* listening and accepted sockets */
        KA_DIRECTION_OUTBOUND = 2, /* sockets that connect() */
        KA_DIRECTION_BOTH = 3,
};

enum ka_method {
        KA_METHOD_PRELOAD, /* LD_PRELOAD only */
        KA_METHOD_AUTO,    /* BPF where the preload cannot work, the preload elsewhere */
        KA_METHOD_BPF,     /* the cgroup BPF program only */
};

/*
 * Parses a plain decimal number in [min, max]: no sign, no blanks, no
 * suffix, no leading "0x". Returns 0, -EINVAL for anything that is not a
 * number, -ERANGE for a number out of range.
 *
 * Fixed-width arithmetic, the bound checked before each step: the same
 * answers on every target (issue 12: in unsigned long, 32 bits on i386 and
 * armhf, "4294967300" wrapped around to 4 and was accepted).
 */
static inline int ka_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret) {
        uint32_t v = 0, limit = (uint32_t) max;

        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '9')
                        return -EINVAL;
        for (const char *p = s; *p; p++) {
                uint32_t d = (uint32_t) (*p - '0');
                if (v > (limit - d) / 10 || d > limit)
                        return -ERANGE; /* v * 10 + d > max, never computed */
                v = v * 10 + d;
        }
        if (v < min)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

static inline int ka_parse_mode(const char *s, enum ka_mode *ret) {
        if (!s)
                return -EINVAL;
        if (strcmp(s, "default") == 0)
                *ret = KA_MODE_DEFAULT;
        else if (strcmp(s, "force") == 0)
                *ret = KA_MODE_FORCE;
        else if (strcmp(s, "off") == 0)
                *ret = KA_MODE_OFF;
        else
                return -EINVAL;
        return 0;
}

static inline int ka_parse_direction(const char *s, enum ka_direction *ret) {
        if (!s)
                return -EINVAL;
        if (strcmp(s, "both") == 0)
                *ret = KA_DIRECTION_BOTH;
        else if (strcmp(s, "inbound") == 0)
                *ret = KA_DIRECTION_INBOUND;
        else if (strcmp(s, "outbound") == 0)
                *ret = KA_DIRECTION_OUTBOUND;
        else
                return -EINVAL;
        return 0;
}

static inline int ka_parse_method(const char *s, enum ka_method *ret) {
        if (!s)
                return -EINVAL;
        if (strcmp(s, "preload") == 0)
                *ret = KA_METHOD_PRELOAD;
        else if (strcmp(s, "auto") == 0)
                *ret = KA_METHOD_AUTO;
        else if (strcmp(s, "bpf") == 0)
                *ret = KA_METHOD_BPF;
        else
                return -EINVAL;
        return 0;
}

/* "NAME=value" (an environment entry) is one of the keepalive settings of
 * the drop-in: TCPKEEPALIVE_*, KA_ENV_SOURCE aside. */
static inline bool ka_env_is_setting(const char *assignment) {
        return strncmp(assignment, KA_ENV_PREFIX, sizeof(KA_ENV_PREFIX) - 1) == 0 &&
               strncmp(assignment, KA_ENV_SOURCE "=", sizeof(KA_ENV_SOURCE)) != 0;
}

static inline const char *ka_method_to_string(enum ka_method m) {
        return m == KA_METHOD_AUTO ? "auto" : m == KA_METHOD_BPF ? "bpf" : "preload";
}

static inline const char *ka_mode_to_string(enum ka_mode m) {
        return m == KA_MODE_FORCE ? "force" : m == KA_MODE_OFF ? "off" : "default";
}

static inline const char *ka_direction_to_string(enum ka_direction d) {
        return d == KA_DIRECTION_INBOUND ? "inbound" : d == KA_DIRECTION_OUTBOUND ? "outbound" : "both";
}
