/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libtcpkeepalive.so: TCP keepalive for programs that never ask for it.
 *
 * Loaded with LD_PRELOAD, it wraps the socket calls of the host program and
 * sets SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and
 * TCP_USER_TIMEOUT on its TCP sockets, configured by TCPKEEPALIVE_* (or
 * libkeepalive 0.3's KEEPIDLE, KEEPINTVL, KEEPCNT, KEEPALIVE) read once.
 *
 * Rules this file lives by, because it runs inside other people's services:
 *  - a wrapper never allocates, never calls getenv, never takes a lock and
 *    always returns the real call's result with the real call's errno;
 *  - nothing but the wrapped functions is exported (-fvisibility=hidden);
 *  - a bad setting disables that setting, with one message, never the host;
 *  - every avoidable syscall is avoided: the per-fd state table below lets
 *    accepted connections inherit their listener's options instead of being
 *    configured again, and values equal to the netns default are not set.
 *
 * One file of some 1,500 lines on purpose: the library is one object with
 * nothing exported but the wrappers, and its hot path (the fd table, the
 * configuration, apply) is static and inlined across the wrappers without
 * LTO; fuzz-preload-env compiles this file whole. Its contracts with the
 * rest of the project are headers: keepalive-params.h, keepalive-paths.h.
 */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "keepalive-params.h"
#include "keepalive-paths.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
#ifndef KCMP_VM
#define KCMP_VM 1
#endif

#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- configuration, read once ------------------------------------------ */

/* The values a socket is given: the unit's own or a path rule's. -1 (and a
 * user_timeout of 0) keeps the kernel default. */
struct ka_values {
        int idle, interval, count, user_timeout;
};

struct config {
        bool active;                 /* false in mode off */
        enum ka_mode mode;
        enum ka_direction direction;
        /* When a TCP socket is configured: at socket() (Direction=both, no
         * path rules), or once its use (and, with path rules, its peer) is
         * known: at connect() / fast open, at listen(). */
        bool at_socket, at_connect, at_listen;
        /* The unit's own values (TCPKEEPALIVE_IDLE...). */
        struct ka_values base;
        /* The netns defaults (sysctl net.ipv4.tcp_keepalive_*, -1 unknown;
         * user_timeout 0): a socket fresh from socket() has them, no need
         * to set them again. */
        struct ka_values defaults;
        /* Path rules (TCPKEEPALIVE_PATHn, keepalive-paths.h): 0 without. */
        unsigned n_paths;
        bool unmatched_off; /* TCPKEEPALIVE_UNMATCHED=off */
        bool paths_lport;   /* some path rule has lport= */
        bool debug;
        bool use_syslog;
};

static struct config cfg = {
        .base = { -1, -1, -1, -1 },
        .defaults = { -1, -1, -1, 0 },
};

/* The path rules, in the order of their variables, and each one's values
 * and variable number (TCPKEEPALIVE_PATH<number>; a bad one is skipped). */
static struct ka_path paths[KA_PATHS_MAX];
static struct ka_values path_values[KA_PATHS_MAX];
static unsigned path_number[KA_PATHS_MAX];

/*
 * The path rules' prefixes compiled at start for the matcher in connect()
 * and accept(): per rule, grouped by family and length (longest first),
 * each group's networks sorted, as 128-bit keys (IPv4 in the top 32 bits).
 * A peer is then one binary search per distinct prefix length: the cost
 * no longer grows with the number of prefixes (walking 100 of them with
 * ka_prefix_contains made about 10,000 instructions per connection,
 * several per cent of a loopback connect+accept+close). The same answers
 * as ka_paths_match(), which the environment fuzzer checks.
 */
struct key128 {
        uint64_t hi, lo;
};
struct sorted_prefix {
        struct key128 net;
        bool exclude; /* also included: the exclusion wins, as in ka_path_specificity */
};
struct prefix_group {
        struct key128 mask;
        uint16_t first, n; /* in sorted_prefixes */
        uint8_t family, len;
};
struct compiled_path {
        uint16_t group_first, n_groups; /* in prefix_groups */
        bool any_include;
};
static struct sorted_prefix sorted_prefixes[KA_PATHS_MAX * KA_PATH_DESTINATIONS_MAX];
static struct prefix_group prefix_groups[KA_PATHS_MAX * KA_PATH_DESTINATIONS_MAX];
static struct compiled_path compiled[KA_PATHS_MAX];

/* ---- the real functions ------------------------------------------------- */

static int (*real_socket)(int, int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_listen)(int, int);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_close_range)(unsigned, unsigned, int);
static void (*real_closefrom)(int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned, int);

/* Used when the next object has no such symbol (an old libc, a static
 * interposer): the kernel call is what the symbol would have made. */
static int sys_socket(int d, int t, int p) { return (int) syscall(SYS_socket, d, t, p); }
static int sys_accept(int fd, struct sockaddr *a, socklen_t *l) { return (int) syscall(SYS_accept4, fd, a, l, 0); }
static int sys_accept4(int fd, struct sockaddr *a, socklen_t *l, int f) { return (int) syscall(SYS_accept4, fd, a, l, f); }
static int sys_connect(int fd, const struct sockaddr *a, socklen_t l) { return (int) syscall(SYS_connect, fd, a, l); }
static int sys_listen(int fd, int b) { return (int) syscall(SYS_listen, fd, b); }
static int sys_setsockopt(int fd, int l, int o, const void *v, socklen_t n) { return (int) syscall(SYS_setsockopt, fd, l, o, v, n); }
static int sys_close(int fd) { return (int) syscall(SYS_close, fd); }
static int sys_dup(int fd) { return (int) syscall(SYS_dup, fd); }
static int sys_dup2(int o, int n) { return o == n ? (fcntl(o, F_GETFD) < 0 ? -1 : n) : (int) syscall(SYS_dup3, o, n, 0); }
static int sys_dup3(int o, int n, int f) { return (int) syscall(SYS_dup3, o, n, f); }
static int sys_close_range(unsigned a, unsigned b, int f) { return (int) syscall(SYS_close_range, a, b, f); }
static void sys_closefrom(int fd) { (void) syscall(SYS_close_range, (unsigned) fd, ~0U, 0); }
static ssize_t sys_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l) { return syscall(SYS_sendto, fd, b, n, f, a, l); }
static ssize_t sys_sendmsg(int fd, const struct msghdr *m, int f) { return syscall(SYS_sendmsg, fd, m, f); }
static int sys_sendmmsg(int fd, struct mmsghdr *v, unsigned n, int f) { return (int) syscall(SYS_sendmmsg, fd, v, n, f); }

#define RESOLVE(name)                                                        \
        do {                                                                 \
                void *p_ = dlsym(RTLD_NEXT, #name);                          \
                if (p_)                                                      \
                        memcpy(&real_##name, &p_, sizeof(p_));               \
                else                                                         \
                        real_##name = sys_##name;                            \
        } while (0)

/* ---- per-fd state --------------------------------------------------------
 *
 * Two bytes per file descriptor, in an anonymous mapping sized by the fd
 * limit at start (pages never written cost nothing). It answers, without a
 * syscall, "is this a TCP socket, does it already carry our options, and
 * which keepalive options did the program set on it itself?".
 * A zero entry means "not created through our wrappers" (glibc-internal
 * sockets, raw syscalls, fds received over SCM_RIGHTS); wrappers treat it as
 * unknown and classify it with getsockopt only where that is not a hot path.
 */
typedef uint16_t fd_state_t;
enum {
        FD_KNOWN = 1 << 0,   /* classified: the other bits are valid */
        FD_TCP = 1 << 1,     /* an AF_INET/AF_INET6 stream socket, TCP or MPTCP */
        FD_MANAGED = 1 << 2, /* carries our options, set by us or inherited from a listener */
        FD_APP = 1 << 3,     /* default mode: an owner's choice found on a socket we did not see made; all of it stays */
        FD_BACKLOG = 1 << 4, /* listener adopted late: queued connections predate our options */
        /* Made by our socket(): every keepalive option not set since (in
         * force mode: none set; in default mode: none of the FD_SET_* ones)
         * has the netns default. */
        FD_PRISTINE = 1 << 5,
        /* Default mode: the keepalive options the program set itself (a
         * call the kernel accepted). connect() and listen() leave these
         * and apply the rule's other options (keepalived.d(5), Mode=). */
        FD_SET_KEEPALIVE = 1 << 6,
        FD_SET_IDLE = 1 << 7,
        FD_SET_INTERVAL = 1 << 8,
        FD_SET_COUNT = 1 << 9,
        FD_SET_USER_TIMEOUT = 1 << 10,
        /* Bits 11..15: which values a managed socket got, 0 the unit's own,
         * n the path rule paths[n - 1] (force mode keeps those). */
        FD_PATH_SHIFT = 11,
        FD_PATH_MASK = 0x1f << 11,
};
#define FD_SET_ANY (FD_SET_KEEPALIVE | FD_SET_IDLE | FD_SET_INTERVAL | FD_SET_COUNT | FD_SET_USER_TIMEOUT)
/* What the socket cannot tell us again (a vfork child's close(), below). */
#define FD_CHOSEN (FD_APP | FD_SET_ANY)
#define FD_UNTRACKED 0xffffu
/* The tests build a copy with a small table, to run fds beyond it within
 * the fd limit a test machine allows. */
#ifndef FD_TABLE_MAX
#define FD_TABLE_MAX (1U << 20)
#endif

static fd_state_t *fd_table;
static unsigned fd_table_size;
static unsigned fd_table_high; /* one past the highest fd ever given a state */

/*
 * The process whose fd table the table describes. A vfork() child (Python's
 * subprocess since 3.10) runs in its parent's memory, table included, with
 * its own copy of the fd table: what it closes or dup2()s before exec stays
 * open in the parent (issue 12: a close_range() in the child made the
 * parent forget its sockets). So the writes a child makes before exec check
 * the pid first, where that costs no syscall on the hot path:
 *  - dup(), dup2(), dup3(), close_range(), closefrom(): always (a getpid()
 *    per call, and only when the table is about to change);
 *  - close(): only when the entry holds FD_APP or an FD_SET_* bit, the
 *    one thing the socket itself cannot tell us again. Any other entry a
 *    child clears is found again where it matters: a zero entry is
 *    "unknown", and connect(), listen(), accept() and setsockopt()
 *    classify the socket and read its options (carries_our_values,
 *    owner_chose) before acting on it (a getpid() in every close()
 *    measured +17% on connection churn);
 *  - socket() and accept() in a vfork child (POSIX allows it nothing but
 *    exec and _exit) are not checked: they would leave an entry on a number
 *    free in the parent, as a close the library did not see would.
 * glibc's posix_spawn child calls no wrapper. fork() children (the
 * pthread_atfork handler) get their own copy of the table, and their pid.
 */
static pid_t table_pid;

static void table_pid_record(void) {
        __atomic_store_n(&table_pid, (pid_t) syscall(SYS_getpid), __ATOMIC_RELAXED);
}

/* Another pid than the table's: a vfork child (same memory), or the child
 * of a fork that ran no atfork handler (syscall(SYS_fork), _Fork()), whose
 * table is its own copy. kcmp tells them apart; if it cannot (no
 * CONFIG_CHECKPOINT_RESTORE, a seccomp filter), the table is left alone: a
 * stale entry in such a rare child costs less than a parent's lost state. */
static __attribute__((noinline)) bool table_pid_changed(pid_t pid, pid_t owner) {
        if (syscall(SYS_kcmp, pid, owner, KCMP_VM, 0, 0) <= 0)
                return false;
        __atomic_store_n(&table_pid, pid, __ATOMIC_RELAXED);
        return true;
}

static inline bool table_writable(void) {
        int saved_errno = errno;
        pid_t pid = (pid_t) syscall(SYS_getpid), owner = __atomic_load_n(&table_pid, __ATOMIC_RELAXED);
        bool ok = LIKELY(pid == owner) || table_pid_changed(pid, owner);
        errno = saved_errno;
        return ok;
}

static inline unsigned fd_state_get(int fd) {
        if (LIKELY(fd >= 0 && (unsigned) fd < fd_table_size))
                return __atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED);
        return FD_UNTRACKED;
}

static inline void fd_state_set(int fd, unsigned state) {
        if (fd < 0 || (unsigned) fd >= fd_table_size)
                return;
        /* No write when nothing changes: close() of an fd we never saw must
         * not fault in a page of the table. */
        if (__atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED) == state)
                return;
        __atomic_store_n(&fd_table[fd], (fd_state_t) state, __ATOMIC_RELAXED);
        if (state) {
                unsigned high = __atomic_load_n(&fd_table_high, __ATOMIC_RELAXED);
                while ((unsigned) fd >= high &&
                       !__atomic_compare_exchange_n(&fd_table_high, &high, (unsigned) fd + 1, true,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                        ;
        }
}

static inline void fd_state_add(int fd, unsigned bits) {
        if (fd >= 0 && (unsigned) fd < fd_table_size && (__atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED) & bits) != bits)
                __atomic_fetch_or(&fd_table[fd], (fd_state_t) bits, __ATOMIC_RELAXED);
}

static inline void fd_state_remove(int fd, unsigned bits) {
        if (fd >= 0 && (unsigned) fd < fd_table_size && (__atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED) & bits))
                __atomic_fetch_and(&fd_table[fd], (fd_state_t) ~bits, __ATOMIC_RELAXED);
}

/* close(): see table_pid above. */
static inline void fd_forget(int fd) {
        unsigned s = fd_state_get(fd);
        if (s == FD_UNTRACKED || s == 0 || ((s & FD_CHOSEN) && !table_writable()))
                return;
        __atomic_store_n(&fd_table[fd], 0, __ATOMIC_RELAXED);
}

/* dup(), dup2(), dup3(): NFD now is what OLDFD is; see table_pid above. */
static void fd_state_copy(int oldfd, int nfd) {
        unsigned s = fd_state_get(oldfd);
        /* Not pristine: the program could set options through either fd. */
        s = s == FD_UNTRACKED ? 0 : s & ~(unsigned) FD_PRISTINE;
        if (fd_state_get(nfd) != s && fd_state_get(nfd) != FD_UNTRACKED && table_writable())
                fd_state_set(nfd, s);
}

/* Forgets fds [first, last]. Reads before writing, so that a close_range()
 * over a million fds does not fault in pages that were never used. */
static void fd_forget_range(unsigned first, unsigned last) {
        unsigned end = __atomic_load_n(&fd_table_high, __ATOMIC_RELAXED);
        bool checked = false;
        if (last >= end)
                last = end ? end - 1 : 0;
        for (unsigned fd = first; fd <= last && fd < end; fd++)
                if (__atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED)) {
                        if (!checked && !table_writable())
                                return;
                        checked = true;
                        __atomic_store_n(&fd_table[fd], 0, __ATOMIC_RELAXED);
                }
}

static void fd_table_init(void) {
        struct rlimit rl;
        size_t size = 65536;
        void *p;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max > size)
                size = rl.rlim_max;
        if (size > FD_TABLE_MAX)
                size = FD_TABLE_MAX;
        p = mmap(NULL, size * sizeof(fd_state_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
                return; /* every fd is then "untracked": slower, still correct */
        fd_table = p;
        fd_table_size = (unsigned) size;
}

/* ---- messages ------------------------------------------------------------
 *
 * To stderr, unless stderr is a socket or not open: then to syslog. For an
 * inetd-style or Accept=yes service fd 2 is the client's connection, and a
 * line there would land in the client's protocol stream (issue 12). Any
 * socket, not only TCP: an Accept=yes unit may listen on a Unix socket, and
 * the journal's stdout stream of an ordinary service is a Unix socket too,
 * which syslog reaches as well (journald reads /dev/log).
 */

/* One datagram to /dev/log, written here rather than with syslog(3): that
 * allocates and locks, and say() runs inside wrappers (TCPKEEPALIVE_DEBUG).
 * Raw system calls: none of our wrappers sees this socket. */
static void say_syslog(const char *msg) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
        char line[400];
        int n, fd;

        n = snprintf(line, sizeof(line), "<%d>%s[%d]: tcpkeepalive: %s", LOG_DAEMON | LOG_WARNING,
                     program_invocation_short_name, (int) syscall(SYS_getpid), msg);
        if (n < 0)
                return;
        if ((size_t) n >= sizeof(line))
                n = (int) sizeof(line) - 1;
        fd = sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        (void) sys_sendto(fd, line, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT, (const struct sockaddr *) &sa, sizeof(sa));
        (void) sys_close(fd);
}

static bool stderr_is_safe(void) {
        struct stat st;
        return fstat(STDERR_FILENO, &st) == 0 && !S_ISSOCK(st.st_mode);
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...) {
        char buf[320];
        va_list ap;
        int n, saved_errno = errno;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                goto out;
        if ((size_t) n > sizeof(buf) - 2)
                n = (int) sizeof(buf) - 2;
        if (cfg.use_syslog || !stderr_is_safe()) {
                buf[n] = '\0';
                say_syslog(buf);
        } else {
                static const char prefix[] = "tcpkeepalive: ";
                buf[n++] = '\n';
                /* stderr may be a full pipe; never retry a failing write. */
                if (write(STDERR_FILENO, prefix, sizeof(prefix) - 1) > 0)
                        (void) !write(STDERR_FILENO, buf, (size_t) n);
        }
out:
        errno = saved_errno;
}

/* ---- classifying and configuring sockets -------------------------------- */

static inline bool is_tcp(int domain, int type, int protocol) {
        return (domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_STREAM &&
               (protocol == 0 || protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP);
}

static int getsockopt_int(int fd, int level, int name) {
        int v = -1;
        socklen_t len = sizeof(v);
        if (getsockopt(fd, level, name, &v, &len) < 0)
                return -1;
        return v;
}

/* Slow path: asks the kernel what an fd we did not see created is. */
static unsigned classify(int fd) {
        int domain = getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
        if (domain != AF_INET && domain != AF_INET6)
                return FD_KNOWN;
        if (!is_tcp(domain, getsockopt_int(fd, SOL_SOCKET, SO_TYPE), getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL)))
                return FD_KNOWN;
        return FD_KNOWN | FD_TCP;
}

static unsigned classify_and_remember(int fd) {
        unsigned s = fd_state_get(fd);
        if (s == FD_UNTRACKED || !(s & FD_KNOWN)) {
                s = classify(fd);
                fd_state_set(fd, s);
        }
        return s;
}

static inline int set_int(int fd, int level, int name, int value) {
        return real_setsockopt(fd, level, name, &value, sizeof(value));
}

/* The values of the socket's state: the unit's own or its path rule's. */
static inline const struct ka_values *values_of(unsigned state) {
        unsigned path = (state & FD_PATH_MASK) >> FD_PATH_SHIFT;
        return path ? &path_values[path - 1] : &cfg.base;
}

/* What a socket has now, as apply() takes it: on a pristine one (fresh from
 * our socket(), no keepalive option set on it since) the netns defaults;
 * on any other nothing is known: the program, a parent or another process
 * may have set its own (issue 12: force mode left an application's idle 10
 * in place because the rule's idle equalled the sysctl default). */
static const struct ka_values unknown_values = { -1, -1, -1, -1 };

static inline const struct ka_values *current_values(bool pristine) {
        return pristine ? &cfg.defaults : &unknown_values;
}

/* The value to set for one option, or -1 for no call: the wanted value
 * unless the socket has it already; for an option the values leave to the
 * kernel, its default, but only where the socket is known to have another
 * one (a connection cloned from a listener that got the unit's values,
 * given a path rule's). */
static inline int value_to_set(int want, int cur, int def) {
        if (want > 0)
                return want != cur ? want : -1;
        return cur > 0 && def >= 0 && cur != def ? def : -1;
}

static void path_name(unsigned path, char *buf, size_t size) {
        if (path)
                snprintf(buf, size, " (path rule %s%u)", KA_ENV_PATH_PREFIX, path_number[path - 1]);
        else if (cfg.n_paths)
                snprintf(buf, size, " (no path rule: the unit's values)");
        else
                buf[0] = '\0';
}

/* Applies values v (path: 0 the unit's own, n paths[n - 1], for the debug
 * line) to a socket that has cur, but for the options in own (FD_SET_*:
 * default mode, the program set them itself; they stay the program's,
 * SO_KEEPALIVE=0 included). Returns true when SO_KEEPALIVE is on (or the
 * program's) and the options were tried; the program never sees our
 * errors. */
static bool apply(int fd, const char *why, const struct ka_values *v, const struct ka_values *cur, unsigned own,
                  unsigned path) {
        bool ok = true;
        int x;

        if (!(own & FD_SET_KEEPALIVE) && set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1) < 0) {
                if (cfg.debug)
                        say("fd %d (%s): SO_KEEPALIVE failed: %s", fd, why, strerror(errno));
                return false;
        }
        if (!(own & FD_SET_IDLE) && (x = value_to_set(v->idle, cur->idle, cfg.defaults.idle)) > 0 &&
            set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, x) < 0)
                ok = false;
        if (!(own & FD_SET_INTERVAL) && (x = value_to_set(v->interval, cur->interval, cfg.defaults.interval)) > 0 &&
            set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, x) < 0)
                ok = false;
        if (!(own & FD_SET_COUNT) && (x = value_to_set(v->count, cur->count, cfg.defaults.count)) > 0 &&
            set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, x) < 0)
                ok = false;
        if (!(own & FD_SET_USER_TIMEOUT) && (x = value_to_set(v->user_timeout, cur->user_timeout, 0)) >= 0 &&
            set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, x) < 0)
                ok = false;
        if (cfg.debug) {
                char p[64];
                path_name(path, p, sizeof(p));
                say("fd %d (%s): keepalive on, idle=%d interval=%d count=%d user_timeout=%d%s%s%s%s%s%s%s%s%s",
                    fd, why, v->idle, v->interval, v->count, v->user_timeout, p,
                    own ? " (the program's own:" : "", own & FD_SET_KEEPALIVE ? " SO_KEEPALIVE" : "",
                    own & FD_SET_IDLE ? " idle" : "", own & FD_SET_INTERVAL ? " interval" : "",
                    own & FD_SET_COUNT ? " count" : "", own & FD_SET_USER_TIMEOUT ? " user_timeout" : "",
                    own ? ")" : "", ok ? "" : " (some options failed)");
        }
        return true;
}

static void manage(int fd, const char *why, bool pristine, unsigned own) {
        if (apply(fd, why, &cfg.base, current_values(pristine), own, 0))
                fd_state_add(fd, FD_MANAGED);
}

/* Configures fd with path rule path (0: the unit's own values). */
static void manage_path(int fd, const char *why, unsigned path, const struct ka_values *cur, unsigned own) {
        if (apply(fd, why, path ? &path_values[path - 1] : &cfg.base, cur, own, path))
                fd_state_add(fd, FD_MANAGED | (path << FD_PATH_SHIFT));
}

/* Keepalive on with exactly values v: set by this library in an earlier
 * image of an exec chain (a wrapper script, then the real program). */
static bool has_values(const struct ka_values *have, const struct ka_values *v) {
        return (v->idle <= 0 || have->idle == v->idle) && (v->interval <= 0 || have->interval == v->interval) &&
               (v->count <= 0 || have->count == v->count) &&
               (v->user_timeout <= 0 || have->user_timeout == v->user_timeout);
}

static void read_values(int fd, struct ka_values *have) {
        have->idle = getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE);
        have->interval = getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL);
        have->count = getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT);
        have->user_timeout = getsockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
}

static bool carries_values(int fd, const struct ka_values *v) {
        struct ka_values have;
        if (getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE) != 1)
                return false;
        read_values(fd, &have);
        return has_values(&have, v);
}

static bool carries_our_values(int fd) {
        return carries_values(fd, &cfg.base);
}

static unsigned values_given(const struct ka_values *v) {
        return (v->idle > 0) + (v->interval > 0) + (v->count > 0) + (v->user_timeout > 0);
}

/* Which of our values a socket we did not see configured carries: the
 * state bits (FD_MANAGED and its path), 0 for none. Of several that fit,
 * the one that gives the most options (a rule that gives none fits any
 * socket with keepalive on), the unit's own between equals. */
static unsigned find_our_values(int fd) {
        struct ka_values have;
        unsigned bits = 0;
        int best = -1;

        if (getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE) != 1)
                return 0;
        read_values(fd, &have);
        for (unsigned i = 0; i <= cfg.n_paths; i++) {
                /* i == 0: the unit's own */
                const struct ka_values *v = i ? &path_values[i - 1] : &cfg.base;
                if (has_values(&have, v) && (int) values_given(v) > best) {
                        best = (int) values_given(v);
                        bits = FD_MANAGED | (i << FD_PATH_SHIFT);
                }
        }
        return bits;
}

static uint32_t be32_at(const uint8_t *b) {
        return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
}

static uint64_t be64_at(const uint8_t *b) {
        return (uint64_t) be32_at(b) << 32 | be32_at(b + 4);
}

static uint64_t mask64(int bits) {
        return bits <= 0 ? 0 : bits >= 64 ? ~(uint64_t) 0 : ~(uint64_t) 0 << (64 - bits);
}

/* An address as a key: IPv4 in the top 32 bits. */
static struct key128 key_of(uint8_t family, const uint8_t *addr) {
        if (family == AF_INET)
                return (struct key128) { (uint64_t) be32_at(addr) << 32, 0 };
        return (struct key128) { be64_at(addr), be64_at(addr + 8) };
}

static struct key128 key_mask(uint8_t family, unsigned len) {
        if (family == AF_INET)
                return (struct key128) { mask64((int) len) & ~(uint64_t) 0 << 32, 0 };
        return (struct key128) { mask64((int) len), mask64((int) len - 64) };
}

static inline int key_cmp(struct key128 a, struct key128 b) {
        if (a.hi != b.hi)
                return a.hi < b.hi ? -1 : 1;
        return a.lo < b.lo ? -1 : a.lo > b.lo;
}

/* Group order: family, then the longer prefix first, then the network. */
static int prefix_order(const struct ka_prefix *a, struct key128 ka, const struct ka_prefix *b, struct key128 kb) {
        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        if (a->len != b->len)
                return a->len > b->len ? -1 : 1;
        return key_cmp(ka, kb);
}

/* Compiles paths[i] (read_paths, once per rule, in order, after parsing
 * it). An insertion sort: at most 128 prefixes, once, and no allocation
 * (this may run inside the first wrapper called). */
static void compile_path(unsigned i) {
        static unsigned n_sorted, n_groups; /* used so far by rules 0..i-1 */
        const struct ka_path *p = &paths[i];
        struct compiled_path *c = &compiled[i];
        unsigned order[KA_PATH_DESTINATIONS_MAX], n = 0;
        struct key128 keys[KA_PATH_DESTINATIONS_MAX];

        if (i == 0)
                n_sorted = n_groups = 0;
        *c = (struct compiled_path) { .group_first = (uint16_t) n_groups };
        for (unsigned k = 0; k < p->n_destinations && k < KA_PATH_DESTINATIONS_MAX; k++) {
                const struct ka_prefix *d = &p->destinations[k];
                unsigned j = n++;
                if (!d->exclude)
                        c->any_include = true;
                keys[k] = key_of(d->family, d->addr);
                while (j > 0 && prefix_order(d, keys[k], &p->destinations[order[j - 1]], keys[order[j - 1]]) < 0) {
                        order[j] = order[j - 1];
                        j--;
                }
                order[j] = k;
        }
        for (unsigned j = 0; j < n; j++) {
                const struct ka_prefix *d = &p->destinations[order[j]];
                struct prefix_group *g = c->n_groups ? &prefix_groups[n_groups - 1] : NULL;
                if (!g || g->family != d->family || g->len != d->len) {
                        g = &prefix_groups[n_groups++];
                        *g = (struct prefix_group) { key_mask(d->family, d->len), (uint16_t) n_sorted, 0, d->family, d->len };
                        c->n_groups++;
                }
                if (g->n && key_cmp(sorted_prefixes[n_sorted - 1].net, keys[order[j]]) == 0) {
                        sorted_prefixes[n_sorted - 1].exclude |= d->exclude; /* the same prefix twice */
                        continue;
                }
                sorted_prefixes[n_sorted++] = (struct sorted_prefix) { keys[order[j]], d->exclude };
                g->n++;
        }
}

/* ka_path_specificity() over the compiled prefixes. */
static int compiled_specificity(unsigned i, const struct ka_conn_ends *e) {
        const struct ka_path *p = &paths[i];
        const struct compiled_path *c = &compiled[i];
        int best = -1;

        if (p->n_ports && !ka_port_in(p->ports, p->n_ports, e->peer_port))
                return -1;
        if (p->n_local_ports && !ka_port_in(p->local_ports, p->n_local_ports, e->local_port))
                return -1;
        if (c->n_groups && (e->family == AF_INET || e->family == AF_INET6)) {
                struct key128 a = key_of(e->family, e->peer);
                for (unsigned gi = 0; gi < c->n_groups; gi++) {
                        const struct prefix_group *g = &prefix_groups[c->group_first + gi];
                        const struct sorted_prefix *q = &sorted_prefixes[g->first];
                        struct key128 want = { a.hi & g->mask.hi, a.lo & g->mask.lo };
                        unsigned lo = 0, hi = g->n;
                        if (g->family != e->family)
                                continue;
                        while (lo < hi) {
                                unsigned mid = (lo + hi) / 2;
                                int r = key_cmp(q[mid].net, want);
                                if (r == 0) {
                                        if (q[mid].exclude)
                                                return -1;
                                        if (g->len > best)
                                                best = g->len;
                                        break;
                                }
                                if (r < 0)
                                        lo = mid + 1;
                                else
                                        hi = mid;
                        }
                }
        }
        if (c->any_include && best < 0)
                return -1;
        return (best + 1) * 4 + (p->n_ports ? 2 : 0) + (p->n_local_ports ? 1 : 0);
}

/* ka_paths_match() over the compiled prefixes: -1 or the index. */
static int compiled_match(const struct ka_conn_ends *e) {
        int best = -1, best_score = -1;

        for (unsigned i = 0; i < cfg.n_paths; i++) {
                int sc = compiled_specificity(i, e);
                if (sc >= 0 && sc >= best_score) {
                        best = (int) i;
                        best_score = sc;
                }
        }
        return best;
}

/* The path rule that covers a connection (1 + its index), 0 for none. */
static unsigned match_path(int fd, const struct sockaddr *peer, socklen_t peer_len) {
        struct sockaddr_storage local;
        socklen_t local_len = sizeof(local);
        struct ka_conn_ends ends;

        if (!cfg.paths_lport || getsockname(fd, (struct sockaddr *) &local, &local_len) < 0)
                local_len = 0;
        ka_conn_ends_from(&ends, peer, peer_len, local_len ? (struct sockaddr *) &local : NULL, local_len);
        return (unsigned) (compiled_match(&ends) + 1);
}

static bool differs(int value, int def) {
        return def >= 0 && value >= 0 && value != def;
}

/* In default mode an owner's choice found on a socket we did not create
 * (systemd's KeepAlive= on a .socket unit, a parent process, the program
 * itself before it moved the socket with F_DUPFD or SCM_RIGHTS, or on an fd
 * beyond our table) is respected: keepalive on, or off with any keepalive
 * option away from the netns default (this library set its values at
 * socket() before the program turned keepalive off, or the program set its
 * own). Keepalive off with every option at the default is taken as
 * untouched: an explicit SO_KEEPALIVE=0 alone cannot be told from that. */
static bool owner_chose(int fd) {
        if (cfg.mode != KA_MODE_DEFAULT)
                return false;
        return getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE) == 1 ||
               differs(getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE), cfg.defaults.idle) ||
               differs(getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL), cfg.defaults.interval) ||
               differs(getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT), cfg.defaults.count) ||
               differs(getsockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
}

/* Takes over a listener we did not create. Connections already queued on it
 * were cloned from the old options, so FD_BACKLOG makes accept check each
 * new connection until the first one that inherited ours. (Also when an
 * earlier image of an exec chain configured it: the queue may predate that.)
 * Returns the bits it gave the listener (also for one beyond the table). */
static unsigned adopt_listener(int fd, const char *why) {
        unsigned bits = 0;
        if (carries_our_values(fd))
                bits = FD_MANAGED | FD_BACKLOG;
        else if (owner_chose(fd))
                bits = FD_APP;
        else if (cfg.unmatched_off)
                bits = 0; /* only path rules reach the unit: its connections get theirs */
        else if (apply(fd, why, &cfg.base, &unknown_values, 0, 0))
                bits = FD_MANAGED | FD_BACKLOG;
        fd_state_add(fd, bits);
        return bits;
}

/* Sockets open when the program started: socket activation hands listeners
 * in, inetd and Accept=yes hand connections in as fd 0/1. */
static void adopt_inherited(int fd) {
        unsigned s = classify(fd);
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);

        fd_state_set(fd, s);
        if (!(s & FD_TCP))
                return;
        if (getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1) {
                if (cfg.direction & KA_DIRECTION_INBOUND)
                        adopt_listener(fd, "inherited listener");
        } else if (getpeername(fd, (struct sockaddr *) &peer, &len) == 0) {
                /* A connection handed over at exec: inbound (inetd style). */
                unsigned path = 0;
                if (!(cfg.direction & KA_DIRECTION_INBOUND))
                        return;
                if (cfg.n_paths) {
                        path = match_path(fd, (struct sockaddr *) &peer, len);
                        if (!path && cfg.unmatched_off)
                                return;
                }
                if (carries_values(fd, path ? &path_values[path - 1] : &cfg.base))
                        fd_state_add(fd, FD_MANAGED | (path << FD_PATH_SHIFT));
                else if (owner_chose(fd))
                        fd_state_add(fd, FD_APP);
                else
                        manage_path(fd, "inherited connection", path, &unknown_values, 0);
        } else if (cfg.at_socket) {
                manage(fd, "inherited socket", false, 0);
        }
}

static void adopt_inherited_fds(void) {
        char buf[2048];
        int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0) {
                /* No /proc: the fds systemd passes, and the inetd ones. */
                const char *n = getenv("LISTEN_FDS");
                unsigned count = 0;
                if (!n || ka_parse_uint(n, 0, 4096, &count) < 0)
                        count = 0;
                for (int fd = 0; fd < 3 + (int) count; fd++)
                        adopt_inherited(fd);
                return;
        }
        for (;;) {
                long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (long off = 0; off < n;) {
                        struct dirent64 *d = (struct dirent64 *) (buf + off);
                        unsigned fd;
                        off += d->d_reclen;
                        if (ka_parse_uint(d->d_name, 0, 0x7fffffff, &fd) < 0 || (int) fd == dfd)
                                continue;
                        adopt_inherited((int) fd);
                }
        }
        (void) sys_close(dfd);
}

/* ---- reading the environment -------------------------------------------- */

/* Reads one small integer file, e.g. /proc/sys/net/ipv4/tcp_keepalive_time. */
static int read_sysctl(const char *path) {
        char buf[32];
        unsigned v;
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        (void) sys_close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return ka_parse_uint(buf, 0, 0x7fffffff, &v) < 0 ? -1 : (int) v;
}

/* Our variable wins over libkeepalive's; a bad value of ours is reported and
 * leaves the kernel default rather than falling back to the other one. */
static int env_number(enum ka_setting setting) {
        const struct ka_setting_info *s = ka_setting(setting);
        const char *used = s->env, *v = secure_getenv(s->env);
        unsigned n;
        int r;

        if (!v && s->compat_env) {
                used = s->compat_env;
                v = secure_getenv(s->compat_env);
        }
        if (!v)
                return -1;
        r = ka_parse_uint(v, s->min, s->max, &n);
        if (r < 0) {
                say("ignoring %s='%s': %s; want %s %u..%u; the kernel default stays", used, v,
                    r == -ERANGE ? "out of range" : "not a number", s->unit, s->min, s->max);
                return -1;
        }
        return (int) n;
}

/* TCPKEEPALIVE_PATH1.., read in order until the first one missing, into
 * static storage; a bad one is reported and skipped, the others stay. */
static void read_paths(void) {
        const char *v;

        cfg.n_paths = 0;
        cfg.paths_lport = cfg.unmatched_off = false;
        for (unsigned i = 1; i <= KA_PATHS_MAX; i++) {
                char name[sizeof(KA_ENV_PATH_PREFIX) + 4];
                struct ka_path *p = &paths[cfg.n_paths];

                snprintf(name, sizeof(name), "%s%u", KA_ENV_PATH_PREFIX, i);
                v = secure_getenv(name);
                if (!v)
                        break;
                if (ka_path_parse(v, p) < 0) {
                        say("ignoring %s='%s': not a path rule (dst=PREFIX,!PREFIX;port=N-M;lport=N;idle=S;interval=S;count=N;user_timeout=MS); that path rule is left out",
                            name, v);
                        continue;
                }
                compile_path(cfg.n_paths);
                path_values[cfg.n_paths] = (struct ka_values) { p->idle, p->interval, p->count, p->user_timeout };
                path_number[cfg.n_paths] = i;
                if (p->n_local_ports)
                        cfg.paths_lport = true;
                cfg.n_paths++;
        }
        v = secure_getenv(KA_ENV_UNMATCHED);
        if (v) {
                if (strcmp(v, "off") == 0)
                        cfg.unmatched_off = true;
                else
                        say("ignoring %s='%s': want off; connections no path rule covers get the unit's values",
                            KA_ENV_UNMATCHED, v);
        }
}

static void read_config(void) {
        const char *v;

        v = secure_getenv(KA_ENV_LOG);
        cfg.use_syslog = v && strcmp(v, "syslog") == 0;
        v = secure_getenv(KA_ENV_DEBUG);
        cfg.debug = v && strcmp(v, "1") == 0;

        cfg.mode = KA_MODE_DEFAULT;
        v = secure_getenv(KA_ENV_MODE);
        if (v) {
                if (ka_parse_mode(v, &cfg.mode) < 0)
                        say("ignoring %s='%s': want default, force or off; using default", KA_ENV_MODE, v);
        } else if ((v = secure_getenv(KA_ENV_COMPAT_KEEPALIVE)) && strcasecmp(v, "off") == 0)
                cfg.mode = KA_MODE_OFF;
        if (cfg.mode == KA_MODE_OFF)
                return;

        cfg.direction = KA_DIRECTION_BOTH;
        v = secure_getenv(KA_ENV_DIRECTION);
        if (v && ka_parse_direction(v, &cfg.direction) < 0)
                say("ignoring %s='%s': want both, inbound or outbound; using both", KA_ENV_DIRECTION, v);

        cfg.base.idle = env_number(KA_SETTING_IDLE);
        cfg.base.interval = env_number(KA_SETTING_INTERVAL);
        cfg.base.count = env_number(KA_SETTING_COUNT);
        cfg.base.user_timeout = env_number(KA_SETTING_USER_TIMEOUT);

        read_paths();

        /* A new socket already has the netns defaults: setting them again is
         * a wasted syscall on every connection. */
        cfg.defaults.idle = read_sysctl("/proc/sys/net/ipv4/tcp_keepalive_time");
        cfg.defaults.interval = read_sysctl("/proc/sys/net/ipv4/tcp_keepalive_intvl");
        cfg.defaults.count = read_sysctl("/proc/sys/net/ipv4/tcp_keepalive_probes");
        cfg.defaults.user_timeout = 0;

        /* With path rules a socket's values depend on its peer: decided at
         * connect() and accept(), not at socket(). */
        cfg.at_socket = cfg.direction == KA_DIRECTION_BOTH && !cfg.n_paths;
        cfg.at_connect = cfg.n_paths ? (cfg.direction & KA_DIRECTION_OUTBOUND) != 0
                                     : cfg.direction == KA_DIRECTION_OUTBOUND;
        cfg.at_listen = cfg.n_paths ? (cfg.direction & KA_DIRECTION_INBOUND) && !cfg.unmatched_off
                                    : cfg.direction == KA_DIRECTION_INBOUND;
        /* Every connection is unmatched: nothing to do. */
        cfg.active = !(cfg.unmatched_off && !cfg.n_paths);

        if (cfg.debug) {
                say("pid %d: mode=%s direction=%s idle=%d interval=%d count=%d user_timeout=%d paths=%u%s",
                    (int) getpid(), ka_mode_to_string(cfg.mode), ka_direction_to_string(cfg.direction),
                    cfg.base.idle, cfg.base.interval, cfg.base.count, cfg.base.user_timeout, cfg.n_paths,
                    cfg.unmatched_off ? " unmatched=off" : "");
                for (unsigned i = 0; i < cfg.n_paths; i++)
                        say("path rule %s%u: %u destinations, %u port ranges, %u local port ranges, idle=%d interval=%d count=%d user_timeout=%d",
                            KA_ENV_PATH_PREFIX, path_number[i], paths[i].n_destinations, paths[i].n_ports,
                            paths[i].n_local_ports, path_values[i].idle, path_values[i].interval,
                            path_values[i].count, path_values[i].user_timeout);
        }
}

/* ---- initialisation ------------------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool initialized;

static void init(void) {
        int saved_errno = errno;

        RESOLVE(socket);
        RESOLVE(accept);
        RESOLVE(accept4);
        RESOLVE(connect);
        RESOLVE(listen);
        RESOLVE(setsockopt);
        RESOLVE(close);
        RESOLVE(dup);
        RESOLVE(dup2);
        RESOLVE(dup3);
        RESOLVE(close_range);
        RESOLVE(closefrom);
        RESOLVE(sendto);
        RESOLVE(sendmsg);
        RESOLVE(sendmmsg);

        read_config();
        if (cfg.active) {
                table_pid_record();
                (void) pthread_atfork(NULL, NULL, table_pid_record);
                fd_table_init();
                adopt_inherited_fds();
        }
        __atomic_store_n(&initialized, true, __ATOMIC_RELEASE);
        errno = saved_errno;
}

/* Another library's constructor may open a socket before ours has run. */
static inline void ensure_init(void) {
        if (UNLIKELY(!__atomic_load_n(&initialized, __ATOMIC_ACQUIRE)))
                pthread_once(&init_once, init);
}

__attribute__((constructor)) static void tcpkeepalive_init(void) {
        ensure_init();
}

/* ---- the wrappers ---------------------------------------------------------- */

EXPORT int socket(int domain, int type, int protocol) {
        int fd, saved_errno;

        ensure_init();
        fd = real_socket(domain, type, protocol);
        if (fd < 0 || !cfg.active)
                return fd;
        saved_errno = errno;
        if (is_tcp(domain, type, protocol)) {
                fd_state_set(fd, FD_KNOWN | FD_TCP | FD_PRISTINE);
                if (cfg.at_socket)
                        manage(fd, "socket", true, 0);
        } else {
                fd_state_set(fd, FD_KNOWN);
        }
        errno = saved_errno;
        return fd;
}

/* With a direction filter the use of a socket is known only at connect() or
 * listen(), with path rules its peer only at connect(); configure it then
 * (peer: the address connect() got, NULL at listen(): the unit's values). In default mode the options the program set
 * itself before (FD_SET_*) stay its own, the rule supplies the others, as
 * Direction=both (configured at socket(), then the program's calls) and the
 * BPF backend (at establishment) do; the owner's choice found on a socket
 * we did not see made (FD_APP) stays whole: which options it set is not
 * known. */
static void manage_on_use(int fd, const char *why, bool by_peer, const struct sockaddr *peer, socklen_t peer_len) {
        unsigned s = fd_state_get(fd);

        if (s == FD_UNTRACKED || !(s & FD_KNOWN)) {
                /* Beyond the table, not made by our socket(), or cleared by a
                 * vfork child: classify it (never pristine: we cannot know),
                 * and respect a choice found on it. */
                s = classify(fd);
                if ((s & FD_TCP) && owner_chose(fd))
                        s |= FD_APP;
                fd_state_set(fd, s);
        }
        if ((s & (FD_TCP | FD_MANAGED | FD_APP)) != FD_TCP)
                return;
        if (cfg.n_paths && by_peer) {
                /* (no address: family 0, which only a rule without dst= covers) */
                unsigned path = match_path(fd, peer, peer ? peer_len : 0);
                if (!path && cfg.unmatched_off) {
                        if (UNLIKELY(cfg.debug))
                                say("fd %d (%s): no path rule covers the peer, and %s=off", fd, why, KA_ENV_UNMATCHED);
                        return;
                }
                manage_path(fd, why, path, current_values((s & FD_PRISTINE) != 0), s & FD_SET_ANY);
                return;
        }
        manage(fd, why, (s & FD_PRISTINE) != 0, s & FD_SET_ANY);
}

/* Did the kernel take the address of a connecting call? Then it was the
 * program's to read. A path rule's values are set after the call: the
 * library never reads an address the kernel would have refused with
 * EFAULT (a crash instead, in the program's process), and keepalive
 * options set on a connecting or connected socket take effect alike. */
static inline bool address_taken(ssize_t r, int err) {
        return r >= 0 || err == EINPROGRESS || err == EINTR;
}

static __attribute__((noinline)) int connect_by_path(int fd, const struct sockaddr *addr, socklen_t len) {
        int r = real_connect(fd, addr, len), saved_errno = errno;

        if (address_taken(r, saved_errno))
                manage_on_use(fd, "connect", true, addr, len);
        errno = saved_errno;
        return r;
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len) {
        ensure_init();
        if (UNLIKELY(cfg.n_paths) && cfg.active && cfg.at_connect)
                return connect_by_path(fd, addr, len);
        if (cfg.active && cfg.at_connect) {
                int saved_errno = errno;
                manage_on_use(fd, "connect", true, addr, len);
                errno = saved_errno;
        }
        return real_connect(fd, addr, len);
}

EXPORT int listen(int fd, int backlog) {
        ensure_init();
        if (cfg.active && cfg.at_listen) {
                int saved_errno = errno;
                manage_on_use(fd, "listen", false, NULL, 0);
                errno = saved_errno;
        }
        return real_listen(fd, backlog);
}

/* What a connection cloned from a listener in state ls has: the unit's
 * values where the listener got them (given), else the netns defaults
 * where it was pristine, else unknown. */
static void clone_values(unsigned ls, struct ka_values *cur) {
        const struct ka_values *pristine = current_values((ls & FD_PRISTINE) != 0);

        *cur = *pristine;
        if ((ls & (FD_MANAGED | FD_BACKLOG)) == FD_MANAGED) {
                if (cfg.base.idle > 0)
                        cur->idle = cfg.base.idle;
                if (cfg.base.interval > 0)
                        cur->interval = cfg.base.interval;
                if (cfg.base.count > 0)
                        cur->count = cfg.base.count;
                if (cfg.base.user_timeout > 0)
                        cur->user_timeout = cfg.base.user_timeout;
        } else if (ls & FD_MANAGED) {
                *cur = unknown_values; /* maybe queued before we configured the listener */
        }
}

/* With path rules: an accepted connection's values by its peer. Returns
 * false when the listener's (the unit's values, inherited) stand. */
static bool accept_by_path(unsigned ls, int nfd, const struct sockaddr *peer, socklen_t peer_len) {
        struct sockaddr_storage ss;
        struct ka_values cur;
        unsigned path;

        if (!peer) {
                peer_len = sizeof(ss);
                if (getpeername(nfd, (struct sockaddr *) &ss, &peer_len) < 0)
                        peer_len = 0;
                peer = (struct sockaddr *) &ss;
        }
        path = match_path(nfd, peer, peer_len);
        if (!path) {
                if (!cfg.unmatched_off)
                        return false;
                fd_state_set(nfd, FD_KNOWN | FD_TCP);
                if (UNLIKELY(cfg.debug))
                        say("fd %d (accept): no path rule covers the peer, and %s=off", nfd, KA_ENV_UNMATCHED);
                return true;
        }
        fd_state_set(nfd, FD_KNOWN | FD_TCP);
        clone_values(ls, &cur);
        /* Keepalive is on already in a clone of a listener we configured. */
        manage_path(nfd, "accept", path, &cur, (ls & FD_SET_ANY) | ((ls & (FD_MANAGED | FD_BACKLOG)) == FD_MANAGED ? FD_SET_KEEPALIVE : 0));
        return true;
}

/* On Linux an accepted socket is a clone of its listener, keepalive options
 * included (measured): a managed listener's connections need no syscall.
 * peer: the connection's peer as accept() returned it, or NULL. */
static void after_accept(int lfd, int nfd, const struct sockaddr *peer, socklen_t peer_len) {
        int saved_errno = errno;
        unsigned before = fd_state_get(lfd), ls = classify_and_remember(lfd);

        if (!(ls & FD_TCP)) {
                fd_state_set(nfd, FD_KNOWN);
        } else if (!(cfg.direction & KA_DIRECTION_INBOUND)) {
                fd_state_set(nfd, FD_KNOWN | FD_TCP);
        } else if ((ls & FD_APP) || ((ls & FD_SET_ANY) && (ls & (FD_MANAGED | FD_BACKLOG)) != FD_MANAGED)) {
                /* The owner's choice on the listener is its connections'.
                 * Options the program set on a listener we configured at
                 * socket() or listen() are in its clones along with ours
                 * (the last branch); on one we adopted late or did not
                 * configure, they stay whole, as found. */
                fd_state_set(nfd, FD_KNOWN | FD_TCP | FD_APP);
        } else if (UNLIKELY(cfg.n_paths) && !(ls & FD_MANAGED) && (before == FD_UNTRACKED || !(before & FD_KNOWN)) &&
                   ((ls |= adopt_listener(lfd, "listener")) & FD_APP)) {
                /* With path rules too: a listener we had not seen made
                 * (below) with the program's choice on it. (One we made and
                 * did not configure, UNMATCHED=off, has its choices in
                 * FD_SET_*: the branch above.) */
                fd_state_set(nfd, FD_KNOWN | FD_TCP | FD_APP);
        } else if (UNLIKELY(cfg.n_paths) && accept_by_path(ls, nfd, peer, peer_len)) {
                /* the connection's path rule decided */
        } else if (!(ls & FD_MANAGED)) {
                /* A TCP listener we had not seen: moved with F_DUPFD, from
                 * SCM_RIGHTS or a raw syscall, or beyond the table (then
                 * at every accept). Its connections are its clones: the
                 * program's choice on it is theirs too (issue 12). */
                if (adopt_listener(lfd, "listener") & FD_APP) {
                        fd_state_set(nfd, FD_KNOWN | FD_TCP | FD_APP);
                } else {
                        fd_state_set(nfd, FD_KNOWN | FD_TCP);
                        manage(nfd, "accept", false, 0);
                }
        } else if ((ls & FD_BACKLOG) && getsockopt_int(nfd, SOL_SOCKET, SO_KEEPALIVE) != 1) {
                fd_state_set(nfd, FD_KNOWN | FD_TCP);
                manage(nfd, "accept, queued before adoption", false, 0);
        } else {
                if (ls & FD_BACKLOG)
                        fd_state_remove(lfd, FD_BACKLOG);
                fd_state_set(nfd, FD_KNOWN | FD_TCP | FD_MANAGED);
                if (UNLIKELY(cfg.debug))
                        say("fd %d (accept): inherits the listener's keepalive", nfd);
        }
        errno = saved_errno;
}

/* With path rules, accept4() with the peer's address: where the program
 * passed no buffer, ours (the kernel writes the address either way: no
 * getpeername()); where it passed one, after_accept asks getpeername():
 * the program's buffer may be shorter than the address (the kernel then
 * writes part of it) and its length is never read before the call (a bad
 * pointer is the kernel's EFAULT, never a crash in the library). */
static __attribute__((noinline)) int accept_with_peer(int fd, struct sockaddr *addr, socklen_t *len, int flags,
                                                      bool four) {
        struct sockaddr_storage ss;
        socklen_t ss_len = sizeof(ss);
        bool own = !addr;
        int nfd;

        nfd = four ? real_accept4(fd, own ? (struct sockaddr *) &ss : addr, own ? &ss_len : len, flags)
                   : real_accept(fd, own ? (struct sockaddr *) &ss : addr, own ? &ss_len : len);
        if (nfd >= 0) {
                int saved_errno = errno;
                if (own)
                        after_accept(fd, nfd, (struct sockaddr *) &ss, ss_len);
                else
                        after_accept(fd, nfd, NULL, 0);
                errno = saved_errno;
        }
        return nfd;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len) {
        int nfd;

        ensure_init();
        if (UNLIKELY(cfg.n_paths) && cfg.active)
                return accept_with_peer(fd, addr, len, 0, false);
        nfd = real_accept(fd, addr, len);
        if (nfd >= 0 && cfg.active)
                after_accept(fd, nfd, NULL, 0);
        return nfd;
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
        int nfd;

        ensure_init();
        if (UNLIKELY(cfg.n_paths) && cfg.active)
                return accept_with_peer(fd, addr, len, flags, true);
        nfd = real_accept4(fd, addr, len, flags);
        if (nfd >= 0 && cfg.active)
                after_accept(fd, nfd, NULL, 0);
        return nfd;
}

/* The rule's value (v: the unit's or the socket's path rule's) for an
 * option force mode keeps, or -1 when the rule leaves that option to the
 * program. */
static int rule_value(int level, int name, const struct ka_values *v) {
        if (level == SOL_SOCKET)
                return name == SO_KEEPALIVE ? 1 : -1;
        switch (name) {
        case TCP_KEEPIDLE: return v->idle;
        case TCP_KEEPINTVL: return v->interval;
        case TCP_KEEPCNT: return v->count;
        case TCP_USER_TIMEOUT: return v->user_timeout > 0 ? v->user_timeout : -1;
        default: return -1;
        }
}

/* Force mode, an option the rule keeps, on a socket it configured. The
 * program's optval is never read before the kernel has: the call goes to
 * the kernel first, which checks pointer, length and value and gives its
 * own error (issue 12: a bad pointer crashed the program, a bad value got
 * 0). Only once the kernel read it successfully do we look at the value,
 * and put the rule's back if it differs: the call is absorbed, it succeeds
 * and changes nothing (but SO_KEEPALIVE off and on again restarts the idle
 * timer; timing options re-arm it from the last activity, as before). */
static int force_setsockopt(int fd, int level, int name, const void *val, socklen_t len, int rule, int saved_errno) {
        int v, r = real_setsockopt(fd, level, name, val, len);

        if (r < 0 || len < sizeof(v))
                return r; /* (every keepalive option wants an int: not reached) */
        memcpy(&v, val, sizeof(v)); /* the kernel just read these bytes */
        if (level == SOL_SOCKET ? v == 0 : v != rule) {
                (void) set_int(fd, level, name, rule);
                if (cfg.debug)
                        say("fd %d: force mode keeps the rule's value (absorbed setsockopt %s %d)", fd,
                            level == SOL_SOCKET ? "SOL_SOCKET" : "IPPROTO_TCP", name);
        }
        errno = saved_errno;
        return 0;
}

static inline bool is_keepalive_option(int level, int name) {
        return (level == SOL_SOCKET && name == SO_KEEPALIVE) ||
               (level == IPPROTO_TCP && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
                                         name == TCP_KEEPCNT || name == TCP_USER_TIMEOUT));
}

/* The FD_SET_* bit of a keepalive option. */
static unsigned option_bit(int level, int name) {
        if (level == SOL_SOCKET)
                return FD_SET_KEEPALIVE;
        switch (name) {
        case TCP_KEEPIDLE: return FD_SET_IDLE;
        case TCP_KEEPINTVL: return FD_SET_INTERVAL;
        case TCP_KEEPCNT: return FD_SET_COUNT;
        default: return FD_SET_USER_TIMEOUT;
        }
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
        ensure_init();
        if (cfg.active && UNLIKELY(is_keepalive_option(level, name))) {
                int saved_errno = errno;
                unsigned s = fd_state_get(fd);
                if (s == FD_UNTRACKED || !(s & FD_KNOWN)) {
                        /* Not seen created: fcntl(F_DUPFD), SCM_RIGHTS, a number
                         * beyond the table. Ours if it carries our values (found
                         * by stress high-fds: a connection moved with F_DUPFD
                         * lost force mode). */
                        s = classify(fd);
                        if (s & FD_TCP)
                                s |= find_our_values(fd);
                        fd_state_set(fd, s);
                }
                if (s & FD_TCP) {
                        int rule = rule_value(level, name, values_of(s));
                        if (cfg.mode == KA_MODE_FORCE && (s & FD_MANAGED) && rule > 0)
                                return force_setsockopt(fd, level, name, val, len, rule, saved_errno);
                        /* Default mode: the program's own choice of this option,
                         * once the kernel took it (a refused call set nothing).
                         * Kept even on a socket we configured: a vfork child's
                         * close() must not make us forget it. FD_PRISTINE
                         * stays: it speaks for the options not set. */
                        if (cfg.mode == KA_MODE_DEFAULT) {
                                int r;
                                errno = saved_errno;
                                r = real_setsockopt(fd, level, name, val, len);
                                if (r == 0)
                                        fd_state_add(fd, option_bit(level, name));
                                return r;
                        }
                        /* No longer at the netns defaults, maybe. */
                        fd_state_remove(fd, FD_PRISTINE);
                }
                errno = saved_errno;
        }
        return real_setsockopt(fd, level, name, val, len);
}

/* The state of a closed fd must not outlive it: the number is reused. */
EXPORT int close(int fd) {
        ensure_init();
        fd_forget(fd);
        return real_close(fd);
}

EXPORT int dup(int fd) {
        int nfd;

        ensure_init();
        nfd = real_dup(fd);
        if (nfd >= 0 && cfg.active)
                fd_state_copy(fd, nfd);
        return nfd;
}

static int after_dup_to(int oldfd, int nfd) {
        if (nfd >= 0 && cfg.active && nfd != oldfd)
                fd_state_copy(oldfd, nfd);
        return nfd;
}

EXPORT int dup2(int oldfd, int newfd) {
        ensure_init();
        return after_dup_to(oldfd, real_dup2(oldfd, newfd));
}

EXPORT int dup3(int oldfd, int newfd, int flags) {
        ensure_init();
        return after_dup_to(oldfd, real_dup3(oldfd, newfd, flags));
}

EXPORT int close_range(unsigned first, unsigned last, int flags) {
        int r;

        ensure_init();
        r = real_close_range(first, last, flags);
        if (r == 0 && fd_table && !((unsigned) flags & CLOSE_RANGE_CLOEXEC))
                fd_forget_range(first, last);
        return r;
}

EXPORT void closefrom(int lowfd) {
        ensure_init();
        real_closefrom(lowfd);
        if (fd_table && lowfd >= 0)
                fd_forget_range((unsigned) lowfd, ~0U);
}

/* TCP Fast Open: sendto(), sendmsg() or sendmmsg() with MSG_FASTOPEN
 * connects without connect() (issue 12). send() cannot: it has no address. */
static inline void before_send(int fd, int flags, const struct sockaddr *addr, socklen_t len) {
        if (UNLIKELY(flags & MSG_FASTOPEN) && cfg.active && cfg.at_connect) {
                int saved_errno = errno;
                manage_on_use(fd, "fast open", true, addr, len);
                errno = saved_errno;
        }
}

/* Fast open under path rules: the values by the address, after the call,
 * once the kernel has taken the address (address_taken: the message and
 * its name were then the program's to read). */
static inline bool fastopen_by_path(int flags) {
        return UNLIKELY(flags & MSG_FASTOPEN) && UNLIKELY(cfg.n_paths) && cfg.active && cfg.at_connect;
}

static __attribute__((noinline)) void after_fastopen(int fd, ssize_t r, const struct msghdr *msg,
                                                     const struct sockaddr *addr, socklen_t len) {
        int saved_errno = errno;

        if (address_taken(r, saved_errno)) {
                if (msg) {
                        addr = msg->msg_name;
                        len = msg->msg_namelen;
                }
                manage_on_use(fd, "fast open", true, addr, addr ? len : 0);
        }
        errno = saved_errno;
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len) {
        ssize_t r;

        ensure_init();
        if (fastopen_by_path(flags)) {
                r = real_sendto(fd, buf, n, flags, addr, len);
                after_fastopen(fd, r, NULL, addr, len);
                return r;
        }
        before_send(fd, flags, addr, len);
        return real_sendto(fd, buf, n, flags, addr, len);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
        ssize_t r;

        ensure_init();
        if (fastopen_by_path(flags)) {
                r = real_sendmsg(fd, msg, flags);
                after_fastopen(fd, r, msg, NULL, 0);
                return r;
        }
        before_send(fd, flags, NULL, 0);
        return real_sendmsg(fd, msg, flags);
}

EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned n, int flags) {
        int r;

        ensure_init();
        if (fastopen_by_path(flags)) {
                r = real_sendmmsg(fd, vec, n, flags);
                /* The first message's header read by the kernel: it went,
                 * or its connection is under way. */
                if (vec && n > 0 && (r > 0 || (r < 0 && (errno == EINPROGRESS || errno == EINTR))))
                        after_fastopen(fd, r, &vec[0].msg_hdr, NULL, 0);
                return r;
        }
        before_send(fd, flags, NULL, 0);
        return real_sendmmsg(fd, vec, n, flags);
}
