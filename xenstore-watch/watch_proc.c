/* The per-guest backend processes: starting, stopping, reaping, restarting
 * with backoff, giving up on a crash loop, and adopting processes that a
 * previous pvback-watch left running. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_report.h"
#include "log.h"
#include "watch.h"

/* How often an adopted process (not our child, so no SIGCHLD) is checked. */
#define ADOPTED_POLL_MS 500

static const char *proc_command(const struct watch *w, enum watch_kind kind)
{
    return kind == WATCH_VIF ? w->net_command : w->blk_command;
}

static int run_file(const struct watch *w, enum watch_kind kind, uint32_t domid, const char *ext,
                    char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s-%u.%s", w->run_dir, watch_kind_name(kind), domid, ext);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void watch_proc_forget_files(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    static const char *const exts[] = {"pid", "sock", "failed"};
    char path[300];

    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (run_file(w, kind, domid, exts[i], path, sizeof(path)) == 0)
            unlink(path);
}

void watch_proc_forget_journal(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    char path[300];
    int n =
        snprintf(path, sizeof(path), "%s/journal/%s-%u", w->run_dir, watch_kind_name(kind), domid);
    if (n < 0 || (size_t)n >= sizeof(path))
        return;
    DIR *d = opendir(path);
    if (!d)
        return; /* none, or already removed by the backend itself */
    struct dirent *de;
    unsigned removed = 0;
    /* Flat: the backends write only regular files there (journal.c). */
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    closedir(d);
    if (rmdir(path) < 0)
        pv_warn("%s: %s", path, strerror(errno));
    /* Like pv_journal_dir_release: the parent goes when empty. */
    path[strlen(path) - strlen(strrchr(path, '/'))] = '\0';
    rmdir(path);
    pv_info("domain %u: removed its %s in-flight journal (%u file%s)", domid, watch_kind_name(kind),
            removed, removed == 1 ? "" : "s");
}

/* Writes a small file atomically (tmp + rename), so readers never see half. */
static void write_run_file(struct watch *w, enum watch_kind kind, uint32_t domid, const char *ext,
                           const char *text)
{
    char path[300], tmp[310];

    if (run_file(w, kind, domid, ext, path, sizeof(path)) < 0)
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (!f) {
        pv_warn("%s: %s", tmp, strerror(errno));
        return;
    }
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        pv_warn("%s: %s", path, strerror(errno));
        unlink(tmp);
    }
}

struct watch_proc *watch_proc_find(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    for (struct watch_proc *p = w->procs; p; p = p->next)
        if (p->kind == kind && p->domid == domid)
            return p;
    return NULL;
}

static void proc_free(struct watch_proc *p)
{
    struct watch *w = p->w;

    for (struct watch_proc **pp = &w->procs; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pv_timer_free(p->timer);
    free(p);
}

static void on_timer(struct pv_timer *t, void *arg);

static struct watch_proc *proc_new(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    struct watch_proc *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->w = w;
    p->kind = kind;
    p->domid = domid;
    p->timer = pv_timer_new(w->loop, on_timer, p);
    if (!p->timer) {
        free(p);
        return NULL;
    }
    watch_restart_init(&p->restart);
    p->next = w->procs;
    w->procs = p;
    return p;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_child(char *const argv[])
{
    sigset_t none;

    /* The loop blocked the signals it handles through signalfd; a blocked
     * SIGTERM would survive exec and make the backend unstoppable. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* Its own session: a SIGINT to pvback-watch's terminal or process group
     * must not reach the guests' backends. */
    setsid();
    /* xenstore, epoll and signal fds of pvback-watch are not the child's. */
    close_range(3, ~0u, 0);
    execv(argv[0], argv);
    _exit(127);
}

static int proc_spawn(struct watch_proc *p)
{
    struct watch *w = p->w;
    char domid[16], *argv[16];
    int n = 0;

    snprintf(domid, sizeof(domid), "%u", p->domid);
    argv[n++] = (char *)proc_command(w, p->kind);
    if (w->cfg.platform[0]) {
        argv[n++] = "--platform";
        argv[n++] = w->cfg.platform;
    }
    argv[n++] = "--frontend-domid";
    argv[n++] = domid;
    if (p->kind != WATCH_VIF) {
        argv[n++] = "--type";
        argv[n++] = (char *)watch_kind_name(p->kind);
    }
    if (watch_user_on(&w->cfg)) {
        argv[n++] = "--user";
        argv[n++] = w->cfg.user;
    }
    if (w->seccomp)
        argv[n++] = "--seccomp";
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0) {
        pv_err("%s for domain %u: fork: %s", watch_kind_name(p->kind), p->domid, strerror(errno));
        return -1;
    }
    if (pid == 0)
        exec_child(argv);
    p->pid = pid;
    p->adopted = false;
    p->state = PROC_RUNNING;
    char text[24];
    snprintf(text, sizeof(text), "%ld\n", (long)pid);
    write_run_file(w, p->kind, p->domid, "pid", text);
    /* A crash loop an earlier pvback-watch gave up on is being retried. */
    char failed[300];
    if (run_file(w, p->kind, p->domid, "failed", failed, sizeof(failed)) == 0)
        unlink(failed);
    pv_info("domain %u: started %s backend %s (pid %ld)", p->domid, watch_kind_name(p->kind),
            argv[0], (long)pid);
    return 0;
}

void watch_proc_ensure(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    if (w->stopping)
        return;
    struct watch_proc *p = watch_proc_find(w, kind, domid);
    if (p)
        return; /* running, stopping (restarted after the exit if still needed), backoff, failed */
    p = proc_new(w, kind, domid);
    if (!p) {
        pv_err("domain %u: out of memory", domid);
        return;
    }
    if (proc_spawn(p) < 0) {
        /* A failed fork counts as a crash: retried with backoff. */
        p->state = PROC_BACKOFF;
        pv_timer_arm(p->timer, w->cfg.restart_delay_max_ms, 0);
    }
}

/* SIGTERM now, SIGKILL when stop-timeout runs out (on_timer). */
static void proc_terminate(struct watch_proc *p)
{
    struct watch *w = p->w;

    p->state = PROC_STOPPING;
    p->kill_at_ms = pv_now_ms() + w->cfg.stop_timeout_ms;
    kill(p->pid, SIGTERM);
    if (p->adopted)
        pv_timer_arm(p->timer, ADOPTED_POLL_MS, ADOPTED_POLL_MS);
    else
        pv_timer_arm(p->timer, w->cfg.stop_timeout_ms, 0);
}

/* SIGKILL, not SIGTERM, for an upgrade: a killed backend leaves its guest's
 * devices exactly as they are (xenstore, mapped rings, in-flight journal),
 * and that is the restart path whose safety the acceptance tests establish,
 * killing pvback-blk 100 times under verified fio and pvback-net 20 times
 * under one TCP connection (tests/sim/restart_*.sh). SIGTERM would run the
 * backend's teardown first (unmapping, closing taps and images) - more code
 * between the old process and the new one, and none of it needed; and a
 * backend stuck in its storage would hold the upgrade for stop-timeout. */
pid_t watch_proc_restart(struct watch *w, struct watch_proc *p)
{
    if (p->state != PROC_RUNNING || !p->pid)
        return 0;
    pv_info("domain %u: replacing %s backend (pid %ld) with %s", p->domid, watch_kind_name(p->kind),
            (long)p->pid, proc_command(w, p->kind));
    p->state = PROC_STOPPING;
    p->kill_at_ms = pv_now_ms();
    kill(p->pid, SIGKILL);
    /* Our child's exit comes through SIGCHLD; an adopted one is polled. */
    if (p->adopted)
        pv_timer_arm(p->timer, ADOPTED_POLL_MS, ADOPTED_POLL_MS);
    else
        pv_timer_disarm(p->timer);
    return p->pid;
}

void watch_proc_stop(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    struct watch_proc *p = watch_proc_find(w, kind, domid);

    if (!p)
        return;
    if (p->state == PROC_STOPPING)
        return;
    if (!p->pid) { /* waiting to restart, or failed: nothing runs */
        watch_proc_forget_files(w, kind, domid);
        proc_free(p);
        return;
    }
    pv_info("domain %u: stopping %s backend (pid %ld)", domid, watch_kind_name(kind), (long)p->pid);
    proc_terminate(p);
}

/* The process of p exited (status as from waitpid, or -1 when unknown for an
 * adopted one). Decides between forgetting, restarting and giving up. */
static void proc_exited(struct watch_proc *p, int status)
{
    struct watch *w = p->w;
    enum watch_kind kind = p->kind;
    uint32_t domid = p->domid;
    char how[64];

    if (status < 0)
        snprintf(how, sizeof(how), "exited");
    else if (WIFSIGNALED(status))
        snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
    else
        snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
    pid_t pid = p->pid;
    p->pid = 0;
    pv_timer_disarm(p->timer);

    bool alive = w->stopping || watch_domain_alive(w, domid);
    bool needed = !w->stopping && alive && watch_domain_has_devices(w, kind, domid);
    if (p->state == PROC_STOPPING || !needed) {
        pv_info("domain %u: %s backend (pid %ld) %s", domid, watch_kind_name(kind), (long)pid, how);
        watch_proc_forget_files(w, kind, domid);
        if (!alive)
            watch_proc_forget_journal(w, kind, domid);
        proc_free(p);
        /* A device that came while it was stopping needs a new one. */
        if (needed)
            watch_proc_ensure(w, kind, domid);
        return;
    }
    int64_t delay = watch_restart_on_crash(&p->restart, &w->cfg, pv_now_ms());
    if (delay < 0) {
        char why[160];
        snprintf(why, sizeof(why),
                 "backend process crashed %u times within %u s (last: %s); not restarted",
                 p->restart.crashes, w->cfg.restart_window_s, how);
        pv_err("domain %u: %s %s", domid, watch_kind_name(kind), why);
        p->state = PROC_FAILED;
        write_run_file(w, kind, domid, "failed", why);
        char pidf[300];
        if (run_file(w, kind, domid, "pid", pidf, sizeof(pidf)) == 0)
            unlink(pidf);
        watch_fail_devices(w, kind, domid, why);
        return;
    }
    pv_warn("domain %u: %s backend (pid %ld) %s; restarting in %lld ms", domid,
            watch_kind_name(kind), (long)pid, how, (long long)delay);
    p->state = PROC_BACKOFF;
    pv_timer_arm(p->timer, delay ? (uint64_t)delay : 1, 0);
}

static void on_timer(struct pv_timer *t, void *arg)
{
    struct watch_proc *p = arg;
    (void)t;

    switch (p->state) {
    case PROC_BACKOFF:
        if (!watch_domain_alive(p->w, p->domid) ||
            !watch_domain_has_devices(p->w, p->kind, p->domid)) {
            watch_proc_forget_files(p->w, p->kind, p->domid);
            proc_free(p);
        } else if (proc_spawn(p) < 0) {
            pv_timer_arm(p->timer, p->w->cfg.restart_delay_max_ms, 0);
        }
        return;
    case PROC_STOPPING:
    case PROC_RUNNING:
        /* Adopted processes are polled; for our children this is only the
         * stop timeout (their exit comes through SIGCHLD). */
        if (p->adopted && kill(p->pid, 0) < 0 && errno == ESRCH) {
            proc_exited(p, -1);
            return;
        }
        if (p->state == PROC_STOPPING && pv_now_ms() >= p->kill_at_ms) {
            pv_warn("domain %u: %s backend (pid %ld) did not stop: SIGKILL", p->domid,
                    watch_kind_name(p->kind), (long)p->pid);
            kill(p->pid, SIGKILL);
            if (!p->adopted)
                pv_timer_disarm(p->timer);
        }
        return;
    case PROC_FAILED:
        return;
    }
}

void watch_proc_reap(struct watch *w)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (struct watch_proc *p = w->procs; p; p = p->next) {
            if (p->pid == pid && !p->adopted) {
                proc_exited(p, status);
                break;
            }
        }
    }
}

/* Whether pid runs cmd's backend for (kind, domid): its command line holds
 * "--frontend-domid" "<domid>" (and "--type" "<kind>" for blk). Guards
 * against a pid file whose pid was reused by another program. */
static bool is_backend_of(pid_t pid, enum watch_kind kind, uint32_t domid)
{
    char path[64], buf[4096], want[16];
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    snprintf(want, sizeof(want), "%u", domid);
    bool domid_ok = false, type_ok = kind == WATCH_VIF;
    for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
        char *next = a + strlen(a) + 1;
        if (next >= buf + n)
            break;
        if (!strcmp(a, "--frontend-domid") && !strcmp(next, want))
            domid_ok = true;
        if (!strcmp(a, "--type") && !strcmp(next, watch_kind_name(kind)))
            type_ok = true;
    }
    return domid_ok && type_ok;
}

/* One pid file of the run directory: adopted when its process is still the
 * backend of that domain, removed otherwise. */
static bool adopt_one(const char *name, const struct ctl_key *key, const char *ext, void *arg)
{
    struct watch *w = arg;
    int kind = watch_kind_from_name(key->kind);
    if (strcmp(ext, "pid") || key->domid < 0 || kind < 0)
        return true;
    uint32_t domid = (uint32_t)key->domid;
    char path[512], text[32] = "";
    snprintf(path, sizeof(path), "%s/%s", w->run_dir, name);
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(text, sizeof(text), f))
            text[0] = '\0';
        fclose(f);
    }
    long pid = atol(text);
    if (pid <= 0 || !is_backend_of((pid_t)pid, kind, domid)) {
        unlink(path);
        return true;
    }
    struct watch_proc *p = proc_new(w, kind, domid);
    if (!p)
        return false;
    p->pid = (pid_t)pid;
    p->adopted = true;
    p->state = PROC_RUNNING;
    pv_timer_arm(p->timer, ADOPTED_POLL_MS, ADOPTED_POLL_MS);
    pv_info("domain %u: adopted running %s backend (pid %ld)", domid, key->kind, pid);
    return true;
}

void watch_proc_adopt(struct watch *w)
{
    ctl_scan_run_dir(w->run_dir, adopt_one, w);
}

void watch_proc_free_all(struct watch *w)
{
    while (w->procs)
        proc_free(w->procs);
}
