/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dropin.h"
#include "safe-text.h"
#include "unit-verdict.h"

const char *unit_state_to_string(enum unit_state s) {
        static const char *const names[] = {
                [UNIT_STATE_ACTIVE] = "active",
                [UNIT_STATE_PENDING_RESTART] = "pending-restart",
                [UNIT_STATE_INACTIVE] = "inactive",
                [UNIT_STATE_UNSUPPORTED] = "unsupported",
                [UNIT_STATE_OVERRIDDEN] = "overridden",
                [UNIT_STATE_UNMANAGED] = "unmanaged",
                [UNIT_STATE_EXCLUDED] = "excluded",
                [UNIT_STATE_MASKED] = "masked",
                [UNIT_STATE_ERROR] = "error",
        };
        return (unsigned) s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "error";
}

/* A reason can quote what a service controls (its environment, its
 * executable's name): shown escaped, never cut inside a character, so that
 * it is one line and valid UTF-8 for D-Bus. */
void unit_set_state(struct unit_check *c, enum unit_state s, const char *fmt, ...) {
        char raw[sizeof(c->reason)];
        va_list ap;

        c->state = s;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        if (text_is_printable(raw))
                memcpy(c->reason, raw, sizeof(raw));
        else
                text_escape_to(c->reason, sizeof(c->reason), raw);
}

static bool streq(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}

static const char *str_or(const char *s, const char *fallback) {
        return s && *s ? s : fallback;
}

/* The BPF record describes the run that is going on now: a record of an
 * earlier run (another cgroup) says nothing about it. tcpkeepalive-bpf
 * writes cgroup_id=0 when it failed before it opened the cgroup (the
 * kernel refused the programs): such a record is this run's when it was
 * written after the run began (ExecStartPre= runs after InactiveExit). */
static bool bpf_record_current(const struct unit_facts *f) {
        if (!f->have_bpf_record)
                return false;
        if (streq(f->bpf_method, "preload") || f->bpf_cgroup_id == f->cgroup_id)
                return true;
        return streq(f->bpf_method, "error") && f->bpf_cgroup_id == 0 && f->activation_usec > 0 &&
               f->bpf_written_usec >= f->activation_usec;
}

/* The helper's failure is the kernel's refusal of BPF (no support, a
 * seccomp filter or lockdown saying no), not a broken installation: its
 * record says "the BPF backend failed: " and strerror of what failed. */
static bool bpf_failure_is_kernel(const char *reason) {
        static const int refusals[] = { EPERM, EINVAL, EOPNOTSUPP, ENOSYS, E2BIG };
        size_t n = reason ? strlen(reason) : 0;
        for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
                const char *e = strerror(refusals[i]);
                size_t l = strlen(e);
                if (n >= l + 2 && strcmp(reason + n - l, e) == 0 && reason[n - l - 2] == ':')
                        return true;
        }
        return false;
}

/* The preload, or Method=auto's choice of it: what the process shows. */
static void preload_verdict(const struct unit_facts *f, struct unit_check *c) {
        uint32_t pid = f->main_pid;

        if (f->library_mapped && f->settings_current) {
                if (f->counted)
                        unit_set_state(c, UNIT_STATE_ACTIVE,
                                  "PID %u has %s; %u of %u established TCP connections carry a keepalive timer", pid,
                                  f->library, f->tcp_with_keepalive, f->tcp_established);
                else
                        unit_set_state(c, UNIT_STATE_ACTIVE, "PID %u has %s and the rule's settings", pid, f->library);
                return;
        }
        if (f->library_mapped) {
                unit_set_state(c, UNIT_STATE_PENDING_RESTART,
                          "PID %u runs with older settings (%.200s); restart %s to apply the new ones", pid,
                          str_or(f->environment, "none"), f->unit);
                return;
        }
        /* Not mapped: find out why, from the unit's configuration (a restart
         * would not help) to the running process. */
        if (f->unsets_preload) {
                unit_set_state(c, UNIT_STATE_OVERRIDDEN, "the unit has UnsetEnvironment=LD_PRELOAD");
                return;
        }
        if (!f->unit_preload_has_library) {
                unit_set_state(c, UNIT_STATE_OVERRIDDEN,
                          "an Environment=LD_PRELOAD= that sorts after %s (e.g. an override.conf) replaces ours",
                          KA_DROPIN_NAME);
                return;
        }
        if (!f->settings_current) {
                unit_set_state(c, UNIT_STATE_PENDING_RESTART,
                          "PID %u started before the drop-in was in place; restart %s to apply it", pid, f->unit);
                return;
        }
        if (!f->process_preload_has_library) {
                if (f->has_environment_files)
                        unit_set_state(c, UNIT_STATE_OVERRIDDEN, "an EnvironmentFile= of the unit sets LD_PRELOAD over ours");
                else
                        unit_set_state(c, UNIT_STATE_OVERRIDDEN, "PID %u runs without our LD_PRELOAD", pid);
                return;
        }
        if (f->exe_checked && !f->exe_preload_works)
                unit_set_state(c, UNIT_STATE_UNSUPPORTED, "PID %u: %.300s: LD_PRELOAD cannot reach it (Method=auto or bpf can)",
                          pid, str_or(f->exe_why, "?"));
        else
                unit_set_state(c, UNIT_STATE_UNSUPPORTED,
                          "PID %u has LD_PRELOAD but not the library: its sandbox (RootDirectory=, InaccessiblePaths=, "
                          "...) probably hides %s", pid, f->library);
}

void unit_verdict(const struct unit_facts *f, struct unit_check *c) {
        uint32_t pid = f->main_pid;

        c->method[0] = '\0';
        if (!f->has_dropin && f->masked_by) {
                unit_set_state(c, UNIT_STATE_MASKED, "the drop-in is masked by %s", f->masked_by);
                return;
        }
        if (!f->has_dropin) {
                unit_set_state(c, UNIT_STATE_UNMANAGED, "no %s drop-in: no rule matches and tcpkeepalive@ is not enabled for it",
                          KA_DROPIN_NAME);
                return;
        }
        /* Mode=off: the drop-in sets TCPKEEPALIVE_MODE=off and no LD_PRELOAD,
         * on purpose; running or not, nothing is missing. (Our library in
         * LD_PRELOAD with a later MODE=off is something else: judged below.) */
        if (streq(f->mode, "off") && !f->unit_preload_has_library) {
                unit_set_state(c, UNIT_STATE_EXCLUDED, "excluded by %s (Mode=off)", str_or(f->source, "a rule"));
                return;
        }
        if (pid == 0) {
                unit_set_state(c, UNIT_STATE_INACTIVE, "not running (%s); it gets keepalive when it starts",
                          str_or(f->active_state, "?"));
                return;
        }
        /* A process that ended while it was read is not judged: its number
         * may be another process's now. */
        if (f->main_pid_exited) {
                unit_set_state(c, UNIT_STATE_ERROR,
                          "PID %u exited while it was inspected (its number may be another process's now); ask again",
                          pid);
                return;
        }
        if (f->main_pid_left) {
                unit_set_state(c, UNIT_STATE_ERROR, "PID %u left %s before it could be inspected (it exited); ask again", pid,
                          f->unit);
                return;
        }
        /* Its environment and maps are still systemd's, not the program's:
         * judging them would call a process that gets keepalive one that
         * started before the drop-in. */
        if (f->main_pid_not_exec) {
                unit_set_state(c, UNIT_STATE_ERROR,
                          "PID %u has not started its program yet (systemd is still setting it up); ask again", pid);
                return;
        }
        if (!f->environ_read) {
                unit_set_state(c, UNIT_STATE_ERROR, "cannot read the environment of PID %u", pid);
                return;
        }
        snprintf(c->method, sizeof(c->method), "preload");
        if (streq(f->method, "bpf") || streq(f->method, "auto")) {
                bool current = bpf_record_current(f);
                /* This run's attach failed: a restart would fail the same way. */
                if (current && streq(f->bpf_method, "error")) {
                        snprintf(c->method, sizeof(c->method), "bpf");
                        unit_set_state(c, bpf_failure_is_kernel(f->bpf_reason) ? UNIT_STATE_UNSUPPORTED : UNIT_STATE_ERROR,
                                  "%s", str_or(f->bpf_reason, "tcpkeepalive-bpf failed and gave no reason"));
                        return;
                }
                if (!current || !f->settings_current) {
                        unit_set_state(c, UNIT_STATE_PENDING_RESTART,
                                  "PID %u started before the drop-in (Method=%s) was in place; restart %s to apply it",
                                  pid, f->method, f->unit);
                        return;
                }
                if (streq(f->bpf_method, "bpf")) {
                        snprintf(c->method, sizeof(c->method), "bpf");
                        if (f->counted)
                                unit_set_state(c, UNIT_STATE_ACTIVE,
                                          "BPF (%s) on cgroup %" PRIu64 "; %u of %u established TCP connections carry a "
                                          "keepalive timer", str_or(f->bpf_reason, "?"), f->bpf_cgroup_id,
                                          f->tcp_with_keepalive, f->tcp_established);
                        else
                                unit_set_state(c, UNIT_STATE_ACTIVE, "BPF (%s) on cgroup %" PRIu64,
                                          str_or(f->bpf_reason, "?"), f->bpf_cgroup_id);
                        return;
                }
                /* Method=auto chose the preload: the checks below apply. */
        }
        preload_verdict(f, c);
}
