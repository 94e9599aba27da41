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

#include "tcp-table.h"

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

/* One row: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...". */
static bool parse_row(const char *p, const char *end, struct tcp_entry *e) {
        char *q;
        unsigned long st, timer, port;
        unsigned long long inode;

        /* local_address is ADDR:PORT in hex */
        p = skip_fields(p, end, 1);
        while (p < end && *p != ':' && *p != ' ')
                p++;
        if (p >= end || *p != ':')
                return false;
        port = strtoul(p + 1, &q, 16);
        if (q == p + 1 || *q != ' ' || port > 0xffff)
                return false;
        p = skip_fields(q, end, 1); /* rem_address */
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
                                  .timer = (uint8_t) timer };
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
