/* The hostile requests (see blkfront_hostile.h). Each starts from a valid
 * one-page read of sector 0 and breaks exactly one rule. */
#include "blkfront_hostile.h"

#include <pthread.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "blkfront_priv.h"

static const char *const names[BF_ATTACK_COUNT] = {
    [BF_ATTACK_BAD_OP] = "bad-op",
    [BF_ATTACK_NO_SEGMENTS] = "no-segments",
    [BF_ATTACK_TOO_MANY_SEGMENTS] = "too-many-segments",
    [BF_ATTACK_LAST_BEFORE_FIRST] = "last-before-first",
    [BF_ATTACK_LAST_PAST_PAGE] = "last-past-page",
    [BF_ATTACK_PAST_END] = "past-end",
    [BF_ATTACK_BAD_GREF] = "bad-gref",
    [BF_ATTACK_BAD_INDIRECT_OP] = "bad-indirect-op",
    [BF_ATTACK_TOO_MANY_INDIRECT] = "too-many-indirect",
    [BF_ATTACK_PROD_OVERFLOW] = "prod-overflow",
    [BF_ATTACK_EVENT_STORM] = "event-storm",
    [BF_ATTACK_DOUBLE_FETCH] = "double-fetch",
};

const char *blkfront_attack_name(enum blkfront_attack a)
{
    return (unsigned)a < BF_ATTACK_COUNT ? names[a] : NULL;
}

int blkfront_attack_by_name(const char *name, enum blkfront_attack *a)
{
    for (unsigned int i = 0; i < BF_ATTACK_COUNT; i++)
        if (!strcmp(name, names[i])) {
            *a = (enum blkfront_attack)i;
            return 0;
        }
    return -1;
}

struct answer {
    struct blkfront_io io;
    int status;
    bool done;
};

static void on_answer(struct blkfront_io *io, int status)
{
    struct answer *ans = io->arg;
    ans->status = status;
    ans->done = true;
}

/* The double-fetch attacker: rewrites one request slot, alternating a valid
 * and an invalid image, until the backend has answered that position. Only
 * bytes past the first 16 change (the segments): a response never covers
 * them, so the backend's answer is never torn by the attacker itself. */
#define FLIP_FROM 16u
#define FLIP_MAX  128u /* more than a slot of either layout */

struct flipper {
    struct blkfront *f;
    struct bf_queue *q;
    uint32_t pos;
    unsigned char good[FLIP_MAX], bad[FLIP_MAX];
    size_t size;
    volatile uint32_t *rsp_prod;
    bool stop;
};

static void *flip(void *arg)
{
    struct flipper *fl = arg;
    unsigned char *slot = blkif_abi_slot(fl->f->abi, fl->q->sring, fl->q->nr_slots, fl->pos);
    for (unsigned long n = 0; !__atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE); n++) {
        if ((int32_t)(__atomic_load_n(fl->rsp_prod, __ATOMIC_ACQUIRE) - fl->pos) > 0)
            break; /* answered */
        memcpy(slot + FLIP_FROM, (n & 1 ? fl->bad : fl->good) + FLIP_FROM, fl->size - FLIP_FROM);
    }
    return NULL;
}

/* A ref inside the table that is provably not granted to the backend: one
 * this process granted and ended itself. A fixed number is not: the
 * hypervisor hands refs out round-robin, so any ref is, sooner or later, a
 * live grant of this very guest (the backend would rightly accept it). */
static int ended_gref(struct blkfront *f, uint32_t *ref)
{
    void *page = pv_gntshr_share(f->shr, f->bus.backend_domid, 1, ref, false);

    if (!page)
        return -1;
    return pv_gntshr_unshare(f->shr, page, 1);
}

int blkfront_attack(struct blkfront *f, enum blkfront_attack a, int16_t *status, int timeout_ms)
{
    struct bf_queue *q = &f->q[0];
    struct sring_hdr {
        uint32_t req_prod, req_event, rsp_prod, rsp_event;
    } *h = q->sring;

    if (a == BF_ATTACK_PROD_OVERFLOW) {
        /* Claims more requests than the ring holds. */
        __atomic_store_n(&h->req_prod, q->rsp_cons + q->nr_slots + 10, __ATOMIC_RELEASE);
        pv_evtchn_notify(q->evt, q->port);
        blkfront_wait(f, timeout_ms);
        return 1;
    }
    if (a == BF_ATTACK_EVENT_STORM) {
        /* Notify as fast as possible for 1.5 s (xensim, like Xen, coalesces
         * notifications while the backend has the port masked). */
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
            for (int i = 0; i < 100; i++)
                pv_evtchn_notify(q->evt, q->port);
            clock_gettime(CLOCK_MONOTONIC, &t);
        } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
    }
    uint32_t bad_gref = 0;
    if (a == BF_ATTACK_BAD_GREF && ended_gref(f, &bad_gref) < 0)
        return -1;
    if (q->free_head == UINT32_MAX) {
        errno = EBUSY;
        return -1;
    }
    uint32_t idx = q->free_head;
    struct bf_slot *s = &q->slots[idx];
    /* One data page and one for indirect descriptors. */
    if (bf_pages_get(f, 2, s->page) < 0) {
        errno = EBUSY;
        return -1;
    }
    s->npages = 2;
    /* A write-typed io with no data: nothing is copied back on completion. */
    struct answer ans = {.io = {.op = BLKFRONT_WRITE, .done = on_answer, .arg = &ans}};
    q->free_head = s->next_free;
    s->io = &ans.io;
    q->in_flight++;

    struct blkif_req_copy c;
    memset(&c, 0, sizeof(c));
    c.operation = BLKIF_OP_READ;
    c.id = idx;
    c.nr_segments = 1;
    c.seg[0].gref = f->pages.refs[s->page[0]];
    c.seg[0].last_sect = 7;
    switch (a) {
    case BF_ATTACK_BAD_OP:
        c.operation = 42;
        break;
    case BF_ATTACK_NO_SEGMENTS:
        c.nr_segments = 0;
        break;
    case BF_ATTACK_TOO_MANY_SEGMENTS:
        for (unsigned int i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
            c.seg[i] =
                (struct blkif_request_segment){.gref = f->pages.refs[s->page[0]], .last_sect = 7};
        c.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
        break;
    case BF_ATTACK_LAST_BEFORE_FIRST:
        c.seg[0].first_sect = 5;
        c.seg[0].last_sect = 2;
        break;
    case BF_ATTACK_LAST_PAST_PAGE:
        c.seg[0].last_sect = 8;
        break;
    case BF_ATTACK_PAST_END:
        c.sector_number = f->info.sectors - 4;
        break;
    case BF_ATTACK_BAD_GREF:
        c.seg[0].gref = bad_gref;
        break;
    case BF_ATTACK_BAD_INDIRECT_OP:
    case BF_ATTACK_TOO_MANY_INDIRECT:
        c.operation = BLKIF_OP_INDIRECT;
        c.indirect_op = a == BF_ATTACK_BAD_INDIRECT_OP ? BLKIF_OP_FLUSH_DISKCACHE : BLKIF_OP_READ;
        c.indirect_nr_segments = a == BF_ATTACK_BAD_INDIRECT_OP ? 16 : 4096;
        c.indirect_grefs[0] = f->pages.refs[s->page[1]];
        break;
    default:
        break;
    }
    s->op = c.operation;
    s->indirect_op = c.indirect_op;
    struct flipper fl = {.f = f,
                         .q = q,
                         .pos = q->req_prod_pvt,
                         .rsp_prod = &h->rsp_prod,
                         .size = blkif_abi_slot_size(f->abi)};
    struct blkif_req_copy bad = c;
    bad.seg[0].last_sect = 200;
    blkif_req_to_ring(f->abi, fl.good, &c);
    blkif_req_to_ring(f->abi, fl.bad, &bad);
    blkif_req_to_ring(f->abi, blkif_abi_slot(f->abi, q->sring, q->nr_slots, q->req_prod_pvt), &c);
    q->req_prod_pvt++;
    pthread_t flipper;
    bool flipping = a == BF_ATTACK_DOUBLE_FETCH && pthread_create(&flipper, NULL, flip, &fl) == 0;
    bf_push_requests(q);
    int rc = 0;
    for (int waited = 0; !ans.done && waited < timeout_ms && rc == 0; waited += 50)
        rc = blkfront_wait(f, 50);
    if (flipping) {
        __atomic_store_n(&fl.stop, true, __ATOMIC_RELEASE);
        pthread_join(flipper, NULL);
    }
    if (rc < 0)
        return -1;
    if (!ans.done) {
        /* Leave the slot taken: the backend may still answer later. */
        return 1;
    }
    *status = (int16_t)ans.status;
    return 0;
}
