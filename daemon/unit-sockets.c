/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <linux/types.h>

#include "tcp-table.h"
#include "unit-sockets.h"
#include "../bpf/sockets.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct pid_list {
        pid_t *v;
        size_t n, cap;
};

static void pid_list_add(struct pid_list *l, pid_t pid) {
        if (pid <= 0)
                return;
        if (l->n == l->cap) {
                size_t ncap = l->cap ? l->cap * 2 : 16;
                pid_t *v = realloc(l->v, ncap * sizeof(*v));
                if (!v)
                        return;
                l->v = v;
                l->cap = ncap;
        }
        l->v[l->n++] = pid;
}

/* Every process of the unit: its cgroup and the cgroups below (a service's
 * forked workers), wherever the cgroup v2 tree is mounted. */
static void collect_cgroup_pids(const char *dir, unsigned depth, struct pid_list *pids) {
        char path[4096], line[32];
        FILE *f;
        DIR *d;
        struct dirent *de;

        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        if ((f = fopen(path, "re"))) {
                while (fgets(line, sizeof(line), f) && pids->n < 65536)
                        pid_list_add(pids, (pid_t) atoi(line));
                fclose(f);
        }
        if (depth >= 8 || !(d = opendir(dir)))
                return;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                        collect_cgroup_pids(path, depth + 1, pids);
                }
        closedir(d);
}

/* Every PID of the unit, from its cgroup, or just main_pid. */
static struct pid_list unit_pid_list(const char *cgroup, pid_t main_pid) {
        static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd" };
        struct pid_list pids = { 0 };
        char path[4096];

        for (size_t i = 0; cgroup && *cgroup && pids.n == 0 && i < sizeof(roots) / sizeof(roots[0]); i++) {
                snprintf(path, sizeof(path), "%s%s", roots[i], cgroup);
                if (access(path, F_OK) == 0)
                        collect_cgroup_pids(path, 0, &pids);
        }
        if (pids.n == 0 && main_pid > 0)
                pid_list_add(&pids, main_pid);
        return pids;
}

static int sockopt(int fd, int level, int name) {
        int v = -1;
        socklen_t l = sizeof(v);
        return getsockopt(fd, level, name, &v, &l) < 0 ? -1 : v;
}

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t size) {
        char host[INET6_ADDRSTRLEN] = "?";
        if (ss->ss_family == AF_INET) {
                const struct sockaddr_in *a = (const void *) ss;
                inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
                snprintf(buf, size, "%s:%u", host, ntohs(a->sin_port));
        } else if (ss->ss_family == AF_INET6) {
                const struct sockaddr_in6 *a = (const void *) ss;
                inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
                snprintf(buf, size, "[%s]:%u", host, ntohs(a->sin6_port));
        } else
                snprintf(buf, size, "-");
}

static const char *tcp_state_name(unsigned st) {
        static const char *const names[] = { "?", "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
                                             "time-wait", "close", "close-wait", "last-ack", "listen", "closing" };
        return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

/* The kernel's own values, through a duplicate of the process's fd (the
 * values a process asked for in its environment prove nothing). */
static void read_values(int dup_fd, unsigned flags, struct unit_socket *s) {
        struct sockaddr_storage a;
        socklen_t len;

        s->keepalive = sockopt(dup_fd, SOL_SOCKET, SO_KEEPALIVE);
        s->idle = sockopt(dup_fd, IPPROTO_TCP, TCP_KEEPIDLE);
        s->interval = sockopt(dup_fd, IPPROTO_TCP, TCP_KEEPINTVL);
        s->count = sockopt(dup_fd, IPPROTO_TCP, TCP_KEEPCNT);
        s->user_timeout = sockopt(dup_fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
        if (!(flags & UNIT_SOCKETS_ADDRESSES))
                return;
        len = sizeof(a);
        if (getsockname(dup_fd, (struct sockaddr *) &a, &len) == 0)
                format_addr(&a, s->local, sizeof(s->local));
        len = sizeof(a);
        if (getpeername(dup_fd, (struct sockaddr *) &a, &len) == 0)
                format_addr(&a, s->peer, sizeof(s->peer));
        else
                snprintf(s->peer, sizeof(s->peer), "-");
}

/* ---- through the BPF iterator: every socket of the system read once per request -- */

struct id_list {
        uint64_t *v;
        size_t n, cap;
};

static int id_list_add(struct id_list *l, uint64_t id) {
        if (l->n == l->cap) {
                size_t ncap = l->cap ? l->cap * 2 : 16;
                uint64_t *v = realloc(l->v, ncap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->cap = ncap;
        }
        l->v[l->n++] = id;
        return 0;
}

/* The ids of the cgroups below dir (a cgroup v2 directory's inode is its
 * id), as deep as collect_cgroup_pids() goes. */
static int collect_cgroup_ids(int dir_fd, unsigned depth, struct id_list *ids) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth >= 8 || !(d = fdopendir(dir_fd))) {
                close(dir_fd);
                return 0;
        }
        while (r >= 0 && (de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        struct stat st;
                        if (fd < 0)
                                continue;
                        if (fstat(fd, &st) < 0 || (r = id_list_add(ids, (uint64_t) st.st_ino)) < 0) {
                                close(fd);
                                continue;
                        }
                        r = collect_cgroup_ids(fd, depth + 1, ids);
                }
        closedir(d);
        return r;
}

/* The ids of the unit's cgroup and those below it; 0 when the cgroup is
 * not on a cgroup v2 hierarchy here (then the iterator's ids, always v2,
 * cannot be matched: -ENOENT). */
static int unit_cgroup_ids(const char *cgroup, struct id_list *ids) {
        static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        char path[4096];

        for (size_t i = 0; cgroup && *cgroup && i < sizeof(roots) / sizeof(roots[0]); i++) {
                struct statfs fs;
                struct stat st;
                int fd;
                if (statfs(roots[i], &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
                        continue;
                snprintf(path, sizeof(path), "%s%s", roots[i], cgroup);
                if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                        continue;
                if (fstat(fd, &st) < 0 || id_list_add(ids, (uint64_t) st.st_ino) < 0) {
                        close(fd);
                        return -ENOMEM;
                }
                return collect_cgroup_ids(fd, 0, ids);
        }
        return -ENOENT;
}

ssize_t unit_cgroup_id_list(const char *cgroup, uint64_t **ret) {
        struct id_list ids = { 0 };
        int r = unit_cgroup_ids(cgroup, &ids);
        if (r < 0) {
                free(ids.v);
                return r;
        }
        *ret = ids.v;
        return (ssize_t) ids.n;
}

static int cmp_by_inode(const void *a, const void *b) {
        const struct iter_socket *x = *(const struct iter_socket *const *) a, *y = *(const struct iter_socket *const *) b;
        if (x->inode != y->inode)
                return (x->inode > y->inode) - (x->inode < y->inode);
        if (x->pid != y->pid)
                return (x->pid > y->pid) - (x->pid < y->pid);
        return (x->fd > y->fd) - (x->fd < y->fd);
}

static int cmp_by_pid_fd(const void *a, const void *b) {
        const struct iter_socket *x = *(const struct iter_socket *const *) a, *y = *(const struct iter_socket *const *) b;
        if (x->pid != y->pid)
                return (x->pid > y->pid) - (x->pid < y->pid);
        return (x->fd > y->fd) - (x->fd < y->fd);
}

const char *unit_socket_applied_to_string(enum unit_socket_applied a) {
        return a == UNIT_SOCKET_APPLIED_LIVE ? "live" : a == UNIT_SOCKET_APPLIED_BPF ? "bpf" : "";
}

/* A mark that names no entry (an older program's, or a listener's notes)
 * says nothing of how values came. */
static enum unit_socket_applied applied_from_flags(uint32_t flags) {
        if (!(flags & TKA_SOCKET_MANAGED))
                return UNIT_SOCKET_APPLIED_UNKNOWN;
        if (flags & TKA_SOCKET_APPLIED_LIVE)
                return UNIT_SOCKET_APPLIED_LIVE;
        if (flags & TKA_SOCKET_APPLIED_ESTABLISHED)
                return UNIT_SOCKET_APPLIED_BPF;
        return UNIT_SOCKET_APPLIED_UNKNOWN;
}

static int cmp_unit_socket_inode(const void *a, const void *b) {
        const struct unit_socket *x = *(const struct unit_socket *const *) a, *y = *(const struct unit_socket *const *) b;
        return (x->inode > y->inode) - (x->inode < y->inode);
}

/* The sockets read through /proc (show: addresses need the fds) get how
 * their values came from the snapshot, by inode (unique per socket, and
 * the same however many processes hold it): one pass over the snapshot,
 * each record looked up among the unit's sockets. */
static void join_applied(struct unit_socket *socks, size_t n, const struct sock_snapshot *snap) {
        struct unit_socket **by_inode = n > 0 ? calloc(n, sizeof(*by_inode)) : NULL;

        if (!by_inode)
                return; /* unknown, as without a snapshot */
        for (size_t i = 0; i < n; i++)
                by_inode[i] = &socks[i];
        qsort(by_inode, n, sizeof(*by_inode), cmp_unit_socket_inode);
        for (size_t i = 0; i < snap->n; i++) {
                struct unit_socket key = { .inode = snap->sockets[i].inode }, *k = &key, **hit;
                if (!(snap->sockets[i].flags & TKA_SOCKET_MANAGED))
                        continue;
                hit = bsearch(&k, by_inode, n, sizeof(*by_inode), cmp_unit_socket_inode);
                if (hit)
                        (*hit)->applied = applied_from_flags(snap->sockets[i].flags);
        }
        free(by_inode);
}

/* The unit's sockets from the snapshot, as the /proc path reports them:
 * the TCP sockets the kernel's tables hold (not those never bound), each
 * once, with the first process (by pid, fd) that holds it. -ENOENT: the
 * cgroup cannot be matched here, read /proc. */
static ssize_t unit_sockets_from_snapshot(const struct sock_snapshot *snap, const char *cgroup,
                                          struct unit_socket **ret) {
        struct id_list ids = { 0 };
        const struct iter_socket **pick = NULL;
        struct unit_socket *out = NULL;
        size_t n = 0, cap = 0, k = 0;
        int r = unit_cgroup_ids(cgroup, &ids);

        *ret = NULL;
        if (r < 0 || ids.n == 0) {
                free(ids.v);
                return r < 0 ? r : -ENOENT;
        }
        for (size_t i = 0; i < ids.n; i++) {
                const struct iter_socket *first;
                size_t m = sock_snapshot_cgroup(snap, ids.v[i], &first);
                for (size_t j = 0; j < m; j++) {
                        if (first[j].state == 7 /* TCP_CLOSE: not in the kernel's tables */)
                                continue;
                        if (n == cap) {
                                size_t ncap = cap ? cap * 2 : 64;
                                const struct iter_socket **v = realloc(pick, ncap * sizeof(*v));
                                if (!v) {
                                        free(pick);
                                        free(ids.v);
                                        return -ENOMEM;
                                }
                                pick = v;
                                cap = ncap;
                        }
                        pick[n++] = &first[j];
                }
        }
        free(ids.v);
        if (n == 0) {
                free(pick);
                return 0;
        }
        /* A socket shared after fork: once, with its first holder. */
        qsort(pick, n, sizeof(*pick), cmp_by_inode);
        for (size_t i = 0; i < n; i++)
                if (k == 0 || pick[i]->inode != pick[k - 1]->inode)
                        pick[k++] = pick[i];
        qsort(pick, k, sizeof(*pick), cmp_by_pid_fd);
        if (!(out = calloc(k, sizeof(*out)))) {
                free(pick);
                return -ENOMEM;
        }
        for (size_t i = 0; i < k; i++) {
                const struct iter_socket *e = pick[i];
                struct unit_socket *s = &out[i];
                *s = (struct unit_socket) { .inode = e->inode, .pid = e->pid, .fd = e->fd,
                                            .established = e->state == TCP_STATE_ESTABLISHED,
                                            .inbound = sock_snapshot_listening(snap, e->netns, e->local_port),
                                            .keepalive = e->keepalive, .idle = e->idle, .interval = e->interval,
                                            .count = e->count, .user_timeout = e->user_timeout,
                                            .applied = applied_from_flags(e->flags) };
                snprintf(s->state, sizeof(s->state), "%s", tcp_state_name(e->state));
        }
        free(pick);
        *ret = out;
        return (ssize_t) k;
}

ssize_t unit_sockets_read(const char *cgroup, pid_t main_pid, struct tcp_tables *tables, unsigned flags,
                          struct unit_socket **ret, struct socket_scan_errors *errors) {
        const struct sock_snapshot *snap;
        struct pid_list pids;
        struct socket_ref *refs = NULL;
        struct unit_socket *out = NULL;
        const struct tcp_table *t = NULL;
        ssize_t n_refs;
        size_t n = 0;
        pid_t open_pid = 0;
        int pidfd = -1, pidfd_errno = 0;

        /* The fast path: the request's one pass of the BPF iterator (no
         * addresses: show reads them through the fds). */
        if (!(flags & (UNIT_SOCKETS_ADDRESSES | UNIT_SOCKETS_PEERS)) && (snap = tcp_tables_snapshot(tables))) {
                ssize_t k = unit_sockets_from_snapshot(snap, cgroup, ret);
                if (k != -ENOENT)
                        return k;
        }
        pids = unit_pid_list(cgroup, main_pid);
        n_refs = socket_refs_collect_errors(pids.v, pids.n, &refs, errors);
        free(pids.v);
        *ret = NULL;
        if (n_refs < 0)
                return n_refs;
        if (n_refs > 0 && !(out = calloc((size_t) n_refs, sizeof(*out)))) {
                free(refs);
                return -ENOMEM;
        }
        /* refs are ordered by pid: one pidfd and one namespace lookup per process. */
        for (ssize_t i = 0; i < n_refs; i++) {
                const struct tcp_entry *e;
                struct unit_socket *s = &out[n];
                int dup_fd;

                if (refs[i].pid != open_pid) {
                        if (pidfd >= 0)
                                close(pidfd);
                        open_pid = refs[i].pid;
                        pidfd = (int) syscall(SYS_pidfd_open, open_pid, 0);
                        pidfd_errno = pidfd < 0 ? errno : 0;
                        t = tcp_tables_for_pid(tables, open_pid);
                        /* Its sockets cannot be told TCP or not: unknown, never none. */
                        if (!t && errno != ENOENT && errno != ESRCH && errors && errors->n++ == 0) {
                                errors->first_pid = open_pid;
                                errors->first_errno = errno;
                                snprintf(errors->first_path, sizeof(errors->first_path), "/proc/%d/net/tcp",
                                         (int) open_pid);
                        }
                }
                /* Not in the TCP table: not a TCP socket (or closed since). */
                if (!(e = tcp_table_find(t, refs[i].inode)))
                        continue;
                *s = (struct unit_socket) { .inode = refs[i].inode, .pid = refs[i].pid, .fd = refs[i].fd,
                                            .established = e->state == TCP_STATE_ESTABLISHED,
                                            .inbound = tcp_table_port_listening(t, e->local_port),
                                            .keepalive_timer = e->timer == TCP_TIMER_KEEPALIVE,
                                            .keepalive = -1, .idle = -1, .interval = -1, .count = -1,
                                            .user_timeout = -1, .ends = e->ends };
                snprintf(s->state, sizeof(s->state), "%s", tcp_state_name(e->state));
                if (pidfd < 0) {
                        if (pidfd_errno == ESRCH)
                                continue; /* the process is gone, its sockets with it */
                        s->read_errno = pidfd_errno;
                        s->read_call = "pidfd_open";
                } else if ((dup_fd = socket_ref_dup(pidfd, &refs[i])) >= 0) {
                        read_values(dup_fd, flags, s);
                        close(dup_fd);
                } else if (dup_fd == -ESTALE || dup_fd == -EBADF || dup_fd == -ESRCH) {
                        continue; /* closed (and maybe reused) since the scan, or its process gone */
                } else {
                        s->read_errno = -dup_fd;
                        s->read_call = "pidfd_getfd";
                }
                n++;
        }
        if (pidfd >= 0)
                close(pidfd);
        free(refs);
        if (n > 0 && (snap = tcp_tables_snapshot(tables)))
                join_applied(out, n, snap);
        if (n == 0) {
                free(out);
                out = NULL;
        }
        *ret = out;
        return (ssize_t) n;
}
