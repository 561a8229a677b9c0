/* One blkif ring (one queue): mapping it, taking requests off it (each slot
 * copied once, then validated), and putting responses on it. The rules of
 * xen/io/ring.h, with the guest treated as hostile: a producer index more
 * than a ring ahead fails the device instead of being trusted. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "contig.h"
#include "evtchn_storm.h"
#include "journal.h"
#include "pgrant.h"
#include "vbd.h"

/* The shared ring header (xen/io/ring.h): the same for both layouts. */
struct sring_hdr {
    uint32_t req_prod, req_event;
    uint32_t rsp_prod, rsp_event;
};

#define NO_REQ UINT32_MAX

struct vbd_ring {
    struct vbd *v;
    unsigned int idx;
    void *sring;
    unsigned int nr_pages, nr_slots;
    struct pv_evtchn *evt;
    uint32_t port;
    struct pv_watch *evt_watch;
    uint32_t req_cons, rsp_prod_pvt;
    uint32_t rsp_notified;   /* rsp_prod at the last notification check */
    struct vbd_req *reqs;    /* nr_slots of them */
    struct vbd_req **at_pos; /* the request taken from each ring position */
    uint32_t free_head;
    unsigned int in_flight;
    struct vbd_req *barrier_wait; /* a barrier waiting for the ring to drain */
    bool need_push;
    struct pgrant_cache *pgc; /* NULL without persistent grants */
    struct bounce_pool *bounce;
    struct contig_pool *contig;
    struct pv_timer *trim_timer; /* trims the two pools while they hold memory */
    bool trim_timer_armed;
    /* Event storm guard (evtchn_storm.h). */
    struct pv_storm storm;
    uint32_t prod_at_event; /* req_prod seen at the previous event */
    /* The in-flight journal (journal.h), NULL when the process has none;
     * positions before replay_end were possibly consumed by a predecessor. */
    struct pv_journal *jr;
    uint32_t replay_end;
    unsigned int replayed;
};

static struct sring_hdr *hdr(struct vbd_ring *r)
{
    return r->sring;
}

struct pgrant_cache *vbd_ring_pgrants(struct vbd_ring *r)
{
    return r->pgc;
}

struct bounce_pool *vbd_ring_bounce(struct vbd_ring *r)
{
    return r->bounce;
}

struct contig_pool *vbd_ring_contig(struct vbd_ring *r)
{
    return r->contig;
}

struct vbd *vbd_ring_vbd(struct vbd_ring *r)
{
    return r->v;
}

/* Notifies the frontend if it asked for an event in the responses
 * published since the last check (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY, with
 * the publication itself already done response by response). */
static void push_responses(struct vbd_ring *r)
{
    if (!r->need_push || r->v->failed)
        return;
    r->need_push = false;
    struct sring_hdr *h = hdr(r);
    uint32_t old = r->rsp_notified, now = r->rsp_prod_pvt;
    r->rsp_notified = now;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t event = __atomic_load_n(&h->rsp_event, __ATOMIC_RELAXED);
    if ((uint32_t)(now - event) < (uint32_t)(now - old))
        pv_evtchn_notify(r->evt, r->port);
}

static void release(struct vbd_ring *r, struct vbd_req *q)
{
    r->at_pos[q->pos & (r->nr_slots - 1)] = NULL;
    r->in_flight--;
    q->free_next = r->free_head;
    r->free_head = (uint32_t)(q - r->reqs);
}

/* Responses go on the ring in the order of the requests, each into the slot
 * of its own request, and each is published at once. So a slot past the
 * published responses always still holds its request, and a restarted
 * pvback-blk can take every unanswered request again from the ring (a slot
 * torn by a crash mid-write reads as an invalid request: the device fails,
 * nothing wrong is executed, since the rest of the slot is zeroed). */
static void emit_in_order(struct vbd_ring *r)
{
    struct sring_hdr *h = hdr(r);
    const size_t slot_size = blkif_abi_slot_size(r->v->abi);
    struct vbd_req *q;
    while ((q = r->at_pos[r->rsp_prod_pvt & (r->nr_slots - 1)]) && q->done &&
           q->pos == r->rsp_prod_pvt) {
        void *slot = blkif_abi_slot(r->v->abi, r->sring, r->nr_slots, r->rsp_prod_pvt);
        memset(slot, 0, slot_size);
        blkif_rsp_to_ring(r->v->abi, slot, q->op.id, q->op.rsp_operation, q->status);
        r->rsp_prod_pvt++;
        /* The response is visible before the index that publishes it. */
        __atomic_store_n(&h->rsp_prod, r->rsp_prod_pvt, __ATOMIC_RELEASE);
        r->need_push = true;
        release(r, q);
    }
}

void vbd_ring_complete(struct vbd_req *q, int16_t status)
{
    struct vbd_ring *r = q->ring;
    if (r->v->failed) {
        release(r, q); /* no more responses on a failed or closing ring */
        return;
    }
    q->status = status;
    q->done = true;
    struct pv_status_counters *n = &r->v->counters;
    n->requests++;
    if (status != BLKIF_RSP_OKAY)
        n->errors++;
    else if (q->op.kind == BLKIF_KIND_READ || q->op.kind == BLKIF_KIND_WRITE)
        n->bytes += q->op.nr_sectors * 512;
    emit_in_order(r);
}

void vbd_ring_fail(struct vbd_req *q, int16_t status, const char *fmt, ...)
{
    struct vbd_ring *r = q->ring;
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* The guest gets its answer before the device stops. */
    vbd_ring_complete(q, status);
    push_responses(r);
    if (!r->v->failed) {
        r->v->failed = true;
        pv_xenbus_dev_fatal(r->v->xdev, EINVAL, "queue %u: %s", r->idx, msg);
    }
}

static void dispatch(struct vbd_ring *r, struct vbd_req *q, const struct blkif_req_copy *c)
{
    const char *why = NULL;
    int16_t st = blkif_req_parse(c, &r->v->props, &q->op, &why);
    if (st != BLKIF_RSP_OKAY) {
        pv_dev_debug(r->v->xdev, "queue %u: request %#llx refused: %s", r->idx,
                     (unsigned long long)q->op.id, why);
        if (q->op.violation)
            vbd_ring_fail(q, st, "bad request (op %u): %s", c->operation, why);
        else
            vbd_ring_complete(q, st);
        return;
    }
    /* A barrier waits until every earlier request of the ring is done. */
    if (q->op.drain && r->in_flight > 1) {
        r->barrier_wait = q;
        return;
    }
    vbd_io_start(q);
}

/* Copies the request at req_cons once into c. A position a predecessor may
 * have consumed is taken from the journal when it holds that position's copy
 * of the same request (same id and operation as the slot: an honest frontend
 * leaves an unanswered slot alone, so a mismatch means a stale journal and
 * the slot wins); the copy is then validated like any other. Every request
 * taken is journaled before it is acted on. */
static void take_request(struct vbd_ring *r, struct blkif_req_copy *c)
{
    blkif_req_copy_from_ring(r->v->abi,
                             blkif_abi_slot(r->v->abi, r->sring, r->nr_slots, r->req_cons), c);
    if (!r->jr)
        return;
    if ((int32_t)(r->replay_end - r->req_cons) > 0) {
        struct blkif_req_copy j;
        uint64_t rsp_id;
        uint8_t rsp_op;
        int16_t rsp_st;
        blkif_rsp_from_ring(r->v->abi,
                            blkif_abi_slot(r->v->abi, r->sring, r->nr_slots, r->req_cons), &rsp_id,
                            &rsp_op, &rsp_st);
        /* The slot still holds that request, or our own response to it (a
         * predecessor killed between writing it and publishing the index). */
        bool from_journal = pv_journal_get(r->jr, r->req_cons, &j) &&
                            ((j.id == c->id && j.operation == c->operation) || rsp_id == j.id);
        if (from_journal) {
            *c = j;
            r->replayed++;
        }
        if (r->req_cons + 1 == r->replay_end && r->replayed)
            pv_dev_info(r->v->xdev, "queue %u: %u request(s) taken again from the journal", r->idx,
                        r->replayed);
        if (from_journal)
            return;
    }
    pv_journal_put(r->jr, r->req_cons, c);
}

static void process(struct vbd_ring *r)
{
    struct sring_hdr *h = hdr(r);
    while (!r->v->failed && !r->barrier_wait) {
        uint32_t rp = __atomic_load_n(&h->req_prod, __ATOMIC_ACQUIRE);
        if ((uint32_t)(rp - r->rsp_prod_pvt) > r->nr_slots) {
            r->v->failed = true;
            pv_xenbus_dev_fatal(r->v->xdev, EPROTO,
                                "queue %u: producer index %u runs past the ring (%u slots, "
                                "consumer at %u)",
                                r->idx, rp, r->nr_slots, r->req_cons);
            return;
        }
        while (r->req_cons != rp && r->free_head != NO_REQ && !r->barrier_wait && !r->v->failed) {
            struct vbd_req *q = &r->reqs[r->free_head];
            r->free_head = q->free_next;
            r->in_flight++;
            q->pos = r->req_cons;
            q->done = false;
            r->at_pos[q->pos & (r->nr_slots - 1)] = q;
            struct blkif_req_copy c;
            take_request(r, &c);
            r->req_cons++;
            dispatch(r, q, &c);
        }
        if (r->req_cons != rp)
            break; /* out of request slots or waiting: resumed on completion */
        /* Ask for an event at the next request, then look once more. */
        __atomic_store_n(&h->req_event, r->req_cons + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&h->req_prod, __ATOMIC_ACQUIRE) == r->req_cons)
            break;
    }
}

/* Every second while the bounce pool holds pages or the contiguous
 * buffers are reserved: gives back what was unused for that second (a busy
 * ring keeps what it uses, an idle one nothing). */
#define POOL_TRIM_MS 1000u

static void trim_pools(struct pv_timer *t, void *arg)
{
    struct vbd_ring *r = arg;
    (void)t;
    bool bounce = bounce_trim(r->bounce) > 0;
    if (!contig_trim(r->contig) && !bounce) {
        pv_timer_disarm(r->trim_timer);
        r->trim_timer_armed = false;
    }
}

void vbd_ring_after_io(struct vbd_ring *r)
{
    if (r->pgc)
        pgrant_maintain(r->pgc, pv_now_ms());
    if (!r->trim_timer_armed && (bounce_held(r->bounce) || contig_reserved(r->contig)) &&
        pv_timer_arm(r->trim_timer, POOL_TRIM_MS, POOL_TRIM_MS) == 0)
        r->trim_timer_armed = true;
    if (r->barrier_wait && r->in_flight == 1) {
        struct vbd_req *q = r->barrier_wait;
        r->barrier_wait = NULL;
        vbd_io_start(q);
    }
    process(r);
    if (r->v->st)
        pv_storage_kick(r->v->st);
    push_responses(r);
}

/* Event storms (XSA-332, evtchn_storm.h): a frontend that notifies without
 * queueing requests is left masked for PV_STORM_PAUSE_MS at a time. */
static void unmask_and_look(void *arg)
{
    struct vbd_ring *r = arg;
    pv_evtchn_unmask(r->evt, r->port);
    vbd_ring_after_io(r);
}

static void on_event(int fd, uint32_t events, void *arg)
{
    (void)fd;
    (void)events;
    struct vbd_ring *r = arg;
    int port = pv_evtchn_pending(r->evt);
    if (port < 0 || r->storm.throttled)
        return;
    /* Produced: the frontend queued something since the previous event (a
     * request consumed early, while the backend was busy, still counts, so
     * a busy frontend is never taken for a storm). */
    uint32_t prod = __atomic_load_n(&hdr(r)->req_prod, __ATOMIC_ACQUIRE);
    bool produced = prod != r->prod_at_event;
    r->prod_at_event = prod;
    vbd_ring_after_io(r);
    if (!pv_storm_hold(&r->storm, produced))
        pv_evtchn_unmask(r->evt, (uint32_t)port);
}

/* The journal of this ring: named after the device and queue, keyed by the
 * connection (layout, ring pages, event channel), so that a new connection
 * never replays an older one's records. Without it the ring still restarts
 * (from the slots); so a failure only warns. */
static void open_journal(struct vbd_ring *r, const uint32_t *refs, uint32_t remote_port)
{
    struct pv_xenbus_dev *xd = r->v->xdev;
    if (!r->v->cfg->journal_dir)
        return;
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the ring references */
    for (unsigned int i = 0; i < r->nr_pages; i++) {
        h ^= refs[i];
        h *= 1099511628211ull;
    }
    char path[4096 + 64], key[PV_JOURNAL_KEY_MAX];
    snprintf(path, sizeof(path), "%s/%u-%u-q%u", r->v->cfg->journal_dir, pv_xenbus_dev_fe_domid(xd),
             pv_xenbus_dev_devid(xd), r->idx);
    snprintf(key, sizeof(key), "%s q%u abi %d pages %u refs %016llx port %u",
             pv_xenbus_dev_be_path(xd), r->idx, (int)r->v->abi, r->nr_pages, (unsigned long long)h,
             remote_port);
    bool reused = false;
    r->jr = pv_journal_open(path, key, r->nr_slots, sizeof(struct blkif_req_copy), &reused);
    if (!r->jr)
        pv_dev_warn(xd, "queue %u: no in-flight journal (%s: %s): a restart re-reads the ring",
                    r->idx, path, strerror(errno));
    else if (!reused)
        r->replay_end = r->req_cons; /* nothing of a predecessor to replay */
}

struct vbd_ring *vbd_ring_new(struct vbd *v, unsigned int idx, const uint32_t *refs,
                              unsigned int nr_pages, uint32_t remote_port)
{
    struct pv_xenbus_dev *xd = v->xdev;
    uint32_t domid = pv_xenbus_dev_fe_domid(xd);
    struct vbd_ring *r = calloc(1, sizeof(*r));
    if (!r) {
        pv_xenbus_dev_fatal(xd, ENOMEM, "queue %u: out of memory", idx);
        return NULL;
    }
    r->v = v;
    r->idx = idx;
    r->nr_pages = nr_pages;
    r->nr_slots = blkif_abi_ring_slots(v->abi, (size_t)nr_pages * PV_PAGE_SIZE);
    r->free_head = NO_REQ;

    int16_t status[VBD_MAX_RING_PAGES];
    r->sring = pv_gnt_map(v->gnt, domid, nr_pages, refs, true, status);
    if (!r->sring) {
        int e = errno;
        unsigned int bad = 0;
        while (bad + 1 < nr_pages && status[bad] == 0)
            bad++;
        pv_xenbus_dev_fatal(xd, e, "queue %u: mapping ring-ref %u failed (status %d)", idx,
                            refs[bad], status[bad]);
        free(r);
        return NULL;
    }
    r->reqs = calloc(r->nr_slots, sizeof(*r->reqs));
    r->at_pos = calloc(r->nr_slots, sizeof(*r->at_pos));
    if (!r->reqs || !r->at_pos) {
        pv_xenbus_dev_fatal(xd, ENOMEM, "queue %u: out of memory", idx);
        goto fail;
    }
    for (uint32_t i = r->nr_slots; i-- > 0;) {
        r->reqs[i].ring = r;
        r->reqs[i].free_next = r->free_head;
        r->free_head = i;
    }
    if (v->persistent) {
        r->pgc = pgrant_cache_new(v->gnt, domid, v->cfg->max_pgrants);
        if (!r->pgc) {
            pv_xenbus_dev_fatal(xd, ENOMEM, "queue %u: out of memory", idx);
            goto fail;
        }
    }
    r->bounce = bounce_pool_new(v->cfg->max_bounce);
    r->trim_timer = pv_timer_new(v->loop, trim_pools, r);
    r->contig = contig_pool_new(v->contig_above ? v->cfg->max_contig : 0,
                                (size_t)BLKIF_OP_MAX_SEGS * PV_PAGE_SIZE);
    if (!r->bounce || !r->trim_timer || !r->contig) {
        pv_xenbus_dev_fatal(xd, ENOMEM, "queue %u: out of memory", idx);
        goto fail;
    }
    r->evt = pv_evtchn_open();
    int port = r->evt ? pv_evtchn_bind_interdomain(r->evt, domid, remote_port) : -1;
    if (port < 0) {
        pv_xenbus_dev_fatal(xd, errno, "queue %u: binding event channel %u failed", idx,
                            remote_port);
        goto fail;
    }
    r->port = (uint32_t)port;
    r->evt_watch = pv_loop_add_fd(v->loop, pv_evtchn_fd(r->evt), EPOLLIN, on_event, r);
    char what[32];
    snprintf(what, sizeof(what), "queue %u", idx);
    if (!r->evt_watch || pv_storm_init(&r->storm, v->loop, xd, what, unmask_and_look, r) < 0) {
        pv_xenbus_dev_fatal(xd, errno, "queue %u: cannot watch the event channel", idx);
        goto fail;
    }
    /* A ring in use before (pvback-blk restarted and adopted the device):
     * every request past the last published response was never answered and
     * still sits in its slot (see emit_in_order), so it is taken again from
     * there, which replays what the previous process had in flight. A fresh
     * ring starts at 0 either way. */
    r->prod_at_event = __atomic_load_n(&hdr(r)->req_prod, __ATOMIC_ACQUIRE);
    r->req_cons = r->rsp_prod_pvt = r->rsp_notified =
        __atomic_load_n(&hdr(r)->rsp_prod, __ATOMIC_ACQUIRE);
    /* BACK_RING_ATTACH's check: the frontend's producer may be at most a
     * ring ahead of the responses (process() fails the device otherwise). */
    r->replay_end = r->prod_at_event;
    if ((uint32_t)(r->replay_end - r->req_cons) > r->nr_slots)
        r->replay_end = r->req_cons;
    else if (r->replay_end != r->req_cons)
        pv_dev_info(xd, "queue %u: attached with %u unanswered request(s) (responses at %u)", idx,
                    r->replay_end - r->req_cons, r->req_cons);
    open_journal(r, refs, remote_port);
    /* The frontend may have queued requests before we bound: look now. */
    __atomic_store_n(&hdr(r)->req_event, r->req_cons + 1, __ATOMIC_RELAXED);
    return r;
fail:
    vbd_ring_free(r, false);
    return NULL;
}

void vbd_ring_start(struct vbd_ring *r)
{
    vbd_ring_after_io(r);
    /* A ring in use before this process: its predecessor may have died
     * between publishing responses and notifying, and the guest would wait
     * for that event forever. One event more is harmless. */
    if (!r->v->failed && (r->rsp_prod_pvt || hdr(r)->req_prod))
        pv_evtchn_notify(r->evt, r->port);
}

void vbd_ring_free(struct vbd_ring *r, bool keep_journal)
{
    if (!r)
        return;
    if (r->jr && !keep_journal)
        pv_journal_reset(r->jr);
    pv_journal_close(r->jr);
    if (r->pgc)
        pv_dev_info(r->v->xdev, "queue %u: %u persistent grants cached, %llu pages found it full",
                    r->idx, pgrant_count(r->pgc), pgrant_overflows(r->pgc));
    if (r->bounce && (bounce_handed(r->bounce) || bounce_refused(r->bounce)))
        pv_dev_info(r->v->xdev,
                    "queue %u: %llu data pages copied through bounce pages, %llu mapped (bound "
                    "reached)",
                    r->idx, bounce_handed(r->bounce), bounce_refused(r->bounce));
    if (r->contig && (contig_handed(r->contig) || contig_refused(r->contig)))
        pv_dev_info(r->v->xdev,
                    "queue %u: %llu requests copied through contiguous buffers, %llu scattered "
                    "(all buffers in use)",
                    r->idx, contig_handed(r->contig), contig_refused(r->contig));
    if (r->evt_watch)
        pv_watch_remove(r->evt_watch);
    pv_storm_fini(&r->storm);
    if (r->evt) {
        if (r->port)
            pv_evtchn_unbind(r->evt, r->port);
        pv_evtchn_close(r->evt);
    }
    pgrant_cache_free(r->pgc);
    pv_timer_free(r->trim_timer);
    bounce_pool_free(r->bounce);
    contig_pool_free(r->contig);
    free(r->reqs);
    free(r->at_pos);
    if (r->sring)
        pv_gnt_unmap(r->v->gnt, r->sring, r->nr_pages);
    free(r);
}

unsigned int vbd_ring_in_flight(const struct vbd_ring *r)
{
    return r->in_flight;
}
