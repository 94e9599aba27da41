/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/types.h>

#include "iter-pin-read.h"
#include "tcp-table.h"
#include "../bpf/sockets.h"

static int cmp_entry(const void *a, const void *b) {
        uint64_t x = ((const struct tcp_entry *) a)->inode, y = ((const struct tcp_entry *) b)->inode;
        return (x > y) - (x < y);
}

static int table_add(struct tcp_table *t, size_t *cap, struct tcp_entry e) {
        if (t->n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 256;
                struct tcp_entry *v = realloc(t->entries, ncap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                t->entries = v;
                *cap = ncap;
        }
        t->entries[t->n++] = e;
        return 0;
}

/* Skips n whitespace-separated fields. */
static const char *skip_fields(const char *p, const char *end, int n) {
        while (n-- > 0) {
                while (p < end && *p == ' ')
                        p++;
                while (p < end && *p != ' ')
                        p++;
        }
        while (p < end && *p == ' ')
                p++;
        return p;
}

/* rem_address: 8 (IPv4) or 32 (IPv6) hex digits, each 32-bit word of the
 * address as the kernel's %08X printed it (the word in host byte order),
 * then ":PORT". An IPv4-mapped peer of a tcp6 row is its IPv4 address. */
static bool parse_peer(const char *p, const char *end, struct ka_conn_ends *ret) {
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
        struct sockaddr_in s4 = { .sin_family = AF_INET };
        const char *colon = memchr(p, ':', (size_t) (end - p));
        size_t digits = colon ? (size_t) (colon - p) : 0;
        unsigned long port;
        char *q;

        if (digits != 8 && digits != 32)
                return false;
        for (size_t w = 0; w < digits / 8; w++) {
                char word[9];
                uint32_t v;
                memcpy(word, p + w * 8, 8);
                word[8] = '\0';
                v = (uint32_t) strtoul(word, &q, 16);
                if (*q)
                        return false;
                memcpy(digits == 8 ? (uint8_t *) &s4.sin_addr : (uint8_t *) &s6.sin6_addr + w * 4, &v, 4);
        }
        port = strtoul(colon + 1, &q, 16);
        if (q == colon + 1 || port > 0xffff)
                return false;
        s4.sin_port = s6.sin6_port = htons((uint16_t) port);
        if (digits == 8)
                ka_conn_ends_from(ret, (struct sockaddr *) &s4, sizeof(s4), NULL, 0);
        else
                ka_conn_ends_from(ret, (struct sockaddr *) &s6, sizeof(s6), NULL, 0);
        return true;
}

/* One row: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...". */
static bool parse_row(const char *p, const char *end, struct tcp_entry *e) {
        char *q;
        unsigned long st, timer, port;
        unsigned long long inode;
        struct ka_conn_ends peer;

        /* local_address is ADDR:PORT in hex */
        p = skip_fields(p, end, 1);
        while (p < end && *p != ':' && *p != ' ')
                p++;
        if (p >= end || *p != ':')
                return false;
        port = strtoul(p + 1, &q, 16);
        if (q == p + 1 || *q != ' ' || port > 0xffff)
                return false;
        p = skip_fields(q, end, 0);
        if (!parse_peer(p, end, &peer))
                return false;
        p = skip_fields(p, end, 1); /* rem_address */
        st = strtoul(p, &q, 16);
        if (q == p || *q != ' ')
                return false;
        p = skip_fields(q, end, 1); /* tx_queue:rx_queue */
        timer = strtoul(p, &q, 16);
        if (q == p || *q != ':')
                return false;
        p = skip_fields(q, end, 4); /* when, retrnsmt, uid, timeout */
        inode = strtoull(p, &q, 10);
        if (q == p || inode == 0)
                return false;
        *e = (struct tcp_entry) { .inode = inode, .local_port = (uint16_t) port, .state = (uint8_t) st,
                                  .timer = (uint8_t) timer, .ends = peer };
        e->ends.local_port = (uint16_t) port;
        return true;
}

/* Appends the rows of one /proc/PID/net/tcp{,6} file to t. */
static int read_table_file(const char *path, struct tcp_table *t, size_t *cap) {
        /* The kernel walks its socket hash again on every read(): large
         * reads, and rows split across two reads carried over. */
        size_t size = 256 << 10, used = 0;
        char *buf = malloc(size);
        bool header = true;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

        if (fd < 0 || !buf) {
                r = fd < 0 ? -errno : -ENOMEM;
                goto out;
        }
        for (;;) {
                ssize_t got = read(fd, buf + used, size - used - 1);
                char *line = buf, *nl;
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        break;
                used += (size_t) got;
                while ((nl = memchr(line, '\n', used - (size_t) (line - buf)))) {
                        struct tcp_entry e;
                        if (!header && parse_row(line, nl, &e) && (r = table_add(t, cap, e)) < 0)
                                goto out;
                        header = false;
                        line = nl + 1;
                }
                used -= (size_t) (line - buf);
                memmove(buf, line, used);
                if (used == size - 1) /* a row longer than the buffer is not a row */
                        break;
        }
out:
        if (fd >= 0)
                close(fd);
        free(buf);
        return r;
}

static int cmp_port(const void *a, const void *b) {
        return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

static int index_listening(struct tcp_table *t) {
        size_t n = 0, kept = 0;
        for (size_t i = 0; i < t->n; i++)
                n += t->entries[i].state == TCP_STATE_LISTEN;
        if (n == 0)
                return 0;
        if (!(t->listening_ports = malloc(n * sizeof(*t->listening_ports))))
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                if (t->entries[i].state == TCP_STATE_LISTEN)
                        t->listening_ports[t->n_listening++] = t->entries[i].local_port;
        qsort(t->listening_ports, t->n_listening, sizeof(uint16_t), cmp_port);
        for (size_t i = 0; i < t->n_listening; i++)
                if (kept == 0 || t->listening_ports[kept - 1] != t->listening_ports[i])
                        t->listening_ports[kept++] = t->listening_ports[i];
        t->n_listening = kept;
        return 0;
}

bool tcp_table_port_listening(const struct tcp_table *t, uint16_t port) {
        return t && t->n_listening && bsearch(&port, t->listening_ports, t->n_listening, sizeof(port), cmp_port);
}

const struct tcp_table *tcp_tables_for_pid(struct tcp_tables *cache, pid_t pid) {
        char path[64];
        struct stat st;
        struct tcp_table t = { 0 }, *grown;
        size_t cap = 0;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        if (stat(path, &st) < 0)
                return NULL;
        for (size_t i = 0; i < cache->n; i++)
                if (cache->tables[i].netns == (uint64_t) st.st_ino)
                        return &cache->tables[i];
        t.netns = (uint64_t) st.st_ino;
        /* Unreadable is not empty: the caller says so. */
        snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int) pid);
        if ((r = read_table_file(path, &t, &cap)) < 0) {
                errno = -r;
                goto fail;
        }
        snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int) pid);
        if (read_table_file(path, &t, &cap) == -ENOMEM) /* absent without IPv6: fine */
                goto fail;
        if (t.n > 1)
                qsort(t.entries, t.n, sizeof(*t.entries), cmp_entry);
        if (index_listening(&t) < 0)
                goto fail;
        grown = realloc(cache->tables, (cache->n + 1) * sizeof(*grown));
        if (!grown)
                goto fail;
        cache->tables = grown;
        cache->tables[cache->n] = t;
        return &cache->tables[cache->n++];
fail:
        free(t.entries);
        free(t.listening_ports);
        return NULL;
}

const struct tcp_entry *tcp_table_find(const struct tcp_table *t, uint64_t inode) {
        struct tcp_entry key = { .inode = inode };
        return t && t->n ? bsearch(&key, t->entries, t->n, sizeof(key), cmp_entry) : NULL;
}

void tcp_tables_done(struct tcp_tables *cache) {
        if (cache->snapshot) {
                sock_snapshot_done(cache->snapshot);
                free(cache->snapshot);
        }
        for (size_t i = 0; i < cache->n; i++) {
                free(cache->tables[i].entries);
                free(cache->tables[i].listening_ports);
        }
        free(cache->tables);
        *cache = (struct tcp_tables) { 0 };
}

static int cmp_ref_inode(const void *a, const void *b) {
        const struct socket_ref *x = a, *y = b;
        if (x->inode != y->inode)
                return (x->inode > y->inode) - (x->inode < y->inode);
        /* Among holders of one socket, keep the first pid listed. */
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_ref_pid_fd(const void *a, const void *b) {
        const struct socket_ref *x = a, *y = b;
        if (x->pid != y->pid)
                return (x->pid > y->pid) - (x->pid < y->pid);
        return (x->fd > y->fd) - (x->fd < y->fd);
}

ssize_t socket_refs_collect_errors(const pid_t *pids, size_t n_pids, struct socket_ref **ret,
                                   struct socket_scan_errors *errors) {
        struct socket_ref *v = NULL;
        size_t n = 0, cap = 0, kept = 0;

        for (size_t i = 0; i < n_pids; i++) {
                char path[64], link[64];
                struct dirent *de;
                DIR *d;

                snprintf(path, sizeof(path), "/proc/%d/fd", (int) pids[i]);
                if (!(d = opendir(path))) {
                        if (errors && errno != ENOENT && errno != ESRCH && errors->n++ == 0) {
                                errors->first_pid = pids[i];
                                errors->first_errno = errno;
                                snprintf(errors->first_path, sizeof(errors->first_path), "%s", path);
                        }
                        continue; /* exited meanwhile, or not ours to list */
                }
                while ((de = readdir(d))) {
                        char *end;
                        unsigned long long inode;
                        ssize_t len;
                        long fd = strtol(de->d_name, &end, 10);
                        if (*end || end == de->d_name)
                                continue;
                        len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                        if (len <= 9 || strncmp(link, "socket:[", 8) != 0)
                                continue;
                        link[len] = '\0';
                        inode = strtoull(link + 8, &end, 10);
                        if (*end != ']')
                                continue;
                        if (n == cap) {
                                size_t ncap = cap ? cap * 2 : 64;
                                struct socket_ref *grown = realloc(v, ncap * sizeof(*grown));
                                if (!grown) {
                                        closedir(d);
                                        free(v);
                                        return -ENOMEM;
                                }
                                v = grown;
                                cap = ncap;
                        }
                        v[n++] = (struct socket_ref) { .inode = inode, .pid = pids[i], .fd = (int) fd };
                }
                closedir(d);
        }
        if (n > 1) {
                qsort(v, n, sizeof(*v), cmp_ref_inode);
                for (size_t i = 0; i < n; i++)
                        if (kept == 0 || v[kept - 1].inode != v[i].inode)
                                v[kept++] = v[i];
                n = kept;
                qsort(v, n, sizeof(*v), cmp_ref_pid_fd);
        }
        *ret = v;
        return (ssize_t) n;
}

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int socket_ref_dup(int pidfd, const struct socket_ref *ref) {
        struct stat st;
        int fd = (int) syscall(SYS_pidfd_getfd, pidfd, ref->fd, 0);

        if (fd < 0)
                return -errno;
        /* The inode the scan read in the fd's link is the one we must hold. */
        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || (uint64_t) st.st_ino != ref->inode) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

/* ---- every socket at once, through the BPF iterator --------------------------- */

static int cmp_iter_socket(const void *a, const void *b) {
        const struct iter_socket *x = a, *y = b;
        if (x->cgroup_id != y->cgroup_id)
                return (x->cgroup_id > y->cgroup_id) - (x->cgroup_id < y->cgroup_id);
        if (x->pid != y->pid)
                return (x->pid > y->pid) - (x->pid < y->pid);
        return (x->fd > y->fd) - (x->fd < y->fd);
}

static int cmp_listener(const void *a, const void *b) {
        const struct iter_listener *x = a, *y = b;
        if (x->netns != y->netns)
                return (x->netns > y->netns) - (x->netns < y->netns);
        return (x->port > y->port) - (x->port < y->port);
}

void sock_snapshot_done(struct sock_snapshot *s) {
        free(s->sockets);
        free(s->listeners);
        *s = (struct sock_snapshot) { 0 };
}

int sock_snapshot_parse(const void *buf, size_t len, struct sock_snapshot *ret) {
        struct tka_sockets_header h;
        size_t n, rs, nl = 0;
        const char *p = buf;

        *ret = (struct sock_snapshot) { 0 };
        if (len < sizeof(h))
                return -EBADMSG;
        memcpy(&h, p, sizeof(h));
        if (h.magic != TKA_SOCKETS_MAGIC || h.version != TKA_SOCKETS_VERSION ||
            h.record_size < sizeof(struct tka_socket_record) || (len - sizeof(h)) % h.record_size != 0)
                return -EBADMSG;
        if (h.hz == 0)
                return -EOPNOTSUPP;
        rs = h.record_size;
        n = (len - sizeof(h)) / rs;
        if (n > 0 && (!(ret->sockets = calloc(n, sizeof(*ret->sockets))) ||
                      !(ret->listeners = calloc(n, sizeof(*ret->listeners))))) {
                sock_snapshot_done(ret);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct tka_socket_record r;
                memcpy(&r, p + sizeof(h) + i * rs, sizeof(r));
                ret->sockets[i] = (struct iter_socket) {
                        .cgroup_id = r.cgroup_id, .inode = r.inode, .netns = r.netns, .pid = r.pid, .fd = r.fd,
                        .local_port = r.local_port, .state = r.state, .keepalive = r.keepalive != 0,
                        .idle = r.idle, .interval = r.interval, .count = r.count,
                        .user_timeout = r.user_timeout > INT32_MAX ? INT32_MAX : (int32_t) r.user_timeout,
                        .flags = r.flags,
                };
                if (r.state == TCP_STATE_LISTEN)
                        ret->listeners[nl++] = (struct iter_listener) { .netns = r.netns, .port = r.local_port };
        }
        ret->n = n;
        if (n > 1)
                qsort(ret->sockets, n, sizeof(*ret->sockets), cmp_iter_socket);
        if (nl > 1)
                qsort(ret->listeners, nl, sizeof(*ret->listeners), cmp_listener);
        ret->n_listeners = 0;
        for (size_t i = 0; i < nl; i++)
                if (i == 0 || cmp_listener(&ret->listeners[i], &ret->listeners[ret->n_listeners - 1]) != 0)
                        ret->listeners[ret->n_listeners++] = ret->listeners[i];
        return 0;
}

size_t sock_snapshot_cgroup(const struct sock_snapshot *s, uint64_t cgroup_id, const struct iter_socket **first) {
        size_t lo = 0, hi = s->n, end;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (s->sockets[mid].cgroup_id < cgroup_id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (end = lo; end < s->n && s->sockets[end].cgroup_id == cgroup_id; end++)
                ;
        *first = s->sockets + lo;
        return end - lo;
}

bool sock_snapshot_listening(const struct sock_snapshot *s, uint32_t netns, uint16_t port) {
        struct iter_listener key = { .netns = netns, .port = port };
        return s->n_listeners > 0 &&
               bsearch(&key, s->listeners, s->n_listeners, sizeof(key), cmp_listener) != NULL;
}

const struct sock_snapshot *tcp_tables_snapshot(struct tcp_tables *cache) {
        char *buf = NULL;
        size_t len = 0;
        int r;

        if (!cache->use_iterator)
                return NULL;
        if (cache->snapshot_tried)
                return cache->snapshot;
        cache->snapshot_tried = true;
        r = iter_pin_read(TCP_SOCKETS_ITER_PIN, 256 * 1024, (size_t) 1 << 30, &buf, &len);
        if (r == 0 && (cache->snapshot = calloc(1, sizeof(*cache->snapshot))) &&
            (r = sock_snapshot_parse(buf, len, cache->snapshot)) < 0) {
                free(cache->snapshot);
                cache->snapshot = NULL;
        } else if (r == 0 && !cache->snapshot)
                r = -ENOMEM;
        free(buf);
        cache->snapshot_errno = r < 0 ? -r : 0;
        return cache->snapshot;
}
