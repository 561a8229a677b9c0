/* The daemon's side of DIR/ctl.sock: one request per connection, answered
 * and closed (a stop is answered once the adopted processes are gone). */
#include "xensim.h"

#include "hv/hv.h"
#include "xenstored/xsd.h"
#include "log.h"
#include "loop.h"
#include "hv/hv_proto.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define STOP_GRACE_MS 2000

struct ctl_conn {
    struct xsim *x;
    int fd;
    struct pv_watch *w;
    struct ctl_conn *next;
};

static void fail(struct ctl_rep *rep, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct ctl_rep *rep, int err, const char *fmt, ...)
{
    va_list ap;

    rep->err = err;
    va_start(ap, fmt);
    vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
    va_end(ap);
}

static int pick_domid(struct xsim *x)
{
    for (unsigned n = 0; n < HV_DOMID_MAX; n++) {
        unsigned d = (x->domid_rover + n) % HV_DOMID_MAX + 1;
        if (!hv_domain_exists(x->hv, d))
            return (int)d;
    }
    return -1;
}

/* The new domain (created or restored) in xenstored; the reply's domid. */
static void introduce(struct xsim *x, int domid, struct ctl_rep *rep)
{
    if (xsd_introduce(x->xsd, (unsigned)domid) < 0) {
        int e = errno;
        hv_domain_destroy(x->hv, (unsigned)domid);
        fail(rep, e, "xenstored cannot introduce domain %d: %s", domid, strerror(e));
        return;
    }
    x->domid_rover = (unsigned)domid;
    rep->domid = (uint32_t)domid;
}

static void do_create(struct xsim *x, const struct ctl_req *req, struct ctl_rep *rep)
{
    int domid = req->domid < 0 ? pick_domid(x) : req->domid;

    if (domid < 0) {
        fail(rep, ENOSPC, "no free domain id");
        return;
    }
    if (hv_domain_create(x->hv, (unsigned)domid, req->mem_mb) < 0) {
        int e = errno;
        if (e == EEXIST)
            fail(rep, e, "domain %d already exists", domid);
        else if (e == EINVAL)
            fail(rep, e, "domid %d or memory %llu MiB out of range (domid 1..%u, memory 1..%u MiB)",
                 domid, (unsigned long long)req->mem_mb, HV_DOMID_MAX, HV_MEM_MB_MAX);
        else
            fail(rep, e, "cannot create domain %d: %s", domid, strerror(e));
        return;
    }
    introduce(x, domid, rep);
}

/* Migration's hypervisor steps (cmd_migrate.c runs the rest). */
static int do_save(struct xsim *x, const struct ctl_req *req, struct ctl_rep *rep)
{
    uint64_t mem_mb = 0;
    int fd = req->domid > 0 ? hv_domain_save(x->hv, (unsigned)req->domid, &mem_mb) : -1;

    if (fd < 0) {
        fail(rep, req->domid > 0 ? errno : ESRCH, "cannot save domain %d: %s", req->domid,
             req->domid > 0 ? strerror(errno) : "no such domain");
        return -1;
    }
    rep->domid = (uint32_t)req->domid;
    rep->count = (uint32_t)mem_mb;
    return fd;
}

static int do_save_grants(struct xsim *x, const struct ctl_req *req, struct ctl_rep *rep)
{
    int fd = req->domid > 0 ? hv_domain_save_grants(x->hv, (unsigned)req->domid, &rep->count) : -1;

    if (fd < 0)
        fail(rep, req->domid > 0 ? errno : ESRCH, "cannot save the grants of domain %d: %s",
             req->domid, req->domid > 0 ? strerror(errno) : "no such domain");
    return fd;
}

/* Takes fds[0] (the memory) and uses fds[1] (the grants). */
static void do_restore(struct xsim *x, const struct ctl_req *req, const int *fds, unsigned nfds,
                       struct ctl_rep *rep)
{
    int domid = req->domid < 0 ? pick_domid(x) : req->domid, memfd = fds[0];

    if (nfds != 2) {
        if (nfds)
            close(memfd);
        fail(rep, EINVAL, "restore: the memory and the grants must come along");
        return;
    }
    if (domid < 0) {
        close(memfd);
        fail(rep, ENOSPC, "no free domain id");
        return;
    }
    if (hv_domain_restore(x->hv, (unsigned)domid, req->mem_mb, memfd, fds[1], req->count) < 0) {
        fail(rep, errno, "cannot restore domain %d (%llu MiB): %s", domid,
             (unsigned long long)req->mem_mb, strerror(errno));
        return;
    }
    introduce(x, domid, rep);
}

static size_t do_release(struct xsim *x, const struct ctl_req *req, struct ctl_rep *rep,
                         int32_t *pids)
{
    unsigned n;

    if (req->domid <= 0 || !hv_domain_exists(x->hv, (unsigned)req->domid)) {
        fail(rep, ESRCH, "no domain %d", req->domid);
        return 0;
    }
    n = xsim_proc_pids(x, (unsigned)req->domid, pids, CTL_MAX_PROCS);
    if (n > CTL_MAX_PROCS) {
        fail(rep, E2BIG, "domain %d has %u processes (at most %u move)", req->domid, n,
             CTL_MAX_PROCS);
        return 0;
    }
    xsim_proc_forget(x, req->domid);
    rep->count = n;
    return n * sizeof(*pids);
}

static void do_destroy(struct xsim *x, const struct ctl_req *req, struct ctl_rep *rep)
{
    if (req->domid <= 0 || !hv_domain_exists(x->hv, (unsigned)req->domid)) {
        fail(rep, ESRCH, "no domain %d%s", req->domid,
             req->domid == 0 ? " (Domain-0 cannot be destroyed)" : "");
        return;
    }
    /* Its programs die with it, at once: the guest is gone. */
    xsim_proc_signal(x, req->domid, SIGKILL);
    xsim_proc_forget(x, req->domid);
    xsd_release(x->xsd, (unsigned)req->domid);
    hv_domain_destroy(x->hv, (unsigned)req->domid);
    rep->domid = (uint32_t)req->domid;
}

static int do_dump(struct xsim *x, struct ctl_rep *rep)
{
    int fd = memfd_create("xensim-dump", MFD_CLOEXEC), fd2;
    FILE *f;

    fd2 = fd >= 0 ? dup(fd) : -1;
    f = fd2 >= 0 ? fdopen(fd2, "w") : NULL;
    if (!f) {
        fail(rep, errno, "cannot dump: %s", strerror(errno));
        if (fd2 >= 0)
            close(fd2);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f, "# xenstore\n");
    xsd_dump(x->xsd, f);
    fprintf(f, "# hypervisor\n");
    hv_dump(x->hv, f);
    fclose(f);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void reply(int fd, const struct ctl_rep *rep, const void *items, size_t ilen, int sendfd)
{
    hv_send_msg(fd, rep, sizeof(*rep), items, ilen, &sendfd, sendfd >= 0, MSG_DONTWAIT);
}

static void conn_free(struct ctl_conn *c)
{
    for (struct ctl_conn **pp = &c->x->ctl_conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    pv_watch_remove(c->w);
    close(c->fd);
    free(c);
}

static void stop_now(struct xsim *x)
{
    struct ctl_rep rep = {0};

    xsim_proc_all_gone = NULL;
    if (x->procs) {
        pv_warn("stop: %u processes did not exit in time; killing them", xsim_proc_count(x));
        xsim_proc_signal(x, -1, SIGKILL);
        xsim_proc_forget(x, -1);
    }
    if (x->stop_conn >= 0) {
        reply(x->stop_conn, &rep, NULL, 0, -1);
        close(x->stop_conn);
        x->stop_conn = -1;
    }
    pv_info("stopping");
    pv_loop_stop(x->loop);
}

static void stop_timeout(struct pv_timer *t, void *arg)
{
    (void)t;
    stop_now(arg);
}

static void do_stop(struct xsim *x, int fd)
{
    if (x->stop_conn >= 0) {
        close(fd); /* a stop is already under way */
        return;
    }
    x->stop_conn = fd;
    if (!xsim_proc_signal(x, -1, SIGTERM)) {
        stop_now(x);
        return;
    }
    xsim_proc_all_gone = stop_now;
    x->stop_timer = pv_timer_new(x->loop, stop_timeout, x);
    if (!x->stop_timer || pv_timer_arm(x->stop_timer, STOP_GRACE_MS, 0) < 0)
        stop_now(x);
}

static void conn_readable(int fd, uint32_t events, void *arg)
{
    struct ctl_conn *c = arg;
    struct xsim *x = c->x;
    struct ctl_req req;
    struct ctl_rep rep = {0};
    static struct ctl_dom doms[CTL_MAX_DOMS];
    static unsigned ids[CTL_MAX_DOMS];
    static uint64_t mems[CTL_MAX_DOMS];
    size_t ilen = 0;
    int sendfd = -1, recvfds[2] = {-1, -1};
    unsigned nfds = 0;
    ssize_t n;

    (void)events;
    n = hv_recv_msg(fd, &req, sizeof(req), recvfds, 2, &nfds, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n != (ssize_t)sizeof(req) || (nfds && req.op != CTL_RESTORE)) {
        for (unsigned i = 0; i < nfds; i++)
            close(recvfds[i]);
        conn_free(c);
        return;
    }
    switch (req.op) {
    case CTL_PING:
        break;
    case CTL_CREATE:
        do_create(x, &req, &rep);
        break;
    case CTL_PAUSE:
        if (req.domid <= 0 || !hv_domain_exists(x->hv, (unsigned)req.domid))
            fail(&rep, ESRCH, "no domain %d", req.domid);
        else
            xsim_proc_signal(x, req.domid, SIGSTOP);
        break;
    case CTL_DESTROY:
        do_destroy(x, &req, &rep);
        break;
    case CTL_SIGNAL:
        if (req.domid <= 0 || !hv_domain_exists(x->hv, (unsigned)req.domid))
            fail(&rep, ESRCH, "no domain %d", req.domid);
        else if (req.sig != SIGTERM && req.sig != SIGKILL && req.sig != SIGCONT)
            fail(&rep, EINVAL, "signal %u not allowed", req.sig);
        else
            rep.count = xsim_proc_signal(x, req.domid, (int)req.sig);
        break;
    case CTL_LIST: {
        size_t k = hv_domain_list(x->hv, ids, mems, CTL_MAX_DOMS);
        k = k < CTL_MAX_DOMS ? k : CTL_MAX_DOMS;
        for (size_t i = 0; i < k; i++)
            doms[i] = (struct ctl_dom){
                .domid = ids[i], .nprocs = xsim_proc_count_dom(x, ids[i]), .mem_mb = mems[i]};
        rep.count = (uint32_t)k;
        ilen = k * sizeof(doms[0]);
        break;
    }
    case CTL_DUMP:
        sendfd = do_dump(x, &rep);
        break;
    case CTL_SAVE:
        sendfd = do_save(x, &req, &rep);
        break;
    case CTL_SAVE_GRANTS:
        sendfd = do_save_grants(x, &req, &rep);
        break;
    case CTL_RESTORE:
        do_restore(x, &req, recvfds, nfds, &rep);
        if (nfds == 2)
            close(recvfds[1]);
        break;
    case CTL_RELEASE: {
        static int32_t pids[CTL_MAX_PROCS];
        ilen = do_release(x, &req, &rep, pids);
        reply(fd, &rep, pids, ilen, -1);
        conn_free(c);
        return;
    }
    case CTL_ADOPT:
        if (req.domid < 0 || !hv_domain_exists(x->hv, (unsigned)req.domid))
            fail(&rep, ESRCH, "no domain %d", req.domid);
        else if (xsim_proc_adopt(x, req.pid, (unsigned)req.domid) < 0)
            fail(&rep, errno, "cannot follow process %d: %s", req.pid, strerror(errno));
        break;
    case CTL_STOP: {
        int keep = dup(fd);
        conn_free(c);
        if (keep >= 0)
            do_stop(x, keep);
        else
            stop_now(x);
        return;
    }
    default:
        fail(&rep, EINVAL, "unknown request %u", req.op);
        break;
    }
    reply(fd, &rep, doms, ilen, sendfd);
    if (sendfd >= 0)
        close(sendfd);
    conn_free(c);
}

static void ctl_accept(int fd, uint32_t events, void *arg)
{
    struct xsim *x = arg;
    struct ctl_conn *c;
    int s;

    (void)events;
    s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0)
        return;
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(s);
        return;
    }
    c->x = x;
    c->fd = s;
    c->w = pv_loop_add_fd(x->loop, s, EPOLLIN, conn_readable, c);
    if (!c->w) {
        close(s);
        free(c);
        return;
    }
    c->next = x->ctl_conns;
    x->ctl_conns = c;
}

int xsim_ctl_listen(struct xsim *x)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", x->dir, CTL_SOCK_NAME) >=
        sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    x->ctl_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (x->ctl_fd < 0)
        return -1;
    unlink(sa.sun_path);
    if (bind(x->ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(x->ctl_fd, 16) < 0)
        return -1;
    x->ctl_w = pv_loop_add_fd(x->loop, x->ctl_fd, EPOLLIN, ctl_accept, x);
    return x->ctl_w ? 0 : -1;
}

void xsim_ctl_close(struct xsim *x)
{
    char path[sizeof(x->dir) + 16];

    while (x->ctl_conns)
        conn_free(x->ctl_conns);
    if (x->ctl_w)
        pv_watch_remove(x->ctl_w);
    if (x->ctl_fd >= 0) {
        close(x->ctl_fd);
        snprintf(path, sizeof(path), "%s/%s", x->dir, CTL_SOCK_NAME);
        unlink(path);
    }
    x->ctl_fd = -1;
    x->ctl_w = NULL;
    if (x->stop_timer)
        pv_timer_free(x->stop_timer);
    x->stop_timer = NULL;
    if (x->stop_conn >= 0)
        close(x->stop_conn);
    x->stop_conn = -1;
}
