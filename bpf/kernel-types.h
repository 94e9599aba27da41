/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel structures the iterators (sockets.bpf.c, closes.bpf.c) both
 * read, as CO-RE sees them: the fields used only, relocated by libbpf
 * against the running kernel's BTF (no vmlinux.h: one kernel's full
 * headers would pin the build to it). A structure one object needs with
 * more fields is declared there, whole. */

#define CORE __attribute__((preserve_access_index))

struct seq_file;
struct bpf_iter_meta { struct seq_file *seq; __u64 session_id; __u64 seq_num; } CORE;
struct kernfs_node { __u64 id; } CORE;
struct cgroup { struct kernfs_node *kn; } CORE;
