/* blkfront's handshake, in the order Linux xen-blkfront does it
 * (talk_to_blkback, blkfront_connect): wait for the backend's InitWait, read
 * its transport features, set up rings, write ring-ref(s) / event-channel(s)
 * / protocol / feature-persistent in one transaction, go Initialised, wait
 * for Connected, read the disk's size and features, go Connected. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "blkfront_priv.h"

static int write_queue_keys(struct blkfront *f, xs_transaction_t t, unsigned int i)
{
    char dir[200], key[32];
    struct bf_queue *q = &f->q[i];
    if (f->info.queues > 1)
        snprintf(dir, sizeof(dir), "%s/queue-%u", f->bus.fe_path, i);
    else
        snprintf(dir, sizeof(dir), "%s", f->bus.fe_path);
    if (f->info.ring_pages == 1) {
        if (pv_xs_printf(f->bus.xs, t, dir, "ring-ref", "%u", q->ring_refs[0]) < 0)
            return -1;
    } else {
        unsigned int order = 0;
        while ((1u << order) < f->info.ring_pages)
            order++;
        if (pv_xs_printf(f->bus.xs, t, dir, "ring-page-order", "%u", order) < 0)
            return -1;
        for (unsigned int p = 0; p < f->info.ring_pages; p++) {
            snprintf(key, sizeof(key), "ring-ref%u", p);
            if (pv_xs_printf(f->bus.xs, t, dir, key, "%u", q->ring_refs[p]) < 0)
                return -1;
        }
    }
    return pv_xs_printf(f->bus.xs, t, dir, "event-channel", "%u", q->port);
}

static int transport_txn(struct pv_xs *xs, xs_transaction_t t, void *arg)
{
    struct blkfront *f = arg;
    /* Keys of an earlier connection (another queue count or ring size)
     * must not outlive it. */
    unsigned int n = 0;
    char **keys = pv_xs_directory(xs, t, f->bus.fe_path, &n);
    for (unsigned int i = 0; keys && i < n; i++)
        if (!strncmp(keys[i], "queue-", 6) || !strncmp(keys[i], "ring-", 5) ||
            !strcmp(keys[i], "event-channel") || !strcmp(keys[i], "multi-queue-num-queues"))
            if (pv_xs_rm(xs, t, f->bus.fe_path, keys[i]) < 0) {
                free(keys);
                return -1;
            }
    free(keys);
    /* Written even for one queue, as Linux blkfront does (whose single
     * queue then keeps its keys at the top level). */
    if (pv_xs_printf(xs, t, f->bus.fe_path, "multi-queue-num-queues", "%u", f->info.queues) < 0)
        return -1;
    for (unsigned int i = 0; i < f->info.queues; i++)
        if (write_queue_keys(f, t, i) < 0)
            return -1;
    if (pv_xs_write_str(xs, t, f->bus.fe_path, "protocol",
                        f->opts.x86_32 ? XEN_IO_PROTO_ABI_X86_32 : XEN_IO_PROTO_ABI_X86_64) < 0 ||
        pv_xs_printf(xs, t, f->bus.fe_path, "feature-persistent", "%u",
                     f->opts.persistent ? 1 : 0) < 0)
        return -1;
    return 0;
}

static int negotiate(struct blkfront *f, char *err, size_t errlen)
{
    /* A backend still Closed from an earlier connection leaves that state
     * when it sees us Initialising: no early failure here. */
    if (fe_wait_be(&f->bus, XenbusStateInitWait, false, err, errlen) < 0)
        return -1;
    unsigned int max_order = fe_be_uint(&f->bus, "max-ring-page-order", 0);
    unsigned int max_queues = fe_be_uint(&f->bus, "multi-queue-max-queues", 1);
    unsigned int order = f->opts.ring_order < max_order ? f->opts.ring_order : max_order;
    if (order > 4)
        order = 4;
    f->info.ring_pages = 1u << order;
    f->info.queues = f->opts.queues < max_queues ? f->opts.queues : max_queues;
    if (f->info.queues == 0)
        f->info.queues = 1;
    if (f->info.queues > BF_MAX_QUEUES)
        f->info.queues = BF_MAX_QUEUES;
    f->info.persistent = f->opts.persistent && fe_be_uint(&f->bus, "feature-persistent", 0);
    if (f->segs_per_slot == 0) { /* fixed at the first connect: the slots keep their pages */
        unsigned int ind =
            f->opts.indirect ? fe_be_uint(&f->bus, "feature-max-indirect-segments", 0) : 0;
        if (ind > BF_MAX_SEGS)
            ind = BF_MAX_SEGS;
        f->info.max_indirect_segments = ind > BLKIF_MAX_SEGMENTS_PER_REQUEST ? ind : 0;
        f->segs_per_slot = f->info.max_indirect_segments ? f->info.max_indirect_segments
                                                         : BLKIF_MAX_SEGMENTS_PER_REQUEST;
        f->info.max_io = (size_t)f->segs_per_slot * PV_PAGE_SIZE;
        /* Enough pages for every slot's largest request, within the grant
         * table; fewer make requests wait for pages. */
        uint64_t want = (uint64_t)f->opts.depth * f->info.queues * (f->segs_per_slot + 1);
        if (bf_pages_init(f, want < BF_GRANT_BUDGET ? (uint32_t)want : BF_GRANT_BUDGET, err,
                          errlen) < 0)
            return -1;
    }
    for (unsigned int i = 0; i < f->info.queues; i++)
        if (bf_queue_setup(f, &f->q[i], err, errlen) < 0)
            return -1;
    if (pv_xs_transaction(f->bus.xs, transport_txn, f) < 0) {
        snprintf(err, errlen, "writing the transport keys: %s", pv_xs_error(f->bus.xs));
        return -1;
    }
    if (fe_set_state(&f->bus, XenbusStateInitialised, err, errlen) < 0 ||
        fe_wait_be(&f->bus, XenbusStateConnected, true, err, errlen) < 0)
        return -1;
    uint64_t sectors = 0;
    if (pv_xs_read_u64(f->bus.xs, XBT_NULL, f->bus.be_path, "sectors", 0, UINT64_MAX, &sectors) <
        0) {
        snprintf(err, errlen, "%s", pv_xs_error(f->bus.xs));
        return -1;
    }
    f->info.sectors = sectors;
    f->info.sector_size = fe_be_uint(&f->bus, "sector-size", 512);
    f->info.physical_sector_size = fe_be_uint(&f->bus, "physical-sector-size", f->info.sector_size);
    f->info.vdisk_info = fe_be_uint(&f->bus, "info", 0);
    f->info.flush = fe_be_uint(&f->bus, "feature-flush-cache", 0);
    f->info.barrier = fe_be_uint(&f->bus, "feature-barrier", 0);
    f->info.discard = fe_be_uint(&f->bus, "feature-discard", 0);
    f->info.discard_secure = fe_be_uint(&f->bus, "discard-secure", 0);
    return fe_set_state(&f->bus, XenbusStateConnected, err, errlen);
}

struct blkfront *blkfront_open(const struct blkfront_opts *opts, char *err, size_t errlen)
{
    struct blkfront *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->opts = *opts;
    if (!f->opts.queues)
        f->opts.queues = 1;
    if (!f->opts.depth)
        f->opts.depth = 32;
    if (!f->opts.timeout_ms)
        f->opts.timeout_ms = 10000;
    f->abi = opts->x86_32 ? BLKIF_ABI_X86_32 : BLKIF_ABI_X86_64;
    if (fe_bus_open(&f->bus, "vbd", opts->devid, f->opts.timeout_ms, &f->shr, err, errlen) < 0) {
        free(f);
        return NULL;
    }
    if (negotiate(f, err, errlen) < 0) {
        blkfront_close(f);
        return NULL;
    }
    return f;
}

const struct blkfront_info *blkfront_info(const struct blkfront *f)
{
    return &f->info;
}

/* New rings and event channels, a new handshake, and every unanswered
 * request put on the new rings (Linux's blkif_recover). */
static int reattach(struct blkfront *f, char *err, size_t errlen)
{
    for (unsigned int i = 0; i < f->info.queues; i++)
        bf_queue_drop_ring(f, &f->q[i]);
    unsigned int queues = f->info.queues;
    if (negotiate(f, err, errlen) < 0)
        return -1;
    if (f->info.queues != queues) {
        snprintf(err, errlen, "the backend changed the number of queues (%u -> %u)", queues,
                 f->info.queues);
        return -1;
    }
    for (unsigned int i = 0; i < f->info.queues; i++)
        bf_queue_replay(f, &f->q[i]);
    return 0;
}

int blkfront_reconnect(struct blkfront *f, char *err, size_t errlen)
{
    /* A restarted frontend starts over: Initialising makes the backend
     * disconnect (unmapping our rings) and go back to InitWait. */
    if (fe_set_state(&f->bus, XenbusStateInitialising, err, errlen) < 0 ||
        fe_wait_be(&f->bus, XenbusStateInitWait, true, err, errlen) < 0)
        return -1;
    return reattach(f, err, errlen);
}

/* After a migration (blkfront_resume in Linux): the domain has a new id,
 * xenstore and backend; the toolstack wrote our directory there anew
 * (Initialising). The old rings' memory came along, but the source backend
 * has closed them: what it answered before closing is left unread and
 * replayed, as Linux does. */
/* After a migration (blkfront_resume in Linux): the domain has a new id,
 * xenstore and backend; the toolstack wrote our directory there anew
 * (Initialising). The old rings' memory came along, but the source backend
 * has closed them: what it answered before closing is left unread and
 * replayed, as Linux does. */
int bf_follow_home(struct blkfront *f)
{
    char err[512];

    if (!fe_moved(&f->bus))
        return 0;
    if (fe_follow_home(&f->bus, err, sizeof(err)) < 0 || reattach(f, err, sizeof(err)) < 0) {
        fprintf(stderr, "blkfront: vbd %u: resume after migration: %s\n", f->opts.devid, err);
        errno = EIO;
        return -1;
    }
    fprintf(stderr, "blkfront: vbd %u: resumed in domain %u, %u requests replayed\n", f->opts.devid,
            pv_platform_self_domid(), blkfront_in_flight(f));
    return 0;
}

void blkfront_close(struct blkfront *f)
{
    if (!f)
        return;
    if (f->info.queues && f->q[0].sring) {
        for (int i = 0; i < 100 && blkfront_in_flight(f); i++)
            if (blkfront_wait(f, 100) < 0)
                break;
        fe_close_device(&f->bus);
    }
    for (unsigned int i = 0; i < BF_MAX_QUEUES; i++) {
        bf_queue_drop_ring(f, &f->q[i]);
        bf_queue_free_slots(f, &f->q[i]);
    }
    bf_pages_fini(f);
    if (f->shr)
        pv_gntshr_close(f->shr);
    fe_bus_close(&f->bus);
    free(f);
}
