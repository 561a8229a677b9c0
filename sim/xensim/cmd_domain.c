/* `xensim create`, `destroy`, `shutdown` and `list`: what xl does, split as xl splits
 * it: the daemon creates and destroys the domain (the hypervisor's part),
 * this process writes xenstore through libxenstore (the toolstack's part,
 * sim/toolstack). */
#include "xensim.h"

#include "netns.h"
#include "toolstack/toolstack.h"
#include "toolstack/xlcfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

/* After a guest acknowledged a poweroff, how long its init has to stop its
 * programs (SIGTERM) before the domain is destroyed anyway. */
#define HALT_GRACE_MS 10000
#define HALT_POLL_MS  50

struct xs_handle *xsim_xs_dom0(const char *dir)
{
    char path[PATH_MAX];
    struct xs_handle *xs;

    snprintf(path, sizeof(path), "%s/xenstored.sock", dir);
    setenv("XENSTORED_PATH", path, 1); /* the CLI is the toolstack: always dom0 */
    /* ...of this xensim: its hotplug scripts find pvback's run dir there. */
    setenv("XENSIM_DIR", dir, 1);
    xs = xs_open(0);
    if (!xs)
        fprintf(stderr, "xensim: cannot connect to xenstored at %s: %s\n", path, strerror(errno));
    return xs;
}

static int ctl_domain_op(const char *dir, enum ctl_op op, int domid, uint64_t mem_mb,
                         struct ctl_rep *rep)
{
    struct ctl_req req = {.op = op, .domid = domid, .mem_mb = mem_mb};

    return xsim_ctl_call(dir, &req, rep, NULL, 0, NULL);
}

/* The hypervisor and xenstore sides of a destroy; reports the first error. */
static int destroy_domid(const char *dir, struct xs_handle *xs, unsigned domid)
{
    struct ctl_rep rep;
    char err[512], path[64], *name;
    unsigned len;
    int rc = 0;

    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    name = xs_read(xs, XBT_NULL, path, &len);
    /* Paused first, as libxl does, so that its programs stop racing the
     * teardown of their devices. */
    if (ctl_domain_op(dir, CTL_PAUSE, (int)domid, 0, &rep) < 0)
        return -1;
    if (ts_domain_destroy(xs, domid, err, sizeof(err)) < 0) {
        fprintf(stderr, "xensim: destroying domain %u: %s\n", domid, err);
        rc = -1;
    }
    if (ctl_domain_op(dir, CTL_DESTROY, (int)domid, 0, &rep) < 0)
        rc = -1;
    /* Its kernel is gone: the namespace it made goes too. */
    if (name)
        xsim_netns_remove_owned(dir, name);
    free(name);
    return rc;
}

int xsim_cmd_create(const char *dir, int argc, char **argv)
{
    struct xlcfg *cfg = calloc(1, sizeof(*cfg));
    struct xs_handle *xs = NULL;
    struct ctl_rep rep;
    char err[1024];
    int rc = 1;

    if (!cfg) {
        perror("xensim");
        return 1;
    }
    if (argc < 1) {
        fprintf(stderr, "xensim: create needs a config file\n");
        goto out;
    }
    if (xlcfg_parse_file(argv[0], cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "xensim: %s\n", err);
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        if (xlcfg_apply_override(cfg, argv[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "xensim: %s\n", err);
            goto out;
        }
    }
    if (!cfg->name[0]) {
        fprintf(stderr, "xensim: %s: the config must give a name (name=\"...\")\n", argv[0]);
        goto out;
    }
    xs = xsim_xs_dom0(dir);
    if (!xs)
        goto out;
    if (ts_domid_by_name(xs, cfg->name) >= 0) {
        fprintf(stderr, "xensim: domain '%s' already exists\n", cfg->name);
        goto out;
    }
    if (ctl_domain_op(dir, CTL_CREATE, cfg->domid, cfg->memory_mb, &rep) < 0)
        goto out;
    if (ts_domain_create(xs, rep.domid, cfg, err, sizeof(err)) < 0 ||
        xsim_cfg_record(xs, rep.domid, argv[0], argc - 1, argv + 1, err, sizeof(err)) < 0 ||
        ts_devices_add(xs, rep.domid, cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "xensim: creating '%s': %s\n", cfg->name, err);
        destroy_domid(dir, xs, rep.domid);
        goto out;
    }
    printf("%u\n", rep.domid);
    rc = 0;
out:
    if (xs)
        xs_close(xs);
    free(cfg);
    return rc;
}

int xsim_resolve(struct xs_handle *xs, const char *name)
{
    char *end;
    long v;
    int domid;

    if (isdigit((unsigned char)name[0])) {
        errno = 0;
        v = strtol(name, &end, 10);
        if (!errno && !*end && v >= 0 && v <= INT_MAX)
            return (int)v;
    }
    domid = ts_domid_by_name(xs, name);
    if (domid < 0)
        fprintf(stderr, "xensim: no domain named '%s'\n", name);
    return domid;
}

int xsim_cmd_destroy(const char *dir, const char *name)
{
    struct xs_handle *xs = xsim_xs_dom0(dir);
    int domid, rc = 1;

    if (!xs)
        return 1;
    domid = xsim_resolve(xs, name);
    if (domid == 0)
        fprintf(stderr, "xensim: Domain-0 cannot be destroyed\n");
    else if (domid > 0 && destroy_domid(dir, xs, (unsigned)domid) == 0)
        rc = 0;
    xs_close(xs);
    return rc;
}

/* The number of processes running as domid; -1 when it no longer exists. */
static int domain_procs(const char *dir, unsigned domid)
{
    static struct ctl_dom doms[CTL_MAX_DOMS];
    struct ctl_req req = {.op = CTL_LIST};
    struct ctl_rep rep;

    if (xsim_ctl_call(dir, &req, &rep, doms, sizeof(doms), NULL) < 0)
        return -1;
    for (uint32_t i = 0; i < rep.count && i < CTL_MAX_DOMS; i++)
        if (doms[i].domid == domid)
            return (int)doms[i].nprocs;
    return -1;
}

/* What follows an acknowledged poweroff: the guest's init ends its programs
 * (SIGTERM: the frontends close their devices), the guest halts once none
 * is left, and the toolstack destroys the halted domain (on_poweroff =
 * destroy). A guest that has not halted after HALT_GRACE_MS is destroyed
 * anyway, with a warning. */
static int halt_and_destroy(const char *dir, struct xs_handle *xs, unsigned domid)
{
    struct ctl_req req = {.op = CTL_SIGNAL, .domid = (int)domid, .sig = SIGTERM};
    struct ctl_rep rep;
    struct timespec ts = {0, HALT_POLL_MS * 1000000L};
    int left = 0;

    if (xsim_ctl_call(dir, &req, &rep, NULL, 0, NULL) < 0)
        return -1;
    for (int waited = 0; waited < HALT_GRACE_MS; waited += HALT_POLL_MS) {
        left = domain_procs(dir, domid);
        if (left <= 0)
            break;
        nanosleep(&ts, NULL);
    }
    if (left < 0) {
        fprintf(stderr, "xensim: domain %u vanished during its shutdown\n", domid);
        return -1;
    }
    if (left > 0)
        fprintf(stderr,
                "xensim: domain %u did not halt within %d ms (%d processes left); "
                "destroying it\n",
                domid, HALT_GRACE_MS, left);
    return destroy_domid(dir, xs, domid);
}

/* Without --wait, xl returns once the guest acknowledged and its monitoring
 * process finishes the job; so does this: a detached child, logging to the
 * daemon's log. Returns 0 in the parent, 1 in the child. */
static int detach(const char *dir)
{
    char log[PATH_MAX];
    pid_t pid = fork();
    int fd;

    if (pid < 0)
        return -1;
    if (pid > 0)
        return 0;
    setsid();
    snprintf(log, sizeof(log), "%s/%s", dir, CTL_LOG_NAME);
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        close(fd);
    }
    fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    return 1;
}

int xsim_cmd_shutdown(const char *dir, const char *name, bool wait)
{
    struct xs_handle *xs = xsim_xs_dom0(dir);
    char err[512];
    int domid, rc = 1, child;

    if (!xs)
        return 1;
    domid = xsim_resolve(xs, name);
    if (domid == 0) {
        fprintf(stderr, "xensim: Domain-0 cannot be shut down from here\n");
        goto out;
    }
    if (domid < 0)
        goto out;
    if (ts_domain_pvcontrol(xs, (unsigned)domid, "poweroff", TS_PVCONTROL_TIMEOUT_MS, err,
                            sizeof(err)) < 0) {
        fprintf(stderr, "xensim: shutting down domain %d: %s\n", domid, err);
        goto out;
    }
    if (wait) {
        rc = halt_and_destroy(dir, xs, (unsigned)domid) == 0 ? 0 : 1;
        goto out;
    }
    xs_close(xs);
    xs = NULL;
    child = detach(dir);
    if (child < 0) {
        perror("xensim: fork");
        return 1;
    }
    if (!child)
        return 0;
    /* The child: a fresh connection, none shared with the parent. */
    xs = xsim_xs_dom0(dir);
    rc = xs && halt_and_destroy(dir, xs, (unsigned)domid) == 0 ? 0 : 1;
out:
    if (xs)
        xs_close(xs);
    return rc;
}

int xsim_cmd_list(const char *dir)
{
    static struct ctl_dom doms[CTL_MAX_DOMS];
    struct ctl_req req = {.op = CTL_LIST};
    struct ctl_rep rep;
    struct xs_handle *xs;

    if (xsim_ctl_call(dir, &req, &rep, doms, sizeof(doms), NULL) < 0)
        return 1;
    xs = xsim_xs_dom0(dir);
    if (!xs)
        return 1;
    /* xl list's columns. */
    printf("%-40s %5s %5s %5s %8s %9s\n", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
    for (uint32_t i = 0; i < rep.count && i < CTL_MAX_DOMS; i++) {
        char path[64];
        unsigned len;
        char *name;

        snprintf(path, sizeof(path), "/local/domain/%u/name", doms[i].domid);
        name = xs_read(xs, XBT_NULL, path, &len);
        printf("%-40s %5u %5llu %5d %8s %9.1f\n",
               name                 ? name
               : doms[i].domid == 0 ? "Domain-0"
                                    : "(null)",
               doms[i].domid, (unsigned long long)doms[i].mem_mb, 1,
               doms[i].domid == 0 ? "r-----" : "-b----", 0.0);
        free(name);
    }
    xs_close(xs);
    return 0;
}
