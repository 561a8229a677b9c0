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
#include <getopt.h> /* PV_SANDBOX_LONGOPTS */

struct pv_sandbox {
    const char *user; /* --user as given, parsed by pv_sandbox_parse_user */
    int uid, gid;     /* -1: keep the current user */
    int keep_cap;     /* a capability (CAP_*) kept after the switch, or -1 */
    bool seccomp;     /* install the system call filter */
    bool selftest;    /* then make one forbidden call (tests: the filter kills) */
};

/* The sandbox's command-line options, shared by the backends: add
 * PV_SANDBOX_LONGOPTS to the getopt_long table and pass every option to
 * pv_sandbox_getopt first (it returns true for its own).
 *   --user SPEC         (see pv_sandbox_parse_user)
 *   --seccomp           install the system call filter
 *   --sandbox-selftest  tests only: one forbidden call once sandboxed */
#define PV_SANDBOX_OPT_USER     0x5301
#define PV_SANDBOX_OPT_SECCOMP  0x5302
#define PV_SANDBOX_OPT_SELFTEST 0x5303
/* clang-format off */
#define PV_SANDBOX_LONGOPTS                                       \
    {"user", required_argument, NULL, PV_SANDBOX_OPT_USER},       \
    {"seccomp", no_argument, NULL, PV_SANDBOX_OPT_SECCOMP},       \
    {"sandbox-selftest", no_argument, NULL, PV_SANDBOX_OPT_SELFTEST}
/* clang-format on */
#define PV_SANDBOX_USAGE "[--user NAME|UID[:GID]|+BASE[:GID]] [--seccomp]"
#define PV_SANDBOX_INIT                                                                            \
    {                                                                                              \
        .user = NULL, .uid = -1, .gid = -1, .keep_cap = -1                                         \
    }
bool pv_sandbox_getopt(struct pv_sandbox *sb, int opt, const char *arg);

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
