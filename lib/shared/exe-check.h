/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Can LD_PRELOAD reach a program? Not when it is statically linked (no
 * PT_INTERP: no dynamic loader to read LD_PRELOAD) and not when it is
 * setuid, setgid or has file capabilities (the loader ignores LD_PRELOAD
 * paths there), and not when the Go linker built it, dynamically linked or
 * not (a .go.buildinfo section or the "Go" build ID note): the Go runtime
 * makes its socket calls with raw system calls, never through libc, so the
 * library, though mapped, sees none. The daemon asks this of /proc/PID/exe,
 * tcpkeepalive-bpf of the unit's ExecStart= program, so that Method=auto
 * and the status agree.
 */

#include <stdbool.h>
#include <stddef.h>

/* true when the preload can work for the program at path; otherwise false
 * with the reason (one phrase naming name, or path when name is NULL) in
 * reason. A file that cannot be read counts as reachable: the status then
 * tells the truth from the running process. */
bool exe_preload_works(const char *path, const char *name, char *reason, size_t size);
