/* netfront's data path: frames read from the guest's tap become TX
 * requests (one granted page per slot, GSO extra-info, checksum flags);
 * RX responses become frames written to the tap. RX requests use the
 * ring position as id and page, as Linux xen-netfront does, since a
 * backend answers each request in the slot it came in. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "csum_setup.h"
#include "netfront_priv.h"

/* Rounds of nf_poll_rings before it returns to the caller's poll(). */
#define NF_POLL_ROUNDS 16
#define VNET_LEN       sizeof(struct virtio_net_hdr)
#define MAX_FRAME      (65535u + 4u)
/* Slots one frame may need: its pages and a GSO extra-info. */
#define TX_SLOTS_MAX ((MAX_FRAME + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE + 1)

int nf_queue_setup(struct netfront *f, struct nf_queue *q, char *err, size_t errlen)
{
    uint32_t d = f->bus.backend_domid;
    q->f = f;
    q->tx = pv_gntshr_share(f->shr, d, 1, &q->tx_ref, true);
    q->rx = pv_gntshr_share(f->shr, d, 1, &q->rx_ref, true);
    /* TX pages are only read by the backend; RX pages are written. */
    q->tx_pages = pv_gntshr_share(f->shr, d, NF_TX_SIZE, q->tx_refs, false);
    q->rx_pages = pv_gntshr_share(f->shr, d, NF_RX_SIZE, q->rx_refs, true);
    if (!q->tx || !q->rx || !q->tx_pages || !q->rx_pages) {
        snprintf(err, errlen, "queue %u: sharing pages: %s", q->idx, strerror(errno));
        return -1;
    }
    /* SHARED_RING_INIT */
    memset(q->tx, 0, PV_PAGE_SIZE);
    memset(q->rx, 0, PV_PAGE_SIZE);
    q->tx->req_event = q->tx->rsp_event = 1;
    q->rx->req_event = q->rx->rsp_event = 1;
    q->tx_prod = q->tx_cons = q->rx_prod = q->rx_cons = 0;
    for (unsigned i = 0; i < NF_TX_SIZE; i++)
        q->tx_free[i] = (uint16_t)i;
    q->tx_nfree = NF_TX_SIZE;

    q->evt = pv_evtchn_open();
    int p = q->evt ? pv_evtchn_bind_unbound(q->evt, d) : -1;
    if (p < 0) {
        snprintf(err, errlen, "queue %u: event channel: %s", q->idx, strerror(errno));
        return -1;
    }
    q->tx_port = q->rx_port = (uint32_t)p;
    if (f->split) {
        p = pv_evtchn_bind_unbound(q->evt, d);
        if (p < 0) {
            snprintf(err, errlen, "queue %u: event channel: %s", q->idx, strerror(errno));
            return -1;
        }
        q->rx_port = (uint32_t)p;
    }
    return 0;
}

void nf_queue_free(struct netfront *f, struct nf_queue *q)
{
    if (q->evt)
        pv_evtchn_close(q->evt);
    /* Unsharing fails while the backend still maps a page: that is the
     * backend's bug, and the pages then stay (as in a guest kernel). */
    if (q->tx)
        pv_gntshr_unshare(f->shr, q->tx, 1);
    if (q->rx)
        pv_gntshr_unshare(f->shr, q->rx, 1);
    if (q->tx_pages)
        pv_gntshr_unshare(f->shr, q->tx_pages, NF_TX_SIZE);
    if (q->rx_pages)
        pv_gntshr_unshare(f->shr, q->rx_pages, NF_RX_SIZE);
    if (q->tap_fd > 0)
        close(q->tap_fd);
    memset(q, 0, sizeof(*q));
}

/* Publishes requests; notifies when the backend asked for it. */
static void push_requests(RING_IDX *shared_prod, RING_IDX *shared_event, RING_IDX now,
                          struct pv_evtchn *evt, uint32_t port)
{
    RING_IDX old = __atomic_load_n(shared_prod, __ATOMIC_RELAXED);
    if (old == now)
        return;
    __atomic_store_n(shared_prod, now, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    RING_IDX event = __atomic_load_n(shared_event, __ATOMIC_RELAXED);
    if ((RING_IDX)(now - event) < (RING_IDX)(now - old))
        pv_evtchn_notify(evt, port);
}

void nf_rx_fill(struct nf_queue *q)
{
    while ((RING_IDX)(q->rx_prod - q->rx_cons) < NF_RX_SIZE) {
        unsigned id = q->rx_prod & (NF_RX_SIZE - 1);
        netif_rx_request_t *req = &q->rx->ring[id].req;
        req->id = (uint16_t)id;
        req->pad = 0;
        req->gref = q->rx_refs[id];
        q->rx_prod++;
    }
    push_requests(&q->rx->req_prod, &q->rx->req_event, q->rx_prod, q->evt, q->rx_port);
}

static netif_tx_request_t *next_tx_slot(struct nf_queue *q)
{
    return &q->tx->ring[q->tx_prod++ & (NF_TX_SIZE - 1)].req;
}

/* Pages a TX frame can fill. */
#define TX_PAGES_MAX ((MAX_FRAME + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE)

/* The frame just read into the pages of the top free ids goes onto the TX
 * ring (ids popped in the order the pages were filled). */
static void queue_frame(struct nf_queue *q, const struct virtio_net_hdr *vh, size_t flen)
{
    bool gso = vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
    unsigned npages = (unsigned)((flen + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE);
    uint16_t flags = 0;
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        flags |= NETTXF_csum_blank | NETTXF_data_validated;
    else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        flags |= NETTXF_data_validated;

    for (unsigned i = 0; i < npages; i++) {
        uint16_t id = q->tx_free[--q->tx_nfree];
        size_t off = (size_t)i * PV_PAGE_SIZE;
        size_t chunk = flen - off < PV_PAGE_SIZE ? flen - off : PV_PAGE_SIZE;
        netif_tx_request_t *req = next_tx_slot(q);
        req->gref = q->tx_refs[id];
        req->offset = 0;
        req->id = id;
        req->flags = (uint16_t)((i + 1 < npages ? NETTXF_more_data : 0) |
                                (i == 0 ? flags | (gso ? NETTXF_extra_info : 0) : 0));
        req->size = (uint16_t)(i == 0 ? flen : chunk);
        if (i == 0 && gso) {
            netif_extra_info_t *ex = (netif_extra_info_t *)next_tx_slot(q);
            memset(ex, 0, sizeof(netif_tx_request_t));
            ex->type = XEN_NETIF_EXTRA_TYPE_GSO;
            ex->u.gso.size = vh->gso_size;
            ex->u.gso.type = (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6
                                 ? XEN_NETIF_GSO_TYPE_TCPV6
                                 : XEN_NETIF_GSO_TYPE_TCPV4;
        }
    }
}

void nf_mcast_add(struct nf_queue *q, const uint8_t addr[6])
{
    uint16_t id = q->tx_free[--q->tx_nfree];
    netif_tx_request_t *req = next_tx_slot(q);
    req->gref = q->tx_refs[id];
    req->offset = 0;
    req->id = id;
    req->flags = NETTXF_extra_info;
    req->size = 0;
    netif_extra_info_t *ex = (netif_extra_info_t *)next_tx_slot(q);
    memset(ex, 0, sizeof(netif_tx_request_t));
    ex->type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
    memcpy(ex->u.mcast.addr, addr, 6);
    push_requests(&q->tx->req_prod, &q->tx->req_event, q->tx_prod, q->evt, q->tx_port);
}

bool nf_tx_room(const struct nf_queue *q)
{
    return q->tx_nfree >= TX_SLOTS_MAX && NF_TX_SIZE - (q->tx_prod - q->tx_cons) >= TX_SLOTS_MAX;
}

int nf_tx_from_tap(struct nf_queue *q, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    int frames = 0;
    /* Room for the largest frame in ids and in ring slots, else wait. The
     * frame is read straight into the granted pages of the ids it will use
     * (as a guest kernel grants the skb's own pages: no copy here). */
    while (nf_tx_room(q)) {
        struct virtio_net_hdr vh;
        struct iovec iov[1 + TX_PAGES_MAX];
        iov[0] = (struct iovec){&vh, VNET_LEN};
        for (unsigned i = 0; i < TX_PAGES_MAX; i++) {
            uint16_t id = q->tx_free[q->tx_nfree - 1 - i];
            iov[1 + i] = (struct iovec){q->tx_pages + (size_t)id * PV_PAGE_SIZE, PV_PAGE_SIZE};
        }
        ssize_t n = readv(q->tap_fd, iov, 1 + TX_PAGES_MAX);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= (ssize_t)(VNET_LEN + 14) || n > (ssize_t)(VNET_LEN + 65535))
            break; /* empty (or a frame the ring cannot carry: dropped) */
        queue_frame(q, &vh, (size_t)n - VNET_LEN);
        /* Each frame at once: the backend copies it while we read the
         * next (it notifies only when the backend asked, once per idle). */
        push_requests(&q->tx->req_prod, &q->tx->req_event, q->tx_prod, q->evt, q->tx_port);
        frames++;
    }
    return frames;
}

static int tx_responses(struct nf_queue *q, char *err, size_t errlen)
{
    int done = 0;
    for (;;) {
        RING_IDX prod = __atomic_load_n(&q->tx->rsp_prod, __ATOMIC_ACQUIRE);
        if ((RING_IDX)(prod - q->tx_cons) > (RING_IDX)(q->tx_prod - q->tx_cons)) {
            snprintf(err, errlen, "queue %u: TX response index %u past the requests (%u)", q->idx,
                     prod, q->tx_prod);
            return -1;
        }
        while (q->tx_cons != prod) {
            netif_tx_response_t rsp = q->tx->ring[q->tx_cons & (NF_TX_SIZE - 1)].rsp;
            q->tx_cons++;
            if (rsp.status == NETIF_RSP_NULL)
                continue;
            if (rsp.id >= NF_TX_SIZE || q->tx_nfree >= NF_TX_SIZE) {
                snprintf(err, errlen, "queue %u: TX response with bad id %u", q->idx, rsp.id);
                return -1;
            }
            q->tx_free[q->tx_nfree++] = rsp.id;
            done++;
        }
        __atomic_store_n(&q->tx->rsp_event, q->tx_cons + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&q->tx->rsp_prod, __ATOMIC_ACQUIRE) == q->tx_cons)
            return done;
    }
}

/* A received frame, as the slices of RX pages it lies in. */
struct rx_frame {
    struct iovec iov[1 + NF_RX_SIZE]; /* [0]: the virtio header */
    unsigned n;
    size_t len;
};

/* Writes one received frame to the tap, straight from the RX pages, with
 * the offload information its responses carried. Its headers are in the
 * first slice (a backend fills the first page first). */
static void deliver(struct nf_queue *q, struct rx_frame *fr, uint16_t flags,
                    const netif_extra_info_t *gso)
{
    struct virtio_net_hdr vh;
    memset(&vh, 0, sizeof(vh));
    const uint8_t *head = fr->iov[1].iov_base;
    size_t head_len = fr->iov[1].iov_len;
    struct csum_loc loc;
    if ((flags & NETRXF_csum_blank) && csum_locate(head, head_len, &loc) == 0) {
        vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh.csum_start = loc.csum_start;
        vh.csum_offset = loc.csum_offset;
        if (gso) {
            vh.gso_type = gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6 ? VIRTIO_NET_HDR_GSO_TCPV6
                                                                      : VIRTIO_NET_HDR_GSO_TCPV4;
            vh.gso_size = gso->u.gso.size;
            vh.hdr_len = loc.hdr_len;
        }
    } else if (flags & (NETRXF_data_validated | NETRXF_csum_blank)) {
        vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    fr->iov[0] = (struct iovec){&vh, VNET_LEN};
    if (writev(q->tap_fd, fr->iov, (int)fr->n) < 0) {
        /* the guest's stack did not take it: a drop, as on a real NIC */
    }
}

/* With the control ring in use: counts the frame (its first response at
 * index at), and whether its hash and its queue are what our configuration
 * says, once that configuration is known to be in effect. */
static void check_hash(struct nf_queue *q, RING_IDX at, const uint8_t *frame, size_t flen,
                       const netif_extra_info_t *ex)
{
    struct netfront *f = q->f;
    q->rx_frames++;
    if (!f->ctrl_on || (int32_t)(at - q->rx_hash_from) < 0)
        return;
    uint32_t want;
    uint8_t type;
    bool hashed = hash_frame(&f->hash, frame, flen, &want, &type);
    if (!ex) {
        if (hashed)
            q->rx_hash_wrong++; /* a hash was due */
        return;
    }
    q->rx_hashed++;
    uint32_t got;
    memcpy(&got, ex->u.hash.value, 4);
    if (!hashed || got != want || ex->u.hash.type != type ||
        ex->u.hash.algorithm != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
        q->rx_hash_wrong++;
    if (hashed && hash_queue(&f->hash, want, f->nq) != q->idx)
        q->rx_misrouted++;
}

static int rx_responses(struct nf_queue *q, char *err, size_t errlen)
{
    static struct rx_frame fr;
    int done = 0;
    for (;;) {
        RING_IDX prod = __atomic_load_n(&q->rx->rsp_prod, __ATOMIC_ACQUIRE);
        if ((RING_IDX)(prod - q->rx_cons) > (RING_IDX)(q->rx_prod - q->rx_cons)) {
            snprintf(err, errlen, "queue %u: RX response index %u past the requests (%u)", q->idx,
                     prod, q->rx_prod);
            return -1;
        }
        /* Whole packets only: a packet's slots are pushed together. Its
         * pages go to the tap before they are posted again. */
        while (q->rx_cons != prod) {
            uint16_t first_flags = 0;
            netif_extra_info_t gso, hash;
            bool has_gso = false, has_hash = false, more = true, first = true, bad = false;
            fr.n = 1;
            fr.len = 0;
            RING_IDX at = q->rx_cons;
            while (more) {
                if (q->rx_cons == prod) {
                    snprintf(err, errlen, "queue %u: RX packet cut at response %u", q->idx, prod);
                    return -1;
                }
                unsigned slot = q->rx_cons & (NF_RX_SIZE - 1);
                netif_rx_response_t rsp = q->rx->ring[slot].rsp;
                q->rx_cons++;
                if (rsp.status < 0 || rsp.offset + (unsigned)rsp.status > PV_PAGE_SIZE ||
                    fr.len + (unsigned)rsp.status > MAX_FRAME || fr.n > NF_RX_SIZE) {
                    bad = true;
                } else {
                    fr.iov[fr.n++] = (struct iovec){
                        q->rx_pages + (size_t)slot * PV_PAGE_SIZE + rsp.offset, (size_t)rsp.status};
                    fr.len += (size_t)rsp.status;
                }
                more = rsp.flags & NETRXF_more_data;
                if (first) {
                    first_flags = rsp.flags;
                    if (rsp.flags & NETRXF_extra_info) {
                        /* Extras follow in the next slots. */
                        netif_extra_info_t ex;
                        do {
                            if (q->rx_cons == prod) {
                                snprintf(err, errlen, "queue %u: RX extra-info missing", q->idx);
                                return -1;
                            }
                            memcpy(&ex, &q->rx->ring[q->rx_cons & (NF_RX_SIZE - 1)], sizeof(ex));
                            q->rx_cons++;
                            if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
                                gso = ex;
                                has_gso = true;
                            } else if (ex.type == XEN_NETIF_EXTRA_TYPE_HASH) {
                                hash = ex;
                                has_hash = true;
                            }
                        } while (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE);
                    }
                }
                first = false;
            }
            if (!bad && fr.n > 1 && fr.len >= 14) {
                check_hash(q, at, fr.iov[1].iov_base, fr.iov[1].iov_len, has_hash ? &hash : NULL);
                deliver(q, &fr, first_flags, has_gso ? &gso : NULL);
            }
            done++;
        }
        nf_rx_fill(q);
        __atomic_store_n(&q->rx->rsp_event, q->rx_cons + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&q->rx->rsp_prod, __ATOMIC_ACQUIRE) == q->rx_cons)
            return done;
    }
}

int nf_poll_rings(struct nf_queue *q, char *err, size_t errlen)
{
    /* Round after round until one finds nothing to do: delivering ACKs to
     * the tap lets the guest's TCP queue more frames at once, and answers
     * come back while we read, so a return to poll() would find work. A
     * bound keeps the other queues and the caller's checks served. */
    for (unsigned round = 0; round < NF_POLL_ROUNDS; round++) {
        int t = tx_responses(q, err, errlen);
        int r = t < 0 ? -1 : rx_responses(q, err, errlen);
        int f = r < 0 ? -1 : nf_tx_from_tap(q, err, errlen);
        if (f < 0)
            return -1;
        if (t + r + f == 0)
            break;
    }
    return 0;
}
