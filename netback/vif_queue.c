/* One queue of a vif: mapping its TX and RX rings, binding its event
 * channel(s), watching its tap queue, and publishing responses with the
 * notification rules of xen/io/ring.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

#include "vif.h"

void vif_fail(struct vif *v, int err, const char *fmt, ...)
{
    if (v->failed)
        return;
    v->failed = true;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pv_xenbus_dev_fatal(v->xdev, err, "%s", msg);
}

/* Responses are visible before the index that publishes them; the guest is
 * notified only when the index passes its rsp_event. */
static bool push(RING_IDX *shared_prod, RING_IDX *shared_event, RING_IDX now)
{
    RING_IDX old = __atomic_load_n(shared_prod, __ATOMIC_RELAXED);
    __atomic_store_n(shared_prod, now, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    RING_IDX event = __atomic_load_n(shared_event, __ATOMIC_RELAXED);
    return (RING_IDX)(now - event) < (RING_IDX)(now - old);
}

void vif_push_tx(struct vif_queue *q)
{
    if (q->vif->failed || q->tx->rsp_prod == q->tx_rsp)
        return;
    if (push(&q->tx->rsp_prod, &q->tx->rsp_event, q->tx_rsp))
        pv_evtchn_notify(q->evt, q->tx_port);
}

void vif_push_rx(struct vif_queue *q)
{
    if (q->vif->failed || q->rx->rsp_prod == q->rx_rsp)
        return;
    if (push(&q->rx->rsp_prod, &q->rx->rsp_event, q->rx_rsp))
        pv_evtchn_notify(q->evt, q->rx_port);
}

void vif_queue_kick_adopted(struct vif_queue *q)
{
    /* Rings in use before this process (a restart): the predecessor may
     * have died between publishing responses and notifying, and the guest
     * would wait for that event forever. One event more is harmless. */
    if (q->vif->failed || (!q->tx_rsp && !q->rx_rsp && !q->tx->req_prod && !q->rx->req_prod))
        return;
    pv_evtchn_notify(q->evt, q->tx_port);
    if (q->rx_port != q->tx_port)
        pv_evtchn_notify(q->evt, q->rx_port);
}

/* Either direction may have work: new TX requests, or RX requests that let
 * held frames go — held by any queue, since frames are steered to the queue
 * the guest's hash mapping names. All cheap to check. */
static void process(struct vif_queue *q)
{
    vif_tx_process(q);
    for (unsigned i = 0; i < q->vif->nr_queues; i++)
        vif_rx_process(&q->vif->queues[i]);
}

/* Event storms (XSA-332, evtchn_storm.h): a frontend that notifies without
 * posting TX or RX requests has its ports left masked PV_STORM_PAUSE_MS at a
 * time; the tap and the other queues are served meanwhile. */
static void storm_over(void *arg)
{
    struct vif_queue *q = arg;
    pv_evtchn_unmask(q->evt, q->tx_port);
    if (q->rx_port != q->tx_port)
        pv_evtchn_unmask(q->evt, q->rx_port);
    process(q);
}

static void on_event(int fd, uint32_t events, void *arg)
{
    (void)fd;
    (void)events;
    struct vif_queue *q = arg;
    int port, pending[2];
    unsigned n = 0;
    while ((port = pv_evtchn_pending(q->evt)) >= 0)
        if (n < 2)
            pending[n++] = port;
    if (!n || q->storm.throttled)
        return; /* masked until storm_over */
    RING_IDX tp = __atomic_load_n(&q->tx->req_prod, __ATOMIC_ACQUIRE);
    RING_IDX rp = __atomic_load_n(&q->rx->req_prod, __ATOMIC_ACQUIRE);
    bool produced = tp != q->tx_prod_seen || rp != q->rx_prod_seen;
    q->tx_prod_seen = tp;
    q->rx_prod_seen = rp;
    /* Unmasked before the rings are read: a request queued meanwhile
     * raises the event again. */
    if (!pv_storm_hold(&q->storm, produced))
        for (unsigned i = 0; i < n; i++)
            pv_evtchn_unmask(q->evt, (uint32_t)pending[i]);
    process(q);
}

static void on_tap(int fd, uint32_t events, void *arg)
{
    (void)fd;
    (void)events;
    vif_rx_process(arg);
}

static int read_port(struct vif *v, const char *dir, const char *key, uint32_t *out)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(v->xdev);
    unsigned p;
    if (pv_xs_read_uint(xs, XBT_NULL, dir, key, 1, UINT32_MAX, &p) < 0)
        return -1;
    *out = p;
    return 0;
}

void vif_take_slot(struct pv_journal *jr, RING_IDX replay_end, RING_IDX pos,
                   const volatile void *src, void *dst, size_t size)
{
    if (jr && (int32_t)(replay_end - pos) > 0 && pv_journal_get(jr, pos, dst))
        return;
    memcpy(dst, (const void *)src, size);
    if (jr)
        pv_journal_put(jr, pos, dst);
}

/* One journal per ring, keyed by the connection (ring references), so that
 * a new connection never replays an older one's records. Positions from the
 * responses to the producer (BACK_RING_ATTACH's window, checked later by the
 * ring code) may have been consumed by a predecessor. */
static struct pv_journal *open_one(struct vif_queue *q, const char *ring, uint32_t ref,
                                   uint32_t nr_slots, uint32_t rec_size, RING_IDX from,
                                   RING_IDX prod, RING_IDX *replay_end)
{
    struct vif *v = q->vif;
    char path[4096 + 64], key[PV_JOURNAL_KEY_MAX];
    snprintf(path, sizeof(path), "%s/%u-%u-q%u-%s", v->cfg->journal_dir, v->domid,
             pv_xenbus_dev_devid(v->xdev), q->idx, ring);
    snprintf(key, sizeof(key), "%s q%u %s ref %u", pv_xenbus_dev_be_path(v->xdev), q->idx, ring,
             ref);
    bool reused = false;
    struct pv_journal *jr = pv_journal_open(path, key, nr_slots, rec_size, &reused);
    if (!jr)
        pv_dev_warn(v->xdev, "queue %u: no %s journal (%s: %s)", q->idx, ring, path,
                    strerror(errno));
    *replay_end = reused && (RING_IDX)(prod - from) <= nr_slots ? prod : from;
    return jr;
}

static void open_journals(struct vif_queue *q, uint32_t tx_ref, uint32_t rx_ref)
{
    if (!q->vif->cfg->journal_dir)
        return;
    RING_IDX tp = __atomic_load_n(&q->tx->req_prod, __ATOMIC_ACQUIRE);
    RING_IDX rp = __atomic_load_n(&q->rx->req_prod, __ATOMIC_ACQUIRE);
    q->tx_jr = open_one(q, "tx", tx_ref, VIF_TX_RING_SIZE, sizeof(netif_tx_request_t), q->tx_cons,
                        tp, &q->tx_replay_end);
    q->rx_jr = open_one(q, "rx", rx_ref, VIF_RX_RING_SIZE, sizeof(netif_rx_request_t), q->rx_cons,
                        rp, &q->rx_replay_end);
}

void vif_queue_forget_journals(struct vif_queue *q)
{
    if (q->tx_jr)
        pv_journal_reset(q->tx_jr);
    if (q->rx_jr)
        pv_journal_reset(q->rx_jr);
}

int vif_queue_connect(struct vif *v, struct vif_queue *q, const char *dir)
{
    struct pv_xenbus_dev *dev = v->xdev;
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    unsigned tx_ref, rx_ref;
    uint32_t tx_remote, rx_remote;

    if (pv_xs_read_uint(xs, XBT_NULL, dir, "tx-ring-ref", 0, UINT32_MAX, &tx_ref) < 0 ||
        pv_xs_read_uint(xs, XBT_NULL, dir, "rx-ring-ref", 0, UINT32_MAX, &rx_ref) < 0)
        goto bad_key;
    /* Split event channels when the frontend wrote both keys, else one. */
    bool split = pv_xs_exists(xs, XBT_NULL, dir, "event-channel-tx") == 1;
    if (split) {
        if (read_port(v, dir, "event-channel-tx", &tx_remote) < 0 ||
            read_port(v, dir, "event-channel-rx", &rx_remote) < 0)
            goto bad_key;
    } else {
        if (read_port(v, dir, "event-channel", &tx_remote) < 0)
            goto bad_key;
        rx_remote = tx_remote;
    }

    uint32_t ref = tx_ref;
    int16_t status;
    q->tx = pv_gnt_map(v->gnt, v->domid, 1, &ref, true, &status);
    if (!q->tx) {
        vif_fail(v, errno, "queue %u: mapping tx-ring-ref %u failed (status %d)", q->idx, tx_ref,
                 status);
        return -1;
    }
    ref = rx_ref;
    q->rx = pv_gnt_map(v->gnt, v->domid, 1, &ref, true, &status);
    if (!q->rx) {
        vif_fail(v, errno, "queue %u: mapping rx-ring-ref %u failed (status %d)", q->idx, rx_ref,
                 status);
        return -1;
    }
    /* Attach to the rings where the frontend left them (a fresh ring has
     * every index at 0). */
    q->tx_rsp = q->tx_cons = __atomic_load_n(&q->tx->rsp_prod, __ATOMIC_ACQUIRE);
    q->rx_rsp = q->rx_cons = __atomic_load_n(&q->rx->rsp_prod, __ATOMIC_ACQUIRE);
    open_journals(q, tx_ref, rx_ref);

    q->evt = pv_evtchn_open();
    if (!q->evt) {
        vif_fail(v, errno, "queue %u: event channel device: %s", q->idx, strerror(errno));
        return -1;
    }
    int p = pv_evtchn_bind_interdomain(q->evt, v->domid, tx_remote);
    if (p < 0) {
        vif_fail(v, errno, "queue %u: binding event channel %u: %s", q->idx, tx_remote,
                 strerror(errno));
        return -1;
    }
    q->tx_port = q->rx_port = (uint32_t)p;
    if (split) {
        p = pv_evtchn_bind_interdomain(q->evt, v->domid, rx_remote);
        if (p < 0) {
            vif_fail(v, errno, "queue %u: binding event channel %u: %s", q->idx, rx_remote,
                     strerror(errno));
            return -1;
        }
        q->rx_port = (uint32_t)p;
    }

    q->tx_arena = malloc(VIF_TX_ARENA_BYTES);
    q->rx_arena = malloc(VIF_ARENA_BYTES);
    q->tx_segs = calloc(VIF_BATCH_PKTS * NETIF_TXREQ_MAX_FRAGS, sizeof(*q->tx_segs));
    q->tx_pkts = calloc(VIF_BATCH_PKTS, sizeof(*q->tx_pkts));
    q->rx_segs = calloc(VIF_RX_RING_SIZE, sizeof(*q->rx_segs));
    if (!q->tx_arena || !q->rx_arena || !q->tx_segs || !q->tx_pkts || !q->rx_segs) {
        vif_fail(v, ENOMEM, "queue %u: out of memory", q->idx);
        return -1;
    }
    q->tap_fd = v->tap.fds[q->idx];
    q->tx_prod_seen = __atomic_load_n(&q->tx->req_prod, __ATOMIC_ACQUIRE);
    q->rx_prod_seen = __atomic_load_n(&q->rx->req_prod, __ATOMIC_ACQUIRE);
    char what[32];
    snprintf(what, sizeof(what), "queue %u", q->idx);
    int storm = pv_storm_init(&q->storm, v->loop, dev, what, storm_over, q);
    q->evt_watch = pv_loop_add_fd(v->loop, pv_evtchn_fd(q->evt), EPOLLIN, on_event, q);
    q->tap_watch = pv_loop_add_fd(v->loop, q->tap_fd, EPOLLIN, on_tap, q);
    if (storm < 0 || !q->evt_watch || !q->tap_watch) {
        vif_fail(v, errno, "queue %u: cannot watch its descriptors", q->idx);
        return -1;
    }
    pv_dev_debug(dev, "queue %u: tx-ring-ref %u rx-ring-ref %u, event channel%s %u%s%.0u", q->idx,
                 tx_ref, rx_ref, split ? "s" : "", tx_remote, split ? "/" : "",
                 split ? rx_remote : 0);
    return 0;

bad_key:
    vif_fail(v, errno, "queue %u: %s", q->idx, pv_xs_error(xs));
    return -1;
}

void vif_queue_disconnect(struct vif_queue *q)
{
    struct vif *v = q->vif;
    if (q->evt_watch)
        pv_watch_remove(q->evt_watch);
    if (q->tap_watch)
        pv_watch_remove(q->tap_watch);
    pv_storm_fini(&q->storm);
    if (q->evt)
        pv_evtchn_close(q->evt);
    if (q->tx)
        pv_gnt_unmap(v->gnt, q->tx, 1);
    if (q->rx)
        pv_gnt_unmap(v->gnt, q->rx, 1);
    pv_journal_close(q->tx_jr);
    pv_journal_close(q->rx_jr);
    free(q->tx_arena);
    free(q->rx_arena);
    free(q->tx_segs);
    free(q->tx_pkts);
    free(q->rx_segs);
    if (q->st.tx_packets || q->st.rx_packets || q->st.tx_dropped || q->st.rx_dropped)
        pv_dev_info(v->xdev,
                    "queue %u: from guest %llu packets %llu bytes %llu dropped; "
                    "to guest %llu packets %llu bytes %llu dropped",
                    q->idx, (unsigned long long)q->st.tx_packets,
                    (unsigned long long)q->st.tx_bytes, (unsigned long long)q->st.tx_dropped,
                    (unsigned long long)q->st.rx_packets, (unsigned long long)q->st.rx_bytes,
                    (unsigned long long)q->st.rx_dropped);
    memset(q, 0, sizeof(*q));
}
