/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rule set: rule files read line by line (inih, through a reader of
 * our own that counts lines and refuses what inih would take silently),
 * checked for trust, layered as systemd layers its files (/etc over /run
 * over /usr/lib, /dev/null masks), and matched against unit names. What
 * each key means: rule-keys.c. Over 600 lines because reading, layering and
 * matching share the rule set's private state (its diags, the pattern
 * index); the matching is the next piece that could stand alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rule-parser.h"
#include "rules.h"
#include "safe-text.h"
#include "string-match.h"
#include "strv.h"
#include "trusted-path.h"
#include "unit-name.h"

#ifndef RULE_DIR_ETC
#define RULE_DIR_ETC "/etc/keepalived.d"
#endif
#ifndef RULE_DIR_LIB
#define RULE_DIR_LIB "/usr/lib/keepalived.d"
#endif

/* As systemd reads unit directories: /etc, /run, /usr/local/lib and
 * /usr/lib in every build (a --prefix=/usr package still reads the
 * admin's /usr/local/lib/keepalived.d), and a prefix of its own (/opt/...)
 * between /run and those. */
const char *const ka_rule_dirs[] = {
        RULE_DIR_ETC,
        "/run/keepalived.d",
#ifdef RULE_DIR_LIB_IS_OWN
        RULE_DIR_LIB,
#endif
        "/usr/local/lib/keepalived.d",
        "/usr/lib/keepalived.d",
        NULL,
};

/* Debian's libinih is built with a 200-byte line buffer; we read lines
 * ourselves (to count them) with room for more, and refuse what inih could
 * not hold instead of letting it split a line in two. */
#define READ_LINE_MAX 4096

void ka_params_init(struct ka_params *p) {
        *p = (struct ka_params) {
                .idle_sec = -1, .interval_sec = -1, .count = -1, .user_timeout_ms = -1,
                .mode = -1, .direction = -1, .restart = -1, .method = -1, .path_idle_timeout_sec = -1,
        };
}

void ka_params_done(struct ka_params *p) {
        strv_free(p->extra_preload);
        free(p->paths);
        strv_free(p->path_rules);
        ka_params_init(p);
}

/*
 * The path's idle timeout T is the one number an admin knows (the NAT's,
 * the load balancer's). Probes every 10 s (T/12, at least 1 s, below 120 s),
 * 3 of them; the first after idle = T - probing - 5% of T (at least 1 s),
 * rounded down to 10 s from 100 s on. So the path sees a packet before it
 * forgets the connection (idle < T), and a dead peer is found at idle +
 * interval x count, before T: the connection is closed before the path
 * would have dropped it silently. TCP_USER_TIMEOUT ends there too, so
 * unacknowledged data gives up no later than the probes do.
 */
int ka_path_timing(unsigned timeout_sec, int *idle, int *interval, int *count, int64_t *user_timeout_ms) {
        unsigned iv, probing, margin, id;

        if (timeout_sec < KA_PATH_TIMEOUT_MIN)
                return -ERANGE;
        iv = timeout_sec >= 120 ? 10 : timeout_sec / 12 ? timeout_sec / 12 : 1;
        probing = iv * 3;
        margin = timeout_sec / 20 ? timeout_sec / 20 : 1;
        id = timeout_sec > probing + margin ? timeout_sec - probing - margin : 1;
        if (id >= 100)
                id -= id % 10;
        if (id > KA_IDLE_MAX)
                id = KA_IDLE_MAX;
        *idle = (int) id;
        *interval = (int) iv;
        *count = 3;
        *user_timeout_ms = ((int64_t) id + probing) * 1000;
        return 0;
}

int ka_params_overlay(struct ka_params *a, const struct ka_params *b) {
        if (b->path_idle_timeout_sec >= 0) {
                a->path_idle_timeout_sec = b->path_idle_timeout_sec;
                (void) ka_path_timing((unsigned) b->path_idle_timeout_sec, &a->idle_sec, &a->interval_sec, &a->count,
                                      &a->user_timeout_ms);
                a->user_timeout_derived = true;
        }
        if (b->user_timeout_ms >= 0)
                a->user_timeout_derived = false;
        if (b->idle_sec >= 0) a->idle_sec = b->idle_sec;
        if (b->interval_sec >= 0) a->interval_sec = b->interval_sec;
        if (b->count >= 0) a->count = b->count;
        if (b->user_timeout_ms >= 0) a->user_timeout_ms = b->user_timeout_ms;
        if (b->mode >= 0) a->mode = b->mode;
        if (b->direction >= 0) a->direction = b->direction;
        if (b->restart >= 0) a->restart = b->restart;
        if (b->method >= 0) a->method = b->method;
        /* A derived user timeout ends where the probing ends, whichever
         * layer set IdleSec=, IntervalSec= or Count= (a rule's IdleSec=
         * over a PathIdleTimeoutSec= of defaults.conf too). */
        if (a->user_timeout_derived && a->idle_sec > 0 && a->interval_sec > 0 && a->count > 0) {
                int64_t ms = ((int64_t) a->idle_sec + (int64_t) a->interval_sec * a->count) * 1000;
                a->user_timeout_ms = ms > (int64_t) KA_USER_TIMEOUT_MAX ? (int64_t) KA_USER_TIMEOUT_MAX : ms;
        }
        if (b->extra_preload) {
                char **copy = strv_copy(b->extra_preload);
                if (!copy)
                        return -ENOMEM;
                strv_free(a->extra_preload);
                a->extra_preload = copy;
        }
        return 0;
}

void ka_ruleset_init(struct ka_ruleset *rs) {
        *rs = (struct ka_ruleset) {};
        ka_params_init(&rs->defaults);
}

static void rule_done(struct ka_rule *r) {
        free(r->path);
        free(r->name);
        strv_free(r->units);
        free(r->match);
        ka_params_done(&r->params);
}

void ka_ruleset_done(struct ka_ruleset *rs) {
        for (size_t i = 0; i < rs->n_rules; i++)
                rule_done(&rs->rules[i]);
        free(rs->rules);
        ka_params_done(&rs->defaults);
        free(rs->defaults_path);
        free(rs->root);
        strv_free(rs->masked);
        strv_free(rs->broken);
        for (size_t i = 0; i < rs->n_diags; i++) {
                free(rs->diags[i].path);
                free(rs->diags[i].key);
                free(rs->diags[i].value);
                free(rs->diags[i].message);
        }
        free(rs->diags);
        free(rs->patterns);
        ka_ruleset_init(rs);
}

/* A diag is printed to terminals, logs and D-Bus: a name with control
 * characters or bytes that are not UTF-8 is shown escaped. */
static char *shown(const char *s) {
        return text_is_printable(s) ? strdup(s) : text_escape(s);
}

/* The lists of masked and broken files are shown, never opened. */
static void push_shown(char ***list, const char *path) {
        char *s = shown(path);
        if (s && strv_push(list, s) < 0)
                free(s);
}

/* rule-parser.h */
void ka_ruleset_diag(struct ka_ruleset *rs, enum ka_diag_level level, const char *path, unsigned line,
                     const char *key_value, const char *fmt, ...) {
        struct ka_diag *d, *n;
        va_list ap;

        n = realloc(rs->diags, (rs->n_diags + 1) * sizeof(*n));
        if (!n)
                return; /* a lost message is better than a lost rule set */
        rs->diags = n;
        d = &rs->diags[rs->n_diags];
        *d = (struct ka_diag) { .level = level, .line = line, .path = shown(path) };
        if (key_value) {
                d->key = shown(key_value);
                d->value = shown(key_value + strlen(key_value) + 1);
        }
        va_start(ap, fmt);
        if (vasprintf(&d->message, fmt, ap) < 0)
                d->message = NULL;
        va_end(ap);
        if (d->message && !text_is_printable(d->message)) {
                char *m = text_escape(d->message);
                free(d->message);
                d->message = m;
        }
        rs->n_diags++;
        if (level == KA_DIAG_ERROR)
                rs->n_errors++;
}

void ka_diag_print(const struct ka_diag *d, void *file) {
        FILE *f = file;
        fprintf(f, "%s", d->path);
        if (d->line)
                fprintf(f, ":%u", d->line);
        fprintf(f, ": %s: ", d->level == KA_DIAG_ERROR ? "error" : "warning");
        if (d->key)
                fprintf(f, "%s=%s: ", d->key, d->value ? d->value : "");
        fprintf(f, "%s\n", d->message ? d->message : "(out of memory)");
}

char *ka_diag_format(const struct ka_diag *d) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        ka_diag_print(d, f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        text[strcspn(text, "\n")] = '\0';
        return text;
}

/* ---- parsing one file ------------------------------------------------------ */

static bool line_is_blank_or_comment(const char *s) {
        return !*s || *s == '#' || *s == ';' || *s == '\n';
}

/* inih's reader: counts lines, checks what inih would accept silently
 * (an over-long line, "key: value", junk), strips indentation (which inih
 * would take for a continuation line) and trailing comments. A bad line is
 * reported here and handed to inih as a comment. */
static char *read_line(char *out, int size, void *userdata) {
        struct parser *p = userdata;
        char buf[READ_LINE_MAX], *s, *e;
        size_t len;

        bool nul = false, too_long = false;
        int c = EOF;

        /* By hand, not fgets: a NUL byte must be seen, not end the line. */
        len = 0;
        while ((c = getc_unlocked(p->f)) != EOF && c != '\n') {
                if (c == '\0')
                        nul = true;
                if (len < sizeof(buf) - 2)
                        buf[len++] = (char) c;
                else
                        too_long = true;
        }
        if (c == EOF && len == 0 && !nul && !too_long)
                return NULL;
        buf[len] = '\0';
        p->line++;
        if (too_long) {
                P_ERROR(p, NULL, "line longer than %d characters", READ_LINE_MAX - 2);
                goto as_comment;
        }
        if (nul) {
                P_ERROR(p, NULL, "NUL byte in the line (a binary file?)");
                goto as_comment;
        }
        if (len > 0 && buf[len - 1] == '\r') /* a CRLF file */
                buf[--len] = '\0';
        /* A value is copied into unit files, logs and terminals: a control
         * character there could end a line of a unit file or drive a
         * terminal. */
        if (!text_line_is_printable(buf)) {
                P_ERROR(p, NULL, "control character or invalid UTF-8 in the line");
                goto as_comment;
        }
        for (s = buf; *s == ' ' || *s == '\t'; s++)
                ;
        if (line_is_blank_or_comment(s))
                goto as_comment;
        /* "Key=value   # note": systemd has no inline comments, but people write them. */
        for (e = s; *e; e++)
                if ((*e == '#' || *e == ';') && e > s && (e[-1] == ' ' || e[-1] == '\t')) {
                        *e = '\0';
                        break;
                }
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                *--e = '\0';
        if (*s == '[') {
                size_t n = strlen(s);
                if (n < 3 || s[n - 1] != ']') {
                        P_ERROR(p, NULL, "malformed section header '%s'", s);
                        goto as_comment;
                }
        } else {
                char *eq = strchr(s, '=');
                if (!eq || eq == s || (strchr(s, ':') && strchr(s, ':') < eq)) {
                        P_ERROR(p, NULL, "expected Key=value, [Section] or a comment, got '%s'", s);
                        goto as_comment;
                }
        }
        if ((int) strlen(s) + 2 > size) {
                P_ERROR(p, NULL, "line longer than %d characters (split a long list over several lines of its key: "
                                "Unit=, Destination=, Port=, LocalPort= and ExtraPreload= add up)",
                        size - 2);
                goto as_comment;
        }
        snprintf(out, (size_t) size, "%s\n", s);
        return out;
as_comment:
        snprintf(out, (size_t) size, "#\n");
        return out;
}

/* Not cached: a test drops to nobody in a forked child. */
static bool running_as_root(void) {
        return geteuid() == 0;
}

/* A rule file can put a library into the processes of root's services:
 * only root may be able to write it. */
static int check_trust(struct ka_ruleset *rs, const char *path, const struct stat *st) {
        bool foreign = st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH));
        if (foreign && !running_as_root()) {
                /* verify run by a user: nothing to protect, but "ok" would
                 * promise what the generator, run as root, refuses. */
                ka_ruleset_diag(rs, KA_DIAG_WARNING, path, 0, NULL,
                     "the generator (run as root) refuses this file: someone other than root can write it "
                     "(owner uid %u, mode %04o)",
                     (unsigned) st->st_uid, (unsigned) (st->st_mode & 07777));
                return 0;
        }
        if (foreign) {
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL,
                     "refusing a file that someone other than root can write (owner uid %u, mode %04o)",
                     (unsigned) st->st_uid, (unsigned) (st->st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

/* A path rule sets the timing of its connections; what applies to the
 * unit as a whole (the library in its processes, force, direction, the
 * backend, restarts) stays with the unit's own rule. */
static void check_path_rule(struct parser *p) {
        const struct ka_params *pr = &p->rule.params;
        const char *unit_wide = pr->mode >= 0          ? "Mode="
                                : pr->direction >= 0   ? "Direction="
                                : pr->method >= 0      ? "Method="
                                : pr->restart >= 0     ? "Restart="
                                : pr->extra_preload    ? "ExtraPreload="
                                                       : NULL;
        if (!p->rule.match || !unit_wide)
                return;
        ka_ruleset_diag(p->rs, KA_DIAG_ERROR, p->path, 0, NULL,
             "%s applies to every connection of a unit, but this rule has Destination=, Port= or LocalPort= "
             "and sets the timing of its path only: set %s in a rule without them, or in " KA_DEFAULTS_FILE,
             unit_wide, unit_wide);
        p->errors++;
}

static void warn_semantics(struct parser *p, const struct ka_params *pr) {
        if (pr->path_idle_timeout_sec > 0 && pr->idle_sec >= pr->path_idle_timeout_sec)
                ka_ruleset_diag(p->rs, KA_DIAG_WARNING, p->path, 0, NULL,
                     "IdleSec=%ds is not below PathIdleTimeoutSec=%ds: the path forgets an idle connection before "
                     "keepalive sends its first probe",
                     pr->idle_sec, pr->path_idle_timeout_sec);
        /* tcp(7): TCP_USER_TIMEOUT overrides keepalive for deciding when to
         * give up, so a shorter one cuts the probing short. */
        if (pr->user_timeout_ms > 0 && pr->idle_sec > 0 && pr->interval_sec > 0 && pr->count > 0) {
                int64_t keepalive_ms = ((int64_t) pr->idle_sec + (int64_t) pr->interval_sec * pr->count) * 1000;
                if (pr->user_timeout_ms < keepalive_ms)
                        ka_ruleset_diag(p->rs, KA_DIAG_WARNING, p->path, 0, NULL,
                             "UserTimeoutSec=%lldms is shorter than IdleSec + IntervalSec x Count = %llds: "
                             "connections are dropped before keepalive has probed Count times",
                             (long long) pr->user_timeout_ms, (long long) keepalive_ms / 1000);
        }
}

/* Parses one file, given by an O_PATH descriptor of it (trusted_path_open);
 * on success the rule (or the defaults) joins the set. */
static int load_file(struct ka_ruleset *rs, int path_fd, const char *path, const char *name, enum file_kind kind) {
        struct parser p = { .rs = rs, .path = path, .kind = kind };
        struct stat st;
        int fd, r;

        ka_params_init(&p.rule.params);
        /* O_PATH opened nothing: a FIFO or a device is refused unopened. */
        if (fstat(path_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "not a regular file");
                r = -EINVAL;
                goto broken;
        }
        fd = trusted_path_reopen(path_fd);
        if (fd < 0) {
                r = fd;
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot open: %s", strerror(-r));
                goto broken;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot stat: %s", strerror(-r));
                close(fd);
                goto broken;
        }
        if ((r = check_trust(rs, path, &st)) < 0) {
                close(fd);
                goto broken;
        }
        /* The generator reads every rule file at each boot and reload, with
         * systemd's time limit on it: a log or a dump saved here by mistake
         * is refused, not parsed. */
        if (st.st_size > KA_RULE_FILE_MAX) {
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "%lld bytes: rule files are limited to %d bytes",
                     (long long) st.st_size, KA_RULE_FILE_MAX);
                close(fd);
                r = -EFBIG;
                goto broken;
        }
        p.f = fdopen(fd, "r"); /* already O_CLOEXEC: "e" would cost an fcntl */
        if (!p.f) {
                close(fd);
                r = -ENOMEM;
                goto broken;
        }
        r = ini_parse_stream(read_line, &p, rule_key_handle, &p);
        fclose(p.f);
        if (r < 0 || r == -2) {
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot parse: out of memory");
                p.errors++;
        } else if (r > 0 && p.errors == 0) {
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, (unsigned) r, NULL, "syntax error");
                p.errors++;
        }
        if (kind == FILE_RULE && !p.has_match) {
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "no [Match] Unit=: the rule would apply to nothing");
                p.errors++;
        }
        strv_free(p.seen);
        check_path_rule(&p);
        if (p.errors > 0) {
                r = -EINVAL;
                goto broken;
        }
        warn_semantics(&p, &p.rule.params);

        if (kind == FILE_DEFAULTS) {
                ka_params_done(&rs->defaults);
                rs->defaults = p.rule.params;
                free(rs->defaults_path);
                rs->defaults_path = strdup(path);
                return 0;
        }
        {
                struct ka_rule *n = realloc(rs->rules, (rs->n_rules + 1) * sizeof(*n));
                if (!n) {
                        r = -ENOMEM;
                        goto broken;
                }
                rs->rules = n;
                rs->indexed = false;
                p.rule.path = strdup(path);
                p.rule.name = strdup(name);
                rs->rules[rs->n_rules++] = p.rule;
        }
        return 0;
broken:
        rule_done(&p.rule);
        push_shown(&rs->broken, path);
        return r;
}

/* ---- layering -------------------------------------------------------------- */

/* The mask is a symlink to /dev/null: compare the device, not the text. */
static bool is_mask(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

static unsigned trust_flags(void) {
        return running_as_root() ? TRUSTED_PATH_CHECK : 0; /* verify run by a user: nothing to protect */
}

/* One entry: path_fd opened by trusted_path_open, or its -errno and why. A
 * refused file still takes its name: a broken file in /etc must not
 * silently let the one in /usr/lib through. */
static void load_entry(struct ka_ruleset *rs, int path_fd, char *why, const char *path, const char *name) {
        struct stat st;

        if (path_fd == -EPERM)
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "refusing the file: %s",
                     why ? why : "a step on its path can be changed by someone other than root");
        else if (path_fd == -ENOENT)
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "dangling symlink");
        else if (path_fd < 0)
                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "cannot open: %s", strerror(-path_fd));
        else if (fstat(path_fd, &st) == 0 && is_mask(&st)) {
                push_shown(&rs->masked, path);
                close(path_fd);
                return;
        } else {
                (void) load_file(rs, path_fd, path, name,
                                 strcmp(name, KA_DEFAULTS_FILE) == 0 ? FILE_DEFAULTS : FILE_RULE);
                close(path_fd);
                return;
        }
        push_shown(&rs->broken, path);
}

int ka_ruleset_load_dirs(struct ka_ruleset *rs, const char *root, const char *const *dirs) {
        char **names = NULL, **dirpaths = NULL, **distrust = NULL;
        int *dirfds = NULL;
        size_t n_dirs = 0;
        int r = 0;

        if (!root)
                root = "";
        free(rs->root);
        if (!(rs->root = strdup(root)))
                return -ENOMEM;
        for (size_t i = 0; dirs[i]; i++) {
                char *dp;
                if (asprintf(&dp, "%s%s", root, dirs[i]) < 0 || strv_push(&dirpaths, dp) < 0)
                        return -ENOMEM;
                n_dirs++;
        }
        /* Each directory, resolved step by step (O_PATH), and why it is not
         * root's alone (NULL: it is). */
        distrust = calloc(n_dirs + 1, sizeof(char *));
        dirfds = calloc(n_dirs + 1, sizeof(int));
        if (!distrust || !dirfds) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n_dirs; i++) {
                dirfds[i] = trusted_path_open(AT_FDCWD, dirpaths[i], trust_flags() | TRUSTED_PATH_STRICT_LAST,
                                              &distrust[i]);
                if (dirfds[i] == -EPERM && !distrust[i])
                        distrust[i] = strdup("a step on its path can be changed by someone other than root");
        }
        /* Every file name, once, in sorted order. */
        for (size_t i = 0; i < n_dirs; i++) {
                /* Names only (an untrusted directory's names still take their
                 * place); files are opened through dirfds[i] alone. */
                int lfd;
                DIR *d;
                struct dirent *de;
                if (dirfds[i] < 0 && !distrust[i]) {
                        if (dirfds[i] != -ENOENT)
                                ka_ruleset_diag(rs, KA_DIAG_WARNING, dirpaths[i], 0, NULL, "cannot read directory: %s",
                                     strerror(-dirfds[i]));
                        continue;
                }
                lfd = dirfds[i] >= 0 ? openat(dirfds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                     : open(dirpaths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                d = lfd >= 0 ? fdopendir(lfd) : NULL;
                if (!d) {
                        if (errno != ENOENT)
                                ka_ruleset_diag(rs, KA_DIAG_WARNING, dirpaths[i], 0, NULL, "cannot read directory: %s",
                                     strerror(errno));
                        if (lfd >= 0)
                                close(lfd);
                        continue;
                }
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        /* a dot file, ".ini" too, was skipped above */
                        if (!ends_with(de->d_name, KA_RULE_SUFFIX) && strcmp(de->d_name, KA_DEFAULTS_FILE) != 0)
                                continue;
                        if (strv_push_dup(&names, de->d_name) < 0) {
                                closedir(d);
                                r = -ENOMEM;
                                goto out;
                        }
                }
                closedir(d);
        }
        strv_sort_unique(names); /* each name once, in order */

        for (size_t n = 0; names && names[n]; n++) {
                for (size_t i = 0; i < n_dirs; i++) {
                        struct stat lst;
                        char *path, *why = NULL;
                        if (dirfds[i] < 0 && !distrust[i])
                                continue; /* absent */
                        if (asprintf(&path, "%s/%s", dirpaths[i], names[n]) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                        if (dirfds[i] >= 0 ? fstatat(dirfds[i], names[n], &lst, AT_SYMLINK_NOFOLLOW) < 0
                                           : lstat(path, &lst) < 0) {
                                free(path); /* not in this directory */
                                continue;
                        }
                        if (!text_is_printable(names[n])) {
                                /* Its name would be copied into drop-ins and logs. */
                                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL,
                                     "refusing a file whose name has a control character or is not UTF-8: rename it");
                                push_shown(&rs->broken, path);
                        } else if (distrust[i]) {
                                ka_ruleset_diag(rs, KA_DIAG_ERROR, path, 0, NULL, "refusing the file: %s", distrust[i]);
                                push_shown(&rs->broken, path);
                        } else {
                                int fd = trusted_path_open(dirfds[i], names[n], trust_flags(), &why);
                                load_entry(rs, fd, why, path, names[n]);
                                free(why);
                        }
                        free(path);
                        break; /* the highest-priority directory wins the name */
                }
        }
out:
        for (size_t i = 0; distrust && i < n_dirs; i++)
                free(distrust[i]);
        for (size_t i = 0; dirfds && i < n_dirs; i++)
                if (dirfds[i] >= 0)
                        close(dirfds[i]);
        free(distrust);
        free(dirfds);
        strv_free(names);
        strv_free(dirpaths);
        return r;
}

int ka_ruleset_load_files(struct ka_ruleset *rs, char *const *paths, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const char *slash = strrchr(paths[i], '/');
                const char *name = slash ? slash + 1 : paths[i];
                char *why = NULL;
                int fd;

                if (!text_is_printable(paths[i])) {
                        ka_ruleset_diag(rs, KA_DIAG_ERROR, paths[i], 0, NULL,
                             "refusing a path with a control character or that is not UTF-8: rename it");
                        push_shown(&rs->broken, paths[i]);
                        continue;
                }
                fd = trusted_path_open(AT_FDCWD, paths[i], trust_flags(), &why);
                if (fd == -ENOENT) {
                        ka_ruleset_diag(rs, KA_DIAG_ERROR, paths[i], 0, NULL, "cannot open: %s", strerror(ENOENT));
                        push_shown(&rs->broken, paths[i]);
                } else
                        load_entry(rs, fd, why, paths[i], name);
                free(why);
        }
        return 0;
}

/* ---- matching -------------------------------------------------------------- */

/* An instance "foo@bar.service" is reached through its template's drop-in
 * (systemd reads foo@.service.d/ for every instance): a pattern that names
 * or matches the template reaches the instance too. */
static bool instance_template(const char *unit, char *buf, unsigned size) {
        return unit_name_template(unit, buf, size) && strcmp(buf, unit) != 0;
}

bool ka_unit_matches(const char *glob, const char *unit) {
        char template[UNIT_NAME_MAX + 1];

        if (fnmatch(glob, unit, FNM_NOESCAPE) == 0)
                return true;
        return instance_template(unit, template, sizeof(template)) &&
               fnmatch(glob, template, FNM_NOESCAPE) == 0;
}

static int cmp_pattern(const void *a, const void *b) {
        const struct ka_pattern *x = a, *y = b;
        size_t n = x->prefix_len < y->prefix_len ? x->prefix_len : y->prefix_len;
        int c = strncmp(x->text, y->text, n);
        return c ? c : (x->prefix_len > y->prefix_len) - (x->prefix_len < y->prefix_len);
}

static int build_index(struct ka_ruleset *rs) {
        size_t n = 0;

        for (size_t i = 0; i < rs->n_rules; i++)
                n += strv_length(rs->rules[i].units);
        free(rs->patterns);
        rs->patterns = calloc(n ? n : 1, sizeof(*rs->patterns));
        if (!rs->patterns)
                return -ENOMEM;
        rs->n_patterns = 0;
        for (size_t i = 0; i < rs->n_rules; i++)
                for (char **g = rs->rules[i].units; g && *g && !rs->rules[i].match; g++)
                        rs->patterns[rs->n_patterns++] = (struct ka_pattern) {
                                .text = *g, .prefix_len = strcspn(*g, "*?["), .rule = i,
                        };
        qsort(rs->patterns, rs->n_patterns, sizeof(*rs->patterns), cmp_pattern);
        rs->indexed = true;
        return 0;
}

/* The first pattern whose literal prefix is >= unit[0, len) in index order. */
static size_t lower_bound(const struct ka_ruleset *rs, const char *unit, size_t len) {
        struct ka_pattern key = { .text = unit, .prefix_len = len };
        size_t lo = 0, hi = rs->n_patterns;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cmp_pattern(&rs->patterns[mid], &key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* The patterns that could match name (whose literal prefix begins it), each
 * tested against unit with ka_unit_matches(); the two latest matching rules
 * are kept in *best and *second. Idempotent: a pattern seen twice changes
 * nothing. */
static void match_candidates(const struct ka_ruleset *rs, const char *name, const char *unit, size_t *best,
                             size_t *second) {
        size_t len = strlen(name);

        /* A pattern can match only if its literal prefix is a prefix of the
         * name: look up each prefix length of the name. */
        for (size_t l = 0; l <= len; l++) {
                for (size_t i = lower_bound(rs, name, l); i < rs->n_patterns; i++) {
                        const struct ka_pattern *p = &rs->patterns[i];
                        if (p->prefix_len != l || strncmp(p->text, name, l) != 0)
                                break;
                        if (p->rule == *best || p->rule == *second || !ka_unit_matches(p->text, unit))
                                continue;
                        /* Keep the two latest rules: the winner and the one it overrides. */
                        if (*best == SIZE_MAX || p->rule > *best) {
                                *second = *best;
                                *best = p->rule;
                        } else if (*second == SIZE_MAX || p->rule > *second)
                                *second = p->rule;
                }
        }
}

const struct ka_rule *ka_ruleset_match(struct ka_ruleset *rs, const char *unit,
                                       const struct ka_rule **ret_overridden) {
        const char *names[] = { unit, NULL };
        return ka_ruleset_match_names(rs, names, ret_overridden);
}

const struct ka_rule *ka_ruleset_match_names(struct ka_ruleset *rs, const char *const *names,
                                             const struct ka_rule **ret_overridden) {
        size_t best = SIZE_MAX, second = SIZE_MAX;

        if (ret_overridden)
                *ret_overridden = NULL;
        for (size_t i = 0; names[i]; i++)
                if (unit_name_is_own(names[i]))
                        return NULL;
        if (!rs->indexed && build_index(rs) < 0)
                return NULL;
        for (size_t i = 0; names[i]; i++) {
                char template[UNIT_NAME_MAX + 1];
                match_candidates(rs, names[i], names[i], &best, &second);
                /* An instance: also the patterns that match its template. */
                if (instance_template(names[i], template, sizeof(template)))
                        match_candidates(rs, template, names[i], &best, &second);
        }
        if (ret_overridden)
                *ret_overridden = second == SIZE_MAX ? NULL : &rs->rules[second];
        return best == SIZE_MAX ? NULL : &rs->rules[best];
}

size_t ka_ruleset_match_paths(struct ka_ruleset *rs, const char *const *names, const struct ka_rule **ret,
                              size_t max) {
        size_t n = 0;

        for (size_t i = 0; names[i]; i++)
                if (unit_name_is_own(names[i]))
                        return 0;
        /* Few path rules per host: each is tried, in file name order. */
        for (size_t r = 0; r < rs->n_rules; r++) {
                bool hit = false;
                if (!rs->rules[r].match)
                        continue;
                for (char **g = rs->rules[r].units; g && *g && !hit; g++)
                        for (size_t i = 0; names[i] && !hit; i++)
                                hit = ka_unit_matches(*g, names[i]);
                if (!hit)
                        continue;
                /* Past max, the earliest give way: the file that sorts
                 * last wins, as between unit rules. */
                if (n >= max && max > 0)
                        memmove(ret, ret + 1, (max - 1) * sizeof(*ret));
                if (max > 0)
                        ret[n < max ? n : max - 1] = &rs->rules[r];
                n++;
        }
        return n;
}
