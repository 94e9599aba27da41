/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The record tcpkeepalive-bpf leaves for each unit it acted on, in
 * BPF_RECORD_DIR/UNIT, and that tcpkeepalived and tcpkeepalivectl read
 * (they need no BPF privilege to report what was done). One writer and
 * one reader, both here, so that the format cannot drift:
 *
 *   method=bpf|bpf-live|preload|error
 *   reason=TEXT            escaped (text_escape), one line
 *   cgroup_id=N            the cgroup the entry is stored under (0: none)
 *   attached=explicit|systemd
 *   live=N                 bpf-live: established connections the apply
 *                          pass gave the rule's values
 *   own=N                  bpf-live: connections left alone (Mode=default:
 *                          the program's own keepalive)
 *   applied_usec=N         bpf-live: CLOCK_REALTIME of the pass, in µs
 *
 * Only root writes these: a file owned by anyone else is ignored.
 */

#include <stdbool.h>
#include <stdint.h>

/* Where tcpkeepalive-bpf pins the BPF programs, their maps and the
 * iterators the daemon reads (bpf/sockets.h TKA_SOCKETS_PIN, bpf/closes.h):
 * the other half of the state the helper leaves for the daemon. */
#define KA_BPF_PIN_DIR "/sys/fs/bpf/tcpkeepalive"

#define BPF_RECORD_DIR "/run/tcpkeepalive/bpf"
/* tcpkeepalive-bpf apply's failures: a record (method=error, reason=why)
 * in BPF_APPLY_FAILED_DIR/UNIT when it could not give the running UNIT its
 * rule, removed when an apply succeeds or finds nothing to apply to. Apart
 * from BPF_RECORD_DIR/UNIT, which says what the unit's start did and must
 * outlive a failed apply. The daemon names the failure in the unit's state
 * ("pending-restart: ... applying it live failed: ..."). */
#define BPF_APPLY_FAILED_DIR "/run/tcpkeepalive/apply-failed"

struct bpf_record {
        char method[16];        /* bpf, bpf-live, preload (auto chose it) or error */
        char reason[256];
        uint64_t cgroup_id;
        bool explicit_attach;   /* attached=explicit: tcpkeepalive-bpf attached the programs */
        uint64_t live;          /* bpf-live only, else 0 */
        uint64_t own;
        uint64_t applied_usec;
        uint64_t written_usec;  /* the file's mtime, CLOCK_REALTIME (read only) */
};

/* A unit a record may be kept for: a service, a scope or a slice. */
bool bpf_record_unit_ok(const char *unit);

/* Writes dir/UNIT atomically (a temporary file renamed over it); dir NULL:
 * BPF_RECORD_DIR. Returns 0 or -errno (-EINVAL: not a unit name a record
 * may have, or a method that is none of the above). */
int bpf_record_write(const char *dir, const char *unit, const struct bpf_record *rec);

/* Reads dir/UNIT. Returns 0, -ENOENT when there is none, -EPERM when it is
 * not root's, -EINVAL when the name or a field is not valid (the whole
 * record is then ignored). */
int bpf_record_read(const char *dir, const char *unit, struct bpf_record *rec);

/* Removes dir/UNIT; 0 or -errno (-ENOENT when there was none). */
int bpf_record_remove(const char *dir, const char *unit);
