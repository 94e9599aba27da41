/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sockprobe: a program that knows nothing about keepalive, run by the tests
 * under libtcpkeepalive.so. It opens sockets the ways real programs do and
 * prints what getsockopt reads back, one line per socket:
 *
 *   LABEL keepalive=1 idle=75 interval=60 count=20 user_timeout=0
 *
 * The shell tests compare those lines with what the environment asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static int opt(int fd, int level, int name) {
        int v = -1;
        socklen_t l = sizeof(v);
        if (getsockopt(fd, level, name, &v, &l) < 0)
                return -1;
        return v;
}

static void report(const char *label, int fd) {
        printf("%s keepalive=%d idle=%d interval=%d count=%d user_timeout=%d\n", label,
               opt(fd, SOL_SOCKET, SO_KEEPALIVE), opt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
               opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), opt(fd, IPPROTO_TCP, TCP_KEEPCNT),
               opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT));
        fflush(stdout);
}

static void die(const char *what) {
        fprintf(stderr, "sockprobe: %s: %s\n", what, strerror(errno));
        exit(2);
}

struct kind {
        const char *name;
        int domain, type, protocol;
};

static const struct kind kinds[] = {
        { "tcp4", AF_INET, SOCK_STREAM, 0 },
        { "tcp6", AF_INET6, SOCK_STREAM, 0 },
        { "tcp4-proto", AF_INET, SOCK_STREAM, IPPROTO_TCP },
        { "tcp4-nonblock", AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0 },
        { "tcp6-cloexec", AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0 },
        { "tcp4-nonblock-cloexec", AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0 },
        { "mptcp4", AF_INET, SOCK_STREAM, IPPROTO_MPTCP },
        { "mptcp6", AF_INET6, SOCK_STREAM, IPPROTO_MPTCP },
        { "udp4", AF_INET, SOCK_DGRAM, 0 },
        { "udp6", AF_INET6, SOCK_DGRAM, 0 },
        { "raw4", AF_INET, SOCK_RAW, IPPROTO_TCP },
        { "raw6", AF_INET6, SOCK_RAW, IPPROTO_TCP },
        { "unix-stream", AF_UNIX, SOCK_STREAM, 0 },
        { "unix-dgram", AF_UNIX, SOCK_DGRAM, 0 },
        { "sctp4-stream", AF_INET, SOCK_STREAM, IPPROTO_SCTP },
        { "sctp4-seqpacket", AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP },
};

/* Prints one line per kind; a kind the kernel lacks prints "unavailable". */
static int cmd_kinds(void) {
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                int fd = socket(kinds[i].domain, kinds[i].type, kinds[i].protocol);
                if (fd < 0) {
                        printf("%s unavailable errno=%d\n", kinds[i].name, errno);
                        continue;
                }
                report(kinds[i].name, fd);
                close(fd);
        }
        return 0;
}

static int listener(int family, int *port) {
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        int fd = socket(family, SOCK_STREAM, 0);
        if (fd < 0)
                die("socket");
        if (family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
                a->sin6_family = AF_INET6;
                a->sin6_addr = in6addr_loopback;
                len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;
                a->sin_family = AF_INET;
                a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof(*a);
        }
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 16) < 0)
                die("bind/listen");
        len = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
                die("getsockname");
        *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                         : ((struct sockaddr_in *) &ss)->sin_port);
        return fd;
}

static int connect_to(int family, int port) {
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        int fd = socket(family, SOCK_STREAM, 0);
        if (fd < 0)
                die("socket");
        if (family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
                a->sin6_family = AF_INET6;
                a->sin6_addr = in6addr_loopback;
                a->sin6_port = htons((uint16_t) port);
                len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;
                a->sin_family = AF_INET;
                a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                a->sin_port = htons((uint16_t) port);
                len = sizeof(*a);
        }
        if (connect(fd, (struct sockaddr *) &ss, len) < 0)
                die("connect");
        return fd;
}

/* A loopback connection: the listener, the client and the accepted end. */
/* Connects c to the loopback port that listener l serves; the accepted fd. */
static int connect_accept(int c, int l, int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int a;

        if (connect(c, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die("connect");
        a = accept(l, NULL, NULL);
        if (a < 0)
                die("accept");
        return a;
}

static int cmd_connection(int family, int use_accept4) {
        int port, l = listener(family, &port), c = connect_to(family, port);
        int a = use_accept4 ? accept4(l, NULL, NULL, SOCK_CLOEXEC) : accept(l, NULL, NULL);
        if (a < 0)
                die("accept");
        report("listener", l);
        report("client", c);
        report("accepted", a);
        return 0;
}

/* Accepts one connection on an inherited listener (fd 3, as systemd passes
 * it), after the connection is made by a child, and reports it. */
static int cmd_accept_inherited(void) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int port, a;
        pid_t pid;

        if (getsockname(3, (struct sockaddr *) &ss, &len) < 0)
                die("fd 3 is not a socket");
        port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
        pid = fork();
        if (pid == 0) {
                int c = connect_to(AF_INET, port);
                char b;
                (void) !read(c, &b, 1);
                _exit(0);
        }
        a = accept(3, NULL, NULL);
        if (a < 0)
                die("accept");
        report("inherited-listener", 3);
        report("accepted", a);
        close(a);
        waitpid(pid, NULL, 0);
        return 0;
}

/* A program that turns keepalive off and sets its own idle time, the way
 * socat's keepalive=0 or an application's config would. */
static int cmd_fight(void) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), zero = 0, five = 5, r1, r2, e1, e2;
        if (fd < 0)
                die("socket");
        errno = 0;
        r1 = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero));
        e1 = errno;
        r2 = setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &five, sizeof(five));
        e2 = errno;
        printf("setsockopt-keepalive-0 rc=%d errno=%d\nsetsockopt-idle-5 rc=%d errno=%d\n", r1, e1, r2, e2);
        report("after-fight", fd);
        return 0;
}

/* Unrelated options and bad calls must behave exactly as without us. */
static int cmd_passthrough(void) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, r;
        if (fd < 0)
                die("socket");
        errno = 4242;
        r = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        printf("reuseaddr rc=%d errno=%d value=%d\n", r, errno, opt(fd, SOL_SOCKET, SO_REUSEADDR));
        errno = 0;
        r = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, 1);
        printf("short-optlen rc=%d errno=%d\n", r, errno);
        errno = 0;
        r = setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, NULL, sizeof(int));
        printf("null-optval rc=%d errno=%d\n", r, errno);
        errno = 0;
        r = setsockopt(-1, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        printf("bad-fd rc=%d errno=%d\n", r, errno);
        errno = 0;
        r = socket(12345, SOCK_STREAM, 0);
        printf("bad-family rc=%d errno=%d\n", r, errno);
        errno = 4242;
        r = socket(AF_INET, SOCK_STREAM, 0);
        printf("socket-success errno=%d\n", errno);
        errno = 0;
        r = connect(-1, NULL, 0);
        printf("connect-bad-fd rc=%d errno=%d\n", r, errno);
        return 0;
}

struct thread_arg {
        int sockets, bad;
};

static void *thread_main(void *p) {
        struct thread_arg *t = p;
        for (int i = 0; i < t->sockets; i++) {
                int port, l = listener(AF_INET, &port), c = connect_to(AF_INET, port);
                int a = accept(l, NULL, NULL);
                if (a < 0 || opt(c, SOL_SOCKET, SO_KEEPALIVE) != 1 || opt(a, SOL_SOCKET, SO_KEEPALIVE) != 1)
                        t->bad++;
                close(a);
                close(c);
                close(l);
        }
        return NULL;
}

/* Many threads opening, accepting and closing at once: fd numbers are reused
 * across threads all the time, so stale per-fd state would show here. */
static int cmd_threads(int nthreads, int per_thread) {
        pthread_t th[64];
        struct thread_arg args[64] = { 0 };
        int bad = 0;
        if (nthreads > 64)
                nthreads = 64;
        for (int i = 0; i < nthreads; i++) {
                args[i].sockets = per_thread;
                if (pthread_create(&th[i], NULL, thread_main, &args[i]) != 0)
                        die("pthread_create");
        }
        for (int i = 0; i < nthreads; i++) {
                pthread_join(th[i], NULL);
                bad += args[i].bad;
        }
        printf("threads connections=%d without-keepalive=%d\n", nthreads * per_thread, bad);
        return 0;
}

/* fork: the child's sockets are configured; exec: the new image too. */
static int cmd_fork_exec(const char *self) {
        pid_t pid = fork();
        int st;
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                report("forked-child", fd);
                execl(self, self, "kinds", (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return 1;
        return 0;
}

/* A listener the library never saw created (a raw syscall, as a static
 * helper or SCM_RIGHTS would hand over) dup2'ed onto the number of a socket
 * the library did configure: accept must not trust the stale state. */
static int cmd_dup_reuse(void) {
        struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a4);
        int raw = (int) syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
        int victim = socket(AF_INET, SOCK_STREAM, 0), c, a;
        if (raw < 0 || victim < 0)
                die("socket");
        if (bind(raw, (struct sockaddr *) &a4, len) < 0 || listen(raw, 4) < 0 ||
            getsockname(raw, (struct sockaddr *) &a4, &len) < 0)
                die("bind/listen");
        report("raw-listener-before", raw);
        if (dup2(raw, victim) < 0)
                die("dup2");
        c = connect_to(AF_INET, ntohs(a4.sin_port));
        a = accept(victim, NULL, NULL);
        if (a < 0)
                die("accept");
        report("dup2-accepted", a);
        close(c);
        return 0;
}

/* A vfork child shares the parent's memory: what it closes (its own copy
 * of the fd table) must not change what the library knows about the
 * parent's sockets. HOW: close_range, closefrom, close, dup2. A socket
 * made before the child and connected after it (with CLIENT "off", the
 * program turned keepalive off on it first), and a listener the program
 * turned keepalive off on before it. */
static int cmd_vfork(const char *how, const char *client) {
        int port, l = listener(AF_INET, &port), zero = 0, c, a, st;
        pid_t pid;

        if (setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero)) < 0)
                die("setsockopt");
        c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0)
                die("socket");
        if (client && !strcmp(client, "off") && setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero)) < 0)
                die("setsockopt");
        pid = vfork();
        if (pid < 0)
                die("vfork");
        if (pid == 0) {
                if (!strcmp(how, "close_range"))
                        (void) close_range(3, ~0U, 0);
                else if (!strcmp(how, "closefrom"))
                        closefrom(3);
                else if (!strcmp(how, "close")) {
                        (void) close(l);
                        (void) close(c);
                } else if (!strcmp(how, "dup2")) {
                        (void) dup2(0, l);
                        (void) dup2(0, c);
                }
                _exit(0);
        }
        if (waitpid(pid, &st, 0) < 0)
                die("waitpid");
        a = connect_accept(c, l, port);
        report("client", c);
        report("accepted", a);
        return 0;
}

/* The program sets its own keepalive options on a socket before connect():
 * force mode must still leave the rule's values on it, all of them, even
 * those equal to the netns defaults. */
static int cmd_preset_connect(void) {
        int port, l = listener(AF_INET, &port), c = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1, ten = 10, three = 3, five = 5, ut = 7000;

        if (c < 0)
                die("socket");
        if (setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
            setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &ten, sizeof(ten)) < 0 ||
            setsockopt(c, IPPROTO_TCP, TCP_KEEPINTVL, &three, sizeof(three)) < 0 ||
            setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &five, sizeof(five)) < 0 ||
            setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)) < 0)
                die("setsockopt");
        (void) connect_accept(c, l, port); /* held open until exit */
        report("client", c);
        return 0;
}

/* setsockopt with a bad pointer, a short length or an invalid value on a
 * configured socket: the program gets exactly the kernel's answer. */
static int cmd_badptr(void) {
        static const struct { const char *name; int level, opt; } o[] = {
                { "keepalive", SOL_SOCKET, SO_KEEPALIVE }, { "idle", IPPROTO_TCP, TCP_KEEPIDLE },
                { "interval", IPPROTO_TCP, TCP_KEEPINTVL }, { "count", IPPROTO_TCP, TCP_KEEPCNT },
                { "user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT },
        };
        int fd = socket(AF_INET, SOCK_STREAM, 0), zero = 0, neg = -1, big = 1 << 20, r;
        if (fd < 0)
                die("socket");
        for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
                errno = 0;
                r = setsockopt(fd, o[i].level, o[i].opt, (const void *) 8, sizeof(int));
                printf("%s-badptr rc=%d errno=%d\n", o[i].name, r, errno);
                errno = 0;
                r = setsockopt(fd, o[i].level, o[i].opt, (const void *) 8, 0);
                printf("%s-badptr-len0 rc=%d errno=%d\n", o[i].name, r, errno);
                errno = 0;
                r = setsockopt(fd, o[i].level, o[i].opt, &zero, 2);
                printf("%s-short rc=%d errno=%d\n", o[i].name, r, errno);
                errno = 0;
                r = setsockopt(fd, o[i].level, o[i].opt, &neg, sizeof(neg));
                printf("%s-minus1 rc=%d errno=%d\n", o[i].name, r, errno);
                errno = 0;
                r = setsockopt(fd, o[i].level, o[i].opt, &big, sizeof(big));
                printf("%s-big rc=%d errno=%d\n", o[i].name, r, errno);
        }
        /* 0 last: for SO_KEEPALIVE and TCP_USER_TIMEOUT it is valid */
        for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
                errno = 0;
                r = setsockopt(fd, o[i].level, o[i].opt, &zero, sizeof(zero));
                printf("%s-zero rc=%d errno=%d\n", o[i].name, r, errno);
        }
        fflush(stdout);
        report("after", fd);
        return 0;
}

/* A listener the library did not see made (moved with F_DUPFD, received
 * over SCM_RIGHTS, or beyond its table) on which the program turned
 * keepalive off (CHOICE off) or set its own idle time (CHOICE idle) before
 * moving it: its connections keep the program's choice in default mode. */
static int cmd_moved_listener(const char *how, const char *choice) {
        int port, l = listener(AF_INET, &port), zero = 0, one = 1, seven = 7, m = -1, c, a;

        if (!strcmp(choice, "off")) {
                if (setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero)) < 0)
                        die("setsockopt");
        } else if (setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
                   setsockopt(l, IPPROTO_TCP, TCP_KEEPIDLE, &seven, sizeof(seven)) < 0)
                die("setsockopt");
        if (!strcmp(how, "dupfd")) {
                m = fcntl(l, F_DUPFD, 20);
        } else if (!strcmp(how, "highfd")) {
                struct rlimit rl;
                if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                        die("getrlimit");
                if (rl.rlim_cur < 2100 && rl.rlim_max >= 2100) {
                        rl.rlim_cur = 2100;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
                m = fcntl(l, F_DUPFD, 2000);
        } else if (!strcmp(how, "scm")) {
                int sp[2];
                char b = 'x', cbuf[CMSG_SPACE(sizeof(int))];
                struct iovec iov = { .iov_base = &b, .iov_len = 1 };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
                        die("socketpair");
                memset(cbuf, 0, sizeof(cbuf));
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &l, sizeof(int));
                if (sendmsg(sp[0], &msg, 0) != 1)
                        die("sendmsg");
                memset(cbuf, 0, sizeof(cbuf));
                msg.msg_controllen = sizeof(cbuf);
                if (recvmsg(sp[1], &msg, 0) != 1 || !(cm = CMSG_FIRSTHDR(&msg)) || cm->cmsg_type != SCM_RIGHTS)
                        die("recvmsg");
                memcpy(&m, CMSG_DATA(cm), sizeof(int));
        }
        if (m < 0)
                die("moving the listener");
        close(l);
        c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0)
                die("socket");
        a = connect_accept(c, m, port);
        report("moved-listener", m);
        report("accepted", a);
        return 0;
}

/* TCP Fast Open: sendto/sendmsg/sendmmsg with MSG_FASTOPEN connect without
 * connect(); HOW connect: TCP_FASTOPEN_CONNECT, connect(), write(). */
static int cmd_fastopen(const char *how) {
        int port, l = listener(AF_INET, &port), qlen = 5, c, a;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        char b = 'x';
        struct iovec iov = { .iov_base = &b, .iov_len = 1 };
        struct mmsghdr mm = { .msg_hdr = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1 } };
        ssize_t r = -1;

        (void) setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen));
        sa.sin_port = htons((uint16_t) port);
        c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0)
                die("socket");
        if (!strcmp(how, "sendto"))
                r = sendto(c, &b, 1, MSG_FASTOPEN, (struct sockaddr *) &sa, sizeof(sa));
        else if (!strcmp(how, "sendmsg"))
                r = sendmsg(c, &mm.msg_hdr, MSG_FASTOPEN);
        else if (!strcmp(how, "sendmmsg"))
                r = sendmmsg(c, &mm, 1, MSG_FASTOPEN);
        else if (!strcmp(how, "connect")) { /* TCP_FASTOPEN_CONNECT: the SYN waits for the first write */
                int one = 1;
                if (setsockopt(c, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)) < 0 ||
                    connect(c, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                        die("TCP_FASTOPEN_CONNECT");
                r = write(c, &b, 1);
        }
        if (r != 1)
                die(how);
        a = accept(l, NULL, NULL);
        if (a < 0 || read(a, &b, 1) != 1)
                die("accept/read");
        report("client", c);
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: sockprobe kinds|connection4|connection6|accept4|accept-inherited|fight|passthrough|threads N M|fork-exec|dup-reuse|vfork HOW [off]|preset-connect|badptr|moved-listener HOW CHOICE|fastopen HOW\n");
                return 2;
        }
        if (!strcmp(argv[1], "kinds"))
                return cmd_kinds();
        if (!strcmp(argv[1], "connection4"))
                return cmd_connection(AF_INET, 0);
        if (!strcmp(argv[1], "connection6"))
                return cmd_connection(AF_INET6, 0);
        if (!strcmp(argv[1], "accept4"))
                return cmd_connection(AF_INET, 1);
        if (!strcmp(argv[1], "accept-inherited"))
                return cmd_accept_inherited();
        if (!strcmp(argv[1], "fight"))
                return cmd_fight();
        if (!strcmp(argv[1], "passthrough"))
                return cmd_passthrough();
        if (!strcmp(argv[1], "threads") && argc == 4)
                return cmd_threads(atoi(argv[2]), atoi(argv[3]));
        if (!strcmp(argv[1], "fork-exec"))
                return cmd_fork_exec(argv[0]);
        if (!strcmp(argv[1], "dup-reuse"))
                return cmd_dup_reuse();
        if (!strcmp(argv[1], "vfork") && (argc == 3 || argc == 4))
                return cmd_vfork(argv[2], argv[3]);
        if (!strcmp(argv[1], "preset-connect"))
                return cmd_preset_connect();
        if (!strcmp(argv[1], "badptr"))
                return cmd_badptr();
        if (!strcmp(argv[1], "moved-listener") && argc == 4)
                return cmd_moved_listener(argv[2], argv[3]);
        if (!strcmp(argv[1], "fastopen") && argc == 3)
                return cmd_fastopen(argv[2]);
        fprintf(stderr, "sockprobe: unknown command %s\n", argv[1]);
        return 2;
}
