/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"
#include "keepalive-params.h"
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
                [UNIT_STATE_OWN_VALUES] = "own-values",
                [UNIT_STATE_NO_KEEPALIVE] = "no-keepalive",
                [UNIT_STATE_UNVERIFIED] = "unverified",
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

void rule_values_done(struct rule_values *w) {
        free(w->paths);
        w->paths = NULL;
        w->n_paths = 0;
}

int socket_path(const struct rule_values *want, const struct unit_socket *s) {
        if (want->n_paths == 0)
                return -1;
        return ka_paths_match(want->paths, (unsigned) want->n_paths, &s->ends);
}

enum socket_class socket_classify(const struct rule_values *want, const struct unit_socket *s) {
        int idle = want->idle, interval = want->interval, count = want->count, user_timeout = want->user_timeout;

        if (!s->established)
                return SOCKET_CLASS_NOT_ESTABLISHED;
        if (!(want->direction & (s->inbound ? KA_DIRECTION_INBOUND : KA_DIRECTION_OUTBOUND)))
                return SOCKET_CLASS_NOT_COVERED;
        if (want->n_paths > 0) {
                /* Each connection against its own path's rule. */
                int i = socket_path(want, s);
                if (i >= 0) {
                        idle = want->paths[i].idle;
                        interval = want->paths[i].interval;
                        count = want->paths[i].count;
                        user_timeout = want->paths[i].user_timeout;
                } else if (want->paths_only)
                        return SOCKET_CLASS_NOT_COVERED;
        }
        if (s->read_errno != 0 || s->keepalive < 0)
                return SOCKET_CLASS_UNREAD;
        if (s->keepalive == 0)
                return SOCKET_CLASS_NONE;
        if ((idle >= 0 && s->idle != idle) || (interval >= 0 && s->interval != interval) ||
            (count >= 0 && s->count != count) || (user_timeout >= 0 && s->user_timeout != user_timeout))
                return SOCKET_CLASS_OWN;
        return SOCKET_CLASS_RULE;
}

const char *socket_class_to_string(enum socket_class c) {
        static const char *const names[] = {
                [SOCKET_CLASS_NOT_ESTABLISHED] = "",        [SOCKET_CLASS_NOT_COVERED] = "not-covered",
                [SOCKET_CLASS_RULE] = "rule",               [SOCKET_CLASS_OWN] = "own",
                [SOCKET_CLASS_NONE] = "none",               [SOCKET_CLASS_UNREAD] = "unread",
        };
        return (unsigned) c < sizeof(names) / sizeof(names[0]) && names[c] ? names[c] : "";
}

void conn_tally_add(struct conn_tally *t, const struct rule_values *want, const struct unit_socket *s) {
        enum socket_class c = socket_classify(want, s);

        if (c == SOCKET_CLASS_NOT_ESTABLISHED)
                return;
        t->established++;
        switch (c) {
        case SOCKET_CLASS_NOT_COVERED:
                t->not_covered++;
                break;
        case SOCKET_CLASS_RULE:
                t->rule++;
                break;
        case SOCKET_CLASS_OWN:
                if (t->own++ == 0)
                        t->own_first = *s;
                break;
        case SOCKET_CLASS_NONE:
                t->none++;
                for (unsigned i = 0; i <= t->n_none_pids; i++)
                        if (i == t->n_none_pids) {
                                if (i < sizeof(t->none_pids) / sizeof(t->none_pids[0]))
                                        t->none_pids[t->n_none_pids++] = s->pid;
                                break;
                        } else if (t->none_pids[i] == s->pid)
                                break;
                break;
        case SOCKET_CLASS_UNREAD:
                if (t->unread++ == 0) {
                        t->unread_errno = s->read_errno;
                        t->unread_call = s->read_call;
                }
                t->unread_with_timer += s->keepalive_timer;
                break;
        default:
                break;
        }
}

/* Appends ", " (after the first) and a printf-style piece to buf. */
static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...) {
        size_t used = strlen(buf);
        va_list ap;

        if (used && used + 2 < size)
                memcpy(buf + used, ", ", 3), used += 2;
        va_start(ap, fmt);
        if (used < size)
                vsnprintf(buf + used, size - used, fmt, ap);
        va_end(ap);
}

/* "idle 77 s, interval 11 s, count 4, user timeout 0 ms": the values set
 * (>= 0); "keepalive on" when none is. */
static void format_values(char *buf, size_t size, int idle, int interval, int count, int user_timeout) {
        buf[0] = '\0';
        if (idle >= 0)
                append(buf, size, "idle %d s", idle);
        if (interval >= 0)
                append(buf, size, "interval %d s", interval);
        if (count >= 0)
                append(buf, size, "count %d", count);
        if (user_timeout >= 0)
                append(buf, size, "user timeout %d ms", user_timeout);
        if (!buf[0])
                snprintf(buf, size, "keepalive on");
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

/* tcpkeepalive-bpf apply gave this run's cgroup the rule live, after the
 * unit's current settings took effect: BPF carries the rule, whatever the
 * process's environment says, until the unit's next start. (A scope or slice
 * has no settings_since_usec: the daemon applies every rule change to it.) */
static bool live_apply_current(const struct unit_facts *f) {
        return f->have_bpf_record && streq(f->bpf_method, "bpf-live") && f->cgroup_id != 0 &&
               f->bpf_cgroup_id == f->cgroup_id && f->bpf_applied_usec >= f->settings_since_usec;
}

/* The helper's failure is the kernel's refusal of BPF (no support, a
 * seccomp filter or lockdown saying no), not a broken installation: its
 * record says "the BPF backend failed: " and strerror of what failed. */
static bool bpf_failure_is_kernel(const char *reason) {
        static const int refusals[] = { EPERM, EINVAL, EOPNOTSUPP, ENOSYS, E2BIG };
        size_t n = reason ? strlen(reason) : 0;
        /* tcpkeepalive-bpf apply's "bpf(CALL) refused: EPERM (...)". */
        if (n && strstr(reason, ") refused: "))
                return true;
        for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
                const char *e = strerror(refusals[i]);
                size_t l = strlen(e);
                if (n >= l + 2 && strcmp(reason + n - l, e) == 0 && reason[n - l - 2] == ':')
                        return true;
        }
        return false;
}

/* "; applying them live failed: WHY" when the live apply of the unit's
 * present settings failed (BPF refused, the kernel too old): why the unit
 * still waits for a restart. "" otherwise. */
static const char *live_failure_note(const struct unit_facts *f, char *buf, size_t size) {
        buf[0] = '\0';
        if (f->live_failure && f->live_failure_usec >= f->settings_since_usec)
                snprintf(buf, size, " (applying them live failed: %.200s)", f->live_failure);
        return buf;
}

/* The process is set up (who says how): now its connections decide. */
static void connections_verdict(const struct unit_facts *f, struct unit_check *c, const char *who, bool bpf) {
        const struct conn_tally *t = &f->conns;
        unsigned covered = t->rule + t->own + t->none + t->unread;
        char want[128], have[128], left_out[64] = "", pids[64] = "";

        format_values(want, sizeof(want), f->want.idle, f->want.interval, f->want.count, f->want.user_timeout);
        if (!f->counted) {
                unit_set_state(c, UNIT_STATE_ACTIVE, "%s and the rule's settings", who);
                return;
        }
        if (t->not_covered)
                snprintf(left_out, sizeof(left_out), "; %u left out by Direction=", t->not_covered);
        if (t->none) {
                for (unsigned i = 0; i < t->n_none_pids; i++)
                        append(pids, sizeof(pids), "%d", (int) t->none_pids[i]);
                if (t->n_none_pids == sizeof(t->none_pids) / sizeof(t->none_pids[0]))
                        append(pids, sizeof(pids), "...");
                if (!bpf && !f->none_pid_has_library)
                        unit_set_state(c, UNIT_STATE_NO_KEEPALIVE,
                                       "%u of %u established connections carry no keepalive (PID %s); PID %d does not "
                                       "have %s: a child that cleared its environment, or a runtime that bypasses "
                                       "libc (Method=auto or bpf reaches it)",
                                       t->none, covered, pids, (int) t->none_pids[0], f->library);
                else if (!f->want.force)
                        unit_set_state(c, UNIT_STATE_NO_KEEPALIVE,
                                       "%u of %u established connections carry no keepalive (PID %s): the program turned "
                                       "it off (Mode=force keeps the rule's)", t->none, covered, pids);
                else
                        unit_set_state(c, UNIT_STATE_NO_KEEPALIVE,
                                       "%u of %u established connections carry no keepalive (PID %s), though Mode=force: "
                                       "they were set up where %s does not reach (Method=bpf covers the whole cgroup)",
                                       t->none, covered, pids, bpf ? "BPF" : "the library");
                return;
        }
        if (t->own) {
                const struct unit_socket *o = &t->own_first;
                format_values(have, sizeof(have), o->idle, o->interval, o->count, o->user_timeout);
                if (!bpf && f->exe_checked && !f->exe_preload_works)
                        unit_set_state(c, UNIT_STATE_OWN_VALUES,
                                       "%u of %u established connections carry the program's own values (PID %d fd %d: %s), "
                                       "not the rule's (%s): %.200s; Method=bpf with Mode=force sets the rule's",
                                       t->own, covered, (int) o->pid, o->fd, have, want, str_or(f->exe_why, "?"));
                else if (!f->want.force)
                        unit_set_state(c, UNIT_STATE_OWN_VALUES,
                                       "%u of %u established connections carry the program's own values (PID %d fd %d: %s), "
                                       "not the rule's (%s): Mode=force keeps the rule's",
                                       t->own, covered, (int) o->pid, o->fd, have, want);
                else
                        unit_set_state(c, UNIT_STATE_OWN_VALUES,
                                       "%u of %u established connections carry the program's own values (PID %d fd %d: %s), "
                                       "not the rule's (%s), though Mode=force: %s",
                                       t->own, covered, (int) o->pid, o->fd, have, want,
                                       bpf ? "set after the rule's, by a means BPF does not see"
                                           : "set where the library does not see (a runtime that bypasses libc?); "
                                             "Method=bpf covers it");
                return;
        }
        if (t->unlisted) {
                unit_set_state(c, UNIT_STATE_UNVERIFIED,
                               "%s, but the sockets of %u process(es) could not be listed (PID %d: %s: %s)", who,
                               t->unlisted, (int) t->unlisted_pid, str_or(t->unlisted_path, "?"),
                               strerror(t->unlisted_errno));
                return;
        }
        if (t->unread) {
                unit_set_state(c, UNIT_STATE_UNVERIFIED,
                               "%s, but the values of %u of %u established connections could not be read (%s: %s); "
                               "%u of them have a keepalive timer in the kernel's table%s", who, t->unread, covered,
                               str_or(t->unread_call, "?"), strerror(t->unread_errno), t->unread_with_timer, left_out);
                return;
        }
        if (covered == 0) {
                unit_set_state(c, UNIT_STATE_ACTIVE,
                               "%s; no established connection the rule covers yet%s: the verdict rests on the process",
                               who, left_out);
                return;
        }
        unit_set_state(c, UNIT_STATE_ACTIVE, "%s; %u of %u established connections carry the rule's values (%s)%s", who,
                       t->rule, covered, want, left_out);
}

/* The preload, or Method=auto's choice of it: what the process shows. */
static void preload_verdict(const struct unit_facts *f, struct unit_check *c) {
        uint32_t pid = f->main_pid;
        char note[256];

        if (f->library_mapped && f->settings_current) {
                char who[300];
                snprintf(who, sizeof(who), "PID %u has %s", pid, f->library);
                connections_verdict(f, c, who, false);
                return;
        }
        if (f->library_mapped) {
                unit_set_state(c, UNIT_STATE_PENDING_RESTART,
                          "PID %u runs with older settings (%.200s); restart %s to apply the new ones%s", pid,
                          str_or(f->environment, "none"), f->unit, live_failure_note(f, note, sizeof(note)));
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
                          "PID %u started before the drop-in was in place; restart %s to apply it%s", pid, f->unit,
                          live_failure_note(f, note, sizeof(note)));
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

/* BPF carries the rule, applied live: the connections decide. */
static void live_applied_verdict(const struct unit_facts *f, struct unit_check *c) {
        char who[160];
        snprintf(c->method, sizeof(c->method), "bpf-live");
        snprintf(who, sizeof(who),
                 "BPF, applied live%s (%" PRIu64 " connection(s) given the rule's values then, new ones as they connect)",
                 f->cgroup_unit ? "" : " with no restart", f->bpf_live);
        connections_verdict(f, c, who, true);
}

/* A scope or slice: the rule reaches it live or not at all (no drop-in,
 * no restart that would bring it). */
static void cgroup_unit_verdict(const struct unit_facts *f, struct unit_check *c) {
        if (streq(f->mode, "off")) {
                unit_set_state(c, UNIT_STATE_EXCLUDED, "excluded by %s (Mode=off)", str_or(f->source, "a rule"));
                return;
        }
        if (!streq(f->active_state, "active") && !streq(f->active_state, "reloading")) {
                unit_set_state(c, UNIT_STATE_INACTIVE, "not running (%s); the rule reaches it live when it starts",
                               str_or(f->active_state, "?"));
                return;
        }
        /* The last apply failed, after any that succeeded. */
        if (f->live_failure && (!f->have_bpf_record || f->live_failure_usec >= f->bpf_written_usec)) {
                snprintf(c->method, sizeof(c->method), "bpf-live");
                unit_set_state(c, bpf_failure_is_kernel(f->live_failure) ? UNIT_STATE_UNSUPPORTED : UNIT_STATE_ERROR,
                               "a rule reaches a scope or slice only live, and applying it failed: %.300s",
                               f->live_failure);
                return;
        }
        if (live_apply_current(f)) {
                live_applied_verdict(f, c);
                return;
        }
        unit_set_state(c, UNIT_STATE_ERROR,
                       "the rule has not been applied to it yet (tcpkeepalivectl apply %s applies it now; "
                       "journalctl -u 'tcpkeepalive-apply@*' says what the last apply did)",
                       f->unit);
}

void unit_verdict(const struct unit_facts *f, struct unit_check *c) {
        uint32_t pid = f->main_pid;

        c->method[0] = '\0';
        if (f->cgroup_unit) {
                cgroup_unit_verdict(f, c);
                return;
        }
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
        if (live_apply_current(f)) {
                live_applied_verdict(f, c);
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
                        char note[256];
                        unit_set_state(c, UNIT_STATE_PENDING_RESTART,
                                  "PID %u started before the drop-in (Method=%s) was in place; restart %s to apply it%s",
                                  pid, f->method, f->unit, live_failure_note(f, note, sizeof(note)));
                        return;
                }
                if (streq(f->bpf_method, "bpf")) {
                        char who[320];
                        snprintf(c->method, sizeof(c->method), "bpf");
                        snprintf(who, sizeof(who), "BPF (%.256s) on cgroup %" PRIu64, str_or(f->bpf_reason, "?"),
                                 f->bpf_cgroup_id);
                        connections_verdict(f, c, who, true);
                        return;
                }
                /* Method=auto chose the preload: the checks below apply. */
        }
        preload_verdict(f, c);
}
