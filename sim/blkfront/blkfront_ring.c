/* blkfront's rings: building requests into the shared ring and taking
 * responses off it. The backend is not trusted either: a response index
 * running past the ring or an unknown id is a protocol error (EPROTO). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkfront_priv.h"

#define NO_SLOT UINT32_MAX
#define PAGE    PV_PAGE_SIZE

struct sring_hdr {
    uint32_t req_prod, req_event;
    uint32_t rsp_prod, rsp_event;
};

static struct sring_hdr *hdr(struct bf_queue *q)
{
    return q->sring;
}

/* Ends access to pages the backend may still map for a moment. */
static void unshare_retry(struct blkfront *f, void *addr, uint32_t count)
{
    for (int i = 0; i < 500; i++) {
        if (pv_gntshr_unshare(f->shr, addr, count) == 0 || errno != EBUSY)
            return;
        usleep(10000);
    }
}

int bf_queue_setup(struct blkfront *f, struct bf_queue *q, char *err, size_t errlen)
{
    unsigned int pages = f->info.ring_pages;
    q->sring = pv_gntshr_share(f->shr, f->bus.backend_domid, pages, q->ring_refs, true);
    if (!q->sring) {
        snprintf(err, errlen, "sharing %u ring pages: %s", pages, strerror(errno));
        return -1;
    }
    memset(q->sring, 0, (size_t)pages * PAGE);
    hdr(q)->req_event = 1;
    hdr(q)->rsp_event = 1;
    q->nr_slots = blkif_abi_ring_slots(f->abi, (size_t)pages * PAGE);
    q->req_prod_pvt = q->rsp_cons = 0;

    if (!q->slots) {
        unsigned int depth = f->opts.depth < q->nr_slots ? f->opts.depth : q->nr_slots;
        q->slots = calloc(depth, sizeof(*q->slots));
        if (!q->slots) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        f->opts.depth = depth;
        q->free_head = NO_SLOT;
        for (uint32_t i = depth; i-- > 0;) {
            q->slots[i].next_free = q->free_head;
            q->free_head = i;
        }
    }
    q->evt = pv_evtchn_open();
    int port = q->evt ? pv_evtchn_bind_unbound(q->evt, f->bus.backend_domid) : -1;
    if (port < 0) {
        snprintf(err, errlen, "allocating an event channel: %s", strerror(errno));
        return -1;
    }
    q->port = (uint32_t)port;
    return 0;
}

void bf_queue_drop_ring(struct blkfront *f, struct bf_queue *q)
{
    if (q->evt) {
        pv_evtchn_unbind(q->evt, q->port);
        pv_evtchn_close(q->evt);
        q->evt = NULL;
    }
    if (q->sring) {
        unshare_retry(f, q->sring, f->info.ring_pages);
        q->sring = NULL;
    }
}

void bf_queue_free_slots(struct blkfront *f, struct bf_queue *q)
{
    (void)f;
    free(q->slots);
    q->slots = NULL;
}

static uint8_t ring_op(enum blkfront_op op)
{
    switch (op) {
    case BLKFRONT_READ:
        return BLKIF_OP_READ;
    case BLKFRONT_WRITE:
        return BLKIF_OP_WRITE;
    case BLKFRONT_FLUSH:
        return BLKIF_OP_FLUSH_DISKCACHE;
    case BLKFRONT_BARRIER:
        return BLKIF_OP_WRITE_BARRIER;
    default:
        return BLKIF_OP_DISCARD;
    }
}

/* Builds slot idx's request into the ring (copying write data into the
 * slot's granted pages first). */
static void bf_put_request(struct blkfront *f, struct bf_queue *q, uint32_t idx)
{
    struct bf_slot *s = &q->slots[idx];
    const struct blkfront_io *io = s->io;
    struct blkif_req_copy c;

    memset(&c, 0, sizeof(c));
    c.id = idx;
    c.sector_number = io->offset >> 9;
    if (io->op == BLKFRONT_DISCARD || io->op == BLKFRONT_SECURE_DISCARD) {
        c.operation = BLKIF_OP_DISCARD;
        c.discard_nr_sectors = io->len >> 9;
        c.discard_flag = io->op == BLKFRONT_SECURE_DISCARD ? BLKIF_DISCARD_SECURE : 0;
    } else {
        unsigned int nseg = (unsigned int)((io->len + PAGE - 1) / PAGE);
        size_t left = io->len >> 9;
        struct blkif_request_segment segs[BF_MAX_SEGS];
        for (unsigned int i = 0; io->op != BLKFRONT_READ && i < nseg; i++) {
            size_t at = (size_t)i * PAGE;
            memcpy(f->pages.addr[s->page[i]], (char *)io->buf + at,
                   io->len - at < PAGE ? io->len - at : PAGE);
        }
        for (unsigned int i = 0; i < nseg; i++) {
            size_t n = left < 8 ? left : 8;
            segs[i].gref = f->pages.refs[s->page[i]];
            segs[i].first_sect = 0;
            segs[i].last_sect = (uint8_t)(n - 1);
            left -= n;
        }
        if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            c.operation = ring_op(io->op);
            c.nr_segments = (uint8_t)nseg;
            memcpy(c.seg, segs, nseg * sizeof(segs[0]));
        } else {
            c.operation = BLKIF_OP_INDIRECT;
            c.indirect_op = ring_op(io->op);
            c.indirect_nr_segments = (uint16_t)nseg;
            memcpy(f->pages.addr[s->page[nseg]], segs, nseg * sizeof(segs[0]));
            c.indirect_grefs[0] = f->pages.refs[s->page[nseg]];
        }
    }
    s->op = c.operation;
    s->indirect_op = c.indirect_op;
    blkif_req_to_ring(f->abi, blkif_abi_slot(f->abi, q->sring, q->nr_slots, q->req_prod_pvt), &c);
    q->req_prod_pvt++;
}

void bf_push_requests(struct bf_queue *q)
{
    struct sring_hdr *h = hdr(q);
    uint32_t old = __atomic_load_n(&h->req_prod, __ATOMIC_RELAXED);
    uint32_t now = q->req_prod_pvt;
    __atomic_store_n(&h->req_prod, now, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t event = __atomic_load_n(&h->req_event, __ATOMIC_RELAXED);
    if ((uint32_t)(now - event) < (uint32_t)(now - old))
        pv_evtchn_notify(q->evt, q->port);
}

static bool io_valid(const struct blkfront *f, const struct blkfront_io *io)
{
    if (io->offset % 512 || io->len % 512 || io->len > f->info.max_io || !io->done)
        return false;
    switch (io->op) {
    case BLKFRONT_READ:
    case BLKFRONT_WRITE:
        return io->len > 0 && io->buf;
    case BLKFRONT_FLUSH:
    case BLKFRONT_BARRIER:
        /* Linux blkfront never sends a flush through indirect descriptors. */
        return io->len <= BLKIF_MAX_SEGMENTS_PER_REQUEST * PAGE && (!io->len || io->buf);
    case BLKFRONT_DISCARD:
    case BLKFRONT_SECURE_DISCARD:
        return io->len > 0;
    }
    return false;
}

/* Data pages, plus the indirect page when the segments do not fit. */
static uint32_t pages_needed(const struct blkfront_io *io)
{
    if (io->op == BLKFRONT_DISCARD || io->op == BLKFRONT_SECURE_DISCARD)
        return 0;
    uint32_t nseg = (uint32_t)((io->len + PAGE - 1) / PAGE);
    return nseg + (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST ? 1 : 0);
}

int blkfront_submit(struct blkfront *f, struct blkfront_io *io)
{
    if (bf_follow_home(f) < 0)
        return -EIO;
    if (!io_valid(f, io))
        return -EINVAL;
    for (unsigned int tries = 0; tries < f->info.queues; tries++) {
        struct bf_queue *q = &f->q[f->next_queue];
        f->next_queue = (f->next_queue + 1) % f->info.queues;
        if (q->free_head == NO_SLOT)
            continue;
        uint32_t idx = q->free_head;
        struct bf_slot *s = &q->slots[idx];
        s->npages = pages_needed(io);
        if (bf_pages_get(f, s->npages, s->page) < 0)
            return s->npages > f->pages.count ? -EINVAL : -EAGAIN;
        q->free_head = s->next_free;
        s->io = io;
        q->in_flight++;
        bf_put_request(f, q, idx);
        bf_push_requests(q);
        return 0;
    }
    return -EAGAIN;
}

void bf_queue_replay(struct blkfront *f, struct bf_queue *q)
{
    for (uint32_t i = 0; i < f->opts.depth; i++)
        if (q->slots[i].io)
            bf_put_request(f, q, i);
    bf_push_requests(q);
}

/* Completes the responses on q. Returns how many, or -1 with EPROTO. */
static int take_responses(struct blkfront *f, struct bf_queue *q)
{
    struct sring_hdr *h = hdr(q);
    int n = 0;
    for (;;) {
        uint32_t rp = __atomic_load_n(&h->rsp_prod, __ATOMIC_ACQUIRE);
        if ((uint32_t)(rp - q->rsp_cons) > q->nr_slots) {
            errno = EPROTO;
            return -1;
        }
        while (q->rsp_cons != rp) {
            uint64_t id;
            uint8_t op;
            int16_t status;
            blkif_rsp_from_ring(f->abi, blkif_abi_slot(f->abi, q->sring, q->nr_slots, q->rsp_cons),
                                &id, &op, &status);
            q->rsp_cons++;
            if (id >= f->opts.depth || !q->slots[id].io) {
                errno = EPROTO;
                return -1;
            }
            struct bf_slot *s = &q->slots[id];
            struct blkfront_io *io = s->io;
            /* Linux blkfront's check: the request's operation, or for an
             * indirect request its inner one. */
            if (op != s->op && !(s->op == BLKIF_OP_INDIRECT && op == s->indirect_op)) {
                errno = EPROTO;
                return -1;
            }
            for (size_t at = 0; io->op == BLKFRONT_READ && status == BLKIF_RSP_OKAY && at < io->len;
                 at += PAGE)
                memcpy((char *)io->buf + at, f->pages.addr[s->page[at / PAGE]],
                       io->len - at < PAGE ? io->len - at : PAGE);
            bf_pages_put(f, s->npages, s->page);
            s->npages = 0;
            s->io = NULL;
            s->next_free = q->free_head;
            q->free_head = (uint32_t)id;
            q->in_flight--;
            n++;
            io->done(io, status);
        }
        __atomic_store_n(&h->rsp_event, q->rsp_cons + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&h->rsp_prod, __ATOMIC_ACQUIRE) == q->rsp_cons)
            return n;
    }
}

int blkfront_wait(struct blkfront *f, int timeout_ms)
{
    struct pollfd pfd[BF_MAX_QUEUES];
    if (bf_follow_home(f) < 0)
        return -1;
    for (unsigned int i = 0; i < f->info.queues; i++)
        pfd[i] = (struct pollfd){.fd = pv_evtchn_fd(f->q[i].evt), .events = POLLIN};
    if (poll(pfd, f->info.queues, timeout_ms) < 0 && errno != EINTR)
        return -1;
    int total = 0;
    for (unsigned int i = 0; i < f->info.queues; i++) {
        struct bf_queue *q = &f->q[i];
        if (pfd[i].revents & POLLIN) {
            int port = pv_evtchn_pending(q->evt);
            if (port >= 0)
                pv_evtchn_unmask(q->evt, (uint32_t)port);
        }
        int n = take_responses(f, q);
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}

unsigned int blkfront_in_flight(const struct blkfront *f)
{
    unsigned int n = 0;
    for (unsigned int i = 0; i < f->info.queues; i++)
        n += f->q[i].in_flight;
    return n;
}
