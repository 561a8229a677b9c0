/* Executing a validated request: fetching indirect segments, reaching the
 * guest's pages (persistent grants; otherwise grant copies through bounce
 * pages, or past their bound one mapping per request), copying requests the
 * disk would split through a contiguous buffer (contig.h), and driving
 * the storage operations:
 *   READ / WRITE          one read or write
 *   DISCARD               one discard (secure where asked and offered)
 *   FLUSH, no data        one flush
 *   FLUSH / BARRIER, data flush, write, flush: earlier writes are durable
 *                         before this one, and this one before the response
 *                         (Linux blkfront sends FUA writes this way). */
#include <errno.h>
#include <string.h>
#include <stdint.h>
#include <xen/grant_table.h>

#include "bounce.h"
#include "contig.h"
#include "pgrant.h"
#include "vbd.h"

enum stage {
    STAGE_ONLY,      /* the single storage op of the request */
    STAGE_PREFLUSH,  /* flush before the data */
    STAGE_DATA,      /* the data of a flush request */
    STAGE_POSTFLUSH, /* flush after the data */
};

/* A bad grant from the guest: answer, then fail the device. */
static void bad_grant(struct vbd_req *q, const char *what, uint32_t gref, int16_t st)
{
    vbd_io_release(q);
    vbd_ring_fail(q, BLKIF_RSP_ERROR, "request %#llx: %s (grant %u, status %d)",
                  (unsigned long long)q->op.id, what, gref, st);
}

static void finish(struct vbd_req *q, int16_t status)
{
    vbd_io_release(q);
    vbd_ring_complete(q, status);
}

/* Maps n of the guest's pages for one request only, contiguously. NULL
 * after answering q and failing the device (a bad grant is a protocol
 * violation). */
static void *map_one_off(struct vbd_req *q, const uint32_t *refs, unsigned int n, bool writable,
                         const char *what)
{
    struct vbd *v = vbd_ring_vbd(q->ring);
    int16_t status[BLKIF_OP_MAX_SEGS];
    void *pages = pv_gnt_map(v->gnt, pv_xenbus_dev_fe_domid(v->xdev), n, refs, writable, status);
    if (!pages) {
        unsigned int bad = 0;
        while (bad + 1u < n && status[bad] == GNTST_okay)
            bad++;
        bad_grant(q, what, refs[bad], status[bad]);
    }
    return pages;
}

/* The page of gref through the persistent grant cache: the mapping (held by
 * q until vbd_io_release), or NULL with *full set when the cache is full, or
 * NULL after failing q for a bad grant. */
static void *cached_page(struct vbd_req *q, struct pgrant_cache *pgc, uint32_t gref,
                         const char *what, bool *full)
{
    int16_t st;
    struct pgrant *p = pgrant_get(pgc, gref, &st);
    *full = !p && st == GNTST_okay;
    if (p) {
        q->held[q->nr_held++] = p;
        return p->page;
    }
    if (!*full)
        bad_grant(q, what, gref, st);
    return NULL;
}

static uint16_t guest_domid(struct vbd_req *q)
{
    return (uint16_t)pv_xenbus_dev_fe_domid(vbd_ring_vbd(q->ring)->xdev);
}

/* One batch of grant copies for q. Returns 0, or -1 after answering q: a
 * bad grant fails the device (a protocol violation), a batch the platform
 * could not take is only an I/O error. */
static int grant_copy(struct vbd_req *q, xengnttab_grant_copy_segment_t *c, unsigned int n,
                      const char *what)
{
    struct vbd *v = vbd_ring_vbd(q->ring);
    if (pv_gnt_copy(v->gnt, n, c) < 0) {
        pv_dev_warn(v->xdev, "request %#llx: grant copy failed: %s", (unsigned long long)q->op.id,
                    strerror(errno));
        finish(q, BLKIF_RSP_ERROR);
        return -1;
    }
    for (unsigned int k = 0; k < n; k++) {
        if (c[k].status != GNTST_okay) {
            bool to_guest = c[k].flags & GNTCOPY_dest_gref;
            bad_grant(q, what, to_guest ? c[k].dest.foreign.ref : c[k].source.foreign.ref,
                      c[k].status);
            return -1;
        }
    }
    return 0;
}

/* Copies the bounced segments of q between the guest's pages and the bounce
 * pages: into them for a write (before the storage reads them), back to the
 * guest for a read (after the storage filled them). 0, or -1 after
 * answering q. */
static int copy_bounced(struct vbd_req *q, bool to_guest)
{
    xengnttab_grant_copy_segment_t c[BLKIF_OP_MAX_SEGS];
    for (unsigned int k = 0; k < q->nr_bounce; k++) {
        unsigned int i = q->bounce_seg[k];
        const struct blkif_seg *s = &q->op.seg[i];
        union xengnttab_copy_ptr guest = {
            .foreign = {.ref = s->gref,
                        .offset = (uint16_t)(s->first_sect << 9),
                        .domid = guest_domid(q)},
        };
        union xengnttab_copy_ptr local = {.virt = q->iov[i].iov_base};
        c[k] = (xengnttab_grant_copy_segment_t){
            .source = to_guest ? local : guest,
            .dest = to_guest ? guest : local,
            .len = (uint16_t)q->iov[i].iov_len,
            .flags = to_guest ? GNTCOPY_dest_gref : GNTCOPY_source_gref,
        };
    }
    return grant_copy(q, c, q->nr_bounce, "cannot copy a data page");
}

/* Copies the segment descriptors out of the indirect pages once, then
 * validates that private copy. A frontend with persistent grants keeps
 * reusing its few indirect pages, so they come from the cache as in Linux
 * blkback (mapping them per request costs two grant operations each time).
 * Returns 0, or -1 after completing q. */
static int fetch_indirect(struct vbd_req *q)
{
    struct vbd *v = vbd_ring_vbd(q->ring);
    struct pgrant_cache *pgc = vbd_ring_pgrants(q->ring);
    /* Page-aligned, so that a grant copy into it never crosses a page
     * (gntdev takes a local buffer page by page). */
    _Alignas(PV_PAGE_SIZE) struct blkif_request_segment segs[BLKIF_OP_MAX_SEGS];
    _Static_assert(sizeof(segs) <= PV_PAGE_SIZE, "the segments fit in one page");
    const size_t per_page = PV_PAGE_SIZE / sizeof(segs[0]);
    static const char what[] = "cannot map an indirect page";

    for (unsigned int i = 0; i < q->op.nr_indirect_pages; i++) {
        size_t first = i * per_page, n = q->op.nr_segs - first;
        size_t bytes = (n < per_page ? n : per_page) * sizeof(segs[0]);
        bool full = true;
        void *page = pgc ? cached_page(q, pgc, q->op.indirect_grefs[i], what, &full) : NULL;
        if (page) {
            memcpy(segs + first, page, bytes);
            pgrant_put(pgc, q->held[--q->nr_held]);
            continue;
        }
        if (!full)
            return -1;
        /* Without a cached mapping: one grant copy straight into segs. */
        xengnttab_grant_copy_segment_t c = {
            .source.foreign = {.ref = q->op.indirect_grefs[i], .domid = guest_domid(q)},
            .dest.virt = segs + first,
            .len = (uint16_t)bytes,
            .flags = GNTCOPY_source_gref,
        };
        if (grant_copy(q, &c, 1, what) < 0)
            return -1;
    }

    const char *why = NULL;
    int16_t st = blkif_req_parse_indirect(&q->op, &v->props, segs, &why);
    if (st != BLKIF_RSP_OKAY) {
        vbd_ring_fail(q, st, "bad indirect request: %s", why);
        return -1;
    }
    return 0;
}

/* Copies between q's pages (its iovec) and its contiguous buffer: gathers
 * a write's data into it, or scatters a read's out of it. */
static void copy_contig(struct vbd_req *q, bool to_pages)
{
    char *at = q->contig;
    for (int i = 0; i < q->iovcnt; i++) {
        if (to_pages)
            memcpy(q->iov[i].iov_base, at, q->iov[i].iov_len);
        else
            memcpy(at, q->iov[i].iov_base, q->iov[i].iov_len);
        at += q->iov[i].iov_len;
    }
}

/* A request of more segments than the disk takes in one request goes
 * through a contiguous buffer, where the ring has one free (contig.h). */
static void use_contig(struct vbd_req *q)
{
    struct vbd *v = vbd_ring_vbd(q->ring);
    if (!v->contig_above || q->op.nr_segs <= v->contig_above ||
        !(q->contig = contig_get(vbd_ring_contig(q->ring))))
        return;
    /* The parser made nr_sectors the sum of the segments. */
    q->contig_iov = (struct iovec){q->contig, (size_t)q->op.nr_sectors << BLKIF_SECTOR_SHIFT};
    if (q->op.kind != BLKIF_KIND_READ)
        copy_contig(q, false);
}

/* Reaches the data pages and builds the iovec: through the persistent grant
 * cache where there is one; each page without a cached mapping through a
 * bounce page (a write's data copied in now, a read's copied out when it
 * completes), or past the bounce bound mapped for this request only (all of
 * them in one grant operation). Returns 0, or -1 after answering q (and
 * failing the device for a bad grant). */
static int map_data(struct vbd_req *q)
{
    struct pgrant_cache *pgc = vbd_ring_pgrants(q->ring);
    const struct blkif_op *op = &q->op;
    static const char what[] = "cannot map a data page";
    void *page[BLKIF_OP_MAX_SEGS];
    void *bounce[BLKIF_OP_MAX_SEGS];
    uint32_t miss_ref[BLKIF_OP_MAX_SEGS];
    uint16_t miss_seg[BLKIF_OP_MAX_SEGS];
    unsigned int misses = 0;

    q->nr_held = 0;
    for (unsigned int i = 0; i < op->nr_segs; i++) {
        bool full = true;
        page[i] = pgc ? cached_page(q, pgc, op->seg[i].gref, what, &full) : NULL;
        if (page[i])
            continue;
        if (!full)
            return -1;
        miss_seg[misses] = (uint16_t)i;
        miss_ref[misses++] = op->seg[i].gref;
    }
    bool bounced = misses && bounce_get(vbd_ring_bounce(q->ring), misses, bounce) == 0;
    if (bounced) {
        for (unsigned int m = 0; m < misses; m++) {
            page[miss_seg[m]] = bounce[m];
            q->bounce_seg[m] = miss_seg[m];
        }
        q->nr_bounce = (uint16_t)misses;
    } else if (misses) {
        /* Past the bounce bound: mapped for this request. Reads write into
         * the guest's pages; writes only read them. */
        q->map = map_one_off(q, miss_ref, misses, op->kind == BLKIF_KIND_READ, what);
        if (!q->map)
            return -1;
        q->map_count = misses;
        for (unsigned int m = 0; m < misses; m++)
            page[miss_seg[m]] = (char *)q->map + (size_t)m * PV_PAGE_SIZE;
    }
    for (unsigned int i = 0; i < op->nr_segs; i++) {
        q->iov[i].iov_base = (char *)page[i] + ((size_t)op->seg[i].first_sect << 9);
        q->iov[i].iov_len = ((size_t)op->seg[i].last_sect - op->seg[i].first_sect + 1) << 9;
    }
    q->iovcnt = op->nr_segs;
    if (bounced && op->kind != BLKIF_KIND_READ && copy_bounced(q, false) < 0)
        return -1; /* a write, or a flush's data */
    use_contig(q);
    return 0;
}

void vbd_io_release(struct vbd_req *q)
{
    struct vbd *v = vbd_ring_vbd(q->ring);
    struct pgrant_cache *pgc = vbd_ring_pgrants(q->ring);
    while (q->nr_held)
        pgrant_put(pgc, q->held[--q->nr_held]);
    while (q->nr_bounce) {
        unsigned int i = q->bounce_seg[--q->nr_bounce];
        uintptr_t page = (uintptr_t)q->iov[i].iov_base & ~(uintptr_t)(PV_PAGE_SIZE - 1);
        bounce_put(vbd_ring_bounce(q->ring), (void *)page);
    }
    if (q->map) {
        pv_gnt_unmap(v->gnt, q->map, q->map_count);
        q->map = NULL;
        q->map_count = 0;
    }
    if (q->contig) {
        contig_put(vbd_ring_contig(q->ring), q->contig);
        q->contig = NULL;
    }
}

static int submit(struct vbd_req *q, enum stage stage, enum pv_storage_op op)
{
    struct vbd *v = vbd_ring_vbd(q->ring);
    q->stage = stage;
    q->sreq = (struct pv_storage_req){
        .op = op,
        .offset = q->op.sector << BLKIF_SECTOR_SHIFT,
        .length = q->op.nr_sectors << BLKIF_SECTOR_SHIFT,
        .iov = q->contig ? &q->contig_iov : q->iov,
        .iovcnt = q->contig ? 1 : q->iovcnt,
        .cb = vbd_io_storage_done,
        .arg = q,
    };
    int rc = pv_storage_submit(v->st, &q->sreq);
    if (rc < 0) {
        pv_dev_warn(v->xdev, "request %#llx: storage refused it: %s", (unsigned long long)q->op.id,
                    strerror(-rc));
        finish(q, BLKIF_RSP_ERROR);
    }
    return rc;
}

void vbd_io_start(struct vbd_req *q)
{
    q->map = NULL;
    q->map_count = 0;
    q->nr_held = 0;
    q->nr_bounce = 0;
    q->contig = NULL;
    q->iovcnt = 0;
    q->status = BLKIF_RSP_OKAY;
    if (q->op.indirect && fetch_indirect(q) < 0)
        return;
    switch (q->op.kind) {
    case BLKIF_KIND_DISCARD:
        submit(q, STAGE_ONLY, q->op.secure ? PV_STORAGE_SECURE_DISCARD : PV_STORAGE_DISCARD);
        return;
    case BLKIF_KIND_FLUSH:
        submit(q, q->op.nr_segs ? STAGE_PREFLUSH : STAGE_ONLY, PV_STORAGE_FLUSH);
        return;
    case BLKIF_KIND_READ:
    case BLKIF_KIND_WRITE:
        if (map_data(q) < 0)
            return;
        submit(q, STAGE_ONLY, q->op.kind == BLKIF_KIND_READ ? PV_STORAGE_READ : PV_STORAGE_WRITE);
        return;
    }
}

void vbd_io_storage_done(struct pv_storage_req *sreq, int64_t result)
{
    struct vbd_req *q = sreq->arg;
    struct vbd *v = vbd_ring_vbd(q->ring);
    if (result < 0) {
        pv_dev_warn(v->xdev, "request %#llx: I/O error at sector %llu: %s",
                    (unsigned long long)q->op.id, (unsigned long long)q->op.sector,
                    strerror((int)-result));
        finish(q, result == -EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR);
        return;
    }
    switch (q->stage) {
    case STAGE_PREFLUSH:
        if (map_data(q) < 0)
            return;
        submit(q, STAGE_DATA, PV_STORAGE_WRITE);
        return;
    case STAGE_DATA:
        submit(q, STAGE_POSTFLUSH, PV_STORAGE_FLUSH);
        return;
    default:
        if (q->contig && q->op.kind == BLKIF_KIND_READ)
            copy_contig(q, true);
        if (q->nr_bounce && q->op.kind == BLKIF_KIND_READ && copy_bounced(q, true) < 0)
            return;
        finish(q, BLKIF_RSP_OKAY);
        return;
    }
}
