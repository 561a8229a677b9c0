/* Event channels: Xen's common/event_channel.c port states (unbound,
 * interdomain), seen through Linux's /dev/xen/evtchn. The daemon owns the
 * states and validates bind, unbind and close; delivery bypasses it:
 * pending and mask bits live in each handle's shared pages and a doorbell
 * eventfd wakes the owner (hv_proto.h, "Event channels"), so a notify costs
 * the notifier one atomic operation and at most one eventfd write, as on Xen
 * it costs one hypercall.
 *  - bind_interdomain leaves the new local port pending (Xen does so because
 *    notifications sent to the unbound port may have been lost), so the
 *    binder sees one event right away;
 *  - closing a port (unbind, handle closed, domain destroyed) turns an
 *    interdomain peer back into an unbound port waiting for the closer's
 *    domain, as Xen's evtchn_close does; the peer's link word changes, so
 *    its notifies then go nowhere. */
#include "hv_internal.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define DOMID_SELF_ 0x7ff0u

static struct hv_port *port_of(struct hv_domain *d, uint32_t port)
{
    return port > 0 && port < HV_MAX_PORTS ? &d->ports[port] : NULL;
}

/* Publishes a port's new connection state to its owner's control page; a
 * fresh generation tells the owner's client that its cached peer is stale. */
static void link_set(struct hv_domain *d, uint32_t port)
{
    struct hv_port *p = &d->ports[port];
    uint32_t word = 0;

    if (!p->owner)
        return;
    if (p->state != HV_PORT_FREE) {
        d->hv->link_gen = (d->hv->link_gen + 1) & 0x7fffffffu;
        if (d->hv->link_gen == 0)
            d->hv->link_gen = 1;
        word = d->hv->link_gen << 1 | (p->state == HV_PORT_INTERDOMAIN ? HV_EV_LINK_CONNECTED : 0);
    }
    __atomic_store_n(&p->owner->ev_ctl->link[port], word, __ATOMIC_RELEASE);
}

/* A port starts (and ends) neither pending, masked nor ready. */
static void bits_clear(struct hv_conn *c, uint32_t port)
{
    uint64_t bit = 1ull << (port % 64);

    __atomic_fetch_and(&c->ev_sh->pending[port / 64], ~bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&c->ev_sh->mask[port / 64], ~bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&c->ev_sh->ready[port / 64], ~bit, __ATOMIC_SEQ_CST);
}

bool hv_evtchn_port_bit(const struct hv_port *p, uint32_t port, bool mask)
{
    const uint64_t *w;

    if (!p->owner || !p->owner->ev_sh)
        return false;
    w = mask ? &p->owner->ev_sh->mask[port / 64] : &p->owner->ev_sh->pending[port / 64];
    return __atomic_load_n(w, __ATOMIC_ACQUIRE) & (1ull << (port % 64));
}

static int alloc_port(struct hv_domain *d, struct hv_conn *c, uint32_t *port)
{
    for (uint32_t i = 1; i < HV_MAX_PORTS; i++) {
        if (d->ports[i].state == HV_PORT_FREE) {
            memset(&d->ports[i], 0, sizeof(d->ports[i]));
            d->ports[i].owner = c;
            bits_clear(c, i);
            d->ports_used++;
            c->ports++;
            *port = i;
            return 0;
        }
    }
    return ENOSPC;
}

static void close_port(struct hv_domain *d, uint32_t port)
{
    struct hv_port *p = &d->ports[port];

    if (p->state == HV_PORT_INTERDOMAIN) {
        struct hv_domain *rd = hv_domain_find(d->hv, p->remote_domid);
        struct hv_port *rp = rd ? port_of(rd, p->remote_port) : NULL;
        if (rp && rp->state == HV_PORT_INTERDOMAIN && rp->remote_domid == d->domid &&
            rp->remote_port == port) {
            rp->state = HV_PORT_UNBOUND;
            rp->remote_domid = (uint16_t)d->domid;
            rp->remote_port = 0;
            link_set(rd, p->remote_port);
        }
    }
    p->state = HV_PORT_FREE;
    if (p->owner) {
        link_set(d, port);
        bits_clear(p->owner, port);
        p->owner->ports--;
    }
    memset(p, 0, sizeof(*p));
    d->ports_used--;
}

static unsigned resolve_domid(struct hv_conn *c, uint32_t domid)
{
    return domid == DOMID_SELF_ ? c->dom->domid : domid;
}

/* HV_OP_EV_PEER: the pages and doorbell of the handle at the other end. */
static size_t ev_peer(struct hv_conn *c, uint32_t port, int *fds, unsigned *nfds)
{
    struct hv *hv = c->hv;
    struct hv_port *p = port_of(c->dom, port), *rp;
    struct hv_domain *rd;
    struct hv_conn *rc;
    uint64_t *id = hv_rep_items(hv);

    if (!p || p->owner != c || p->state != HV_PORT_INTERDOMAIN)
        return hv_reply(hv, ENOTCONN, 0, 0, 0, 0);
    rd = hv_domain_find(hv, p->remote_domid);
    rp = rd ? port_of(rd, p->remote_port) : NULL;
    if (!rp || rp->state != HV_PORT_INTERDOMAIN || !rp->owner || !rp->owner->ev_sh)
        return hv_reply(hv, ENOTCONN, 0, 0, 0, 0);
    rc = rp->owner;
    *id = rc->id;
    fds[0] = rc->ev_fds[0];
    fds[1] = rc->ev_fds[2];
    *nfds = 2;
    return hv_reply(hv, 0, p->remote_port, c->ev_ctl->link[port], 1, sizeof(*id));
}

size_t hv_evtchn_op(struct hv_conn *c, const struct hv_req *req, int *fds, unsigned *nfds)
{
    struct hv *hv = c->hv;
    struct hv_domain *d = c->dom;
    uint32_t lport;
    int err;

    switch (req->op) {
    case HV_OP_BIND_UNBOUND: {
        unsigned rdomid = resolve_domid(c, req->arg[0]);
        if (rdomid >= DOMID_FIRST_RESERVED)
            return hv_reply(hv, EINVAL, 0, 0, 0, 0);
        err = alloc_port(d, c, &lport);
        if (err)
            return hv_reply(hv, err, 0, 0, 0, 0);
        d->ports[lport].state = HV_PORT_UNBOUND;
        d->ports[lport].remote_domid = (uint16_t)rdomid;
        link_set(d, lport);
        return hv_reply(hv, 0, lport, 0, 0, 0);
    }
    case HV_OP_BIND_INTERDOMAIN: {
        struct hv_domain *rd = hv_domain_find(hv, resolve_domid(c, req->arg[0]));
        struct hv_port *rp;
        if (!rd)
            return hv_reply(hv, ESRCH, 0, 0, 0, 0);
        rp = port_of(rd, req->arg[1]);
        if (!rp || rp->state != HV_PORT_UNBOUND || rp->remote_domid != d->domid)
            return hv_reply(hv, EINVAL, 0, 0, 0, 0);
        err = alloc_port(d, c, &lport);
        if (err)
            return hv_reply(hv, err, 0, 0, 0, 0);
        d->ports[lport].state = HV_PORT_INTERDOMAIN;
        d->ports[lport].remote_domid = (uint16_t)rd->domid;
        d->ports[lport].remote_port = req->arg[1];
        rp->state = HV_PORT_INTERDOMAIN;
        rp->remote_domid = (uint16_t)d->domid;
        rp->remote_port = lport;
        link_set(d, lport);
        link_set(rd, req->arg[1]);
        hv_ev_raise(c->ev_sh, lport, c->ev_fds[2]);
        return hv_reply(hv, 0, lport, 0, 0, 0);
    }
    case HV_OP_UNBIND: {
        struct hv_port *p = port_of(d, req->arg[0]);
        if (!p || p->state == HV_PORT_FREE)
            return hv_reply(hv, EINVAL, 0, 0, 0, 0);
        if (p->owner != c)
            return hv_reply(hv, ENOTCONN, 0, 0, 0, 0);
        close_port(d, req->arg[0]);
        return hv_reply(hv, 0, 0, 0, 0, 0);
    }
    case HV_OP_EV_PEER:
        return ev_peer(c, req->arg[0], fds, nfds);
    }
    return hv_reply(hv, EINVAL, 0, 0, 0, 0);
}

static void *map_shared(int fd, size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

int hv_evtchn_conn_open(struct hv_conn *c)
{
    unsigned domid = c->dom->domid;
    int ctl_fd;

    c->id = ++c->hv->next_conn_id;
    c->ev_fds[0] = hv_memfd("evtchn-shared", domid, HV_EV_SHARED_SIZE);
    c->ev_fds[2] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->ev_fds[0] < 0 || c->ev_fds[2] < 0)
        return errno;
    c->ev_sh = map_shared(c->ev_fds[0], HV_EV_SHARED_SIZE);
    if (!c->ev_sh)
        return errno;
    /* Only the daemon writes the control page: the owner gets it read-only. */
    ctl_fd = hv_memfd("evtchn-ctl", domid, HV_EV_CTL_SIZE);
    if (ctl_fd < 0)
        return errno;
    c->ev_ctl = map_shared(ctl_fd, HV_EV_CTL_SIZE);
    c->ev_fds[1] = c->ev_ctl ? hv_reopen_ro(ctl_fd) : -1;
    close(ctl_fd);
    if (c->ev_fds[1] < 0)
        return errno ? errno : ENOMEM;
    return 0;
}

void hv_evtchn_conn_closed(struct hv_conn *c)
{
    for (uint32_t i = 1; i < HV_MAX_PORTS && c->ports; i++)
        if (c->dom->ports[i].state != HV_PORT_FREE && c->dom->ports[i].owner == c)
            close_port(c->dom, i);
    if (c->ev_ctl) {
        /* The owner, if still there (its domain was destroyed), wakes and
         * learns from pending() that the handle is gone. */
        __atomic_store_n(&c->ev_ctl->closed, 1, __ATOMIC_RELEASE);
        if (c->ev_fds[2] >= 0)
            hv_ev_ring(c->ev_fds[2]);
        munmap(c->ev_ctl, HV_EV_CTL_SIZE);
    }
    if (c->ev_sh)
        munmap(c->ev_sh, HV_EV_SHARED_SIZE);
    c->ev_ctl = NULL;
    c->ev_sh = NULL;
    for (int i = 0; i < 3; i++) {
        if (c->ev_fds[i] >= 0)
            close(c->ev_fds[i]);
        c->ev_fds[i] = -1;
    }
}

void hv_evtchn_domain_closed(struct hv_domain *d)
{
    for (uint32_t i = 1; i < HV_MAX_PORTS; i++)
        if (d->ports[i].state != HV_PORT_FREE)
            close_port(d, i);
}
