/* xensim-guest: the simulated guest's "kernel". xensim has no guest CPU: a
 * guest is the set of processes that run as it (`xensim exec`), and this one
 * plays the part of its kernel that the backends and the toolstack meet:
 *
 *   xensim exec NAME -- xensim-guest [--netfront PATH]
 *
 * At boot it makes the guest's network namespace xs-<name> when missing,
 * starts one pvback-netfront per vif (device/vif/<handle>, interface
 * eth<handle> in that namespace: its NIC driver), announces the control
 * requests it handles (control/feature-poweroff and -reboot, as Linux's
 * drivers/xen/manage.c does) and watches control/shutdown.
 *
 * poweroff, halt or reboot: it acknowledges (empties the node, as Linux
 * does before acting), stops its drivers (SIGTERM: each closes its device,
 * Closing then Closed, as a halting Linux does), removes the namespace it
 * made and exits 0. The rest of the guest's shutdown (its other programs, and
 * the domain's destruction once nothing runs) is `xensim shutdown`'s, in the
 * role of the guest's init and of xl. SIGTERM/SIGINT act as poweroff without
 * a request.
 *
 * suspend (xensim migrate): it acknowledges and stops its NIC drivers
 * (SIGSTOP: they keep their state, as a suspended Linux's devices do); the
 * toolstack then pauses the domain, moves it and lets it run again. The
 * kernel notices the move in the start-info page (pv_platform_home_epoch),
 * follows it (new xenstore, new domid), and lets its drivers run again:
 * each one reconnects to its new backend. The drivers die with the kernel (PR_SET_PDEATHSIG): a
 * destroyed guest leaves no driver behind. And the kernel dies with its
 * hypervisor: it follows xensim's daemon (a pidfd on DIR/xensim.pid) and
 * halts when the daemon is gone, whoever stopped it and however. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "netns.h"
#include "platform.h"

#define MAX_VIFS     16
#define STOP_WAIT_MS 5000
/* How often the kernel looks at its start-info page (whether it moved). */
#define HOME_POLL_MS 100

struct driver {
    pid_t pid;
    unsigned handle;
};

static struct driver drivers[MAX_VIFS];
static unsigned nr_drivers;
static const char *prog = "xensim-guest";

static void usage(void)
{
    fprintf(stderr, "usage: xensim exec NAME -- xensim-guest [--netfront PATH]\n");
}

/* pvback-netfront next to this program, unless --netfront says otherwise. */
static void default_netfront(char *buf, size_t len)
{
    char self[PATH_MAX - 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (n <= 0) {
        snprintf(buf, len, "pvback-netfront");
        return;
    }
    self[n] = 0;
    slash = strrchr(self, '/');
    *slash = 0;
    snprintf(buf, len, "%s/pvback-netfront", self);
}

static pid_t start_netfront(const char *netfront, const char *ns, unsigned handle)
{
    char h[16], ifname[16];
    pid_t parent = getpid(), pid = fork();
    sigset_t none;

    if (pid != 0)
        return pid;
    /* The kernel takes its signals through a signalfd; its drivers must
     * get SIGTERM as usual. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* A driver never outlives its kernel. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    snprintf(h, sizeof(h), "%u", handle);
    snprintf(ifname, sizeof(ifname), "eth%u", handle);
    execl(netfront, netfront, "--handle", h, "--netns", ns, "--ifname", ifname, (char *)NULL);
    fprintf(stderr, "%s: cannot run %s: %s\n", prog, netfront, strerror(errno));
    _exit(127);
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
}

/* Reaps exited drivers; logs the ones that stopped on their own. */
static void reap(bool stopping)
{
    int status;
    pid_t pid;
    char why[64];

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (unsigned i = 0; i < nr_drivers; i++) {
            if (drivers[i].pid != pid)
                continue;
            drivers[i].pid = 0;
            describe_exit(status, why, sizeof(why));
            if (!stopping || !WIFEXITED(status) || WEXITSTATUS(status))
                fprintf(stderr, "%s: the driver of vif %u %s\n", prog, drivers[i].handle, why);
        }
    }
}

static unsigned running(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < nr_drivers; i++)
        n += drivers[i].pid > 0;
    return n;
}

static void signal_drivers(int sig)
{
    for (unsigned i = 0; i < nr_drivers; i++)
        if (drivers[i].pid > 0)
            kill(drivers[i].pid, sig);
}

/* SIGTERM to every driver (each closes its device), SIGKILL after
 * STOP_WAIT_MS. */
static void stop_drivers(void)
{
    struct timespec ts = {0, 20 * 1000000L};

    signal_drivers(SIGCONT); /* a suspended driver must see its SIGTERM */
    signal_drivers(SIGTERM);
    for (int waited = 0; running() && waited < STOP_WAIT_MS; waited += 20) {
        nanosleep(&ts, NULL);
        reap(true);
    }
    for (unsigned i = 0; i < nr_drivers; i++) {
        if (drivers[i].pid > 0) {
            fprintf(stderr, "%s: the driver of vif %u did not stop; killing it\n", prog,
                    drivers[i].handle);
            kill(drivers[i].pid, SIGKILL);
            waitpid(drivers[i].pid, NULL, 0);
            drivers[i].pid = 0;
        }
    }
}

static int start_drivers(struct xs_handle *xs, const char *home, const char *netfront,
                         const char *ns)
{
    char path[128];
    unsigned n = 0;
    char **vifs;

    snprintf(path, sizeof(path), "%s/device/vif", home);
    vifs = xs_directory(xs, XBT_NULL, path, &n);
    for (unsigned i = 0; vifs && i < n && nr_drivers < MAX_VIFS; i++) {
        char *end;
        unsigned long h = strtoul(vifs[i], &end, 10);
        if (*end || h > 255) {
            fprintf(stderr, "%s: ignoring vif '%s' (not a handle)\n", prog, vifs[i]);
            continue;
        }
        pid_t pid = start_netfront(netfront, ns, (unsigned)h);
        if (pid < 0) {
            perror("xensim-guest: fork");
            free(vifs);
            return -1;
        }
        drivers[nr_drivers++] = (struct driver){.pid = pid, .handle = (unsigned)h};
    }
    free(vifs);
    return 0;
}

/* A pidfd on xensim's daemon (DIR/xensim.pid), readable once it exits; -1
 * when it cannot be followed (the kernel then just cannot notice). */
static int follow_daemon(const char *dir)
{
    char path[PATH_MAX];
    FILE *f;
    int pid = 0;

    snprintf(path, sizeof(path), "%s/xensim.pid", dir);
    f = fopen(path, "re");
    if (!f)
        return -1;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid > 1 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

static void announce_features(struct xs_handle *xs, const char *home)
{
    static const char *const features[] = {"poweroff", "reboot", "suspend"};
    char path[128];

    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        snprintf(path, sizeof(path), "%s/control/feature-%s", home, features[i]);
        if (!xs_write(xs, XBT_NULL, path, "1", 1))
            fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    }
}

/* Reads control/shutdown; true (and acknowledged) for a request that halts
 * the guest. A suspend is acknowledged once the drivers are stopped. */
static bool shutdown_requested(struct xs_handle *xs, const char *node)
{
    unsigned len;
    char *v = xs_read(xs, XBT_NULL, node, &len);
    bool halt = false, suspend = v && !strcmp(v, "suspend");

    if (!v || !*v) {
        free(v);
        return false;
    }
    if (suspend)
        signal_drivers(SIGSTOP);
    if (suspend || !strcmp(v, "poweroff") || !strcmp(v, "halt") || !strcmp(v, "reboot")) {
        /* Linux empties the node first: that is the acknowledgement. */
        if (!xs_write(xs, XBT_NULL, node, "", 0))
            fprintf(stderr, "%s: cannot acknowledge %s: %s\n", prog, v, strerror(errno));
        printf("%s: %s requested: %s the drivers\n", prog, v, suspend ? "suspending" : "stopping");
        fflush(stdout);
        halt = !suspend;
    } else {
        fprintf(stderr, "%s: control request '%s' is not supported; not acknowledged\n", prog, v);
    }
    free(v);
    return halt;
}

/* Where the kernel lives: its xenstore connection and its nodes there. */
struct home {
    struct xs_handle *xs;
    unsigned domid;
    char path[64], node[96];
    int daemon_fd;
    uint32_t epoch;
};

/* Connects to the xenstore of the xensim we now run on (XENSTORED_PATH),
 * watches control/shutdown and follows that xensim's daemon. */
static int attach(struct home *h)
{
    h->domid = pv_platform_self_domid();
    h->epoch = pv_platform_home_epoch();
    snprintf(h->path, sizeof(h->path), "/local/domain/%u", h->domid);
    snprintf(h->node, sizeof(h->node), "%s/control/shutdown", h->path);
    h->xs = xs_open(0);
    if (!h->xs) {
        fprintf(stderr, "%s: cannot connect to xenstore: %s\n", prog, strerror(errno));
        return -1;
    }
    if (!xs_watch(h->xs, h->node, "shutdown")) {
        fprintf(stderr, "%s: cannot watch %s: %s\n", prog, h->node, strerror(errno));
        return -1;
    }
    announce_features(h->xs, h->path);
    h->daemon_fd = follow_daemon(pv_platform_sim_dir());
    return 0;
}

static void detach(struct home *h)
{
    if (h->xs)
        xs_close(h->xs);
    if (h->daemon_fd >= 0)
        close(h->daemon_fd);
    h->xs = NULL;
    h->daemon_fd = -1;
}

/* After a migration: follow the domain, then let the drivers run again
 * (each one follows it too and reconnects). */
static int follow(struct home *h, const char *name)
{
    if (pv_platform_rehome() < 0) {
        fprintf(stderr, "%s: cannot follow the domain to its new host: %s\n", prog,
                strerror(errno));
        return -1;
    }
    detach(h);
    if (attach(h) < 0)
        return -1;
    signal_drivers(SIGCONT);
    printf("%s: %s resumed as domain %u in %s\n", prog, name, h->domid, pv_platform_sim_dir());
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    char netfront[PATH_MAX], ns[80], err[256], *name = NULL;
    struct home h = {.daemon_fd = -1};
    unsigned len;
    bool made_ns = false;
    sigset_t mask;
    int sfd, rc = 1;

    default_netfront(netfront, sizeof(netfront));
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--netfront") && i + 1 < argc)
            snprintf(netfront, sizeof(netfront), "%s", argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    if (!getenv("XENSIM_DIR") || !getenv("XENSIM_DOMID") || !*getenv("XENSIM_DOMID")) {
        fprintf(stderr,
                "%s: XENSIM_DIR and XENSIM_DOMID are not set: run me with "
                "`xensim exec NAME -- xensim-guest`\n",
                prog);
        return 2;
    }
    if (pv_platform_init(NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0 || attach(&h) < 0) {
        fprintf(stderr, "%s: cannot start: %s\n", prog, strerror(errno));
        goto out;
    }
    {
        char p[96];
        snprintf(p, sizeof(p), "%s/name", h.path);
        name = xs_read(h.xs, XBT_NULL, p, &len);
    }
    if (!name || xsim_netns_name(name, ns, sizeof(ns)) < 0) {
        fprintf(stderr, "%s: cannot read this guest's name\n", prog);
        goto out;
    }
    switch (xsim_netns_create(pv_platform_sim_dir(), name)) {
    case 1:
        made_ns = true;
        break;
    case 0:
        break;
    default:
        goto out;
    }
    if (start_drivers(h.xs, h.path, netfront, ns) < 0) {
        stop_drivers();
        goto out;
    }
    printf("%s: %s (domain %u) up: %u NIC(s) in namespace %s\n", prog, name, h.domid, nr_drivers,
           ns);
    fflush(stdout);

    for (;;) {
        if (pv_platform_home_epoch() != h.epoch && follow(&h, name) < 0)
            break;
        struct pollfd pfd[3] = {{.fd = xs_fileno(h.xs), .events = POLLIN},
                                {.fd = sfd, .events = POLLIN},
                                {.fd = h.daemon_fd, .events = POLLIN}};
        if (poll(pfd, 3, HOME_POLL_MS) < 0 && errno != EINTR)
            break;
        if (pv_platform_home_epoch() != h.epoch)
            continue; /* moved: the old home's fds mean nothing now */
        if (pfd[2].revents) {
            fprintf(stderr, "%s: xensim is gone: halting\n", prog);
            break;
        }
        if (pfd[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD)
                break; /* SIGTERM/SIGINT: power off */
            reap(false);
        }
        if (pfd[0].revents & POLLIN) {
            unsigned n;
            char **ev = xs_read_watch(h.xs, &n);
            free(ev);
            if (shutdown_requested(h.xs, h.node))
                break;
        }
    }
    stop_drivers();
    rc = 0;
out:
    if (made_ns)
        xsim_netns_remove_owned(pv_platform_sim_dir(), name);
    free(name);
    detach(&h);
    if (sfd >= 0)
        close(sfd);
    return rc;
}
