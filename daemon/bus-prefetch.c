/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-prefetch.h"
#include "systemd-cache.h"
#include "unit-check.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_MANAGER_PATH "/org/freedesktop/systemd1"

struct prefetch_entry {
        char *path, *arg;
        const char *member; /* "LoadUnit" or "GetAll" */
        sd_bus_slot *slot;
        sd_bus_message *reply;
        struct bus_prefetch *owner;
};

struct bus_prefetch {
        sd_bus *bus;
        struct prefetch_entry *v;
        size_t n;
        size_t pending;
};

struct bus_prefetch *bus_prefetch_active;

int bus_prefetch_new(struct bus_prefetch **ret) {
        struct bus_prefetch *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        if ((r = sd_bus_open_system(&p->bus)) < 0) {
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

static void entry_done(struct prefetch_entry *e) {
        e->slot = sd_bus_slot_unref(e->slot);
        e->reply = sd_bus_message_unref(e->reply);
        free(e->path);
        free(e->arg);
        e->path = e->arg = NULL;
}

void bus_prefetch_clear(struct bus_prefetch *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                entry_done(&p->v[i]);
        free(p->v);
        p->v = NULL;
        p->n = p->pending = 0;
        /* Late answers to dropped calls: read and discarded. */
        while (sd_bus_process(p->bus, NULL) > 0)
                ;
}

struct bus_prefetch *bus_prefetch_free(struct bus_prefetch *p) {
        if (!p)
                return NULL;
        bus_prefetch_clear(p);
        sd_bus_flush_close_unref(p->bus);
        free(p);
        return NULL;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct prefetch_entry *e = userdata;
        (void) error;
        e->reply = sd_bus_message_ref(m);
        e->slot = sd_bus_slot_unref(e->slot);
        e->owner->pending--;
        return 1;
}

static void send_call(struct bus_prefetch *p, const char *path, const char *iface, const char *member,
                      const char *arg) {
        struct prefetch_entry *e = &p->v[p->n];

        *e = (struct prefetch_entry) { .member = member, .owner = p };
        if (!(e->path = strdup(path)) || !(e->arg = strdup(arg)) ||
            sd_bus_call_method_async(p->bus, &e->slot, SD_DEST, path, iface, member, on_reply, e, "s", arg) < 0) {
                entry_done(e);
                return;
        }
        p->n++;
        p->pending++;
}

void bus_prefetch_units(struct bus_prefetch *p, char **units, size_t n, uint64_t deadline_usec,
                        struct systemd_cache *cached) {
        bus_prefetch_clear(p);
        if (!p || n == 0 || !(p->v = calloc(n * 3, sizeof(*p->v))))
                return;
        for (size_t i = 0; i < n; i++) {
                char *opath = NULL;
                size_t len = strlen(units[i]);
                if (len >= 9 && strcmp(units[i] + len - 9, "@.service") == 0)
                        continue; /* a template: not a unit systemd loads */
                if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", units[i], &opath) < 0)
                        continue;
                /* Kept since systemd last said it changed: nothing to ask. */
                if (systemd_cache_has_all(cached, opath)) {
                        free(opath);
                        continue;
                }
                /* In this order, on one connection: systemd has loaded the
                 * unit when the GetAll calls on its path arrive. */
                send_call(p, SD_MANAGER_PATH, "org.freedesktop.systemd1.Manager", "LoadUnit", units[i]);
                send_call(p, opath, "org.freedesktop.DBus.Properties", "GetAll", "org.freedesktop.systemd1.Unit");
                send_call(p, opath, "org.freedesktop.DBus.Properties", "GetAll", "org.freedesktop.systemd1.Service");
                free(opath);
        }
        while (p->pending > 0) {
                uint64_t now;
                int r = sd_bus_process(p->bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                if ((now = monotonic_usec()) >= deadline_usec)
                        break;
                if (sd_bus_wait(p->bus, deadline_usec - now) < 0)
                        break;
        }
}

int bus_prefetch_take(struct bus_prefetch *p, const char *path, const char *member, const char *arg,
                      sd_bus_message **reply, sd_bus_error *error, int *ret_r) {
        for (size_t i = 0; p && reply && i < p->n; i++) {
                struct prefetch_entry *e = &p->v[i];
                if (!e->reply || strcmp(e->member, member) != 0 || strcmp(e->path, path) != 0 ||
                    strcmp(e->arg, arg) != 0)
                        continue;
                /* dbus-daemon's own refusal (too many calls in progress,
                 * say): not systemd's answer; asked again, one call. */
                if (sd_bus_message_is_method_error(e->reply, "org.freedesktop.DBus.Error.LimitsExceeded"))
                        return 0;
                if (sd_bus_message_is_method_error(e->reply, NULL)) {
                        *ret_r = -sd_bus_message_get_errno(e->reply);
                        if (*ret_r == 0)
                                *ret_r = -EIO;
                        (void) sd_bus_error_copy(error, sd_bus_message_get_error(e->reply));
                } else {
                        (void) sd_bus_message_rewind(e->reply, true);
                        *reply = sd_bus_message_ref(e->reply);
                        *ret_r = 1;
                }
                entry_done(e);
                return 1;
        }
        return 0;
}
