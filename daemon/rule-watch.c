/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rule-watch.h"
#include "strv.h"

#define DIR_EVENTS (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
                    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* Events that say a watched directory itself went away. */
#define SELF_EVENTS (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

/* One inotify watch: a rule directory (every event in it counts), or the
 * directory above a rule directory that may not exist yet or may be a
 * symbolic link (only events for the next step's name count: in /run, the
 * name keepalived.d, not the rest of /run's traffic). */
struct watch_entry {
        int wd;
        bool whole;
        char name[NAME_MAX + 1];
};

struct rule_watch {
        sd_event *event;
        sd_event_source *io, *timer;
        int fd;
        char **dirs;
        struct watch_entry *entries;
        size_t n_entries;
        uint64_t settle_usec, max_settle_usec;
        uint64_t first_usec; /* the first event of the burst not acted on yet; 0: none */
        rule_watch_handler_t handler;
        void *userdata;
};

static bool entries_have_wd(const struct watch_entry *e, size_t n, int wd) {
        for (size_t i = 0; i < n; i++)
                if (e[i].wd == wd)
                        return true;
        return false;
}

/* Watches each rule directory (through a symbolic link: its target) and the
 * directory above it (for the name: the directory or the link created,
 * removed, renamed or replaced), or, when it does not exist yet, its
 * closest existing ancestor for the name of the next step. Run again after
 * every change, since directories come and go and links change targets;
 * the watches no longer wanted are removed. Returns true when a rule
 * directory appeared while its watches were being set: set them again. */
static bool add_watches(struct rule_watch *w) {
        size_t n_dirs = strv_length(w->dirs), n = 0;
        struct watch_entry *entries = calloc(2 * n_dirs + 1, sizeof(*entries));
        bool raced = false;

        if (!entries)
                return false; /* keep the old ones */
        for (char **d = w->dirs; d && *d; d++) {
                char path[4096];
                struct stat st;
                bool watched;
                int wd;
                snprintf(path, sizeof(path), "%s", *d);
                wd = inotify_add_watch(w->fd, path, DIR_EVENTS);
                watched = wd >= 0;
                if (watched)
                        entries[n++] = (struct watch_entry) { .wd = wd, .whole = true };
                for (;;) {
                        char *slash = strrchr(path, '/'), name[NAME_MAX + 1];
                        if (!slash || !slash[1] || strlen(slash + 1) > NAME_MAX)
                                break;
                        snprintf(name, sizeof(name), "%s", slash + 1);
                        if (slash == path)
                                slash++; /* the root directory itself */
                        *slash = '\0';
                        wd = inotify_add_watch(w->fd, path, DIR_EVENTS);
                        if (wd >= 0) {
                                entries[n] = (struct watch_entry) { .wd = wd };
                                memcpy(entries[n].name, name, sizeof(name));
                                n++;
                                break;
                        }
                        if ((errno != ENOENT && errno != ENOTDIR) || strcmp(path, "/") == 0)
                                break;
                }
                /* Created between the two calls: its creation was not seen. */
                if (!watched && stat(*d, &st) == 0 && S_ISDIR(st.st_mode))
                        raced = true;
        }
        /* A link swapped to a new target: the old target's watch goes. */
        for (size_t i = 0; i < w->n_entries; i++)
                if (!entries_have_wd(entries, n, w->entries[i].wd) &&
                    !entries_have_wd(w->entries, i, w->entries[i].wd))
                        (void) inotify_rm_watch(w->fd, w->entries[i].wd);
        free(w->entries);
        w->entries = entries;
        w->n_entries = n;
        return raced;
}

/* Whether an event may change the rules (or what must be watched). */
static bool event_matters(struct rule_watch *w, const struct inotify_event *ev) {
        if (ev->mask & IN_Q_OVERFLOW)
                return true; /* events lost: any may have mattered */
        for (size_t i = 0; i < w->n_entries; i++) {
                const struct watch_entry *e = &w->entries[i];
                if (e->wd != ev->wd)
                        continue;
                if (e->whole || (ev->mask & SELF_EVENTS))
                        return true;
                if (ev->len > 0 && strcmp(ev->name, e->name) == 0)
                        return true;
        }
        /* Other names in a parent, or a watch removed by add_watches (its
         * IN_IGNORED). */
        return false;
}

static int arm(struct rule_watch *w);
static int on_settled(sd_event_source *s, uint64_t usec, void *userdata);

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct rule_watch *w = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool matters = false;
        ssize_t n;
        (void) s;
        (void) revents;

        /* Drain; which rule changed does not matter (the whole set is
         * re-read), whether anything did does. */
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        matters = matters || event_matters(w, ev);
                        p += sizeof(*ev) + ev->len;
                }
        return matters ? arm(w) : 0;
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        struct rule_watch *w = userdata;
        (void) s;
        (void) usec;
        w->first_usec = 0;
        if (add_watches(w))
                (void) arm(w);
        w->handler(w->userdata);
        return 0;
}

/* An event that matters: (re)sets the settle timer. */
static int arm(struct rule_watch *w) {
        uint64_t now, deadline;

        if (sd_event_now(w->event, CLOCK_MONOTONIC, &now) < 0)
                return 0;
        /* Every event pushes the deadline back, to act once the burst has
         * settled, but not past max_settle_usec after the burst's first
         * event: events that never stop do not hold a change back. */
        if (w->first_usec == 0)
                w->first_usec = now;
        deadline = now + w->settle_usec;
        if (w->max_settle_usec > 0 && deadline > w->first_usec + w->max_settle_usec)
                deadline = w->first_usec + w->max_settle_usec;
        if (w->timer) {
                (void) sd_event_source_set_time(w->timer, deadline);
                return sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time(w->event, &w->timer, CLOCK_MONOTONIC, deadline, 0, on_settled, w);
}

int rule_watch_new(sd_event *event, char *const *dirs, uint64_t settle_usec, uint64_t max_settle_usec,
                   rule_watch_handler_t handler, void *userdata, struct rule_watch **ret) {
        struct rule_watch *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(event);
        w->settle_usec = settle_usec;
        w->max_settle_usec = max_settle_usec;
        w->handler = handler;
        w->userdata = userdata;
        w->dirs = strv_copy(dirs);
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (!w->dirs || w->fd < 0) {
                r = w->fd < 0 ? -errno : -ENOMEM;
                rule_watch_free(w);
                return r;
        }
        r = sd_event_add_io(event, &w->io, w->fd, EPOLLIN, on_inotify, w);
        if (r >= 0 && add_watches(w))
                r = arm(w);
        if (r < 0) {
                rule_watch_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

struct rule_watch *rule_watch_free(struct rule_watch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->timer);
        if (w->fd >= 0)
                close(w->fd);
        strv_free(w->dirs);
        free(w->entries);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}
