/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading a BPF iterator that tcpkeepalive-bpf pinned (the sockets, the
 * close counters): each open(2) of the pin runs the iterator once, for
 * this reader, with no BPF privilege; the daemon only reads.
 */

#include <stddef.h>

/* All that one open(2) of path gives, into *ret (malloc'd; free it) and
 * *ret_len: a buffer of first bytes, doubled while more comes, up to max.
 * Returns 0, -errno, or -EFBIG when max bytes were read and more may follow. */
int iter_pin_read(const char *path, size_t first, size_t max, char **ret, size_t *ret_len);
