/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "iter-pin-read.h"

int iter_pin_read(const char *path, size_t first, size_t max, char **ret, size_t *ret_len) {
        size_t cap = first, len = 0;
        char *buf = malloc(cap);
        int fd, r = 0;

        *ret = NULL;
        *ret_len = 0;
        if (!buf)
                return -ENOMEM;
        if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
                r = -errno;
                free(buf);
                return r;
        }
        for (;;) {
                ssize_t got;
                if (len == cap) {
                        char *bigger = cap < max ? realloc(buf, cap * 2 < max ? cap * 2 : max) : NULL;
                        if (cap >= max) {
                                r = -EFBIG;
                                break;
                        }
                        if (!bigger) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = bigger;
                        cap = cap * 2 < max ? cap * 2 : max;
                }
                got = read(fd, buf + len, cap - len);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        r = -errno;
                        break;
                }
                if (got == 0)
                        break;
                len += (size_t) got;
        }
        close(fd);
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}
