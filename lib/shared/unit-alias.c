/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strv.h"
#include "unit-alias.h"
#include "unit-name.h"

void unit_aliases_init(struct unit_aliases *a) {
        *a = (struct unit_aliases) {};
}

void unit_aliases_done(struct unit_aliases *a) {
        strv_free(a->alias);
        strv_free(a->target);
        unit_aliases_init(a);
}

/* Names decided so far (an alias, or a plain file that takes its name). */
static int load_dir(struct unit_aliases *a, char ***seen, const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        int r = 0;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char link[4096], target[4096];
                const char *base;
                ssize_t n;

                if (de->d_name[0] == '.' || !unit_name_is_valid_service(de->d_name) ||
                    strv_contains(*seen, de->d_name))
                        continue;
                if (strv_push_dup(seen, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (snprintf(link, sizeof(link), "%s/%s", path, de->d_name) >= (int) sizeof(link))
                        continue;
                n = readlink(link, target, sizeof(target) - 1);
                if (n <= 0)
                        continue; /* a plain file */
                target[n] = '\0';
                if (strcmp(target, "/dev/null") == 0)
                        continue; /* masked */
                base = strrchr(target, '/');
                base = base ? base + 1 : target;
                if (strcmp(base, de->d_name) == 0 || !unit_name_is_valid_service(base))
                        continue;
                if (strv_push_dup(&a->alias, de->d_name) < 0 || strv_push_dup(&a->target, base) < 0) {
                        r = -ENOMEM;
                        break;
                }
                a->n++;
        }
        closedir(d);
        return r;
}

int unit_aliases_load(struct unit_aliases *a, const char *root, const char *const *dirs) {
        char **seen = NULL;
        int r = 0;

        for (size_t i = 0; r == 0 && dirs[i]; i++) {
                char path[4096];
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup |= strcmp(dirs[i], dirs[j]) == 0;
                if (dup || snprintf(path, sizeof(path), "%s%s", root ? root : "", dirs[i]) >= (int) sizeof(path))
                        continue;
                r = load_dir(a, &seen, path);
        }
        strv_free(seen);
        return r;
}

static const char *target_of(const struct unit_aliases *a, const char *name) {
        for (size_t i = 0; i < a->n; i++)
                if (strcmp(a->alias[i], name) == 0)
                        return a->target[i];
        return NULL;
}

const char *unit_aliases_resolve(const struct unit_aliases *a, const char *name) {
        const char *t = target_of(a, name), *next;

        /* A chain ends in a few steps; a loop is no alias at all. */
        for (int hops = 0; t && (next = target_of(a, t)); hops++) {
                if (hops >= 8)
                        return NULL;
                t = next;
        }
        return t && strcmp(t, name) != 0 ? t : NULL;
}

char **unit_aliases_names(const struct unit_aliases *a, const char *unit) {
        char **names = NULL;

        if (strv_push_dup(&names, unit) < 0)
                return NULL;
        for (size_t i = 0; i < a->n; i++) {
                const char *t = unit_aliases_resolve(a, a->alias[i]);
                if (t && strcmp(t, unit) == 0 && !strv_contains(names, a->alias[i]) &&
                    strv_push_dup(&names, a->alias[i]) < 0) {
                        strv_free(names);
                        return NULL;
                }
        }
        return names;
}
