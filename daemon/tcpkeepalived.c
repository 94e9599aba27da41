/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpkeepalived: the org.tcpkeepalive1 D-Bus service.
 *
 * Watches the rule directories; when they change (debounced) it re-reads
 * and validates the rules, asks systemd to reload (so the generator writes
 * the drop-ins again) and try-restarts the running units whose rule says
 * Restart=try. It reports, per unit, what systemd and /proc say is true:
 * see unit-check.h. States and counts are open to everyone; socket detail
 * (GetUnitSockets) to root only; Reload and RestartUnit need CAP_SYS_ADMIN
 * (sd-bus checks the caller; the D-Bus policy too).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <sys/capability.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus-api.h"
#include "bpf-record.h"
#include "bus-prefetch.h"
#include "close-counts.h"
#include "systemd-cache.h"
#include "caller-limit.h"
#include "dropin.h"
#include "dropin-history.h"
#include "live-apply.h"
#include "rule-watch.h"
#include "rules.h"
#include "safe-text.h"
#include "strv.h"
#include "tcp-table.h"
#include "unit-alias.h"
#include "unit-check.h"
#include "unit-name.h"
#include "unit-states.h"
#include "unit-scan.h"

#ifndef TCPKEEPALIVE_LIVE_APPLY
#define TCPKEEPALIVE_LIVE_APPLY 0
#endif

#ifndef TCPKEEPALIVE_LIBRARY_PATH
#define TCPKEEPALIVE_LIBRARY_PATH "/usr/local/lib/libtcpkeepalive.so"
#endif

#define GENERATOR_DIR "/run/systemd/generator"
#define SETTLE_USEC (100 * 1000ULL) /* an editor's save, a package upgrade (dpkg writes its files milliseconds apart) */
#define SETTLE_MAX_USEC (1000 * 1000ULL) /* events that never stop do not hold a change back */
/* A handler waits for systemd with the event loop stopped: each call at
 * most CALL_USEC, all calls of one request at most REQUEST_USEC (or a third
 * of the watchdog's interval, if shorter), well below WatchdogSec=30s and
 * below the 25 s a D-Bus client waits for our answer. Reload and
 * TryRestartUnit are not waited for: asynchronous. */
#define CALL_USEC (3 * 1000000ULL)
#define REQUEST_USEC (10 * 1000000ULL)
#define ASYNC_CALL_USEC (120 * 1000000ULL) /* a large systemd's daemon-reload */
/* ListUnits sends the systemd calls of this many units at once: 3 calls
 * each, below the system bus's 128 calls in progress per connection
 * (dbus-daemon's max_replies_per_connection). */
#define PREFETCH_UNITS 32
/* systemd's answers kept for this many units (systemd-cache.h): five times
 * the hundred units a status is expected to be fast for. A unit's three
 * messages cost 5 to 7 kB of RSS even with the GetAll answers trimmed to
 * what unit_check reads (measured: 1,500 units, 4.5 MB without the cache,
 * 7.7 MB with some 460 kept), so the cache stays under 3.5 MB and the
 * daemon under 10 MB, whatever the rules name. */
#define CACHE_UNITS 512

struct manager {
        sd_event *event;
        sd_bus *bus;
        struct rule_watch *watch;
        struct ka_ruleset rules;
        char *fingerprint; /* what the rules said last time: reload only on a change */
        const char *root;
        uint64_t reloads;
        struct unit_states states; /* as last signalled: UnitStateChanged only on a change */
        /* Units to check again, on the event loop, a batch at a time (see
         * on_refresh): "K:UNIT", K an enum refresh_kind. */
        char **refresh_queue;
        bool refresh_queue_sorted;
        sd_event_source *refresh_source;
        bool announce_new; /* the first look at the units records, announces nothing */
        size_t refreshed_since_trim;
        struct dropin_history history; /* since when each drop-in has had its content */
        char generator_dir[2048]; /* GENERATOR_DIR under TCPKEEPALIVE_ROOT */
        uint64_t request_usec;    /* the call budget of one request */
        struct bus_prefetch *prefetch; /* ListUnits' systemd calls, sent together (NULL: one by one) */
        struct caller_limit limit;     /* each user's share of the daemon's time */
        struct unit_aliases aliases;   /* as the unit directories were at the last reload */
        struct systemd_cache *cache;   /* systemd's answers; used while subscribed (see on_subscribed) */
        struct live_applies applies;   /* tcpkeepalive-apply@ jobs in flight */
};

/* What a queued check of a unit may lead to. */
enum refresh_kind {
        REFRESH_STATE = 'S',        /* its state, nothing more */
        REFRESH_RULE_CHANGED = 'R', /* its drop-in changed: apply live, else Restart=try */
        REFRESH_AFTER_APPLY = 'T',  /* a live apply ended: Restart=try if it did not take */
};

static void budget_start(struct manager *m, struct call_budget *b) {
        uint64_t now = 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        /* sd_event_now is the loop's iteration time: earlier than now, so
         * the budget errs on the short side. */
        call_budget_start(b, now, m->request_usec, CALL_USEC);
}

/* stderr goes to the journal; the <N> prefix is its priority. */
#define log_error(...) (fprintf(stderr, SD_ERR __VA_ARGS__), fputc('\n', stderr))
#define log_warning(...) (fprintf(stderr, SD_WARNING __VA_ARGS__), fputc('\n', stderr))
#define log_info(...) (fprintf(stderr, SD_INFO __VA_ARGS__), fputc('\n', stderr))

/* ---- replies ----------------------------------------------------------------- */

/* Answers call with error e (or, unset, with r's errno); when that error
 * cannot be sent (its text not UTF-8, out of memory), with a plain one:
 * every method call gets a reply, a caller never waits for its timeout. */
static void reply_error(sd_bus_message *call, const sd_bus_error *e, int r) {
        int q = sd_bus_error_is_set(e) ? sd_bus_reply_method_error(call, e) : sd_bus_reply_method_errno(call, r, NULL);
        if (q < 0) {
                log_warning("cannot send the error of %s (%s): %s; sending a plain one", sd_bus_message_get_member(call),
                            sd_bus_error_is_set(e) ? e->name : strerror(r < 0 ? -r : EIO), strerror(-q));
                q = sd_bus_reply_method_error(call, &SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_FAILED,
                                                                           "the request failed; its error could not be sent"));
        }
        if (q < 0)
                log_error("cannot answer %s: %s", sd_bus_message_get_member(call), strerror(-q));
}

/* A method handler behind reply_error: a failure is answered here, not by
 * sd-bus, which gives up when the answer cannot be built. */
#define REPLYING(handler)                                                                       \
        static int handler##_replying(sd_bus_message *msg, void *userdata, sd_bus_error *error) { \
                sd_bus_error e = SD_BUS_ERROR_NULL;                                              \
                int r = handler(msg, userdata, &e);                                              \
                (void) error;                                                                    \
                if (r < 0 || sd_bus_error_is_set(&e)) {                                          \
                        reply_error(msg, &e, r < 0 ? r : -EIO);                                  \
                        r = 1;                                                                   \
                }                                                                                \
                sd_bus_error_free(&e);                                                           \
                return r;                                                                        \
        }

/* ---- rules ------------------------------------------------------------------ */

/* The text of every drop-in the rules imply plus every diagnostic: two
 * loads with the same fingerprint need no systemd reload. */
static char *fingerprint(struct ka_ruleset *rs) {
        static const struct ka_dropin_setup setup = { .library = "", .bpf_helper = "-" };
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < rs->n_rules; i++) {
                char *d = ka_dropin_render("-", &rs->rules[i].params, rs->rules[i].path, &setup);
                fprintf(f, "%s\n", d ? d : "");
                for (char **u = rs->rules[i].units; u && *u; u++)
                        fprintf(f, "unit %s\n", *u);
                free(d);
        }
        if (rs->defaults_path) {
                char *d = ka_dropin_render("-", &rs->defaults, rs->defaults_path, &setup);
                fprintf(f, "defaults %s\n", d ? d : "");
                free(d);
        }
        for (size_t i = 0; i < rs->n_diags; i++)
                ka_diag_print(&rs->diags[i], f);
        fclose(f);
        return text;
}

static int load_rules(struct manager *m) {
        struct ka_ruleset rs;
        int r;

        ka_ruleset_init(&rs);
        r = ka_ruleset_load_dirs(&rs, m->root, ka_rule_dirs);
        if (r < 0) {
                log_error("cannot load rules: %s", strerror(-r));
                ka_ruleset_done(&rs);
                return r;
        }
        for (size_t i = 0; i < rs.n_diags; i++) {
                char *text = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&text, &size);
                if (!f)
                        continue;
                ka_diag_print(&rs.diags[i], f);
                fclose(f);
                text[strcspn(text, "\n")] = '\0';
                if (rs.diags[i].level == KA_DIAG_ERROR)
                        log_error("%s", text);
                else
                        log_warning("%s", text);
                free(text);
        }
        ka_ruleset_done(&m->rules);
        m->rules = rs;
        return 0;
}

/* A template's drop-in (foo@.service.d/) reaches every instance: the
 * instances systemd has loaded, running or not, are added to *units. */
static void add_template_instances(struct manager *m, struct call_budget *budget, const char *template, char ***units) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char pattern[UNIT_NAME_MAX + 2];
        const char *at = strchr(template, '@'), *name;
        int r;

        snprintf(pattern, sizeof(pattern), "%.*s*.service", (int) (at - template + 1), template);
        r = systemd_call_method(m->bus, budget, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                "ListUnitsByPatterns", &e, &reply, "asas", 0, 1, pattern);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        while (r > 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, NULL, NULL, NULL, NULL, NULL,
                                                 NULL, NULL, NULL)) > 0)
                if (unit_name_is_valid_service(name))
                        (void) strv_push_dup(units, name);
        if (r < 0) {
                char why[512];
                systemd_call_describe(why, sizeof(why), "ListUnitsByPatterns", template, r, &e, budget);
                log_warning("cannot list the instances of %s: %s", template, why);
        }
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
}

static bool is_template(const char *unit) {
        const char *at = strchr(unit, '@');
        return at && strcmp(at, "@.service") == 0;
}

/* Managed units: those the generator gave our drop-in, a template's
 * loaded instances in its place. A template without a loaded instance
 * stays in the list, so that the rule still shows. */
/* The scopes and slices a rule covers that a live apply has acted on (or
 * tried to): no drop-in names these. */
static void add_cgroup_units(struct manager *m, char ***units) {
        static const char *const dirs[] = { BPF_RECORD_DIR, BPF_APPLY_FAILED_DIR };

        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                DIR *d = opendir(dirs[i]);
                struct dirent *de;
                if (!d)
                        continue;
                while ((de = readdir(d)))
                        if (unit_name_is_scope_or_slice(de->d_name) && ka_ruleset_match(&m->rules, de->d_name, NULL))
                                (void) strv_push_dup(units, de->d_name);
                closedir(d);
        }
}

static char **managed_units(struct manager *m, struct call_budget *budget) {
        char **units = NULL;
        DIR *d = opendir(m->generator_dir);
        struct dirent *de;

        if (!d)
                return NULL;
        while ((de = readdir(d))) {
                char path[4096], name[UNIT_NAME_MAX + 1];
                size_t n = strlen(de->d_name), before;
                if (n < 3 || strcmp(de->d_name + n - 2, ".d") != 0 || n - 2 > UNIT_NAME_MAX)
                        continue;
                memcpy(name, de->d_name, n - 2);
                name[n - 2] = '\0';
                snprintf(path, sizeof(path), "%s/%s/" KA_DROPIN_NAME, m->generator_dir, de->d_name);
                if (!unit_name_is_valid_service(name) || access(path, F_OK) != 0)
                        continue;
                before = strv_length(units);
                if (is_template(name))
                        add_template_instances(m, budget, name, &units);
                if (strv_length(units) == before)
                        (void) strv_push_dup(&units, name);
        }
        closedir(d);
        add_cgroup_units(m, &units);
        strv_sort_unique(units);
        return units;
}

/* A call to systemd's Manager that the event loop does not wait for (a
 * daemon-reload may take long): on its answer, a failure is logged, the
 * caller (a D-Bus method call of ours, or NULL) gets its reply, and done
 * runs. Every call gets its answer or sd-bus's timeout error. */
struct async_call {
        struct manager *m;
        sd_bus_message *caller;
        char what[UNIT_NAME_MAX + 64];
        void (*done)(struct manager *m, int r);
};

static void async_call_free(void *userdata) {
        struct async_call *a = userdata;
        sd_bus_message_unref(a->caller);
        free(a);
}

static int on_async_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct async_call *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r = e ? -sd_bus_error_get_errno(e) : 0;
        (void) ret_error;

        if (e)
                log_error("systemd %s: %s", a->what, e->message ? e->message : e->name);
        if (a->done)
                a->done(a->m, r);
        if (a->caller) {
                if (e) {
                        sd_bus_error mine = SD_BUS_ERROR_NULL;
                        (void) sd_bus_error_setf(&mine, SD_BUS_ERROR_FAILED, "systemd %s failed: %s", a->what,
                                                 e->message ? e->message : e->name);
                        reply_error(a->caller, &mine, r);
                        sd_bus_error_free(&mine);
                } else
                        (void) sd_bus_reply_method_return(a->caller, NULL);
        }
        return 0;
}

static int systemd_call_async(struct manager *m, sd_bus_message *caller, void (*done)(struct manager *, int),
                              const char *method, const char *unit) {
        struct async_call *a = calloc(1, sizeof(*a));
        sd_bus_message *msg = NULL;
        sd_bus_slot *slot = NULL;
        int r;

        if (!a)
                return -ENOMEM;
        *a = (struct async_call) { .m = m, .caller = sd_bus_message_ref(caller), .done = done };
        snprintf(a->what, sizeof(a->what), "%s%s%s", method, unit ? " " : "", unit ? unit : "");
        r = sd_bus_message_new_method_call(m->bus, &msg, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", method);
        if (r >= 0 && unit)
                r = sd_bus_message_append(msg, "ss", unit, "replace");
        if (r >= 0)
                r = sd_bus_call_async(m->bus, &slot, msg, on_async_reply, a, ASYNC_CALL_USEC);
        sd_bus_message_unref(msg);
        if (r < 0) {
                log_error("systemd %s: %s", a->what, strerror(-r));
                async_call_free(a);
                return r;
        }
        /* The slot owns a from now on, and lives until the answer. */
        (void) sd_bus_slot_set_destroy_callback(slot, async_call_free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 0;
}

/* The drop-ins and the unit aliases, as this reload (or the last one,
 * at start) left them. */
static void rescan_dropins(struct manager *m, char ***changed) {
        int r;

        unit_aliases_done(&m->aliases);
        unit_aliases_init(&m->aliases);
        (void) unit_aliases_load(&m->aliases, m->root ? m->root : "", unit_alias_default_dirs);
        if ((r = dropin_history_scan(&m->history, m->generator_dir, changed)) < 0)
                log_warning("cannot read the drop-ins in %s: %s", m->generator_dir, strerror(-r));
}

/* The rule the generator applied to unit: the last one matching any of its
 * names (the unit's aliases, read from the unit directories as the
 * generator reads them). */
static const struct ka_rule *match_unit(struct manager *m, const char *unit) {
        const struct unit_aliases *aliases = &m->aliases;
        char **names = unit_aliases_names(aliases, unit);
        const char *one[] = { unit, NULL };
        const struct ka_rule *rule = ka_ruleset_match_names(&m->rules, names ? (const char *const *) names : one, NULL);
        strv_free(names);
        return rule;
}

/* ---- state changes -------------------------------------------------------------- */

static bool has_our_dropin(struct manager *m, const char *unit) {
        char path[4096], template[UNIT_NAME_MAX + 1];
        snprintf(path, sizeof(path), "%s/%s.d/" KA_DROPIN_NAME, m->generator_dir, unit);
        if (access(path, F_OK) == 0)
                return true;
        if (!unit_name_template(unit, template, sizeof(template)) || strcmp(template, unit) == 0)
                return false;
        snprintf(path, sizeof(path), "%s/%s.d/" KA_DROPIN_NAME, m->generator_dir, template);
        return access(path, F_OK) == 0;
}

static bool has_live_record(const char *unit);
static bool has_any_apply_record(const char *unit);
static bool rule_covers_cgroup_unit(struct manager *m, const char *unit);
static int start_live_apply(struct manager *m, const char *unit, sd_bus_message *caller);

/* unit_check, with the rule of a scope or slice (which only the rules say:
 * no drop-in reaches these). */
static int check_unit(struct manager *m, const char *unit, struct tcp_tables *tables, struct call_budget *budget,
                      struct settings_record *settings, struct unit_check *c) {
        struct ka_params params;
        struct live_rule live;
        int r;

        ka_params_init(&params);
        r = live_rule_find(&m->rules, unit, &params, &live);
        r = unit_check(m->bus, unit, TCPKEEPALIVE_LIBRARY_PATH, tables, budget, settings, r > 0 ? &live : NULL, c);
        ka_params_done(&params);
        return r;
}

/* Checks unit, records its state, and emits UnitStateChanged when it
 * differs from the last one signalled (the first look at the units only
 * records). kind: what a pending-restart leads to (enum refresh_kind). */
static int refresh_unit(struct manager *m, struct call_budget *budget, const char *unit, enum refresh_kind kind) {
        struct unit_state_entry *entry = unit_states_get(&m->states, unit);
        bool known = entry != NULL;
        struct settings_record settings = entry ? entry->settings : (struct settings_record) { 0 };
        struct unit_check c;
        int r;

        /* Neither ours nor followed: never loaded for nothing (LoadUnit
         * would bring back an instance systemd has just unloaded). */
        if (!known && !has_our_dropin(m, unit) && !has_live_record(unit) && !rule_covers_cgroup_unit(m, unit))
                return 0;
        if ((r = check_unit(m, unit, NULL, budget, &settings, &c)) < 0) {
                log_warning("%s: state not refreshed: %s", unit, c.reason);
                return r;
        }
        /* A rule that changed reaches the running unit live, with no
         * restart; Restart=try is for where that cannot be done (no BPF,
         * the apply failed): the apply's end queues REFRESH_AFTER_APPLY. */
        if (kind == REFRESH_RULE_CHANGED && c.state == UNIT_STATE_PENDING_RESTART && start_live_apply(m, unit, NULL) == 0)
                kind = REFRESH_STATE;
        /* No rule any more, but a live apply's parameters on its cgroup:
         * taken away (the apply finds no rule), whatever brought us here. */
        if (kind != REFRESH_AFTER_APPLY && (c.state == UNIT_STATE_UNMANAGED || c.state == UNIT_STATE_EXCLUDED) &&
            has_live_record(unit))
                (void) start_live_apply(m, unit, NULL);
        if (kind != REFRESH_STATE && c.state == UNIT_STATE_PENDING_RESTART) {
                const struct ka_rule *rule = match_unit(m, unit);
                if (rule && rule->params.restart == KA_RESTART_TRY) {
                        log_info("%s: restarting (Restart=try in %s)", unit, rule->path);
                        (void) systemd_call_async(m, NULL, NULL, "TryRestartUnit", unit);
                }
        }
        /* Not loaded: nothing to follow until systemd loads it (its signals
         * say when); the record holds loaded units only. */
        if (c.not_loaded) {
                /* A container's scope that ended: its records go (the apply
                 * finds it gone), or each container would leave one. */
                if (unit_name_is_scope_or_slice(unit) && has_any_apply_record(unit))
                        (void) start_live_apply(m, unit, NULL);
                if (unit_states_remove(&m->states, unit))
                        (void) sd_bus_emit_properties_changed(m->bus, OBJECT_PATH, MANAGER_IFACE, "UnitStates", NULL);
                return 0;
        }
        if (!known && c.state == UNIT_STATE_UNMANAGED)
                return 0;
        r = unit_states_set(&m->states, unit, c.state, c.reason);
        if ((entry = unit_states_get(&m->states, unit)))
                entry->settings = settings;
        if (r <= 0)
                return 0;
        if (known || m->announce_new) {
                (void) sd_bus_emit_signal(m->bus, OBJECT_PATH, MANAGER_IFACE, "UnitStateChanged", "sss", unit,
                                          unit_state_to_string(c.state), c.reason);
                (void) sd_bus_emit_properties_changed(m->bus, OBJECT_PATH, MANAGER_IFACE, "UnitStates", NULL);
        }
        return 0;
}

/* A batch per event loop iteration: requests, the watchdog's keep-alive
 * and SIGTERM go in between, however many units are queued (a rule naming
 * 10,000 units, 2,000 instances of an Accept=yes socket). A batch ends at
 * 25 units or after 20 ms, whichever comes first: with systemd busy, 25
 * calls took over a second, and a stop waited for them. */
#define REFRESH_BATCH 25
/* Refreshes after which a drained queue gives the heap back (malloc_trim). */
#define TRIM_AFTER_REFRESHES 256
#define REFRESH_SLICE_USEC (20 * 1000ULL)
/* A request that comes while a batch waits for systemd waits too: in the
 * background, a call waits 1 s at most (systemd answers in milliseconds
 * when well), and a systemd that does not answer is left alone for a
 * while, its units asked again later. */
#define REFRESH_CALL_USEC (1000 * 1000ULL)
#define REFRESH_BACKOFF_USEC (30 * 1000000ULL)

static int on_refresh_backoff_over(sd_event_source *source, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        (void) source, (void) usec;
        return sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ON);
}

static int on_refresh(sd_event_source *source, void *userdata) {
        struct manager *m = userdata;
        struct call_budget budget;
        uint64_t now = 0, slice_start = monotonic_usec();
        size_t n;
        (void) source;

        if (!m->refresh_queue_sorted) {
                strv_sort_unique(m->refresh_queue);
                m->refresh_queue_sorted = true;
        }
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        call_budget_start(&budget, now, 2 * REFRESH_CALL_USEC, REFRESH_CALL_USEC);
        budget.only_loaded = true;
        n = strv_length(m->refresh_queue);
        for (size_t done = 0; n > 0 && done < REFRESH_BATCH && monotonic_usec() - slice_start < REFRESH_SLICE_USEC; done++) {
                char *item = m->refresh_queue[n - 1];
                if (unit_name_is_valid_service(item + 2) &&
                    refresh_unit(m, &budget, item + 2, (enum refresh_kind) item[0]) < 0 &&
                    (budget.not_answered || budget.not_asked)) {
                        /* Kept for later; no more now. */
                        log_warning("systemd is slow: the remaining %zu unit state(s) are checked again in %llu s", n,
                                    (unsigned long long) (REFRESH_BACKOFF_USEC / 1000000ULL));
                        (void) sd_event_source_set_enabled(m->refresh_source, SD_EVENT_OFF);
                        (void) sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, REFRESH_BACKOFF_USEC, 0,
                                                          on_refresh_backoff_over, m);
                        return 0;
                }
                m->refresh_queue[--n] = NULL;
                free(item);
                m->refreshed_since_trim++;
        }
        if (n == 0) {
                strv_free(m->refresh_queue);
                m->refresh_queue = NULL;
                m->announce_new = true;
                /* A burst (thousands of instances starting and ending) leaves
                 * the heap at its peak, fragmented: glibc returns it to the
                 * system only when asked. Once the burst is over. */
                if (m->refreshed_since_trim >= TRIM_AFTER_REFRESHES) {
                        m->refreshed_since_trim = 0;
                        (void) malloc_trim(0);
                }
                return sd_event_source_set_enabled(m->refresh_source, SD_EVENT_OFF);
        }
        return 0;
}

static void queue_refresh(struct manager *m, const char *unit, enum refresh_kind kind) {
        char *item;
        if (asprintf(&item, "%c:%s", (char) kind, unit) < 0 || strv_push(&m->refresh_queue, item) < 0)
                return;
        m->refresh_queue_sorted = false;
        if (!m->refresh_source &&
            sd_event_add_defer(m->event, &m->refresh_source, on_refresh, m) < 0) {
                log_error("cannot queue the state of %s", unit);
                return;
        }
        (void) sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ON);
}

/* The drop-in of unit, or of its template, is in changed (sorted). */
static bool dropin_changed(char **changed, const char *unit) {
        char template[UNIT_NAME_MAX + 1];
        return strv_contains_sorted(changed, unit) ||
               (unit_name_template(unit, template, sizeof(template)) && strv_contains_sorted(changed, template));
}

/* All units (changed NULL: at start), or those whose drop-in (or their
 * template's) a reload changed, added or removed: a change to one rule
 * checks and restarts no unit of another. */
static void queue_managed_units(struct manager *m, char **changed, enum refresh_kind kind) {
        struct call_budget budget;
        char **units;

        budget_start(m, &budget);
        units = managed_units(m, &budget);
        strv_sort_unique(changed);
        for (char **u = units; u && *u; u++)
                if (!is_template(*u) && (!changed || dropin_changed(changed, *u)))
                        queue_refresh(m, *u, kind);
        /* Units whose drop-in went: their state is unmanaged now, and what a
         * live apply gave their cgroup is taken away. */
        for (char **c = changed; c && *c; c++)
                if (!is_template(*c) && !has_our_dropin(m, *c))
                        queue_refresh(m, *c, kind);
        /* Followed units whose drop-in went: their state is unmanaged now. */
        for (size_t i = 0; i < m->states.n; i++)
                if (!changed || dropin_changed(changed, m->states.v[i].unit)) {
                        /* Their settings took effect with this reload, whatever
                         * they were before: a drop-in removed and written again
                         * with the same content is not the one a process
                         * started in between had (the record may never have
                         * seen the unit without it). */
                        if (changed)
                                m->states.v[i].settings.valid = false;
                        queue_refresh(m, m->states.v[i].unit, kind);
                }
        strv_free(units);
}

/* ---- live apply ------------------------------------------------------------------ */

/* The unit has a record of a live apply (tcpkeepalive-bpf apply wrote it):
 * its cgroup holds the rule's parameters, which a changed or removed rule
 * must update or take away. */
static bool has_live_record(const char *unit) {
        struct bpf_record rec;
        return bpf_record_read(NULL, unit, &rec) == 0 && strcmp(rec.method, "bpf-live") == 0;
}

static bool has_any_apply_record(const char *unit) {
        struct bpf_record rec;
        return has_live_record(unit) || bpf_record_read(BPF_APPLY_FAILED_DIR, unit, &rec) == 0;
}

static void finish_live_apply(struct manager *m, struct live_apply *a, const char *result);

struct apply_start {
        struct manager *m;
        char unit[UNIT_NAME_MAX + 1];
};

/* systemd's answer to StartUnit: a refusal (no such unit: a build without
 * the BPF backend's units, say) ends the apply here, as a failed job would. */
static int on_apply_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct apply_start *st = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        struct live_apply *a;
        (void) ret_error;

        if (!e)
                return 0;
        log_warning("%s: cannot apply the rule live: systemd StartUnit: %s", st->unit, e->message ? e->message : e->name);
        if ((a = live_applies_get(&st->m->applies, st->unit, false)))
                finish_live_apply(st->m, a, "refused");
        return 0;
}

/* Asks systemd to start a's unit; its JobRemoved ends the apply. */
static int send_apply_start(struct manager *m, struct live_apply *a) {
        struct apply_start *st = calloc(1, sizeof(*st));
        sd_bus_slot *slot = NULL;
        int r;

        if (!st)
                return -ENOMEM;
        st->m = m;
        snprintf(st->unit, sizeof(st->unit), "%s", a->unit);
        r = sd_bus_call_method_async(m->bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "StartUnit", on_apply_started, st, "ss",
                                     a->apply_unit, "replace");
        if (r < 0) {
                free(st);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        log_info("%s: applying its rule live (%s)", a->unit, a->apply_unit);
        return 0;
}

/* Starts tcpkeepalive-apply@UNIT.service, the privileged step; caller (an
 * ApplyUnit call, or NULL) is answered when its job ends. An apply already
 * running for the unit is run again when it ends: it may have read the
 * rules before this change. */
static int start_live_apply(struct manager *m, const char *unit, sd_bus_message *caller) {
        struct live_apply *a;
        int r;

        if (!TCPKEEPALIVE_LIVE_APPLY)
                return -EOPNOTSUPP;
        if ((a = live_applies_get(&m->applies, unit, false))) {
                a->again = true;
                return caller ? live_apply_add_caller(a, caller) : 0;
        }
        if (!(a = live_applies_get(&m->applies, unit, true)))
                return -ENOMEM;
        if ((caller && (r = live_apply_add_caller(a, caller)) < 0) || (r = send_apply_start(m, a)) < 0) {
                live_applies_remove(&m->applies, a);
                return r;
        }
        return 0;
}

/* The apply's job ended (result: systemd's, "done" when it succeeded):
 * the unit's state is checked again, the callers get it, and where the
 * apply did not take, Restart=try is left to do the work. */
static void finish_live_apply(struct manager *m, struct live_apply *a, const char *result) {
        char unit[UNIT_NAME_MAX + 1];
        struct call_budget budget;
        struct bpf_record rec;
        const struct unit_state_entry *e;
        bool again = a->again;
        char reason[512];


        snprintf(unit, sizeof(unit), "%s", a->unit);
        /* The callers wait for the run that read the rules they saw. */
        if (again) {
                a->again = false;
                if (send_apply_start(m, a) == 0)
                        return;
        }
        /* A scope that ended has its records removed by an apply that
         * finds it gone (exit 1): that is no failure to report. */
        if (strcmp(result, "done") != 0 && !(unit_name_is_scope_or_slice(unit) && !has_any_apply_record(unit)))
                log_warning("%s: the live apply ended with '%s' (journalctl -u %s)", unit, result, a->apply_unit);
        budget_start(m, &budget);
        if (unit_name_is_valid_cgroup_unit(unit))
                (void) refresh_unit(m, &budget, unit, REFRESH_AFTER_APPLY);
        e = unit_states_get(&m->states, unit);
        if (bpf_record_read(NULL, unit, &rec) == 0)
                snprintf(reason, sizeof(reason), "%s", rec.reason);
        else
                snprintf(reason, sizeof(reason), "%s", strcmp(result, "done") == 0 ? "no rule covers it: nothing applied"
                                                                                   : "the apply left no record");
        for (size_t i = 0; i < a->n_callers; i++)
                (void) sd_bus_reply_method_return(a->callers[i], "sss", result,
                                                  e ? unit_state_to_string(e->state) : "-",
                                                  e ? e->reason : reason);
        live_applies_remove(&m->applies, a);
}

/* systemd's JobRemoved: the end of an apply we started. */
static int on_systemd_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        const char *job, *unit, *result;
        struct live_apply *a;
        uint32_t id;
        (void) error;

        if (sd_bus_message_read(msg, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        if (strncmp(unit, LIVE_APPLY_TEMPLATE_PREFIX, strlen(LIVE_APPLY_TEMPLATE_PREFIX)) == 0 &&
            (a = live_applies_find_job_unit(&m->applies, unit)))
                finish_live_apply(m, a, result);
        return 0;
}

/* Scopes and slices have no drop-in (no generator reaches them): a rule
 * that matches one is applied live when it becomes active, and to those
 * active now when the rules change; one no rule matches any more loses
 * what a live apply gave it. */
static bool rule_covers_cgroup_unit(struct manager *m, const char *unit) {
        return unit_name_is_scope_or_slice(unit) && ka_ruleset_match(&m->rules, unit, NULL) != NULL;
}

static void apply_cgroup_units(struct manager *m) {
        sd_bus_message *call = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char **patterns = NULL, **seen = NULL;
        const char *name;
        DIR *d;
        int r;

        if (!TCPKEEPALIVE_LIVE_APPLY)
                return;
        for (size_t i = 0; i < m->rules.n_rules; i++)
                for (char **u = m->rules.rules[i].units; u && *u; u++)
                        if (!unit_name_is_valid_service(*u) && !is_template(*u))
                                (void) strv_push_dup(&patterns, *u);
        if (patterns) {
                r = sd_bus_message_new_method_call(m->bus, &call, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                   "org.freedesktop.systemd1.Manager", "ListUnitsByPatterns");
                if (r >= 0)
                        r = sd_bus_message_append(call, "as", 1, "active");
                if (r >= 0)
                        r = sd_bus_message_append_strv(call, patterns);
                if (r >= 0)
                        r = sd_bus_call(m->bus, call, CALL_USEC, &e, &reply);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
                while (r > 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, NULL, NULL, NULL, NULL,
                                                         NULL, NULL, NULL, NULL)) > 0)
                        if (rule_covers_cgroup_unit(m, name)) {
                                (void) strv_push_dup(&seen, name);
                                (void) start_live_apply(m, name, NULL);
                        }
                if (r < 0)
                        log_warning("cannot list the scopes and slices the rules name: %s",
                                    e.message ? e.message : strerror(-r));
        }
        /* Applied before, matched no more (or not active): taken away. */
        if ((d = opendir(BPF_RECORD_DIR))) {
                struct dirent *de;
                strv_sort_unique(seen);
                while ((de = readdir(d)))
                        if (unit_name_is_scope_or_slice(de->d_name) &&
                            !strv_contains_sorted(seen, de->d_name) && has_live_record(de->d_name))
                                (void) start_live_apply(m, de->d_name, NULL);
                closedir(d);
        }
        sd_bus_error_free(&e);
        sd_bus_message_unref(call);
        sd_bus_message_unref(reply);
        strv_free(patterns);
        strv_free(seen);
}

/* PropertiesChanged of a unit says ActiveState=active. */
static bool became_active(sd_bus_message *msg) {
        const char *name, *value;
        int r;

        if (sd_bus_message_enter_container(msg, 'a', "{sv}") <= 0)
                return false;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                if (sd_bus_message_read(msg, "s", &name) < 0)
                        return false;
                if (strcmp(name, "ActiveState") == 0)
                        return sd_bus_message_read(msg, "v", "s", &value) > 0 && strcmp(value, "active") == 0;
                if (sd_bus_message_skip(msg, "v") < 0 || sd_bus_message_exit_container(msg) < 0)
                        return false;
        }
        return false;
}


/* ---- systemd's answers, kept while true (systemd-cache.h) ------------------------
 *
 * The order that keeps the cache true. Answers are stored while a request
 * (or a refresh batch) runs: read on the prefetch connection or, by
 * sd_bus_call, on the main one. systemd's signals come on the main
 * connection and are processed by the event loop only, between requests,
 * never during one (sd_bus_call queues those it reads on the way). So:
 *  - a signal processed after a request drops what the request stored,
 *    whether the answer was older than the change or not: the entry ends
 *    dropped;
 *  - a signal processed before a request was sent by systemd before the
 *    request's calls were, and systemd answers each call with the state
 *    of its time: what the request stores is newer than the change.
 * A late answer (to a call of an earlier request that timed out) is never
 * stored: bus_prefetch_clear and sd_bus_call drop it unread.
 * A client that saw a change through systemd (systemctl returns after the
 * JobRemoved that systemd sends after the unit's PropertiesChanged, and
 * after Reloading for daemon-reload) and then asks us: the bus delivers
 * systemd's signal to us before the client's call, and sd-bus dispatches
 * in order, so the entry is gone when the call is handled.
 * systemd sends these signals only to subscribers: the cache is used only
 * while Subscribe has succeeded (and the matches were installed before). */

/* Subscribe answered: systemd sends us its unit signals from now on. */
static int on_subscribed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        (void) ret_error;

        /* After a daemon-reexec systemd may have restored our
         * subscription itself: then it says we are subscribed already. */
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.AlreadySubscribed")) {
                log_warning("cannot follow systemd's unit changes (Subscribe: %s): UnitStateChanged will only follow "
                            "rule changes, and every request asks systemd",
                            e->message ? e->message : e->name);
                return 0;
        }
        systemd_cache_forget_all(m->cache);
        systemd_cache_active = m->cache;
        return 0;
}

/* Not waited for, and given as long as a Reload: systemd subscribes us
 * when it reads the call, however late it answers. */
static int subscribe(struct manager *m) {
        sd_bus_message *msg = NULL;
        int r = sd_bus_message_new_method_call(m->bus, &msg, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                               "org.freedesktop.systemd1.Manager", "Subscribe");
        if (r >= 0)
                r = sd_bus_call_async(m->bus, NULL, msg, on_subscribed, m, ASYNC_CALL_USEC);
        sd_bus_message_unref(msg);
        return r;
}

/* Reloading (true as a daemon-reload starts, false when done): a reload
 * changes what no PropertiesChanged announces (Environment=, drop-ins: our
 * own rule changes come this way, by apply_rules' Reload). Both drop all. */
static int on_systemd_reloading(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        (void) msg, (void) error;
        systemd_cache_forget_all(m->cache);
        return 0;
}

/* org.freedesktop.systemd1 changed hands: daemon-reexec (or no systemd on
 * the bus). Nothing kept is trusted, nor used until Subscribe is answered
 * again by the new owner. */
static int on_systemd_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        const char *name, *old_owner, *new_owner;
        (void) error;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0 ||
            strcmp(name, "org.freedesktop.systemd1") != 0)
                return 0;
        systemd_cache_active = NULL;
        systemd_cache_forget_all(m->cache);
        if (new_owner[0] && subscribe(m) < 0)
                log_warning("cannot subscribe to systemd's signals again after it changed hands");
        return 0;
}

/* systemd's PropertiesChanged on a unit: a start, stop or restart of a
 * unit we manage may change its state. */
static int on_systemd_unit_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        const char *iface, *path = sd_bus_message_get_path(msg);
        char *unit = NULL;
        (void) error;

        /* On any interface: a MainPID change comes on Service's alone. */
        if (path)
                (void) systemd_cache_forget(m->cache, path);
        if (!path || sd_bus_message_read(msg, "s", &iface) < 0 || strcmp(iface, "org.freedesktop.systemd1.Unit") != 0)
                return 0;
        if (sd_bus_path_decode(path, "/org/freedesktop/systemd1/unit", &unit) <= 0)
                return 0;
        /* A container's scope (or a slice) a rule names has started. */
        if (rule_covers_cgroup_unit(m, unit) && became_active(msg))
                (void) start_live_apply(m, unit, NULL);
        if (unit_states_get(&m->states, unit) || (unit_name_is_valid_service(unit) && has_our_dropin(m, unit)))
                queue_refresh(m, unit, REFRESH_STATE);
        free(unit);
        return 0;
}

/* systemd unloaded a unit (an instance that ended, garbage-collected):
 * forgotten, so that the record holds what is loaded, not all ever seen. */
static int on_systemd_unit_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        const char *unit, *path;
        (void) error;

        if (sd_bus_message_read(msg, "so", &unit, &path) < 0)
                return 0;
        (void) systemd_cache_forget(m->cache, path);
        /* A daemon-reload unloads and loads every unit again, with a
         * UnitRemoved for each: whether it is gone is asked (GetUnit, in
         * the background); only then is it forgotten. */
        if (unit_states_get(&m->states, unit) || (unit_name_is_scope_or_slice(unit) && has_any_apply_record(unit)))
                queue_refresh(m, unit, REFRESH_STATE);
        return 0;
}

/* systemd's Reload answered (r: 0 or -errno): the generator has run. */
static void reload_done(struct manager *m, int r) {
        if (r >= 0) {
                char **changed = NULL;
                m->reloads++;
                rescan_dropins(m, &changed);
                if (changed)
                        queue_managed_units(m, changed, REFRESH_RULE_CHANGED);
                strv_free(changed);
                apply_cgroup_units(m);
        }
        (void) sd_bus_emit_properties_changed(m->bus, OBJECT_PATH, MANAGER_IFACE, "Rules", "Errors", "Reloads", NULL);
}

/* Re-reads the rules; on a change, systemd reloads (the generator runs) and
 * Restart=try units are restarted. force: reload systemd even if unchanged.
 * caller: a D-Bus call to answer when that is done (NULL: none). The
 * reload is not waited for: reload_done runs on systemd's answer. */
static int apply_rules(struct manager *m, bool force, sd_bus_message *caller) {
        char *fp;
        bool changed;
        int r;

        if ((r = load_rules(m)) < 0)
                return r;
        fp = fingerprint(&m->rules);
        changed = !fp || !m->fingerprint || strcmp(fp, m->fingerprint) != 0;
        free(m->fingerprint);
        m->fingerprint = fp;
        if (!changed && !force)
                return caller ? sd_bus_reply_method_return(caller, NULL) : 0;
        log_info("rules changed: %zu rule(s), %zu error(s); reloading systemd", m->rules.n_rules, m->rules.n_errors);
        r = systemd_call_async(m, caller, reload_done, "Reload", NULL);
        if (r < 0)
                reload_done(m, r);
        return r;
}

static void on_rules_changed(void *userdata) {
        (void) apply_rules(userdata, false, NULL);
}

/* Has any rule file or rule directory changed since systemd last ran the
 * generator? (It recreates GENERATOR_DIR on every reload.) Equal times
 * count as changed: a needless reload is cheap, a stale drop-in is not. */
static bool newer_or_same(const struct stat *st, const struct stat *than) {
        return st->st_mtim.tv_sec > than->st_mtim.tv_sec ||
               (st->st_mtim.tv_sec == than->st_mtim.tv_sec && st->st_mtim.tv_nsec >= than->st_mtim.tv_nsec);
}

static bool rules_changed_since_generator(struct manager *m) {
        struct stat gen, st;
        bool changed = false;

        if (stat(m->generator_dir, &gen) < 0)
                return true;
        for (size_t i = 0; ka_rule_dirs[i] && !changed; i++) {
                char dir[4096];
                struct dirent *de;
                DIR *d;
                snprintf(dir, sizeof(dir), "%s%s", m->root ? m->root : "", ka_rule_dirs[i]);
                if (stat(dir, &st) < 0)
                        continue;
                if (newer_or_same(&st, &gen))
                        return true;
                if (!(d = opendir(dir)))
                        continue;
                while (!changed && (de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        /* the link and what it points to */
                        changed = (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && newer_or_same(&st, &gen)) ||
                                  (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && newer_or_same(&st, &gen));
                }
                closedir(d);
        }
        return changed;
}

/* ---- D-Bus API ---------------------------------------------------------------- */

static int prop_version(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                        void *userdata, sd_bus_error *error) {
        (void) bus, (void) path, (void) iface, (void) prop, (void) userdata, (void) error;
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int prop_rule_dirs(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                          void *userdata, sd_bus_error *error) {
        (void) bus, (void) path, (void) iface, (void) prop, (void) userdata, (void) error;
        return sd_bus_message_append_strv(reply, (char **) ka_rule_dirs);
}

static int prop_reloads(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                        void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        (void) bus, (void) path, (void) iface, (void) prop, (void) error;
        return sd_bus_message_append(reply, "t", m->reloads);
}

/* Rules: (file, units, idle, interval, count, user timeout ms, mode, direction, restart). */
static int prop_rules(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                      void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        int r;
        (void) bus, (void) path, (void) iface, (void) prop, (void) error;

        r = sd_bus_message_open_container(reply, 'a', "(sasiiixsss)");
        for (size_t i = 0; r >= 0 && i < m->rules.n_rules; i++) {
                struct ka_params p;
                ka_params_init(&p);
                (void) ka_params_overlay(&p, &m->rules.defaults);
                (void) ka_params_overlay(&p, &m->rules.rules[i].params);
                r = sd_bus_message_open_container(reply, 'r', "sasiiixsss");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", m->rules.rules[i].path);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, m->rules.rules[i].units);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "iiixsss", p.idle_sec, p.interval_sec, p.count,
                                                  (int64_t) p.user_timeout_ms,
                                                  p.mode >= 0 ? ka_mode_to_string(p.mode) : "default",
                                                  p.direction >= 0 ? ka_direction_to_string(p.direction) : "both",
                                                  p.restart == KA_RESTART_TRY ? "try" : "no");
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                ka_params_done(&p);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Errors: (file, line, key, value, message, level). */
static int prop_errors(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                       void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        int r;
        (void) bus, (void) path, (void) iface, (void) prop, (void) error;

        r = sd_bus_message_open_container(reply, 'a', "(sussss)");
        for (size_t i = 0; r >= 0 && i < m->rules.n_diags; i++) {
                const struct ka_diag *d = &m->rules.diags[i];
                r = sd_bus_message_append(reply, "(sussss)", d->path, d->line, d->key ? d->key : "",
                                          d->value ? d->value : "", d->message ? d->message : "",
                                          d->level == KA_DIAG_ERROR ? "error" : "warning");
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* A unit name from a caller: validated before it goes anywhere. The error
 * shows the name escaped and cut on a character boundary: a name cut in
 * the middle of a character is not UTF-8, and sd-bus cannot send it. */
/* A name GetUnit and GetUnitSockets take: a service, or a scope or slice
 * (which rules reach live); RestartUnit takes services only. */
static int validate_unit(const char *unit, bool scope_or_slice, sd_bus_error *error) {
        char shown[65], *full;
        bool cut;

        if (strlen(unit) <= UNIT_NAME_MAX &&
            (unit_name_is_valid_service(unit) || (scope_or_slice && unit_name_is_scope_or_slice(unit))))
                return 0;
        text_escape_to(shown, sizeof(shown), unit);
        full = text_escape(unit);
        cut = !full || strlen(full) > strlen(shown);
        free(full);
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "'%s%s' is not a valid service %s", shown,
                                 cut ? "…" : "", scope_or_slice ? "(or scope or slice) name" : "unit name");
}

/* What a template's row says: how many of its instances systemd has
 * loaded, and the first few by name (each has its own row and state). */
static void template_reason(struct manager *m, struct call_budget *budget, const char *template, char *buf,
                            size_t size) {
        char **instances = NULL;
        size_t n, len, shown = 0;

        add_template_instances(m, budget, template, &instances);
        strv_sort_unique(instances);
        n = strv_length(instances);
        if (n == 0) {
                snprintf(buf, size, "template: no instance of it is loaded");
                strv_free(instances);
                return;
        }
        len = (size_t) snprintf(buf, size, "template: %zu instance%s loaded (", n, n == 1 ? " is" : "s are");
        for (char **i = instances; *i && shown < 3 && len < size; i++, shown++)
                len += (size_t) snprintf(buf + len, size - len, "%s%s", shown ? ", " : "", *i);
        if (len < size)
                snprintf(buf + len, size - len, "%s); each has its own state", shown < n ? ", ..." : "");
        strv_free(instances);
}

static int append_unit(sd_bus_message *reply, struct manager *m, struct call_budget *budget, const char *unit,
                       struct tcp_tables *tables) {
        struct unit_check c;
        const struct ka_rule *rule = match_unit(m, unit);
        struct unit_state_entry *entry = unit_states_get(&m->states, unit);
        struct tcp_tables own = { 0 };
        int r;

        if (!tables)
                tables = &own;
        if (is_template(unit)) {
                /* Not a unit systemd can load; its instances carry the state. */
                c = (struct unit_check) { .state = UNIT_STATE_INACTIVE, .has_dropin = true };
                template_reason(m, budget, unit, c.reason, sizeof(c.reason));
        } else if ((r = check_unit(m, unit, tables, budget,
                                   entry ? &entry->settings : NULL, &c)) < 0)
                c.state = UNIT_STATE_ERROR; /* c.reason says why: the reply names the units systemd did not answer for */
        tcp_tables_done(&own);
        return sd_bus_message_append(reply, UNIT_ROW_SIGNATURE, unit, unit_state_to_string(c.state), c.reason,
                                     c.source[0] ? c.source : rule ? rule->path : "",
                                     (uint32_t) c.main_pid, c.conns.established, c.conns.rule, c.conns.own,
                                     c.conns.none, c.conns.unread, c.method[0] ? c.method : "-");
}

/* The caller's effective UID, as the bus daemon saw it connect
 * (SO_PEERCRED, not a /proc lookup by PID); (uid_t) -1 unknown. */
static uid_t caller_uid(sd_bus_message *msg) {
        /* Asking the bus costs a round trip to it: the last senders'
         * answers are kept (a unique name is never reused by the bus). */
        static struct {
                char sender[32];
                uid_t uid;
        } seen[64];
        static unsigned next;
        const char *sender = sd_bus_message_get_sender(msg);
        sd_bus_creds *creds = NULL;
        uid_t euid = (uid_t) -1;

        for (size_t i = 0; sender && i < sizeof(seen) / sizeof(seen[0]); i++)
                if (strcmp(seen[i].sender, sender) == 0)
                        return seen[i].uid;
        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds) < 0 || sd_bus_creds_get_euid(creds, &euid) < 0)
                euid = (uid_t) -1;
        sd_bus_creds_unref(creds);
        if (sender && euid != (uid_t) -1 && strlen(sender) < sizeof(seen[0].sender)) {
                snprintf(seen[next].sender, sizeof(seen[0].sender), "%s", sender);
                seen[next].uid = euid;
                next = (next + 1) % (sizeof(seen) / sizeof(seen[0]));
        }
        return euid;
}

static bool caller_is_root(sd_bus_message *msg) {
        return caller_uid(msg) == 0;
}

/* Root's requests are always answered; another user's within its share
 * (caller-limit.h), beyond which it is told to ask again, at no cost to
 * anyone else. cost: in requests. */
static int check_caller_share(struct manager *m, sd_bus_message *msg, double cost, sd_bus_error *error) {
        uid_t uid = caller_uid(msg);
        uint64_t now = 0;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (cost > CALLER_LIMIT_BURST)
                cost = CALLER_LIMIT_BURST;
        if (caller_limit_take(&m->limit, uid, now, cost))
                return 0;
        return sd_bus_error_setf(error, "org.tcpkeepalive1.Error.TooManyRequests",
                                 "UID %d asks more than tcpkeepalived answers one user (%.0f requests a second); "
                                 "ask again in a moment", (int) uid, CALLER_LIMIT_RATE);
}

/* Once, and again when it changes: where ListUnits read the sockets. */
static void log_sockets_source(const struct tcp_tables *tables) {
        static int last = -1; /* 0: the iterator; else the errno that kept it from being read */
        int now;

        if (!tables->snapshot_tried)
                return;
        now = tables->snapshot ? 0 : tables->snapshot_errno;
        if (now == last)
                return;
        last = now;
        if (tables->snapshot)
                log_info("sockets read through the BPF iterator %s (%zu sockets in one pass)", TCP_SOCKETS_ITER_PIN,
                         tables->snapshot->n);
        else
                log_info("the BPF iterator %s cannot be read (%s): sockets read through /proc and pidfd_getfd "
                         "(tcpkeepalive-bpf iter-pin pins it)",
                         TCP_SOCKETS_ITER_PIN, strerror(now));
}

static int method_list_units(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        sd_bus_message *reply = NULL;
        struct tcp_tables tables = { 0 };
        struct call_budget budget;
        char **units;
        int r;

        /* A unit costs a tenth of a GetUnit (its calls are sent together). */
        if ((r = check_caller_share(m, msg, 1.0 + (double) m->states.n / 10.0, error)) < 0)
                return r;
        budget_start(m, &budget);
        /* Many units: every socket of the system in one pass of the BPF
         * iterator, when tcpkeepalive-bpf iter-pin could pin it. */
        tables.use_iterator = true;
        units = managed_units(m, &budget);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', UNIT_ROW_SIGNATURE);
        for (char **u = units; r >= 0 && u && *u; u++) {
                /* The systemd calls of the next units, all sent at once:
                 * one wait for systemd per PREFETCH_UNITS units, not three
                 * round trips per unit; in chunks, so that few answers
                 * (a GetAll(Service) is kilobytes) are held at a time. */
                if (m->prefetch && (u - units) % PREFETCH_UNITS == 0) {
                        size_t left = strv_length(u);
                        uint64_t now = monotonic_usec(), wait;
                        /* Waited for as long as one call may be: what is not
                         * answered by then is asked again one call at a
                         * time, and reported as such (a hung systemd). */
                        if ((wait = call_budget_usec(&budget, now)) > 0)
                                bus_prefetch_units(m->prefetch, u, left < PREFETCH_UNITS ? left : PREFETCH_UNITS,
                                                   now + wait,
                                                   systemd_cache_usable(m->bus, &budget) ? systemd_cache_active : NULL);
                        bus_prefetch_active = m->prefetch;
                }
                r = append_unit(reply, m, &budget, *u, &tables);
        }
        bus_prefetch_active = NULL;
        bus_prefetch_clear(m->prefetch);
        if (budget.not_answered || budget.not_asked)
                log_warning("ListUnits: systemd did not answer %u call(s) in time, %u unit(s) not asked",
                            budget.not_answered, budget.not_asked);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        log_sockets_source(&tables);
        tcp_tables_done(&tables);
        strv_free(units);
        return r;
}

static int method_get_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        sd_bus_message *reply = NULL;
        struct call_budget budget;
        const char *unit;
        int r;

        if ((r = sd_bus_message_read(msg, "s", &unit)) < 0 || (r = validate_unit(unit, true, error)) < 0 ||
            (r = check_caller_share(m, msg, 1.0, error)) < 0)
                return r;
        budget_start(m, &budget);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_unit(reply, m, &budget, unit, NULL);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}


/* Sockets: (local, peer, state, pid, fd, keepalive, idle, interval, count, user timeout, class, note, applied).
 * Root only: the PIDs, fds and addresses of other users' services and of
 * containers are no business of every local user (hidepid= hides far
 * less). Everyone gets the state and the counts from GetUnit/ListUnits. */
/* Which rule covers the socket, for GetUnitSockets (bus-api.h). The names
 * come from the rules as they are now: where the unit's path rules are no
 * longer those it started with, the number. */
static void socket_path_name(const struct ka_params *now, const struct rule_values *want, const struct unit_socket *s,
                             char *buf, size_t size) {
        char a[KA_PATH_TEXT_MAX], b[KA_PATH_TEXT_MAX];
        int i;

        buf[0] = '\0';
        if (want->n_paths == 0 || !s->established)
                return;
        if ((i = socket_path(want, s)) < 0) {
                snprintf(buf, size, "%s", want->paths_only ? "none" : "unit");
                return;
        }
        snprintf(buf, size, "path %d", i + 1);
        if ((size_t) i < now->n_paths) {
                ka_path_format(&want->paths[i], a, sizeof(a));
                ka_path_format(&now->paths[i], b, sizeof(b));
                if (strcmp(a, b) == 0)
                        snprintf(buf, size, "%s", now->path_rules[i]);
        }
}

static int method_get_unit_sockets(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        sd_bus_message *reply = NULL;
        struct unit_socket *socks = NULL;
        struct rule_values want = { 0 };
        struct ka_params now;
        const struct ka_rule *rule = NULL;
        struct call_budget budget;
        const char *unit;
        int r, n;

        if ((r = sd_bus_message_read(msg, "s", &unit)) < 0 || (r = validate_unit(unit, true, error)) < 0)
                return r;
        if (!caller_is_root(msg))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "the sockets of %s (PIDs, fds, local and peer addresses) are shown to root only; "
                                         "GetUnit and ListUnits give everyone its state and connection counts",
                                         unit);
        budget_start(m, &budget);
        {
                struct ka_params params;
                struct live_rule live;
                ka_params_init(&params);
                r = live_rule_find(&m->rules, unit, &params, &live);
                n = unit_sockets(m->bus, unit, &budget, r > 0 ? &live : NULL, &socks, &want);
                ka_params_done(&params);
        }
        if (n < 0)
                rule_values_done(&want);
        if (n == -ETIME || n == -ETIMEDOUT) {
                char why[512];
                systemd_call_describe(why, sizeof(why), "LoadUnit/GetAll", unit, n, NULL, &budget);
                return sd_bus_error_setf(error, SD_BUS_ERROR_TIMEOUT, "%s", why);
        }
        if (n < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "cannot read %s: %s", unit, strerror(-n));
        ka_params_init(&now);
        if (want.n_paths > 0)
                (void) ka_unit_params(&m->rules, NULL, NULL, unit, &now, &rule, NULL);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', UNIT_SOCKET_SIGNATURE);
        for (int i = 0; r >= 0 && i < n; i++) {
                const struct unit_socket *s = &socks[i];
                enum socket_class c = socket_classify(&want, s);
                char note[128] = "", path[256];
                socket_path_name(&now, &want, s, path, sizeof(path));
                if (s->read_errno)
                        snprintf(note, sizeof(note), "%s: %s", s->read_call ? s->read_call : "?", strerror(s->read_errno));
                r = sd_bus_message_append(reply, UNIT_SOCKET_SIGNATURE, s->local[0] ? s->local : "?",
                                          s->peer[0] ? s->peer : "?", s->state, (uint32_t) s->pid, (uint32_t) s->fd,
                                          s->keepalive == 1, s->idle, s->interval, s->count, s->user_timeout,
                                          socket_class_to_string(c), note,
                                          /* Values that are not the rule's did not come from it. */
                                          c == SOCKET_CLASS_RULE ? unit_socket_applied_to_string(s->applied) : "",
                                          path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        free(socks);
        rule_values_done(&want);
        ka_params_done(&now);
        return r;
}

/* One UNIT_CLOSES_SIGNATURE row: snap_r is what reading the pin gave. */
static int append_unit_closes(sd_bus_message *reply, struct manager *m, struct call_budget *budget, const char *unit,
                              const struct close_snapshot *snap, int snap_r) {
        struct close_counts c = { 0 };
        uint64_t since = 0;
        char why[512] = "";
        int r = snap_r;

        if (r >= 0 && is_template(unit))
                snprintf(why, sizeof(why), "a template: each instance has its own counts");
        else if (r >= 0 && (r = unit_close_counts(m->bus, unit, budget, snap, &c, &since)) == -ESRCH)
                snprintf(why, sizeof(why), "not counted: the unit does not run (its counts went with its cgroup)");
        else if (r == -ETIME || r == -ETIMEDOUT)
                systemd_call_describe(why, sizeof(why), "LoadUnit/GetAll", unit, r, NULL, budget);
        else if (r < 0 && r == snap_r)
                snprintf(why, sizeof(why), "%s", close_snapshot_unavailable(r));
        else if (r < 0)
                snprintf(why, sizeof(why), "cannot read the unit: %s", strerror(-r));
        if (why[0])
                c = (struct close_counts) { 0 }, since = 0;
        return sd_bus_message_append(reply, UNIT_CLOSES_SIGNATURE, unit, why, since, c.keepalive, c.user_timeout,
                                     c.retransmit, c.covered, c.probes, !why[0] && snap->probes_counted);
}

/* Once, and again when it changes: whether the close counters can be read. */
static void log_closes_source(int r) {
        static int last = 1;
        if (r == last)
                return;
        last = r;
        if (r >= 0)
                log_info("close counters read through %s", CLOSES_ITER_PIN);
        else
                log_info("the close counters cannot be read (%s): %s", strerror(-r), close_snapshot_unavailable(r));
}

/* GetUnitCloses: anyone may ask (counts, no PIDs or addresses). */
static int method_get_unit_closes(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        sd_bus_message *reply = NULL;
        struct close_snapshot snap = { 0 };
        struct call_budget budget;
        const char *unit;
        int r, snap_r;

        if ((r = sd_bus_message_read(msg, "s", &unit)) < 0 || (r = validate_unit(unit, true, error)) < 0 ||
            (r = check_caller_share(m, msg, 1.0, error)) < 0)
                return r;
        budget_start(m, &budget);
        snap_r = close_snapshot_read(CLOSES_ITER_PIN, &snap);
        log_closes_source(snap_r);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_unit_closes(reply, m, &budget, unit, &snap, snap_r);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        close_snapshot_done(&snap);
        return r;
}

/* ListUnitCloses: the managed units' rows, from one read of the pin. */
static int method_list_unit_closes(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        sd_bus_message *reply = NULL;
        struct close_snapshot snap = { 0 };
        struct call_budget budget;
        char **units;
        int r, snap_r;

        if ((r = check_caller_share(m, msg, 1.0 + (double) m->states.n / 10.0, error)) < 0)
                return r;
        budget_start(m, &budget);
        units = managed_units(m, &budget);
        snap_r = close_snapshot_read(CLOSES_ITER_PIN, &snap);
        log_closes_source(snap_r);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', UNIT_CLOSES_SIGNATURE);
        for (char **u = units; r >= 0 && u && *u; u++)
                r = append_unit_closes(reply, m, &budget, *u, &snap, snap_r);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        close_snapshot_done(&snap);
        strv_free(units);
        return r;
}

/* Answered when systemd has reloaded (or failed to). */
static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        int r = apply_rules(m, true, msg);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "reload failed: %s", strerror(-r));
        return 1;
}

static int method_restart_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        const char *unit;
        int r;

        if ((r = sd_bus_message_read(msg, "s", &unit)) < 0 || (r = validate_unit(unit, false, error)) < 0)
                return r;
        /* Answered when systemd has queued the job (or refused). */
        if ((r = systemd_call_async(m, msg, NULL, "TryRestartUnit", unit)) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "cannot ask systemd to restart %s: %s", unit,
                                         strerror(-r));
        return 1;
}

/* Applies unit's rule live now (tcpkeepalive-apply@UNIT.service); answered
 * when that has ended: (systemd's job result, the unit's state, reason). */
static int method_apply_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        const char *unit;
        char shown[65];
        int r;

        if ((r = sd_bus_message_read(msg, "s", &unit)) < 0)
                return r;
        if (strlen(unit) > UNIT_NAME_MAX || !unit_name_is_valid_cgroup_unit(unit)) {
                text_escape_to(shown, sizeof(shown), unit);
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%s' is not a valid service, scope or slice name", shown);
        }
        if (!caller_is_root(msg))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "only root may apply a rule");
        if (!TCPKEEPALIVE_LIVE_APPLY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                         "this build has no BPF backend: a rule reaches %s when it restarts", unit);
        if ((r = start_live_apply(m, unit, msg)) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "cannot start the live apply of %s: %s", unit,
                                         strerror(-r));
        return 1;
}

/* UnitStates: (unit, state, reason) of every followed unit, as last
 * signalled: from the record, without asking systemd (any user may read
 * it, as often as they like). */
static int prop_unit_states(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                            void *userdata, sd_bus_error *error) {
        struct manager *m = userdata;
        int r;
        (void) bus, (void) path, (void) iface, (void) prop, (void) error;

        r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < m->states.n; i++)
                r = sd_bus_message_append(reply, "(sss)", m->states.v[i].unit,
                                          unit_state_to_string(m->states.v[i].state), m->states.v[i].reason);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

REPLYING(method_list_units)
REPLYING(method_get_unit)
REPLYING(method_get_unit_sockets)
REPLYING(method_get_unit_closes)
REPLYING(method_list_unit_closes)
REPLYING(method_reload)
REPLYING(method_restart_unit)
REPLYING(method_apply_unit)

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RuleDirectories", "as", prop_rule_dirs, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Rules", "a(sasiiixsss)", prop_rules, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Errors", "a(sussss)", prop_errors, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Reloads", "t", prop_reloads, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UnitStates", "a(sss)", prop_unit_states, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_METHOD_WITH_ARGS("ListUnits", SD_BUS_NO_ARGS, SD_BUS_RESULT("a" UNIT_ROW_SIGNATURE, units), method_list_units_replying,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnit", SD_BUS_ARGS("s", unit), SD_BUS_RESULT(UNIT_ROW_SIGNATURE, state), method_get_unit_replying,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnitSockets", SD_BUS_ARGS("s", unit), SD_BUS_RESULT("a" UNIT_SOCKET_SIGNATURE, sockets),
                                method_get_unit_sockets_replying, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnitCloses", SD_BUS_ARGS("s", unit), SD_BUS_RESULT(UNIT_CLOSES_SIGNATURE, closes),
                                method_get_unit_closes_replying, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListUnitCloses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a" UNIT_CLOSES_SIGNATURE, closes),
                                method_list_unit_closes_replying, SD_BUS_VTABLE_UNPRIVILEGED),
        /* No SD_BUS_VTABLE_UNPRIVILEGED: sd-bus requires CAP_SYS_ADMIN of the caller. */
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload_replying, 0),
        SD_BUS_METHOD_WITH_ARGS("RestartUnit", SD_BUS_ARGS("s", unit), SD_BUS_NO_RESULT, method_restart_unit_replying, 0),
        SD_BUS_METHOD_WITH_ARGS("ApplyUnit", SD_BUS_ARGS("s", unit), SD_BUS_RESULT("s", result, "s", state, "s", reason),
                                method_apply_unit_replying, 0),
        SD_BUS_SIGNAL_WITH_ARGS("UnitStateChanged", SD_BUS_ARGS("s", unit, "s", state, "s", reason), 0),
        SD_BUS_VTABLE_END,
};

/* ---- privileges -------------------------------------------------------------- */

/* Keeps what reading other services' /proc/PID/fd and pidfd_getfd need
 * (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH), in the bounding set too, and
 * drops every other capability for good. Under tcpkeepalived.service the
 * unit has already done so (and its system call filter refuses capset),
 * so nothing is asked of the kernel when there is nothing left to drop. */
static int drop_capabilities(void) {
        static const cap_value_t keep[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH };
        cap_t want = cap_init(), have = cap_get_proc();
        int r = 0;

        if (!want || !have) {
                r = -ENOMEM;
                goto out;
        }
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                bool kept = c == keep[0] || c == keep[1];
                if (!kept && prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0 && cap_drop_bound(c) < 0 && errno != EINVAL)
                        r = -errno;
        }
        if (cap_set_flag(want, CAP_EFFECTIVE, 2, keep, CAP_SET) < 0 ||
            cap_set_flag(want, CAP_PERMITTED, 2, keep, CAP_SET) < 0) {
                r = -errno;
                goto out;
        }
        if (cap_compare(want, have) != 0 && cap_set_proc(want) < 0)
                r = -errno;
out:
        cap_free(want);
        cap_free(have);
        return r;
}

/* ---- main ---------------------------------------------------------------------- */

static void help(void) {
        printf("Usage: tcpkeepalived [OPTIONS]\n"
               "The tcp-keepalive D-Bus service (%s): watches the rules, reloads systemd when they\n"
               "change, restarts Restart=try units, and reports per unit whether keepalive is real.\n\n"
               "  -h, --help      show this help\n"
               "      --version   show the version\n\n"
               "Run by tcpkeepalived.service. See tcpkeepalived(8).\n",
               BUS_NAME);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        struct manager m = { .root = NULL };
        sd_event_source *term_source = NULL, *int_source = NULL;
        char **dirs = NULL;
        sigset_t ss;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        help();
                        return 0;
                }
                if (c == 'V') {
                        printf("tcpkeepalived %s\n", PACKAGE_VERSION);
                        return 0;
                }
                fprintf(stderr, "Try 'tcpkeepalived --help'.\n");
                return 2;
        }
        m.root = getenv("TCPKEEPALIVE_ROOT");
        snprintf(m.generator_dir, sizeof(m.generator_dir), "%s%s", m.root ? m.root : "", GENERATOR_DIR);
        ka_ruleset_init(&m.rules);
        {
                uint64_t wd = 0;
                m.request_usec = REQUEST_USEC;
                if (sd_watchdog_enabled(0, &wd) > 0 && wd / 3 < m.request_usec)
                        m.request_usec = wd / 3;
        }

        r = drop_capabilities();
        if (r < 0)
                log_warning("cannot drop capabilities: %s", strerror(-r));

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        if ((r = sd_event_default(&m.event)) < 0 ||
            (r = sd_event_add_signal(m.event, &term_source, SIGTERM, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(m.event, &int_source, SIGINT, NULL, NULL)) < 0 ||
            /* A stop is not kept waiting behind queued work. */
            (r = sd_event_source_set_priority(term_source, SD_EVENT_PRIORITY_IMPORTANT)) < 0 ||
            (r = sd_event_source_set_priority(int_source, SD_EVENT_PRIORITY_IMPORTANT)) < 0 ||
            (r = sd_event_set_watchdog(m.event, true)) < 0) {
                log_error("cannot set up the event loop: %s", strerror(-r));
                return 1;
        }
        if ((r = sd_bus_open_system(&m.bus)) < 0) {
                log_error("cannot connect to the system bus: %s", strerror(-r));
                return 1;
        }
        /* A second connection, for ListUnits' calls to systemd sent together;
         * without it they are made one by one. */
        if ((r = bus_prefetch_new(&m.prefetch)) < 0)
                log_warning("cannot open a second connection to the system bus (%s): "
                            "ListUnits asks systemd one call at a time", strerror(-r));
        /* D-Bus restarted: exit with a failure, and Restart=on-failure brings
         * the daemon back on the new bus (found by tests/systemd/daemon-faults.sh). */
        (void) sd_bus_set_exit_on_disconnect(m.bus, true);
        /* Any call waited for is bounded, those outside a budget too. */
        (void) sd_bus_set_method_call_timeout(m.bus, CALL_USEC);
        if ((r = sd_bus_add_object_vtable(m.bus, NULL, OBJECT_PATH, MANAGER_IFACE, manager_vtable, &m)) < 0 ||
            (r = sd_bus_attach_event(m.bus, m.event, SD_EVENT_PRIORITY_NORMAL)) < 0) {
                log_error("cannot publish %s: %s", OBJECT_PATH, strerror(-r));
                return 1;
        }
        for (size_t i = 0; ka_rule_dirs[i]; i++) {
                char *d;
                if (asprintf(&d, "%s%s", m.root ? m.root : "", ka_rule_dirs[i]) >= 0)
                        (void) strv_push(&dirs, d);
        }
        if ((r = rule_watch_new(m.event, dirs, SETTLE_USEC, SETTLE_MAX_USEC, on_rules_changed, &m, &m.watch)) < 0) {
                log_error("cannot watch the rule directories: %s", strerror(-r));
                return 1;
        }
        strv_free(dirs);
        /* The rules as they are now. The generator applied them at the last
         * systemd reload, unless they changed since, while no daemon ran
         * (killed in the middle of a reload, stopped): then reload now. */
        if (rules_changed_since_generator(&m)) {
                log_info("the rules changed after the generator last ran; reloading systemd");
                (void) apply_rules(&m, true, NULL);
        } else {
                (void) load_rules(&m);
                m.fingerprint = fingerprint(&m.rules);
        }

        /* The drop-ins as the last reload left them (an apply_rules above
         * rescans when its reload is done). */
        rescan_dropins(&m, NULL);

        /* Unit state changes come from systemd's signals: no polling. The
         * matches first, then Subscribe: systemd's answers are kept only
         * once both are in place (on_subscribed). */
        if ((r = systemd_cache_new(CACHE_UNITS, &m.cache)) < 0)
                log_warning("cannot keep systemd's answers (%s): every request asks systemd", strerror(-r));
        if ((r = sd_bus_match_signal(m.bus, NULL, "org.freedesktop.systemd1", NULL, "org.freedesktop.DBus.Properties",
                                     "PropertiesChanged", on_systemd_unit_changed, &m)) < 0 ||
            (r = sd_bus_match_signal(m.bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "UnitRemoved", on_systemd_unit_removed, &m)) < 0 ||
            (r = sd_bus_match_signal(m.bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "JobRemoved", on_systemd_job_removed, &m)) < 0 ||
            (r = sd_bus_match_signal(m.bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "Reloading", on_systemd_reloading, &m)) < 0 ||
            (r = sd_bus_add_match(m.bus, NULL,
                                  "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                  "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                  "arg0='org.freedesktop.systemd1'",
                                  on_systemd_owner_changed, &m)) < 0 ||
            (r = subscribe(&m)) < 0)
                log_warning("cannot follow systemd's unit changes (%s): UnitStateChanged will only follow rule changes",
                            strerror(-r));
        /* Checked on the event loop after READY, a batch at a time. */
        queue_managed_units(&m, NULL, REFRESH_STATE);
        apply_cgroup_units(&m);

        if ((r = sd_bus_request_name(m.bus, BUS_NAME, 0)) < 0) {
                log_error("cannot own %s: %s", BUS_NAME, strerror(-r));
                return 1;
        }
        (void) sd_notify(0, "READY=1\nSTATUS=Watching the rules");
        log_info("%s ready: %zu rule(s), %zu error(s)", BUS_NAME, m.rules.n_rules, m.rules.n_errors);

        r = sd_event_loop(m.event);
        if (r != 0)
                log_error("leaving: %s", r > 0 ? "the bus went away" : strerror(-r));
        (void) sd_notify(0, "STOPPING=1");
        rule_watch_free(m.watch);
        m.prefetch = bus_prefetch_free(m.prefetch);
        systemd_cache_active = NULL;
        m.cache = systemd_cache_free(m.cache);
        sd_bus_flush_close_unref(m.bus);
        sd_event_source_unref(term_source);
        sd_event_source_unref(int_source);
        sd_event_unref(m.event);
        ka_ruleset_done(&m.rules);
        free(m.fingerprint);
        unit_states_done(&m.states);
        strv_free(m.refresh_queue);
        sd_event_source_unref(m.refresh_source);
        dropin_history_done(&m.history);
        unit_aliases_done(&m.aliases);
        live_applies_done(&m.applies);
        return r != 0 ? 1 : 0; /* sd_event_loop: 0 on SIGTERM, EXIT_FAILURE on disconnect */
}
