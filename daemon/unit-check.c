/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <unistd.h>

#include "dropin.h"
#include "strv.h"
#include "unit-check.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SD_SERVICE_IFACE "org.freedesktop.systemd1.Service"

const char *unit_state_to_string(enum unit_state s) {
        static const char *const names[] = {
                [UNIT_STATE_ACTIVE] = "active",
                [UNIT_STATE_PENDING_RESTART] = "pending-restart",
                [UNIT_STATE_INACTIVE] = "inactive",
                [UNIT_STATE_UNSUPPORTED] = "unsupported",
                [UNIT_STATE_OVERRIDDEN] = "overridden",
                [UNIT_STATE_UNMANAGED] = "unmanaged",
                [UNIT_STATE_ERROR] = "error",
        };
        return (unsigned) s < sizeof(names) / sizeof(names[0]) ? names[s] : "error";
}

/* Reads a whole /proc file (they report size 0, so read until EOF). */
static char *read_proc(const char *path, size_t *ret_len) {
        size_t size = 0, len = 0;
        char *buf = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return NULL;
        for (;;) {
                ssize_t n;
                if (len + 4096 + 1 > size) {
                        char *nb = realloc(buf, size = size ? size * 2 : 16384);
                        if (!nb || size > (64U << 20))
                                goto fail;
                        buf = nb;
                }
                n = read(fd, buf + len, size - len - 1);
                if (n < 0)
                        goto fail;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        close(fd);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
fail:
        close(fd);
        free(buf);
        return NULL;
}

/* NUL-separated KEY=value list: the value of key, or NULL. */
static const char *env_get(const char *env, size_t len, const char *key) {
        size_t kl = strlen(key);
        for (const char *p = env; p < env + len; p += strlen(p) + 1)
                if (strncmp(p, key, kl) == 0 && p[kl] == '=')
                        return p + kl + 1;
        return NULL;
}

static bool preload_has(const char *list, const char *library) {
        size_t n = strlen(library);
        for (const char *p = list; p && (p = strstr(p, library)); p++)
                if ((p == list || p[-1] == ':' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ':' || p[n] == ' '))
                        return true;
        return false;
}

/* Statically linked: an ELF executable with no PT_INTERP, which ld.so never
 * touches. Reads /proc/PID/exe so a replaced binary is judged as it runs. */
static bool exe_is_static(pid_t pid) {
        char path[64];
        Elf64_Ehdr eh;
        int fd;
        bool is_static = false;

        snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return false;
        if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
            eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
                is_static = true;
                for (unsigned i = 0; i < eh.e_phnum; i++) {
                        Elf64_Phdr ph;
                        if (pread(fd, &ph, sizeof(ph), (off_t) (eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
                                break;
                        if (ph.p_type == PT_INTERP) {
                                is_static = false;
                                break;
                        }
                }
        }
        close(fd);
        return is_static;
}

/* Secure execution: ld.so ignores LD_PRELOAD paths with '/'. */
static bool exe_is_privileged(pid_t pid) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
        if (stat(path, &st) < 0)
                return false;
        return (st.st_mode & (S_ISUID | S_ISGID)) || getxattr(path, "security.capability", NULL, 0) > 0;
}

/* pid's fds that are sockets: "inode fd" strings, so the fd is known too. */
static void collect_socket_fds(pid_t pid, char ***out) {
        char path[64], link[64];
        DIR *d;
        struct dirent *de;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        if (!(d = opendir(path)))
                return;
        while ((de = readdir(d))) {
                char fdpath[320], *entry;
                ssize_t n;
                snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
                n = readlink(fdpath, link, sizeof(link) - 1);
                if (n <= 9)
                        continue;
                link[n] = '\0';
                if (strncmp(link, "socket:[", 8) != 0)
                        continue;
                link[n - 1] = '\0';
                if (asprintf(&entry, "%s %s", link + 8, de->d_name) >= 0)
                        (void) strv_push(out, entry);
        }
        closedir(d);
}

/* The socket inodes among the fds of pid, added to *inodes once each. */
static void collect_socket_inodes(pid_t pid, char ***inodes) {
        char path[64], link[64];
        DIR *d;
        struct dirent *de;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        if (!(d = opendir(path)))
                return;
        while ((de = readdir(d))) {
                char fdpath[320];
                ssize_t n;
                snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
                n = readlink(fdpath, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = '\0';
                if (strncmp(link, "socket:[", 8) != 0)
                        continue;
                link[n - 1] = '\0';
                if (!strv_contains(*inodes, link + 8))
                        (void) strv_push_dup(inodes, link + 8);
        }
        closedir(d);
}

/* Every process of the unit: its cgroup and the cgroups below (a service's
 * forked workers), wherever the cgroup v2 tree is mounted. */
static void collect_cgroup_pids(const char *dir, unsigned depth, char ***pids) {
        char path[4096], line[32];
        FILE *f;
        DIR *d;
        struct dirent *de;

        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        if ((f = fopen(path, "re"))) {
                while (fgets(line, sizeof(line), f) && strv_length(*pids) < 65536) {
                        line[strcspn(line, "\n")] = '\0';
                        (void) strv_push_dup(pids, line);
                }
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
static char **unit_pid_list(const char *cgroup, pid_t main_pid) {
        static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd" };
        char **pids = NULL, path[4096];

        for (size_t i = 0; cgroup && *cgroup && !pids && i < sizeof(roots) / sizeof(roots[0]); i++) {
                snprintf(path, sizeof(path), "%s%s", roots[i], cgroup);
                if (access(path, F_OK) == 0)
                        collect_cgroup_pids(path, 0, &pids);
        }
        if (!pids && main_pid > 0) {
                snprintf(path, sizeof(path), "%d", (int) main_pid);
                (void) strv_push_dup(&pids, path);
        }
        return pids;
}

/* TCP sockets of the unit's processes, looked up in their netns'
 * /proc/PID/net/tcp{,6}: state 01 established, 0A listening; timer kind 2
 * is the keepalive timer. */
static void count_sockets(const char *cgroup, pid_t main_pid, struct unit_check *c) {
        char **pids = unit_pid_list(cgroup, main_pid), **inodes = NULL, path[4096];

        for (char **p = pids; p && *p; p++)
                collect_socket_inodes((pid_t) atoi(*p), &inodes);
        for (int v6 = 0; v6 < 2 && inodes; v6++) {
                char *table, *save = NULL;
                snprintf(path, sizeof(path), "/proc/%d/net/tcp%s", (int) main_pid, v6 ? "6" : "");
                if (!(table = read_proc(path, NULL)))
                        continue;
                for (char *l = strtok_r(table, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        unsigned st, timer;
                        char inode[32];
                        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
                        if (sscanf(l, " %*s %*s %*s %x %*s %x:%*s %*s %*s %*s %31s", &st, &timer, inode) != 3)
                                continue;
                        if (!strv_contains(inodes, inode))
                                continue;
                        if (st == 0x0A)
                                c->tcp_listening++;
                        else if (st == 0x01) {
                                c->tcp_established++;
                                if (timer == 2)
                                        c->tcp_with_keepalive++;
                        }
                }
                free(table);
        }
        strv_free(pids);
        strv_free(inodes);
}

static int get_strv(sd_bus *bus, const char *path, const char *iface, const char *name, char ***ret) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_strv(bus, SD_DEST, path, iface, name, &e, ret);
        sd_bus_error_free(&e);
        return r;
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *name, char *buf, size_t size) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *s = NULL;
        int r = sd_bus_get_property_string(bus, SD_DEST, path, iface, name, &e, &s);
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        snprintf(buf, size, "%s", s);
        free(s);
        return 0;
}

static int has_environment_files(sd_bus *bus, const char *path) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL;
        int r = sd_bus_get_property(bus, SD_DEST, path, SD_SERVICE_IFACE, "EnvironmentFiles", &e, &m, "a(sb)");
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "(sb)");
        if (r >= 0)
                r = sd_bus_message_at_end(m, false) ? 0 : 1;
        sd_bus_message_unref(m);
        return r;
}

#define SET_STATE(c, s, ...)                                            \
        do {                                                            \
                (c)->state = (s);                                       \
                snprintf((c)->reason, sizeof((c)->reason), __VA_ARGS__); \
        } while (0)

int unit_check(sd_bus *bus, const char *unit, const char *library, struct unit_check *c) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *opath;
        char *path = NULL, procpath[64], **dropins = NULL, **unset = NULL, **unit_env = NULL, *env = NULL;
        char cgroup[1024] = "";
        size_t env_len = 0;
        uint32_t main_pid = 0;
        uint64_t started_usec = 0;
        struct stat st;
        int r;

        *c = (struct unit_check) { .state = UNIT_STATE_ERROR };
        r = sd_bus_call_method(bus, SD_DEST, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                               "LoadUnit", &e, &reply, "s", unit);
        if (r < 0) {
                SET_STATE(c, UNIT_STATE_ERROR, "systemd cannot load %s: %s", unit, e.message ? e.message : strerror(-r));
                goto out;
        }
        if ((r = sd_bus_message_read(reply, "o", &opath)) < 0 || !(path = strdup(opath)))
                goto out;
        if ((r = get_string(bus, path, SD_UNIT_IFACE, "ActiveState", c->active_state, sizeof(c->active_state))) < 0 ||
            (r = get_strv(bus, path, SD_UNIT_IFACE, "DropInPaths", &dropins)) < 0)
                goto out;
        for (char **d = dropins; d && *d; d++) {
                const char *slash = strrchr(*d, '/');
                if (slash && strcmp(slash + 1, KA_DROPIN_NAME) == 0) {
                        c->has_dropin = true;
                        snprintf(c->dropin_path, sizeof(c->dropin_path), "%s", *d);
                }
        }
        /* Service-only properties; a missing one is not fatal. */
        (void) sd_bus_get_property_trivial(bus, SD_DEST, path, SD_SERVICE_IFACE, "MainPID", NULL, 'u', &main_pid);
        (void) sd_bus_get_property_trivial(bus, SD_DEST, path, SD_SERVICE_IFACE, "ExecMainStartTimestamp", NULL, 't',
                                           &started_usec);
        (void) get_strv(bus, path, SD_SERVICE_IFACE, "UnsetEnvironment", &unset);
        (void) get_strv(bus, path, SD_SERVICE_IFACE, "Environment", &unit_env);
        (void) get_string(bus, path, SD_SERVICE_IFACE, "ControlGroup", cgroup, sizeof(cgroup));
        c->main_pid = (pid_t) main_pid;
        r = 0;

        if (!c->has_dropin) {
                SET_STATE(c, UNIT_STATE_UNMANAGED, "no %s drop-in: no rule matches and tcpkeepalive@ is not enabled for it",
                          KA_DROPIN_NAME);
                goto out;
        }
        if (main_pid == 0) {
                SET_STATE(c, UNIT_STATE_INACTIVE, "not running (%s); it gets keepalive when it starts", c->active_state);
                goto out;
        }
        count_sockets(cgroup, c->main_pid, c);
        snprintf(procpath, sizeof(procpath), "/proc/%u/maps", main_pid);
        {
                char *maps = read_proc(procpath, NULL);
                c->library_mapped = maps && strstr(maps, "/libtcpkeepalive.so");
                free(maps);
        }
        snprintf(procpath, sizeof(procpath), "/proc/%u/environ", main_pid);
        env = read_proc(procpath, &env_len);
        if (env) {
                size_t used = 0;
                for (const char *p = env; p < env + env_len; p += strlen(p) + 1)
                        if (strncmp(p, "TCPKEEPALIVE_", 13) == 0 && strncmp(p, "TCPKEEPALIVE_SOURCE=", 20) != 0 &&
                            used + strlen(p) + 2 < sizeof(c->environment))
                                used += (size_t) snprintf(c->environment + used, sizeof(c->environment) - used,
                                                          "%s%s", used ? " " : "", p);
        }
        if (c->library_mapped) {
                SET_STATE(c, UNIT_STATE_ACTIVE, "PID %u has %s; %u of %u established TCP connections carry a keepalive timer",
                          main_pid, library, c->tcp_with_keepalive, c->tcp_established);
                goto out;
        }
        /* Not mapped: find out why, from the most specific cause down. */
        if (stat(c->dropin_path, &st) == 0 && started_usec > 0 &&
            (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000 > started_usec &&
            !(env && preload_has(env_get(env, env_len, "LD_PRELOAD"), library))) {
                SET_STATE(c, UNIT_STATE_PENDING_RESTART,
                          "PID %u started before the drop-in was written; restart %s to apply it", main_pid, unit);
                goto out;
        }
        if (strv_contains(unset, "LD_PRELOAD")) {
                SET_STATE(c, UNIT_STATE_OVERRIDDEN, "the unit has UnsetEnvironment=LD_PRELOAD");
                goto out;
        }
        {
                bool unit_has = false;
                for (char **v = unit_env; v && *v; v++)
                        if (strncmp(*v, "LD_PRELOAD=", 11) == 0)
                                unit_has = preload_has(*v + 11, library); /* the last one counts */
                if (!unit_has) {
                        SET_STATE(c, UNIT_STATE_OVERRIDDEN,
                                  "an Environment=LD_PRELOAD= that sorts after %s (e.g. an override.conf) replaces ours",
                                  KA_DROPIN_NAME);
                        goto out;
                }
        }
        if (env && !preload_has(env_get(env, env_len, "LD_PRELOAD"), library)) {
                if (has_environment_files(bus, path) > 0)
                        SET_STATE(c, UNIT_STATE_OVERRIDDEN, "an EnvironmentFile= of the unit sets LD_PRELOAD over ours");
                else
                        SET_STATE(c, UNIT_STATE_OVERRIDDEN, "PID %u runs without our LD_PRELOAD", main_pid);
                goto out;
        }
        if (exe_is_static(c->main_pid))
                SET_STATE(c, UNIT_STATE_UNSUPPORTED, "PID %u runs a statically linked program; LD_PRELOAD cannot reach it",
                          main_pid);
        else if (exe_is_privileged(c->main_pid))
                SET_STATE(c, UNIT_STATE_UNSUPPORTED,
                          "PID %u runs a setuid/setgid or file-capability program; ld.so ignores LD_PRELOAD there", main_pid);
        else
                SET_STATE(c, UNIT_STATE_UNSUPPORTED,
                          "PID %u has LD_PRELOAD but not the library: its sandbox (RootDirectory=, InaccessiblePaths=, "
                          "...) probably hides %s", main_pid, library);
out:
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        free(path);
        free(env);
        strv_free(dropins);
        strv_free(unset);
        strv_free(unit_env);
        return r < 0 ? r : 0;
}

/* ---- per-socket readings ------------------------------------------------ */

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

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

/* A duplicate of pid's fd, read and closed: the kernel's own values, not
 * what the environment asked for. */
static bool read_socket(int pidfd, pid_t pid, int fd, struct unit_socket *s) {
        struct sockaddr_storage a;
        socklen_t len;
        struct tcp_info ti;
        int dup_fd = (int) syscall(SYS_pidfd_getfd, pidfd, fd, 0), domain, type, proto;

        if (dup_fd < 0)
                return false;
        domain = sockopt(dup_fd, SOL_SOCKET, SO_DOMAIN);
        type = sockopt(dup_fd, SOL_SOCKET, SO_TYPE);
        proto = sockopt(dup_fd, SOL_SOCKET, SO_PROTOCOL);
        if ((domain != AF_INET && domain != AF_INET6) || type != SOCK_STREAM ||
            (proto != IPPROTO_TCP && proto != 262 /* MPTCP */)) {
                close(dup_fd);
                return false;
        }
        *s = (struct unit_socket) { .pid = pid, .fd = fd };
        len = sizeof(a);
        if (getsockname(dup_fd, (struct sockaddr *) &a, &len) == 0)
                format_addr(&a, s->local, sizeof(s->local));
        len = sizeof(a);
        if (getpeername(dup_fd, (struct sockaddr *) &a, &len) == 0)
                format_addr(&a, s->peer, sizeof(s->peer));
        else
                snprintf(s->peer, sizeof(s->peer), "-");
        len = sizeof(ti);
        snprintf(s->state, sizeof(s->state), "%s",
                 getsockopt(dup_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 ? tcp_state_name(ti.tcpi_state) : "?");
        s->keepalive = sockopt(dup_fd, SOL_SOCKET, SO_KEEPALIVE);
        s->idle = sockopt(dup_fd, IPPROTO_TCP, TCP_KEEPIDLE);
        s->interval = sockopt(dup_fd, IPPROTO_TCP, TCP_KEEPINTVL);
        s->count = sockopt(dup_fd, IPPROTO_TCP, TCP_KEEPCNT);
        s->user_timeout = sockopt(dup_fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
        close(dup_fd);
        return true;
}

int unit_sockets(sd_bus *bus, const char *unit, struct unit_socket *out, size_t max) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *opath;
        char cgroup[1024] = "", **pids = NULL, **seen = NULL;
        uint32_t main_pid = 0;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, SD_DEST, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                               "LoadUnit", &e, &reply, "s", unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &opath);
        if (r >= 0) {
                (void) get_string(bus, opath, SD_SERVICE_IFACE, "ControlGroup", cgroup, sizeof(cgroup));
                (void) sd_bus_get_property_trivial(bus, SD_DEST, opath, SD_SERVICE_IFACE, "MainPID", NULL, 'u',
                                                   &main_pid);
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        pids = unit_pid_list(cgroup, (pid_t) main_pid);
        for (char **p = pids; p && *p; p++) {
                pid_t pid = (pid_t) atoi(*p);
                char **fds = NULL;
                int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
                if (pidfd < 0)
                        continue;
                collect_socket_fds(pid, &fds);
                for (char **f = fds; f && *f; f++) {
                        char inode[32];
                        int fd;
                        struct unit_socket s;
                        /* A socket shared by several processes (fork) is listed once. */
                        if (sscanf(*f, "%31s %d", inode, &fd) != 2 || strv_contains(seen, inode))
                                continue;
                        if (!read_socket(pidfd, pid, fd, &s))
                                continue;
                        (void) strv_push_dup(&seen, inode);
                        if (n < max)
                                out[n] = s;
                        n++;
                }
                strv_free(fds);
                close(pidfd);
        }
        strv_free(pids);
        strv_free(seen);
        return (int) (n > INT32_MAX ? INT32_MAX : n);
}
