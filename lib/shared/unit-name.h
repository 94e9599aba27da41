/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdbool.h>

/* systemd's limit for a unit name (UNIT_NAME_MAX). */
#define UNIT_NAME_MAX 255

/*
 * A unit name or a shell glob of unit names, as a rule's Unit= gives it.
 * Unit names end up in paths (the drop-in directory NAME.d/), so everything
 * that could escape a directory or confuse a parser is refused: only
 * [A-Za-z0-9:_.@\-] plus, in globs, the glob characters * ? [ ] !, no "..",
 * no leading '.' or '-', a ".service" suffix (added when missing), or
 * ".scope" or ".slice" (units no drop-in reaches; the BPF backend applies
 * rules to them live, see tcpkeepalive-bpf(8) apply).
 * Returns a newly allocated normalized name, or NULL with errno set and
 * *ret_reason saying why.
 */
char *unit_glob_normalize(const char *s, const char **ret_reason);

/* A plain unit name (no glob characters) that is valid for a service. */
bool unit_name_is_valid_service(const char *s);

bool unit_name_is_glob(const char *s);

/* A plain unit name that has a cgroup of its own the BPF backend can
 * reach: a service, a scope (what `systemd-run --scope` and container
 * managers create) or a slice. */
bool unit_name_is_valid_cgroup_unit(const char *s);

/* One of those that is no service: no drop-in reaches it, rules reach it
 * live only. */
bool unit_name_is_scope_or_slice(const char *s);

/*
 * The unit name as an instance string of a template ("wk@1.service" for
 * tcpkeepalive-apply@wk\x401.service), escaped as `systemd-escape` does:
 * '/' becomes '-', a leading '.' and every byte other than [A-Za-z0-9:_.]
 * becomes \xNN. Written into buf; -ENOBUFS when it does not fit.
 */
int unit_name_escape_instance(const char *s, char *buf, unsigned size);

/* For "foo@bar.service": the template "foo@.service" written into buf. */
bool unit_name_template(const char *s, char *buf, unsigned size);

/*
 * The project's own units (tcpkeepalived.service, tcpkeepalive-bpf.service,
 * the tcpkeepalive@.service switch and any later tcpkeepalive* unit): never
 * matched by a rule, whatever glob it gives. A drop-in there would make the
 * BPF unit want itself and attach to its own cgroup, or preload the library
 * into the daemon that judges it.
 */
#define UNIT_OWN_PREFIX "tcpkeepalive"
bool unit_name_is_own(const char *s);
