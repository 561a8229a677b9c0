/* Processes that run "inside" a domain (started by `xensim exec`). The
 * daemon holds a pidfd for each, so a signal can never hit a recycled pid,
 * and forgets each as soon as it exits. They die with their domain (a
 * destroyed guest's kernel takes its programs along) and with xensim. */
#include "xensim.h"

#include "log.h"
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

void (*xsim_proc_all_gone)(struct xsim *x);

static void proc_free(struct xsim *x, struct xsim_proc *p)
{
    for (struct xsim_proc **pp = &x->procs; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pv_watch_remove(p->w);
    close(p->pidfd);
    free(p);
}

static void proc_exited(int fd, uint32_t events, void *arg)
{
    struct xsim_proc *p = arg;
    struct xsim *x = p->x;

    (void)fd;
    (void)events;
    pv_debug("process %d of domain %u exited", (int)p->pid, p->domid);
    proc_free(x, p);
    if (!x->procs && xsim_proc_all_gone)
        xsim_proc_all_gone(x);
}

int xsim_proc_adopt(struct xsim *x, pid_t pid, unsigned domid)
{
    struct xsim_proc *p = calloc(1, sizeof(*p));
    int fd;

    if (!p)
        return -1;
    fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        int e = errno;
        free(p);
        errno = e;
        return -1;
    }
    p->x = x;
    p->pid = pid;
    p->pidfd = fd;
    p->domid = domid;
    p->w = pv_loop_add_fd(x->loop, fd, EPOLLIN, proc_exited, p);
    if (!p->w) {
        close(fd);
        free(p);
        return -1;
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
        if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) == 0)
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
}

unsigned xsim_proc_count(const struct xsim *x)
{
    unsigned n = 0;

    for (const struct xsim_proc *p = x->procs; p; p = p->next)
        n++;
    return n;
}
