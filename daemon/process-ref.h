/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A process named by number: the main PID comes from systemd, then its
 * /proc files are read, and in between it can exit and its number go to
 * another process. So tcpkeepalived holds it by a pidfd, checks that it is
 * in the unit's cgroup once held, and that it is still alive after the
 * reads (a live process keeps its number, a zombie too): then everything
 * read was its own.
 */

#include <stdbool.h>
#include <sys/types.h>

/* Is PID in cgroup (a unit's ControlGroup, or below it)? From /proc/PID/cgroup's
 * cgroup v2 line ("0::"), which hybrid systems have too. */
bool pid_in_cgroup(pid_t pid, const char *cgroup);

/* Is the process this pidfd holds still there (so its PID is still its own)?
 * Where a system call filter refuses the question, the answer is yes. */
bool pidfd_alive(int pidfd);
