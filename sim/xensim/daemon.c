/* `xensim start`: the daemon. It opens every socket (xenstored, hv0, ctl),
 * writes dom0's keys through a helper (libxenstore cannot talk to the
 * process it runs in), and only then reports ready: in the background case
 * the CLI process waits for that on a pipe and exits 0, so that a script can
 * use the simulator as soon as `xensim start` returns; the pid file is
 * written at the same moment, which is what `--foreground` callers wait for. */
#include "xensim.h"

#include "hv/hv.h"
#include "xenstored/xsd.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bool xsd_domain_exists(void *arg, unsigned domid)
{
    return hv_domain_exists(arg, domid);
}

static void on_signal(int signo, void *arg)
{
    struct xsim *x = arg;

    pv_info("signal %d: stopping", signo);
    xsim_proc_signal(x, -1, SIGKILL);
    xsim_proc_forget(x, -1);
    pv_loop_stop(x->loop);
}

static void path_in(const struct xsim *x, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", x->dir, name);
}

static int write_pidfile(const struct xsim *x)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    FILE *f;

    path_in(x, CTL_PID_NAME, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", (int)getpid());
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path); /* appears whole: readers never see it half-written */
}

/* Runs `xensim _init-dom0` against our own sockets while serving them. */
static int init_dom0(struct xsim *x, char *err, size_t errlen)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    pid_t pid;
    int status;
    uint64_t deadline = pv_now_ms() + 30000;

    if (n < 0) {
        snprintf(err, errlen, "cannot find own executable: %s", strerror(errno));
        return -1;
    }
    self[n] = 0;
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        execl(self, "xensim", "_init-dom0", "--dir", x->dir, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (pv_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "writing dom0's xenstore keys timed out");
            return -1;
        }
        pv_loop_run_once(x->loop, 20); /* serve the helper meanwhile */
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "writing dom0's xenstore keys failed (see %s)", CTL_LOG_NAME);
        return -1;
    }
    return 0;
}

static int setup(struct xsim *x, char *err, size_t errlen)
{
    struct xsd_hooks hooks = {.domain_exists = xsd_domain_exists};

    x->loop = pv_loop_new();
    if (!x->loop) {
        snprintf(err, errlen, "cannot create the event loop: %s", strerror(errno));
        return -1;
    }
    x->hv = hv_new(x->loop, x->dir);
    if (!x->hv) {
        snprintf(err, errlen, "hypervisor sockets in %s: %s", x->dir, strerror(errno));
        return -1;
    }
    hooks.arg = x->hv;
    x->xsd = xsd_new(x->loop, x->dir, &hooks);
    if (!x->xsd) {
        snprintf(err, errlen, "xenstored socket in %s: %s", x->dir, strerror(errno));
        return -1;
    }
    if (xsim_ctl_listen(x) < 0) {
        snprintf(err, errlen, "control socket in %s: %s", x->dir, strerror(errno));
        return -1;
    }
    if (pv_loop_add_signal(x->loop, SIGTERM, on_signal, x) < 0 ||
        pv_loop_add_signal(x->loop, SIGINT, on_signal, x) < 0) {
        snprintf(err, errlen, "signals: %s", strerror(errno));
        return -1;
    }
    if (init_dom0(x, err, errlen) < 0)
        return -1;
    if (write_pidfile(x) < 0) {
        snprintf(err, errlen, "cannot write %s/%s: %s", x->dir, CTL_PID_NAME, strerror(errno));
        return -1;
    }
    return 0;
}

static void teardown(struct xsim *x)
{
    char path[PATH_MAX];

    xsim_proc_signal(x, -1, SIGKILL);
    xsim_proc_forget(x, -1);
    xsim_ctl_close(x);
    if (x->xsd)
        xsd_free(x->xsd);
    if (x->hv)
        hv_free(x->hv);
    if (x->loop)
        pv_loop_free(x->loop);
    path_in(x, CTL_PID_NAME, path, sizeof(path));
    unlink(path);
}

/* Runs the daemon in this process. ready_fd (or -1) gets "" on success or
 * the error message, then is closed. */
static int run(const char *dir, int ready_fd)
{
    struct xsim x = {.ctl_fd = -1, .stop_conn = -1};
    char err[512] = "";
    int rc = 0;

    struct rlimit nofile;

    /* Every guest handle is a socket (two for event channels): allow as
     * many descriptors as the hard limit does. */
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    snprintf(x.dir, sizeof(x.dir), "%s", dir);
    pv_info("starting in %s", dir);
    if (setup(&x, err, sizeof(err)) < 0) {
        pv_err("%s", err);
        rc = 1;
    }
    if (ready_fd >= 0) {
        if (write(ready_fd, err, strlen(err) + 1) < 0) {
            /* the CLI is gone; keep running regardless */
        }
        close(ready_fd);
    }
    if (rc == 0) {
        pv_info("ready");
        if (pv_loop_run(x.loop) < 0)
            pv_err("event loop: %s", strerror(errno));
    }
    teardown(&x);
    pv_info("stopped");
    return rc;
}

static int redirect_to_log(const char *dir)
{
    char path[PATH_MAX];
    int fd, nul;

    snprintf(path, sizeof(path), "%s/%s", dir, CTL_LOG_NAME);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || nul < 0)
        return -1;
    dup2(nul, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    close(nul);
    return 0;
}

int xsim_start(const char *dir, bool foreground)
{
    char abs[PATH_MAX], msg[512];
    int pfd[2];
    pid_t pid;
    ssize_t n;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "xensim: cannot create directory '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    if (!realpath(dir, abs)) {
        fprintf(stderr, "xensim: directory '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    if (strlen(abs) > 80) { /* socket paths must fit in sun_path (108) */
        fprintf(stderr, "xensim: directory '%s' is too long for unix sockets (max 80 chars)\n",
                abs);
        return -1;
    }
    if (xsim_ctl_alive(abs)) {
        fprintf(stderr, "xensim: already running in %s\n", abs);
        return -1;
    }
    if (foreground)
        return run(abs, -1) == 0 ? 0 : -1;

    if (pipe2(pfd, O_CLOEXEC) < 0) {
        perror("xensim: pipe");
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("xensim: fork");
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        setsid();
        if (redirect_to_log(abs) < 0)
            _exit(1);
        _exit(run(abs, pfd[1]));
    }
    close(pfd[1]);
    do
        n = read(pfd[0], msg, sizeof(msg) - 1);
    while (n < 0 && errno == EINTR);
    close(pfd[0]);
    if (n <= 0) {
        fprintf(stderr, "xensim: the daemon died while starting (see %s/%s)\n", abs, CTL_LOG_NAME);
        return -1;
    }
    msg[n] = 0;
    if (msg[0]) {
        fprintf(stderr, "xensim: %s\n", msg);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return 0;
}
