/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "systemd-cache.h"

#define UNIT_PATH_PREFIX "/org/freedesktop/systemd1/unit"
#define MANAGER_PATH "/org/freedesktop/systemd1"

struct cache_entry {
        char *key;
        sd_bus_message *m[_SYSTEMD_CACHE_SLOT_MAX];
        struct cache_entry *next;
};

struct systemd_cache {
        struct cache_entry **buckets;
        size_t n_buckets; /* a power of two */
        size_t n, max;
        struct systemd_cache_stats stats;
};

struct systemd_cache *systemd_cache_active;

int systemd_cache_new(size_t max_units, struct systemd_cache **ret) {
        struct systemd_cache *c = calloc(1, sizeof(*c));

        if (!c || max_units == 0) {
                free(c);
                return max_units == 0 ? -EINVAL : -ENOMEM;
        }
        /* About two entries a bucket when full. */
        c->n_buckets = 16;
        while (c->n_buckets < max_units / 2)
                c->n_buckets *= 2;
        if (!(c->buckets = calloc(c->n_buckets, sizeof(*c->buckets)))) {
                free(c);
                return -ENOMEM;
        }
        c->max = max_units;
        *ret = c;
        return 0;
}

static void entry_free(struct cache_entry *e) {
        for (int i = 0; i < _SYSTEMD_CACHE_SLOT_MAX; i++)
                sd_bus_message_unref(e->m[i]);
        free(e->key);
        free(e);
}

void systemd_cache_forget_all(struct systemd_cache *c) {
        if (!c)
                return;
        for (size_t b = 0; b < c->n_buckets; b++)
                while (c->buckets[b]) {
                        struct cache_entry *e = c->buckets[b];
                        c->buckets[b] = e->next;
                        entry_free(e);
                }
        c->n = 0;
}

struct systemd_cache *systemd_cache_free(struct systemd_cache *c) {
        if (!c)
                return NULL;
        systemd_cache_forget_all(c);
        free(c->buckets);
        free(c);
        return NULL;
}

int systemd_cache_key(const char *path, const char *member, const char *arg, char **ret_key,
                      enum systemd_cache_slot *ret_slot) {
        if (!path || !member || !arg)
                return 0;
        if (strcmp(path, MANAGER_PATH) == 0 && (strcmp(member, "LoadUnit") == 0 || strcmp(member, "GetUnit") == 0)) {
                /* The path systemd answers for a unit's own name (an alias
                 * is answered with its unit's path: unit_check keeps those
                 * answers out, see there). */
                int r = sd_bus_path_encode(UNIT_PATH_PREFIX, arg, ret_key);
                if (r < 0)
                        return r;
                *ret_slot = SYSTEMD_CACHE_LOAD;
                return 1;
        }
        if (strcmp(member, "GetAll") != 0 || strncmp(path, UNIT_PATH_PREFIX "/", strlen(UNIT_PATH_PREFIX) + 1) != 0)
                return 0;
        if (strcmp(arg, "org.freedesktop.systemd1.Unit") == 0)
                *ret_slot = SYSTEMD_CACHE_UNIT;
        else if (strcmp(arg, "org.freedesktop.systemd1.Service") == 0)
                *ret_slot = SYSTEMD_CACHE_SERVICE;
        else
                return 0;
        if (!(*ret_key = strdup(path)))
                return -ENOMEM;
        return 1;
}

static size_t bucket_of(const struct systemd_cache *c, const char *key) {
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *) key; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        return (size_t) (h & (c->n_buckets - 1));
}

static struct cache_entry **find(struct systemd_cache *c, const char *key) {
        struct cache_entry **e = &c->buckets[bucket_of(c, key)];
        while (*e && strcmp((*e)->key, key) != 0)
                e = &(*e)->next;
        return e;
}

sd_bus_message *systemd_cache_get(struct systemd_cache *c, const char *key, enum systemd_cache_slot slot) {
        struct cache_entry *e;

        if (!c || !key || slot >= _SYSTEMD_CACHE_SLOT_MAX || !(e = *find(c, key)) || !e->m[slot])
                return NULL;
        /* Read by an earlier caller to its end: from the start again. */
        if (sd_bus_message_rewind(e->m[slot], true) < 0)
                return NULL;
        return sd_bus_message_ref(e->m[slot]);
}

int systemd_cache_put(struct systemd_cache *c, const char *key, enum systemd_cache_slot slot, sd_bus_message *m) {
        struct cache_entry **pe, *e;

        if (!c || !key || !m || slot >= _SYSTEMD_CACHE_SLOT_MAX || sd_bus_message_is_method_error(m, NULL))
                return -EINVAL;
        pe = find(c, key);
        if (!*pe) {
                /* Full: everything goes, not the oldest entry. The cache is
                 * full only when more units are asked for than it holds,
                 * and ListUnits asks for them in the same order each time:
                 * dropping the oldest would drop exactly the unit asked for
                 * next (no hit at all, and a list to keep in order); after
                 * a drop of all, the units since then hit the next time. */
                if (c->n >= c->max) {
                        systemd_cache_forget_all(c);
                        c->stats.dropped_full++;
                        pe = find(c, key);
                }
                if (!(e = calloc(1, sizeof(*e))) || !(e->key = strdup(key))) {
                        free(e);
                        return -ENOMEM;
                }
                *pe = e;
                c->n++;
        }
        e = *pe;
        sd_bus_message_unref(e->m[slot]);
        e->m[slot] = sd_bus_message_ref(m);
        c->stats.stored++;
        return 0;
}

bool systemd_cache_has_all(struct systemd_cache *c, const char *key) {
        struct cache_entry *e;

        if (!c || !key || !(e = *find(c, key)))
                return false;
        for (int i = 0; i < _SYSTEMD_CACHE_SLOT_MAX; i++)
                if (!e->m[i])
                        return false;
        return true;
}

bool systemd_cache_forget(struct systemd_cache *c, const char *key) {
        struct cache_entry **pe, *e;

        if (!c || !key || !*(pe = find(c, key)))
                return false;
        e = *pe;
        *pe = e->next;
        entry_free(e);
        c->n--;
        return true;
}

size_t systemd_cache_units(const struct systemd_cache *c) {
        return c ? c->n : 0;
}

struct systemd_cache_stats systemd_cache_stats(const struct systemd_cache *c) {
        return c ? c->stats : (struct systemd_cache_stats) { 0 };
}

void systemd_cache_count(struct systemd_cache *c, bool hit) {
        if (!c)
                return;
        if (hit)
                c->stats.hits++;
        else
                c->stats.misses++;
}
