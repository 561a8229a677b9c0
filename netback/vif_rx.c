/* Guest RX: frames from the tap, into the guest's posted pages (rx-copy).
 * Frames are read into the queue's arena, filtered (VLAN, multicast),
 * matched with RX requests (one page each, plus one slot for the GSO
 * extra-info), copied with one grant copy per batch and answered in the
 * slots of the requests they used, as xen/io/netif.h requires. When the
 * guest has posted too few requests the frame waits at the arena's start
 * and the tap is not read (its kernel queue bounds what waits, and drops
 * beyond it). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "vif.h"
#include "vlan_tag.h"

#define VNET_LEN    sizeof(struct virtio_net_hdr)
#define RX_PKT_ROOM (VNET_LEN + VIF_MAX_FRAME)

int vif_mcast_add(struct vif *v, const uint8_t addr[6])
{
    for (unsigned i = 0; i < v->nr_mcast; i++)
        if (!memcmp(v->mcast[i], addr, 6))
            return 0;
    if (v->nr_mcast == VIF_MCAST_MAX)
        return -ENOSPC;
    memcpy(v->mcast[v->nr_mcast++], addr, 6);
    return 0;
}

void vif_mcast_del(struct vif *v, const uint8_t addr[6])
{
    for (unsigned i = 0; i < v->nr_mcast; i++)
        if (!memcmp(v->mcast[i], addr, 6)) {
            memmove(v->mcast[i], v->mcast[i + 1], (v->nr_mcast - i - 1) * 6);
            v->nr_mcast--;
            return;
        }
}

/* With multicast control on, multicast frames not in the list are not for
 * this guest (broadcast always is). */
static bool mcast_wanted(const struct vif *v, const uint8_t *dst)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (!v->mcast_ctrl || !(dst[0] & 1) || !memcmp(dst, bcast, 6))
        return true;
    for (unsigned i = 0; i < v->nr_mcast; i++)
        if (!memcmp(v->mcast[i], dst, 6))
            return true;
    return false;
}

/* A frame at buf (virtio header + frame, len bytes in all), filtered and
 * with its tag handled. Returns the frame's start and sets *flen, or NULL
 * to drop it. The header may be changed in place. */
static uint8_t *prepare(struct vif_queue *q, uint8_t *buf, size_t len, size_t *flen)
{
    struct vif *v = q->vif;
    if (len < VNET_LEN + 14)
        return NULL;
    struct virtio_net_hdr *vh = (struct virtio_net_hdr *)buf;
    struct vlan_frame f = {.data = buf + VNET_LEN, .len = len - VNET_LEN, .vnet = vh};
    if (vlan_tag_to_guest(&v->vlan, &f) != VLAN_PASS || !mcast_wanted(v, f.data))
        return NULL;
    bool gso = vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
    /* The tap was told what the guest takes; anything else is dropped. */
    if (gso &&
        (!v->fe_sg ||
         ((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4   ? !v->fe_gso4
          : (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6 ? !v->fe_gso6
                                                                                 : true)))
        return NULL;
    if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !v->fe_csum)
        return NULL;
    if (!v->fe_sg && f.len > PV_PAGE_SIZE)
        return NULL;
    *flen = f.len;
    return f.data;
}

/* The hash a frame gets when the guest enabled hashing (control ring). */
struct rx_hash {
    bool present;
    uint32_t value;
    uint8_t type;
};

/* RX slots a frame takes: its pages, then one per extra-info. */
static unsigned slots_for(const struct virtio_net_hdr *vh, size_t flen, const struct rx_hash *h)
{
    return (unsigned)((flen + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE) +
           (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE ? 1 : 0) + (h->present ? 1 : 0);
}

/* A packet placed in RX slots, waiting for the batch's copy. */
struct rx_placed {
    struct vif_queue *t; /* the queue whose ring it went to */
    RING_IDX first;      /* its first response slot */
    unsigned seg0, nsegs;
};

/* Takes the next RX request of t, copied once. */
static netif_rx_request_t take_request(struct vif_queue *t)
{
    netif_rx_request_t r;
    vif_take_slot(t->rx_jr, t->rx_replay_end, t->rx_cons,
                  &t->rx->ring[t->rx_cons & (VIF_RX_RING_SIZE - 1)].req, &r, sizeof(r));
    t->rx_cons++;
    return r;
}

/* The next response slot of t as an extra-info (its request used up:
 * frontends read extras in request order). */
static netif_extra_info_t *next_extra(struct vif_queue *t, uint8_t type, bool more)
{
    take_request(t);
    netif_extra_info_t *ex = (netif_extra_info_t *)&t->rx->ring[t->rx_rsp & (VIF_RX_RING_SIZE - 1)];
    t->rx_rsp++;
    memset(ex, 0, sizeof(*ex));
    ex->type = type;
    ex->flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
    return ex;
}

/* Assigns RX requests of t to the frame and writes its responses (their
 * sizes are final; a failed copy turns the first one into an error
 * later). The copy segments go to segs. */
static void place(struct vif_queue *t, const struct virtio_net_hdr *vh, const uint8_t *frame,
                  size_t flen, const struct rx_hash *h, xengnttab_grant_copy_segment_t *segs,
                  unsigned *nsegs, struct rx_placed *pl)
{
    struct vif *v = t->vif;
    bool gso = vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
    pl->t = t;
    pl->first = t->rx_rsp;
    pl->seg0 = *nsegs;
    pl->nsegs = 0;
    uint16_t csum_flags = 0;
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        csum_flags = NETRXF_csum_blank | NETRXF_data_validated;
    else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        csum_flags = NETRXF_data_validated;

    size_t done = 0;
    bool first = true;
    while (done < flen) {
        netif_rx_request_t req = take_request(t);
        size_t chunk = flen - done < PV_PAGE_SIZE ? flen - done : PV_PAGE_SIZE;
        xengnttab_grant_copy_segment_t *s = &segs[(*nsegs)++];
        memset(s, 0, sizeof(*s));
        s->source.virt = (void *)(frame + done);
        s->dest.foreign.ref = req.gref;
        s->dest.foreign.offset = 0;
        s->dest.foreign.domid = (uint16_t)v->domid;
        s->len = (uint16_t)chunk;
        s->flags = GNTCOPY_dest_gref;
        pl->nsegs++;
        done += chunk;

        netif_rx_response_t *rsp = &t->rx->ring[t->rx_rsp & (VIF_RX_RING_SIZE - 1)].rsp;
        rsp->id = req.id;
        rsp->offset = 0;
        rsp->flags =
            (uint16_t)((done < flen ? NETRXF_more_data : 0) |
                       (first ? csum_flags | (gso || h->present ? NETRXF_extra_info : 0) : 0));
        rsp->status = (int16_t)chunk;
        t->rx_rsp++;
        if (first && gso) {
            netif_extra_info_t *ex = next_extra(t, XEN_NETIF_EXTRA_TYPE_GSO, h->present);
            ex->u.gso.size = vh->gso_size;
            ex->u.gso.type = (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6
                                 ? XEN_NETIF_GSO_TYPE_TCPV6
                                 : XEN_NETIF_GSO_TYPE_TCPV4;
        }
        if (first && h->present) {
            netif_extra_info_t *ex = next_extra(t, XEN_NETIF_EXTRA_TYPE_HASH, false);
            ex->u.hash.type = h->type;
            ex->u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
            memcpy(ex->u.hash.value, &h->value, 4); /* little-endian, as on x86 */
        }
        first = false;
    }
}

/* Reads the next frame into the arena at pos. Returns its length (virtio
 * header included), 0 when the tap is empty. */
static size_t read_tap(struct vif_queue *q, size_t pos)
{
    for (;;) {
        ssize_t n = read(q->tap_fd, q->rx_arena + pos, RX_PKT_ROOM);
        if (n > 0)
            return (size_t)n;
        if (n < 0 && errno == EINTR)
            continue;
        return 0;
    }
}

static void set_tap_paused(struct vif_queue *q, bool paused)
{
    if (q->tap_paused == paused)
        return;
    q->tap_paused = paused;
    pv_watch_modify(q->tap_watch, paused ? 0 : EPOLLIN);
}

/* With hashing on, a frame goes to the queue its hash maps to (the
 * guest's choice), whichever tap queue it came from. */
static struct vif_queue *steer(struct vif_queue *q, const uint8_t *frame, size_t flen,
                               struct rx_hash *h)
{
    struct vif *v = q->vif;
    h->present = hash_frame(&v->hash, frame, flen, &h->value, &h->type);
    if (!h->present)
        return q;
    unsigned qi = hash_queue(&v->hash, h->value, v->nr_queues);
    return qi < v->nr_queues ? &v->queues[qi] : q;
}

void vif_rx_process(struct vif_queue *q)
{
    struct vif *v = q->vif;
    if (!q->rx || v->failed)
        return;
    for (;;) {
        struct rx_placed placed[VIF_BATCH_PKTS];
        unsigned npkts = 0, nsegs = 0;
        size_t pos = 0;
        size_t held_pos = 0;
        struct vif_queue *starved = NULL;
        RING_IDX starved_prod = 0;
        bool empty = false;
        while (npkts < VIF_BATCH_PKTS && pos + RX_PKT_ROOM <= VIF_ARENA_BYTES) {
            size_t len;
            if (q->rx_held) {
                len = q->rx_held;
                q->rx_held = 0;
            } else {
                len = read_tap(q, pos);
                if (!len) {
                    empty = true;
                    break;
                }
            }
            size_t flen;
            uint8_t *frame = prepare(q, q->rx_arena + pos, len, &flen);
            if (!frame) {
                vif_drop(q, true);
                continue;
            }
            const struct virtio_net_hdr *vh = (const void *)(q->rx_arena + pos);
            struct rx_hash h;
            struct vif_queue *t = steer(q, frame, flen, &h);
            RING_IDX prod = __atomic_load_n(&t->rx->req_prod, __ATOMIC_ACQUIRE);
            if ((RING_IDX)(prod - t->rx_rsp) > VIF_RX_RING_SIZE) {
                vif_fail(v, EPROTO,
                         "queue %u: RX producer index %u is more than a ring ahead of %u", t->idx,
                         prod, t->rx_rsp);
                return;
            }
            unsigned need = slots_for(vh, flen, &h);
            if (nsegs + need > VIF_RX_RING_SIZE) {
                /* This batch's copy list is full (frames may go to several
                 * rings): the frame goes first in the next batch. */
                q->rx_held = len;
                held_pos = pos;
                break;
            }
            if ((unsigned)(prod - t->rx_cons) < need) {
                /* Keep it for when the guest posts requests on t. */
                q->rx_held = len;
                held_pos = pos;
                starved = t;
                starved_prod = prod;
                break;
            }
            place(t, vh, frame, flen, &h, q->rx_segs, &nsegs, &placed[npkts++]);
            vif_count(q, true, flen);
            pos += (len + 7) & ~(size_t)7; /* the next virtio header aligned */
        }
        if (nsegs && pv_gnt_copy(v->gnt, nsegs, q->rx_segs) < 0) {
            vif_fail(v, errno, "queue %u: grant copy to guest RX pages failed: %s", q->idx,
                     strerror(errno));
            return;
        }
        /* Only now, with the batch's frames copied out, may a held frame
         * move to the arena's start (over them). */
        if (q->rx_held && held_pos)
            memmove(q->rx_arena, q->rx_arena + held_pos, q->rx_held);
        for (unsigned i = 0; i < npkts; i++)
            for (unsigned s = 0; s < placed[i].nsegs; s++)
                if (q->rx_segs[placed[i].seg0 + s].status != GNTST_okay) {
                    /* A bad page is the guest's error on this packet. */
                    placed[i].t->rx->ring[placed[i].first & (VIF_RX_RING_SIZE - 1)].rsp.status =
                        NETIF_RSP_ERROR;
                    vif_drop(q, true);
                    break;
                }
        for (unsigned i = 0; i < v->nr_queues; i++)
            vif_push_rx(&v->queues[i]);
        if (starved) {
            /* Ask for an event when requests come on that queue (which
             * then looks at every queue's held frame), and look once more. */
            set_tap_paused(q, true);
            __atomic_store_n(&starved->rx->req_event, starved->rx_cons + 1, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (__atomic_load_n(&starved->rx->req_prod, __ATOMIC_ACQUIRE) == starved_prod)
                return;
            continue;
        }
        set_tap_paused(q, false);
        if (empty)
            return;
    }
}
