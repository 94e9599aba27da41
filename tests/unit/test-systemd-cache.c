/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * daemon/systemd-cache.c: the keys of systemd's answers (LoadUnit and
 * GetUnit by name land on the path GetAll is asked on), store and hit
 * (rewound for every reader), errors refused, forget one unit, forget all,
 * and the bound (full: all dropped). The messages are built here as
 * systemd's answers look, on a bus that is never connected to anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "systemd-cache.h"
#include "check.h"

static sd_bus *bus;

/* A sealed method return holding types/value, as received. */
static sd_bus_message *answer(const char *types, const char *value) {
        sd_bus_message *m = NULL;
        if (sd_bus_message_new(bus, &m, SD_BUS_MESSAGE_METHOD_RETURN) < 0 ||
            sd_bus_message_append(m, types, value) < 0 || sd_bus_message_seal(m, 1, 0) < 0) {
                fprintf(stderr, "cannot build a message\n");
                exit(1);
        }
        return m;
}

/* What m holds ("" when unreadable); m is unreferenced. */
static const char *read_one(sd_bus_message *m, char type) {
        static char buf[256];
        const char *v = NULL;
        buf[0] = '\0';
        if (m && sd_bus_message_read_basic(m, type, &v) > 0)
                snprintf(buf, sizeof(buf), "%s", v);
        sd_bus_message_unref(m);
        return buf;
}

static void test_keys(void) {
        char *key = NULL, *key2 = NULL;
        enum systemd_cache_slot slot = _SYSTEMD_CACHE_SLOT_MAX;

        CHECK(systemd_cache_key("/org/freedesktop/systemd1", "LoadUnit", "web-1.service", &key, &slot) == 1 &&
                      slot == SYSTEMD_CACHE_LOAD && strcmp(key, "/org/freedesktop/systemd1/unit/web_2d1_2eservice") == 0,
              "LoadUnit's key: %s", key ? key : "(none)");
        CHECK(systemd_cache_key("/org/freedesktop/systemd1", "GetUnit", "web-1.service", &key2, &slot) == 1 &&
                      slot == SYSTEMD_CACHE_LOAD && strcmp(key, key2) == 0,
              "GetUnit's key is LoadUnit's");
        free(key2);
        key2 = NULL;
        CHECK(systemd_cache_key(key, "GetAll", "org.freedesktop.systemd1.Unit", &key2, &slot) == 1 &&
                      slot == SYSTEMD_CACHE_UNIT && strcmp(key, key2) == 0,
              "GetAll(Unit) on the unit's path: the same key");
        free(key2);
        key2 = NULL;
        CHECK(systemd_cache_key(key, "GetAll", "org.freedesktop.systemd1.Service", &key2, &slot) == 1 &&
                      slot == SYSTEMD_CACHE_SERVICE && strcmp(key, key2) == 0,
              "GetAll(Service) on the unit's path: the same key");
        free(key2);
        key2 = NULL;
        CHECK(systemd_cache_key(key, "GetAll", "org.freedesktop.systemd1.Socket", &key2, &slot) == 0 && !key2,
              "GetAll of another interface is not kept");
        CHECK(systemd_cache_key("/org/freedesktop/systemd1", "GetAll", "org.freedesktop.systemd1.Manager", &key2, &slot) ==
                              0 && !key2,
              "the Manager's properties are not kept");
        CHECK(systemd_cache_key("/org/freedesktop/systemd1", "ListUnitsByPatterns", "x", &key2, &slot) == 0 && !key2,
              "other methods are not kept");
        free(key);
}

static void test_store_hit_forget(void) {
        struct systemd_cache *c = NULL;
        const char *a = "/org/freedesktop/systemd1/unit/a_2eservice", *b = "/org/freedesktop/systemd1/unit/b_2eservice";
        sd_bus_message *m, *err = NULL;

        CHECK(systemd_cache_new(16, &c) == 0, "new");
        CHECK(!systemd_cache_get(c, a, SYSTEMD_CACHE_LOAD), "empty: no hit");

        m = answer("o", a);
        CHECK(systemd_cache_put(c, a, SYSTEMD_CACHE_LOAD, m) == 0, "store LoadUnit's answer");
        sd_bus_message_unref(m);
        m = answer("s", "active");
        CHECK(systemd_cache_put(c, a, SYSTEMD_CACHE_UNIT, m) == 0, "store GetAll(Unit)'s answer");
        sd_bus_message_unref(m);
        CHECK(!systemd_cache_has_all(c, a), "two of three answers: not all");
        m = answer("s", "1234");
        CHECK(systemd_cache_put(c, a, SYSTEMD_CACHE_SERVICE, m) == 0, "store GetAll(Service)'s answer");
        sd_bus_message_unref(m);
        CHECK(systemd_cache_has_all(c, a), "three answers: all");
        CHECK(systemd_cache_units(c) == 1, "one unit, %zu", systemd_cache_units(c));

        /* Every reader gets the answer from its start. */
        CHECK(strcmp(read_one(systemd_cache_get(c, a, SYSTEMD_CACHE_UNIT), 's'), "active") == 0, "hit");
        CHECK(strcmp(read_one(systemd_cache_get(c, a, SYSTEMD_CACHE_UNIT), 's'), "active") == 0, "hit again, rewound");
        CHECK(strcmp(read_one(systemd_cache_get(c, a, SYSTEMD_CACHE_LOAD), 'o'), a) == 0, "LoadUnit's hit");
        CHECK(!systemd_cache_get(c, b, SYSTEMD_CACHE_UNIT), "another unit: no hit");

        /* A newer answer replaces the kept one. */
        m = answer("s", "inactive");
        CHECK(systemd_cache_put(c, a, SYSTEMD_CACHE_UNIT, m) == 0, "store again");
        sd_bus_message_unref(m);
        CHECK(strcmp(read_one(systemd_cache_get(c, a, SYSTEMD_CACHE_UNIT), 's'), "inactive") == 0, "the newer answer");

        /* Errors are never kept: asked again each time. */
        CHECK(sd_bus_message_new(bus, &err, SD_BUS_MESSAGE_METHOD_ERROR) >= 0, "an error message");
        CHECK(systemd_cache_put(c, b, SYSTEMD_CACHE_LOAD, err) < 0, "an error is refused");
        sd_bus_message_unref(err);
        CHECK(!systemd_cache_get(c, b, SYSTEMD_CACHE_LOAD) && systemd_cache_units(c) == 1, "nothing kept for the error");

        m = answer("o", b);
        CHECK(systemd_cache_put(c, b, SYSTEMD_CACHE_LOAD, m) == 0, "store b");
        sd_bus_message_unref(m);
        CHECK(systemd_cache_forget(c, a), "forget a");
        CHECK(!systemd_cache_forget(c, a), "a forgotten already");
        CHECK(!systemd_cache_get(c, a, SYSTEMD_CACHE_UNIT) && !systemd_cache_get(c, a, SYSTEMD_CACHE_LOAD) &&
                      !systemd_cache_has_all(c, a),
              "a's answers all gone");
        CHECK(strcmp(read_one(systemd_cache_get(c, b, SYSTEMD_CACHE_LOAD), 'o'), b) == 0, "b kept");
        systemd_cache_forget_all(c);
        CHECK(systemd_cache_units(c) == 0 && !systemd_cache_get(c, b, SYSTEMD_CACHE_LOAD), "forget all");
        c = systemd_cache_free(c);
}

static void test_bound(void) {
        struct systemd_cache *c = NULL;
        char key[128];

        CHECK(systemd_cache_new(100, &c) == 0, "new");
        for (int i = 0; i < 100; i++) {
                sd_bus_message *m = answer("s", "x");
                snprintf(key, sizeof(key), "/org/freedesktop/systemd1/unit/u%d", i);
                CHECK(systemd_cache_put(c, key, SYSTEMD_CACHE_UNIT, m) == 0, "store %s", key);
                sd_bus_message_unref(m);
        }
        CHECK(systemd_cache_units(c) == 100, "100 units kept, %zu", systemd_cache_units(c));
        {
                /* A kept unit's other answer: no new unit, nothing dropped. */
                sd_bus_message *m = answer("s", "y");
                CHECK(systemd_cache_put(c, "/org/freedesktop/systemd1/unit/u7", SYSTEMD_CACHE_SERVICE, m) == 0, "u7");
                sd_bus_message_unref(m);
                CHECK(systemd_cache_units(c) == 100 && systemd_cache_stats(c).dropped_full == 0, "still 100");
        }
        {
                sd_bus_message *m = answer("s", "z");
                CHECK(systemd_cache_put(c, "/org/freedesktop/systemd1/unit/u100", SYSTEMD_CACHE_UNIT, m) == 0, "u100");
                sd_bus_message_unref(m);
        }
        CHECK(systemd_cache_units(c) == 1 && systemd_cache_stats(c).dropped_full == 1,
              "the 101st unit: all dropped, it alone kept (%zu)", systemd_cache_units(c));
        CHECK(!systemd_cache_get(c, "/org/freedesktop/systemd1/unit/u0", SYSTEMD_CACHE_UNIT), "u0 dropped");
        CHECK(strcmp(read_one(systemd_cache_get(c, "/org/freedesktop/systemd1/unit/u100", SYSTEMD_CACHE_UNIT), 's'),
                     "z") == 0,
              "u100 kept");
        c = systemd_cache_free(c);
}

int main(void) {
        int fds[2];

        /* A bus that is started (messages can be built on it) and talks to
         * nobody: one end of a socket pair. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&bus) < 0 ||
            sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0) {
                fprintf(stderr, "cannot set up a bus for building messages\n");
                return 1;
        }
        test_keys();
        test_store_hit_forget();
        test_bound();
        /* Not flushed: the bus never finishes authenticating, a flush
         * would wait for that. */
        close(fds[1]);
        sd_bus_close_unref(bus);
        printf("%d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
