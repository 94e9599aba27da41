/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stress: the preload library under load, run under it by
 * tests/preload/stress.sh. Every loop is bounded in count and time.
 *
 *   stress churn THREADS SECONDS   threads connecting, accepting and closing
 *                                  on loopback, a thread forking children
 *                                  that exec /bin/true, a thread sending
 *                                  SIGUSR1 to the process (whose handler
 *                                  opens and closes a socket inside whatever
 *                                  wrapper it interrupted); every connection
 *                                  is read back with getsockopt
 *   stress reuse N                 fd numbers reused fast between TCP and UDP
 *                                  sockets, pipes and raw-syscall sockets the
 *                                  library never saw: state never leaks
 *   stress high-fds                RLIMIT_NOFILE raised to the kernel's
 *                                  nr_open after start (or the hard limit,
 *                                  without CAP_SYS_RESOURCE), sockets at the
 *                                  highest fd numbers it allows, beyond the
 *                                  library's table where the limit allows
 *
 * Prints one result line; exit 0 when every check held.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static atomic_long connections, without, errno_lost, forks, signals;

static int opt(int fd, int level, int name) {
        int v = -1;
        socklen_t l = sizeof(v);
        return getsockopt(fd, level, name, &v, &l) < 0 ? -1 : v;
}

static double now(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

/* Inside any wrapper the signal interrupts: a socket is made and closed,
 * and errno is what it was. */
static void on_usr1(int sig) {
        int saved = errno, fd = socket(AF_INET, SOCK_STREAM, 0);
        (void) sig;
        if (fd >= 0)
                close(fd);
        if (errno != saved)
                errno_lost++; /* not ours to judge: restored below */
        errno = saved;
        signals++;
}

static int listener(struct sockaddr_in *a) {
        socklen_t len = sizeof(*a);
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        *a = (struct sockaddr_in) { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (l < 0 || bind(l, (struct sockaddr *) a, sizeof(*a)) < 0 || listen(l, 64) < 0 ||
            getsockname(l, (struct sockaddr *) a, &len) < 0) {
                perror("stress: listener");
                exit(2);
        }
        return l;
}

static void *churn_thread(void *arg) {
        struct sockaddr_in a;
        int l = listener(&a);
        (void) arg;
        while (!atomic_load(&stop)) {
                int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;
                if (c < 0)
                        continue;
                while (connect(c, (struct sockaddr *) &a, sizeof(a)) < 0 && errno == EINTR)
                        ;
                do
                        s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                while (s < 0 && errno == EINTR);
                connections++;
                if (opt(c, SOL_SOCKET, SO_KEEPALIVE) != 1 || opt(c, IPPROTO_TCP, TCP_KEEPIDLE) != 75 ||
                    s < 0 || opt(s, SOL_SOCKET, SO_KEEPALIVE) != 1 || opt(s, IPPROTO_TCP, TCP_KEEPIDLE) != 75)
                        without++;
                /* errno survives the wrappers: close(-1) is EBADF, not
                 * whatever the library did inside. */
                errno = 0;
                if (close(-1) == 0 || errno != EBADF)
                        errno_lost++;
                close(c);
                if (s >= 0)
                        close(s);
        }
        close(l);
        return NULL;
}

static void *fork_thread(void *arg) {
        (void) arg;
        while (!atomic_load(&stop)) {
                pid_t pid = fork();
                if (pid == 0) {
                        execl("/bin/true", "true", (char *) NULL);
                        _exit(127);
                }
                if (pid > 0) {
                        int st;
                        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                                ;
                        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                without++;
                        forks++;
                }
                usleep(2000);
        }
        return NULL;
}

static void *signal_thread(void *arg) {
        (void) arg;
        while (!atomic_load(&stop)) {
                kill(getpid(), SIGUSR1);
                usleep(200);
        }
        return NULL;
}

static int cmd_churn(int nthreads, double seconds) {
        struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
        pthread_t th[64], f, s;
        double end = now() + seconds;

        if (nthreads < 1 || nthreads > 64)
                return 2;
        sigaction(SIGUSR1, &sa, NULL);
        for (int i = 0; i < nthreads; i++)
                pthread_create(&th[i], NULL, churn_thread, NULL);
        pthread_create(&f, NULL, fork_thread, NULL);
        pthread_create(&s, NULL, signal_thread, NULL);
        while (now() < end && connections < 2000000)
                usleep(20000);
        atomic_store(&stop, 1);
        for (int i = 0; i < nthreads; i++)
                pthread_join(th[i], NULL);
        pthread_join(f, NULL);
        pthread_join(s, NULL);
        printf("churn connections=%ld without-keepalive=%ld forks=%ld signals=%ld errno-lost=%ld\n", connections,
               without, forks, signals, errno_lost);
        return without || errno_lost || connections < 100 || forks < 10 || signals < 100;
}

/* A TCP socket created without the library (raw syscall): the library
 * never saw it, so nothing it remembered about the fd number may apply. */
static int raw_tcp(void) {
        return (int) syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static int cmd_reuse(int n) {
        int bad = 0;
        for (int i = 0; i < n; i++) {
                int t = socket(AF_INET, SOCK_STREAM, 0), u, r, p[2], zero = 0;
                if (t < 0)
                        return 2;
                /* force mode: the program's "off" is absorbed on our socket */
                setsockopt(t, SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero));
                if (opt(t, SOL_SOCKET, SO_KEEPALIVE) != 1)
                        bad++;
                close(t);
                /* the same number, now UDP: untouched */
                u = socket(AF_INET, SOCK_DGRAM, 0);
                if (u != t || opt(u, SOL_SOCKET, SO_KEEPALIVE) != 0)
                        bad += u == t;
                close(u);
                /* the same number, a pipe: setsockopt fails as the kernel says */
                if (pipe(p) == 0) {
                        errno = 0;
                        if (setsockopt(p[0], SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero)) == 0 || errno != ENOTSOCK)
                                bad++;
                        close(p[0]);
                        close(p[1]);
                }
                /* Closed behind the library's back, the number reused by a socket
                 * it never saw: a stale "managed" state would swallow the
                 * program's own setsockopt and leave the kernel's 0. */
                t = socket(AF_INET, SOCK_STREAM, 0);
                syscall(SYS_close, t);
                r = raw_tcp();
                if (r >= 0) {
                        int one = 1;
                        if (setsockopt(r, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) != 0 ||
                            opt(r, SOL_SOCKET, SO_KEEPALIVE) != 1)
                                bad++;
                        close(r);
                }
        }
        printf("reuse rounds=%d bad=%d\n", n, bad);
        return bad != 0;
}

static int cmd_high_fds(void) {
        struct rlimit rl;
        long nr_open = 1048576;
        FILE *f = fopen("/proc/sys/fs/nr_open", "re");
        int fds[] = { 0, 70000, 500000, 1048000 }, bad = 0, tried = 0;

        if (f) {
                if (fscanf(f, "%ld", &nr_open) != 1)
                        nr_open = 1048576;
                fclose(f);
        }
        rl.rlim_cur = rl.rlim_max = (rlim_t) nr_open;
        /* Without CAP_SYS_RESOURCE (some sandboxes drop it even for root)
         * the hard limit is as high as it gets. */
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
                if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                        return 2;
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        return 2;
                nr_open = (long) rl.rlim_max;
        }
        fds[0] = (int) nr_open - 2; /* the highest pair there is */
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
                struct sockaddr_in a;
                int l, s, c, hi, zero = 0;
                if (fds[i] >= nr_open)
                        continue;
                tried++;
                l = listener(&a);
                /* a listener at a high number, as a program with many fds has */
                hi = fcntl(l, F_DUPFD_CLOEXEC, fds[i]);
                close(l);
                c = socket(AF_INET, SOCK_STREAM, 0);
                if (hi < 0 || c < 0 || connect(c, (struct sockaddr *) &a, sizeof(a)) < 0) {
                        perror("stress: high fd");
                        return 2;
                }
                s = accept(hi, NULL, NULL);
                /* and a connection moved up there */
                l = fcntl(c, F_DUPFD_CLOEXEC, fds[i] + 1);
                close(c);
                setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero)); /* force mode absorbs it */
                if (opt(hi, SOL_SOCKET, SO_KEEPALIVE) != 1 || s < 0 || opt(s, SOL_SOCKET, SO_KEEPALIVE) != 1 ||
                    opt(l, SOL_SOCKET, SO_KEEPALIVE) != 1 || opt(l, IPPROTO_TCP, TCP_KEEPIDLE) != 75) {
                        fprintf(stderr, "stress: fd %d: listener keepalive=%d accepted keepalive=%d moved connection "
                                "keepalive=%d idle=%d\n", fds[i], opt(hi, SOL_SOCKET, SO_KEEPALIVE),
                                s < 0 ? -1 : opt(s, SOL_SOCKET, SO_KEEPALIVE), opt(l, SOL_SOCKET, SO_KEEPALIVE),
                                opt(l, IPPROTO_TCP, TCP_KEEPIDLE));
                        bad++;
                }
                close(hi);
                close(l);
                if (s >= 0)
                        close(s);
        }
        printf("high-fds limit=%ld tried=%d bad=%d\n", nr_open, tried, bad);
        return bad != 0 || tried == 0;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "churn") == 0)
                return cmd_churn(atoi(argv[2]), atof(argv[3]));
        if (argc == 3 && strcmp(argv[1], "reuse") == 0)
                return cmd_reuse(atoi(argv[2]));
        if (argc == 2 && strcmp(argv[1], "high-fds") == 0)
                return cmd_high_fds();
        fprintf(stderr, "usage: stress churn THREADS SECONDS | reuse N | high-fds\n");
        return 2;
}
