/* Grant checks and grant copy, shared by the xensim daemon (sim/hv) and
 * dom0's sim platform client (common/platform_sim.c), so that a copy gives
 * the same GNTST_* statuses whichever side does it.
 *
 * Xen keeps an "active grant entry" per ref (pin counts, the frame and
 * grantee latched at the first pin) and sets GTF_reading/GTF_writing in the
 * guest-visible entry while it is pinned. Here the active entries live in a
 * memfd per domain (struct hv_active after one header page) that the daemon
 * and dom0's processes share; each entry has a small lock (the holder's pid)
 * held only while its counts and the entry's flags change, never during a
 * copy. A holder that dies inside that window: the daemon takes its locks
 * back when its connection closes (journal replay), and the daemon itself,
 * which must never wait on a dead process, also probes the holder with
 * kill(pid, 0). Clients do not probe: a sandboxed backend may not kill().
 * Clients reach their own buffers with process_vm_readv/writev on their own
 * pid the first time, so that a bad local address is GNTST_bad_virt_addr as
 * on gntdev, then with memcpy once those pages are known good (the system
 * call pins every page: several times slower). A sandbox around a dom0
 * backend on xensim must allow those two calls with the process's own pid.
 *
 * A dom0 grant-mapping handle also has a pin journal shared with the daemon:
 * a copy records each pin it holds there, so that if the process dies in the
 * middle of a copy the daemon (which sees its connection close) drops those
 * pins, as Xen never leaves a hypercall half done. */
#ifndef XENSIM_HV_GCOPY_H
#define XENSIM_HV_GCOPY_H

#include "hv_proto.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <xen/grant_table.h>

#define HV_GPAGE 4096u

struct hv_active {
    uint32_t lock;    /* 0, or the pid of the process changing this entry */
    uint32_t rd_pins; /* mappings and copies in progress (any mode) */
    uint32_t wr_pins; /* of which writable */
    uint32_t frame;   /* latched at first pin (Xen's act->frame) */
    uint16_t domid;   /* grantee latched at first pin */
    uint16_t pad;
};

/* The active table's first page. */
struct hv_active_hdr {
    uint32_t destroyed; /* set by the daemon when the domain is destroyed */
};
#define HV_ACTIVE_OFFSET 4096u
#define HV_ACTIVE_SIZE   (HV_ACTIVE_OFFSET + HV_GNTTAB_ENTRIES * sizeof(struct hv_active))

/* A granting domain as a copier reaches it. */
struct hv_gdom {
    grant_entry_v1_t *gt;
    struct hv_active *act; /* HV_GNTTAB_ENTRIES entries */
    uint8_t *mem;
    uint64_t nr_frames;
    bool probe_holders; /* the daemon's view: take a dead holder's lock */
};

/* One pin a copy holds (pinned != 0 while held). */
struct hv_journal_ent {
    uint16_t domid;
    uint8_t writable;
    uint8_t pinned;
    uint32_t ref;
};
#define HV_JOURNAL_ENTRIES (2u * HV_MAX_BATCH) /* two sides per segment */
#define HV_JOURNAL_SIZE    (HV_JOURNAL_ENTRIES * sizeof(struct hv_journal_ent))

static inline void hv_active_lock(const struct hv_gdom *g, struct hv_active *a, uint32_t me)
{
    for (unsigned spins = 1;; spins++) {
        uint32_t holder = 0;
        if (__atomic_compare_exchange_n(&a->lock, &holder, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        if (spins % 64 == 0) {
            int e = errno;
            if (g->probe_holders && holder != me && kill((pid_t)holder, 0) < 0 && errno == ESRCH)
                __atomic_compare_exchange_n(&a->lock, &holder, 0, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED);
            errno = e;
            sched_yield();
        }
    }
}

static inline void hv_active_unlock(struct hv_active *a)
{
    __atomic_store_n(&a->lock, 0, __ATOMIC_RELEASE);
}

/* With a's lock held. True when the last pin went. */
static inline bool hv_gref_unpin_locked(struct hv_gdom *g, uint32_t ref, bool writable)
{
    struct hv_active *a = &g->act[ref];
    uint16_t clear = 0;

    if (a->rd_pins == 0)
        return false; /* a journal replayed after a pin it had not counted */
    a->rd_pins--;
    if (writable && a->wr_pins && --a->wr_pins == 0)
        clear |= GTF_writing;
    if (a->rd_pins == 0)
        clear |= GTF_reading;
    if (clear)
        __atomic_fetch_and(&g->gt[ref].flags, (uint16_t)~clear, __ATOMIC_ACQ_REL);
    return a->rd_pins == 0;
}

/* Xen's checks for a v1 entry, at the first pin (later pins use what the
 * first latched, like Xen's active entry): GTF_permit_access and the
 * grantee, GTF_readonly against a writable pin; GTF_reading (and
 * GTF_writing) set with a cmpxchg on the flags+domid word, so that a guest
 * changing the entry at the same moment is seen whole or retried. j, when
 * not NULL, records the pin (see the journal above). */
static inline int16_t hv_gref_pin(struct hv_gdom *g, uint32_t ref, unsigned ldomid, bool writable,
                                  uint32_t me, struct hv_journal_ent *j)
{
    struct hv_active *a;
    uint32_t *word, old;
    int16_t st = GNTST_okay;

    if (ref >= HV_GNTTAB_ENTRIES)
        return GNTST_bad_gntref;
    a = &g->act[ref];
    word = (uint32_t *)(void *)&g->gt[ref]; /* flags (low half), domid (high half) */
    hv_active_lock(g, a, me);
    if (a->rd_pins && a->domid != ldomid) {
        st = GNTST_general_error;
        goto out;
    }
    old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    for (int tries = 0;; tries++) {
        uint16_t flags = (uint16_t)(old & 0xffff), domid = (uint16_t)(old >> 16);
        uint32_t want = old | GTF_reading;

        if (!a->rd_pins && ((flags & GTF_type_mask) != GTF_permit_access || domid != ldomid)) {
            st = GNTST_general_error;
            goto out;
        }
        if (writable) {
            if (flags & GTF_readonly) {
                st = GNTST_general_error;
                goto out;
            }
            want |= GTF_writing;
        }
        if (__atomic_compare_exchange_n(word, &old, want, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            break;
        if (tries == 4) { /* the guest keeps changing it under us */
            st = GNTST_general_error;
            goto out;
        }
    }
    if (!a->rd_pins) {
        a->frame = __atomic_load_n(&g->gt[ref].frame, __ATOMIC_ACQUIRE);
        a->domid = (uint16_t)ldomid;
    }
    a->rd_pins++;
    if (writable)
        a->wr_pins++;
    if (j)
        __atomic_store_n(&j->pinned, 1, __ATOMIC_RELEASE);
    if (a->frame >= g->nr_frames) {
        hv_gref_unpin_locked(g, ref, writable);
        if (j)
            __atomic_store_n(&j->pinned, 0, __ATOMIC_RELEASE);
        st = GNTST_bad_page;
    }
out:
    hv_active_unlock(a);
    return st;
}

/* True when the last pin of ref went. */
static inline bool hv_gref_unpin(struct hv_gdom *g, uint32_t ref, bool writable, uint32_t me,
                                 struct hv_journal_ent *j)
{
    bool idle;

    hv_active_lock(g, &g->act[ref], me);
    idle = hv_gref_unpin_locked(g, ref, writable);
    if (j)
        __atomic_store_n(&j->pinned, 0, __ATOMIC_RELEASE);
    hv_active_unlock(&g->act[ref]);
    return idle;
}

/* --- grant copy --- */

struct hv_copy_ctx {
    /* The granting domain domid, or NULL (GNTST_bad_domain). */
    struct hv_gdom *(*lookup)(void *arg, uint16_t domid);
    /* Called when a copy dropped the last pin of a ref (may be NULL). */
    void (*idle)(void *arg, struct hv_gdom *g, uint32_t ref);
    void *arg;
    unsigned ldomid;                /* the copying domain */
    uint32_t me;                    /* lock id: this process's pid */
    pid_t pid;                      /* whose address space local addresses are in */
    struct hv_journal_ent *journal; /* NULL, or HV_JOURNAL_ENTRIES */
    /* Copying in one's own address space (may be NULL): known_local says
     * whether [addr, addr+len) was already seen good for that access, so
     * that memcpy does, and seen_local records a range the system call
     * found good. */
    bool (*known_local)(void *arg, uintptr_t addr, size_t len, bool write);
    void (*seen_local)(void *arg, uintptr_t addr, size_t len, bool write);
};

struct hv_copy_side_st {
    struct hv_gdom *g; /* NULL: a local address */
    uint8_t *ptr;      /* into g's memory */
    bool pinned;
};

struct hv_copy_scratch {
    struct hv_copy_side_st src[HV_MAX_BATCH], dst[HV_MAX_BATCH];
    struct iovec liov[HV_MAX_BATCH], riov[HV_MAX_BATCH];
};

static inline int16_t hv_copy_acquire(const struct hv_copy_ctx *x, const struct hv_copy_side *s,
                                      bool gref, uint16_t len, bool writable,
                                      struct hv_copy_side_st *out, struct hv_journal_ent *j)
{
    int16_t st;

    memset(out, 0, sizeof(*out));
    if (!gref)
        return GNTST_okay;
    if ((uint32_t)s->offset + len > HV_GPAGE)
        return GNTST_bad_copy_arg;
    out->g = x->lookup(x->arg, s->domid);
    if (!out->g)
        return GNTST_bad_domain;
    if (j)
        *j = (struct hv_journal_ent){.domid = s->domid, .writable = writable, .ref = s->ref};
    st = hv_gref_pin(out->g, s->ref, x->ldomid, writable, x->me, j);
    if (st != GNTST_okay)
        return st;
    out->pinned = true;
    out->ptr = out->g->mem + (uint64_t)out->g->act[s->ref].frame * HV_GPAGE + s->offset;
    return GNTST_okay;
}

/* Copies a run of segments that all have a local side in the same
 * direction with one process_vm_readv/writev; if that falls short (a bad
 * local address), redoes them one by one to find which failed. */
static inline void hv_copy_local_run(const struct hv_copy_ctx *x, const struct hv_copy_seg *segs,
                                     struct hv_copy_scratch *cs, int16_t *status, uint32_t from,
                                     uint32_t to, bool to_local)
{
    uint32_t n = 0;
    size_t total = 0;
    ssize_t done;

    bool known = x->known_local != NULL;

    /* Pages seen good before: memcpy, in order, when the whole run is. */
    for (uint32_t i = from; i < to && known; i++)
        known = status[i] != GNTST_okay ||
                x->known_local(x->arg, (uintptr_t)(to_local ? segs[i].dst.addr : segs[i].src.addr),
                               segs[i].len, to_local);
    for (uint32_t i = from; i < to; i++) {
        uint8_t *gp = to_local ? cs->src[i].ptr : cs->dst[i].ptr;
        void *la = (void *)(uintptr_t)(to_local ? segs[i].dst.addr : segs[i].src.addr);
        if (status[i] != GNTST_okay)
            continue;
        if (known) {
            memcpy(to_local ? la : gp, to_local ? gp : la, segs[i].len);
            continue;
        }
        cs->liov[n].iov_base = gp;
        cs->riov[n].iov_base = la;
        cs->liov[n].iov_len = cs->riov[n].iov_len = segs[i].len;
        total += segs[i].len;
        n++;
    }
    if (n == 0)
        return;
    done = to_local ? process_vm_writev(x->pid, cs->liov, n, cs->riov, n, 0)
                    : process_vm_readv(x->pid, cs->liov, n, cs->riov, n, 0);
    if (done >= 0 && (size_t)done == total) {
        for (uint32_t k = 0; k < n && x->seen_local; k++)
            x->seen_local(x->arg, (uintptr_t)cs->riov[k].iov_base, cs->riov[k].iov_len, to_local);
        return;
    }
    for (uint32_t i = from; i < to; i++) {
        struct iovec l, r;
        if (status[i] != GNTST_okay)
            continue;
        l.iov_base = to_local ? cs->src[i].ptr : cs->dst[i].ptr;
        r.iov_base = (void *)(uintptr_t)(to_local ? segs[i].dst.addr : segs[i].src.addr);
        l.iov_len = r.iov_len = segs[i].len;
        done = to_local ? process_vm_writev(x->pid, &l, 1, &r, 1, 0)
                        : process_vm_readv(x->pid, &l, 1, &r, 1, 0);
        if (done < 0 || (size_t)done != segs[i].len)
            status[i] = GNTST_bad_virt_addr;
        else if (x->seen_local)
            x->seen_local(x->arg, (uintptr_t)r.iov_base, r.iov_len, to_local);
    }
}

/* A batch of at most HV_MAX_BATCH segments, with gntdev's semantics: every
 * segment gets its status; the copies happen in order. */
static inline void hv_copy_batch(const struct hv_copy_ctx *x, const struct hv_copy_seg *segs,
                                 uint32_t count, int16_t *status, struct hv_copy_scratch *cs)
{
    struct hv_journal_ent *j = x->journal;
    uint32_t run_from = 0;
    int run_dir = 0; /* 0 none, 1 to local, 2 from local */

    for (uint32_t i = 0; i < count; i++) {
        const struct hv_copy_seg *s = &segs[i];
        bool sg = s->flags & HV_COPY_SRC_GREF, dg = s->flags & HV_COPY_DST_GREF;

        memset(&cs->src[i], 0, sizeof(cs->src[i]));
        memset(&cs->dst[i], 0, sizeof(cs->dst[i]));
        if (s->len > HV_GPAGE || (s->flags & ~(HV_COPY_SRC_GREF | HV_COPY_DST_GREF))) {
            status[i] = GNTST_bad_copy_arg;
            continue;
        }
        if (!sg && !dg) { /* gntdev refuses local-to-local copies */
            status[i] = GNTST_general_error;
            continue;
        }
        status[i] =
            hv_copy_acquire(x, &s->src, sg, s->len, false, &cs->src[i], j ? &j[2 * i] : NULL);
        if (status[i] == GNTST_okay)
            status[i] = hv_copy_acquire(x, &s->dst, dg, s->len, true, &cs->dst[i],
                                        j ? &j[2 * i + 1] : NULL);
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
            hv_copy_local_run(x, segs, cs, status, run_from, i, run_dir == 1);
            run_dir = 0;
        }
        if (i == count)
            break;
        if (dir == 0)
            memmove(cs->dst[i].ptr, cs->src[i].ptr, segs[i].len);
        else if (!run_dir) {
            run_dir = dir;
            run_from = i;
        }
    }

    for (uint32_t i = 0; i < count; i++) {
        if (cs->src[i].pinned &&
            hv_gref_unpin(cs->src[i].g, segs[i].src.ref, false, x->me, j ? &j[2 * i] : NULL) &&
            x->idle)
            x->idle(x->arg, cs->src[i].g, segs[i].src.ref);
        if (cs->dst[i].pinned &&
            hv_gref_unpin(cs->dst[i].g, segs[i].dst.ref, true, x->me, j ? &j[2 * i + 1] : NULL) &&
            x->idle)
            x->idle(x->arg, cs->dst[i].g, segs[i].dst.ref);
    }
}

#endif
