/* The per-guest sandbox (see sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h> /* CLONE_THREAD */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "platform.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

/* Every system call pvback-blk and pvback-net make once started, found with
 * strace -f over their sim tests (and the libraries under them: libc,
 * libxenstore, libaio, liburing, libiscsi, libnfs, libmnl). Names the kernel
 * or libseccomp does not know on this architecture are skipped. Not in the
 * list, on purpose: execve, fork/clone (no new processes), ptrace,
 * process_vm_*, mount, setuid & co., open_by_handle_at, bpf, kexec, reboot,
 * init_module, keyctl. */
static const char *const allowed[] = {
    /* memory */
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "membarrier",
    /* files (images, journals, /proc) */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "open",
    "openat",
    "close",
    "lseek",
    "fstat",
    "newfstatat",
    "stat",
    "lstat",
    "statx",
    "fstatfs",
    "statfs",
    "fcntl",
    "ioctl",
    "fsync",
    "fdatasync",
    "fallocate",
    "ftruncate",
    "unlink",
    "rmdir",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "getdents64",
    "readlink",
    "readlinkat",
    "access",
    "faccessat",
    "faccessat2",
    "dup",
    "dup2",
    "dup3",
    "pipe2",
    "memfd_create",
    "flock",
    /* asynchronous I/O */
    "io_setup",
    "io_destroy",
    "io_submit",
    "io_getevents",
    "io_pgetevents",
    "io_cancel",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    /* the loop: epoll, eventfds, timers, signals */
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd4",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "restart_syscall",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    /* sockets: xenstore, xensim, status, netlink, iSCSI/NFS over TCP */
    "socket",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "socketpair",
    /* threads (libxenstore's reader thread, libnfs) and process info */
    "futex",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "clone3",
    "sched_yield",
    "sched_getaffinity",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getrandom",
    "uname",
    "sysinfo",
    "prlimit64",
    "getrlimit",
    "tgkill",
    "exit",
    "exit_group",
};

/* clone is allowed for threads only (libxenstore starts one): a process-
 * creating clone (no CLONE_THREAD) is refused. */
static int allow_thread_clone(scmp_filter_ctx ctx)
{
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
}

/* prctl only for what the libraries below do at run time: on xensim a new
 * grant handle lets the hypervisor daemon reach its buffers
 * (PR_SET_PTRACER), and thread names. */
static int allow_prctl(scmp_filter_ctx ctx)
{
    static const int ok[] = {PR_SET_PTRACER, PR_SET_NAME, PR_GET_NAME};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        /* Spelled out: SCMP_A0 with one datum leaves datum_b to the
         * compiler, which clang's -Wmissing-field-initializers refuses. */
        struct scmp_arg_cmp option = {
            .arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)ok[i], .datum_b = 0};
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, option);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* On xensim only: dom0's grant copy reaches the guest's memory (a process)
 * with process_vm_readv/writev, where Xen has a hypercall. On xen they stay
 * forbidden. */
static const char *const allowed_sim[] = {"process_vm_readv", "process_vm_writev"};

static int allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc < 0) {
            snprintf(err, errlen, "seccomp rule for %s: %s", names[i], strerror(-rc));
            return rc;
        }
    }
    return 0;
}

static int install_filter(char *err, size_t errlen)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx) {
        snprintf(err, errlen, "seccomp_init failed");
        return -1;
    }
    int rc = allow_list(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]), err, errlen);
    if (rc == 0 && pv_platform_sim_dir())
        rc =
            allow_list(ctx, allowed_sim, sizeof(allowed_sim) / sizeof(allowed_sim[0]), err, errlen);
    if (rc == 0 && (rc = allow_thread_clone(ctx)) < 0)
        snprintf(err, errlen, "seccomp rule for clone: %s", strerror(-rc));
    if (rc == 0 && (rc = allow_prctl(ctx)) < 0)
        snprintf(err, errlen, "seccomp rule for prctl: %s", strerror(-rc));
    if (rc == 0 && (rc = seccomp_load(ctx)) < 0)
        snprintf(err, errlen, "loading the seccomp filter: %s", strerror(-rc));
    seccomp_release(ctx);
    return rc < 0 ? -1 : 0;
}

bool pv_sandbox_getopt(struct pv_sandbox *sb, int opt, const char *arg)
{
    switch (opt) {
    case PV_SANDBOX_OPT_USER:
        sb->user = arg;
        return true;
    case PV_SANDBOX_OPT_SECCOMP:
        sb->seccomp = true;
        return true;
    case PV_SANDBOX_OPT_SELFTEST:
        sb->selftest = true;
        return true;
    default:
        return false;
    }
}

static int parse_id(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 0x7ffffffe)
        return -1;
    *out = (int)v;
    return 0;
}

int pv_sandbox_parse_user(const char *spec, int domid, struct pv_sandbox *sb, char *err,
                          size_t errlen)
{
    char buf[64];
    if (!*spec || strlen(spec) >= sizeof(buf))
        goto bad;
    snprintf(buf, sizeof(buf), "%s", spec);
    if (buf[0] == '+') {
        int base;
        if (domid < 0) {
            snprintf(err, errlen, "--user '%s': a per-guest user (+BASE) needs --frontend-domid",
                     spec);
            return -1;
        }
        char *colon = strchr(buf, ':');
        if (colon)
            *colon = '\0';
        if (parse_id(buf + 1, &base) < 0 || base > 0x7ffffffe - domid)
            goto bad;
        sb->uid = sb->gid = base + domid;
        if (colon && parse_id(colon + 1, &sb->gid) < 0)
            goto bad;
        return 0;
    }
    if (buf[0] >= '0' && buf[0] <= '9') {
        char *colon = strchr(buf, ':');
        if (colon)
            *colon = '\0';
        if (parse_id(buf, &sb->uid) < 0)
            goto bad;
        sb->gid = sb->uid;
        if (colon && parse_id(colon + 1, &sb->gid) < 0)
            goto bad;
        return 0;
    }
    struct passwd *pw = getpwnam(buf);
    if (!pw || pw->pw_uid == 0) {
        snprintf(err, errlen, "--user '%s': no such unprivileged user", spec);
        return -1;
    }
    sb->uid = (int)pw->pw_uid;
    sb->gid = (int)pw->pw_gid;
    return 0;
bad:
    snprintf(err, errlen,
             "--user '%s': expected a user name, UID[:GID] or +BASE[:GID] (ids from 1)", spec);
    return -1;
}

/* Keeps only capability cap (effective and permitted) after setuid. */
static int keep_only(int cap)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2] = {{0}};
    d[cap / 32].effective = d[cap / 32].permitted = 1u << (cap % 32);
    return (int)syscall(SYS_capset, &h, d);
}

static int drop_user(const struct pv_sandbox *sb, char *err, size_t errlen)
{
    if (sb->keep_cap >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        goto fail;
    if (setgroups(0, NULL) < 0 || setresgid((gid_t)sb->gid, (gid_t)sb->gid, (gid_t)sb->gid) < 0 ||
        setresuid((uid_t)sb->uid, (uid_t)sb->uid, (uid_t)sb->uid) < 0)
        goto fail;
    if (sb->keep_cap >= 0 &&
        (keep_only(sb->keep_cap) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0))
        goto fail;
    /* No way back: a failed switch would have shown above, but check. */
    if (sb->uid != 0 && setresuid(0, 0, 0) == 0) {
        snprintf(err, errlen, "still able to become root after dropping to uid %d", sb->uid);
        return -1;
    }
    /* Dumpable again (setuid cleared it), so that its own user can read
     * /proc/self and the run directory's owner can inspect it. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return 0;
fail:
    snprintf(err, errlen, "dropping to uid %d gid %d: %s", sb->uid, sb->gid, strerror(errno));
    return -1;
}

int pv_sandbox_enter(const struct pv_sandbox *sb, char *err, size_t errlen)
{
    if (sb->uid >= 0 && drop_user(sb, err, errlen) < 0)
        return -1;
    if (!sb->seccomp)
        return 0;
#ifdef SANITIZER_BUILD
    pv_warn("sanitizer build: the seccomp filter is not installed (the sanitizer runtimes make "
            "system calls of their own)");
    (void)install_filter;
    return 0;
#else
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
        return -1;
    }
    if (install_filter(err, errlen) < 0)
        return -1;
    pv_info("sandbox: uid %d, seccomp filter of %zu system calls", (int)getuid(),
            sizeof(allowed) / sizeof(allowed[0]) + 2);
    if (sb->selftest) {
        pv_info("sandbox self-test: calling personality(), which the filter forbids");
        personality(0xffffffff); /* a query: harmless if it ever returned */
        pv_err("sandbox self-test: the forbidden call returned");
    }
    return 0;
#endif
}
