/* Grant mapping, copying and sharing, with the checks of Xen's
 * common/grant_table.c for v1 entries (the checks and the copy engine are in
 * hv_gcopy.h, shared with dom0's clients, which copy without the daemon):
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
#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

int16_t hv_dom_pin(struct hv_domain *rd, uint32_t ref, unsigned ldomid, bool writable)
{
    return hv_gref_pin(&rd->g, ref, ldomid, writable, rd->hv->pid, NULL);
}

/* Ends a shared grant (what the guest kernel's end_foreign_access does) and
 * gives its ref and frame back. Only called with no pins. */
void hv_gref_release(struct hv_domain *d, uint32_t ref)
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

/* A ref whose handle closed while it was pinned is freed with its last pin;
 * a client-side copy that drops it leaves that to the next allocation. */
static void gref_idle(struct hv_domain *rd, uint32_t ref)
{
    if (rd->grefs[ref].state == HV_GREF_ORPHAN)
        hv_gref_release(rd, ref);
}

void hv_dom_unpin(struct hv_domain *rd, uint32_t ref, bool writable)
{
    if (hv_gref_unpin(&rd->g, ref, writable, rd->hv->pid, NULL))
        gref_idle(rd, ref);
}

static void unpin_all(struct hv_domain *rd, const uint32_t *refs, uint32_t count,
                      const struct hv_map_item *items, bool writable)
{
    for (uint32_t i = 0; i < count; i++)
        if (items[i].status == GNTST_okay)
            hv_dom_unpin(rd, refs[i], writable);
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
        items[i].status = rd ? hv_dom_pin(rd, refs[i], c->dom->domid, writable) : GNTST_bad_domain;
        if (items[i].status == GNTST_okay)
            items[i].frame = rd->g.act[refs[i]].frame;
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
        hv_dom_unpin(m->dom, m->refs[i], m->writable);
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

static struct hv_gdom *copy_lookup(void *arg, uint16_t domid)
{
    struct hv_domain *d = hv_domain_find(((struct hv_conn *)arg)->hv, domid);
    return d ? &d->g : NULL;
}

static void copy_idle(void *arg, struct hv_gdom *g, uint32_t ref)
{
    (void)arg;
    gref_idle((struct hv_domain *)((char *)g - offsetof(struct hv_domain, g)), ref);
}

/* The copy engine of hv_gcopy.h, the caller's addresses reached with
 * process_vm_readv/writev on the connecting process. dom0's clients copy
 * themselves with the same engine; this serves the other domains'. */
size_t hv_grant_copy(struct hv_conn *c, const struct hv_req *req, const struct hv_copy_seg *segs)
{
    static struct hv_copy_scratch cs;
    struct hv *hv = c->hv;
    int16_t *status = hv_rep_items(hv);
    struct hv_copy_ctx x = {
        .lookup = copy_lookup,
        .idle = copy_idle,
        .arg = c,
        .ldomid = c->dom->domid,
        .me = hv->pid,
        .pid = c->peer.pid,
    };

    /* Only while the connection's process is the one that connected, so
     * that a recycled pid never exposes another process's memory. */
    if (!hv_pidref_alive(&c->peer)) {
        for (uint32_t i = 0; i < req->count; i++)
            status[i] = GNTST_general_error;
    } else {
        hv_copy_batch(&x, segs, req->count, status, &cs);
    }
    return hv_reply(hv, 0, 0, 0, req->count, sizeof(*status));
}

/* --- dom0's direct access --- */

int hv_grant_conn_open(struct hv_conn *c, int *fd)
{
    if (c->dom->domid != 0)
        return 0;
    c->journal_fd = hv_memfd("gnt-journal", 0, HV_JOURNAL_SIZE);
    if (c->journal_fd < 0)
        return errno;
    c->journal = mmap(NULL, HV_JOURNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c->journal_fd, 0);
    if (c->journal == MAP_FAILED) {
        int e = errno;
        c->journal = NULL;
        close(c->journal_fd); /* the open fails: nothing stays half made */
        c->journal_fd = -1;
        return e;
    }
    *fd = c->journal_fd;
    return 0;
}

size_t hv_grant_domain(struct hv_conn *c, const struct hv_req *req, int *fds, unsigned *nfds)
{
    struct hv_domain *d;

    if (c->dom->domid != 0)
        return hv_reply(c->hv, EPERM, 0, 0, 0, 0);
    d = hv_domain_find(c->hv, req->arg[0]);
    if (!d)
        return hv_reply(c->hv, ESRCH, 0, 0, 0, 0);
    fds[0] = d->mem_fd;
    fds[1] = d->gt_fd;
    fds[2] = d->act_fd;
    *nfds = 3;
    return hv_reply(c->hv, 0, (uint32_t)d->nr_frames, 0, 0, 0);
}

/* A journal entry's domain: live, or destroyed but still mapped. */
static struct hv_domain *journal_domain(struct hv_conn *c, unsigned domid)
{
    struct hv_domain *d = hv_domain_find(c->hv, domid);

    for (struct hv_domain *z = c->hv->dead; !d && z; z = z->next)
        if (z->domid == domid)
            d = z;
    return d;
}

/* How long a closed connection's process may keep a grant entry's lock
 * before the daemon stops waiting for it to go (it is dying: SIGKILL closes
 * the fds first, the pidfd reports the exit a moment later). */
#define HV_DEAD_HOLDER_WAIT_MS 2000

/* Drops the pins a dom0 process held in the middle of a copy when it went
 * (its journal says which), as if its copy had finished. */
static void journal_replay(struct hv_conn *c)
{
    /* First the locks it may have died holding (they are its pid's): a
     * journal entry is written before its ref is locked. A process killed
     * with SIGKILL closes its fds before its pidfd reports the exit, so a
     * lock still held by its pid is waited on, briefly, until it is either
     * released (a live process closing one handle) or its holder is gone;
     * taken back only then. Skipping it because the holder still looked
     * alive left the lock held by a dead pid, and the next pvback-net spun
     * on it forever (restart_net, kill 20 of 20). */
    uint32_t pid = (uint32_t)c->peer.pid;
    uint64_t give_up = pv_now_ms() + HV_DEAD_HOLDER_WAIT_MS;
    for (uint32_t i = 0; i < HV_JOURNAL_ENTRIES; i++) {
        struct hv_domain *d = journal_domain(c, c->journal[i].domid);
        uint32_t ref = c->journal[i].ref;
        if (!d || ref >= HV_GNTTAB_ENTRIES)
            continue;
        uint32_t *lock = &d->g.act[ref].lock;
        while (__atomic_load_n(lock, __ATOMIC_ACQUIRE) == pid) {
            if (!hv_pidref_alive(&c->peer)) {
                uint32_t held = pid;
                __atomic_compare_exchange_n(lock, &held, 0, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED);
                break;
            }
            if (pv_now_ms() >= give_up) {
                pv_warn("hv: d0 (pid %d) closed its grant handle and still holds the lock of d%u "
                        "ref %u",
                        (int)c->peer.pid, c->journal[i].domid, ref);
                break;
            }
            usleep(1000);
        }
    }
    for (uint32_t i = 0; i < HV_JOURNAL_ENTRIES; i++) {
        struct hv_journal_ent e = c->journal[i];
        struct hv_domain *d;
        if (!__atomic_load_n(&c->journal[i].pinned, __ATOMIC_ACQUIRE))
            continue;
        d = journal_domain(c, e.domid);
        if (!d || e.ref >= HV_GNTTAB_ENTRIES)
            continue;
        pv_warn("hv: d0 (pid %d) went in the middle of a grant copy; dropping its pin of d%u ref "
                "%u",
                (int)c->peer.pid, e.domid, e.ref);
        hv_dom_unpin(d, e.ref, e.writable);
    }
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
                hv_gref_release(d, items[j].ref);
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
        if (__atomic_load_n(&d->g.act[refs[i]].rd_pins, __ATOMIC_ACQUIRE) ||
            (flags & (GTF_reading | GTF_writing)))
            return hv_reply(c->hv, EBUSY, 0, 0, 0, 0);
    }
    for (uint32_t i = 0; i < req->count; i++)
        if (d->grefs[refs[i]].state == HV_GREF_SHARED) /* a ref listed twice */
            hv_gref_release(d, refs[i]);
    return hv_reply(c->hv, 0, 0, 0, 0, 0);
}

size_t hv_grant_reshare(struct hv_conn *c, const struct hv_req *req,
                        const struct hv_share_item *items)
{
    struct hv_domain *d = c->dom;
    uint32_t i;
    int err = 0;

    for (i = 0; i < req->count; i++) {
        uint32_t r = items[i].ref;
        if (r < GNTTAB_NR_RESERVED_ENTRIES || r >= HV_GNTTAB_ENTRIES) {
            err = EINVAL;
            break;
        }
        /* Kept for us since the restore (the usual case), or free. */
        bool carried = d->grefs[r].state == HV_GREF_CARRIED;
        if (carried ? d->grefs[r].share_frame != items[i].frame
                    : d->grefs[r].state != HV_GREF_FREE ||
                          __atomic_load_n(&d->g.act[r].rd_pins, __ATOMIC_ACQUIRE)) {
            err = EBUSY;
            break;
        }
        if (!carried && hv_frame_claim(d, items[i].frame) < 0) {
            err = errno;
            break;
        }
        d->grefs[r] = (struct hv_gref){
            .state = HV_GREF_SHARED, .share_frame = items[i].frame, .owner = c, .carried = carried};
        d->refs_used += !carried;
        c->shared++;
    }
    if (err) {
        /* All or nothing; the frames keep their data (the guest's). */
        while (i--) {
            struct hv_gref *a = &d->grefs[items[i].ref];
            c->shared--;
            if (a->carried) {
                *a = (struct hv_gref){.state = HV_GREF_CARRIED, .share_frame = a->share_frame};
                continue;
            }
            hv_frame_unclaim(d, a->share_frame);
            *a = (struct hv_gref){0};
            d->refs_used--;
        }
        return hv_reply(c->hv, err, 0, 0, 0, 0);
    }
    for (i = 0; i < req->count; i++)
        d->grefs[items[i].ref].carried = false;
    return hv_reply(c->hv, 0, 0, 0, 0, 0);
}

void hv_grant_conn_closed(struct hv_conn *c)
{
    if (c->journal) {
        journal_replay(c);
        munmap(c->journal, HV_JOURNAL_SIZE);
        c->journal = NULL;
    }
    if (c->journal_fd >= 0)
        close(c->journal_fd);
    c->journal_fd = -1;
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
            if (__atomic_load_n(&d->g.act[r].rd_pins, __ATOMIC_ACQUIRE)) {
                a->state = HV_GREF_ORPHAN;
                a->owner = NULL;
                c->shared--;
            } else {
                hv_gref_release(d, r);
            }
        }
    }
}
