/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-unit-name: the names the BPF backend takes (services, scopes,
 * slices), the instance escaping the daemon uses to start
 * tcpkeepalive-apply@INSTANCE.service (compared with the table below,
 * which is what `systemd-escape` prints, and with systemd-escape itself
 * where it is installed), and the record tcpkeepalive-bpf writes for
 * tcpkeepalived (lib/shared/bpf-record.c): written, read back, and
 * refused when a field is not valid. Exits 1 naming every failed case.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf-record.h"
#include "unit-name.h"
#include "check.h"

/* What systemd-escape prints for each (systemd 252). */
static const struct { const char *name, *escaped; } escapes[] = {
        { "plain.service", "plain.service" },
        { "wk@1.service", "wk\\x401.service" },
        { "a-b.service", "a\\x2db.service" },
        { "x\\y.service", "x\\x5cy.service" },
        { "docker-0123abcd.scope", "docker\\x2d0123abcd.scope" },
        { "a/b.service", "a-b.service" },
        { ".hidden.service", "\\x2ehidden.service" },
        { "a:b_c.slice", "a:b_c.slice" },
};

static void test_escape(void) {
        bool have_tool = access("/usr/bin/systemd-escape", X_OK) == 0;
        char buf[256];

        for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
                CHECK(unit_name_escape_instance(escapes[i].name, buf, sizeof(buf)) == 0 &&
                              strcmp(buf, escapes[i].escaped) == 0,
                      "escape %s: got %s, want %s", escapes[i].name, buf, escapes[i].escaped);
                if (have_tool) {
                        char cmd[512], out[256] = "";
                        FILE *p;
                        /* The names above have no single quote. */
                        snprintf(cmd, sizeof(cmd), "/usr/bin/systemd-escape -- '%s'", escapes[i].name);
                        if ((p = popen(cmd, "r"))) {
                                if (fgets(out, sizeof(out), p))
                                        out[strcspn(out, "\n")] = '\0';
                                pclose(p);
                        }
                        CHECK(strcmp(out, buf) == 0, "escape %s: systemd-escape says %s, we %s", escapes[i].name,
                              out, buf);
                }
        }
        CHECK(unit_name_escape_instance("wk@1.service", buf, 5) == -ENOBUFS, "a short buffer");
        CHECK(unit_name_escape_instance("ab", buf, 3) == 0 && strcmp(buf, "ab") == 0, "an exact fit");
        CHECK(unit_name_escape_instance("@", buf, 4) == -ENOBUFS, "an escape that does not fit");
}

static void test_names(void) {
        static const char *const good[] = { "foo.service", "wk@1.service", "docker-0123abcd.scope",
                                            "machine.slice", "test-apps.slice", "run-u12.scope" };
        static const char *const bad[] = { "foo", "foo.socket", "wk@.service", "-.slice", "../x.scope",
                                           "a/b.scope", "docker-*.scope", ".scope", "x.scope\n", "" };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                CHECK(unit_name_is_valid_cgroup_unit(good[i]), "%s is a cgroup unit", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                CHECK(!unit_name_is_valid_cgroup_unit(bad[i]), "'%s' is no cgroup unit", bad[i]);
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                CHECK(unit_name_is_scope_or_slice(good[i]) == !strstr(good[i], ".service"),
                      "%s: a scope or slice, or a service", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                CHECK(!unit_name_is_scope_or_slice(bad[i]), "'%s' is no scope or slice", bad[i]);
        {
                /* Rules may name scopes and slices, by name or glob, as they are. */
                static const char *const kept[] = { "docker-*.scope", "machine.slice", "libpod-[0-9a-f]*.scope" };
                const char *why = NULL;
                for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
                        char *n = unit_glob_normalize(kept[i], &why);
                        CHECK(n && strcmp(n, kept[i]) == 0, "rule Unit=%s kept as it is", kept[i]);
                        free(n);
                }
                CHECK(!unit_glob_normalize("foo.socket", &why), "a socket unit is refused in a rule");
                CHECK(!unit_glob_normalize(".scope", &why), "a bare suffix is refused");
        }
        CHECK(!unit_name_is_valid_service("docker-1.scope"), "a scope is no service");
        CHECK(!unit_name_is_valid_service("machine.slice"), "a slice is no service");
}

static void write_file(const char *dir, const char *name, const char *text) {
        char path[512];
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if ((f = fopen(path, "w"))) {
                fputs(text, f);
                fclose(f);
        }
}

static void test_record(void) {
        char dir[] = "/tmp/test-unit-name-XXXXXX";
        struct bpf_record w = { .method = "bpf-live", .cgroup_id = 1234, .explicit_attach = true, .live = 3,
                                .own = 1, .applied_usec = 1700000000123456ULL },
                          r;
        static const char *const broken[] = {
                "method=bpf\ncgroup_id=12x\n",    /* not a number */
                "method=magic\n",                 /* no such method */
                "method=bpf\nattached=maybe\n",
                "method=bpf\nlive=-1\n",
                "method=bpf\nreason=a\x01z\n",    /* never written unescaped */
                "method=bpf\nnew_field=1\n",      /* not a field we write */
                "reason=no method\n",
        };
        int rc;

        if (!mkdtemp(dir)) {
                CHECK(false, "mkdtemp: %s", strerror(errno));
                return;
        }
        snprintf(w.reason, sizeof(w.reason), "applied live by tcpkeepalive-bpf apply\nsecond line");
        CHECK(bpf_record_write(dir, "wk@1.service", &w) == 0, "write a service's record");
        CHECK(bpf_record_write(dir, "docker-0123.scope", &w) == 0, "write a scope's record");
        CHECK(bpf_record_write(dir, "../x.service", &w) == -EINVAL, "a name that is not a unit's is refused");
        rc = bpf_record_read(dir, "wk@1.service", &r);
        if (geteuid() != 0)
                CHECK(rc == -EPERM, "not root: the record is not trusted (%d)", rc);
        else {
                CHECK(rc == 0, "read back: %s", strerror(-rc));
                CHECK(strcmp(r.method, "bpf-live") == 0 && r.cgroup_id == 1234 && r.explicit_attach && r.live == 3 &&
                              r.own == 1 && r.applied_usec == 1700000000123456ULL && r.written_usec > 0,
                      "fields read back: method=%s cgroup_id=%llu live=%llu own=%llu applied=%llu", r.method,
                      (unsigned long long) r.cgroup_id, (unsigned long long) r.live, (unsigned long long) r.own,
                      (unsigned long long) r.applied_usec);
                CHECK(strcmp(r.reason, "applied live by tcpkeepalive-bpf apply\\x0asecond line") == 0,
                      "the reason comes back escaped, one line: %s", r.reason);
                for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
                        write_file(dir, "broken.service", broken[i]);
                        rc = bpf_record_read(dir, "broken.service", &r);
                        CHECK(rc == -EINVAL && r.method[0] == '\0', "broken record %zu refused (%d)", i, rc);
                }
        }
        CHECK(bpf_record_read(dir, "none.service", &r) == -ENOENT, "no record");
        CHECK(bpf_record_read(dir, "../wk@1.service", &r) == -EINVAL, "a path is no unit name");
        CHECK(bpf_record_remove(dir, "wk@1.service") == 0 && bpf_record_remove(dir, "wk@1.service") == -ENOENT,
              "remove");
        (void) bpf_record_remove(dir, "docker-0123.scope");
        (void) bpf_record_remove(dir, "broken.service");
        (void) rmdir(dir);
}

int main(void) {
        test_escape();
        test_names();
        test_record();
        if (failures)
                printf("%d failures\n", failures);
        else
                printf("test-unit-name: all passed\n");
        return failures ? 1 : 0;
}
