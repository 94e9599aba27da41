/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dropin.h"
#include "dropin-history.h"
#include "strv.h"
#include "unit-name.h"

/* FNV-1a, 64 bits: tells changed from unchanged, nothing more. */
static uint64_t hash_file(int dirfd, const char *path, bool *ok) {
        uint64_t h = 14695981039346656037ULL;
        char buf[4096];
        ssize_t n;
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        *ok = fd >= 0;
        if (fd < 0)
                return 0;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                for (ssize_t i = 0; i < n; i++)
                        h = (h ^ (unsigned char) buf[i]) * 1099511628211ULL;
        *ok = n == 0;
        close(fd);
        return h;
}

static int cmp_record(const void *a, const void *b) {
        return strcmp(((const struct dropin_record *) a)->name, ((const struct dropin_record *) b)->name);
}

static const struct dropin_record *find(const struct dropin_history *h, const char *name) {
        struct dropin_record key = { .name = (char *) name };
        return h->n ? bsearch(&key, h->v, h->n, sizeof(key), cmp_record) : NULL;
}

int dropin_history_scan(struct dropin_history *h, const char *generator_dir, char ***changed) {
        struct dropin_record *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d = opendir(generator_dir);

        /* systemd removes a generator directory the generators left empty:
         * no directory is no drop-in, every one recorded is gone. */
        if (!d && errno != ENOENT)
                return -errno;
        while (d && (de = readdir(d))) {
                char name[UNIT_NAME_MAX + 1], path[UNIT_NAME_MAX + 64];
                size_t len = strlen(de->d_name);
                const struct dropin_record *old;
                bool ok;
                uint64_t hash;

                if (len < 3 || len - 2 > UNIT_NAME_MAX || strcmp(de->d_name + len - 2, ".d") != 0)
                        continue;
                memcpy(name, de->d_name, len - 2);
                name[len - 2] = '\0';
                if (!unit_name_is_valid_service(name))
                        continue;
                snprintf(path, sizeof(path), "%s/" KA_DROPIN_NAME, de->d_name);
                hash = hash_file(dirfd(d), path, &ok);
                if (!ok)
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        struct dropin_record *grown = realloc(v, ncap * sizeof(*grown));
                        if (!grown)
                                goto nomem;
                        v = grown;
                        cap = ncap;
                }
                old = find(h, name);
                v[n] = (struct dropin_record) { .name = strdup(name), .hash = hash };
                if (!v[n].name)
                        goto nomem;
                if (h->scanned && changed && !(old && old->hash == hash))
                        (void) strv_push_dup(changed, name);
                n++;
        }
        if (d)
                closedir(d);
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_record);
        /* Gone: their units are unmanaged now. */
        if (h->scanned && changed) {
                struct dropin_history now = { .v = v, .n = n };
                for (size_t i = 0; i < h->n; i++)
                        if (!find(&now, h->v[i].name))
                                (void) strv_push_dup(changed, h->v[i].name);
        }
        dropin_history_done(h);
        *h = (struct dropin_history) { .v = v, .n = n, .scanned = true };
        return 0;
nomem:
        closedir(d);
        for (size_t i = 0; i < n; i++)
                free(v[i].name);
        free(v);
        return -ENOMEM;
}

void dropin_history_done(struct dropin_history *h) {
        for (size_t i = 0; i < h->n; i++)
                free(h->v[i].name);
        free(h->v);
        *h = (struct dropin_history) { 0 };
}
