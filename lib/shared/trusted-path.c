/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trusted-path.h"

#define LINKS_MAX 40 /* the kernel's limit too */

static int why_printf(char **ret_why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why_printf(char **ret_why, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret_why, fmt, ap) < 0)
                *ret_why = NULL;
        va_end(ap);
        return -EPERM;
}

/* Only root can change what this directory holds. */
static bool dir_is_roots(const struct stat *st, bool strict) {
        if (st->st_uid != 0)
                return false;
        if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
                return true;
        return (st->st_mode & S_ISVTX) && !strict;
}

static int refuse_dir(char **ret_why, const char *shown, const struct stat *st) {
        return why_printf(ret_why, "the directory %s can be changed by someone other than root (owner uid %u, mode %04o)",
                          shown, (unsigned) st->st_uid, (unsigned) (st->st_mode & 07777));
}

/* "a/b" + "/" + "c": the path walked so far, for messages. */
static int shown_append(char **shown, const char *comp) {
        char *n;
        if (asprintf(&n, "%s%s%s", *shown, strcmp(*shown, "/") == 0 || !**shown ? "" : "/", comp) < 0)
                return -ENOMEM;
        free(*shown);
        *shown = n;
        return 0;
}

int trusted_path_open(int dirfd, const char *path, unsigned flags, char **ret_why) {
        bool check = flags & TRUSTED_PATH_CHECK;
        char *rest = strdup(path), *shown = strdup(path[0] == '/' ? "/" : "");
        unsigned links = 0;
        size_t pos = 0;
        int cur, r;

        *ret_why = NULL;
        if (!rest || !shown) {
                r = -ENOMEM;
                goto fail_nocur;
        }
        if (path[0] == '/')
                cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        else if (dirfd == AT_FDCWD)
                cur = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        else
                cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0) {
                r = -errno;
                goto fail_nocur;
        }
        if (path[0] == '/' && check) {
                struct stat st;
                if (fstat(cur, &st) < 0) {
                        r = -errno;
                        goto fail;
                }
                if (!dir_is_roots(&st, false)) {
                        r = refuse_dir(ret_why, "/", &st);
                        goto fail;
                }
        }
        for (;;) {
                struct stat st;
                char comp[256];
                size_t len;
                bool last;
                int fd;

                while (rest[pos] == '/')
                        pos++;
                if (!rest[pos])
                        break; /* cur is what path names */
                len = strcspn(rest + pos, "/");
                if (len >= sizeof(comp)) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                memcpy(comp, rest + pos, len);
                comp[len] = '\0';
                pos += len;
                last = rest[pos + strspn(rest + pos, "/")] == '\0';
                if (strcmp(comp, ".") == 0)
                        continue;
                fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        r = -errno;
                        if (fd >= 0)
                                close(fd);
                        goto fail;
                }
                if ((r = shown_append(&shown, comp)) < 0) {
                        close(fd);
                        goto fail;
                }
                if (S_ISLNK(st.st_mode)) {
                        char target[4096], *n;
                        ssize_t tl = readlinkat(fd, "", target, sizeof(target) - 1);
                        close(fd);
                        if (check && st.st_uid != 0) {
                                r = why_printf(ret_why, "the symlink %s is owned by uid %u, not root", shown,
                                               (unsigned) st.st_uid);
                                goto fail;
                        }
                        if (++links > LINKS_MAX) {
                                r = -ELOOP;
                                goto fail;
                        }
                        if (tl < 0) {
                                r = -errno;
                                goto fail;
                        }
                        target[tl] = '\0';
                        /* The target, then what was left after the link. */
                        if (asprintf(&n, "%s/%s", target, rest + pos) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        free(rest);
                        rest = n;
                        pos = 0;
                        if (target[0] == '/') {
                                close(cur);
                                cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (cur < 0) {
                                        r = -errno;
                                        goto fail_nocur;
                                }
                                free(shown);
                                shown = strdup("/");
                                if (!shown) {
                                        r = -ENOMEM;
                                        goto fail;
                                }
                        } else {
                                /* Relative: from the link's own directory. */
                                char *slash = strrchr(shown, '/');
                                if (slash)
                                        *(slash == shown ? slash + 1 : slash) = '\0';
                        }
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        /* ".." too: whatever directory a step lands in is checked. */
                        if (check && !dir_is_roots(&st, last && (flags & TRUSTED_PATH_STRICT_LAST))) {
                                r = refuse_dir(ret_why, shown, &st);
                                close(fd);
                                goto fail;
                        }
                        close(cur);
                        cur = fd;
                        continue;
                }
                /* A file (or a device, a FIFO: O_PATH never opened it). */
                if (!last) {
                        close(fd);
                        r = -ENOTDIR;
                        goto fail;
                }
                close(cur);
                cur = fd;
                break;
        }
        free(rest);
        free(shown);
        return cur;
fail:
        close(cur);
fail_nocur:
        free(rest);
        free(shown);
        return r;
}

int trusted_path_reopen(int path_fd) {
        char proc[64];
        int fd;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
        fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return fd < 0 ? -errno : fd;
}
