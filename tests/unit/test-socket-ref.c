/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * socket_ref_dup (daemon/tcp-table.c): tcpkeepalived scans /proc/PID/fd,
 * then duplicates each socket by its fd number. Between the two the fd can
 * be closed and reused (fd reuse) or the PID can be another process (pid
 * reuse); the duplicate must then be refused, not described as the socket
 * the scan found. Both are driven here for real: socket A at fd N, scanned;
 * A closed and socket B opened at the same fd N; and a second process
 * holding another socket at fd N, reached with the scanned reference.
 * And the same for a process named by number (process-ref.c): alive
 * while it runs, not after it is reaped; in its cgroup, not in another.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process-ref.h"
#include "tcp-table.h"
#include "check.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define N 200 /* the fd number reused */

static unsigned long long inode_of(int fd) {
        struct stat st;
        return fstat(fd, &st) == 0 ? (unsigned long long) st.st_ino : 0;
}

/* A fresh TCP socket at fd N. */
static void socket_at_n(void) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || dup2(s, N) != N) {
                perror("socket at fd N");
                exit(1);
        }
        close(s);
}

/* The scanned reference of fd N in pid's /proc/PID/fd. */
static struct socket_ref scan_n(pid_t pid) {
        struct socket_ref *refs = NULL, found = { 0 };
        ssize_t n = socket_refs_collect_errors(&pid, 1, &refs, NULL);
        for (ssize_t i = 0; i < n; i++)
                if (refs[i].fd == N)
                        found = refs[i];
        free(refs);
        return found;
}

int main(void) {
        pid_t self = getpid(), child;
        int pidfd, fd, pipefd[2];
        struct socket_ref ref;
        char c;

        socket_at_n();
        ref = scan_n(self);
        CHECK(ref.fd == N && ref.inode == inode_of(N), "the scan finds socket A at fd %d (inode %llu), got inode %llu",
              N, inode_of(N), (unsigned long long) ref.inode);
        pidfd = (int) syscall(SYS_pidfd_open, self, 0);
        if (pidfd < 0) {
                fprintf(stderr, "SKIP: pidfd_open: %s\n", strerror(errno));
                return 77;
        }

        /* Nothing changed: the duplicate is socket A. */
        fd = socket_ref_dup(pidfd, &ref);
        CHECK(fd >= 0 && inode_of(fd) == ref.inode, "socket A unchanged: want its duplicate, got %d (%s)", fd,
              fd < 0 ? strerror(-fd) : "another inode");
        if (fd >= 0)
                close(fd);

        /* fd reuse: A closed, B opened at the same number. */
        close(N);
        socket_at_n();
        CHECK(inode_of(N) != ref.inode, "socket B has an inode of its own");
        fd = socket_ref_dup(pidfd, &ref);
        CHECK(fd == -ESTALE, "fd %d reused by socket B (inode %llu) after the scan saw inode %llu: want -ESTALE, got %d%s",
              N, inode_of(N), (unsigned long long) ref.inode, fd, fd >= 0 ? " (a duplicate of B)" : "");
        if (fd >= 0)
                close(fd);

        /* pid reuse: the reference reaches another process, which holds
         * another socket at fd N. */
        ref = scan_n(self);
        if (pipe(pipefd) < 0) {
                perror("pipe");
                return 1;
        }
        child = fork();
        if (child == 0) {
                close(N);
                socket_at_n();
                (void) !write(pipefd[1], "x", 1);
                pause();
                _exit(0);
        }
        CHECK(read(pipefd[0], &c, 1) == 1, "the child is ready");
        close(pidfd);
        pidfd = (int) syscall(SYS_pidfd_open, child, 0);
        CHECK(pidfd >= 0, "pidfd_open of the child: %s", strerror(errno));
        fd = socket_ref_dup(pidfd, &ref);
        CHECK(fd == -ESTALE, "PID %d (another process) holds another socket at fd %d: want -ESTALE, got %d%s", (int) child,
              N, fd, fd >= 0 ? " (a duplicate of its socket)" : "");
        if (fd >= 0)
                close(fd);
        /* The main PID's own checks (process-ref.c): the pidfd says the
         * process is there until it is gone and reaped; then its number
         * is free for another. */
        CHECK(pidfd_alive(pidfd), "pidfd_alive of a running child");
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        CHECK(!pidfd_alive(pidfd), "pidfd_alive of a child killed and reaped: want false");
        close(pidfd);
        close(N);
        {
                char own[4096] = "", line[4096], longer[4200];
                FILE *f = fopen("/proc/self/cgroup", "re");
                while (f && fgets(line, sizeof(line), f))
                        if (strncmp(line, "0::", 3) == 0)
                                snprintf(own, sizeof(own), "%.*s", (int) strcspn(line + 3, "\n"), line + 3);
                if (f)
                        fclose(f);
                CHECK(*own, "no cgroup v2 line in /proc/self/cgroup");
                CHECK(pid_in_cgroup(self, own), "pid_in_cgroup(self, '%s')", own);
                snprintf(longer, sizeof(longer), "%sx", own);
                CHECK(!pid_in_cgroup(self, longer), "pid_in_cgroup(self, '%s'): a prefix that is not a parent", longer);
                CHECK(!pid_in_cgroup(self, "/no-such.slice/x.service"), "pid_in_cgroup of another cgroup");
                CHECK(!pid_in_cgroup(child, own), "pid_in_cgroup of a reaped PID");
        }

        if (failures == 0)
                printf("ok: socket_ref_dup refuses a reused fd and a reused pid; a main PID is held and checked\n");
        return failures ? 1 : 0;
}
