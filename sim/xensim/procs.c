/* Processes that run "inside" a domain (started by `xensim exec`). The
 * daemon holds a pidfd for each (or its start time where pidfds are not
 * available), so a signal can never hit a recycled pid, and forgets each as
 * soon as it exits. They die with their domain (a destroyed guest's kernel
 * takes its programs along) and with xensim. */
#include "xensim.h"

#include "log.h"
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#define POLL_MS 200

void (*xsim_proc_all_gone)(struct xsim *x);

static void proc_free(struct xsim *x, struct xsim_proc *p)
{
    for (struct xsim_proc **pp = &x->procs; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->w)
        pv_watch_remove(p->w);
    hv_pidref_close(&p->ref);
    free(p);
}

static void proc_gone(struct xsim *x, struct xsim_proc *p)
{
    pv_debug("process %d of domain %u exited", (int)p->ref.pid, p->domid);
    proc_free(x, p);
    if (!x->procs && xsim_proc_all_gone)
        xsim_proc_all_gone(x);
}

static void proc_exited(int fd, uint32_t events, void *arg)
{
    struct xsim_proc *p = arg;

    (void)fd;
    (void)events;
    proc_gone(p->x, p);
}

static void proc_poll(struct pv_timer *t, void *arg)
{
    struct xsim *x = arg;

    (void)t;
    for (struct xsim_proc *p = x->procs, *next; p; p = next) {
        next = p->next;
        if (!p->w && !hv_pidref_alive(&p->ref)) {
            proc_gone(x, p);
            return; /* the list may have changed under us; the next tick goes on */
        }
    }
}

int xsim_proc_adopt(struct xsim *x, pid_t pid, unsigned domid)
{
    struct xsim_proc *p = calloc(1, sizeof(*p));

    if (!p)
        return -1;
    if (hv_pidref_open(&p->ref, pid) < 0) {
        int e = errno;
        free(p);
        errno = e;
        return -1;
    }
    p->x = x;
    p->domid = domid;
    if (p->ref.pidfd >= 0) {
        p->w = pv_loop_add_fd(x->loop, p->ref.pidfd, EPOLLIN, proc_exited, p);
        if (!p->w) {
            hv_pidref_close(&p->ref);
            free(p);
            return -1;
        }
    } else if (!x->proc_timer) {
        x->proc_timer = pv_timer_new(x->loop, proc_poll, x);
        if (!x->proc_timer || pv_timer_arm(x->proc_timer, POLL_MS, POLL_MS) < 0) {
            free(p);
            return -1;
        }
    }
    p->next = x->procs;
    x->procs = p;
    pv_info("process %d runs as domain %u", (int)pid, domid);
    return 0;
}

unsigned xsim_proc_signal(struct xsim *x, int domid, int sig)
{
    unsigned n = 0;

    for (struct xsim_proc *p = x->procs; p; p = p->next) {
        if (domid >= 0 && p->domid != (unsigned)domid)
            continue;
        if (hv_pidref_signal(&p->ref, sig) == 0)
            n++;
    }
    return n;
}

void xsim_proc_forget(struct xsim *x, int domid)
{
    for (struct xsim_proc *p = x->procs, *next; p; p = next) {
        next = p->next;
        if (domid < 0 || p->domid == (unsigned)domid)
            proc_free(x, p);
    }
    if (!x->procs && x->proc_timer) {
        pv_timer_free(x->proc_timer);
        x->proc_timer = NULL;
    }
}

unsigned xsim_proc_count(const struct xsim *x)
{
    unsigned n = 0;

    for (const struct xsim_proc *p = x->procs; p; p = p->next)
        n++;
    return n;
}

unsigned xsim_proc_count_dom(const struct xsim *x, unsigned domid)
{
    unsigned n = 0;

    for (const struct xsim_proc *p = x->procs; p; p = p->next)
        n += p->domid == domid;
    return n;
}

unsigned xsim_proc_pids(const struct xsim *x, unsigned domid, int32_t *pids, unsigned max)
{
    unsigned n = 0;

    for (const struct xsim_proc *p = x->procs; p; p = p->next)
        if (p->domid == domid) {
            if (n < max)
                pids[n] = (int32_t)p->ref.pid;
            n++;
        }
    return n;
}
