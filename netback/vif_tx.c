/* Guest TX: frames the guest sends, to the tap. Requests are copied off the
 * ring once and validated (netif_txreq.h); packets are gathered in batches
 * whose guest data arrives in one grant copy; each frame then gets its
 * virtio_net_hdr (checksum and GSO offload), its VLAN tag, and goes to the
 * tap queue of its ring. The rate limit holds packets on the ring. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "csum_setup.h"
#include "vif.h"
#include "vlan_tag.h"

/* Room left in front of each frame for a VLAN tag. */
#define TX_HEADROOM VLAN_TAG_LEN

static void put_tx_response(struct vif_queue *q, uint16_t id, int16_t status)
{
    /* Field by field: nothing but id and status goes to the guest. */
    netif_tx_response_t *rsp = &q->tx->ring[q->tx_rsp & (VIF_TX_RING_SIZE - 1)].rsp;
    rsp->id = id;
    rsp->status = status;
    q->tx_rsp++;
}

/* One response per slot, in slot order: the first request, its extras
 * (NETIF_RSP_NULL), then the following fragments. */
static void respond_packet(struct vif_queue *q, const struct netif_txpkt *p, int16_t status)
{
    put_tx_response(q, p->frags[0].id, status);
    for (unsigned i = 0; i < p->nr_extras; i++)
        put_tx_response(q, 0, NETIF_RSP_NULL);
    for (unsigned i = 1; i < p->nr_frags; i++)
        put_tx_response(q, p->frags[i].id, status);
}

/* The slots of one packet starting at tx_cons, copied once. Returns how
 * many were copied. */
static unsigned copy_slots(struct vif_queue *q, RING_IDX prod, union netif_tx_slot *slots)
{
    unsigned avail = (unsigned)(prod - q->tx_cons), n = 0;
    if (avail > NETIF_TXREQ_MAX_SLOTS)
        avail = NETIF_TXREQ_MAX_SLOTS;
    for (; n < avail; n++) {
        RING_IDX pos = q->tx_cons + n;
        vif_take_slot(q->tx_jr, q->tx_replay_end, pos,
                      &q->tx->ring[pos & (VIF_TX_RING_SIZE - 1)].req, &slots[n], sizeof(slots[n]));
    }
    return n;
}

/* Fills the virtio header for a frame that arrived intact. Returns false
 * when the offload request cannot be honoured (the frame is dropped, as
 * Linux netback drops it when checksum setup fails). */
static bool build_vnet(const struct netif_txpkt *p, const uint8_t *frame, struct virtio_net_hdr *vh)
{
    memset(vh, 0, sizeof(*vh));
    bool gso = p->gso.type != XEN_NETIF_GSO_TYPE_NONE;
    if ((p->flags & NETTXF_csum_blank) || gso) {
        struct csum_loc loc;
        if (csum_locate(frame, p->len, &loc) < 0)
            return false;
        vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh->csum_start = loc.csum_start;
        vh->csum_offset = loc.csum_offset;
        if (gso) {
            if (loc.l4proto != 6 || loc.ipv6 != (p->gso.type == XEN_NETIF_GSO_TYPE_TCPV6))
                return false;
            vh->gso_type = loc.ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
            vh->gso_size = p->gso.size;
            vh->hdr_len = loc.hdr_len;
        }
    } else if (p->flags & NETTXF_data_validated) {
        vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    return true;
}

static void send_to_tap(struct vif_queue *q, struct vif_txpkt *tp)
{
    struct vif *v = q->vif;
    struct virtio_net_hdr vh;
    uint8_t *frame = q->tx_arena + tp->pos + TX_HEADROOM;
    if (!build_vnet(&tp->desc, frame, &vh)) {
        vif_drop(q, false);
        return;
    }
    struct vlan_frame f = {
        .data = frame, .len = tp->desc.len, .headroom = TX_HEADROOM, .vnet = &vh};
    if (vlan_tag_from_guest(&v->vlan, &f) != VLAN_PASS) {
        vif_drop(q, false);
        return;
    }
    struct iovec iov[2] = {{&vh, sizeof(vh)}, {f.data, f.len}};
    if (writev(q->tap_fd, iov, 2) != (ssize_t)(sizeof(vh) + f.len)) {
        vif_drop(q, false);
        return;
    }
    vif_count(q, false, f.len);
}

/* Runs the batch's grant copy, answers every packet, sends the good ones.
 * The answers are published before the frames go to the tap: the data is
 * ours once copied, and a tap write runs the host's whole receive path
 * (bridge, the peer's TCP), so the guest refills its ring meanwhile instead
 * of waiting for it (1 stream: 0.23-0.3 -> see the commit message). */
static void flush_batch(struct vif_queue *q, unsigned npkts, unsigned nsegs)
{
    struct vif *v = q->vif;
    if (npkts == 0)
        return;
    if (nsegs && pv_gnt_copy(v->gnt, nsegs, q->tx_segs) < 0) {
        vif_fail(v, errno, "queue %u: grant copy of guest TX data failed: %s", q->idx,
                 strerror(errno));
        return;
    }
    for (unsigned i = 0; i < npkts; i++) {
        struct vif_txpkt *tp = &q->tx_pkts[i];
        tp->copied = true;
        for (unsigned s = 0; s < tp->nsegs; s++)
            if (q->tx_segs[tp->seg0 + s].status != GNTST_okay)
                tp->copied = false;
        /* A bad grant is the guest's error on this packet only. */
        respond_packet(q, &tp->desc, tp->copied ? NETIF_RSP_OKAY : NETIF_RSP_ERROR);
    }
    vif_push_tx(q);
    for (unsigned i = 0; i < npkts; i++) {
        if (q->tx_pkts[i].copied)
            send_to_tap(q, &q->tx_pkts[i]);
        else
            vif_drop(q, false);
    }
}

static void on_credit(struct pv_timer *t, void *arg)
{
    (void)t;
    struct vif *v = arg;
    for (unsigned i = 0; i < v->nr_queues; i++)
        vif_tx_process(&v->queues[i]);
}

/* Holds the ring until the rate allows the next packet (a rate of 0 bytes:
 * until the key changes, which processes the rings again). */
static bool rate_allows(struct vif_queue *q, uint32_t len)
{
    struct vif *v = q->vif;
    if (!v->credit.usec)
        return true; /* unlimited: no clock needed */
    uint64_t now = pv_now_ms() * 1000, retry;
    if (credit_take(&v->credit, len, now, &retry))
        return true;
    if (retry == CREDIT_NEVER)
        return false;
    if (!v->credit_timer)
        v->credit_timer = pv_timer_new(v->loop, on_credit, v);
    if (v->credit_timer) {
        uint64_t ms = (retry - now + 999) / 1000;
        pv_timer_arm(v->credit_timer, ms ? ms : 1, 0);
    }
    return false;
}

/* Takes one packet's requests off the ring into the batch. Returns false
 * when the batch must be flushed first or the ring must wait. */
static bool take_packet(struct vif_queue *q, RING_IDX prod, unsigned *npkts, unsigned *nsegs,
                        size_t *pos, bool *stop)
{
    struct vif *v = q->vif;
    union netif_tx_slot slots[NETIF_TXREQ_MAX_SLOTS];
    struct netif_txpkt p;
    unsigned n = copy_slots(q, prod, slots);
    enum netif_txreq_rule rule = netif_txreq_parse(slots, n, (unsigned)(prod - q->tx_cons), &p);

    if (rule != NETIF_TXREQ_OK && netif_txreq_fatal(rule)) {
        vif_fail(v, EPROTO, "queue %u: request %u: %s", q->idx, q->tx_cons,
                 netif_txreq_strerror(rule));
        *stop = true;
        return false;
    }
    if (rule != NETIF_TXREQ_OK) {
        pv_dev_debug(v->xdev, "queue %u: %s", q->idx, netif_txreq_strerror(rule));
        respond_packet(q, &p, NETIF_RSP_ERROR);
        q->tx_cons += p.slots;
        vif_drop(q, false);
        return true;
    }
    if (p.kind != NETIF_TXREQ_PACKET) {
        int16_t st = NETIF_RSP_OKAY;
        if (p.kind == NETIF_TXREQ_MCAST_ADD)
            st = vif_mcast_add(v, p.mcast_addr) == 0 ? NETIF_RSP_OKAY : NETIF_RSP_ERROR;
        else
            vif_mcast_del(v, p.mcast_addr);
        respond_packet(q, &p, st);
        q->tx_cons += p.slots;
        return true;
    }
    size_t need = TX_HEADROOM + p.len;
    if (*npkts == VIF_BATCH_PKTS || *pos + need > VIF_TX_ARENA_BYTES)
        return false; /* flush, then come back to this packet */
    if (!rate_allows(q, p.len)) {
        *stop = true;
        return false;
    }
    struct vif_txpkt *tp = &q->tx_pkts[(*npkts)++];
    tp->desc = p;
    tp->pos = *pos;
    tp->seg0 = *nsegs;
    tp->nsegs = 0;
    size_t off = *pos + TX_HEADROOM;
    for (unsigned i = 0; i < p.nr_frags; i++) {
        if (p.frags[i].size == 0)
            continue;
        xengnttab_grant_copy_segment_t *s = &q->tx_segs[(*nsegs)++];
        memset(s, 0, sizeof(*s));
        s->source.foreign.ref = p.frags[i].gref;
        s->source.foreign.offset = p.frags[i].offset;
        s->source.foreign.domid = (uint16_t)v->domid;
        s->dest.virt = q->tx_arena + off;
        s->len = p.frags[i].size;
        s->flags = GNTCOPY_source_gref;
        off += p.frags[i].size;
        tp->nsegs++;
    }
    *pos = off;
    q->tx_cons += p.slots;
    return true;
}

void vif_tx_process(struct vif_queue *q)
{
    struct vif *v = q->vif;
    if (!q->tx || v->failed)
        return;
    for (;;) {
        RING_IDX prod = __atomic_load_n(&q->tx->req_prod, __ATOMIC_ACQUIRE);
        if (netif_tx_ring_overflow(prod, q->tx_cons)) {
            vif_fail(v, EPROTO, "queue %u: TX producer index %u is more than a ring ahead of %u",
                     q->idx, prod, q->tx_cons);
            return;
        }
        unsigned npkts = 0, nsegs = 0;
        size_t pos = 0;
        bool stop = false;
        while (q->tx_cons != prod && !stop && take_packet(q, prod, &npkts, &nsegs, &pos, &stop))
            ;
        flush_batch(q, npkts, nsegs);
        vif_push_tx(q);
        if (v->failed || stop)
            return;
        if (q->tx_cons != prod)
            continue; /* the batch was full */
        /* Ask for an event at the next request, then look once more. */
        __atomic_store_n(&q->tx->req_event, q->tx_cons + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&q->tx->req_prod, __ATOMIC_ACQUIRE) == q->tx_cons)
            return;
    }
}
