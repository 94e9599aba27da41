/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "rule-watch.h"
#include "strv.h"

#define DIR_EVENTS (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
                    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct rule_watch {
        sd_event *event;
        sd_event_source *io, *timer;
        int fd;
        char **dirs;
        uint64_t settle_usec;
        rule_watch_handler_t handler;
        void *userdata;
};

/* Watches each directory, or its closest existing parent when it does not
 * exist yet; run again after every change, since directories come and go. */
static void add_watches(struct rule_watch *w) {
        for (char **d = w->dirs; d && *d; d++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s", *d);
                while (inotify_add_watch(w->fd, path, DIR_EVENTS) < 0) {
                        char *slash = strrchr(path, '/');
                        if (errno != ENOENT || !slash || slash == path)
                                break;
                        *slash = '\0';
                }
        }
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        struct rule_watch *w = userdata;
        (void) s;
        (void) usec;
        add_watches(w);
        w->handler(w->userdata);
        return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct rule_watch *w = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        uint64_t now;
        (void) s;
        (void) revents;

        /* Drain; what changed does not matter, the whole set is re-read. */
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        if (sd_event_now(w->event, CLOCK_MONOTONIC, &now) < 0)
                return 0;
        /* Every event pushes the deadline: act once the burst has settled. */
        if (w->timer) {
                (void) sd_event_source_set_time(w->timer, now + w->settle_usec);
                return sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time(w->event, &w->timer, CLOCK_MONOTONIC, now + w->settle_usec, 0, on_settled, w);
}

int rule_watch_new(sd_event *event, char *const *dirs, uint64_t settle_usec, rule_watch_handler_t handler,
                   void *userdata, struct rule_watch **ret) {
        struct rule_watch *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(event);
        w->settle_usec = settle_usec;
        w->handler = handler;
        w->userdata = userdata;
        w->dirs = strv_copy(dirs);
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (!w->dirs || w->fd < 0) {
                r = w->fd < 0 ? -errno : -ENOMEM;
                rule_watch_free(w);
                return r;
        }
        add_watches(w);
        r = sd_event_add_io(event, &w->io, w->fd, EPOLLIN, on_inotify, w);
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
        sd_event_unref(w->event);
        free(w);
        return NULL;
}
