/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Opening what root will trust. The generator runs as root and puts what a
 * rule file says into root's services, so a rule must be reached only
 * through steps that only root can change. realpath() and a check of the
 * result are not enough: a link in the middle of the chain, owned by a
 * user, can be repointed after the check. So the path is resolved here one
 * component at a time, each opened with O_PATH|O_NOFOLLOW (which never
 * opens a device or a FIFO) and checked on the descriptor itself:
 *   - a directory: owned by root, not writable by group or others unless
 *     sticky (others cannot rename or remove root's entries there);
 *   - a symbolic link: owned by root; its target is resolved the same way.
 * What the path names comes back as an O_PATH descriptor, to be checked and
 * reopened (trusted_path_reopen), so nothing can be swapped in between.
 */

enum {
        TRUSTED_PATH_CHECK = 1 << 0,      /* refuse steps others can change */
        TRUSTED_PATH_STRICT_LAST = 1 << 1, /* the last directory: not even sticky */
};

/*
 * Resolves path (relative to dirfd when relative; AT_FDCWD for the working
 * directory) with the checks of flags. Returns an O_PATH descriptor of what
 * it names, or -errno: -EPERM with *ret_why (malloc'ed) naming the step and
 * its owner and mode, -ENOENT, -ELOOP (over 40 links), -ENOTDIR, -ENOMEM.
 * dirfd itself is not checked: it was when it was opened here.
 */
int trusted_path_open(int dirfd, const char *path, unsigned flags, char **ret_why);

/* Opens an O_PATH descriptor's file for reading (through /proc/self/fd):
 * the same inode, whatever happened to its name since. -errno on error. */
int trusted_path_reopen(int path_fd);
