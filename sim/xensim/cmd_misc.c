/* `xensim stop`, `dump`, `exec` and the daemon's dom0 key helper. */
#include "xensim.h"

#include "netns.h"
#include "toolstack/toolstack.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#define STOP_WAIT_MS 10000

static pid_t read_pidfile(const char *dir)
{
    char path[PATH_MAX];
    FILE *f;
    int pid = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, CTL_PID_NAME);
    f = fopen(path, "r");
    if (!f)
        return -1;
    if (fscanf(f, "%d", &pid) != 1 || pid <= 1)
        pid = -1;
    fclose(f);
    return pid;
}

/* True when pid looks like an xensim daemon (itself, or under valgrind):
 * a stale pid file must never make stop signal an unrelated process. */
static bool is_xensim(pid_t pid)
{
    char path[64], comm[32] = "";
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return false;
    if (!fgets(comm, sizeof(comm), f))
        comm[0] = 0;
    fclose(f);
    return !strncmp(comm, "xensim", 6) || !strncmp(comm, "memcheck", 8);
}

int xsim_cmd_stop(const char *dir)
{
    struct ctl_req req = {.op = CTL_STOP};
    struct ctl_rep rep;
    pid_t pid = read_pidfile(dir);
    struct hv_pidref daemon;
    bool have = pid > 0 && is_xensim(pid) && hv_pidref_open(&daemon, pid) == 0;
    bool alive = xsim_ctl_alive(dir);
    int rc = 0;

    if (!alive && !have) {
        fprintf(stderr, "xensim: not running in %s\n", dir);
        return 1;
    }
    if (alive) {
        if (xsim_ctl_call(dir, &req, &rep, NULL, 0, NULL) < 0)
            rc = 1;
    } else {
        /* Not answering: the pid file's process is stuck; end it. */
        hv_pidref_signal(&daemon, SIGTERM);
    }
    if (have) {
        if (!hv_pidref_wait_gone(&daemon, STOP_WAIT_MS)) {
            fprintf(stderr, "xensim: daemon %d did not exit; killing it\n", (int)pid);
            hv_pidref_signal(&daemon, SIGKILL);
            hv_pidref_wait_gone(&daemon, STOP_WAIT_MS);
            rc = 1;
        }
        hv_pidref_close(&daemon);
    }
    /* Namespaces of guests whose kernels died with the daemon. */
    xsim_netns_remove_all_owned(dir);
    return rc;
}

int xsim_cmd_dump(const char *dir)
{
    struct ctl_req req = {.op = CTL_DUMP};
    struct ctl_rep rep;
    char buf[65536];
    ssize_t n;
    int fd = -1;

    if (xsim_ctl_call(dir, &req, &rep, NULL, 0, &fd) < 0)
        return 1;
    if (fd < 0) {
        fprintf(stderr, "xensim: the daemon sent no dump\n");
        return 1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            break;
    close(fd);
    return 0;
}

int xsim_cmd_exec(const char *dir, const char *name, char **cmd)
{
    char abs[PATH_MAX], path[PATH_MAX + 32], domid_s[16];
    struct ctl_req req = {.op = CTL_ADOPT};
    struct ctl_rep rep;
    struct xs_handle *xs;
    int domid = -1;

    if (!realpath(dir, abs)) {
        fprintf(stderr, "xensim: directory '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof(path), "%s/xenstored.sock", abs);
    setenv("XENSTORED_PATH", path, 1);
    xs = xs_open(0);
    if (!xs) {
        fprintf(stderr, "xensim: cannot connect to xenstored at %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!strcmp(name, "Domain-0"))
        domid = 0;
    else if (isdigit((unsigned char)name[0]))
        domid = atoi(name);
    else
        domid = ts_domid_by_name(xs, name);
    xs_close(xs);
    if (domid < 0) {
        fprintf(stderr, "xensim: no domain named '%s'\n", name);
        return 1;
    }
    /* This process becomes CMD: the daemon follows it under our pid, and
     * kills it with its domain. */
    req.domid = domid;
    req.pid = (int32_t)getpid();
    if (xsim_ctl_call(abs, &req, &rep, NULL, 0, NULL) < 0)
        return 1;
    snprintf(domid_s, sizeof(domid_s), "%d", domid);
    if (domid == 0)
        snprintf(path, sizeof(path), "%s/xenstored.sock", abs);
    else
        snprintf(path, sizeof(path), "%s/dom%d.sock", abs, domid);
    setenv("XENSIM_DIR", abs, 1);
    setenv("XENSIM_DOMID", domid_s, 1);
    setenv("XENSTORED_PATH", path, 1);
    execvp(cmd[0], cmd);
    fprintf(stderr, "xensim: cannot run '%s': %s\n", cmd[0], strerror(errno));
    return 127;
}

int xsim_cmd_init_dom0(const char *dir)
{
    char path[PATH_MAX];
    struct xs_handle *xs;
    bool ok;

    snprintf(path, sizeof(path), "%s/xenstored.sock", dir);
    setenv("XENSTORED_PATH", path, 1);
    xs = xs_open(0);
    if (!xs) {
        fprintf(stderr, "xensim: dom0 keys: cannot connect to %s: %s\n", path, strerror(errno));
        return 1;
    }
    /* What xen-init-dom0 writes at boot. */
    ok = xs_write(xs, XBT_NULL, "/local/domain/0/name", "Domain-0", 8) &&
         xs_write(xs, XBT_NULL, "/local/domain/0/domid", "0", 1);
    if (!ok)
        fprintf(stderr, "xensim: dom0 keys: %s\n", strerror(errno));
    xs_close(xs);
    return ok ? 0 : 1;
}
