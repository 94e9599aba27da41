/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"
#include "safe-text.h"

/* Inside Environment="...": systemd unquotes \ and ", and expands %. */
static void put_escaped(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f);
                else if (*s == '%')
                        fputc('%', f);
                fputc(*s, f);
        }
}

static void put_env(FILE *f, const char *name, const char *value) {
        fprintf(f, "Environment=\"%s=", name);
        put_escaped(f, value);
        fputs("\"\n", f);
}

static void put_env_int(FILE *f, const char *name, long long v) {
        fprintf(f, "Environment=%s=%lld\n", name, v);
}

/* A build-time path in a command line: systemd expands % specifiers there. */
static void put_command_path(FILE *f, const char *path) {
        for (; *path; path++) {
                if (*path == '%')
                        fputc('%', f);
                fputc(*path, f);
        }
}

/* Method=bpf and auto: the programs are loaded before the unit starts; the
 * helper writes the unit's parameters under its cgroup id and attaches the
 * programs to the unit's cgroup before the service's own processes run,
 * and removes both when the unit stops. Not BPFProgram=: systemd detaches
 * the programs it attached while it reloads (measured: 728 of 2,582
 * connections accepted during 15 daemon-reloads had no keepalive; 0 of
 * 2,608 with the helper's own attachment), and on hybrid systems it
 * ignores BPFProgram= altogether. "-": a failure never stops the service;
 * "+": the helper needs root whatever User= the unit runs as.
 *
 * "+" also means the unit's whole environment (LD_PRELOAD from
 * ExtraPreload= or an EnvironmentFile= the service's user may write,
 * DBUS_SYSTEM_BUS_ADDRESS): so the command is tcpkeepalive-bpf-launch, a
 * static program that reads no environment and runs tcpkeepalive-bpf with
 * a clean one, and the parameters are arguments here, validated numbers
 * and fixed words only (nothing from the rule file's text but those), and
 * %n, the unit's name, expanded by systemd. */
static void put_bpf(FILE *f, enum ka_method method, const struct ka_params *p, const struct ka_dropin_setup *setup) {
        fputs("ExecStartPre=-+", f);
        put_command_path(f, setup->bpf_helper);
        fputs(" attach --unit=%n", f);
        if (method == KA_METHOD_AUTO)
                fputs(" --auto", f);
        if (p->idle_sec > 0 && (unsigned) p->idle_sec <= KA_IDLE_MAX)
                fprintf(f, " --idle=%d", p->idle_sec);
        if (p->interval_sec > 0 && (unsigned) p->interval_sec <= KA_INTERVAL_MAX)
                fprintf(f, " --interval=%d", p->interval_sec);
        if (p->count > 0 && (unsigned) p->count <= KA_COUNT_MAX)
                fprintf(f, " --count=%d", p->count);
        if (p->user_timeout_ms >= 0 && p->user_timeout_ms <= (int64_t) KA_USER_TIMEOUT_MAX)
                fprintf(f, " --user-timeout=%lld", (long long) p->user_timeout_ms);
        if (p->mode == KA_MODE_FORCE)
                fputs(" --mode=force", f);
        if (p->direction == KA_DIRECTION_INBOUND || p->direction == KA_DIRECTION_OUTBOUND)
                fprintf(f, " --direction=%s", ka_direction_to_string(p->direction));
        /* The text of a path rule is ours (ka_path_format of parsed
         * values): addresses, numbers, ',', ';', '!', ':', '/', '=' only. */
        for (size_t i = 0; i < p->n_paths && i < KA_PATHS_MAX; i++) {
                char text[KA_PATH_TEXT_MAX];
                ka_path_format(&p->paths[i], text, sizeof(text));
                fprintf(f, " --path=%s", text);
        }
        if (p->paths_only)
                fputs(" --unmatched=off", f);
        fputs("\nExecStopPost=-+", f);
        put_command_path(f, setup->bpf_helper);
        fputs(" detach --unit=%n\n", f);
}

/* systemd ends a unit file's line at \n, \r or NUL: no byte of a string
 * from rules, file names or unit names may do that (the rule loader and
 * the unit name checks refuse them first; this is the last guard). */
static bool dropin_strings_safe(const char *unit, const struct ka_params *p, const char *source,
                                const struct ka_dropin_setup *setup) {
        if (!text_is_printable(unit) || !text_is_printable(source) || !text_is_printable(setup->library) ||
            (setup->bpf_helper && !text_is_printable(setup->bpf_helper)))
                return false;
        for (char **l = p->extra_preload; l && *l; l++)
                if (!text_is_printable(*l))
                        return false;
        return true;
}

char *ka_dropin_render(const char *unit, const struct ka_params *p, const char *source,
                       const struct ka_dropin_setup *setup) {
        enum ka_method method = p->method >= 0 ? (enum ka_method) p->method : KA_METHOD_PRELOAD;
        bool bpf = method != KA_METHOD_PRELOAD && p->mode != KA_MODE_OFF && setup->bpf_helper;
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        if (!dropin_strings_safe(unit, p, source, setup)) {
                errno = EINVAL;
                return NULL;
        }
        f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        fprintf(f, "# Generated by tcpkeepalive-generator for %s from ", unit);
        put_escaped(f, source);
        fputs(".\n# Do not edit: change the rule and run systemctl daemon-reload. An override.conf\n"
              "# of the unit wins over this file; a file of the same name in /etc masks it.\n", f);
        if (bpf)
                fputs("[Unit]\nWants=" KA_BPF_SERVICE "\nAfter=" KA_BPF_SERVICE "\n", f);
        fputs("[Service]\n", f);
        if (p->mode == KA_MODE_OFF) {
                /* Never an empty Environment= (it resets them all), and no
                 * LD_PRELOAD: this unit is excluded. */
                put_env(f, KA_ENV_MODE, "off");
        } else {
                char *preload = NULL;
                size_t psize = 0;
                FILE *pf = open_memstream(&preload, &psize);
                if (!pf) {
                        fclose(f);
                        free(text);
                        return NULL;
                }
                /* Method=bpf: no library in the process at all. */
                if (method != KA_METHOD_BPF) {
                        fputs(setup->library, pf);
                        for (char **l = p->extra_preload; l && *l; l++)
                                fprintf(pf, ":%s", *l);
                }
                fclose(pf);
                if (*preload)
                        put_env(f, "LD_PRELOAD", preload);
                free(preload);
                if (p->idle_sec > 0)
                        put_env_int(f, KA_ENV_IDLE, p->idle_sec);
                if (p->interval_sec > 0)
                        put_env_int(f, KA_ENV_INTERVAL, p->interval_sec);
                if (p->count > 0)
                        put_env_int(f, KA_ENV_COUNT, p->count);
                if (p->user_timeout_ms >= 0)
                        put_env_int(f, KA_ENV_USER_TIMEOUT, p->user_timeout_ms);
                if (p->mode >= 0)
                        put_env(f, KA_ENV_MODE, ka_mode_to_string(p->mode));
                if (p->direction >= 0)
                        put_env(f, KA_ENV_DIRECTION, ka_direction_to_string(p->direction));
                for (size_t i = 0; i < p->n_paths && i < KA_PATHS_MAX; i++) {
                        char name[sizeof(KA_ENV_PATH_PREFIX) + 8], path[KA_PATH_TEXT_MAX];
                        snprintf(name, sizeof(name), KA_ENV_PATH_PREFIX "%zu", i + 1);
                        ka_path_format(&p->paths[i], path, sizeof(path));
                        put_env(f, name, path);
                }
                if (p->paths_only)
                        put_env(f, KA_ENV_UNMATCHED, "off");
                if (method != KA_METHOD_PRELOAD)
                        put_env(f, KA_ENV_METHOD, ka_method_to_string(method));
                if (bpf)
                        put_bpf(f, method, p, setup);
        }
        put_env(f, KA_ENV_SOURCE, source);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}
