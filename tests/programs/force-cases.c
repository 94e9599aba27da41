/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * force-cases: what Mode= means, as one table run against both backends
 * (tests/bpf/force-cases.sh): once with libtcpkeepalive.so preloaded and
 * the rule in TCPKEEPALIVE_*, once in a cgroup that has the BPF programs
 * and the rule attached by tcpkeepalive-bpf. The semantics are those of
 * keepalived.d(5), "Mode=force":
 *
 *   On a socket the rule manages (TCP, its Direction= matches: accepted
 *   sockets are inbound, connected ones outbound), a setsockopt() that
 *   would change what the rule set succeeds and changes nothing:
 *   SO_KEEPALIVE=0, and a value the kernel would accept for an option the
 *   rule sets, other than the rule's. Everything else reaches the kernel:
 *   SO_KEEPALIVE=1, the rule's own value, options the rule leaves unset,
 *   invalid values or lengths (EINVAL), bad pointers (EFAULT), and every
 *   call on a socket the rule does not manage. Mode=default: the program's
 *   calls always reach the kernel, and each option it set before connect()
 *   (or on the listener before listen()) keeps its value while the rule
 *   sets the others, SO_KEEPALIVE included.
 *
 *   force-cases --list-rules
 *   force-cases --rule=NAME --env      the rule as TCPKEEPALIVE_* assignments
 *   force-cases --rule=NAME --args     the rule as tcpkeepalive-bpf options
 *   force-cases --rule=NAME --method=preload|bpf [--home=CGROUP --outside=CGROUP]
 *
 * --home and --outside (bpf): cgroup directories; the "from outside" cases
 * make the call from a process that has moved to another cgroup (the
 * socket still belongs to its unit). Exit status 0 when every case of the
 * rule holds, 1 otherwise, with one line per case.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#define SYSDEF (-2) /* the netns sysctl's value */
#define ANY (-1)    /* not checked */

struct rule {
        const char *name;
        int idle, interval, count, user_timeout; /* 0: unset; SYSDEF: the sysctl's value */
        const char *mode, *direction;
};

static const struct rule rules[] = {
        { "force-both", 77, 11, 0, 3000, "force", "both" },
        { "force-inbound", 77, 0, 0, 0, "force", "inbound" },
        { "force-outbound", 77, 0, 0, 0, "force", "outbound" },
        { "default-both", 77, 0, 0, 0, "default", "both" },
        /* Default mode with a direction: the rule is applied at connect() or
         * listen() (the preload) or at establishment (BPF), after what the
         * program set itself. */
        { "default-outbound", 75, 9, 4, 0, "default", "outbound" },
        { "default-inbound", 75, 9, 4, 0, "default", "inbound" },
        /* Force with the value the kernel would use anyway: still enforced. */
        { "force-sysdefault", SYSDEF, 0, 0, 0, "force", "both" },
};

enum side { CONNECTED, ACCEPTED };
/* BEFORE_LISTEN: the call is made on the listener before listen(); the
 * accepted connection, its clone, is checked (side ACCEPTED). */
enum when { ESTABLISHED, BEFORE_CONNECT, BEFORE_LISTEN, FROM_OUTSIDE };
enum optval_kind { GOOD, SHORT, BAD_POINTER };

struct fcase {
        const char *rule;
        enum side side;
        enum when when;
        int level, name, value;
        enum optval_kind kind;
        int want_errno; /* 0: the call succeeds */
        /* after the call: keepalive, idle, interval, count, user timeout */
        int ka, idle, interval, count, user_timeout;
};

#define S SOL_SOCKET
#define T IPPROTO_TCP
static const struct fcase cases[] = {
        /* force-both: idle 77, interval 11, user timeout 3000 ms; count unset */
        { "force-both", CONNECTED, ESTABLISHED, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", ACCEPTED, ESTABLISHED, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, S, SO_KEEPALIVE, 1, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", ACCEPTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 77, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", ACCEPTED, ESTABLISHED, T, TCP_KEEPINTVL, 5, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        /* an option the rule leaves unset: the program's */
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPCNT, 5, GOOD, 0, 1, 77, 11, 5, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_USER_TIMEOUT, 9000, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_USER_TIMEOUT, 0, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        /* what the kernel refuses, it refuses */
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 0, GOOD, EINVAL, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 40000, GOOD, EINVAL, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", ACCEPTED, ESTABLISHED, T, TCP_KEEPINTVL, -1, GOOD, EINVAL, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPCNT, 200, GOOD, EINVAL, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_USER_TIMEOUT, -5, GOOD, EINVAL, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, SHORT, EINVAL, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, BAD_POINTER, EFAULT, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, ESTABLISHED, S, SO_KEEPALIVE, 0, BAD_POINTER, EFAULT, 1, 77, 11, SYSDEF, 3000 },
        /* before connect(): the rule's values once connected */
        { "force-both", CONNECTED, BEFORE_CONNECT, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", ACCEPTED, BEFORE_LISTEN, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", ACCEPTED, BEFORE_LISTEN, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        /* the socket's unit counts, not the caller's cgroup */
        { "force-both", CONNECTED, FROM_OUTSIDE, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },
        { "force-both", ACCEPTED, FROM_OUTSIDE, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, 11, SYSDEF, 3000 },

        /* force-inbound: accepted sockets only */
        { "force-inbound", ACCEPTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, SYSDEF, SYSDEF, 0 },
        { "force-inbound", ACCEPTED, ESTABLISHED, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, SYSDEF, SYSDEF, 0 },
        { "force-inbound", ACCEPTED, ESTABLISHED, T, TCP_USER_TIMEOUT, 4000, GOOD, 0, 1, 77, SYSDEF, SYSDEF, 4000 },
        { "force-inbound", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 0, 999, SYSDEF, SYSDEF, 0 },
        { "force-inbound", CONNECTED, ESTABLISHED, T, TCP_KEEPCNT, 4, GOOD, 0, 0, SYSDEF, SYSDEF, 4, 0 },
        /* set on the listener before listen(): the rule's values all the same */
        { "force-inbound", ACCEPTED, BEFORE_LISTEN, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, SYSDEF, SYSDEF, 0 },
        { "force-inbound", ACCEPTED, BEFORE_LISTEN, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, SYSDEF, SYSDEF, 0 },

        /* force-outbound: connected sockets only */
        { "force-outbound", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 77, SYSDEF, SYSDEF, 0 },
        { "force-outbound", CONNECTED, ESTABLISHED, S, SO_KEEPALIVE, 0, GOOD, 0, 1, 77, SYSDEF, SYSDEF, 0 },
        { "force-outbound", ACCEPTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 0, 999, SYSDEF, SYSDEF, 0 },
        { "force-outbound", ACCEPTED, ESTABLISHED, S, SO_KEEPALIVE, 1, GOOD, 0, 1, SYSDEF, SYSDEF, SYSDEF, 0 },

        /* default: the program's calls win */
        { "default-both", CONNECTED, ESTABLISHED, S, SO_KEEPALIVE, 0, GOOD, 0, 0, 77, SYSDEF, SYSDEF, 0 },
        { "default-both", ACCEPTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 999, SYSDEF, SYSDEF, 0 },
        { "default-both", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 0, GOOD, EINVAL, 1, 77, SYSDEF, SYSDEF, 0 },
        /* before connect(): what the program chose stays, the rest is the rule's */
        { "default-both", CONNECTED, BEFORE_CONNECT, S, SO_KEEPALIVE, 0, GOOD, 0, 0, 77, SYSDEF, SYSDEF, 0 },
        { "default-both", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 999, SYSDEF, SYSDEF, 0 },
        /* on the listener before listen(): its connections are its clones */
        { "default-both", ACCEPTED, BEFORE_LISTEN, T, TCP_KEEPIDLE, 10, GOOD, 0, 1, 10, SYSDEF, SYSDEF, 0 },
        { "default-both", ACCEPTED, BEFORE_LISTEN, S, SO_KEEPALIVE, 0, GOOD, 0, 0, 77, SYSDEF, SYSDEF, 0 },

        /* Default mode, one direction: an option the program set before
         * connect() (or on the listener before listen()) is its own, the rule
         * supplies every other one, SO_KEEPALIVE included: the program's
         * SO_KEEPALIVE=0 keeps keepalive off (the rule's times are set all
         * the same, as Direction=both does at socket()). A call the kernel
         * refused set nothing: the rule's value. Rule: idle 75, interval 9,
         * count 4. */
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPIDLE, 10, GOOD, 0, 1, 10, 9, 4, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPINTVL, 20, GOOD, 0, 1, 75, 20, 4, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPCNT, 7, GOOD, 0, 1, 75, 9, 7, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_USER_TIMEOUT, 5000, GOOD, 0, 1, 75, 9, 4, 5000 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, S, SO_KEEPALIVE, 0, GOOD, 0, 0, 75, 9, 4, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, S, SO_KEEPALIVE, 1, GOOD, 0, 1, 75, 9, 4, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPIDLE, 0, GOOD, EINVAL, 1, 75, 9, 4, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPCNT, 200, GOOD, EINVAL, 1, 75, 9, 4, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPIDLE, 10, SHORT, EINVAL, 1, 75, 9, 4, 0 },
        { "default-outbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPIDLE, 10, BAD_POINTER, EFAULT, 1, 75, 9, 4, 0 },
        { "default-outbound", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, 999, 9, 4, 0 },
        /* the other direction: not the rule's */
        { "default-outbound", ACCEPTED, BEFORE_LISTEN, T, TCP_KEEPIDLE, 10, GOOD, 0, 0, 10, SYSDEF, SYSDEF, 0 },

        { "default-inbound", ACCEPTED, BEFORE_LISTEN, T, TCP_KEEPIDLE, 10, GOOD, 0, 1, 10, 9, 4, 0 },
        { "default-inbound", ACCEPTED, BEFORE_LISTEN, T, TCP_KEEPCNT, 7, GOOD, 0, 1, 75, 9, 7, 0 },
        { "default-inbound", ACCEPTED, BEFORE_LISTEN, T, TCP_USER_TIMEOUT, 5000, GOOD, 0, 1, 75, 9, 4, 5000 },
        { "default-inbound", ACCEPTED, BEFORE_LISTEN, S, SO_KEEPALIVE, 0, GOOD, 0, 0, 75, 9, 4, 0 },
        { "default-inbound", ACCEPTED, BEFORE_LISTEN, S, SO_KEEPALIVE, 1, GOOD, 0, 1, 75, 9, 4, 0 },
        { "default-inbound", ACCEPTED, BEFORE_LISTEN, T, TCP_KEEPINTVL, 0, GOOD, EINVAL, 1, 75, 9, 4, 0 },
        { "default-inbound", ACCEPTED, ESTABLISHED, T, TCP_KEEPINTVL, 30, GOOD, 0, 1, 75, 30, 4, 0 },
        /* the other direction: not the rule's */
        { "default-inbound", CONNECTED, BEFORE_CONNECT, T, TCP_KEEPIDLE, 10, GOOD, 0, 0, 10, SYSDEF, SYSDEF, 0 },

        /* force with the sysctl's own value as the rule's */
        { "force-sysdefault", CONNECTED, ESTABLISHED, T, TCP_KEEPIDLE, 999, GOOD, 0, 1, SYSDEF, SYSDEF, SYSDEF, 0 },
        { "force-sysdefault", ACCEPTED, ESTABLISHED, S, SO_KEEPALIVE, 0, GOOD, 0, 1, SYSDEF, SYSDEF, SYSDEF, 0 },
};
#undef S
#undef T

static int sysctl_keepalive[3]; /* time, intvl, probes */

static int read_sysctl(const char *name) {
        char path[128];
        int v = -1;
        FILE *f;
        snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
        f = fopen(path, "re");
        if (!f || fscanf(f, "%d", &v) != 1) {
                fprintf(stderr, "force-cases: cannot read %s\n", path);
                exit(2);
        }
        fclose(f);
        return v;
}

/* The value a rule or an expectation means: SYSDEF resolved for option i. */
static int resolve(int v, int i) {
        return v == SYSDEF ? (i < 3 ? sysctl_keepalive[i] : 0) : v;
}

static const struct rule *find_rule(const char *name) {
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
                if (strcmp(rules[i].name, name) == 0)
                        return &rules[i];
        return NULL;
}

static void print_rule(const struct rule *r, bool env) {
        const char *names[4][2] = { { "TCPKEEPALIVE_IDLE", "--idle" },
                                     { "TCPKEEPALIVE_INTERVAL", "--interval" },
                                     { "TCPKEEPALIVE_COUNT", "--count" },
                                     { "TCPKEEPALIVE_USER_TIMEOUT", "--user-timeout" } };
        int v[4] = { resolve(r->idle, 0), resolve(r->interval, 1), resolve(r->count, 2), r->user_timeout };
        for (int i = 0; i < 4; i++)
                if (v[i] > 0)
                        printf("%s=%d\n", names[i][env ? 0 : 1], v[i]);
        printf("%s=%s\n%s=%s\n", env ? "TCPKEEPALIVE_MODE" : "--mode", r->mode, env ? "TCPKEEPALIVE_DIRECTION" : "--direction",
               r->direction);
}

static void die(const char *what) {
        fprintf(stderr, "force-cases: %s: %s\n", what, strerror(errno));
        exit(2);
}

static void move_to(const char *cgroup) {
        char path[4096], pid[32];
        int fd, n;
        snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
        n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, (size_t) n) != n)
                die(path);
        close(fd);
}

static int getopt_int(int fd, int level, int name) {
        int v = -1;
        socklen_t len = sizeof(v);
        if (getsockopt(fd, level, name, &v, &len) < 0)
                die("getsockopt");
        return v;
}

/* One case on a fresh loopback connection: 0 when it holds. */
static int run_case(size_t n, const struct fcase *c, const char *home, const char *outside, void *bad_page) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof(a);
        int one = 1, lfd, cfd, afd, fd, r, err = 0, value = c->value;
        const void *optval = &value;
        socklen_t optlen = sizeof(value);
        int got[5], want[5] = { c->ka, resolve(c->idle, 0), resolve(c->interval, 1), resolve(c->count, 2),
                                c->user_timeout };
        static const char *labels[5] = { "keepalive", "idle", "interval", "count", "user_timeout" };
        char desc[256], bad[512] = "";

        snprintf(desc, sizeof(desc), "%s %s%s: setsockopt(%s, %d)%s", c->rule,
                 c->side == CONNECTED ? "connected" : "accepted",
                 c->when == BEFORE_CONNECT  ? " (before connect)"
                 : c->when == BEFORE_LISTEN ? " (on the listener, before listen)"
                 : c->when == FROM_OUTSIDE ? " (from another cgroup)" : "",
                 c->level == SOL_SOCKET ? "SO_KEEPALIVE"
                 : c->name == TCP_KEEPIDLE ? "TCP_KEEPIDLE"
                 : c->name == TCP_KEEPINTVL ? "TCP_KEEPINTVL"
                 : c->name == TCP_KEEPCNT ? "TCP_KEEPCNT" : "TCP_USER_TIMEOUT",
                 c->value, c->kind == SHORT ? " with optlen 2" : c->kind == BAD_POINTER ? " with a bad pointer" : "");
        if (c->kind == SHORT)
                optlen = 2;
        else if (c->kind == BAD_POINTER)
                optval = bad_page;

        if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(lfd, (struct sockaddr *) &a, sizeof(a)) < 0)
                die("loopback listener");
        r = 0;
        errno = 0;
        if (c->when == BEFORE_LISTEN) {
                r = setsockopt(lfd, c->level, c->name, optval, optlen);
                err = errno;
        }
        if (listen(lfd, 4) < 0 || getsockname(lfd, (struct sockaddr *) &a, &alen) < 0 ||
            (cfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
                die("loopback listener");
        if (c->when == BEFORE_CONNECT) {
                r = setsockopt(cfd, c->level, c->name, optval, optlen);
                err = errno;
        }
        if (connect(cfd, (struct sockaddr *) &a, sizeof(a)) < 0 || (afd = accept(lfd, NULL, NULL)) < 0)
                die("loopback connection");
        fd = c->side == CONNECTED ? cfd : afd;
        if (c->when != BEFORE_CONNECT && c->when != BEFORE_LISTEN) {
                if (c->when == FROM_OUTSIDE && outside)
                        move_to(outside);
                errno = 0;
                r = setsockopt(fd, c->level, c->name, optval, optlen);
                err = errno;
                if (c->when == FROM_OUTSIDE && home)
                        move_to(home);
        }
        if (c->want_errno ? !(r == -1 && err == c->want_errno) : r != 0)
                snprintf(bad, sizeof(bad), " returned %d (%s), want %s;", r, r < 0 ? strerror(err) : "success",
                         c->want_errno ? strerror(c->want_errno) : "success");
        got[0] = getopt_int(fd, SOL_SOCKET, SO_KEEPALIVE);
        got[1] = getopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE);
        got[2] = getopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL);
        got[3] = getopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT);
        got[4] = getopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
        for (int i = 0; i < 5; i++)
                if (want[i] != ANY && got[i] != want[i])
                        snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), " %s=%d, want %d;", labels[i], got[i],
                                 want[i]);
        close(afd);
        close(cfd);
        close(lfd);
        if (*bad) {
                printf("FAIL %zu: %s:%s\n", n, desc, bad);
                return 1;
        }
        printf("ok %zu: %s\n", n, desc);
        return 0;
}

int main(int argc, char **argv) {
        const char *rule = NULL, *method = NULL, *home = NULL, *outside = NULL;
        bool env = false, args = false;
        const struct rule *r;
        void *bad_page;
        int failed = 0, ran = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--list-rules") == 0) {
                        for (size_t j = 0; j < sizeof(rules) / sizeof(rules[0]); j++)
                                printf("%s\n", rules[j].name);
                        return 0;
                } else if (strncmp(argv[i], "--rule=", 7) == 0)
                        rule = argv[i] + 7;
                else if (strncmp(argv[i], "--method=", 9) == 0)
                        method = argv[i] + 9;
                else if (strncmp(argv[i], "--home=", 7) == 0)
                        home = argv[i] + 7;
                else if (strncmp(argv[i], "--outside=", 10) == 0)
                        outside = argv[i] + 10;
                else if (strcmp(argv[i], "--env") == 0)
                        env = true;
                else if (strcmp(argv[i], "--args") == 0)
                        args = true;
                else {
                        fprintf(stderr, "force-cases: unknown argument '%s'\n", argv[i]);
                        return 2;
                }
        }
        if (!rule || !(r = find_rule(rule))) {
                fprintf(stderr, "force-cases: --rule=%s: not a rule of the table (--list-rules)\n", rule ? rule : "");
                return 2;
        }
        sysctl_keepalive[0] = read_sysctl("tcp_keepalive_time");
        sysctl_keepalive[1] = read_sysctl("tcp_keepalive_intvl");
        sysctl_keepalive[2] = read_sysctl("tcp_keepalive_probes");
        if (env || args) {
                print_rule(r, env);
                return 0;
        }
        if (!method || (strcmp(method, "preload") != 0 && strcmp(method, "bpf") != 0)) {
                fprintf(stderr, "force-cases: --method=%s: want preload or bpf\n", method ? method : "");
                return 2;
        }
        if (strcmp(method, "bpf") == 0 && (!home || !outside)) {
                fprintf(stderr, "force-cases: --method=bpf needs --home= and --outside= (cgroup directories)\n");
                return 2;
        }
        bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (bad_page == MAP_FAILED)
                die("mmap");
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                if (strcmp(cases[i].rule, rule) == 0) {
                        /* Each case in a child: a crash (a wrapper that reads
                         * a bad pointer) is that case's failure alone. */
                        int status;
                        pid_t pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0)
                                _exit(run_case(i + 1, &cases[i], home, outside, bad_page));
                        if (waitpid(pid, &status, 0) < 0)
                                die("waitpid");
                        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                                if (!WIFEXITED(status))
                                        printf("FAIL %zu: %s: killed by signal %d\n", i + 1, cases[i].rule,
                                               WTERMSIG(status));
                                failed++;
                        }
                        ran++;
                }
        printf("%s %s: %d of %d cases failed\n", method, rule, failed, ran);
        munmap(bad_page, 4096);
        return failed ? 1 : 0;
}
