/* The per-guest sandbox of a backend process (docs/hardening.md): once it
 * has opened what it needs at start (xenstore, status socket, journals'
 * directory), the process
 *   - drops to an unprivileged user of its own: every supplementary group
 *     dropped, real/effective/saved uid and gid set, no way back;
 *   - optionally keeps one capability across that switch (pvback-net:
 *     CAP_NET_ADMIN, to create its taps and put them on bridges);
 *   - sets no_new_privs and installs a seccomp filter (libseccomp) that
 *     allows only the system calls pvback's backends use and kills the whole
 *     process on any other (SIGSYS; pvback-watch restarts it).
 * Both are options, so that tests run either way. In sanitizer builds the
 * filter is not installed (the sanitizers' runtimes make system calls of
 * their own at any time): pv_sandbox_enter says so in the log. */
#ifndef PVBACK_SANDBOX_H
#define PVBACK_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

struct pv_sandbox {
    int uid, gid;  /* -1: keep the current user */
    int keep_cap;  /* a capability (CAP_*) kept after the switch, or -1 */
    bool seccomp;  /* install the system call filter */
    bool selftest; /* then make one forbidden call (tests: the filter kills) */
};

/* Parses a --user value for a process serving frontend domain domid (-1:
 * every domain):
 *   NAME       that user and its primary group (looked up now);
 *   UID[:GID]  numeric ids (GID defaults to UID);
 *   +BASE[:GID] uid BASE + domid, gid GID or else the same: one user per
 *              guest without creating accounts (needs a single domid); a
 *              shared GID can be the group that may open /dev/xen/gntdev
 *              and /dev/xen/evtchn.
 * 0, or -1 after writing a message naming the value into err. */
int pv_sandbox_parse_user(const char *spec, int domid, struct pv_sandbox *sb, char *err,
                          size_t errlen);

/* Enters the sandbox described by sb (does nothing for what is not asked).
 * 0, or -1 after writing the reason into err: the caller must then exit, as
 * a process that asked for a sandbox never runs without one. */
int pv_sandbox_enter(const struct pv_sandbox *sb, char *err, size_t errlen);

#endif
