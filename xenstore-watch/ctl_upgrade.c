/* pvback-ctl upgrade: asks pvback-watch (over its control socket,
 * watch_ctl.c) to replace running backends with the binaries installed now,
 * then waits until each one's successor runs and serves every device that
 * was Connected before, Connected again. What the guests see: nothing; the
 * successor attaches to the live rings and replays the in-flight journal
 * (docs/hardening.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "ctl_cmd.h"
#include "ctl_report.h"

/* How long a backend may take to stop (pvback-watch's stop-timeout, 5 s by
 * default, then SIGKILL) and its successor to reconnect its devices. */
#define UPGRADE_WAIT_MS 60000
#define POLL_MS         50

struct target {
    struct ctl_proc old; /* key, pid and devices before the upgrade */
    long new_pid;
};

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The process's report from its status socket into p (key already set);
 * false when it does not answer with a complete one. */
static bool read_report(const char *run, struct ctl_proc *p)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s-%d.sock", run, p->key.kind, p->key.domid);
    char *r = ctl_socket_request(path, NULL);
    bool ok = r && ctl_parse_report(p, r) == 0;
    free(r);
    return ok;
}

/* Whether every device Connected in old is Connected in now. */
static bool devices_back(const struct ctl_proc *old, const struct ctl_proc *now)
{
    for (size_t i = 0; i < old->ndevs; i++) {
        if (old->devs[i].state != XenbusStateConnected)
            continue;
        bool found = false;
        for (size_t j = 0; j < now->ndevs; j++)
            if (!strcmp(now->devs[j].name, old->devs[i].name))
                found = now->devs[j].state == XenbusStateConnected;
        if (!found)
            return false;
    }
    return true;
}

static void free_proc(struct ctl_proc *p)
{
    free(p->devs);
    free(p->failed);
    p->devs = NULL;
    p->failed = NULL;
    p->ndevs = 0;
}

/* Waits for t's successor: a new pid whose report shows the devices back.
 * 0, or -1 after a message. */
static int wait_successor(const char *run, struct target *t)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s-%d.failed", run, t->old.key.kind, t->old.key.domid);
    for (unsigned waited = 0; waited < UPGRADE_WAIT_MS; waited += POLL_MS) {
        if (access(path, F_OK) == 0) {
            fprintf(stderr, "pvback-ctl: %s %d: the new backend failed (see pvback-ctl status)\n",
                    t->old.key.kind, t->old.key.domid);
            return -1;
        }
        struct ctl_proc now = {.key = t->old.key};
        bool ok = read_report(run, &now) && now.pid > 0 && now.pid != t->old.pid &&
                  devices_back(&t->old, &now);
        t->new_pid = now.pid;
        free_proc(&now);
        if (ok)
            return 0;
        sleep_ms(POLL_MS);
    }
    fprintf(stderr, "pvback-ctl: %s %d: no new backend serving its devices within %d s\n",
            t->old.key.kind, t->old.key.domid, UPGRADE_WAIT_MS / 1000);
    return -1;
}

/* The status reports of the processes matching kind/domid, read before the
 * upgrade, while the old processes still answer: each one's successor must
 * serve the same devices again before the upgrade counts as done. */
struct before {
    const char *run, *kind;
    int domid;
    struct ctl_procs *procs;
};

static bool read_one_before(const char *name, const struct ctl_key *key, const char *ext, void *arg)
{
    struct before *b = arg;
    (void)name;
    if (strcmp(ext, "sock") || (b->kind && strcmp(key->kind, b->kind)) ||
        (b->domid >= 0 && key->domid != b->domid))
        return true;
    struct ctl_proc *p = ctl_procs_get(b->procs, key);
    if (p)
        read_report(b->run, p);
    return p != NULL;
}

static void read_before(const char *run, const char *kind, int domid, struct ctl_procs *before)
{
    struct before b = {run, kind, domid, before};
    ctl_scan_run_dir(run, read_one_before, &b);
}

/* Parses pvback-watch's answer into targets. -1 after a message. */
static int parse_answer(char *answer, const struct ctl_procs *before, struct target **ts, size_t *n)
{
    bool end = false;

    for (char *line = strtok(answer, "\n"); line; line = strtok(NULL, "\n")) {
        char k[16];
        int dom;
        long pid;
        if (!strncmp(line, "error ", 6)) {
            fprintf(stderr, "pvback-ctl: pvback-watch: %s\n", line + 6);
            return -1;
        }
        if (!strcmp(line, "end")) {
            end = true;
            break;
        }
        if (sscanf(line, "restarting %15s %d %ld", k, &dom, &pid) != 3)
            continue;
        struct target *grown = realloc(*ts, (*n + 1) * sizeof(**ts));
        if (!grown)
            return -1;
        *ts = grown;
        struct target *t = &(*ts)[(*n)++];
        memset(t, 0, sizeof(*t));
        snprintf(t->old.key.kind, sizeof(t->old.key.kind), "%s", k);
        t->old.key.domid = dom;
        for (size_t i = 0; i < before->n; i++) {
            const struct ctl_proc *b = &before->v[i];
            if (b->key.domid == dom && !strcmp(b->key.kind, k) && b->ndevs) {
                t->old.devs = malloc(b->ndevs * sizeof(*b->devs));
                if (t->old.devs) {
                    memcpy(t->old.devs, b->devs, b->ndevs * sizeof(*b->devs));
                    t->old.ndevs = b->ndevs;
                }
            }
        }
        t->old.pid = pid; /* the process pvback-watch stops */
    }
    if (!end) {
        fprintf(stderr, "pvback-ctl: pvback-watch's answer was cut\n");
        return -1;
    }
    return 0;
}

int ctl_upgrade(const char *run, const char *kind, int domid)
{
    char path[PATH_MAX], req[64], dom[16];
    struct ctl_procs before = {0};
    struct target *ts = NULL;
    size_t n = 0;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/watch.sock", run);
    if (domid < 0)
        snprintf(dom, sizeof(dom), "all");
    else
        snprintf(dom, sizeof(dom), "%d", domid);
    snprintf(req, sizeof(req), "upgrade %s %s\n", kind ? kind : "all", dom);
    read_before(run, kind, domid, &before);

    char *answer = ctl_socket_request(path, req);
    if (!answer) {
        if (errno == EACCES)
            fprintf(stderr, "pvback-ctl: %s: only root may upgrade the backends\n", path);
        else
            fprintf(stderr,
                    "pvback-ctl: pvback-watch is not running (%s: %s): nothing would start the "
                    "new backends\n",
                    path, strerror(errno));
        ctl_procs_free(&before);
        return 1;
    }
    bool answered = parse_answer(answer, &before, &ts, &n) == 0;
    if (!answered)
        rc = 1;
    free(answer);
    ctl_procs_free(&before);
    if (answered && n == 0) {
        /* A named guest without backends is an error; a host without any
         * is not. */
        if (domid < 0) {
            printf("no running backends to upgrade\n");
        } else {
            fprintf(stderr, "pvback-ctl: no running backend matches\n");
            rc = 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct target *t = &ts[i];
        if (answered && wait_successor(run, t) == 0) {
            char exe[64], bin[PATH_MAX] = "?";
            snprintf(exe, sizeof(exe), "/proc/%ld/exe", t->new_pid);
            ssize_t l = readlink(exe, bin, sizeof(bin) - 1);
            if (l > 0)
                bin[l] = '\0';
            printf("%s %d: pid %ld -> %ld (%s)\n", t->old.key.kind, t->old.key.domid, t->old.pid,
                   t->new_pid, bin);
        } else {
            rc = 1;
        }
        free_proc(&t->old);
    }
    free(ts);
    return rc;
}
