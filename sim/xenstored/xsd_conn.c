/* Connections: accepting them, reading framed requests without ever
 * blocking, and queueing replies and watch events with bounds (a client that
 * stops reading is paused, then closed past the quotas; XSA-349). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "xsd_priv.h"
#include "xsd_util.h"

/* Requests handled per wakeup before others get their turn. */
#define BATCH 64

struct xsd_who xsd_conn_who(const struct xsd_conn *c)
{
    struct xsd_who who = {.domid = c->dom ? c->dom->domid : 0, .target = -1};

    if (c->dom)
        who.target = c->dom->target;
    return who;
}

static void set_mask(struct xsd_conn *c)
{
    uint32_t mask = 0;

    if (c->closing || !c->w)
        return;
    if (c->out_bytes < XSD_OUT_PAUSE)
        mask |= EPOLLIN;
    if (c->out)
        mask |= EPOLLOUT;
    if (mask != c->mask && pv_watch_modify(c->w, mask) == 0)
        c->mask = mask;
}

static void flush(struct xsd_conn *c)
{
    while (c->out && !c->closing) {
        struct xsd_outbuf *b = c->out;
        ssize_t n = send(c->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            xsd_conn_close(c, "write failed");
            return;
        }
        b->off += (size_t)n;
        if (b->off < b->len)
            break;
        c->out = b->next;
        if (!c->out)
            c->out_tail = NULL;
        c->out_bytes -= b->len;
        if (b->event)
            c->out_events--;
        free(b);
    }
    set_mask(c);
}

static void queue(struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                  const void *data, size_t len, bool event)
{
    struct xsd_sockmsg hdr = {.type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t)len};
    struct xsd_outbuf *b;

    if (c->closing)
        return;
    b = xsd_malloc(sizeof(*b) + sizeof(hdr) + len);
    b->next = NULL;
    b->len = sizeof(hdr) + len;
    b->off = 0;
    b->event = event;
    memcpy(b->data, &hdr, sizeof(hdr));
    if (len)
        memcpy(b->data + sizeof(hdr), data, len);
    if (c->out_tail)
        c->out_tail->next = b;
    else
        c->out = b;
    c->out_tail = b;
    c->out_bytes += b->len;
    c->out_events += event;
    flush(c);
    if (c->out_events > c->xsd->quota.events)
        xsd_conn_close(c, "too many unread watch events");
    else if (c->out_bytes > c->xsd->quota.out_bytes)
        xsd_conn_close(c, "too much unread output");
}

void xsd_conn_send(struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                   const void *data, size_t len)
{
    queue(c, type, req_id, tx_id, data, len, false);
}

void xsd_conn_send_event(struct xsd_conn *c, const char *path, const char *token)
{
    size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
    char *buf;

    /* xenstored drops an event too long to send rather than break framing. */
    if (plen + tlen > XENSTORE_PAYLOAD_MAX)
        return;
    buf = xsd_malloc(plen + tlen);
    memcpy(buf, path, plen);
    memcpy(buf + plen, token, tlen);
    queue(c, XS_WATCH_EVENT, 0, 0, buf, plen + tlen, true);
    free(buf);
}

/* Reads what is missing of the current message; true when it is complete. */
static bool read_message(struct xsd_conn *c)
{
    for (;;) {
        size_t want, have;
        char *dst;
        ssize_t n;

        if (c->got < sizeof(c->hdr)) {
            dst = (char *)&c->hdr + c->got;
            want = sizeof(c->hdr) - c->got;
        } else {
            have = c->got - sizeof(c->hdr);
            if (have == c->hdr.len)
                return true;
            dst = c->payload + have;
            want = c->hdr.len - have;
        }
        n = recv(c->fd, dst, want, MSG_DONTWAIT);
        if (n == 0) {
            xsd_conn_close(c, NULL);
            return false;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                xsd_conn_close(c, "read failed");
            return false;
        }
        c->got += (size_t)n;
        if (c->got == sizeof(c->hdr) && c->hdr.len > XENSTORE_PAYLOAD_MAX) {
            /* Framing is lost: nothing after this can be trusted. */
            xsd_conn_close(c, "message longer than XENSTORE_PAYLOAD_MAX");
            return false;
        }
    }
}

static void conn_ready(int fd, uint32_t events, void *arg)
{
    struct xsd_conn *c = arg;
    struct xsd *xsd = c->xsd;

    (void)fd;
    xsd_enter(xsd);
    if (events & EPOLLOUT)
        flush(c);
    if (events & EPOLLIN) {
        for (int i = 0; i < BATCH && !c->closing && c->out_bytes < XSD_OUT_PAUSE; i++) {
            if (!read_message(c))
                break;
            c->payload[c->hdr.len] = '\0';
            xsd_ops_handle(c);
            c->got = 0;
        }
    } else if (events & (EPOLLHUP | EPOLLERR)) {
        xsd_conn_close(c, NULL);
    }
    set_mask(c);
    xsd_leave(xsd);
}

void xsd_conn_accept(int lfd, uint32_t events, void *arg)
{
    struct xsd_domain *dom = arg;
    struct xsd *xsd = dom->xsd;
    struct xsd_conn *c;
    int fd;

    (void)events;
    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    /* A guest gets a bounded number of connections (Xen gives it one ring). */
    if (dom->domid != 0 && dom->nconns >= xsd->quota.conns) {
        pv_warn("xenstored: dom%u has %u connections, refusing another", dom->domid, dom->nconns);
        close(fd);
        return;
    }
    c = xsd_calloc(1, sizeof(*c));
    c->xsd = xsd;
    c->fd = fd;
    c->dom = dom;
    c->next_txid = 1;
    c->mask = EPOLLIN;
    c->w = pv_loop_add_fd(xsd->loop, fd, EPOLLIN, conn_ready, c);
    if (!c->w) {
        pv_warn("xenstored: cannot watch a new connection: %s", strerror(errno));
        close(fd);
        free(c);
        return;
    }
    c->next = xsd->conns;
    xsd->conns = c;
    dom->nconns++;
    pv_debug("xenstored: dom%u connected", dom->domid);
}

void xsd_conn_close(struct xsd_conn *c, const char *why)
{
    if (c->closing)
        return;
    if (why)
        pv_warn("xenstored: closing a dom%u connection: %s", c->dom ? c->dom->domid : 0, why);
    c->closing = true;
    /* The socket goes at once so the client sees EOF; watches and queue
     * stay until the reap, since a caller may be walking them now. */
    pv_watch_remove(c->w);
    c->w = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void xsd_conn_detach(struct xsd_conn *c)
{
    xsd_conn_close(c, NULL);
    xsd_watch_remove_all(c);
    xsd_conn_txns_drop(c);
    while (c->out) {
        struct xsd_outbuf *b = c->out;
        c->out = b->next;
        free(b);
    }
    c->out_tail = NULL;
    c->out_bytes = 0;
    c->out_events = 0;
    if (c->dom)
        c->dom->nconns--;
    c->dom = NULL;
}

void xsd_conn_reap(struct xsd *xsd)
{
    struct xsd_conn **pc = &xsd->conns;

    while (*pc) {
        struct xsd_conn *c = *pc;
        if (c->closing) {
            xsd_conn_detach(c);
            *pc = c->next;
            free(c);
        } else {
            pc = &c->next;
        }
    }
}
