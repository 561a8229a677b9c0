/* Grant mapping, copying and sharing, with the checks of Xen's
 * common/grant_table.c for v1 entries:
 *  - a grant is usable when its type is GTF_permit_access and its domid is
 *    the mapping domain (checked at first pin; later pins use what the first
 *    latched, like Xen's active entry), else GNTST_general_error;
 *  - a writable pin of a GTF_readonly grant fails with GNTST_general_error;
 *  - GTF_reading (any pin) and GTF_writing (writable pins) are set with a
 *    cmpxchg on the entry's flags+domid word, so that a guest changing the
 *    entry at the same moment is either seen whole or retried, and cleared
 *    when the last such pin goes;
 *  - an unknown domain is GNTST_bad_domain, a ref past the table
 *    GNTST_bad_gntref, a frame outside the granting domain's memory
 *    GNTST_bad_page, a copy crossing a page GNTST_bad_copy_arg. */
#include "hv_internal.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define PAGE 4096u

static uint32_t *entry_word(struct hv_domain *rd, uint32_t ref)
{
    /* flags (low half) and domid (high half) of a v1 entry, as one word. */
    return (uint32_t *)(void *)&rd->gt[ref];
}

int16_t hv_gref_pin(struct hv_domain *rd, uint32_t ref, unsigned ldomid, bool writable)
{
    struct hv_gref *a;
    uint32_t *word, old, frame;

    if (ref >= HV_GNTTAB_ENTRIES)
        return GNTST_bad_gntref;
    a = &rd->grefs[ref];
    if (a->rd_pins && a->domid != ldomid)
        return GNTST_general_error;
    word = entry_word(rd, ref);
    old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    for (int tries = 0;; tries++) {
        uint16_t flags = (uint16_t)(old & 0xffff), domid = (uint16_t)(old >> 16);
        uint32_t want = old | GTF_reading;

        if (!a->rd_pins && ((flags & GTF_type_mask) != GTF_permit_access || domid != ldomid))
            return GNTST_general_error;
        if (writable) {
            if (flags & GTF_readonly)
                return GNTST_general_error;
            want |= GTF_writing;
        }
        if (__atomic_compare_exchange_n(word, &old, want, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            break;
        if (tries == 4) /* the guest keeps changing it under us */
            return GNTST_general_error;
    }
    if (!a->rd_pins) {
        frame = __atomic_load_n(&rd->gt[ref].frame, __ATOMIC_ACQUIRE);
        a->frame = frame;
        a->domid = (uint16_t)ldomid;
    }
    a->rd_pins++;
    if (writable)
        a->wr_pins++;
    if (a->frame >= rd->nr_frames) {
        hv_gref_unpin(rd, ref, writable);
        return GNTST_bad_page;
    }
    return GNTST_okay;
}

/* Ends a shared grant (what the guest kernel's end_foreign_access does) and
 * gives its ref and frame back. Only called with no pins. */
static void release_share(struct hv_domain *d, uint32_t ref)
{
    struct hv_gref *a = &d->grefs[ref];

    __atomic_store_n(&d->gt[ref].flags, 0, __ATOMIC_RELEASE);
    hv_frame_free(d, a->share_frame);
    if (a->owner)
        a->owner->shared--;
    a->owner = NULL;
    a->state = HV_GREF_FREE;
    d->refs_used--;
}

void hv_gref_unpin(struct hv_domain *rd, uint32_t ref, bool writable)
{
    struct hv_gref *a = &rd->grefs[ref];
    uint16_t clear = 0;

    a->rd_pins--;
    if (writable && --a->wr_pins == 0)
        clear |= GTF_writing;
    if (a->rd_pins == 0)
        clear |= GTF_reading;
    if (clear)
        __atomic_fetch_and(&rd->gt[ref].flags, (uint16_t)~clear, __ATOMIC_ACQ_REL);
    if (a->rd_pins == 0 && a->state == HV_GREF_ORPHAN)
        release_share(rd, ref);
}

static void unpin_all(struct hv_domain *rd, const uint32_t *refs, uint32_t count,
                      const struct hv_map_item *items, bool writable)
{
    for (uint32_t i = 0; i < count; i++)
        if (items[i].status == GNTST_okay)
            hv_gref_unpin(rd, refs[i], writable);
}

size_t hv_grant_map(struct hv_conn *c, const struct hv_req *req, const uint32_t *refs, int *fd_out)
{
    struct hv *hv = c->hv;
    struct hv_map_item *items = hv_rep_items(hv);
    struct hv_domain *rd = hv_domain_find(hv, req->arg[0]);
    bool writable = req->arg[1] != 0, failed = false;
    uint32_t count = req->count;
    struct hv_mapping *m;

    if (count == 0)
        return hv_reply(hv, EINVAL, 0, 0, 0, 0);
    if (c->mapped_pages + count > HV_MAX_MAPPED_PAGES ||
        c->dom->mapped_pages + count > HV_MAX_MAPPED_PAGES_DOM)
        return hv_reply(hv, ENOMEM, 0, 0, 0, 0);
    for (uint32_t i = 0; i < count; i++) {
        items[i].pad = 0;
        items[i].frame = 0;
        items[i].status = rd ? hv_gref_pin(rd, refs[i], c->dom->domid, writable) : GNTST_bad_domain;
        if (items[i].status == GNTST_okay)
            items[i].frame = rd->grefs[refs[i]].frame;
        else
            failed = true;
    }
    if (failed) {
        if (rd)
            unpin_all(rd, refs, count, items, writable);
        return hv_reply(hv, EINVAL, 0, 0, count, sizeof(*items));
    }
    m = malloc(sizeof(*m) + count * sizeof(uint32_t));
    if (!m) {
        unpin_all(rd, refs, count, items, writable);
        return hv_reply(hv, ENOMEM, 0, 0, 0, 0);
    }
    m->id = ++c->next_map_id;
    m->dom = rd;
    m->writable = writable;
    m->count = count;
    memcpy(m->refs, refs, count * sizeof(uint32_t));
    m->next = c->maps;
    c->maps = m;
    c->mapped_pages += count;
    c->dom->mapped_pages += count;
    rd->maps++;
    *fd_out = writable ? rd->mem_fd : rd->mem_ro_fd;
    return hv_reply(hv, 0, m->id, 0, count, sizeof(*items));
}

static void drop_mapping(struct hv_conn *c, struct hv_mapping *m)
{
    for (uint32_t i = 0; i < m->count; i++)
        hv_gref_unpin(m->dom, m->refs[i], m->writable);
    c->mapped_pages -= m->count;
    c->dom->mapped_pages -= m->count;
    hv_domain_put(m->dom);
    free(m);
}

size_t hv_grant_unmap(struct hv_conn *c, const struct hv_req *req)
{
    for (struct hv_mapping **pp = &c->maps; *pp; pp = &(*pp)->next) {
        struct hv_mapping *m = *pp;
        if (m->id == req->arg[0]) {
            *pp = m->next;
            drop_mapping(c, m);
            return hv_reply(c->hv, 0, 0, 0, 0, 0);
        }
    }
    return hv_reply(c->hv, EINVAL, 0, 0, 0, 0);
}

/* --- grant copy --- */

struct copy_side {
    struct hv_domain *rd; /* NULL: a local address */
    uint8_t *ptr;         /* into rd's memory */
    uint64_t addr;        /* local */
    bool pinned;
};

struct copy_state {
    struct copy_side src[HV_MAX_BATCH], dst[HV_MAX_BATCH];
};

static int16_t copy_side_acquire(struct hv_conn *c, const struct hv_copy_side *s, bool gref,
                                 uint16_t len, bool writable, struct copy_side *out)
{
    int16_t st;

    memset(out, 0, sizeof(*out));
    if (!gref) {
        out->addr = s->addr;
        return GNTST_okay;
    }
    if ((uint32_t)s->offset + len > PAGE)
        return GNTST_bad_copy_arg;
    out->rd = hv_domain_find(c->hv, s->domid);
    if (!out->rd)
        return GNTST_bad_domain;
    st = hv_gref_pin(out->rd, s->ref, c->dom->domid, writable);
    if (st != GNTST_okay)
        return st;
    out->pinned = true;
    out->ptr = out->rd->mem + (uint64_t)out->rd->grefs[s->ref].frame * PAGE + s->offset;
    return GNTST_okay;
}

/* True while the connection's process is the one that connected, so that a
 * recycled pid never exposes another process's memory. */
static bool peer_alive(const struct hv_conn *c)
{
    return hv_pidref_alive(&c->peer);
}

/* Copies a run of segments that all have a local side in the same
 * direction with one process_vm_readv/writev; if that falls short (a bad
 * local address), redoes them one by one to find which failed. */
static void copy_local_run(struct hv_conn *c, const struct hv_copy_seg *segs, struct copy_state *cs,
                           int16_t *status, uint32_t from, uint32_t to, bool to_local)
{
    static struct iovec liov[HV_MAX_BATCH], riov[HV_MAX_BATCH];
    uint32_t n = 0;
    size_t total = 0;
    ssize_t done;

    for (uint32_t i = from; i < to; i++) {
        if (status[i] != GNTST_okay)
            continue;
        liov[n].iov_base = to_local ? cs->src[i].ptr : cs->dst[i].ptr;
        riov[n].iov_base = (void *)(uintptr_t)(to_local ? cs->dst[i].addr : cs->src[i].addr);
        liov[n].iov_len = riov[n].iov_len = segs[i].len;
        total += segs[i].len;
        n++;
    }
    if (n == 0)
        return;
    if (!peer_alive(c)) {
        for (uint32_t i = from; i < to; i++)
            if (status[i] == GNTST_okay)
                status[i] = GNTST_general_error;
        return;
    }
    done = to_local ? process_vm_writev(c->peer.pid, liov, n, riov, n, 0)
                    : process_vm_readv(c->peer.pid, liov, n, riov, n, 0);
    if (done >= 0 && (size_t)done == total)
        return;
    for (uint32_t i = from; i < to; i++) {
        struct iovec l, r;
        if (status[i] != GNTST_okay)
            continue;
        l.iov_base = to_local ? cs->src[i].ptr : cs->dst[i].ptr;
        r.iov_base = (void *)(uintptr_t)(to_local ? cs->dst[i].addr : cs->src[i].addr);
        l.iov_len = r.iov_len = segs[i].len;
        done = to_local ? process_vm_writev(c->peer.pid, &l, 1, &r, 1, 0)
                        : process_vm_readv(c->peer.pid, &l, 1, &r, 1, 0);
        if (done < 0 || (size_t)done != segs[i].len)
            status[i] = GNTST_bad_virt_addr;
    }
}

size_t hv_grant_copy(struct hv_conn *c, const struct hv_req *req, const struct hv_copy_seg *segs)
{
    static struct copy_state cs;
    struct hv *hv = c->hv;
    int16_t *status = hv_rep_items(hv);
    uint32_t count = req->count, run_from = 0;
    int run_dir = 0; /* 0 none, 1 to local, 2 from local */

    for (uint32_t i = 0; i < count; i++) {
        const struct hv_copy_seg *s = &segs[i];
        bool sg = s->flags & HV_COPY_SRC_GREF, dg = s->flags & HV_COPY_DST_GREF;

        memset(&cs.src[i], 0, sizeof(cs.src[i]));
        memset(&cs.dst[i], 0, sizeof(cs.dst[i]));
        if (s->len > PAGE || (s->flags & ~(HV_COPY_SRC_GREF | HV_COPY_DST_GREF))) {
            status[i] = GNTST_bad_copy_arg;
            continue;
        }
        if (!sg && !dg) { /* gntdev refuses local-to-local copies */
            status[i] = GNTST_general_error;
            continue;
        }
        status[i] = copy_side_acquire(c, &s->src, sg, s->len, false, &cs.src[i]);
        if (status[i] == GNTST_okay)
            status[i] = copy_side_acquire(c, &s->dst, dg, s->len, true, &cs.dst[i]);
    }

    /* Copy in order; consecutive segments with a local side in the same
     * direction go in one system call. */
    for (uint32_t i = 0; i <= count; i++) {
        int dir = 0;
        if (i < count && status[i] == GNTST_okay) {
            bool sg = segs[i].flags & HV_COPY_SRC_GREF, dg = segs[i].flags & HV_COPY_DST_GREF;
            dir = sg && dg ? 0 : sg ? 1 : 2;
        } else if (i < count) {
            continue; /* failed segments do not break a run */
        }
        if (run_dir && dir != run_dir) {
            copy_local_run(c, segs, &cs, status, run_from, i, run_dir == 1);
            run_dir = 0;
        }
        if (i == count)
            break;
        if (dir == 0)
            memmove(cs.dst[i].ptr, cs.src[i].ptr, segs[i].len);
        else if (!run_dir) {
            run_dir = dir;
            run_from = i;
        }
    }

    for (uint32_t i = 0; i < count; i++) {
        if (cs.src[i].pinned)
            hv_gref_unpin(cs.src[i].rd, segs[i].src.ref, false);
        if (cs.dst[i].pinned)
            hv_gref_unpin(cs.dst[i].rd, segs[i].dst.ref, true);
    }
    return hv_reply(hv, 0, 0, 0, count, sizeof(*status));
}

/* --- grant sharing (guest side) --- */

size_t hv_grant_share(struct hv_conn *c, const struct hv_req *req)
{
    struct hv *hv = c->hv;
    struct hv_domain *d = c->dom;
    struct hv_share_item *items = hv_rep_items(hv);
    uint32_t count = req->count;

    if (count == 0 || count > HV_MAX_BATCH || req->arg[0] >= DOMID_FIRST_RESERVED)
        return hv_reply(hv, EINVAL, 0, 0, 0, 0);
    for (uint32_t i = 0; i < count; i++) {
        int err = 0;
        if (hv_ref_alloc(d, &items[i].ref) < 0)
            err = errno;
        else if (hv_frame_alloc(d, &items[i].frame) < 0) {
            err = errno;
            d->grefs[items[i].ref].state = HV_GREF_FREE;
            d->refs_used--;
        }
        if (err) {
            for (uint32_t j = 0; j < i; j++)
                release_share(d, items[j].ref);
            return hv_reply(hv, err, 0, 0, 0, 0);
        }
        d->grefs[items[i].ref].share_frame = items[i].frame;
        d->grefs[items[i].ref].owner = c;
        c->shared++;
    }
    return hv_reply(hv, 0, 0, 0, count, sizeof(*items));
}

size_t hv_grant_unshare(struct hv_conn *c, const struct hv_req *req, const uint32_t *refs)
{
    struct hv_domain *d = c->dom;

    for (uint32_t i = 0; i < req->count; i++) {
        if (refs[i] >= HV_GNTTAB_ENTRIES || d->grefs[refs[i]].state != HV_GREF_SHARED ||
            d->grefs[refs[i]].owner != c)
            return hv_reply(c->hv, EINVAL, 0, 0, 0, 0);
    }
    /* All or nothing, as the guest kernel checks each entry before ending
     * any: a grant still mapped (by our count, or by the flags the guest
     * sees) keeps the whole request from happening. */
    for (uint32_t i = 0; i < req->count; i++) {
        uint16_t flags = __atomic_load_n(&d->gt[refs[i]].flags, __ATOMIC_ACQUIRE);
        if (d->grefs[refs[i]].rd_pins || (flags & (GTF_reading | GTF_writing)))
            return hv_reply(c->hv, EBUSY, 0, 0, 0, 0);
    }
    for (uint32_t i = 0; i < req->count; i++)
        if (d->grefs[refs[i]].state == HV_GREF_SHARED) /* a ref listed twice */
            release_share(d, refs[i]);
    return hv_reply(c->hv, 0, 0, 0, 0, 0);
}

void hv_grant_conn_closed(struct hv_conn *c)
{
    while (c->maps) {
        struct hv_mapping *m = c->maps;
        c->maps = m->next;
        drop_mapping(c, m);
    }
    if (c->kind == HV_KIND_GNTSHR && c->shared) {
        struct hv_domain *d = c->dom;
        /* Like closing gntalloc: grants nobody maps end now; a grant still
         * mapped stays until the mapper lets go. */
        for (uint32_t r = 0; r < HV_GNTTAB_ENTRIES && c->shared; r++) {
            struct hv_gref *a = &d->grefs[r];
            if (a->state != HV_GREF_SHARED || a->owner != c)
                continue;
            if (a->rd_pins) {
                a->state = HV_GREF_ORPHAN;
                a->owner = NULL;
                c->shared--;
            } else {
                release_share(d, r);
            }
        }
    }
}
