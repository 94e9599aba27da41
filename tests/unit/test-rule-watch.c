/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * daemon/rule-watch.c against a scratch tree: which events count (a rule
 * directory's, not its parent's other traffic), the bound on the settle
 * time, and a rule directory that is a symbolic link swapped to a new
 * target. Counts of handler calls, in real time with short timers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rule-watch.h"
#include "check.h"

#define SETTLE_USEC (100 * 1000ULL)
#define MAX_SETTLE_USEC (400 * 1000ULL)

static sd_event *event;
static unsigned calls;
static uint64_t first_call_usec;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void on_change(void *userdata) {
        (void) userdata;
        if (calls++ == 0)
                first_call_usec = now_usec();
}

/* Runs the event loop for usec. */
static void run_for(uint64_t usec) {
        uint64_t end = now_usec() + usec;
        for (uint64_t t = now_usec(); t < end; t = now_usec())
                (void) sd_event_run(event, end - t);
}

static void write_file(const char *path) {
        FILE *f = fopen(path, "w");
        if (!f) {
                fprintf(stderr, "cannot write %s: %m\n", path);
                exit(1);
        }
        fputs("x\n", f);
        fclose(f);
}

static char *join(const char *a, const char *b) {
        char *p;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                exit(1);
        return p;
}

/* /run/keepalived.d absent: /run is watched for it, its other files are
 * not ours; creating the directory is. */
static void test_filter(const char *top) {
        char *etc = join(top, "etc"), *etcd = join(top, "etc/keepalived.d"), *run = join(top, "run"),
             *rund = join(top, "run/keepalived.d"), *churn = join(top, "run/churn"),
             *rule = join(top, "run/keepalived.d/50-a.ini");
        char *dirs[] = { etcd, rund, NULL };
        struct rule_watch *w = NULL;

        mkdir(etc, 0755);
        mkdir(etcd, 0755);
        mkdir(run, 0755);
        calls = 0;
        CHECK(rule_watch_new(event, dirs, SETTLE_USEC, MAX_SETTLE_USEC, on_change, NULL, &w) == 0, "rule_watch_new");
        for (int i = 0; i < 10; i++) {
                write_file(churn);
                run_for(30 * 1000);
        }
        unlink(churn);
        run_for(300 * 1000);
        CHECK(calls == 0, "a file written in /run (not a rule directory) counted: %u call(s)", calls);

        mkdir(rund, 0755);
        run_for(300 * 1000);
        CHECK(calls == 1, "/run/keepalived.d created: %u call(s), want 1", calls);
        write_file(rule);
        run_for(300 * 1000);
        CHECK(calls == 2, "a rule written into the new /run/keepalived.d: %u call(s), want 2", calls);
        rule_watch_free(w);
        free(etc), free(etcd), free(run), free(rund), free(churn), free(rule);
}

/* Events that keep coming in a rule directory: the handler runs at most
 * MAX_SETTLE_USEC after the first, and again for the events after that. */
static void test_bound(const char *top) {
        char *etcd = join(top, "etc/keepalived.d"), *f = join(top, "etc/keepalived.d/churn");
        char *dirs[] = { etcd, NULL };
        struct rule_watch *w = NULL;
        uint64_t start;

        calls = 0;
        CHECK(rule_watch_new(event, dirs, SETTLE_USEC, MAX_SETTLE_USEC, on_change, NULL, &w) == 0, "rule_watch_new");
        start = now_usec();
        for (int i = 0; i < 50; i++) { /* 1.5 s, an event every 30 ms */
                write_file(f);
                run_for(30 * 1000);
        }
        CHECK(calls >= 2, "events every 30 ms for 1.5 s: %u call(s) while they came, want one every 0.4 s", calls);
        CHECK(calls == 0 || first_call_usec - start < MAX_SETTLE_USEC + 300 * 1000,
              "the first call came %llu ms after the first event, want about %llu",
              (unsigned long long) (first_call_usec - start) / 1000, (unsigned long long) MAX_SETTLE_USEC / 1000);
        unlink(f);
        run_for(300 * 1000);
        rule_watch_free(w);
        free(etcd), free(f);
}

/* /etc/keepalived.d -> /srv/rules-a swapped to /srv/rules-b (ln -sfn: a
 * new link renamed over the old): noticed, and then the new target is
 * watched, the old one no longer. */
static void test_symlink(const char *top) {
        char *srv = join(top, "srv"), *a = join(top, "srv/rules-a"), *b = join(top, "srv/rules-b"),
             *etc = join(top, "etc2"), *link = join(top, "etc2/keepalived.d"), *tmp = join(top, "etc2/.tmp"),
             *fa = join(top, "srv/rules-a/50-a.ini"), *fb = join(top, "srv/rules-b/50-b.ini");
        char *dirs[] = { link, NULL };
        struct rule_watch *w = NULL;

        mkdir(srv, 0755);
        mkdir(a, 0755);
        mkdir(b, 0755);
        mkdir(etc, 0755);
        CHECK(symlink(a, link) == 0, "symlink: %m");
        calls = 0;
        CHECK(rule_watch_new(event, dirs, SETTLE_USEC, MAX_SETTLE_USEC, on_change, NULL, &w) == 0, "rule_watch_new");
        write_file(fa);
        run_for(300 * 1000);
        CHECK(calls == 1, "a rule written into the link's first target: %u call(s), want 1", calls);

        CHECK(symlink(b, tmp) == 0 && rename(tmp, link) == 0, "swapping the link: %m");
        run_for(300 * 1000);
        CHECK(calls == 2, "the link swapped to a new target: %u call(s), want 2", calls);
        write_file(fb);
        run_for(300 * 1000);
        CHECK(calls == 3, "a rule written into the link's new target: %u call(s), want 3", calls);
        write_file(fa);
        run_for(300 * 1000);
        CHECK(calls == 3, "a file written into the link's old target counted: %u call(s), want 3", calls);

        /* ln -sfn as older coreutils do it: unlink, then symlink. */
        CHECK(unlink(link) == 0 && symlink(a, link) == 0, "re-creating the link: %m");
        run_for(300 * 1000);
        CHECK(calls == 4, "the link removed and created again: %u call(s), want 4", calls);
        write_file(fa);
        run_for(300 * 1000);
        CHECK(calls == 5, "a rule written into the link's target again: %u call(s), want 5", calls);
        rule_watch_free(w);
        free(srv), free(a), free(b), free(etc), free(link), free(tmp), free(fa), free(fb);
}

int main(void) {
        char top[] = "/tmp/test-rule-watch.XXXXXX";
        char cmd[128];

        if (!mkdtemp(top) || sd_event_new(&event) < 0) {
                perror("setup");
                return 1;
        }
        test_filter(top);
        test_bound(top);
        test_symlink(top);
        sd_event_unref(event);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", top);
        printf("%d check(s), %d failure(s)\n", checks, failures);
        return failures ? 1 : 0;
}
