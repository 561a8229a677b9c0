/* Event channels: Xen's common/event_channel.c port states (unbound,
 * interdomain) and pending bits, seen through Linux's /dev/xen/evtchn:
 *  - an event on a port that is not masked is delivered to the handle that
 *    bound it (one uint32 on its event socket) and masks the port, clearing
 *    its pending bit, as the evtchn driver's interrupt handler does;
 *  - an event while masked only sets pending; more coalesce into it;
 *  - unmask delivers again at once if the port became pending meanwhile;
 *  - bind_interdomain leaves the new local port pending (Xen does so because
 *    notifications sent to the unbound port may have been lost), so the
 *    binder sees one event right away;
 *  - closing a port (unbind, handle closed, domain destroyed) turns an
 *    interdomain peer back into an unbound port waiting for the closer's
 *    domain, as Xen's evtchn_close does; notifies on it then go nowhere. */
#include "hv_internal.h"

#include "log.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DOMID_SELF_ 0x7ff0u

static struct hv_port *port_of(struct hv_domain *d, uint32_t port)
{
    return port > 0 && port < HV_MAX_PORTS ? &d->ports[port] : NULL;
}

static void evq_remove(struct hv_conn *c, uint32_t port)
{
    for (unsigned i = 0; i < c->evq_len; i++) {
        if (c->evq[i] == port) {
            memmove(&c->evq[i], &c->evq[i + 1], (c->evq_len - i - 1) * sizeof(uint32_t));
            c->evq_len--;
            return;
        }
    }
}

static void ev_writable(int fd, uint32_t events, void *arg);

/* Sends queued ports while the socket has room. */
static void evq_flush(struct hv_conn *c)
{
    unsigned sent = 0;

    while (sent < c->evq_len) {
        uint32_t port = c->evq[sent];
        if (send(c->ev_fd, &port, sizeof(port), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
                break;
            sent = c->evq_len; /* the client closed its end: nobody to tell */
            break;
        }
        sent++;
    }
    for (unsigned i = 0; i < sent && i < c->evq_len; i++)
        c->dom->ports[c->evq[i]].queued = false;
    memmove(c->evq, c->evq + sent, (c->evq_len - sent) * sizeof(uint32_t));
    c->evq_len -= sent;
    if (c->evq_len && !c->ev_w)
        c->ev_w = pv_loop_add_fd(c->hv->loop, c->ev_fd, EPOLLOUT, ev_writable, c);
    else if (!c->evq_len && c->ev_w) {
        pv_watch_remove(c->ev_w);
        c->ev_w = NULL;
    }
}

static void ev_writable(int fd, uint32_t events, void *arg)
{
    (void)fd;
    (void)events;
    evq_flush(arg);
}

/* Delivery to the bound handle: mask, clear pending, queue the port. */
static void fire(struct hv_domain *d, uint32_t port)
{
    struct hv_port *p = &d->ports[port];
    struct hv_conn *c = p->owner;

    p->masked = true;
    p->pending = false;
    if (!c || c->ev_fd < 0 || p->queued)
        return;
    p->queued = true;
    c->evq[c->evq_len++] = port; /* at most one entry per port: fits */
    evq_flush(c);
}

static void set_pending(struct hv_domain *d, uint32_t port)
{
    struct hv_port *p = &d->ports[port];

    if (p->pending)
        return; /* coalesced */
    p->pending = true;
    if (!p->masked)
        fire(d, port);
}

static int alloc_port(struct hv_domain *d, struct hv_conn *c, uint32_t *port)
{
    for (uint32_t i = 1; i < HV_MAX_PORTS; i++) {
        if (d->ports[i].state == HV_PORT_FREE) {
            memset(&d->ports[i], 0, sizeof(d->ports[i]));
            d->ports[i].owner = c;
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
        }
    }
    if (p->owner) {
        if (p->queued)
            evq_remove(p->owner, port);
        p->owner->ports--;
    }
    memset(p, 0, sizeof(*p));
    d->ports_used--;
}

static unsigned resolve_domid(struct hv_conn *c, uint32_t domid)
{
    return domid == DOMID_SELF_ ? c->dom->domid : domid;
}

size_t hv_evtchn_op(struct hv_conn *c, const struct hv_req *req)
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
        set_pending(d, lport);
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
    }
    return hv_reply(hv, EINVAL, 0, 0, 0, 0);
}

void hv_evtchn_notify(struct hv_conn *c, uint32_t port)
{
    struct hv_port *p = port_of(c->dom, port);
    struct hv_domain *rd;

    if (!p || p->owner != c) {
        pv_debug("hv: d%u notify on port %u it has not bound", c->dom->domid, port);
        return;
    }
    if (p->state != HV_PORT_INTERDOMAIN)
        return; /* unbound (peer gone or not yet there): dropped, as on Xen */
    rd = hv_domain_find(c->hv, p->remote_domid);
    if (rd)
        set_pending(rd, p->remote_port);
}

void hv_evtchn_unmask(struct hv_conn *c, uint32_t port)
{
    struct hv_port *p = port_of(c->dom, port);

    if (!p || p->owner != c)
        return;
    p->masked = false;
    if (p->pending)
        fire(c->dom, port);
}

int hv_evtchn_conn_open(struct hv_conn *c, int *client_fd)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return errno;
    /* The daemon only writes its end; what a client writes there is
     * refused at once instead of piling up. */
    shutdown(sv[0], SHUT_RD);
    c->ev_fd = sv[0];
    *client_fd = sv[1];
    return 0;
}

void hv_evtchn_conn_closed(struct hv_conn *c)
{
    for (uint32_t i = 1; i < HV_MAX_PORTS && c->ports; i++)
        if (c->dom->ports[i].state != HV_PORT_FREE && c->dom->ports[i].owner == c)
            close_port(c->dom, i);
    if (c->ev_w)
        pv_watch_remove(c->ev_w);
    c->ev_w = NULL;
    if (c->ev_fd >= 0)
        close(c->ev_fd);
    c->ev_fd = -1;
    c->evq_len = 0;
}

void hv_evtchn_domain_closed(struct hv_domain *d)
{
    for (uint32_t i = 1; i < HV_MAX_PORTS; i++)
        if (d->ports[i].state != HV_PORT_FREE)
            close_port(d, i);
}
