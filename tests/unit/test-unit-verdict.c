/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unit_verdict (daemon/unit-verdict.c): every state and every reason it
 * can give, one row each: the facts unit_check would gather, the state
 * and method expected, a piece of the reason that must be in it (and one
 * that must not). The facts are those of real situations: the BPF record
 * is what tcpkeepalive-bpf writes (method=error with cgroup_id=0 when the
 * kernel refused the programs before the cgroup was opened), a masked
 * drop-in is what systemd lists in DropInPaths.
 */
#include <stdio.h>
#include <string.h>

#include "unit-verdict.h"

#define LIB "/usr/lib/x86_64-linux-gnu/tcp-keepalive/libtcpkeepalive.so"
#define RULE "/etc/keepalived.d/50-web.ini"
#define MASK "/etc/systemd/system/web.service.d/50-tcpkeepalive.conf"

/* The base of most rows: a running unit whose process has the library and
 * the rule's settings. A row names only what differs, so later
 * initializers override the base's on purpose. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
#define MANAGED .unit = "web.service", .library = LIB, .source = RULE, .has_dropin = true, .active_state = "inactive"
#define RUNNING                                                                                                  \
        MANAGED, .active_state = "active", .main_pid = 42, .environ_read = true, .settings_current = true,      \
                 .library_mapped = true, .unit_preload_has_library = true, .process_preload_has_library = true, \
                 .environment = "TCPKEEPALIVE_IDLE=51", .cgroup_id = 9, .activation_usec = 1000,              \
                 .want = WANT_IDLE51
/* The rule of RUNNING: IdleSec=51, both directions, Mode=default. */
#define WANT_IDLE51 { .idle = 51, .interval = -1, .count = -1, .user_timeout = -1, .direction = 3 }
/* An accepted connection of PID 43, fd 7, read back with these values. */
#define SOCK(ka, i, n, c, u) \
        { .pid = 43, .fd = 7, .established = true, .inbound = true, .keepalive = ka, .idle = i, .interval = n, .count = c, .user_timeout = u }
#define GO_WHY "/opt/echo: Go runtime: its sockets do not go through libc"
/* Not mapped though LD_PRELOAD names it: unit_check then reads the exe. */
#define NOT_MAPPED .library_mapped = false, .exe_checked = true, .exe_preload_works = true
/* Method=bpf with a record of this run. */
#define BPF_RUN                                                                                           \
        RUNNING, .method = "bpf", .library_mapped = false, .unit_preload_has_library = false,           \
                 .process_preload_has_library = false, .have_bpf_record = true, .bpf_written_usec = 2000
#define BPF_FAILED(err) "the BPF backend failed: " err
/* What tcpkeepalive-apply@ records where bpf(2) is refused. */
#define REFUSED "bpf(BPF_PROG_LOAD) refused: EPERM (Operation not permitted): BPF is not allowed here"
/* A running container's scope a rule covers (no drop-in, no main PID). */
#define SCOPE                                                                                                    \
        .unit = "docker-0a1b.scope", .library = LIB, .source = RULE, .cgroup_unit = true, .active_state = "active", \
        .cgroup_id = 9, .activation_usec = 1000, .want = WANT_IDLE51

struct row {
        const char *name;
        struct unit_facts facts;
        enum unit_state state;
        const char *method;  /* "" for none */
        const char *reason;  /* a substring of the reason */
        const char *not;     /* a substring the reason must not have, or NULL */
};

static const struct row rows[] = {
        { "no drop-in", { MANAGED, .has_dropin = false }, UNIT_STATE_UNMANAGED, "",
          "no 50-tcpkeepalive.conf drop-in: no rule matches", NULL },
        { "drop-in masked by a link to /dev/null", { MANAGED, .has_dropin = false, .masked_by = MASK },
          UNIT_STATE_MASKED, "", "the drop-in is masked by " MASK, NULL },
        { "masked, while running", { RUNNING, .has_dropin = false, .masked_by = MASK, .library_mapped = false },
          UNIT_STATE_MASKED, "", "masked by " MASK, NULL },
        { "Mode=off, running", { RUNNING, .mode = "off", .source = "/etc/keepalived.d/90-exclude-audit.ini",
                                 .environment = "TCPKEEPALIVE_MODE=off", .library_mapped = false,
                                 .unit_preload_has_library = false, .process_preload_has_library = false },
          UNIT_STATE_EXCLUDED, "", "excluded by /etc/keepalived.d/90-exclude-audit.ini (Mode=off)", NULL },
        { "Mode=off, not running", { MANAGED, .mode = "off" }, UNIT_STATE_EXCLUDED, "", "excluded by " RULE " (Mode=off)",
          NULL },
        { "not running", { MANAGED }, UNIT_STATE_INACTIVE, "", "not running (inactive); it gets keepalive when it starts",
          NULL },
        { "main PID ended while read", { RUNNING, .main_pid_exited = true, .main_pid_left = true }, UNIT_STATE_ERROR, "",
          "PID 42 exited while it was inspected", NULL },
        { "main PID gone before read", { RUNNING, .main_pid_left = true }, UNIT_STATE_ERROR, "",
          "PID 42 left web.service before it could be inspected", NULL },
        { "main PID not exec'd yet (systemd's forked child, systemd's environment)",
          { RUNNING, .main_pid_not_exec = true, .settings_current = false, .library_mapped = false,
            .process_preload_has_library = false, .environment = "" },
          UNIT_STATE_ERROR, "", "PID 42 has not started its program yet", "started before the drop-in" },
        { "main PID not exec'd yet, Method=bpf",
          { BPF_RUN, .main_pid_not_exec = true, .settings_current = false, .bpf_method = "bpf", .bpf_cgroup_id = 9 },
          UNIT_STATE_ERROR, "", "PID 42 has not started its program yet", "started before the drop-in" },
        { "main PID inside execve (its environment read as empty)",
          { RUNNING, .main_pid_not_exec = true, .environ_read = false, .library_mapped = false },
          UNIT_STATE_ERROR, "", "PID 42 has not started its program yet", "cannot read the environment" },
        { "main PID not exec'd yet, but it ended", { RUNNING, .main_pid_not_exec = true, .main_pid_exited = true },
          UNIT_STATE_ERROR, "", "PID 42 exited while it was inspected", NULL },
        { "environ unreadable", { RUNNING, .environ_read = false }, UNIT_STATE_ERROR, "",
          "cannot read the environment of PID 42", NULL },
        { "Method=bpf, no record: started before the drop-in", { BPF_RUN, .have_bpf_record = false },
          UNIT_STATE_PENDING_RESTART, "preload", "PID 42 started before the drop-in (Method=bpf) was in place", NULL },
        { "Method=bpf, a record of another cgroup", { BPF_RUN, .bpf_method = "bpf", .bpf_cgroup_id = 7 },
          UNIT_STATE_PENDING_RESTART, "preload", "started before the drop-in (Method=bpf)", NULL },
        { "Method=auto, an earlier run's failure (cgroup 0, written before this run)",
          { BPF_RUN, .method = "auto", .bpf_method = "error", .bpf_reason = BPF_FAILED("Operation not permitted"),
            .bpf_cgroup_id = 0, .bpf_written_usec = 500 },
          UNIT_STATE_PENDING_RESTART, "preload", "started before the drop-in (Method=auto)", NULL },
        { "Method=bpf, settings changed since the start",
          { BPF_RUN, .bpf_method = "bpf", .bpf_cgroup_id = 9, .settings_current = false },
          UNIT_STATE_PENDING_RESTART, "preload", "restart web.service to apply it", NULL },
        { "Method=auto, the kernel refused BPF before the cgroup was opened",
          { BPF_RUN, .method = "auto", .bpf_method = "error", .bpf_reason = BPF_FAILED("Operation not permitted"),
            .bpf_cgroup_id = 0 },
          UNIT_STATE_UNSUPPORTED, "bpf", BPF_FAILED("Operation not permitted"), "started before" },
        { "Method=bpf, the attach refused (cgroup known)",
          { BPF_RUN, .bpf_method = "error", .bpf_reason = BPF_FAILED("Invalid argument"), .bpf_cgroup_id = 9 },
          UNIT_STATE_UNSUPPORTED, "bpf", BPF_FAILED("Invalid argument"), NULL },
        { "Method=bpf, refused, and the settings changed since",
          { BPF_RUN, .bpf_method = "error", .bpf_reason = BPF_FAILED("Function not implemented"),
            .settings_current = false },
          UNIT_STATE_UNSUPPORTED, "bpf", BPF_FAILED("Function not implemented"), "restart" },
        { "Method=bpf, a failure that is not the kernel's (the object is missing)",
          { BPF_RUN, .bpf_method = "error", .bpf_reason = BPF_FAILED("No such file or directory"), .bpf_cgroup_id = 9 },
          UNIT_STATE_ERROR, "bpf", BPF_FAILED("No such file or directory"), NULL },
        { "Method=bpf, attached, every connection with the rule's values",
          { BPF_RUN, .bpf_method = "bpf", .bpf_reason = "Method=bpf", .bpf_cgroup_id = 9, .counted = true,
            .conns = { .established = 3, .rule = 3 } },
          UNIT_STATE_ACTIVE, "bpf", "BPF (Method=bpf) on cgroup 9; 3 of 3 established connections carry the rule's values "
          "(idle 51 s)", NULL },
        { "Method=bpf, Mode=default, the program's own values (Go sets 15 s after accept)",
          { BPF_RUN, .bpf_method = "bpf", .bpf_reason = "Method=auto: Go runtime", .bpf_cgroup_id = 9, .counted = true,
            .conns = { .established = 2, .rule = 1, .own = 1, .own_first = SOCK(1, 15, 15, 9, 0) } },
          UNIT_STATE_OWN_VALUES, "bpf", "1 of 2 established connections carry the program's own values (PID 43 fd 7: "
          "idle 15 s, interval 15 s, count 9, user timeout 0 ms), not the rule's (idle 51 s): Mode=force keeps", NULL },
        { "Method=bpf, Mode=force, other values all the same",
          { BPF_RUN, .bpf_method = "bpf", .bpf_reason = "Method=bpf", .bpf_cgroup_id = 9, .counted = true,
            .want = { .idle = 51, .interval = -1, .count = -1, .user_timeout = -1, .direction = 3, .force = true },
            .conns = { .established = 1, .own = 1, .own_first = SOCK(1, 15, 15, 9, 0) } },
          UNIT_STATE_OWN_VALUES, "bpf", "though Mode=force: set after the rule's", "Mode=force keeps" },
        { "Method=bpf, attached, not counted",
          { BPF_RUN, .bpf_method = "bpf", .bpf_reason = "Method=bpf", .bpf_cgroup_id = 9 },
          UNIT_STATE_ACTIVE, "bpf", "BPF (Method=bpf) on cgroup 9", "established" },
        { "Method=auto chose the preload",
          { RUNNING, .method = "auto", .have_bpf_record = true, .bpf_method = "preload",
            .bpf_reason = "a dynamically linked program: the preload reaches it" },
          UNIT_STATE_ACTIVE, "preload", "PID 42 has " LIB " and the rule's settings", NULL },
        { "preload, every connection with the rule's values", { RUNNING, .counted = true,
                                                                 .conns = { .established = 4, .rule = 4 } },
          UNIT_STATE_ACTIVE, "preload", "PID 42 has " LIB "; 4 of 4 established connections carry the rule's values "
          "(idle 51 s)", NULL },
        { "preload, no connection yet", { RUNNING, .counted = true },
          UNIT_STATE_ACTIVE, "preload", "PID 42 has " LIB "; no established connection the rule covers yet: the verdict "
          "rests on the process", NULL },
        { "preload, connections Direction= leaves out only", { RUNNING, .counted = true,
                                                              .conns = { .established = 2, .not_covered = 2 } },
          UNIT_STATE_ACTIVE, "preload", "no established connection the rule covers yet; 2 left out by Direction=", NULL },
        { "preload, Mode=default, the program set its own values",
          { RUNNING, .counted = true, .conns = { .established = 2, .rule = 1, .own = 1, .own_first = SOCK(1, 30, 5, 3, 0) } },
          UNIT_STATE_OWN_VALUES, "preload", "1 of 2 established connections carry the program's own values (PID 43 fd 7: "
          "idle 30 s, interval 5 s, count 3, user timeout 0 ms), not the rule's (idle 51 s): Mode=force keeps the rule's",
          NULL },
        { "preload, a Go program (its runtime bypasses libc): Go's own 15 s",
          { RUNNING, .counted = true, .exe_checked = true, .exe_preload_works = false, .exe_why = GO_WHY,
            .conns = { .established = 1, .own = 1, .own_first = SOCK(1, 15, 15, 9, 0) } },
          UNIT_STATE_OWN_VALUES, "preload", GO_WHY "; Method=bpf with Mode=force sets the rule's", NULL },
        { "preload, a child without the library holds connections without keepalive",
          { RUNNING, .counted = true, .none_pid_has_library = false,
            .conns = { .established = 3, .rule = 1, .none = 2, .none_pids = { 43 }, .n_none_pids = 1 } },
          UNIT_STATE_NO_KEEPALIVE, "preload", "2 of 3 established connections carry no keepalive (PID 43); PID 43 does not "
          "have " LIB ": a child that cleared its environment", NULL },
        { "preload, the program turned keepalive off (Mode=default)",
          { RUNNING, .counted = true, .none_pid_has_library = true,
            .conns = { .established = 1, .none = 1, .none_pids = { 42 }, .n_none_pids = 1 } },
          UNIT_STATE_NO_KEEPALIVE, "preload", "1 of 1 established connections carry no keepalive (PID 42): the program "
          "turned it off (Mode=force keeps the rule's)", NULL },
        { "preload, connections without keepalive and with own values: without is said first",
          { RUNNING, .counted = true, .none_pid_has_library = true,
            .conns = { .established = 2, .none = 1, .own = 1, .none_pids = { 42 }, .n_none_pids = 1,
                       .own_first = SOCK(1, 15, 15, 9, 0) } },
          UNIT_STATE_NO_KEEPALIVE, "preload", "1 of 2 established connections carry no keepalive", NULL },
        { "preload, values unreadable (pidfd_getfd refused): never zero sockets",
          { RUNNING, .counted = true,
            .conns = { .established = 3, .unread = 3, .unread_with_timer = 3, .unread_errno = 1,
                       .unread_call = "pidfd_getfd" } },
          UNIT_STATE_UNVERIFIED, "preload", "PID 42 has " LIB ", but the values of 3 of 3 established connections could not "
          "be read (pidfd_getfd: Operation not permitted); 3 of them have a keepalive timer", "0 of" },
        { "preload, a process's fds not listable",
          { RUNNING, .counted = true, .conns = { .unlisted = 1, .unlisted_pid = 44, .unlisted_errno = 13,
                                                     .unlisted_path = "/proc/44/fd" } },
          UNIT_STATE_UNVERIFIED, "preload", "the sockets of 1 process(es) could not be listed (PID 44: /proc/44/fd: "
          "Permission denied)", "no established connection" },
        { "preload, not counted", { RUNNING }, UNIT_STATE_ACTIVE, "preload", "PID 42 has " LIB " and the rule's settings",
          NULL },
        { "library mapped, older settings", { RUNNING, .settings_current = false }, UNIT_STATE_PENDING_RESTART, "preload",
          "PID 42 runs with older settings (TCPKEEPALIVE_IDLE=51); restart web.service", NULL },
        { "UnsetEnvironment=LD_PRELOAD", { RUNNING, NOT_MAPPED, .unsets_preload = true }, UNIT_STATE_OVERRIDDEN,
          "preload", "the unit has UnsetEnvironment=LD_PRELOAD", NULL },
        { "an override.conf's LD_PRELOAD", { RUNNING, NOT_MAPPED, .unit_preload_has_library = false },
          UNIT_STATE_OVERRIDDEN, "preload", "an Environment=LD_PRELOAD= that sorts after 50-tcpkeepalive.conf", NULL },
        { "preload, started before the drop-in", { RUNNING, .library_mapped = false, .settings_current = false,
                                                    .process_preload_has_library = false },
          UNIT_STATE_PENDING_RESTART, "preload", "PID 42 started before the drop-in was in place", NULL },
        { "an EnvironmentFile='s LD_PRELOAD", { RUNNING, .library_mapped = false, .process_preload_has_library = false,
                                                .has_environment_files = true },
          UNIT_STATE_OVERRIDDEN, "preload", "an EnvironmentFile= of the unit sets LD_PRELOAD over ours", NULL },
        { "the process lost LD_PRELOAD", { RUNNING, .library_mapped = false, .process_preload_has_library = false },
          UNIT_STATE_OVERRIDDEN, "preload", "PID 42 runs without our LD_PRELOAD", NULL },
        { "a static program", { RUNNING, NOT_MAPPED, .exe_preload_works = false,
                                .exe_why = "/bin/busybox is statically linked" },
          UNIT_STATE_UNSUPPORTED, "preload",
          "PID 42: /bin/busybox is statically linked: LD_PRELOAD cannot reach it (Method=auto or bpf can)", NULL },
        { "a sandbox hides the library", { RUNNING, NOT_MAPPED }, UNIT_STATE_UNSUPPORTED, "preload",
          "its sandbox (RootDirectory=, InaccessiblePaths=, ...) probably hides " LIB, NULL },
        { "a reason quoting a control character stays one line",
          { RUNNING, NOT_MAPPED, .exe_preload_works = false, .exe_why = "/srv/evil\nname is setuid" },
          UNIT_STATE_UNSUPPORTED, "preload", "/srv/evil", "\n" },

        /* The live apply's failure (BPF_APPLY_FAILED_DIR), named where the
         * unit waits for a restart; an older one (before the settings) not. */
        { "pending-restart, the live apply refused", { RUNNING, .settings_current = false, .settings_since_usec = 3000,
                                                       .live_failure = REFUSED, .live_failure_usec = 4000 },
          UNIT_STATE_PENDING_RESTART, "preload", "restart web.service to apply the new ones (applying them live failed: "
          REFUSED ")", NULL },
        { "Method=bpf pending-restart, the live apply refused",
          { BPF_RUN, .have_bpf_record = false, .settings_since_usec = 3000, .live_failure = REFUSED,
            .live_failure_usec = 4000 },
          UNIT_STATE_PENDING_RESTART, "preload", "(applying them live failed: " REFUSED ")", NULL },
        { "pending-restart, an apply failure older than the settings",
          { RUNNING, .settings_current = false, .settings_since_usec = 5000, .live_failure = REFUSED,
            .live_failure_usec = 4000 },
          UNIT_STATE_PENDING_RESTART, "preload", "restart web.service to apply the new ones", "applying them live" },

        /* Scopes and slices: reached live only. */
        { "a scope, applied live", { SCOPE, .have_bpf_record = true, .bpf_method = "bpf-live", .bpf_cgroup_id = 9,
                                     .bpf_live = 2, .counted = true, .conns = { .established = 2, .rule = 2 } },
          UNIT_STATE_ACTIVE, "bpf-live", "BPF, applied live (2 connection(s)", NULL },
        { "a scope, Mode=off", { SCOPE, .mode = "off" }, UNIT_STATE_EXCLUDED, "", "excluded by " RULE, NULL },
        { "a scope not running", { SCOPE, .active_state = "inactive" }, UNIT_STATE_INACTIVE, "",
          "the rule reaches it live when it starts", NULL },
        { "a scope, the apply refused", { SCOPE, .live_failure = REFUSED, .live_failure_usec = 4000 },
          UNIT_STATE_UNSUPPORTED, "bpf-live", "only live, and applying it failed: " REFUSED, NULL },
        { "a scope, a refusal older than the apply that worked",
          { SCOPE, .have_bpf_record = true, .bpf_method = "bpf-live", .bpf_cgroup_id = 9, .bpf_written_usec = 5000,
            .live_failure = REFUSED, .live_failure_usec = 4000 },
          UNIT_STATE_ACTIVE, "bpf-live", "applied live", NULL },
        { "a scope, a record of an earlier scope of that name",
          { SCOPE, .have_bpf_record = true, .bpf_method = "bpf-live", .bpf_cgroup_id = 8 },
          UNIT_STATE_ERROR, "", "has not been applied to it yet", NULL },
};

/* One connection against the rule: socket_classify, every class. */
static int classify_rows(void) {
        static const struct rule_values idle51 = WANT_IDLE51,
                                        all = { .idle = 60, .interval = 10, .count = 5, .user_timeout = 90000,
                                                .direction = 3 },
                                        in_only = { .idle = 51, .interval = -1, .count = -1, .user_timeout = -1,
                                                    .direction = 1 },
                                        out_only = { .idle = 51, .interval = -1, .count = -1, .user_timeout = -1,
                                                     .direction = 2 };
        static const struct {
                const char *name;
                const struct rule_values *want;
                struct unit_socket s;
                enum socket_class class;
        } cases[] = {
                { "listening: not judged", &idle51, { .keepalive = 1, .idle = 51 }, SOCKET_CLASS_NOT_ESTABLISHED },
                { "the rule's idle, the kernel's others", &idle51, SOCK(1, 51, 75, 9, 0), SOCKET_CLASS_RULE },
                { "another idle", &idle51, SOCK(1, 15, 75, 9, 0), SOCKET_CLASS_OWN },
                { "keepalive off", &idle51, SOCK(0, 51, 75, 9, 0), SOCKET_CLASS_NONE },
                { "all four the rule's", &all, SOCK(1, 60, 10, 5, 90000), SOCKET_CLASS_RULE },
                { "another user timeout", &all, SOCK(1, 60, 10, 5, 0), SOCKET_CLASS_OWN },
                { "another count", &all, SOCK(1, 60, 10, 9, 90000), SOCKET_CLASS_OWN },
                { "unread (pidfd_getfd refused)", &idle51,
                  { .established = true, .read_errno = 1, .read_call = "pidfd_getfd", .keepalive = -1, .idle = -1 },
                  SOCKET_CLASS_UNREAD },
                { "accepted, Direction=outbound", &out_only, SOCK(0, 7200, 75, 9, 0), SOCKET_CLASS_NOT_COVERED },
                { "accepted, Direction=inbound", &in_only, SOCK(1, 51, 75, 9, 0), SOCKET_CLASS_RULE },
                { "connected, Direction=inbound", &in_only,
                  { .established = true, .inbound = false, .keepalive = 0, .idle = 7200 }, SOCKET_CLASS_NOT_COVERED },
        };
        int failures = 0;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                enum socket_class c = socket_classify(cases[i].want, &cases[i].s);
                bool ok = c == cases[i].class;
                printf("%s - classify: %s: %s\n", ok ? "ok" : "not ok", cases[i].name, socket_class_to_string(c));
                failures += !ok;
        }
        return failures;
}

/* Rules by path: each connection against its own path's rule. */
static int classify_paths(void) {
        static struct ka_path paths[2];
        struct rule_values want = { .idle = 600, .interval = -1, .count = -1, .user_timeout = -1, .direction = 3,
                                    .paths = paths, .n_paths = 2 };
        struct unit_socket db = SOCK(1, 300, 10, 3, 330000), lb = SOCK(1, 190, 10, 3, 220000), other = SOCK(1, 600, 75, 9, 0),
                           db_unit_values = SOCK(1, 600, 75, 9, 0);
        struct {
                const char *name;
                struct unit_socket *s;
                bool paths_only;
                enum socket_class class;
                int path;
        } cases[] = {
                { "to the database: its path's values", &db, false, SOCKET_CLASS_RULE, 0 },
                { "to the database with the unit's values: not the rule's", &db_unit_values, false, SOCKET_CLASS_OWN, 0 },
                { "accepted on 443: the second path", &lb, false, SOCKET_CLASS_RULE, 1 },
                { "elsewhere: the unit's rule", &other, false, SOCKET_CLASS_RULE, -1 },
                { "elsewhere, only path rules: not covered", &other, true, SOCKET_CLASS_NOT_COVERED, -1 },
        };
        int failures = 0;

        if (ka_path_parse("dst=10.20.0.0/16;port=5432;idle=300;interval=10;count=3;user_timeout=330000", &paths[0]) < 0 ||
            ka_path_parse("lport=443;idle=190;interval=10;count=3;user_timeout=220000", &paths[1]) < 0)
                return 1;
        db.ends = db_unit_values.ends = (struct ka_conn_ends) { .family = AF_INET, .peer = { 10, 20, 3, 4 },
                                                                .peer_port = 5432, .local_port = 40000 };
        lb.ends = (struct ka_conn_ends) { .family = AF_INET, .peer = { 192, 0, 2, 9 }, .peer_port = 50000, .local_port = 443 };
        other.ends = (struct ka_conn_ends) { .family = AF_INET, .peer = { 10, 21, 0, 1 }, .peer_port = 5432, .local_port = 40001 };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                enum socket_class c;
                int path;
                bool ok;
                want.paths_only = cases[i].paths_only;
                c = socket_classify(&want, cases[i].s);
                path = socket_path(&want, cases[i].s);
                ok = c == cases[i].class && path == cases[i].path;
                printf("%s - classify by path: %s: %s, path %d\n", ok ? "ok" : "not ok", cases[i].name,
                       socket_class_to_string(c), path);
                failures += !ok;
        }
        return failures;
}

int main(void) {
        int failures = 0;
        size_t n = sizeof(rows) / sizeof(rows[0]);

        for (size_t i = 0; i < n; i++) {
                const struct row *t = &rows[i];
                struct unit_check c = { .state = UNIT_STATE_ERROR };
                bool ok;

                unit_verdict(&t->facts, &c);
                ok = c.state == t->state && strcmp(c.method, t->method) == 0 && strstr(c.reason, t->reason) &&
                     !(t->not && strstr(c.reason, t->not)) && !strchr(c.reason, '\n');
                printf("%s %zu - %s: %s (%s): %s\n", ok ? "ok" : "not ok", i + 1, t->name, unit_state_to_string(c.state),
                       c.method, c.reason);
                if (!ok) {
                        printf("#   expected %s (%s) with \"%s\"%s%s%s\n", unit_state_to_string(t->state), t->method,
                               t->reason, t->not ? ", without \"" : "", t->not ? t->not : "", t->not ? "\"" : "");
                        failures++;
                }
        }
        /* Every state has its own name; the names are the API. */
        static const char *const names[] = { "active",     "pending-restart", "inactive",     "unsupported",
                                             "overridden", "unmanaged",       "excluded",     "masked",
                                             "own-values", "no-keepalive",    "unverified",   "error" };
        for (int s = UNIT_STATE_ACTIVE; s <= UNIT_STATE_ERROR; s++)
                if (strcmp(unit_state_to_string((enum unit_state) s), names[s]) != 0) {
                        printf("not ok - state %d is named %s, not %s\n", s, unit_state_to_string((enum unit_state) s),
                               names[s]);
                        failures++;
                }
        failures += classify_rows();
        failures += classify_paths();
        printf("%zu rows, %d failed\n", n, failures);
        return failures ? 1 : 0;
}
