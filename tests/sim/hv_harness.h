/* Shared by tests/sim/test_grant*.c and test_evtchn*.c: xensim's hypervisor
 * part running in this process on the xenstore harness's daemon thread (so
 * valgrind sees it too), this process acting as dom0 through the sim
 * platform, and a forked "guest agent" process acting as a guest through the
 * same platform, driven by small commands over a socketpair. */
#ifndef PVBACK_TEST_HV_HARNESS_H
#define PVBACK_TEST_HV_HARNESS_H

#include "xenstore_harness.h"

#include "common/platform.h"
#include "hv/hv.h"
#include "hv/hv_proto.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <xen/grant_table.h>

struct hvh {
    struct xsh *xs;
    struct hv *hv;
};

struct hvh_dom_arg {
    struct hvh *h;
    unsigned domid;
    int rc;
};

static inline void hvh_new_loop(struct xsh *xs, void *arg)
{
    struct hvh *h = arg;

    h->hv = hv_new(xs->loop, xs->dir);
}

/* Starts the hypervisor (with xenstored) and makes this process dom0. */
static inline struct hvh *hvh_start(void)
{
    struct hvh *h = calloc(1, sizeof(*h));
    char spec[128], err[256];

    if (!h)
        abort();
    h->xs = xsh_start();
    xsh_on_loop(h->xs, hvh_new_loop, h);
    snprintf(spec, sizeof(spec), "sim:%s", h->xs->dir);
    unsetenv("XENSIM_DOMID");
    if (!h->hv || pv_platform_init(spec, err, sizeof(err)) < 0) {
        fprintf(stderr, "hvh_start: %s\n", h->hv ? err : strerror(errno));
        abort();
    }
    return h;
}

static inline void hvh_free_loop(struct xsh *xs, void *arg)
{
    (void)xs;
    hv_free(((struct hvh *)arg)->hv);
}

static inline void hvh_stop(struct hvh *h)
{
    xsh_on_loop(h->xs, hvh_free_loop, h);
    xsh_stop(h->xs);
    free(h);
}

static inline void hvh_create_loop(struct xsh *xs, void *arg)
{
    struct hvh_dom_arg *a = arg;

    a->rc = hv_domain_create(a->h->hv, a->domid, 16);
    if (a->rc == 0)
        a->rc = xsd_introduce(xs->xsd, a->domid);
}

static inline void hvh_destroy_loop(struct xsh *xs, void *arg)
{
    struct hvh_dom_arg *a = arg;

    xsd_release(xs->xsd, a->domid);
    a->rc = hv_domain_destroy(a->h->hv, a->domid);
}

/* A 16 MiB guest. */
static inline void hvh_create(struct hvh *h, unsigned domid)
{
    struct hvh_dom_arg a = {h, domid, -1};

    xsh_on_loop(h->xs, hvh_create_loop, &a);
    if (a.rc < 0)
        abort();
}

static inline int hvh_destroy(struct hvh *h, unsigned domid)
{
    struct hvh_dom_arg a = {h, domid, -1};

    xsh_on_loop(h->xs, hvh_destroy_loop, &a);
    return a.rc;
}

/* The grant table of domid as its guest sees it (a read-write mapping of
 * the shared entries), to check flags and to write entries by hand. */
static inline grant_entry_v1_t *hvh_gnttab(struct hvh *h, unsigned domid)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct hv_req req = {.op = HV_OP_OPEN, .arg = {HV_KIND_GNTSHR, HV_PROTO_VERSION}};
    struct hv_rep rep;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), fds[2];
    unsigned nfds = 0;
    void *gt;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv%u.sock", h->xs->dir, domid);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        hv_send_msg(fd, &req, sizeof(req), NULL, 0, NULL, 0, 0) < 0 ||
        hv_recv_msg(fd, &rep, sizeof(rep), fds, 2, &nfds, 0) != sizeof(rep) || nfds != 2)
        abort();
    gt = mmap(NULL, HV_GNTTAB_FRAMES * 4096u, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
    if (gt == MAP_FAILED)
        abort();
    close(fds[0]);
    close(fds[1]);
    close(fd);
    return gt;
}

static inline uint16_t hvh_flags(const grant_entry_v1_t *gt, uint32_t ref)
{
    return __atomic_load_n(&gt[ref].flags, __ATOMIC_ACQUIRE);
}

/* Waits up to ms for an event on e; the port, or -1 when none came. */
static inline int hvh_ev_wait(struct pv_evtchn *e, int ms)
{
    struct pollfd p = {.fd = pv_evtchn_fd(e), .events = POLLIN};

    if (poll(&p, 1, ms) != 1)
        return -1;
    return pv_evtchn_pending(e);
}

/* ---- the guest agent ---- */

enum agent_op {
    AG_SHARE = 1, /* a count, b grantee, c writable -> rc slot, vals refs */
    AG_WRITE,     /* a slot, b page, c offset, data[len] */
    AG_READ,      /* a slot, b page -> data (one page) */
    AG_UNSHARE,   /* a slot -> rc, err */
    AG_GNTSHR_REOPEN,
    AG_EV_UNBOUND,     /* a remote domid -> rc port */
    AG_EV_INTERDOMAIN, /* a domid, b port -> rc port */
    AG_EV_NOTIFY,      /* a port */
    AG_EV_UNMASK,      /* a port */
    AG_EV_UNBIND,      /* a port */
    AG_EV_WAIT,        /* a ms -> rc port or -1 */
    AG_EV_DRAIN,       /* a ms -> n, vals ports received (left masked) */
    AG_EV_REOPEN,
    AG_REHOME, /* pv_platform_rehome() -> rc, vals[0] the epoch, vals[1] our domid */
    AG_EXIT,
};

#define AGENT_SLOTS 16

struct agent_cmd {
    uint32_t op, a, b, c, len;
    uint8_t data[4096];
};

struct agent_rep {
    int32_t rc, err;
    uint32_t n;
    uint32_t vals[64];
    uint8_t data[4096];
};

struct agent {
    pid_t pid;
    int fd;
    unsigned domid;
};

struct agent_state {
    struct pv_gntshr *s;
    struct pv_evtchn *e;
    void *addr[AGENT_SLOTS];
    uint32_t count[AGENT_SLOTS];
};

static inline void agent_do(struct agent_state *st, const struct agent_cmd *c, struct agent_rep *r)
{
    uint8_t *page;

    memset(r, 0, sizeof(*r));
    errno = 0;
    switch (c->op) {
    case AG_SHARE:
        r->rc = -1;
        for (int i = 0; i < AGENT_SLOTS; i++) {
            if (!st->addr[i]) {
                st->addr[i] = pv_gntshr_share(st->s, c->b, c->a, r->vals, c->c);
                st->count[i] = c->a;
                r->rc = st->addr[i] ? i : -1;
                break;
            }
        }
        break;
    case AG_WRITE:
        page = (uint8_t *)st->addr[c->a] + (size_t)c->b * 4096;
        memcpy(page + c->c, c->data, c->len);
        break;
    case AG_READ:
        memcpy(r->data, (uint8_t *)st->addr[c->a] + (size_t)c->b * 4096, 4096);
        break;
    case AG_UNSHARE:
        r->rc = pv_gntshr_unshare(st->s, st->addr[c->a], st->count[c->a]);
        if (r->rc == 0)
            st->addr[c->a] = NULL;
        break;
    case AG_GNTSHR_REOPEN:
        pv_gntshr_close(st->s);
        memset(st->addr, 0, sizeof(st->addr));
        st->s = pv_gntshr_open();
        r->rc = st->s ? 0 : -1;
        break;
    case AG_EV_UNBOUND:
        r->rc = pv_evtchn_bind_unbound(st->e, c->a);
        break;
    case AG_EV_INTERDOMAIN:
        r->rc = pv_evtchn_bind_interdomain(st->e, c->a, c->b);
        break;
    case AG_EV_NOTIFY:
        r->rc = pv_evtchn_notify(st->e, c->a);
        break;
    case AG_EV_UNMASK:
        r->rc = pv_evtchn_unmask(st->e, c->a);
        break;
    case AG_EV_UNBIND:
        r->rc = pv_evtchn_unbind(st->e, c->a);
        break;
    case AG_EV_WAIT:
        r->rc = hvh_ev_wait(st->e, (int)c->a);
        break;
    case AG_EV_DRAIN: {
        int port;
        while (r->n < 64 && (port = hvh_ev_wait(st->e, (int)c->a)) > 0)
            r->vals[r->n++] = (uint32_t)port;
        break;
    }
    case AG_EV_REOPEN:
        pv_evtchn_close(st->e);
        st->e = pv_evtchn_open();
        r->rc = st->e ? 0 : -1;
        break;
    case AG_REHOME:
        r->rc = pv_platform_rehome();
        r->vals[0] = pv_platform_home_epoch();
        r->vals[1] = pv_platform_self_domid();
        break;
    }
    r->err = errno;
}

static inline void agent_main(int fd)
{
    static struct agent_cmd c;
    static struct agent_rep r;
    struct agent_state st = {0};

    st.s = pv_gntshr_open();
    st.e = pv_evtchn_open();
    if (!st.s || !st.e) {
        fprintf(stderr, "agent: cannot open handles: %s\n", strerror(errno));
        _exit(3);
    }
    while (recv(fd, &c, sizeof(c), 0) > 0 && c.op != AG_EXIT) {
        agent_do(&st, &c, &r);
        if (send(fd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
            break;
    }
    pv_gntshr_close(st.s);
    pv_evtchn_close(st.e);
    _exit(0);
}

/* Forks a process acting as guest domid. */
static inline struct agent hvh_agent(struct hvh *h, unsigned domid)
{
    struct agent a = {.domid = domid};
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    fflush(NULL);
    a.pid = fork();
    if (a.pid < 0)
        abort();
    if (a.pid == 0) {
        char err[256], id[16];
        close(sv[0]);
        snprintf(id, sizeof(id), "%u", domid);
        setenv("XENSIM_DIR", h->xs->dir, 1);
        setenv("XENSIM_DOMID", id, 1);
        unsetenv("XENSTORED_PATH");
        if (pv_platform_init(NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "agent: %s\n", err);
            _exit(3);
        }
        agent_main(sv[1]);
    }
    close(sv[1]);
    a.fd = sv[0];
    return a;
}

static inline struct agent_rep *agent_call(struct agent *a, uint32_t op, uint32_t x, uint32_t y,
                                           uint32_t z, const void *data, uint32_t len)
{
    static struct agent_cmd c;
    static struct agent_rep r;

    memset(&c, 0, sizeof(c));
    c.op = op;
    c.a = x;
    c.b = y;
    c.c = z;
    c.len = len;
    if (len)
        memcpy(c.data, data, len);
    if (send(a->fd, &c, sizeof(c), MSG_NOSIGNAL) != sizeof(c) ||
        recv(a->fd, &r, sizeof(r), 0) != sizeof(r)) {
        memset(&r, 0, sizeof(r));
        r.rc = -1;
        r.err = EPIPE; /* the agent died (its domain was destroyed?) */
    }
    return &r;
}

/* Stops the agent; its exit status (0 when it ended cleanly). */
static inline int agent_end(struct agent *a)
{
    struct agent_cmd c = {.op = AG_EXIT};
    int status = 0;

    if (send(a->fd, &c, sizeof(c), MSG_NOSIGNAL) < 0) {
        /* already gone */
    }
    close(a->fd);
    if (waitpid(a->pid, &status, 0) != a->pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
