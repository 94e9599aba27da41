/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unit_check(): the facts about one unit (unit-check.h), from systemd over
 * D-Bus and from /proc; unit-verdict.c decides its state from them.
 *
 * Over 600 lines: one path through the facts, from the unit's properties
 * to its drop-in, its process, its connections and its BPF record, each
 * step reading what the one before found. The calls to systemd within a
 * budget are the next piece that could stand alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <unistd.h>

#include "bpf-record.h"
#include "bus-prefetch.h"
#include "cgroup-roots.h"
#include "dropin.h"
#include "exe-check.h"
#include "keepalive-params.h"
#include "string-match.h"
#include "strv.h"
#include "systemd-cache.h"
#include "process-ref.h"
#include "rules.h"
#include "unit-scan.h"
#include "unit-name.h"
#include "tcp-table.h"
#include "unit-sockets.h"
#include "safe-text.h"
#include "close-counts.h"
#include "unit-check.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SD_SERVICE_IFACE "org.freedesktop.systemd1.Service"

/* The interface with a unit's ControlGroup (and, for a service, MainPID). */
static const char *unit_type_iface(const char *unit) {
        const char *dot = strrchr(unit, '.');
        if (dot && strcmp(dot, ".scope") == 0)
                return "org.freedesktop.systemd1.Scope";
        if (dot && strcmp(dot, ".slice") == 0)
                return "org.freedesktop.systemd1.Slice";
        return SD_SERVICE_IFACE;
}

/* Reads a whole /proc file (they report size 0, so read until EOF). */
static char *read_proc(const char *path, size_t *ret_len) {
        size_t size = 0, len = 0;
        char *buf = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return NULL;
        for (;;) {
                ssize_t n;
                if (len + 4096 + 1 > size) {
                        char *nb;
                        /* The bound before the realloc: after it, buf may
                         * already be freed (a double free, and nb lost). */
                        size = size ? size * 2 : 16384;
                        if (size > (64U << 20) || !(nb = realloc(buf, size)))
                                goto fail;
                        buf = nb;
                }
                n = read(fd, buf + len, size - len - 1);
                if (n < 0)
                        goto fail;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        close(fd);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
fail:
        close(fd);
        free(buf);
        return NULL;
}

/* A process's environ (NUL-separated, as read_proc() gives it, NUL after
 * the last): its entries as a list for strv_env_get(), pointing into env;
 * free() the list only. NULL when out of memory. */
static char **environ_entries(const char *env, size_t len) {
        size_t n = 0, i = 0;
        char **l;
        for (const char *p = env; p < env + len; p += strlen(p) + 1)
                n++;
        if (!(l = calloc(n + 1, sizeof(char *))))
                return NULL;
        for (const char *p = env; p < env + len; p += strlen(p) + 1)
                l[i++] = (char *) p;
        return l;
}

/* What the rule asks of each connection: the unit's TCPKEEPALIVE_*, as
 * the drop-in set them (the last assignment wins, as in systemd). */
static void rule_values_from_env(char **environment, struct rule_values *w);

/* The unit's TCP sockets, compared with the rule, counted by class. */
static void count_connections(const char *cgroup, pid_t main_pid, struct tcp_tables *tables,
                              const struct rule_values *want, struct conn_tally *t) {
        struct unit_socket *socks = NULL;
        struct socket_scan_errors errors = { 0 };
        ssize_t n = unit_sockets_read(cgroup, main_pid, tables, want->n_paths ? UNIT_SOCKETS_PEERS : 0, &socks, &errors);

        for (ssize_t i = 0; i < n; i++)
                conn_tally_add(t, want, &socks[i]);
        t->unlisted = errors.n;
        t->unlisted_pid = errors.first_pid;
        t->unlisted_errno = errors.first_errno;
        memcpy(t->unlisted_path, errors.first_path, sizeof(t->unlisted_path));
        free(socks);
}

/* ---- calls to systemd, within a budget --------------------------------- */

void call_budget_start(struct call_budget *b, uint64_t now_usec, uint64_t total_usec, uint64_t per_call_usec) {
        *b = (struct call_budget) { .deadline = now_usec + total_usec, .per_call = per_call_usec, .total = total_usec };
}

uint64_t call_budget_usec(const struct call_budget *b, uint64_t now_usec) {
        uint64_t left = b->deadline > now_usec ? b->deadline - now_usec : 0;
        if (left < CALL_BUDGET_MIN_USEC)
                return 0;
        return left < b->per_call ? left : b->per_call;
}

uint64_t monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* The properties read_props reads: a kept GetAll answer holds these
 * alone. systemd's whole answer (some 200 properties, kilobytes for a
 * Service) would make the cache a few megabytes at a few hundred units,
 * and each hit would be decoded in full again. Keep in step with
 * read_props. */
static const char *const props_read[] = {
        "ActiveState", "ControlGroup", "DropInPaths", "UnsetEnvironment", "Environment", "MainPID",
        "ExecMainStartTimestamp", "InactiveExitTimestamp", "EnvironmentFiles", NULL,
};

static bool props_read_has(const char *name) {
        for (size_t i = 0; props_read[i]; i++)
                if (strcmp(props_read[i], name) == 0)
                        return true;
        return false;
}

/* A copy of the GetAll answer m (a{sv}) with the props_read entries only,
 * sealed, ready to be read. */
static int props_trim(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret) {
        sd_bus_message *t = NULL;
        const char *name;
        int r;

        if ((r = sd_bus_message_new(bus, &t, SD_BUS_MESSAGE_METHOD_RETURN)) >= 0 &&
            (r = sd_bus_message_rewind(m, true)) >= 0 && (r = sd_bus_message_enter_container(m, 'a', "{sv}")) >= 0)
                r = sd_bus_message_open_container(t, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                if ((r = sd_bus_message_read(m, "s", &name)) < 0)
                        break;
                if (props_read_has(name)) {
                        if ((r = sd_bus_message_open_container(t, 'e', "sv")) >= 0 &&
                            (r = sd_bus_message_append(t, "s", name)) >= 0 && (r = sd_bus_message_copy(t, m, false)) >= 0)
                                r = sd_bus_message_close_container(t);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0 && (r = sd_bus_message_exit_container(m)) >= 0 && (r = sd_bus_message_close_container(t)) >= 0 &&
            (r = sd_bus_message_seal(t, 1, 0)) >= 0)
                r = sd_bus_message_rewind(t, true);
        (void) sd_bus_message_rewind(m, true);
        if (r < 0) {
                sd_bus_message_unref(t);
                return r;
        }
        *ret = t;
        return 0;
}

bool systemd_cache_usable(sd_bus *bus, struct call_budget *budget) {
        sd_bus_message *ping = NULL;
        uint64_t usec;
        int r;

        if (!systemd_cache_active || !budget || systemd_cache_units(systemd_cache_active) == 0)
                return false;
        if (budget->cache_ping == 0) {
                /* Answered by sd-bus in PID 1 itself, without a look at any
                 * unit: microseconds, once per request. */
                if ((usec = call_budget_usec(budget, monotonic_usec())) == 0) {
                        budget->cache_ping = -1;
                        return false;
                }
                budget->last_call = usec;
                r = sd_bus_message_new_method_call(bus, &ping, SD_DEST, "/org/freedesktop/systemd1",
                                                   "org.freedesktop.DBus.Peer", "Ping");
                if (r >= 0)
                        r = sd_bus_call(bus, ping, usec, NULL, NULL);
                sd_bus_message_unref(ping);
                if (r == -ETIMEDOUT)
                        budget->not_answered++;
                budget->cache_ping = r >= 0 ? 1 : -1;
        }
        return budget->cache_ping > 0;
}

/* The answer to keep for key: a GetAll answer trimmed (props_trim); a
 * LoadUnit/GetUnit answer only when it is the path of the name asked for.
 * An alias is answered with its unit's path, which systemd's signals name,
 * not the alias's: an entry under the alias's key would outlive the
 * unit's UnitRemoved, and a cached "loaded" would then let GetUnit's
 * only_loaded look load the unit again through its path. */
static void cache_store(sd_bus *bus, const char *key, enum systemd_cache_slot slot, sd_bus_message **reply) {
        sd_bus_message *keep = NULL;

        if (slot == SYSTEMD_CACHE_LOAD) {
                const char *opath;
                if (sd_bus_message_read(*reply, "o", &opath) >= 0 && strcmp(opath, key) == 0)
                        keep = sd_bus_message_ref(*reply);
                (void) sd_bus_message_rewind(*reply, true);
        } else if (props_trim(bus, *reply, &keep) >= 0) {
                /* The caller reads the trimmed copy too: the same answer,
                 * cheaper to decode. */
                sd_bus_message_unref(*reply);
                *reply = sd_bus_message_ref(keep);
        }
        if (keep)
                (void) systemd_cache_put(systemd_cache_active, key, slot, keep);
        sd_bus_message_unref(keep);
}

int systemd_call_method(sd_bus *bus, struct call_budget *budget, const char *path, const char *iface,
                        const char *member, sd_bus_error *error, sd_bus_message **reply, const char *types, ...) {
        sd_bus_message *msg = NULL;
        uint64_t usec = 0; /* 0: the connection's default */
        const char *arg = NULL;
        char *key = NULL;
        enum systemd_cache_slot slot = SYSTEMD_CACHE_LOAD;
        va_list ap;
        int r;

        if (reply && types && strcmp(types, "s") == 0) {
                va_start(ap, types);
                arg = va_arg(ap, const char *);
                va_end(ap);
        }
        /* Kept since systemd last said the unit changed (systemd-cache.h). */
        if (systemd_cache_active && arg && systemd_cache_key(path, member, arg, &key, &slot) > 0) {
                /* The Ping only when there is an answer to hand out. */
                sd_bus_message *hit = systemd_cache_get(systemd_cache_active, key, slot);
                if (hit && !systemd_cache_usable(bus, budget))
                        hit = sd_bus_message_unref(hit);
                if (hit) {
                        systemd_cache_count(systemd_cache_active, true);
                        *reply = hit;
                        free(key);
                        return 1;
                }
                systemd_cache_count(systemd_cache_active, false);
        }
        /* Answered already, sent with the other units' calls (ListUnits). */
        if (bus_prefetch_active && arg && bus_prefetch_take(bus_prefetch_active, path, member, arg, reply, error, &r))
                goto done;
        if (budget && (usec = call_budget_usec(budget, monotonic_usec())) == 0) {
                budget->not_asked++;
                free(key);
                return -ETIME;
        }
        r = sd_bus_message_new_method_call(bus, &msg, SD_DEST, path, iface, member);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(msg, types, ap);
                va_end(ap);
        }
        if (budget)
                budget->last_call = usec;
        if (r >= 0)
                r = sd_bus_call(bus, msg, usec, error, reply);
        if (r == -ETIMEDOUT && budget)
                budget->not_answered++;
        sd_bus_message_unref(msg);
done:
        /* Stored now, while the request runs; a signal that says the unit
         * changed is processed after it and drops the entry (the order is
         * explained in tcpkeepalived.c, "systemd's answers, kept while
         * true"). */
        if (r >= 0 && key && systemd_cache_active && *reply)
                cache_store(bus, key, slot, reply);
        free(key);
        return r;
}

void systemd_call_describe(char *buf, size_t size, const char *member, const char *unit, int r, const sd_bus_error *e,
                           const struct call_budget *budget) {
        if (r == -ETIME)
                snprintf(buf, size, "not asked: systemd was slow, and this request's %.1f s for systemd calls were "
                                    "spent before %s's turn", budget ? (double) budget->total / 1e6 : 0.0, unit);
        else if (r == -ETIMEDOUT)
                snprintf(buf, size, "systemd did not answer %s for %s within %.1f s", member, unit,
                         budget ? (double) budget->last_call / 1e6 : 0.0);
        else
                snprintf(buf, size, "systemd %s for %s: %s", member, unit,
                         e && e->message ? e->message : strerror(r < 0 ? -r : EIO));
}

/* What unit_check needs of a unit, from two GetAll calls (one round trip
 * per interface, not one per property: ListUnits asks this for every
 * managed unit). */
struct unit_props {
        char active_state[32];
        char cgroup[1024];
        char **dropins, **unset, **environment;
        uint32_t main_pid;
        uint64_t started_usec;
        uint64_t activation_usec; /* InactiveExitTimestamp */
        bool has_environment_files;
};

static void unit_props_done(struct unit_props *p) {
        strv_free(p->dropins);
        strv_free(p->unset);
        strv_free(p->environment);
}

static int read_variant_string(sd_bus_message *m, char *buf, size_t size) {
        const char *v;
        int r = sd_bus_message_read(m, "v", "s", &v);
        if (r >= 0)
                snprintf(buf, size, "%s", v);
        return r;
}

static int read_variant_strv(sd_bus_message *m, char ***ret) {
        int r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = NULL;
        if ((r = sd_bus_message_read_strv(m, ret)) < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_variant_nonempty(sd_bus_message *m, const char *contents, bool *ret) {
        int r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        if ((r = sd_bus_message_enter_container(m, 'a', contents + 1)) < 0)
                return r;
        *ret = !sd_bus_message_at_end(m, false);
        if ((r = sd_bus_message_exit_container(m)) < 0) /* skips the rest of the array */
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_props(sd_bus *bus, struct call_budget *budget, const char *path, const char *iface,
                      struct unit_props *p, sd_bus_error *e) {
        sd_bus_message *m = NULL;
        const char *name;
        int r = systemd_call_method(bus, budget, path, "org.freedesktop.DBus.Properties", "GetAll", e, &m, "s", iface);

        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                if ((r = sd_bus_message_read(m, "s", &name)) < 0)
                        break;
                if (strcmp(name, "ActiveState") == 0)
                        r = read_variant_string(m, p->active_state, sizeof(p->active_state));
                else if (strcmp(name, "ControlGroup") == 0)
                        r = read_variant_string(m, p->cgroup, sizeof(p->cgroup));
                else if (strcmp(name, "DropInPaths") == 0)
                        r = read_variant_strv(m, &p->dropins);
                else if (strcmp(name, "UnsetEnvironment") == 0)
                        r = read_variant_strv(m, &p->unset);
                else if (strcmp(name, "Environment") == 0)
                        r = read_variant_strv(m, &p->environment);
                else if (strcmp(name, "MainPID") == 0)
                        r = sd_bus_message_read(m, "v", "u", &p->main_pid);
                else if (strcmp(name, "ExecMainStartTimestamp") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->started_usec);
                else if (strcmp(name, "InactiveExitTimestamp") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->activation_usec);
                else if (strcmp(name, "EnvironmentFiles") == 0)
                        r = read_variant_nonempty(m, "a(sb)", &p->has_environment_files);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        sd_bus_message_unref(m);
        return r < 0 ? r : 0;
}

/* The TCPKEEPALIVE_* settings (not _SOURCE, which names the rule file) of
 * a list of assignments, sorted. */
static char **tka_settings(char **assignments) {
        char **out = NULL;
        for (char **v = assignments; v && *v; v++)
                if (ka_env_is_setting(*v))
                        (void) strv_push_dup(&out, *v);
        strv_sort_unique(out);
        return out;
}

/* Whether the process environment proc_env has exactly the keepalive settings
 * of the unit's Environment= (systemd resolves that list: last one wins),
 * and its LD_PRELOAD (ExtraPreload= changes it). */
static bool tka_settings_equal(char **unit_env, char **proc_env) {
        char **want = tka_settings(unit_env), **have = tka_settings(proc_env);
        const char *unit_preload = strv_env_get(unit_env, "LD_PRELOAD");
        const char *preload = strv_env_get(proc_env, "LD_PRELOAD");
        bool equal;

        equal = strv_length(want) == strv_length(have) &&
                (unit_preload ? preload && strcmp(unit_preload, preload) == 0 : true);
        for (size_t i = 0; equal && want && want[i]; i++)
                equal = strcmp(want[i], have[i]) == 0;
        strv_free(want);
        strv_free(have);
        return equal;
}

/* What tcpkeepalive-bpf decided when the unit last started (Method=bpf
 * or auto) or when a rule was applied to it live: lib/shared/bpf-record.h. */
static bool read_bpf_record(const char *unit, struct bpf_record *rec) {
        return bpf_record_read(NULL, unit, rec) == 0;
}

/* FNV-1a over the unit's effective keepalive settings. */
static uint64_t settings_hash(const struct unit_props *p, bool has_dropin) {
        char **settings = tka_settings(p->environment);
        const char *preload = strv_env_get(p->environment, "LD_PRELOAD");
        uint64_t h = 14695981039346656037ULL;
        const char *parts[] = { has_dropin ? "dropin" : "none", preload ? preload : "" };

        for (size_t i = 0; i < 2; i++)
                for (const char *c = parts[i]; ; c++) {
                        h = (h ^ (unsigned char) *c) * 1099511628211ULL;
                        if (!*c)
                                break;
                }
        for (char **s = settings; s && *s; s++)
                for (const char *c = *s; ; c++) {
                        h = (h ^ (unsigned char) *c) * 1099511628211ULL;
                        if (!*c)
                                break;
                }
        strv_free(settings);
        return h;
}

/* Since when settings of this hash have been in effect: the record's time
 * when it saw the same, else the last systemd reload (the latest they can
 * have taken effect), recorded. */
static uint64_t settings_since(struct settings_record *rec, uint64_t hash) {
        uint64_t reload = systemd_reload_usec("/run/systemd/generator");
        if (!rec)
                return reload;
        if (!rec->valid || rec->hash != hash)
                *rec = (struct settings_record) { .hash = hash, .since = reload, .valid = reload != 0 };
        return rec->since;
}

uint64_t systemd_reload_usec(const char *generator_dir) {
        struct stat st;
        if (stat(generator_dir, &st) < 0)
                return 0;
        return (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000ULL;
}

/* The id of the unit's cgroup (the inode of its v2 directory), or 0. */

static int env_uint(char **environment, const char *key, unsigned max) {
        unsigned v;
        return ka_parse_uint(strv_env_get(environment, key), 0, max, &v) == 0 ? (int) v : -1;
}

/* A rule's parameters as the drop-in would put them in the environment
 * (0 and out of range: not set). */
static void rule_values_from_params(const struct ka_params *p, struct rule_values *w) {
        *w = (struct rule_values) {
                .idle = p->idle_sec > 0 && (unsigned) p->idle_sec <= KA_IDLE_MAX ? p->idle_sec : -1,
                .interval = p->interval_sec > 0 && (unsigned) p->interval_sec <= KA_INTERVAL_MAX ? p->interval_sec : -1,
                .count = p->count > 0 && (unsigned) p->count <= KA_COUNT_MAX ? p->count : -1,
                .user_timeout = p->user_timeout_ms >= 0 && p->user_timeout_ms <= (int64_t) KA_USER_TIMEOUT_MAX
                                        ? (int) p->user_timeout_ms
                                        : -1,
                .direction = p->direction >= 0 ? p->direction : KA_DIRECTION_BOTH,
                .force = p->mode == KA_MODE_FORCE,
        };
        if (p->n_paths > 0 && (w->paths = calloc(p->n_paths, sizeof(*w->paths)))) {
                memcpy(w->paths, p->paths, p->n_paths * sizeof(*w->paths));
                w->n_paths = p->n_paths;
                w->paths_only = p->paths_only;
        }
}

/* The path rules of the drop-in, as the library reads them: in order, up
 * to the first missing or unreadable one. */
static void path_values_from_env(char **environment, struct rule_values *w) {
        struct ka_path *paths = NULL;
        size_t n = 0;
        const char *v;

        for (unsigned i = 1; i <= KA_PATHS_MAX; i++) {
                char name[sizeof(KA_ENV_PATH_PREFIX) + 8];
                snprintf(name, sizeof(name), KA_ENV_PATH_PREFIX "%u", i);
                if (!(v = strv_env_get(environment, name)))
                        break;
                if (!paths && !(paths = calloc(KA_PATHS_MAX, sizeof(*paths))))
                        return;
                if (ka_path_parse(v, &paths[n]) < 0)
                        break;
                n++;
        }
        if (n == 0) {
                free(paths);
                return;
        }
        w->paths = paths;
        w->n_paths = n;
        v = strv_env_get(environment, KA_ENV_UNMATCHED);
        w->paths_only = v && strcmp(v, "off") == 0;
}

int live_rule_find(struct ka_ruleset *rs, const char *unit, struct ka_params *params, struct live_rule *ret) {
        const struct ka_rule *rule = NULL;
        int r;

        if (!unit_name_is_scope_or_slice(unit))
                return 0;
        /* No aliases and no tcpkeepalive@ switch for these: the rules alone. */
        if ((r = ka_unit_params(rs, NULL, NULL, unit, params, &rule, NULL)) <= 0)
                return r;
        *ret = (struct live_rule) { .params = params, .source = rule ? rule->path : "" };
        return 1;
}

static void rule_values_from_env(char **environment, struct rule_values *w) {
        enum ka_direction d;
        enum ka_mode m;

        *w = (struct rule_values) {
                .idle = env_uint(environment, KA_ENV_IDLE, KA_IDLE_MAX),
                .interval = env_uint(environment, KA_ENV_INTERVAL, KA_INTERVAL_MAX),
                .count = env_uint(environment, KA_ENV_COUNT, KA_COUNT_MAX),
                .user_timeout = env_uint(environment, KA_ENV_USER_TIMEOUT, KA_USER_TIMEOUT_MAX),
                .direction = ka_parse_direction(strv_env_get(environment, KA_ENV_DIRECTION), &d) == 0 ? (int) d
                                                                                                      : KA_DIRECTION_BOTH,
                .force = ka_parse_mode(strv_env_get(environment, KA_ENV_MODE), &m) == 0 && m == KA_MODE_FORCE,
        };
        path_values_from_env(environment, w);
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* /proc/PID/NAME's first size-1 bytes into buf (NUL-terminated, NULs of
 * cmdline kept); their length, or -1. */
static ssize_t read_small(uint32_t pid, const char *name, char *buf, size_t size) {
        char path[64];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%u/%s", pid, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, size - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        return n;
}

/* Whether pid is still systemd's forked child, before it exec'd the
 * service's program. That child runs systemd's own binary, the one PID 1
 * runs, until execve; it starts as a copy of PID 1 (PID 1's command line
 * and name), and soon (252: exec_child, rename_process_from_path) names
 * itself "(" + the last 8 characters of the program's name + ")", its
 * name and its command line. Its binary alone does not tell: a
 * service may run the systemd binary itself (user@.service, "systemd
 * --user"). Where PID 1's executable cannot be read, the child's is judged
 * by its name (systemd, or systemd-executor of later versions).
 * Read in this order: the exe, the command line, the name. exec only goes
 * one way and the rename too: whenever this says "exec'd", the read
 * that said so came after the exec (a child found renamed in either place
 * counts as not exec'd), so what the caller reads next is the program's. */
static bool pid_not_exec(uint32_t pid) {
        char exe[PATH_MAX], manager[PATH_MAX], cmd[512], manager_cmd[512], comm[64];
        ssize_t n, cmd_len, manager_cmd_len;

        snprintf(cmd, sizeof(cmd), "/proc/%u/exe", pid);
        n = readlink(cmd, exe, sizeof(exe) - 1);
        if (n <= 0)
                return false;
        exe[n] = '\0';
        n = readlink("/proc/1/exe", manager, sizeof(manager) - 1);
        if (n > 0) {
                manager[n] = '\0';
                if (strcmp(exe, manager) != 0)
                        return false;
        } else {
                const char *base = strrchr(exe, '/');
                base = base ? base + 1 : exe;
                if (strncmp(base, "systemd", 7) != 0 ||
                    !(base[7] == '\0' || strncmp(base + 7, "-executor", 9) == 0 ||
                      strncmp(base + 7, " (deleted)", 10) == 0))
                        return false;
        }
        /* Not renamed yet: PID 1's command line, byte for byte. */
        cmd_len = read_small(pid, "cmdline", cmd, sizeof(cmd));
        manager_cmd_len = read_small(1, "cmdline", manager_cmd, sizeof(manager_cmd));
        if (cmd_len > 0 && cmd_len == manager_cmd_len && memcmp(cmd, manager_cmd, (size_t) cmd_len) == 0)
                return true;
        /* Renamed: "(NAME)", in the command line or the name (whichever
         * systemd writes first). */
        n = (ssize_t) strlen(cmd);
        if (n >= 2 && cmd[0] == '(' && cmd[n - 1] == ')')
                return true;
        n = read_small(pid, "comm", comm, sizeof(comm));
        if (n <= 0)
                return false;
        comm[strcspn(comm, "\n")] = '\0';
        n = (ssize_t) strlen(comm);
        return n >= 2 && comm[0] == '(' && comm[n - 1] == ')';
}

/* A file of our drop-in's name that systemd takes for a mask: a link to
 * /dev/null or an empty file (or any device), as systemd's null_or_empty(). */
static bool is_mask(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return false;
        return S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0);
}

/* Where our drop-in is masked, into buf; false when it is not. systemd
 * lists a masked drop-in in DropInPaths under the mask's own path (the
 * same name in a directory read before the generator's wins), or, where
 * it filters masks out, not at all: then the directories an admin or a
 * tool would mask it in are looked at, for the unit and its template. */
static bool find_mask(const char *unit, char **dropins, char *buf, size_t size) {
        static const char *const dirs[] = { "/etc/systemd/system.control", "/run/systemd/system.control",
                                            "/run/systemd/transient",     "/run/systemd/generator.early",
                                            "/etc/systemd/system",        "/etc/systemd/system.attached",
                                            "/run/systemd/system",        "/run/systemd/system.attached" };
        char template[256];
        const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');

        for (char **d = dropins; d && *d; d++) {
                const char *slash = strrchr(*d, '/');
                if (slash && strcmp(slash + 1, KA_DROPIN_NAME) == 0) {
                        if (!is_mask(*d))
                                return false;
                        snprintf(buf, size, "%s", *d);
                        return true;
                }
        }
        template[0] = '\0';
        if (at && dot && dot > at)
                snprintf(template, sizeof(template), "%.*s%s", (int) (at - unit + 1), unit, dot);
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                snprintf(buf, size, "%s/%s.d/" KA_DROPIN_NAME, dirs[i], unit);
                if (is_mask(buf))
                        return true;
                if (template[0]) {
                        snprintf(buf, size, "%s/%s.d/" KA_DROPIN_NAME, dirs[i], template);
                        if (is_mask(buf))
                                return true;
                }
        }
        buf[0] = '\0';
        return false;
}

/* The records of what tcpkeepalive-bpf did for the unit: its start or its
 * last live apply (BPF_RECORD_DIR), and a live apply's failure. */
static void read_bpf_records(const char *unit, const char *cgroup, struct bpf_record *rec, struct bpf_record *failed,
                             struct unit_facts *f) {
        if ((f->have_bpf_record = read_bpf_record(unit, rec))) {
                f->bpf_method = rec->method;
                f->bpf_reason = rec->reason;
                f->bpf_cgroup_id = rec->cgroup_id;
                f->bpf_written_usec = rec->written_usec;
                f->bpf_applied_usec = rec->applied_usec;
                f->bpf_live = rec->live;
                f->cgroup_id = cgroup_v2_id(cgroup);
        }
        if (bpf_record_read(BPF_APPLY_FAILED_DIR, unit, failed) == 0) {
                f->live_failure = failed->reason;
                f->live_failure_usec = failed->written_usec;
        }
}

int unit_check(sd_bus *bus, const char *unit, const char *library, struct tcp_tables *tables,
               struct call_budget *budget, struct settings_record *settings, const struct live_rule *live,
               struct unit_check *c) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *opath;
        char *path = NULL, procpath[64], *env = NULL, **proc_env = NULL, why[512], exe_name[256], masked_by[1024] = "";
        struct unit_props p = { 0 };
        struct unit_facts f = { .unit = unit, .library = library };
        struct bpf_record rec, failed;
        size_t env_len = 0;
        uint32_t main_pid;
        int r, pidfd = -1;

        *c = (struct unit_check) { .state = UNIT_STATE_ERROR };
        r = systemd_call_method(bus, budget, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                budget && budget->only_loaded ? "GetUnit" : "LoadUnit", &e, &reply, "s", unit);
        if (r < 0 && budget && budget->only_loaded && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
                unit_set_state(c, UNIT_STATE_INACTIVE, "not loaded by systemd (not running); it gets keepalive when it starts");
                c->has_dropin = true; /* only our units are looked at so */
                c->not_loaded = true;
                r = 0;
                goto out;
        }
        if (r < 0) {
                if (r == -ETIME || r == -ETIMEDOUT)
                        systemd_call_describe(c->reason, sizeof(c->reason), "LoadUnit", unit, r, &e, budget);
                else
                        unit_set_state(c, UNIT_STATE_ERROR, "systemd cannot load %s: %s", unit,
                                  e.message ? e.message : strerror(-r));
                goto out;
        }
        if ((r = sd_bus_message_read(reply, "o", &opath)) < 0 || !(path = strdup(opath)))
                goto out;
        if ((r = read_props(bus, budget, path, SD_UNIT_IFACE, &p, &e)) < 0) {
                systemd_call_describe(c->reason, sizeof(c->reason), "GetAll(Unit)", unit, r, &e, budget);
                goto out;
        }
        snprintf(c->active_state, sizeof(c->active_state), "%s", p.active_state);
        for (char **d = p.dropins; d && *d; d++) {
                const char *slash = strrchr(*d, '/');
                if (slash && strcmp(slash + 1, KA_DROPIN_NAME) == 0) {
                        c->has_dropin = true;
                        snprintf(c->dropin_path, sizeof(c->dropin_path), "%s", *d);
                }
        }
        /* A scope or slice a rule covers: no drop-in and no main process;
         * the rule the caller found, the connections of the cgroup and
         * what the live apply did. */
        if (live) {
                sd_bus_error_free(&e);
                if ((r = read_props(bus, budget, path, unit_type_iface(unit), &p, &e)) < 0) {
                        systemd_call_describe(c->reason, sizeof(c->reason), "GetAll", unit, r, &e, budget);
                        goto out;
                }
                r = 0;
                snprintf(c->source, sizeof(c->source), "%s", live->source);
                f.cgroup_unit = true;
                f.active_state = c->active_state;
                f.mode = live->params->mode == KA_MODE_OFF ? "off" : NULL;
                f.source = c->source;
                f.activation_usec = p.activation_usec;
                rule_values_from_params(live->params, &f.want);
                if (tables && p.cgroup[0]) {
                        count_connections(p.cgroup, 0, tables, &f.want, &f.conns);
                        f.counted = c->counted = true;
                        c->conns = f.conns;
                }
                read_bpf_records(unit, p.cgroup, &rec, &failed, &f);
                goto decide;
        }
        /* Service-only properties; a unit of another type has none. No
         * answer in time is no answer: MainPID 0 would claim "not running". */
        sd_bus_error_free(&e);
        if ((r = read_props(bus, budget, path, SD_SERVICE_IFACE, &p, &e)) == -ETIME || r == -ETIMEDOUT) {
                systemd_call_describe(c->reason, sizeof(c->reason), "GetAll(Service)", unit, r, &e, budget);
                goto out;
        }
        main_pid = p.main_pid;
        c->main_pid = (pid_t) main_pid;
        {
                const char *src = strv_env_get(p.environment, KA_ENV_SOURCE);
                snprintf(c->source, sizeof(c->source), "%s", src ? src : "");
        }
        r = 0;

        /* The facts systemd gave. */
        if (!c->has_dropin || is_mask(c->dropin_path)) {
                if (find_mask(unit, p.dropins, masked_by, sizeof(masked_by)))
                        f.masked_by = masked_by;
        }
        f.has_dropin = c->has_dropin = c->has_dropin && !f.masked_by;
        f.active_state = c->active_state;
        f.main_pid = main_pid;
        f.method = strv_env_get(p.environment, KA_ENV_METHOD);
        f.mode = strv_env_get(p.environment, KA_ENV_MODE);
        f.source = c->source;
        f.unsets_preload = strv_contains(p.unset, "LD_PRELOAD");
        f.unit_preload_has_library = preload_list_has(strv_env_get(p.environment, "LD_PRELOAD"), library);
        f.has_environment_files = p.has_environment_files;
        f.activation_usec = p.activation_usec;
        f.environment = c->environment;
        if (!f.has_dropin || main_pid == 0)
                goto decide;

        /* The running process. Where pidfd_open is refused (a restricted
         * container), the cgroup check alone is done. */
        pidfd = (int) syscall(SYS_pidfd_open, main_pid, 0);
        if ((pidfd < 0 && errno == ESRCH) || !pid_in_cgroup((pid_t) main_pid, p.cgroup)) {
                f.main_pid_left = true;
                goto alive;
        }
        if (pid_not_exec(main_pid)) {
                f.main_pid_not_exec = c->main_pid_not_exec = true;
                goto alive;
        }
        if (tables) {
                rule_values_from_env(p.environment, &f.want);
                count_connections(p.cgroup, c->main_pid, tables, &f.want, &f.conns);
                f.counted = c->counted = true;
                c->conns = f.conns;
        }
        snprintf(procpath, sizeof(procpath), "/proc/%u/maps", main_pid);
        {
                char *maps = read_proc(procpath, NULL);
                c->library_mapped = maps && strstr(maps, "/libtcpkeepalive.so");
                free(maps);
        }
        f.library_mapped = c->library_mapped;
        snprintf(procpath, sizeof(procpath), "/proc/%u/environ", main_pid);
        env = read_proc(procpath, &env_len);
        if (!env)
                goto alive;
        /* Inside execve: the kernel has switched to the program (its exe and
         * name) but not yet laid out its arguments and environment, and
         * reads them as empty. systemd always gives a service an
         * environment (PATH=, our drop-in's TCPKEEPALIVE_*): empty is not
         * yet exec'd, looked at again by check --wait. */
        if (env_len == 0) {
                f.main_pid_not_exec = c->main_pid_not_exec = true;
                goto alive;
        }
        proc_env = environ_entries(env, env_len);
        {
                size_t used = 0;
                for (const char *v = env; v < env + env_len; v += strlen(v) + 1)
                        if (ka_env_is_setting(v) &&
                            used + strlen(v) + 2 < sizeof(c->environment))
                                used += (size_t) snprintf(c->environment + used, sizeof(c->environment) - used,
                                                          "%s%s", used ? " " : "", v);
                /* The process can write its own environ: shown escaped. */
                if (!text_is_printable(c->environment)) {
                        char raw[sizeof(c->environment)];
                        memcpy(raw, c->environment, sizeof(raw));
                        text_escape_to(c->environment, sizeof(c->environment), raw);
                }
        }
        f.environ_read = true;
        /* Current: the process runs with the keepalive settings the unit has now. */
        /* Started after the unit's settings took their present value:
         * current, whatever its environ shows now. Else its environ must
         * show them. */
        {
                uint64_t since = settings_since(settings, settings_hash(&p, f.has_dropin));
                f.settings_since_usec = since;
                f.settings_current = (p.started_usec && since && p.started_usec > since) ||
                                     tka_settings_equal(p.environment, proc_env);
        }
        f.process_preload_has_library = preload_list_has(strv_env_get(proc_env, "LD_PRELOAD"), library);
        /* Method=bpf and auto at start; any method after a live apply. */
        read_bpf_records(unit, p.cgroup, &rec, &failed, &f);
        /* A process that holds connections without keepalive: has it the
         * library (the program turned keepalive off) or not (a child that
         * cleared its environment, a runtime of its own)? */
        if (f.conns.n_none_pids > 0) {
                snprintf(procpath, sizeof(procpath), "/proc/%d/maps", (int) f.conns.none_pids[0]);
                char *maps = read_proc(procpath, NULL);
                f.none_pid_has_library = maps && strstr(maps, "/libtcpkeepalive.so");
                free(maps);
        }
        /* The executable, for the verdicts that need it: LD_PRELOAD names
         * the library, yet it is not mapped; or connections carry other
         * values than the library's (a runtime that bypasses libc). */
        if ((!f.library_mapped && f.process_preload_has_library) ||
            (f.library_mapped && (f.conns.own > 0 || f.conns.none > 0))) {
                snprintf(procpath, sizeof(procpath), "/proc/%u/exe", main_pid);
                ssize_t n = readlink(procpath, exe_name, sizeof(exe_name) - 1);
                exe_name[n > 0 ? n : 0] = '\0';
                f.exe_checked = true;
                f.exe_preload_works = exe_preload_works(procpath, exe_name[0] ? exe_name : NULL, why, sizeof(why));
                f.exe_why = why;
        }
alive:
        /* Still the process systemd named, after all was read. */
        if (pidfd >= 0) {
                f.main_pid_exited = !pidfd_alive(pidfd);
                close(pidfd);
                pidfd = -1;
        }
decide:
        unit_verdict(&f, c);
out:
        rule_values_done(&f.want);
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        free(path);
        free(proc_env);
        free(env);
        unit_props_done(&p);
        return r < 0 ? r : 0;
}

/* ---- one unit's sockets, for show -------------------------------------- */

/* LoadUnit, then GetAll of the Unit interface when with_unit_iface (its
 * InactiveExitTimestamp, ActiveState) and of the unit's type (its
 * ControlGroup, for a service its MainPID and Environment) into *p. */
static int load_unit_props(sd_bus *bus, struct call_budget *budget, const char *unit, bool with_unit_iface,
                           struct unit_props *p) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *opath;
        int r = systemd_call_method(bus, budget, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                    "LoadUnit", &e, &reply, "s", unit);

        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &opath);
        if (r >= 0 && with_unit_iface)
                r = read_props(bus, budget, opath, SD_UNIT_IFACE, p, &e);
        if (r >= 0)
                r = read_props(bus, budget, opath, unit_type_iface(unit), p, &e);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
        return r;
}

int unit_sockets(sd_bus *bus, const char *unit, struct call_budget *budget, const struct live_rule *live,
                 struct unit_socket **ret, struct rule_values *want) {
        struct unit_props p = { 0 };
        struct tcp_tables tables = { 0 };
        ssize_t n;
        int r = load_unit_props(bus, budget, unit, false, &p);

        if (r < 0) {
                unit_props_done(&p);
                return r;
        }
        if (live)
                rule_values_from_params(live->params, want);
        else
                rule_values_from_env(p.environment, want);
        /* The values and addresses through the fds; how the values came
         * (live or at establishment) only the iterator's pass can tell. */
        tables.use_iterator = true;
        n = unit_sockets_read(p.cgroup, (pid_t) p.main_pid, &tables, UNIT_SOCKETS_ADDRESSES, ret, NULL);
        tcp_tables_done(&tables);
        unit_props_done(&p);
        return n < 0 ? (int) n : (int) (n > INT32_MAX ? INT32_MAX : n);
}

int unit_close_counts(sd_bus *bus, const char *unit, struct call_budget *budget, const struct close_snapshot *snap,
                      struct close_counts *ret, uint64_t *since_usec) {
        struct unit_props p = { 0 };
        uint64_t *ids = NULL;
        ssize_t n = 0;
        /* InactiveExitTimestamp: the unit's last activation. */
        int r = load_unit_props(bus, budget, unit, true, &p);

        if (r >= 0 && !p.cgroup[0])
                r = -ESRCH;
        if (r >= 0 && (n = unit_cgroup_id_list(p.cgroup, &ids)) < 0)
                r = n == -ENOENT ? -ESRCH : (int) n;
        if (r >= 0) {
                uint64_t since = snap->since * 1000000ULL;
                close_snapshot_sum(snap, ids, (size_t) n, ret);
                *since_usec = p.activation_usec > since ? p.activation_usec : since;
        }
        free(ids);
        unit_props_done(&p);
        return r < 0 ? r : 0;
}
