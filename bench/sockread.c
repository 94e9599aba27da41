/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/sockread: what each step of tcpkeepalived's gathering costs, for the
 * processes of the cgroups given, timed apart (median of RUNS passes):
 *
 *   procs      cgroup.procs of each cgroup (the unit's processes)
 *   fdscan     /proc/PID/fd of each process, readlink of each entry
 *   tcptable   /proc/PID/net/tcp and tcp6 of the first process, read whole
 *   sockdiag   a NETLINK_SOCK_DIAG dump of every TCP socket of this network
 *              namespace, with INET_DIAG_CGROUP_ID (Linux >= 5.9)
 *   getfd      per socket: pidfd_getfd + fstat + close
 *   getsockopt per socket: pidfd_getfd + fstat + SO_KEEPALIVE, TCP_KEEPIDLE,
 *              TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT + close
 *
 * Usage: sockread [-n RUNS] CGROUP-DIR...  (root: pidfd_getfd needs
 * PTRACE_MODE_ATTACH over the processes). Run by bench/daemon-scale.sh in
 * the container that holds the connections. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef INET_DIAG_CGROUP_ID
#define INET_DIAG_CGROUP_ID 21
#endif

struct ref {
        pid_t pid;
        int fd;
        uint64_t inode;
};

static pid_t *pids;
static size_t n_pids, cap_pids;
static struct ref *refs;
static size_t n_refs, cap_refs;

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void *grow(void *v, size_t *cap, size_t n, size_t size) {
        if (n < *cap)
                return v;
        *cap = *cap ? *cap * 2 : 1024;
        if (!(v = realloc(v, *cap * size))) {
                perror("realloc");
                exit(1);
        }
        return v;
}

static size_t phase_procs(char **dirs, int n) {
        char path[4096], line[32];
        n_pids = 0;
        for (int i = 0; i < n; i++) {
                FILE *f;
                snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[i]);
                if (!(f = fopen(path, "re")))
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        pids = grow(pids, &cap_pids, n_pids, sizeof(*pids));
                        pids[n_pids++] = atoi(line);
                }
                fclose(f);
        }
        return n_pids;
}

static size_t phase_fdscan(void) {
        char path[64], link[64];
        n_refs = 0;
        for (size_t i = 0; i < n_pids; i++) {
                struct dirent *de;
                DIR *d;
                snprintf(path, sizeof(path), "/proc/%d/fd", (int) pids[i]);
                if (!(d = opendir(path)))
                        continue;
                while ((de = readdir(d))) {
                        ssize_t len;
                        if (de->d_name[0] == '.')
                                continue;
                        len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                        if (len <= 9 || strncmp(link, "socket:[", 8) != 0)
                                continue;
                        link[len] = '\0';
                        refs = grow(refs, &cap_refs, n_refs, sizeof(*refs));
                        refs[n_refs++] = (struct ref) { pids[i], atoi(de->d_name), strtoull(link + 8, NULL, 10) };
                }
                closedir(d);
        }
        return n_refs;
}

static size_t read_lines(const char *path) {
        static char buf[256 << 10];
        size_t lines = 0;
        ssize_t got;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        while ((got = read(fd, buf, sizeof(buf))) > 0)
                for (ssize_t i = 0; i < got; i++)
                        lines += buf[i] == '\n';
        close(fd);
        return lines;
}

static size_t phase_tcptable(void) {
        char path[64];
        size_t n;
        if (n_pids == 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int) pids[0]);
        n = read_lines(path);
        snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int) pids[0]);
        return n + read_lines(path);
}

/* Every TCP socket of this network namespace, both families; counts the
 * replies that carry a cgroup id. */
static size_t phase_sockdiag(size_t *with_cgroup) {
        static char buf[64 << 10];
        size_t n = 0;
        *with_cgroup = 0;
        for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
                struct {
                        struct nlmsghdr nlh;
                        struct inet_diag_req_v2 req;
                } msg = { .nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                                   .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
                          .req = { .sdiag_family = (uint8_t) family, .sdiag_protocol = IPPROTO_TCP,
                                   .idiag_states = ~0U } };
                int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), done = 0;
                if (fd < 0 || send(fd, &msg, sizeof(msg), 0) < 0) {
                        perror("sock_diag");
                        exit(1);
                }
                while (!done) {
                        ssize_t got = recv(fd, buf, sizeof(buf), 0);
                        if (got <= 0)
                                break;
                        for (struct nlmsghdr *h = (void *) buf; NLMSG_OK(h, (size_t) got); h = NLMSG_NEXT(h, got)) {
                                struct inet_diag_msg *m = NLMSG_DATA(h);
                                struct rtattr *a;
                                int len;
                                if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                                        done = 1;
                                        break;
                                }
                                n++;
                                len = (int) (h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
                                for (a = (void *) (m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
                                        if (a->rta_type == INET_DIAG_CGROUP_ID)
                                                (*with_cgroup)++;
                        }
                }
                close(fd);
        }
        return n;
}

static int opt(int fd, int level, int name) {
        int v = -1;
        socklen_t l = sizeof(v);
        return getsockopt(fd, level, name, &v, &l) < 0 ? -1 : v;
}

/* refs are in pid order: one pidfd per process. */
static size_t phase_getfd(int with_opts, size_t *keepalive_on) {
        pid_t open_pid = 0;
        int pidfd = -1;
        size_t n = 0;
        *keepalive_on = 0;
        for (size_t i = 0; i < n_refs; i++) {
                struct stat st;
                int fd;
                if (refs[i].pid != open_pid) {
                        if (pidfd >= 0)
                                close(pidfd);
                        open_pid = refs[i].pid;
                        pidfd = (int) syscall(SYS_pidfd_open, open_pid, 0);
                }
                if (pidfd < 0 || (fd = (int) syscall(SYS_pidfd_getfd, pidfd, refs[i].fd, 0)) < 0)
                        continue;
                if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && (uint64_t) st.st_ino == refs[i].inode) {
                        n++;
                        if (with_opts) {
                                int ka = opt(fd, SOL_SOCKET, SO_KEEPALIVE);
                                int sum = opt(fd, IPPROTO_TCP, TCP_KEEPIDLE) + opt(fd, IPPROTO_TCP, TCP_KEEPINTVL) +
                                          opt(fd, IPPROTO_TCP, TCP_KEEPCNT) + opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
                                *keepalive_on += ka == 1 && sum > 0;
                        }
                }
                close(fd);
        }
        if (pidfd >= 0)
                close(pidfd);
        return n;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv) {
        enum { PROCS, FDSCAN, TCPTABLE, SOCKDIAG, GETFD, GETSOCKOPT, N_PHASES };
        static const char *const names[] = { "cgroup.procs of each unit", "/proc/PID/fd scan (readlink)",
                                             "/proc/PID/net/tcp+tcp6 read", "sock_diag dump (+cgroup id)",
                                             "pidfd_getfd+fstat+close", "pidfd_getfd+fstat+5 getsockopt+close" };
        int runs = 5, first = 1;
        size_t count[N_PHASES] = { 0 }, extra[N_PHASES] = { 0 };
        double *t[N_PHASES];

        if (argc > 2 && strcmp(argv[1], "-n") == 0) {
                runs = atoi(argv[2]);
                first = 3;
        }
        if (runs < 1 || runs > 1000 || first >= argc) {
                fprintf(stderr, "usage: sockread [-n RUNS] CGROUP-DIR...\n");
                return 2;
        }
        for (int p = 0; p < N_PHASES; p++)
                t[p] = calloc((size_t) runs, sizeof(double));
        for (int r = 0; r < runs; r++) {
                double t0 = now_ms();
                count[PROCS] = phase_procs(argv + first, argc - first);
                double t1 = now_ms();
                count[FDSCAN] = phase_fdscan();
                double t2 = now_ms();
                count[TCPTABLE] = phase_tcptable();
                double t3 = now_ms();
                count[SOCKDIAG] = phase_sockdiag(&extra[SOCKDIAG]);
                double t4 = now_ms();
                count[GETFD] = phase_getfd(0, &extra[GETFD]);
                double t5 = now_ms();
                count[GETSOCKOPT] = phase_getfd(1, &extra[GETSOCKOPT]);
                double t6 = now_ms();
                t[PROCS][r] = t1 - t0, t[FDSCAN][r] = t2 - t1, t[TCPTABLE][r] = t3 - t2;
                t[SOCKDIAG][r] = t4 - t3, t[GETFD][r] = t5 - t4, t[GETSOCKOPT][r] = t6 - t5;
        }
        for (int p = 0; p < N_PHASES; p++) {
                qsort(t[p], (size_t) runs, sizeof(double), cmp_double);
                double med = t[p][runs / 2];
                printf("  %-40s %8.1f ms  %6zu items  %6.2f us/item", names[p], med, count[p],
                       count[p] ? med * 1000.0 / (double) count[p] : 0.0);
                if (p == SOCKDIAG)
                        printf("  (%zu with a cgroup id)", extra[p]);
                if (p == GETSOCKOPT)
                        printf("  (%zu with keepalive on)", extra[p]);
                printf("\n");
                free(t[p]);
        }
        return 0;
}
