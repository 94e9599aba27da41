/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpkeepalive-bpf: loads, attaches and feeds the BPF backend.
 *
 * Some 2,000 lines in one file: every command below works on the same
 * pins, maps and cgroup lookups, and the messages that explain a refusal
 * (bpf_refused) are shared by all. What would go next into a file of its
 * own: the live apply (apply_rule_for, apply_pass, cmd_apply), then the
 * path rules' storage (the "paths" map).
 *
 *   load     load tcpkeepalive.bpf.o and pin its programs, the parameter
 *            map and the socket storage (managed) under
 *            /sys/fs/bpf/tcpkeepalive (tcpkeepalive-bpf.service)
 *   attach   (ExecStartPre= of a unit with Method=bpf|auto, through
 *            tcpkeepalive-bpf-launch) write the parameters given as options
 *            under the unit's cgroup id and attach the
 *            programs to that cgroup (not systemd's BPFProgram=, which
 *            systemd detaches while it reloads and ignores on hybrid
 *            cgroup systems)
 *   detach   (ExecStopPost=) remove them again
 *   apply    (tcpkeepalive-apply@UNIT.service) the rule that covers a
 *            running service, scope or slice now, looked up as the
 *            generator does: its new connections through the attached
 *            programs, its established ones through one pass of an iter/tcp
 *            program; with no rule, its entry goes and connections keep
 *            what they have
 *   list     the map's entries with their cgroups
 *   gc       remove entries whose cgroup is gone
 *   unload   unpin everything
 *   iter-pin (ExecStartPre= of tcpkeepalived.service) load sockets.bpf.o,
 *            a task_file iterator over every TCP socket with its cgroup and
 *            keepalive values, and pin it as /sys/fs/bpf/tcpkeepalive/sockets
 *            (0400): the daemon, which may not load BPF programs, open()s
 *            and read()s it, one pass of the iterator per open; and the
 *            close counters (closes.bpf.o, bpf/closes.h): their programs
 *            stay attached through pinned links, the iterator over their
 *            map is pinned as /sys/fs/bpf/tcpkeepalive/closes (0400)
 *
 * What attach decided is written to /run/tcpkeepalive/bpf/UNIT for the
 * daemon and tcpkeepalivectl, which need no BPF privileges to report it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-bus.h>

#include "bpf/closes.h"
#include "bpf/params.h"
#include "bpf/sockets.h"
#include "bpf-record.h"
#include "cgroup-roots.h"
#include "dropin.h"
#include "exe-check.h"
#include "keepalive-params.h"
#include "keepalive-paths.h"
#include "bpf/paths-match.h" /* after keepalive-paths.h: tka_bpf_path_from */
#include "rules.h"
#include "safe-text.h"
#include "strv.h"
#include "unit-alias.h"
#include "unit-name.h"
#include "unit-scan.h"

#ifndef TCPKEEPALIVE_BPF_OBJECT
#define TCPKEEPALIVE_BPF_OBJECT "/usr/local/lib/tcpkeepalive/tcpkeepalive.bpf.o"
#endif
#define LOCK_FILE "/run/tcpkeepalive/bpf.lock"
#define FILEID_KERNFS 0xfe /* a cgroup's file handle: its 64-bit id */
#define PATHS_PIN "paths"  /* the path rules' map (bpf/params.h), beside "params" */

_Static_assert(TKA_BPF_PATHS_MAX == KA_PATHS_MAX && TKA_BPF_PATH_DSTS_MAX == KA_PATH_DESTINATIONS_MAX &&
                       TKA_BPF_PATH_PORTS_MAX == KA_PATH_PORTS_MAX,
               "bpf/params.h and keepalive-paths.h disagree on the limits of path rules");

enum { EXIT_USAGE = 2, EXIT_UNSUPPORTED = 3 };

static const char *pin_dir = KA_BPF_PIN_DIR; /* the pins' directory */
static const char *object_path = TCPKEEPALIVE_BPF_OBJECT;
#ifndef TCPKEEPALIVE_SOCKETS_OBJECT
#define TCPKEEPALIVE_SOCKETS_OBJECT "/usr/local/lib/tcpkeepalive/sockets.bpf.o"
#endif
static const char *sockets_object_path = TCPKEEPALIVE_SOCKETS_OBJECT;
#ifndef TCPKEEPALIVE_CLOSES_OBJECT
#define TCPKEEPALIVE_CLOSES_OBJECT "/usr/local/lib/tcpkeepalive/closes.bpf.o"
#endif
static const char *closes_object_path = TCPKEEPALIVE_CLOSES_OBJECT;
static bool verbose;
/* --syslog: stdout and stderr are not ours to write (an Accept=yes
 * service's commands get the client's connection there). */
static bool use_syslog;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first thing said: why a command failed, for the record of a failed
 * apply (the later lines are consequences). */
static char first_said[256];
/* Said by bpf_refused(): the refusal itself, which explains a failed apply
 * better than whatever failed first (a load's "is CONFIG_CGROUP_BPF set?"). */
static char refusal[256];

static void say(const char *fmt, ...) {
        va_list ap;
        if (!first_said[0]) {
                va_start(ap, fmt);
                vsnprintf(first_said, sizeof(first_said), fmt, ap);
                va_end(ap);
        }
        va_start(ap, fmt);
        if (use_syslog)
                vsyslog(LOG_DAEMON | LOG_WARNING, fmt, ap);
        else {
                fputs("tcpkeepalive-bpf: ", stderr);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        va_end(ap);
}

/* What attach did, for the unit's log. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (use_syslog)
                vsyslog(LOG_DAEMON | LOG_INFO, fmt, ap);
        else
                vprintf(fmt, ap);
        va_end(ap);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap) {
        if (level == LIBBPF_DEBUG && !verbose)
                return 0;
        if (use_syslog) {
                vsyslog(LOG_DAEMON | (level == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG), fmt, ap);
                return 0;
        }
        return vfprintf(stderr, fmt, ap);
}

/* ---- the kernel's side -------------------------------------------------------- */

/* Everything the backend needs of the kernel, with what to do about it. */
static int check_kernel(void) {
        struct utsname u;
        unsigned major = 0, minor = 0;

        if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
            (major < 5 || (major == 5 && minor < 9))) {
                say("Linux %s is too old: the BPF backend needs 5.9 or later (bpf_setsockopt of the keepalive "
                    "options from sock_ops); use Method=preload",
                    u.release);
                return -EOPNOTSUPP;
        }
        if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
                say("/sys/kernel/btf/vmlinux is missing: the kernel was built without CONFIG_DEBUG_INFO_BTF, which "
                    "the BPF backend needs to find the socket's cgroup; use Method=preload");
                return -EOPNOTSUPP;
        }
        return 0;
}

/* A BPF file system under the pins: /sys/fs/bpf, which systemd mounts at
 * boot (mounted here if not), or the directory a test chose. */
static int ensure_bpffs(void) {
        char parent[256];
        struct statfs fs;
        char *slash;

        snprintf(parent, sizeof(parent), "%s", pin_dir);
        if ((slash = strrchr(parent, '/')) && slash != parent)
                *slash = '\0';
        if (statfs(parent, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
                return 0;
        if (strcmp(parent, "/sys/fs/bpf") != 0) {
                say("%s is not on a BPF file system", pin_dir);
                return -ENOTDIR;
        }
        if (mount("bpf", parent, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
                int r = -errno;
                say("%s is not a BPF file system and mounting one failed: %s", parent, strerror(-r));
                return r;
        }
        return 0;
}

static void close_if(int fd) {
        if (fd >= 0)
                close(fd);
}

static int lock_state(void) {
        int fd;
        (void) mkdir("/run/tcpkeepalive", 0755);
        (void) mkdir(BPF_RECORD_DIR, 0755);
        (void) mkdir(BPF_APPLY_FAILED_DIR, 0755);
        fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
                close(fd);
                return -errno;
        }
        return fd < 0 ? -errno : fd;
}

static bool loaded(void) {
        char p[3][256];
        snprintf(p[0], sizeof(p[0]), "%s/sockops", pin_dir);
        snprintf(p[1], sizeof(p[1]), "%s/setsockopt", pin_dir);
        snprintf(p[2], sizeof(p[2]), "%s/params", pin_dir);
        return access(p[0], F_OK) == 0 && access(p[1], F_OK) == 0 && access(p[2], F_OK) == 0;
}

static int pin_path(char *buf, size_t size, const char *name) {
        return snprintf(buf, size, "%s/%s", pin_dir, name) < (int) size ? 0 : -ENAMETOOLONG;
}

/* Loads the object and pins its two programs and the map, once. */
/* The kernel can take our programs, bpffs is mounted, the pin directory is there. */
static int prepare_pin_dir(void) {
        int r;

        if ((r = check_kernel()) < 0 || (r = ensure_bpffs()) < 0)
                return r;
        if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST) {
                r = -errno;
                say("cannot create %s: %s", pin_dir, strerror(-r));
                return r;
        }
        return 0;
}

static int managed_map_fd(void);
static int cmd_iter_pin(void);
static int cmd_closes_pin(void);
static struct bpf_map *internal_map(struct bpf_object *obj, const char *suffix);

/* The "managed" socket storage is pinned (TKA_MANAGED_PIN) so that the two
 * objects that use it share one map whatever order they load in: load
 * (tcpkeepalive-bpf.service, or the first attach) and iter-pin
 * (tcpkeepalived.service's ExecStartPre=) are not ordered against each
 * other, and either may come first at boot. Each names the pin before
 * loading: libbpf reuses the pinned map when there is one, else creates
 * the map and pins it; both hold the state lock, so only one creates it.
 * Programs loaded by a helper that did not pin the map yet (an older one)
 * decide: their map is pinned first, and reused. */
static int share_managed_map(struct bpf_object *obj) {
        struct bpf_map *m = bpf_object__find_map_by_name(obj, "managed");
        char path[256];
        int r;

        if (!m)
                return -ENOENT;
        if ((r = pin_path(path, sizeof(path), TKA_MANAGED_PIN)) < 0)
                return r;
        if (access(path, F_OK) < 0 && loaded()) {
                int fd = managed_map_fd();
                if (fd >= 0) {
                        if (bpf_obj_pin(fd, path) < 0) {
                                r = -errno;
                                say("cannot pin the loaded programs' socket storage at %s: %s", path, strerror(-r));
                        }
                        close(fd);
                        if (r < 0)
                                return r;
                }
        }
        return bpf_map__set_pin_path(m, path);
}

/* The backend without the path rule matcher (bpf/tcpkeepalive.bpf.c
 * built with TKA_NO_PATH_MATCH), beside the object: "X-nopaths.bpf.o" for
 * "X.bpf.o". NULL when there is none. */
static const char *nopaths_object(void) {
        static char buf[4096];
        size_t n = strlen(object_path);

        if (n < 6 || strcmp(object_path + n - 6, ".bpf.o") != 0 || n + 16 >= sizeof(buf))
                return NULL;
        snprintf(buf, sizeof(buf), "%.*s-nopaths.bpf.o", (int) (n - 6), object_path);
        return access(buf, R_OK) == 0 ? buf : NULL;
}

/* Opens and loads the backend's object at path (sharing the socket
 * storage; not the live apply's program). NULL with *ret. */
static struct bpf_object *load_backend(const char *path, int *ret) {
        struct bpf_object *obj = bpf_object__open_file(path, NULL);
        struct bpf_program *apply;
        int r;

        if (!obj) {
                *ret = -errno;
                say("cannot open %s: %s", path, strerror(errno));
                return NULL;
        }
        if ((r = share_managed_map(obj)) < 0) {
                say("cannot share the socket storage with the socket iterator: %s", strerror(-r));
                goto fail;
        }
        /* The live apply's iterator is loaded by apply, each time, where
         * the kernel has it (>= 5.14): never a reason for the start-time
         * backend to fail. */
        if ((apply = bpf_object__find_program_by_name(obj, "tcpkeepalive_apply")))
                (void) bpf_program__set_autoload(apply, false);
        if ((r = bpf_object__load(obj)) < 0)
                goto fail;
        return obj;
fail:
        bpf_object__close(obj);
        *ret = r;
        return NULL;
}

static int cmd_load(void) {
        struct bpf_object *obj;
        const char *nopaths;
        struct { const char *prog, *pin; } progs[] = {
                { "tcpkeepalive_sockops", "sockops" },
                { "tcpkeepalive_setsockopt", "setsockopt" },
        };
        char path[256], sockets[256];
        bool new_map, with_paths = true;
        int r;

        if (loaded())
                return 0;
        if ((r = prepare_pin_dir()) < 0 || (r = pin_path(path, sizeof(path), TKA_MANAGED_PIN)) < 0 ||
            (r = pin_path(sockets, sizeof(sockets), TKA_SOCKETS_PIN)) < 0)
                return r;
        new_map = access(path, F_OK) < 0;
        obj = load_backend(object_path, &r);
        /* A kernel that refuses the path rule matcher (< 5.12) takes the
         * backend without it: path rules are then refused by attach. */
        if (!obj && r != -EPERM && r != -EACCES && r != -ENOENT && (nopaths = nopaths_object())) {
                note("the kernel refused the BPF program with the path rule matcher (%s; it needs Linux >= 5.12): "
                     "loading the backend without path rules (%s)\n",
                     strerror(-r), nopaths);
                if ((obj = load_backend(nopaths, &r)))
                        with_paths = false;
        }
        if (!obj) {
                if (r != -ENOENT)
                        say("the kernel refused the BPF program (%s); is CONFIG_CGROUP_BPF set? Run with --verbose "
                            "for the verifier's log",
                            strerror(-r));
                return r;
        }
        /* The object in use has the matcher (its function in the BTF). */
        if (with_paths && btf__find_by_name_kind(bpf_object__btf(obj), "tka_path_specificity", BTF_KIND_FUNC) < 0)
                with_paths = false;
        for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
                struct bpf_program *p = bpf_object__find_program_by_name(obj, progs[i].prog);
                if (!p || (r = pin_path(path, sizeof(path), progs[i].pin)) < 0 ||
                    (r = bpf_program__pin(p, path)) < 0) {
                        r = r < 0 ? r : -ENOENT;
                        say("cannot pin %s at %s: %s", progs[i].prog, path, strerror(-r));
                        goto out;
                }
        }
        if ((r = pin_path(path, sizeof(path), "params")) < 0 ||
            (r = bpf_map__pin(bpf_object__find_map_by_name(obj, "params"), path)) < 0)
                say("cannot pin the parameter map at %s: %s", path, strerror(-r));
        /* Pinned only with the matcher: its pin says path rules work. */
        else if (with_paths && ((r = pin_path(path, sizeof(path), PATHS_PIN)) < 0 ||
                                (r = bpf_map__pin(bpf_object__find_map_by_name(obj, "paths"), path)) < 0))
                say("cannot pin the path rules' map at %s: %s", path, strerror(-r));
        /* A new socket storage (its pin was gone: unload) while the
         * daemon's iterator still reads the old one: pin the iterator
         * again, on the new map. */
        else if (new_map && access(sockets, F_OK) == 0)
                (void) cmd_iter_pin();
out:
        bpf_object__close(obj);
        return r;
}

static int cmd_unload(void) {
        const char *names[] = { "sockops", "setsockopt", "params", PATHS_PIN, TKA_MANAGED_PIN };
        char path[256];
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (pin_path(path, sizeof(path), names[i]) == 0 && unlink(path) < 0 && errno != ENOENT)
                        say("cannot remove %s: %s", path, strerror(errno));
        (void) rmdir(pin_dir);
        return 0;
}

/* Loads the socket iterator and pins it (replacing an older pin at once:
 * a new one is pinned beside it and renamed over it). */
static int cmd_iter_pin(void) {
        struct bpf_object *obj;
        struct bpf_program *prog;
        struct bpf_link *link;
        char path[256], tmp[256];
        int r;

        if ((r = prepare_pin_dir()) < 0)
                return r;
        if ((r = pin_path(path, sizeof(path), TKA_SOCKETS_PIN)) < 0 ||
            (r = pin_path(tmp, sizeof(tmp), TKA_SOCKETS_PIN "-new" /* bpffs refuses dots in names */)) < 0)
                return r;
        obj = bpf_object__open_file(sockets_object_path, NULL);
        if (!obj) {
                r = -errno;
                say("cannot open %s: %s", sockets_object_path, strerror(-r));
                return r;
        }
        if ((r = share_managed_map(obj)) < 0) {
                say("cannot share the socket storage with the BPF backend: %s", strerror(-r));
                bpf_object__close(obj);
                return r;
        }
        if ((r = bpf_object__load(obj)) < 0) {
                say("the kernel refused the socket iterator (%s); Linux >= 5.8 with BTF needed. Run with --verbose "
                    "for the verifier's log",
                    strerror(-r));
                bpf_object__close(obj);
                return r == -EPERM ? r : -EOPNOTSUPP;
        }
        prog = bpf_object__find_program_by_name(obj, "tcp_sockets");
        link = prog ? bpf_program__attach_iter(prog, NULL) : NULL;
        if (!link) {
                r = -errno;
                say("cannot create the socket iterator: %s", strerror(-r));
                bpf_object__close(obj);
                return r;
        }
        (void) unlink(tmp);
        if ((r = bpf_link__pin(link, tmp)) < 0)
                say("cannot pin the socket iterator at %s: %s", tmp, strerror(-r));
        else if (chmod(tmp, 0400) < 0 || rename(tmp, path) < 0) {
                r = -errno;
                say("cannot put the socket iterator at %s: %s", path, strerror(-r));
                (void) unlink(tmp);
        }
        bpf_link__destroy(link); /* the pin holds it */
        bpf_object__close(obj);
        return r < 0 ? r : 0;
}

/* ---- close counters (bpf/closes.bpf.c) ------------------------------------------ */

/* The kernel's LINUX_MIB_TCPKEEPALIVE, from its BTF (an unnamed enum whose
 * values move between versions); 0 when not found. */
static int kernel_keepalive_mib(void) {
        struct btf *btf = btf__load_vmlinux_btf();
        int mib = 0;

        if (!btf)
                return 0;
        for (__u32 id = 1, n = btf__type_cnt(btf); id < n && !mib; id++) {
                const struct btf_type *t = btf__type_by_id(btf, id);
                const struct btf_enum *e;
                if (!btf_is_enum(t))
                        continue;
                e = btf_enum(t);
                for (__u16 i = 0; i < btf_vlen(t); i++)
                        if (strcmp(btf__name_by_offset(btf, e[i].name_off), "LINUX_MIB_TCPKEEPALIVE") == 0) {
                                mib = e[i].val;
                                break;
                        }
        }
        btf__free(btf);
        return mib;
}

/* Pins what bpf_link__pin made at tmp as name, mode 0400 (read by the daemon only). */
static int pin_link_as(struct bpf_link *link, const char *name, mode_t mode) {
        char path[256], tmp[256];
        int r;

        if ((r = pin_path(path, sizeof(path), name)) < 0 || (r = pin_path(tmp, sizeof(tmp), "closes-new")) < 0)
                return r;
        (void) unlink(tmp);
        if ((r = bpf_link__pin(link, tmp)) < 0)
                return r;
        if (chmod(tmp, mode) < 0 || rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

/* Loads closes.bpf.o over the pinned counters (created on first use);
 * probe: with the keepalive-probe program (fentry, which kernels without
 * CONFIG_FUNCTION_TRACER refuse); tracers: with the counting programs
 * (not when their links are pinned already: they keep counting). */
static struct bpf_object *closes_open_load(bool tracers, bool probe, int *ret) {
        struct bpf_object *obj;
        char map_path[256];
        int r;

        if ((r = pin_path(map_path, sizeof(map_path), TKA_CLOSES_MAP_PIN)) < 0) {
                *ret = r;
                return NULL;
        }
        if (!(obj = bpf_object__open_file(closes_object_path, NULL))) {
                *ret = -errno;
                say("cannot open %s: %s", closes_object_path, strerror(errno));
                return NULL;
        }
        if ((r = bpf_map__set_pin_path(bpf_object__find_map_by_name(obj, "close_counts"), map_path)) < 0 ||
            (r = bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "on_error"), tracers)) < 0 ||
            (r = bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "on_destroy"), tracers)) < 0 ||
            (r = bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "on_probe"), tracers && probe)) < 0 ||
            (r = bpf_object__load(obj)) < 0) {
                bpf_object__close(obj);
                *ret = r;
                return NULL;
        }
        return obj;
}

/* The close counters and the iterator over them the daemon reads. Their
 * links are pinned, so counting goes on across daemon restarts and new
 * iter-pins; only the iterator is replaced. */
static int cmd_closes_pin(void) {
        struct bpf_object *obj;
        struct bpf_link *link = NULL;
        struct bpf_map *bss;
        char errors_pin[256], probes_pin[256];
        struct stat st;
        bool counting, probes;
        int r = 0;
        struct tka_closes_globals globals = { 0 };

        if ((r = prepare_pin_dir()) < 0 || (r = pin_path(errors_pin, sizeof(errors_pin), TKA_CLOSES_ERRORS_PIN)) < 0 ||
            (r = pin_path(probes_pin, sizeof(probes_pin), TKA_CLOSES_PROBES_PIN)) < 0)
                return r;
        counting = stat(errors_pin, &st) == 0;
        obj = closes_open_load(!counting, true, &r);
        if (!obj && !counting)
                obj = closes_open_load(true, false, &r);
        if (!obj) {
                say("the kernel refused the close counters (%s); Linux >= 5.8 with BTF needed. Run with --verbose "
                    "for the verifier's log",
                    strerror(-r));
                return r == -EPERM ? r : -EOPNOTSUPP;
        }
        if (!counting) {
                struct bpf_program *probe = bpf_object__find_program_by_name(obj, "on_probe");
                globals.keepalive_mib = kernel_keepalive_mib();
                /* The covered counter first: when the errors' link is
                 * pinned, counting is on (the test above). */
                link = bpf_program__attach(bpf_object__find_program_by_name(obj, "on_destroy"));
                if (!link || (r = pin_link_as(link, TKA_CLOSES_DESTROY_PIN, 0400)) < 0) {
                        r = link ? r : -errno;
                        say("cannot attach the close counter to tcp_destroy_sock: %s", strerror(-r));
                        goto out;
                }
                bpf_link__destroy(link); /* the pin holds it */
                link = bpf_program__attach(bpf_object__find_program_by_name(obj, "on_error"));
                if (!link || (r = pin_link_as(link, TKA_CLOSES_ERRORS_PIN, 0400)) < 0) {
                        r = link ? r : -errno;
                        say("cannot attach the close counter to inet_sk_error_report: %s", strerror(-r));
                        goto out;
                }
                bpf_link__destroy(link);
                link = NULL;
                if (bpf_program__autoload(probe) && globals.keepalive_mib > 0 && (link = bpf_program__attach(probe)))
                        (void) pin_link_as(link, TKA_CLOSES_PROBES_PIN, 0400);
                else
                        note("keepalive probes are not counted: the kernel refused fentry/tcp_write_wakeup\n");
                bpf_link__destroy(link);
                link = NULL;
                /* The counting programs' own .bss: the probe program reads keepalive_mib. */
                if ((bss = internal_map(obj, ".bss")) &&
                    bpf_map_update_elem(bpf_map__fd(bss), &(int){ 0 }, &globals, 0) < 0)
                        note("cannot set the close counters' globals: %s\n", strerror(errno));
        }
        /* The header's since and flags, for the iterator, from the pins
         * (the counting programs may be an earlier iter-pin's). */
        if (stat(errors_pin, &st) < 0) {
                r = -errno;
                goto out;
        }
        globals.since = (__u64) st.st_mtime;
        probes = access(probes_pin, F_OK) == 0;
        globals.flags = probes ? TKA_CLOSES_PROBES_COUNTED : 0;
        if ((bss = internal_map(obj, ".bss")) && bpf_map_update_elem(bpf_map__fd(bss), &(int){ 0 }, &globals, 0) < 0) {
                r = -errno;
                say("cannot set the close counters' iterator header: %s", strerror(-r));
                goto out;
        }
        {
                /* Every cgroup, from the root of the helper's cgroup namespace. */
                union bpf_iter_link_info info = { .cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE };
                DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
                link = bpf_program__attach_iter(bpf_object__find_program_by_name(obj, "dump"), &opts);
        }
        if (!link || (r = pin_link_as(link, TKA_CLOSES_PIN, 0400)) < 0) {
                r = link ? r : -errno;
                say("cannot pin the close counters' iterator: %s", strerror(-r));
        }
out:
        bpf_link__destroy(link);
        bpf_object__close(obj);
        return r < 0 ? r : 0;
}

static int open_pinned(const char *name) {
        char path[256];
        int fd;
        if (pin_path(path, sizeof(path), name) < 0)
                return -ENAMETOOLONG;
        fd = bpf_obj_get(path);
        if (fd < 0)
                say("cannot open %s: %s (is tcpkeepalive-bpf.service running?)", path, strerror(errno));
        return fd < 0 ? -errno : fd;
}

/* ---- cgroups ------------------------------------------------------------------- */


/* The calling process's cgroup v2 path ("/system.slice/foo.service"); a
 * unit's control processes may run in its ".control" sub-cgroup
 * (Delegate=yes): the unit's cgroup is the parent. */
static int own_cgroup(char *buf, size_t size) {
        char line[4096];
        FILE *f = fopen("/proc/self/cgroup", "re");
        int r = -ENOENT;

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0) {
                        size_t n;
                        line[strcspn(line, "\n")] = '\0';
                        n = strlen(line + 3);
                        if (n >= 9 && strcmp(line + 3 + n - 9, "/.control") == 0)
                                line[3 + n - 9] = '\0';
                        r = snprintf(buf, size, "%s", line + 3) < (int) size ? 0 : -ENAMETOOLONG;
                        break;
                }
        fclose(f);
        return r;
}

/* --cgroup takes a path in the v2 hierarchy; never "..". */
static bool cgroup_path_ok(const char *p) {
        return p[0] == '/' && !strstr(p, "/../") && strcmp(p + strlen(p) - (strlen(p) >= 3 ? 3 : 0), "/..") != 0 &&
               !strchr(p, '\n');
}

static int open_cgroup(const char *cgroup, uint64_t *id) {
        const char *root = cgroup_v2_root();
        char path[4096];
        struct stat st;
        int fd;

        if (!root) {
                say("no cgroup v2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified");
                return -EOPNOTSUPP;
        }
        snprintf(path, sizeof(path), "%s%s", root, cgroup);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = -errno;
                say("cannot open the cgroup %s: %s", path, strerror(-r));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        *id = (uint64_t) st.st_ino;
        return fd;
}

/* The cgroup with this id, opened through its file handle (a cgroup's id
 * is its handle on the cgroup file system), or -errno (ESTALE: gone). */
static int open_cgroup_by_id(int root_fd, uint64_t id) {
        struct {
                struct file_handle fh;
                uint64_t id;
        } h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS }, .id = id };
        int fd = open_by_handle_at(root_fd, &h.fh, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static bool cgroup_exists(int root_fd, uint64_t id) {
        int fd = open_cgroup_by_id(root_fd, id);
        if (fd >= 0)
                close(fd);
        return fd >= 0 || (fd != -ESTALE && fd != -ENOENT);
}

static int prog_id(int fd, uint32_t *id) {
        struct bpf_prog_info info = { 0 };
        uint32_t len = sizeof(info);
        int r = bpf_obj_get_info_by_fd(fd, &info, &len);
        if (r < 0)
                return r;
        *id = info.id;
        return 0;
}

/* Is the pinned program prog_fd attached to cgroup cg_fd for type? */
static bool attached(int cg_fd, int prog_fd, enum bpf_attach_type type) {
        uint32_t ids[64], count = 64, flags = 0, want;
        if (prog_id(prog_fd, &want) < 0 || bpf_prog_query(cg_fd, type, 0, &flags, ids, &count) < 0)
                return false;
        for (uint32_t i = 0; i < count; i++)
                if (ids[i] == want)
                        return true;
        return false;
}

/* ---- the parameter map ------------------------------------------------------------ */

_Static_assert((int) TKA_BPF_INBOUND == (int) KA_DIRECTION_INBOUND && (int) TKA_BPF_OUTBOUND == (int) KA_DIRECTION_OUTBOUND,
               "bpf/params.h: one encoding of Direction= but for both");

/* Direction= (enum ka_direction, or -1 unset) as a "params" entry holds it. */
static __u32 tka_bpf_direction(int d) {
        return d == KA_DIRECTION_INBOUND || d == KA_DIRECTION_OUTBOUND ? (__u32) d : TKA_BPF_BOTH;
}

/* The parameters come from the command line only (the drop-in's
 * ExecStartPre=, through tcpkeepalive-bpf-launch), never from the
 * environment: a unit's environment is its own to choose, and this runs
 * as root. */
static struct tka_bpf_params params = { .enabled = 1 };
/* --path= (in order) and --unmatched=off: the unit's path rules. */
static struct tka_bpf_paths *path_options;
static bool unmatched_off;

/* --path=TEXT: one more path rule (ka_path_parse), refused by name. */
static int add_path_option(const char *text) {
        struct ka_path *kp;
        int r;

        if (!path_options && !(path_options = calloc(1, sizeof(*path_options)))) {
                say("out of memory");
                return -ENOMEM;
        }
        if (path_options->n >= TKA_BPF_PATHS_MAX) {
                say("--path=%s: at most %d path rules per unit", text, TKA_BPF_PATHS_MAX);
                return -E2BIG;
        }
        if (!(kp = malloc(sizeof(*kp)))) {
                say("out of memory");
                return -ENOMEM;
        }
        if ((r = ka_path_parse(text, kp)) < 0)
                say("--path=%s: not a path rule (want dst=PREFIX,!PREFIX;port=N-M;lport=N;idle=S;interval=S;"
                    "count=N;user_timeout=MS, see tcpkeepalive-bpf(8))",
                    text);
        else
                tka_bpf_path_from(kp, &path_options->path[path_options->n++]);
        free(kp);
        return r;
}

static int parse_number_option(enum ka_setting setting, const char *v, __s32 *ret) {
        const struct ka_setting_info *s = ka_setting(setting);
        unsigned n;
        if (ka_parse_uint(v, s->min, s->max, &n) < 0) {
                say("--%s=%s: want a number in %u..%u", s->option, v, s->min, s->max);
                return -EINVAL;
        }
        *ret = (__s32) n;
        return 0;
}

/* Removes the entries of cgroups that no longer exist (a unit whose
 * ExecStopPost= never ran: systemd killed, power cut on a kept /run). */
static unsigned gc_map(int map_fd) {
        const char *root = cgroup_v2_root();
        uint64_t key, next, *stale = NULL;
        size_t n = 0;
        unsigned removed = 0;
        int root_fd = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        void *prev = NULL;

        if (root_fd < 0)
                return 0;
        while (bpf_map_get_next_key(map_fd, prev, &next) == 0 && n < TKA_BPF_MAX_UNITS) {
                uint64_t *grown;
                key = next;
                prev = &key;
                if (cgroup_exists(root_fd, key))
                        continue;
                if (!(grown = realloc(stale, (n + 1) * sizeof(*stale))))
                        break;
                stale = grown;
                stale[n++] = key;
        }
        for (size_t i = 0; i < n; i++)
                if (bpf_map_delete_elem(map_fd, &stale[i]) == 0)
                        removed++;
        free(stale);
        close(root_fd);
        return removed;
}

/* Removes the path rules of cgroup id from index from on; the first
 * error other than ENOENT, or 0. */
static int delete_paths(int paths_map, uint64_t id, unsigned from) {
        int r = 0;

        for (unsigned i = from; i < TKA_BPF_PATHS_MAX; i++) {
                struct tka_bpf_path_key k = { .cgroup_id = id, .index = i };
                if (bpf_map_delete_elem(paths_map, &k) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        return r;
}

/* The pinned path rules' map, or -1 when there is none (a backend without
 * the matcher) or it cannot be opened. */
static int open_paths_map(void) {
        char paths_pin[256];
        if (pin_path(paths_pin, sizeof(paths_pin), PATHS_PIN) < 0 || access(paths_pin, F_OK) < 0)
                return -1;
        return bpf_obj_get(paths_pin);
}

/* gc_map of the parameters (map_fd) and of the path rules beside them
 * (whose cgroup is gone); the number of parameter entries removed. */
static unsigned gc_maps(int map_fd) {
        const char *root = cgroup_v2_root();
        struct tka_bpf_path_key key, next, *stale = NULL;
        unsigned n = gc_map(map_fd);
        size_t n_stale = 0;
        void *prev = NULL;
        int paths_map = open_paths_map(), root_fd;

        if (paths_map < 0)
                return n;
        root_fd = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        while (root_fd >= 0 && bpf_map_get_next_key(paths_map, prev, &next) == 0 &&
               n_stale < TKA_BPF_MAX_UNITS * TKA_BPF_PATHS_MAX) {
                struct tka_bpf_path_key *grown;
                key = next;
                prev = &key;
                if (cgroup_exists(root_fd, key.cgroup_id))
                        continue;
                if (!(grown = realloc(stale, (n_stale + 1) * sizeof(*stale))))
                        break;
                stale = grown;
                stale[n_stale++] = key;
        }
        for (size_t i = 0; i < n_stale; i++)
                (void) bpf_map_delete_elem(paths_map, &stale[i]);
        free(stale);
        close_if(root_fd);
        close(paths_map);
        return n;
}

/* ---- the record for the daemon ------------------------------------------------------- */

static void write_record(const char *unit, const char *method, const char *reason, uint64_t cgroup_id,
                         bool explicit_attach) {
        struct bpf_record rec = { .cgroup_id = cgroup_id, .explicit_attach = explicit_attach };
        int r;

        snprintf(rec.method, sizeof(rec.method), "%s", method);
        snprintf(rec.reason, sizeof(rec.reason), "%s", reason);
        if ((r = bpf_record_write(NULL, unit, &rec)) < 0 && r != -EINVAL)
                say("cannot write the record of %s in " BPF_RECORD_DIR ": %s", unit, strerror(-r));
}

/* ---- Method=auto ------------------------------------------------------------------------ */

/* Whether the unit's program can take the preload: its ExecStart= binary
 * (static? setuid? file capabilities?) and its sandbox (a RootDirectory=
 * or RootImage= hides the host's library). */
static bool unit_preload_works(const char *unit, char *reason, size_t size) {
        sd_bus *bus = NULL;
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *opath = NULL, *rootdir = NULL, *rootimg = NULL;
        const char *exe = NULL;
        bool works = true;

        if (sd_bus_open_system(&bus) < 0 || sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &opath) < 0)
                goto out;
        if (sd_bus_get_property_string(bus, "org.freedesktop.systemd1", opath, "org.freedesktop.systemd1.Service",
                                       "RootDirectory", &e, &rootdir) >= 0 &&
            rootdir && *rootdir) {
                snprintf(reason, size, "RootDirectory=%s hides the library", rootdir);
                works = false;
                goto out;
        }
        sd_bus_error_free(&e);
        if (sd_bus_get_property_string(bus, "org.freedesktop.systemd1", opath, "org.freedesktop.systemd1.Service",
                                       "RootImage", &e, &rootimg) >= 0 &&
            rootimg && *rootimg) {
                snprintf(reason, size, "RootImage=%s hides the library", rootimg);
                works = false;
                goto out;
        }
        sd_bus_error_free(&e);
        if (sd_bus_get_property(bus, "org.freedesktop.systemd1", opath, "org.freedesktop.systemd1.Service",
                                "ExecStart", &e, &reply, "a(sasbttttuii)") < 0 ||
            sd_bus_message_enter_container(reply, 'a', "(sasbttttuii)") <= 0 ||
            sd_bus_message_enter_container(reply, 'r', "sasbttttuii") <= 0 ||
            sd_bus_message_read(reply, "s", &exe) < 0 || !exe)
                goto out;
        works = exe_preload_works(exe, NULL, reason, size);
out:
        if (works)
                snprintf(reason, size, "a dynamically linked program: the preload reaches it");
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        sd_bus_unref(bus);
        free(opath);
        free(rootdir);
        free(rootimg);
        return works;
}

/* ---- attach / detach ---------------------------------------------------------------------- */

/* The unit a cgroup is named after: systemd escapes a name that starts
 * with '_' or a controller's name and a dot ("_cpu.service" for
 * cpu.service) by a leading '_' (cg_escape); undone here. */
static const char *unit_of(const char *cgroup) {
        const char *slash = strrchr(cgroup, '/'), *name = slash ? slash + 1 : cgroup;
        return name[0] == '_' ? name + 1 : name;
}

static const char *const attach_pins[2] = { "sockops", "setsockopt" };
static const enum bpf_attach_type attach_types[2] = { BPF_CGROUP_SOCK_OPS, BPF_CGROUP_SETSOCKOPT };

/* Stores the parameters under the cgroup's id, then attaches the pinned
 * programs to it where they are not yet (attach at a unit's start, apply
 * on a running unit). *explicit_attach: we attached at least one. */
static int store_and_attach(int cg, int map, uint64_t id, const struct tka_bpf_params *params_in,
                            const struct tka_bpf_paths *ps, bool paths_only, const char *cgroup,
                            bool *explicit_attach) {
        struct tka_bpf_params pv = *params_in, *p = &pv;
        int progs[2] = { -1, -1 }, paths_map = -1, r = 0;
        char paths_pin[256];

        *explicit_attach = false;
        if ((progs[0] = r = open_pinned(attach_pins[0])) < 0 || (progs[1] = r = open_pinned(attach_pins[1])) < 0 ||
            (r = pin_path(paths_pin, sizeof(paths_pin), PATHS_PIN)) < 0)
                goto out;
        if (access(paths_pin, F_OK) == 0 && (paths_map = r = open_pinned(PATHS_PIN)) < 0)
                goto out;
        pv.flags = 0;
        if (ps && ps->n) {
                if (paths_map < 0) {
                        r = -EOPNOTSUPP;
                        say("cannot store the path rules of %s: the loaded BPF backend has no path rule matcher (no "
                            "%s): the kernel refuses it (it needs Linux >= 5.12), or an older tcpkeepalive-bpf "
                            "loaded the backend (path rules work once this one loads it, after a reboot)",
                            cgroup, paths_pin);
                        goto out;
                }
                /* The path rules before the flag that sends sock_ops there. */
                for (unsigned i = 0; i < ps->n && i < TKA_BPF_PATHS_MAX; i++) {
                        struct tka_bpf_path_key k = { .cgroup_id = id, .index = i };
                        if (bpf_map_update_elem(paths_map, &k, &ps->path[i], BPF_ANY) < 0) {
                                r = -errno;
                                say("cannot store path rule %u of %s: bpf(BPF_MAP_UPDATE_ELEM): %s", i + 1, cgroup,
                                    strerror(-r));
                                goto out;
                        }
                }
                pv.flags = TKA_PARAMS_PATHS | (paths_only ? TKA_PARAMS_UNMATCHED_OFF : 0) |
                           (ps->n << TKA_PARAMS_N_PATHS_SHIFT);
        }
        /* The parameters first: a program attached without them does nothing. */
        if (bpf_map_update_elem(map, &id, p, BPF_ANY) < 0) {
                r = -errno;
                say("cannot store the parameters of %s: bpf(BPF_MAP_UPDATE_ELEM): %s", cgroup, strerror(-r));
                goto out;
        }
        /* No path rules (any more): the entry goes once nothing points there. */
        if (paths_map >= 0)
                (void) delete_paths(paths_map, id, ps ? ps->n : 0);
        /* Already attached: a restart reusing the cgroup, an earlier
         * apply, or an admin's own BPFProgram= pointing at our pins. */
        for (int i = 0; i < 2; i++)
                if (!attached(cg, progs[i], attach_types[i])) {
                        if (bpf_prog_attach(progs[i], cg, attach_types[i], BPF_F_ALLOW_MULTI) < 0) {
                                r = -errno;
                                say("cannot attach to %s: bpf(BPF_PROG_ATTACH): %s%s", cgroup, strerror(-r),
                                    r == -EINVAL || r == -EOPNOTSUPP ? " (is CONFIG_CGROUP_BPF set?)" : "");
                                (void) bpf_map_delete_elem(map, &id);
                                if (paths_map >= 0)
                                        (void) delete_paths(paths_map, id, 0);
                                goto out;
                        }
                        *explicit_attach = true;
                }
        r = 0;
out:
        for (int i = 0; i < 2; i++)
                if (progs[i] >= 0)
                        close(progs[i]);
        close_if(paths_map);
        return r;
}

static int cmd_attach(const char *cgroup, const char *unit, bool auto_method) {
        struct tka_bpf_params p = params;
        char reason[512] = "Method=bpf";
        enum ka_method method = auto_method ? KA_METHOD_AUTO : KA_METHOD_BPF;
        uint64_t id = 0;
        bool explicit_attach = false;
        int lock = -1, cg = -1, map = -1, r;

        if (method == KA_METHOD_AUTO) {
                if (unit_preload_works(unit, reason, sizeof(reason))) {
                        write_record(unit, "preload", reason, 0, false);
                        note("%s: Method=auto: preload (%s)\n", unit, reason);
                        return 0;
                }
        }
        if ((lock = lock_state()) < 0) {
                say("cannot lock %s: %s", LOCK_FILE, strerror(-lock));
                return lock;
        }
        if ((r = cmd_load()) < 0)
                goto fail;
        if ((cg = r = open_cgroup(cgroup, &id)) < 0 || (map = r = open_pinned("params")) < 0)
                goto fail;
        if ((r = store_and_attach(cg, map, id, &p, path_options, unmatched_off, cgroup, &explicit_attach)) < 0)
                goto fail;
        gc_maps(map);
        write_record(unit, "bpf", reason, id, explicit_attach);
        note("%s: BPF (%s): cgroup %llu, idle=%d interval=%d count=%d user_timeout=%dms%s%s\n", unit, reason,
               (unsigned long long) id, p.idle, p.interval, p.count, p.user_timeout_ms, p.force ? " force" : "",
               explicit_attach ? ", attached here" : ", attached by systemd");
        if (path_options && path_options->n)
                note("%s: %u path rule(s); connections none covers get %s\n", unit, path_options->n,
                     unmatched_off ? "nothing" : "the values above");
        r = 0;
        goto out;
fail:
        {
                char why[600];
                snprintf(why, sizeof(why), "the BPF backend failed: %s", strerror(-r));
                write_record(unit, "error", why, id, false);
        }
out:
        close_if(map);
        close_if(cg);
        close_if(lock);
        return r;
}

static int cmd_detach(const char *cgroup, const char *unit) {
        uint64_t id;
        int cg, map, r = 0;

        if (!loaded())
                goto out;
        if ((map = open_pinned("params")) < 0)
                return map;
        cg = open_cgroup(cgroup, &id);
        if (cg >= 0) {
                char paths_pin[256];
                if (bpf_map_delete_elem(map, &id) < 0 && errno != ENOENT)
                        r = -errno;
                if (pin_path(paths_pin, sizeof(paths_pin), PATHS_PIN) == 0 && access(paths_pin, F_OK) == 0) {
                        int paths_map = open_pinned(PATHS_PIN), q;
                        if (paths_map >= 0) {
                                if ((q = delete_paths(paths_map, id, 0)) < 0 && r == 0)
                                        r = q;
                                close(paths_map);
                        }
                }
                /* Whoever attached them (systemd or attach): the unit has
                 * stopped and its cgroup is about to go. */
                for (int i = 0; i < 2; i++) {
                        int prog = open_pinned(attach_pins[i]);
                        if (prog >= 0) {
                                if (attached(cg, prog, attach_types[i]))
                                        (void) bpf_prog_detach2(prog, cg, attach_types[i]);
                                close(prog);
                        }
                }
                close(cg);
        }
        /* The cgroup may be gone already; anything left of it goes now. */
        gc_maps(map);
        close(map);
out:
        (void) bpf_record_remove(NULL, unit);
        if (r < 0)
                say("cannot remove the parameters of %s: %s", cgroup, strerror(-r));
        return r;
}

/* ---- apply: a rule reaches a running unit ---------------------------------------------------- */

/* Where a BPF call failed: EPERM is a kernel (or a sandbox: seccomp, a
 * container) that says no to BPF, exit 3 like any missing kernel feature. */
static int bpf_refused(const char *call, int r) {
        if (r == -EPERM || r == -EACCES) {
                snprintf(refusal, sizeof(refusal), "bpf(%s) refused: %s (%s): BPF is not allowed here", call,
                         r == -EPERM ? "EPERM" : "EACCES", strerror(-r));
                say("%s", refusal);
                return -EOPNOTSUPP;
        }
        return r;
}

/* The unit's ControlGroup, if it is active. -ENOENT: not loaded, -ESRCH:
 * not active (both exit 1: nothing runs that a rule could reach). */
static int unit_control_group(const char *unit, char *buf, size_t size) {
        sd_bus *bus = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *opath, *iface, *dot = strrchr(unit, '.');
        char *state = NULL, *cgroup = NULL;
        int r;

        iface = strcmp(dot, ".scope") == 0   ? "org.freedesktop.systemd1.Scope"
                : strcmp(dot, ".slice") == 0 ? "org.freedesktop.systemd1.Slice"
                                             : "org.freedesktop.systemd1.Service";
        if ((r = sd_bus_open_system(&bus)) < 0) {
                say("cannot connect to the system bus: %s", strerror(-r));
                goto out;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", &e, &reply, "s", unit);
        if (r < 0) {
                say("%s: not loaded, nothing to apply to (%s)", unit, e.message ? e.message : strerror(-r));
                r = -ENOENT;
                goto out;
        }
        if ((r = sd_bus_message_read(reply, "o", &opath)) < 0)
                goto out;
        sd_bus_error_free(&e);
        if ((r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", opath, "org.freedesktop.systemd1.Unit",
                                            "ActiveState", &e, &state)) < 0) {
                say("%s: cannot read ActiveState: %s", unit, e.message ? e.message : strerror(-r));
                goto out;
        }
        if (strcmp(state, "active") != 0 && strcmp(state, "reloading") != 0) {
                say("%s is %s, not running: nothing to apply to (its next start takes the rule)", unit, state);
                r = -ESRCH;
                goto out;
        }
        sd_bus_error_free(&e);
        if ((r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", opath, iface, "ControlGroup", &e,
                                            &cgroup)) < 0) {
                say("%s: cannot read ControlGroup: %s", unit, e.message ? e.message : strerror(-r));
                goto out;
        }
        if (!cgroup_path_ok(cgroup) || snprintf(buf, size, "%s", cgroup) >= (int) size) {
                say("%s: ControlGroup '%s' is not a cgroup path", unit, cgroup);
                r = -EINVAL;
                goto out;
        }
        r = 0;
out:
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        sd_bus_unref(bus);
        free(state);
        free(cgroup);
        return r;
}

/* The "managed" socket storage the pinned programs use, found through the
 * pinned setsockopt program's maps: what they use, also when an older
 * helper loaded them and did not pin it. */
static int managed_map_fd(void) {
        uint32_t ids[8] = { 0 };
        struct bpf_prog_info info = { .nr_map_ids = 8, .map_ids = (uint64_t) (uintptr_t) ids };
        uint32_t len = sizeof(info);
        int prog = open_pinned("setsockopt"), r = -ENOENT;

        if (prog < 0)
                return prog;
        if (bpf_obj_get_info_by_fd(prog, &info, &len) < 0) {
                r = -errno;
                close(prog);
                return r;
        }
        close(prog);
        for (uint32_t i = 0; i < info.nr_map_ids && i < 8; i++) {
                struct bpf_map_info m = { 0 };
                uint32_t mlen = sizeof(m);
                int fd = bpf_map_get_fd_by_id(ids[i]);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                if (bpf_obj_get_info_by_fd(fd, &m, &mlen) == 0 && strcmp(m.name, "managed") == 0)
                        return fd;
                close(fd);
        }
        return r;
}

static struct bpf_map *internal_map(struct bpf_object *obj, const char *suffix) {
        struct bpf_map *m;
        bpf_object__for_each_map(m, obj) {
                const char *name = bpf_map__name(m);
                size_t a = strlen(name), b = strlen(suffix);
                if (bpf_map__is_internal(m) && a >= b && strcmp(name + a - b, suffix) == 0)
                        return m;
        }
        return NULL;
}

/* The network namespaces of a cgroup subtree's processes: a TCP iterator
 * visits the sockets of the namespace it was created in (the creator's),
 * and a unit's connections are in its processes' namespaces
 * (PrivateNetwork=, a container's). */
#define NETNS_MAX 256
struct netns_set {
        uint64_t ino[NETNS_MAX];
        pid_t pid[NETNS_MAX]; /* a process in it */
        size_t n;
        bool full;
};

static void netns_add(struct netns_set *set, pid_t pid) {
        char path[64];
        struct stat st;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        if (stat(path, &st) < 0)
                return; /* gone already: its sockets went with it, or another process holds them */
        for (size_t i = 0; i < set->n; i++)
                if (set->ino[i] == (uint64_t) st.st_ino)
                        return;
        if (set->n == NETNS_MAX) {
                set->full = true;
                return;
        }
        set->ino[set->n] = (uint64_t) st.st_ino;
        set->pid[set->n++] = pid;
}

static void netns_scan_cgroup(int dir_fd, struct netns_set *set, unsigned depth) {
        int fd = openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        struct dirent *de;
        FILE *f;
        DIR *d;
        int pid;

        if (fd >= 0 && (f = fdopen(fd, "re"))) {
                while (fscanf(f, "%d", &pid) == 1)
                        if (pid > 0)
                                netns_add(set, pid);
                fclose(f);
        } else if (fd >= 0)
                close(fd);
        if (depth >= 32 || (fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return;
        if (!(d = fdopendir(fd))) {
                close(fd);
                return;
        }
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        int sub = openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (sub >= 0) {
                                netns_scan_cgroup(sub, set, depth + 1);
                                close(sub);
                        }
                }
        closedir(d);
}

/* Runs one iterator to its end and closes it: the pass happens as we read
 * (the program writes nothing, so the first read returns 0 at its end). */
static int drain_iterator(int iter) {
        char buf[256];
        ssize_t n;
        int r = 0;

        while ((n = read(iter, buf, sizeof(buf))) > 0)
                ;
        if (n < 0) {
                r = -errno;
                say("the TCP iterator failed: %s", strerror(-r));
        }
        close(iter);
        return r;
}

static int new_iterator(struct bpf_link *link, const char *where) {
        int iter = bpf_iter_create(bpf_link__fd(link));
        if (iter < 0)
                say("cannot start the TCP iterator%s: bpf(BPF_ITER_CREATE): %s", where, strerror(errno));
        return iter < 0 ? -errno : iter;
}

/* The pass in each network namespace of the subtree: our own first, then
 * the others, entered with setns() for the iterator's creation only. */
static int run_iterator_everywhere(struct bpf_link *link, int cg, unsigned *ret_namespaces) {
        struct netns_set *set = calloc(1, sizeof(*set));
        struct stat self_st;
        int self = -1, r;

        *ret_namespaces = 1;
        if (!set)
                return -ENOMEM;
        if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 || fstat(self, &self_st) < 0) {
                r = -errno;
                say("cannot open my network namespace: %s", strerror(-r));
                goto out;
        }
        if ((r = new_iterator(link, "")) < 0 || (r = drain_iterator(r)) < 0)
                goto out;
        netns_scan_cgroup(cg, set, 0);
        if (set->full)
                say("more than %d network namespaces in the unit's cgroup: the others are not reached", NETNS_MAX);
        for (size_t i = 0; i < set->n; i++) {
                char path[64];
                int ns, q = 0;
                if (set->ino[i] == (uint64_t) self_st.st_ino)
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) set->pid[i]);
                if ((ns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                        continue; /* the process is gone */
                if (setns(ns, CLONE_NEWNET) < 0) {
                        q = -errno;
                        say("cannot enter the network namespace of PID %d: %s", (int) set->pid[i], strerror(-q));
                } else {
                        char where[64];
                        int iter;
                        snprintf(where, sizeof(where), " in PID %d's network namespace", (int) set->pid[i]);
                        iter = new_iterator(link, where);
                        if (setns(self, CLONE_NEWNET) < 0) {
                                r = -errno;
                                say("cannot return to my network namespace: %s", strerror(-r));
                                if (iter >= 0)
                                        close(iter);
                                close(ns);
                                goto out;
                        }
                        q = iter < 0 ? iter : drain_iterator(iter);
                        (*ret_namespaces)++;
                }
                close(ns);
                if (q < 0 && r == 0)
                        r = q;
        }
out:
        if (self >= 0)
                close(self);
        free(set);
        return r;
}

/* One pass of the iter/tcp program over the established connections of the
 * cgroup subtree id: loaded for this pass, sharing the pinned parameter map
 * and socket storage with sock_ops and setsockopt. */
static int apply_pass(int params_fd, int cg, uint64_t id, struct tka_apply_counts *counts, unsigned *namespaces) {
        const char *apply_object = object_path;
        struct tka_apply_target target = { .cgroup_id = id };
        struct bpf_object *obj;
        struct bpf_program *prog;
        struct bpf_link *link = NULL;
        struct bpf_map *m, *bss;
        int managed = -1, r;
        uint32_t zero = 0;

        if ((managed = managed_map_fd()) < 0)
                return bpf_refused("BPF_MAP_GET_FD_BY_ID", managed);
        /* The loaded backend has no path rules (no "paths" pin: the kernel
         * refused the matcher, or an older helper loaded it): the apply
         * program without the matcher, which such a kernel takes too. */
        {
                char paths_pin[256];
                if (pin_path(paths_pin, sizeof(paths_pin), PATHS_PIN) == 0 && access(paths_pin, F_OK) < 0 &&
                    nopaths_object())
                        apply_object = nopaths_object();
        }
        obj = bpf_object__open_file(apply_object, NULL);
        if (!obj) {
                r = -errno;
                say("cannot open %s: %s", apply_object, strerror(-r));
                close(managed);
                return r;
        }
        bpf_object__for_each_program(prog, obj)
                (void) bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), "tcpkeepalive_apply") == 0);
        if (!(m = bpf_object__find_map_by_name(obj, "params")) || (r = bpf_map__reuse_fd(m, params_fd)) < 0 ||
            !(m = bpf_object__find_map_by_name(obj, "managed")) || (r = bpf_map__reuse_fd(m, managed)) < 0) {
                r = m ? r : -ENOENT;
                say("cannot share the maps with the loaded programs: %s", strerror(-r));
                goto out;
        }
        /* The path rules sock_ops reads (store_and_attach refused path
         * rules when the loaded programs have no such map). */
        {
                char paths_pin[256];
                if (pin_path(paths_pin, sizeof(paths_pin), PATHS_PIN) == 0 && access(paths_pin, F_OK) == 0) {
                        int paths_map = open_pinned(PATHS_PIN);
                        if (paths_map < 0 || !(m = bpf_object__find_map_by_name(obj, "paths")) ||
                            (r = bpf_map__reuse_fd(m, paths_map)) < 0) {
                                r = paths_map < 0 ? paths_map : m ? r : -ENOENT;
                                say("cannot share the path rules' map with the loaded programs: %s", strerror(-r));
                                close_if(paths_map);
                                goto out;
                        }
                        close(paths_map);
                }
        }
        if (!(m = internal_map(obj, ".rodata")) || (r = bpf_map__set_initial_value(m, &target, sizeof(target))) < 0 ||
            !(bss = internal_map(obj, ".bss"))) {
                r = -EINVAL;
                say("%s: not the object this helper was built with (the apply program's data)", apply_object);
                goto out;
        }
        if ((r = bpf_object__load(obj)) < 0) {
                if (r == -EPERM || r == -EACCES)
                        r = bpf_refused("BPF_PROG_LOAD", r);
                else {
                        say("the kernel refused the iter/tcp program (%s): live apply needs Linux >= 5.14 "
                            "(bpf_setsockopt in TCP iterators); the rule reaches the unit at its next start. Run "
                            "with --verbose for the verifier's log",
                            strerror(-r));
                        r = -EOPNOTSUPP;
                }
                goto out;
        }
        prog = bpf_object__find_program_by_name(obj, "tcpkeepalive_apply");
        if (!prog || !(link = bpf_program__attach_iter(prog, NULL))) {
                r = -errno;
                say("cannot create the TCP iterator: bpf(BPF_LINK_CREATE): %s", strerror(-r));
                r = r == -EPERM ? -EOPNOTSUPP : r;
                goto out;
        }
        if ((r = run_iterator_everywhere(link, cg, namespaces)) < 0)
                goto out;
        if (bpf_map_lookup_elem(bpf_map__fd(bss), &zero, counts) < 0) {
                r = -errno;
                say("cannot read the pass's counts: %s", strerror(-r));
                goto out;
        }
        r = 0;
out:
        bpf_link__destroy(link);
        bpf_object__close(obj);
        close(managed);
        return r;
}

/* The rule for unit, as the generator would find it at the unit's next
 * start: 1 (ret filled), 0 (none, or Mode=off), -errno. */
static int apply_rule_for(const char *unit, struct tka_bpf_params *ret, struct tka_bpf_paths *ret_paths,
                          bool *ret_paths_only, char *source, size_t size) {
        struct ka_ruleset rs;
        struct unit_aliases aliases;
        struct ka_params kp;
        const struct ka_rule *rule = NULL;
        char **units = NULL, **enabled = NULL;
        bool service = unit_name_is_valid_service(unit);
        int r;

        ka_ruleset_init(&rs);
        unit_aliases_init(&aliases);
        if ((r = ka_ruleset_load_dirs(&rs, "", ka_rule_dirs)) < 0) {
                say("cannot load the rules: %s", strerror(-r));
                goto out;
        }
        for (size_t i = 0; i < rs.n_diags; i++)
                if (rs.diags[i].level == KA_DIAG_ERROR)
                        say("%s:%u: %s", rs.diags[i].path, rs.diags[i].line, rs.diags[i].message);
        /* Aliases and the tcpkeepalive@ switch exist for services only. */
        if (service) {
                ka_unit_scan("", &units, &enabled);
                if (unit_aliases_load(&aliases, "", ka_unit_dirs) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                ka_units_canonical(&aliases, &enabled);
        }
        r = ka_unit_params(&rs, service ? &aliases : NULL, enabled, unit, &kp, &rule, NULL);
        if (r <= 0)
                goto out;
        snprintf(source, size, "%s", rule ? rule->path : "systemctl enable tcpkeepalive@");
        if (kp.mode == KA_MODE_OFF)
                r = 0;
        else {
                *ret = (struct tka_bpf_params) {
                        .enabled = 1,
                        .force = kp.mode == KA_MODE_FORCE,
                        .direction = tka_bpf_direction(kp.direction),
                        .idle = kp.idle_sec > 0 && (unsigned) kp.idle_sec <= KA_IDLE_MAX ? kp.idle_sec : 0,
                        .interval = kp.interval_sec > 0 && (unsigned) kp.interval_sec <= KA_INTERVAL_MAX ? kp.interval_sec : 0,
                        .count = kp.count > 0 && (unsigned) kp.count <= KA_COUNT_MAX ? kp.count : 0,
                        .user_timeout_ms = kp.user_timeout_ms > 0 && kp.user_timeout_ms <= (int64_t) KA_USER_TIMEOUT_MAX
                                                   ? (__s32) kp.user_timeout_ms
                                                   : 0,
                };
                /* Its path rules, as the generator passes them to attach. */
                memset(ret_paths, 0, sizeof(*ret_paths));
                for (size_t i = 0; i < kp.n_paths && i < TKA_BPF_PATHS_MAX; i++)
                        tka_bpf_path_from(&kp.paths[i], &ret_paths->path[ret_paths->n++]);
                *ret_paths_only = kp.n_paths > 0 && kp.paths_only;
                r = 1;
        }
        ka_params_done(&kp);
out:
        strv_free(units);
        strv_free(enabled);
        unit_aliases_done(&aliases);
        ka_ruleset_done(&rs);
        return r;
}

static uint64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/*
 * apply --unit=UNIT: the rule that covers the running unit now, on its
 * existing connections (one iterator pass) and its new ones (sock_ops on
 * its cgroup); or, when no rule covers it any more, no entry: new
 * connections get nothing and existing ones keep what they have ("leave":
 * the values before ours were never recorded, so nothing could restore
 * them right).
 */
static int cmd_apply(const char *unit, const char *test_cgroup) {
        struct tka_bpf_params p = { 0 };
        struct tka_bpf_paths *ps = calloc(1, sizeof(*ps));
        bool paths_only = false;
        struct tka_apply_counts counts = { 0 };
        char cgroup[4096], source[4096] = "";
        uint64_t id = 0;
        bool explicit_attach = false;
        unsigned namespaces = 0;
        int lock = -1, cg = -1, map = -1, covered, r;

        if (!ps) {
                say("out of memory");
                return -ENOMEM;
        }
        if (test_cgroup) {
                /* The test build's apply --cgroup=PATH: the rule from the
                 * options, a cgroup of the test's own (no systemd). */
                p = params;
                if (path_options)
                        *ps = *path_options;
                paths_only = unmatched_off;
                covered = 1;
                snprintf(source, sizeof(source), "the command line");
                snprintf(cgroup, sizeof(cgroup), "%s", test_cgroup);
        } else if ((covered = r = apply_rule_for(unit, &p, ps, &paths_only, source, sizeof(source))) < 0)
                goto out;
        else if ((r = unit_control_group(unit, cgroup, sizeof(cgroup))) < 0) {
                r = r == -ENOENT || r == -ESRCH ? -ESRCH : r;
                goto out;
        }
        if ((r = check_kernel()) < 0)
                goto out;
        if ((lock = lock_state()) < 0) {
                say("cannot lock %s: %s", LOCK_FILE, strerror(-lock));
                r = lock;
                goto out;
        }
        if ((cg = r = open_cgroup(cgroup, &id)) < 0)
                goto out;
        if (!covered) {
                /* Nothing to load for this: without pins there is no entry. */
                if (loaded()) {
                        if ((map = r = open_pinned("params")) < 0) {
                                r = bpf_refused("BPF_OBJ_GET", r);
                                goto out;
                        }
                        if (bpf_map_delete_elem(map, &id) < 0 && errno != ENOENT) {
                                r = bpf_refused("BPF_MAP_DELETE_ELEM", -errno);
                                say("%s: cannot remove the parameters of cgroup %llu: %s", unit,
                                    (unsigned long long) id, strerror(errno));
                                goto out;
                        }
                        {
                                char paths_pin[256];
                                int paths_map;
                                if (pin_path(paths_pin, sizeof(paths_pin), PATHS_PIN) == 0 &&
                                    (paths_map = bpf_obj_get(paths_pin)) >= 0) {
                                        (void) delete_paths(paths_map, id, 0);
                                        close(paths_map);
                                }
                        }
                }
                (void) bpf_record_remove(NULL, unit);
                note("%s: no rule covers it%s: new connections get no keepalive from the BPF backend, existing "
                     "ones keep the values they have (cgroup %llu)\n",
                     unit, *source ? " with a Mode= other than off" : "", (unsigned long long) id);
                r = 0;
                goto out;
        }
        if (!loaded() && (r = cmd_load()) < 0) {
                r = bpf_refused("BPF_PROG_LOAD", r);
                goto out;
        }
        if ((map = r = open_pinned("params")) < 0) {
                r = bpf_refused("BPF_OBJ_GET", r);
                goto out;
        }
        /* New connections first: a connection established during the pass
         * is then covered by one or the other. */
        if ((r = store_and_attach(cg, map, id, &p, ps, paths_only, cgroup, &explicit_attach)) < 0) {
                r = bpf_refused("BPF_MAP_UPDATE_ELEM/BPF_PROG_ATTACH", r);
                goto out;
        }
        if ((r = apply_pass(map, cg, id, &counts, &namespaces)) < 0)
                goto out;
        {
                struct bpf_record rec = { .method = "bpf-live", .cgroup_id = id, .explicit_attach = explicit_attach,
                                          .live = counts.live, .own = counts.own, .applied_usec = realtime_usec() };
                snprintf(rec.reason, sizeof(rec.reason), "applied live by tcpkeepalive-bpf apply (%s)", source);
                if ((r = bpf_record_write(NULL, unit, &rec)) < 0)
                        say("cannot write the record of %s in " BPF_RECORD_DIR ": %s", unit, strerror(-r));
        }
        note("%s: applied live: %llu connection(s) given the rule's values, %llu left with the program's own "
             "(cgroup %llu)\n",
             unit, (unsigned long long) counts.live, (unsigned long long) counts.own, (unsigned long long) id);
        if (namespaces > 1)
                note("%s: its connections are in %u network namespaces; each had its pass\n", unit, namespaces);
        if (ps->n)
                note("%s: %u path rule(s): %llu of those connection(s) given a path rule's values, %llu covered by "
                     "none %s\n",
                     unit, ps->n, (unsigned long long) counts.paths,
                     (unsigned long long) (paths_only ? counts.unmatched : counts.live - counts.paths),
                     paths_only ? "left alone" : "given the unit's own");
        if (counts.direction || counts.failed || counts.listeners_lost)
                note("%s: %llu connection(s) outside the rule's Direction=, %llu refused an option, %llu listener(s) "
                     "not noted\n",
                     unit, (unsigned long long) counts.direction, (unsigned long long) counts.failed,
                     (unsigned long long) counts.listeners_lost);
        r = counts.failed ? -EIO : 0;
out:
        close_if(map);
        close_if(cg);
        close_if(lock);
        free(ps);
        return r;
}

/* What the daemon reads of an apply: why it failed, kept until an apply
 * succeeds. A scope or slice that is gone (not loaded, not active) has its
 * records removed: nothing of it is left to report, and container managers
 * create a scope per container. A service's start record stays (its next
 * start writes a new one; this apply may race with that start). */
static void apply_outcome(const char *unit, int r) {
        struct bpf_record rec = { .method = "error" };
        const char *dot = strrchr(unit, '.');
        int w;

        if (r == -ENOENT || r == -ESRCH) {
                (void) bpf_record_remove(BPF_APPLY_FAILED_DIR, unit);
                if (dot && (strcmp(dot, ".scope") == 0 || strcmp(dot, ".slice") == 0))
                        (void) bpf_record_remove(NULL, unit);
                return;
        }
        if (r >= 0) {
                (void) bpf_record_remove(BPF_APPLY_FAILED_DIR, unit);
                return;
        }
        snprintf(rec.reason, sizeof(rec.reason), "%s", refusal[0] ? refusal : first_said[0] ? first_said : strerror(-r));
        (void) mkdir("/run/tcpkeepalive", 0755);
        (void) mkdir(BPF_APPLY_FAILED_DIR, 0755);
        if ((w = bpf_record_write(BPF_APPLY_FAILED_DIR, unit, &rec)) < 0 && w != -EINVAL)
                say("cannot write the record of %s in " BPF_APPLY_FAILED_DIR ": %s", unit, strerror(-w));
}

/* list: the path rules of one entry, after its line. */
static void list_paths(uint64_t key, uint32_t flags) {
        struct tka_bpf_paths *ps = calloc(1, sizeof(*ps));
        int map = -1;

        printf("  (path rules%s)\n", flags & TKA_PARAMS_UNMATCHED_OFF ? ", unmatched off" : "");
        if (!ps || (map = open_pinned(PATHS_PIN)) < 0) {
                printf("  path rules: none stored\n");
                goto out;
        }
        for (unsigned i = 0; i < TKA_PARAMS_N_PATHS(flags) && i < TKA_BPF_PATHS_MAX; i++) {
                struct tka_bpf_path_key k = { .cgroup_id = key, .index = i };
                if (bpf_map_lookup_elem(map, &k, &ps->path[i]) < 0)
                        memset(&ps->path[i], 0, sizeof(ps->path[i]));
                ps->n = i + 1;
        }
        for (unsigned i = 0; i < ps->n && i < TKA_BPF_PATHS_MAX; i++) {
                const struct tka_bpf_path *pp = &ps->path[i];
                printf("  path %u:", i + 1);
                for (unsigned d = 0; d < pp->n_dst && d < TKA_BPF_PATH_DSTS_MAX; d++) {
                        char a[INET6_ADDRSTRLEN] = "?";
                        inet_ntop(pp->dst[d].family, pp->dst[d].addr, a, sizeof(a));
                        printf("%s%s%s/%u", d ? "," : " dst=", pp->dst[d].exclude ? "!" : "", a, pp->dst[d].len);
                }
                for (unsigned k = 0; k < 2; k++) {
                        const struct tka_bpf_port_range *r = k ? pp->lports : pp->ports;
                        unsigned n = k ? pp->n_lports : pp->n_ports;
                        for (unsigned j = 0; j < n && j < TKA_BPF_PATH_PORTS_MAX; j++)
                                printf(r[j].first == r[j].last ? "%s%u" : "%s%u-%u",
                                       j ? "," : k ? " lport=" : " port=", r[j].first, r[j].last);
                }
                printf(" idle=%d interval=%d count=%d user_timeout=%d\n", pp->idle, pp->interval, pp->count,
                       pp->user_timeout_ms);
        }
out:
        close_if(map);
        free(ps);
}

static int cmd_list(void) {
        uint64_t key, next;
        void *prev = NULL;
        const char *root = cgroup_v2_root();
        int map = open_pinned("params"), root_fd, n = 0;

        if (map < 0)
                return map;
        root_fd = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        printf("%-12s %-6s %-8s %5s %8s %5s %8s  %s\n", "CGROUP-ID", "MODE", "DIR", "IDLE", "INTERVAL", "COUNT",
               "USER-TO", "CGROUP");
        while (bpf_map_get_next_key(map, prev, &next) == 0 && n < TKA_BPF_MAX_UNITS) {
                struct tka_bpf_params p;
                char link[64], where[4096] = "(gone)";
                key = next;
                prev = &key;
                n++;
                if (bpf_map_lookup_elem(map, &key, &p) < 0)
                        continue;
                if (root_fd >= 0) {
                        int fd = open_cgroup_by_id(root_fd, key);
                        if (fd >= 0) {
                                ssize_t len;
                                snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
                                len = readlink(link, where, sizeof(where) - 1);
                                where[len > 0 ? len : 0] = '\0';
                                close(fd);
                        }
                }
                printf("%-12llu %-6s %-8s %5d %8d %5d %8d  %s", (unsigned long long) key,
                       !p.enabled ? "off" : p.force ? "force" : "default",
                       p.direction == TKA_BPF_INBOUND ? "inbound" : p.direction == TKA_BPF_OUTBOUND ? "outbound" : "both",
                       p.idle, p.interval, p.count, p.user_timeout_ms, where);
                if (p.flags & TKA_PARAMS_PATHS)
                        list_paths(key, p.flags);
                else
                        putchar('\n');
        }
        if (root_fd >= 0)
                close(root_fd);
        close(map);
        return 0;
}

static void help(void) {
        printf("Usage: tcpkeepalive-bpf [OPTIONS] COMMAND\n"
               "The BPF backend of tcp-keepalive (Method=bpf|auto in keepalived.d(5)).\n\n"
               "Commands:\n"
               "  load               load the BPF programs and pin them under %s\n"
               "  attach [--auto]    give the calling unit's cgroup the parameters given as options\n"
               "                     (ExecStartPre=); --auto: only if the preload cannot work\n"
               "  detach             remove them (ExecStopPost=)\n"
               "  apply --unit=UNIT  the rule that covers the running UNIT (a service, scope or slice) now,\n"
               "                     with no restart: its established connections get the rule's values\n"
               "                     (Mode=default: those where the program made no choice of its own),\n"
               "                     new ones too; with no rule any more, new connections get nothing and\n"
               "                     existing ones keep what they have (tcpkeepalive-apply@.service)\n"
               "  list               the parameters stored, per cgroup\n"
               "  gc                 remove the parameters of cgroups that are gone\n"
               "  unload             remove the pinned programs and maps\n"
               "  iter-pin           load the socket iterator tcpkeepalived reads and pin it as %s/" TKA_SOCKETS_PIN "\n"
               "                     and the close counters (once; their iterator: %s/" TKA_CLOSES_PIN ")\n\n"
               "Options:\n"
               "  --unit=NAME        the unit (attach, detach: the caller's cgroup's unit; apply: any)\n"
               "  --idle=SECONDS --interval=SECONDS --count=N --user-timeout=MS\n"
               "  --mode=default|force --direction=both|inbound|outbound\n"
               "                     the rule's parameters (attach); unset ones stay the kernel's\n"
               "  --path=TEXT        a path rule (attach; repeatable, at most %d): the connections it covers\n"
               "                     get its values, e.g. 'dst=10.0.0.0/8,!10.1.0.0/16;port=5432;lport=443;\n"
               "                     idle=300;interval=10;count=3;user_timeout=330000'; the most specific\n"
               "                     rule wins (longest dst prefix, then port, then lport; the later one on ties)\n"
               "  --unmatched=off    (with --path) a connection no path rule covers gets nothing\n"
               "  --cgroup=PATH      a cgroup v2 path (/system.slice/foo.service) instead of the caller's\n"
               "  --verbose          libbpf's and the verifier's messages too\n"
               "  --syslog           messages to syslog, never to stdout or stderr\n"
               "  -h, --help         this help\n\n"
               "The environment is never read: the drop-ins of tcpkeepalive-generator(8) run this through\n"
               "tcpkeepalive-bpf-launch with the rule's values as options.\n"
               "Exit status: 0 done, 1 failed, 2 usage, 3 the kernel lacks what the backend needs.\n",
               KA_BPF_PIN_DIR, KA_BPF_PIN_DIR, KA_BPF_PIN_DIR, TKA_BPF_PATHS_MAX);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "auto", no_argument, NULL, 'a' },
                { "cgroup", required_argument, NULL, 'c' },
                { "unit", required_argument, NULL, 'u' },
                { "idle", required_argument, NULL, 'I' },
                { "interval", required_argument, NULL, 'N' },
                { "count", required_argument, NULL, 'C' },
                { "user-timeout", required_argument, NULL, 'T' },
                { "mode", required_argument, NULL, 'M' },
                { "direction", required_argument, NULL, 'D' },
                { "path", required_argument, NULL, 'P' },
                { "unmatched", required_argument, NULL, 'U' },
                { "verbose", no_argument, NULL, 'v' },
                { "syslog", no_argument, NULL, 'S' },
                {}
        };
        char cgroup[4096] = "";
        const char *unit = NULL;
        bool auto_method = false, own = false, rule_options = false;
        enum ka_mode mode;
        enum ka_direction dir;
        const char *cmd;
        int c, r;

#ifdef TKA_TEST_OVERRIDES
        /* The test build only (check_PROGRAMS): the build tree's object under
         * a test's own pin directory. The installed helper has both paths
         * fixed at build time. */
        if (getenv("TCPKEEPALIVE_BPF_PIN_DIR"))
                pin_dir = getenv("TCPKEEPALIVE_BPF_PIN_DIR");
        if (getenv("TCPKEEPALIVE_BPF_OBJECT"))
                object_path = getenv("TCPKEEPALIVE_BPF_OBJECT");
        if (getenv("TCPKEEPALIVE_SOCKETS_OBJECT"))
                sockets_object_path = getenv("TCPKEEPALIVE_SOCKETS_OBJECT");
        if (getenv("TCPKEEPALIVE_CLOSES_OBJECT"))
                closes_object_path = getenv("TCPKEEPALIVE_CLOSES_OBJECT");
#else
        /* Whatever started us, nothing below (libbpf, sd-bus: its
         * DBUS_SYSTEM_BUS_ADDRESS would let a unit point the Method=auto
         * question at a bus of its own) reads an environment we did not set. */
        if (clearenv() != 0 || setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) < 0) {
                say("cannot clear the environment");
                return 1;
        }
#endif
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': help(); return 0;
                case 'a': auto_method = rule_options = true; break;
                case 'v': verbose = true; break;
                case 'S':
                        use_syslog = true;
                        openlog("tcpkeepalive-bpf", LOG_PID, LOG_DAEMON);
                        break;
                case 'c':
                        if (!cgroup_path_ok(optarg) || strlen(optarg) >= sizeof(cgroup)) {
                                say("--cgroup=%s: want an absolute cgroup path without ..", optarg);
                                return EXIT_USAGE;
                        }
                        snprintf(cgroup, sizeof(cgroup), "%s", optarg);
                        break;
                case 'u':
                        if (!unit_name_is_valid_cgroup_unit(optarg)) {
                                say("--unit=%s: not a service, scope or slice unit name", optarg);
                                return EXIT_USAGE;
                        }
                        unit = optarg;
                        break;
                case 'I':
                        rule_options = true;
                        if (parse_number_option(KA_SETTING_IDLE, optarg, &params.idle) < 0)
                                return EXIT_USAGE;
                        break;
                case 'N':
                        rule_options = true;
                        if (parse_number_option(KA_SETTING_INTERVAL, optarg, &params.interval) < 0)
                                return EXIT_USAGE;
                        break;
                case 'C':
                        rule_options = true;
                        if (parse_number_option(KA_SETTING_COUNT, optarg, &params.count) < 0)
                                return EXIT_USAGE;
                        break;
                case 'T':
                        rule_options = true;
                        if (parse_number_option(KA_SETTING_USER_TIMEOUT, optarg, &params.user_timeout_ms) < 0)
                                return EXIT_USAGE;
                        break;
                case 'M':
                        rule_options = true;
                        if (ka_parse_mode(optarg, &mode) < 0 || mode == KA_MODE_OFF) {
                                say("--mode=%s: want default or force", optarg);
                                return EXIT_USAGE;
                        }
                        params.force = mode == KA_MODE_FORCE;
                        break;
                case 'D':
                        rule_options = true;
                        if (ka_parse_direction(optarg, &dir) < 0) {
                                say("--direction=%s: want both, inbound or outbound", optarg);
                                return EXIT_USAGE;
                        }
                        params.direction = tka_bpf_direction((int) dir);
                        break;
                case 'P':
                        rule_options = true;
                        if ((r = add_path_option(optarg)) < 0)
                                return r == -ENOMEM ? 1 : EXIT_USAGE;
                        break;
                case 'U':
                        rule_options = true;
                        if (strcmp(optarg, "off") != 0) {
                                say("--unmatched=%s: want off (connections no path rule covers get nothing)", optarg);
                                return EXIT_USAGE;
                        }
                        unmatched_off = true;
                        break;
                default: fprintf(stderr, "Try 'tcpkeepalive-bpf --help'.\n"); return EXIT_USAGE;
                }
        if (optind != argc - 1) {
                say("want one command (load, attach, detach, apply, list, gc, unload, iter-pin); see --help");
                return EXIT_USAGE;
        }
        cmd = argv[optind];
        libbpf_set_print(libbpf_log);
        if (unmatched_off && !(path_options && path_options->n)) {
                say("--unmatched=off: only with --path= (without path rules it would leave every connection alone)");
                return EXIT_USAGE;
        }
        if (path_options && strcmp(cmd, "attach") != 0 && strcmp(cmd, "apply") != 0) {
                say("--path= and --unmatched= are for attach; see --help");
                return EXIT_USAGE;
        }
        if ((strcmp(cmd, "attach") == 0 || strcmp(cmd, "detach") == 0) && unit && !unit_name_is_valid_service(unit)) {
                say("--unit=%s: %s takes a service (ExecStartPre=, ExecStopPost=)", unit, cmd);
                return EXIT_USAGE;
        }
        /* apply finds the rule itself: its only input is the unit's name.
         * The test build takes apply --cgroup=PATH with the rule as
         * options, as attach does, for a cgroup without a unit. */
#ifdef TKA_TEST_OVERRIDES
        if (strcmp(cmd, "apply") == 0 && *cgroup) {
                r = cmd_apply(unit ? unit : unit_of(cgroup), cgroup);
                return r == -EOPNOTSUPP ? EXIT_UNSUPPORTED : r < 0 ? 1 : 0;
        }
#endif
        if (strcmp(cmd, "apply") == 0 && (!unit || *cgroup || rule_options)) {
                say("apply takes --unit=UNIT (a service, scope or slice) and nothing else; see --help");
                return EXIT_USAGE;
        }
        if (strcmp(cmd, "attach") == 0 || strcmp(cmd, "detach") == 0) {
                if (!*cgroup) {
                        if ((r = own_cgroup(cgroup, sizeof(cgroup))) < 0) {
                                say("cannot find my cgroup in /proc/self/cgroup: %s", strerror(-r));
                                return 1;
                        }
                        own = true;
                }
                /* The unit's name is its cgroup's: --unit (the drop-in's %n)
                 * must agree when the cgroup is the caller's own. */
                if (unit && own && strcmp(unit, unit_of(cgroup)) != 0) {
                        say("--unit=%s, but I run in the cgroup %s", unit, cgroup);
                        return EXIT_USAGE;
                }
                if (!unit)
                        unit = unit_of(cgroup);
        }
        if (strcmp(cmd, "load") == 0) {
                int lock = lock_state();
                r = cmd_load();
                if (lock >= 0)
                        close(lock);
        } else if (strcmp(cmd, "attach") == 0)
                r = cmd_attach(cgroup, unit, auto_method);
        else if (strcmp(cmd, "detach") == 0)
                r = cmd_detach(cgroup, unit);
        else if (strcmp(cmd, "apply") == 0) {
                r = cmd_apply(unit, NULL);
                apply_outcome(unit, r);
        }
        else if (strcmp(cmd, "list") == 0)
                r = cmd_list();
        else if (strcmp(cmd, "gc") == 0) {
                int map = open_pinned("params");
                r = map;
                if (map >= 0) {
                        printf("%u stale entries removed\n", gc_maps(map));
                        close(map);
                        r = 0;
                }
        } else if (strcmp(cmd, "unload") == 0)
                r = cmd_unload();
        else if (strcmp(cmd, "iter-pin") == 0) {
                int lock = lock_state();
                r = cmd_iter_pin();
                /* Independent of the socket iterator: either may work alone. */
                int rc = cmd_closes_pin();
                if (r == 0)
                        r = rc;
                if (lock >= 0)
                        close(lock);
        }
        else {
                say("unknown command '%s'; see --help", cmd);
                return EXIT_USAGE;
        }
        return r == -EOPNOTSUPP ? EXIT_UNSUPPORTED : r < 0 ? 1 : 0;
}
