/* The "sim" platform: grant and event-channel operations served by the
 * xensim daemon over sim/hv/hv_proto.h. Each handle is one connection to
 * DIR/hv<N>.sock, N being the domain this process acts as.
 *  - gnt: a mapping is the granting domain's memfd pages mmapped MAP_FIXED
 *    into one reserved region (a daemon call). Grant copy: dom0 copies
 *    itself, with the granting domain's memory, grant table and active
 *    table fetched once per domain and the daemon's checks (hv_gcopy.h);
 *    another domain sends the batch to the daemon (one round trip per
 *    HV_MAX_BATCH segments), which copies with process_vm_readv/writev.
 *  - gntshr: the daemon hands out refs and frames of our memory; we write the
 *    grant entries into the shared grant table ourselves, as a guest does.
 *  - evtchn: pending and mask bits in pages shared with the daemon and the
 *    peers, a doorbell eventfd (the fd callers poll); notify, pending and
 *    unmask touch only those (hv_proto.h, "Event channels"); bind and
 *    unbind are daemon calls.
 * Handles are not shared across fork(): a child opens its own. */
#include "platform.h"

#include "sim/hv/hv_gcopy.h"
#include "sim/hv/hv_proto.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/grant_table.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(a, l) ((void)(a), (void)(l))
#endif

#define PAGE PV_PAGE_SIZE

/* --- one connection = one handle --- */

struct sim_conn {
    int fd;
    pthread_mutex_t lock; /* one request in flight per handle */
    uint32_t nr_frames;   /* of our own memory */
};

static int sim_open_conn(struct sim_conn *c, enum hv_kind kind, int *fds, unsigned want_fds)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct hv_req req = {.op = HV_OP_OPEN, .arg = {kind, HV_PROTO_VERSION}};
    struct hv_rep rep = {0};
    const char *dir = pv_platform_sim_dir();
    unsigned nfds = 0;
    ssize_t n;
    int e;

    if (!dir) {
        errno = ENODEV;
        return -1;
    }
    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv%u.sock", dir,
                         pv_platform_self_domid()) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        hv_send_msg(c->fd, &req, sizeof(req), NULL, 0, NULL, 0, 0) < 0)
        goto fail;
    n = hv_recv_msg(c->fd, &rep, sizeof(rep), fds, want_fds, &nfds, 0);
    if (n != (ssize_t)sizeof(rep) || rep.err || nfds != want_fds) {
        for (unsigned i = 0; i < nfds; i++)
            close(fds[i]);
        errno = n < 0 ? errno : rep.err && n == (ssize_t)sizeof(rep) ? rep.err : EPROTO;
        goto fail;
    }
    c->nr_frames = rep.val[1];
    pthread_mutex_init(&c->lock, NULL);
    return 0;
fail:
    e = errno;
    close(c->fd);
    c->fd = -1;
    errno = e;
    return -1;
}

/* Closes the handle and waits until the daemon has released what it held
 * (it closes its end after that), so that, as with closing a gntdev or
 * evtchn fd, the grants and ports are gone when this returns. */
static void sim_close_conn(struct sim_conn *c)
{
    char buf[64];

    if (shutdown(c->fd, SHUT_WR) == 0) {
        for (;;) {
            struct pollfd p = {.fd = c->fd, .events = POLLIN};
            if (poll(&p, 1, 10000) != 1 || recv(c->fd, buf, sizeof(buf), 0) <= 0)
                break;
        }
    }
    close(c->fd);
    pthread_mutex_destroy(&c->lock);
}

/* One request, one reply. Reply items are copied into ritems (at most rmax
 * bytes); fds_out gets the descriptors that came (exactly nfds_want, or it
 * is a protocol error). Returns the reply's item count, or -1 with errno
 * (the daemon's error, or a transport error). */
static int sim_call(struct sim_conn *c, const struct hv_req *req, const void *items, size_t ilen,
                    struct hv_rep *rep, void *ritems, size_t rmax, int *fds_out, unsigned nfds_want)
{
    static __thread uint8_t buf[sizeof(struct hv_rep) + HV_MAX_BATCH * sizeof(struct hv_map_item)];
    int fds[4];
    unsigned nfds = 0;
    ssize_t n;
    int ret = -1, err = 0;

    pthread_mutex_lock(&c->lock);
    if (hv_send_msg(c->fd, req, sizeof(*req), items, ilen, NULL, 0, 0) < 0) {
        err = errno;
        goto out;
    }
    n = hv_recv_msg(c->fd, buf, sizeof(buf), fds, 4, &nfds, 0);
    if (n < (ssize_t)sizeof(*rep)) {
        err = n < 0 ? errno : EPIPE; /* 0: the daemon (or our domain) is gone */
        goto out;
    }
    memcpy(rep, buf, sizeof(*rep));
    if ((size_t)n - sizeof(*rep) > rmax) {
        err = EPROTO;
        goto out;
    }
    if (ritems)
        memcpy(ritems, buf + sizeof(*rep), (size_t)n - sizeof(*rep));
    ret = (int)rep->count;
    if (rep->err) {
        err = rep->err;
        ret = -1;
    } else if (nfds != nfds_want) {
        err = EPROTO;
        ret = -1;
    } else if (nfds && fds_out) { /* nfds == nfds_want > 0 implies fds_out */
        memcpy(fds_out, fds, nfds * sizeof(int));
        nfds = 0;
    }
out:
    for (unsigned i = 0; i < nfds; i++)
        close(fds[i]);
    pthread_mutex_unlock(&c->lock);
    if (ret < 0)
        errno = err;
    return ret;
}

/* Maps frames of memfd into one contiguous region of count pages. */
static void *map_frames(int memfd, const uint32_t *frames, size_t stride, uint32_t count, int prot)
{
    size_t len = (size_t)count * PAGE;
    uint8_t *base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (base == MAP_FAILED)
        return NULL;
    for (uint32_t i = 0; i < count;) {
        uint32_t f = *(const uint32_t *)((const uint8_t *)frames + i * stride), run = 1;
        /* Consecutive frames go in one mmap. */
        while (i + run < count &&
               *(const uint32_t *)((const uint8_t *)frames + (i + run) * stride) == f + run)
            run++;
        if (mmap(base + (size_t)i * PAGE, (size_t)run * PAGE, prot, MAP_SHARED | MAP_FIXED, memfd,
                 (off_t)f * PAGE) == MAP_FAILED) {
            int e = errno;
            munmap(base, len);
            errno = e;
            return NULL;
        }
        i += run;
    }
    return base;
}

/* A region we handed out, found again by its address. */
struct sim_region {
    void *addr;
    uint32_t count;
    uint32_t id;
    struct sim_region *next;
    /* shares: to whom, and the entry flags (what a migration re-grants) */
    uint16_t grantee;
    uint16_t gflags;
    uint32_t refs[]; /* maps: count refs; shares: count refs, then count frames */
};

static struct sim_region *region_take(struct sim_region **list, void *addr, uint32_t count)
{
    for (struct sim_region **pp = list; *pp; pp = &(*pp)->next) {
        if ((*pp)->addr == addr && (*pp)->count == count) {
            struct sim_region *r = *pp;
            *pp = r->next;
            return r;
        }
    }
    return NULL;
}

/* --- grant mapping and copy --- */

/* A granting domain dom0 copies to and from directly (HV_OP_GNT_DOMAIN):
 * its memory, grant table and active table, mapped once and kept until the
 * daemon marks it destroyed. */
struct sim_gdom {
    uint16_t domid;
    struct hv_gdom g;
    struct hv_active_hdr *hdr;
    struct sim_gdom *next;
};

struct pv_gnt {
    struct sim_conn c;
    pthread_mutex_t lock; /* the region list */
    struct sim_region *maps;
    /* dom0 only: copies without the daemon (sim/hv/hv_gcopy.h) */
    struct hv_journal_ent *journal;
    pthread_mutex_t copy_lock; /* the journal and the domain list */
    struct sim_gdom *doms;
    uint32_t pid;
    /* Our pages a copy found good, direct-mapped: page address | LOCAL_R /
     * LOCAL_W. They are copied with memcpy from then on. A caller that
     * unmaps a buffer and passes it again faults instead of getting
     * GNTST_bad_virt_addr: its bug, which gntdev would report. */
    uintptr_t seen[1024];
};

#define LOCAL_R 1u
#define LOCAL_W 2u

static uintptr_t *seen_slot(struct pv_gnt *g, uintptr_t page)
{
    return &g->seen[(page / PAGE) % (sizeof(g->seen) / sizeof(g->seen[0]))];
}

/* hv_copy_ctx.known_local */
static bool local_known(void *arg, uintptr_t addr, size_t len, bool write)
{
    struct pv_gnt *g = arg;
    uintptr_t want = write ? LOCAL_W : LOCAL_R;

    for (uintptr_t p = addr & ~(uintptr_t)(PAGE - 1); len && p < addr + len; p += PAGE) {
        uintptr_t e = *seen_slot(g, p);
        if ((e & ~(uintptr_t)(PAGE - 1)) != p || !(e & want))
            return false;
    }
    return true;
}

/* hv_copy_ctx.seen_local */
static void local_seen(void *arg, uintptr_t addr, size_t len, bool write)
{
    struct pv_gnt *g = arg;
    uintptr_t want = write ? LOCAL_W : LOCAL_R;

    for (uintptr_t p = addr & ~(uintptr_t)(PAGE - 1); len && p < addr + len; p += PAGE) {
        uintptr_t *e = seen_slot(g, p);
        *e = ((*e & ~(uintptr_t)(PAGE - 1)) == p ? *e : p) | want;
    }
}

static void gdom_free(struct sim_gdom *d)
{
    munmap(d->g.mem, d->g.nr_frames * PAGE);
    munmap(d->g.gt, (size_t)HV_GNTTAB_FRAMES * PAGE);
    munmap(d->hdr, HV_ACTIVE_SIZE);
    free(d);
}

static void *map_whole(int fd, size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* hv_copy_ctx.lookup: the cached domain, fetched from the daemon the first
 * time (and again once the one cached was destroyed). NULL: no such domain. */
static struct hv_gdom *gdom_lookup(void *arg, uint16_t domid)
{
    struct pv_gnt *g = arg;
    struct hv_req req = {.op = HV_OP_GNT_DOMAIN, .arg = {domid, 0}};
    struct hv_rep rep = {0};
    struct sim_gdom *d, **pp;
    int fds[3];

    for (pp = &g->doms; (d = *pp); pp = &d->next) {
        if (d->domid != domid)
            continue;
        if (!__atomic_load_n(&d->hdr->destroyed, __ATOMIC_ACQUIRE))
            return &d->g;
        *pp = d->next;
        gdom_free(d);
        break;
    }
    if (sim_call(&g->c, &req, NULL, 0, &rep, NULL, 0, fds, 3) < 0)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (d) {
        d->domid = domid;
        d->g.nr_frames = rep.val[0];
        d->g.mem = map_whole(fds[0], d->g.nr_frames * PAGE);
        d->g.gt = map_whole(fds[1], (size_t)HV_GNTTAB_FRAMES * PAGE);
        d->hdr = map_whole(fds[2], HV_ACTIVE_SIZE);
    }
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    if (!d || !d->g.mem || !d->g.gt || !d->hdr) {
        if (d) {
            if (d->g.mem)
                munmap(d->g.mem, d->g.nr_frames * PAGE);
            if (d->g.gt)
                munmap(d->g.gt, (size_t)HV_GNTTAB_FRAMES * PAGE);
            if (d->hdr)
                munmap(d->hdr, HV_ACTIVE_SIZE);
        }
        free(d);
        return NULL;
    }
    d->g.act = (struct hv_active *)(void *)((uint8_t *)d->hdr + HV_ACTIVE_OFFSET);
    d->next = g->doms;
    g->doms = d;
    return &d->g;
}

static struct pv_gnt *sim_gnt_open(void)
{
    struct pv_gnt *g = calloc(1, sizeof(*g));
    int jfd = -1;

    if (!g)
        return NULL;
    /* dom0's handles come with a pin journal: they copy themselves. */
    if (sim_open_conn(&g->c, HV_KIND_GNT, &jfd, pv_platform_self_domid() == 0) < 0) {
        free(g);
        return NULL;
    }
    if (jfd >= 0) {
        g->journal = mmap(NULL, HV_JOURNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, jfd, 0);
        close(jfd);
        if (g->journal == MAP_FAILED) {
            int e = errno;
            sim_close_conn(&g->c);
            free(g);
            errno = e;
            return NULL;
        }
        g->pid = (uint32_t)getpid();
    }
    pthread_mutex_init(&g->copy_lock, NULL);
#ifdef PR_SET_PTRACER
    /* Grant copy reaches our buffers with process_vm_readv/writev; under
     * Yama's ptrace_scope=1 that needs our leave (harmless without Yama). */
    {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(g->c.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
            prctl(PR_SET_PTRACER, (unsigned long)cred.pid, 0, 0, 0);
    }
#endif
    pthread_mutex_init(&g->lock, NULL);
    return g;
}

static void sim_gnt_close(struct pv_gnt *g)
{
    if (!g)
        return;
    while (g->maps) {
        struct sim_region *r = g->maps;
        g->maps = r->next;
        munmap(r->addr, (size_t)r->count * PAGE);
        free(r);
    }
    while (g->doms) {
        struct sim_gdom *d = g->doms;
        g->doms = d->next;
        gdom_free(d);
    }
    sim_close_conn(&g->c); /* the daemon releases the grants */
    if (g->journal)
        munmap(g->journal, HV_JOURNAL_SIZE);
    pthread_mutex_destroy(&g->copy_lock);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static void *sim_gnt_map(struct pv_gnt *g, uint32_t domid, uint32_t count, const uint32_t *refs,
                         bool prot_write, int16_t *status)
{
    static __thread struct hv_map_item items[HV_MAX_BATCH];
    struct hv_req req = {.op = HV_OP_MAP, .count = count, .arg = {domid, prot_write}};
    struct hv_rep rep = {0};
    struct sim_region *r;
    int memfd = -1, n, e;
    void *addr;

    if (count == 0 || count > HV_MAX_BATCH) {
        errno = EINVAL;
        return NULL;
    }
    n = sim_call(&g->c, &req, refs, count * sizeof(uint32_t), &rep, items, sizeof(items), &memfd,
                 1);
    if (n < 0) {
        e = errno;
        if (status)
            for (uint32_t i = 0; i < count; i++)
                status[i] =
                    rep.count == count && e == EINVAL ? items[i].status : GNTST_general_error;
        errno = e;
        return NULL;
    }
    if ((uint32_t)n != count || memfd < 0) {
        e = EPROTO;
        goto undo;
    }
    addr = map_frames(memfd, &items[0].frame, sizeof(items[0]), count,
                      PROT_READ | (prot_write ? PROT_WRITE : 0));
    if (!addr) {
        e = errno;
        goto undo;
    }
    close(memfd);
    r = malloc(sizeof(*r));
    if (!r) {
        munmap(addr, (size_t)count * PAGE);
        memfd = -1;
        e = ENOMEM;
        goto undo;
    }
    r->addr = addr;
    r->count = count;
    r->id = rep.val[0];
    pthread_mutex_lock(&g->lock);
    r->next = g->maps;
    g->maps = r;
    pthread_mutex_unlock(&g->lock);
    if (status)
        for (uint32_t i = 0; i < count; i++)
            status[i] = GNTST_okay;
    return addr;
undo:
    if (memfd >= 0)
        close(memfd);
    if (n >= 0) {
        struct hv_req un = {.op = HV_OP_UNMAP, .arg = {rep.val[0], 0}};
        sim_call(&g->c, &un, NULL, 0, &rep, NULL, 0, NULL, 0);
    }
    if (status)
        for (uint32_t i = 0; i < count; i++)
            status[i] = GNTST_general_error;
    errno = e;
    return NULL;
}

static int sim_gnt_unmap(struct pv_gnt *g, void *addr, uint32_t count)
{
    struct hv_req req = {.op = HV_OP_UNMAP};
    struct hv_rep rep = {0};
    struct sim_region *r;

    pthread_mutex_lock(&g->lock);
    r = region_take(&g->maps, addr, count);
    pthread_mutex_unlock(&g->lock);
    if (!r) {
        errno = EINVAL;
        return -1;
    }
    munmap(r->addr, (size_t)r->count * PAGE);
    req.arg[0] = r->id;
    free(r);
    return sim_call(&g->c, &req, NULL, 0, &rep, NULL, 0, NULL, 0) < 0 ? -1 : 0;
}

static void to_wire_side(const union xengnttab_copy_ptr *p, bool gref, struct hv_copy_side *w)
{
    memset(w, 0, sizeof(*w));
    if (gref) {
        w->ref = p->foreign.ref;
        w->domid = p->foreign.domid;
        w->offset = p->foreign.offset;
    } else {
        w->addr = (uint64_t)(uintptr_t)p->virt;
    }
}

/* dom0: the batch copied here, with the daemon's checks and statuses
 * (hv_gcopy.h). Our buffers are reached with process_vm_readv/writev on
 * ourselves the first time, so that a bad address is GNTST_bad_virt_addr,
 * not a crash; with memcpy once their pages are known good. */
static void copy_direct(struct pv_gnt *g, const struct hv_copy_seg *wire, uint32_t n,
                        int16_t *status)
{
    static __thread struct hv_copy_scratch cs;
    struct hv_copy_ctx x = {
        .lookup = gdom_lookup,
        .arg = g,
        .ldomid = 0,
        .me = g->pid,
        .pid = (pid_t)g->pid,
        .journal = g->journal,
        .known_local = local_known,
        .seen_local = local_seen,
    };

    pthread_mutex_lock(&g->copy_lock);
    hv_copy_batch(&x, wire, n, status, &cs);
    pthread_mutex_unlock(&g->copy_lock);
}

static int sim_gnt_copy(struct pv_gnt *g, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
    static __thread struct hv_copy_seg wire[HV_MAX_BATCH];
    static __thread int16_t status[HV_MAX_BATCH];

    /* Batches beyond one message go in several round trips. */
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < HV_MAX_BATCH ? count - done : HV_MAX_BATCH;
        struct hv_req req = {.op = HV_OP_COPY, .count = n};
        struct hv_rep rep = {0};

        for (uint32_t i = 0; i < n; i++) {
            const xengnttab_grant_copy_segment_t *s = &segs[done + i];
            memset(&wire[i], 0, sizeof(wire[i]));
            to_wire_side(&s->source, s->flags & GNTCOPY_source_gref, &wire[i].src);
            to_wire_side(&s->dest, s->flags & GNTCOPY_dest_gref, &wire[i].dst);
            wire[i].len = s->len;
            wire[i].flags = (s->flags & GNTCOPY_source_gref ? HV_COPY_SRC_GREF : 0) |
                            (s->flags & GNTCOPY_dest_gref ? HV_COPY_DST_GREF : 0);
        }
        if (g->journal) {
            copy_direct(g, wire, n, status);
        } else if (sim_call(&g->c, &req, wire, n * sizeof(wire[0]), &rep, status, sizeof(status),
                            NULL, 0) != (int)n) {
            if (errno == 0)
                errno = EPROTO;
            return -1;
        }
        for (uint32_t i = 0; i < n; i++) {
            xengnttab_grant_copy_segment_t *s = &segs[done + i];
            s->status = status[i];
            /* process_vm_writev wrote our memory: tell valgrind it is set. */
            if (status[i] == GNTST_okay && !(s->flags & GNTCOPY_dest_gref))
                VALGRIND_MAKE_MEM_DEFINED(s->dest.virt, s->len);
        }
        done += n;
    }
    return 0;
}

/* --- grant sharing (guest side) --- */

struct pv_gntshr {
    struct sim_conn c;
    int memfd;
    grant_entry_v1_t *gt;
    pthread_mutex_t lock;
    struct sim_region *shares;
    struct pv_gntshr *next_open; /* every open handle, for a migration */
};

/* --- migration: what a guest process needs to follow its domain --- */

static pthread_mutex_t home_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct hv_start_info *start_info; /* our memory's page, read-only */
static uint32_t home_epoch;                    /* the epoch we live in */
static struct pv_gntshr *open_shrs;

/* The start-info page, mapped once from our memory (home_lock held). The
 * memory moves with the domain, so the mapping stays valid across moves. */
static void map_start_info(int memfd)
{
    void *p;

    if (start_info || pv_platform_self_domid() == 0)
        return;
    p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, memfd, (off_t)HV_START_INFO_FRAME * PAGE);
    if (p == MAP_FAILED)
        return;
    start_info = p;
    home_epoch = __atomic_load_n(&start_info->epoch, __ATOMIC_ACQUIRE);
}

/* Connects s to our (current) home: its memory and grant table. */
static int gntshr_connect(struct pv_gntshr *s)
{
    int fds[2];

    if (sim_open_conn(&s->c, HV_KIND_GNTSHR, fds, 2) < 0)
        return -1;
    s->memfd = fds[0];
    s->gt =
        mmap(NULL, (size_t)HV_GNTTAB_FRAMES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
    close(fds[1]);
    if (s->gt == MAP_FAILED) {
        int e = errno;
        close(s->memfd);
        sim_close_conn(&s->c);
        errno = e;
        return -1;
    }
    return 0;
}

static void gntshr_disconnect(struct pv_gntshr *s)
{
    sim_close_conn(&s->c);
    munmap(s->gt, (size_t)HV_GNTTAB_FRAMES * PAGE);
    close(s->memfd);
}

/* What a guest kernel does to grant a page: frame and domid first, the
 * flags that make the entry valid last, after a write barrier. */
static void write_grant(grant_entry_v1_t *ge, uint32_t frame, uint16_t domid, uint16_t flags)
{
    ge->frame = frame;
    ge->domid = domid;
    __atomic_store_n(&ge->flags, flags, __ATOMIC_RELEASE);
}

static struct pv_gntshr *sim_gntshr_open(void)
{
    struct pv_gntshr *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    if (gntshr_connect(s) < 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_lock(&home_lock);
    map_start_info(s->memfd);
    s->next_open = open_shrs;
    open_shrs = s;
    pthread_mutex_unlock(&home_lock);
    return s;
}

static void sim_gntshr_close(struct pv_gntshr *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&home_lock);
    for (struct pv_gntshr **pp = &open_shrs; *pp; pp = &(*pp)->next_open)
        if (*pp == s) {
            *pp = s->next_open;
            break;
        }
    pthread_mutex_unlock(&home_lock);
    while (s->shares) {
        struct sim_region *r = s->shares;
        s->shares = r->next;
        munmap(r->addr, (size_t)r->count * PAGE);
        free(r);
    }
    /* Closing ends every grant nobody maps; mapped ones end when unmapped. */
    gntshr_disconnect(s);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int unshare_refs(struct pv_gntshr *s, const uint32_t *refs, uint32_t count)
{
    struct hv_req req = {.op = HV_OP_UNSHARE, .count = count};
    struct hv_rep rep = {0};

    return sim_call(&s->c, &req, refs, count * sizeof(uint32_t), &rep, NULL, 0, NULL, 0) < 0 ? -1
                                                                                             : 0;
}

static void *sim_gntshr_share(struct pv_gntshr *s, uint32_t domid, uint32_t count, uint32_t *refs,
                              bool writable)
{
    static __thread struct hv_share_item items[HV_MAX_BATCH];
    /* The page count travels in the header; no items go out. */
    struct hv_req req = {.op = HV_OP_SHARE, .count = count, .arg = {domid, writable}};
    struct hv_rep rep = {0};
    struct sim_region *r;
    void *addr;
    int e;

    if (count == 0 || count > HV_MAX_BATCH) {
        errno = EINVAL;
        return NULL;
    }
    if (sim_call(&s->c, &req, NULL, 0, &rep, items, sizeof(items), NULL, 0) != (int)count)
        return NULL;
    for (uint32_t i = 0; i < count; i++)
        refs[i] = items[i].ref;
    addr = map_frames(s->memfd, &items[0].frame, sizeof(items[0]), count, PROT_READ | PROT_WRITE);
    r = addr ? malloc(sizeof(*r) + 2 * count * sizeof(uint32_t)) : NULL;
    if (!r) {
        e = addr ? ENOMEM : errno;
        if (addr)
            munmap(addr, (size_t)count * PAGE);
        unshare_refs(s, refs, count);
        errno = e;
        return NULL;
    }
    r->grantee = (uint16_t)domid;
    r->gflags = GTF_permit_access | (writable ? 0 : GTF_readonly);
    for (uint32_t i = 0; i < count; i++) {
        write_grant(&s->gt[items[i].ref], items[i].frame, r->grantee, r->gflags);
        r->refs[count + i] = items[i].frame;
    }
    r->addr = addr;
    r->count = count;
    r->id = 0;
    memcpy(r->refs, refs, count * sizeof(uint32_t));
    pthread_mutex_lock(&s->lock);
    r->next = s->shares;
    s->shares = r;
    pthread_mutex_unlock(&s->lock);
    return addr;
}

static int sim_gntshr_unshare(struct pv_gntshr *s, void *addr, uint32_t count)
{
    struct sim_region *r;

    pthread_mutex_lock(&s->lock);
    r = region_take(&s->shares, addr, count);
    pthread_mutex_unlock(&s->lock);
    if (!r) {
        errno = EINVAL;
        return -1;
    }
    if (unshare_refs(s, r->refs, r->count) < 0) {
        int e = errno;
        pthread_mutex_lock(&s->lock); /* still shared: keep it */
        r->next = s->shares;
        s->shares = r;
        pthread_mutex_unlock(&s->lock);
        errno = e;
        return -1;
    }
    munmap(r->addr, (size_t)r->count * PAGE);
    free(r);
    return 0;
}

/* Reconnects s to the new home and takes its grants back there: the same
 * refs and frames (the memory came along), the entries written again. */
static int gntshr_rehome(struct pv_gntshr *s)
{
    static __thread struct hv_share_item items[HV_MAX_BATCH];
    int rc = 0;

    pthread_mutex_lock(&s->lock);
    gntshr_disconnect(s); /* the old home's domain is gone: nothing to release */
    if (gntshr_connect(s) < 0) {
        s->c.fd = -1;
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    for (struct sim_region *r = s->shares; r; r = r->next) {
        struct hv_req req = {.op = HV_OP_RESHARE, .count = r->count};
        struct hv_rep rep = {0};
        for (uint32_t i = 0; i < r->count; i++)
            items[i] = (struct hv_share_item){.ref = r->refs[i], .frame = r->refs[r->count + i]};
        if (sim_call(&s->c, &req, items, r->count * sizeof(items[0]), &rep, NULL, 0, NULL, 0) < 0) {
            rc = -1;
            continue;
        }
        for (uint32_t i = 0; i < r->count; i++)
            write_grant(&s->gt[items[i].ref], items[i].frame, r->grantee, r->gflags);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

uint32_t pv_platform_home_epoch(void)
{
    if (pv_platform() != &pv_platform_sim_ops)
        return 0;
    if (!__atomic_load_n(&start_info, __ATOMIC_ACQUIRE) && pv_platform_self_domid() != 0) {
        /* Opening a sharing handle maps the page. */
        struct pv_gntshr *s = sim_gntshr_open();
        sim_gntshr_close(s);
    }
    const struct hv_start_info *si = __atomic_load_n(&start_info, __ATOMIC_ACQUIRE);
    return si ? __atomic_load_n(&si->epoch, __ATOMIC_ACQUIRE) : 0;
}

int pv_platform_rehome(void)
{
    char dir[sizeof(start_info->dir)];
    uint32_t epoch, domid;
    int rc = 0, err = 0;

    if (pv_platform() != &pv_platform_sim_ops) {
        errno = ENOSYS;
        return -1;
    }
    pthread_mutex_lock(&home_lock);
    if (!start_info) {
        pthread_mutex_unlock(&home_lock);
        errno = ENODEV;
        return -1;
    }
    epoch = __atomic_load_n(&start_info->epoch, __ATOMIC_ACQUIRE);
    if (epoch != home_epoch) {
        domid = start_info->domid;
        memcpy(dir, start_info->dir, sizeof(dir));
        dir[sizeof(dir) - 1] = 0;
        pv_platform_sim_set_home(dir, domid);
        for (struct pv_gntshr *s = open_shrs; s; s = s->next_open)
            if (gntshr_rehome(s) < 0 && !err) {
                err = errno;
                rc = -1;
            }
        home_epoch = epoch;
    }
    pthread_mutex_unlock(&home_lock);
    if (rc < 0)
        errno = err;
    return rc;
}

/* --- event channels --- */

/* A handle at the other end of some of our ports: its shared page and
 * doorbell, learnt from the daemon once and shared by the ports connected
 * to it. */
struct ev_peer {
    uint64_t id;
    struct hv_ev_shared *sh;
    int efd;
    unsigned users; /* ports whose cache points here */
    struct ev_peer *next;
};

/* What a port's notify needs, valid while our link word still says link. */
struct ev_route {
    uint32_t link;
    uint32_t rport;
    struct ev_peer *peer;
};

struct pv_evtchn {
    struct sim_conn c;
    struct hv_ev_shared *sh;     /* ours: peers raise events here */
    const struct hv_ev_ctl *ctl; /* ours, read-only: the daemon's link words */
    int efd;                     /* our doorbell: what callers poll */
    pthread_mutex_t lock;        /* bound, routes, peers */
    uint64_t bound[HV_EV_WORDS];
    struct ev_route route[HV_MAX_PORTS];
    struct ev_peer *peers;
};

static void *map_fd(int fd, size_t len, int prot)
{
    void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static struct pv_evtchn *sim_evtchn_open(void)
{
    struct pv_evtchn *e = calloc(1, sizeof(*e));
    int fds[3], err;

    if (!e)
        return NULL;
    if (sim_open_conn(&e->c, HV_KIND_EVTCHN, fds, 3) < 0) {
        free(e);
        return NULL;
    }
    e->sh = map_fd(fds[0], HV_EV_SHARED_SIZE, PROT_READ | PROT_WRITE);
    e->ctl = map_fd(fds[1], HV_EV_CTL_SIZE, PROT_READ);
    err = errno;
    close(fds[0]);
    close(fds[1]);
    e->efd = fds[2];
    if (!e->sh || !e->ctl) {
        if (e->sh)
            munmap(e->sh, HV_EV_SHARED_SIZE);
        if (e->ctl)
            munmap((void *)e->ctl, HV_EV_CTL_SIZE);
        close(e->efd);
        sim_close_conn(&e->c);
        free(e);
        errno = err;
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    return e;
}

static void peer_put(struct pv_evtchn *e, struct ev_peer *p)
{
    if (!p || --p->users)
        return;
    for (struct ev_peer **pp = &e->peers; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    munmap(p->sh, HV_EV_SHARED_SIZE);
    close(p->efd);
    free(p);
}

static void route_drop(struct pv_evtchn *e, uint32_t port)
{
    peer_put(e, e->route[port].peer);
    memset(&e->route[port], 0, sizeof(e->route[port]));
}

static void sim_evtchn_close(struct pv_evtchn *e)
{
    if (!e)
        return;
    sim_close_conn(&e->c); /* the daemon closes our ports */
    for (uint32_t p = 1; p < HV_MAX_PORTS; p++)
        route_drop(e, p);
    munmap(e->sh, HV_EV_SHARED_SIZE);
    munmap((void *)e->ctl, HV_EV_CTL_SIZE);
    close(e->efd);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static int sim_evtchn_fd(struct pv_evtchn *e)
{
    return e->efd;
}

static bool is_bound(struct pv_evtchn *e, uint32_t port)
{
    return e->bound[port / 64] & (1ull << (port % 64));
}

static void set_bound(struct pv_evtchn *e, uint32_t port, bool on)
{
    pthread_mutex_lock(&e->lock);
    if (on)
        e->bound[port / 64] |= 1ull << (port % 64);
    else
        e->bound[port / 64] &= ~(1ull << (port % 64));
    route_drop(e, port);
    pthread_mutex_unlock(&e->lock);
}

/* What /dev/xen/evtchn answers for a port: EINVAL out of range, ENOTCONN
 * when this handle has not bound it. */
static int check_port(struct pv_evtchn *e, uint32_t port)
{
    bool on;

    if (port == 0 || port >= HV_MAX_PORTS) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&e->lock);
    on = is_bound(e, port);
    pthread_mutex_unlock(&e->lock);
    if (!on) {
        errno = ENOTCONN;
        return -1;
    }
    return 0;
}

static int evtchn_bind(struct pv_evtchn *e, uint32_t op, uint32_t a0, uint32_t a1)
{
    struct hv_req req = {.op = op, .arg = {a0, a1}};
    struct hv_rep rep = {0};

    if (sim_call(&e->c, &req, NULL, 0, &rep, NULL, 0, NULL, 0) < 0)
        return -1;
    if (rep.val[0] == 0 || rep.val[0] >= HV_MAX_PORTS) {
        errno = EPROTO;
        return -1;
    }
    set_bound(e, rep.val[0], true);
    return (int)rep.val[0];
}

static int sim_evtchn_bind_interdomain(struct pv_evtchn *e, uint32_t domid, uint32_t port)
{
    return evtchn_bind(e, HV_OP_BIND_INTERDOMAIN, domid, port);
}

static int sim_evtchn_bind_unbound(struct pv_evtchn *e, uint32_t domid)
{
    return evtchn_bind(e, HV_OP_BIND_UNBOUND, domid, 0);
}

static int sim_evtchn_unbind(struct pv_evtchn *e, uint32_t port)
{
    struct hv_req req = {.op = HV_OP_UNBIND, .arg = {port, 0}};
    struct hv_rep rep = {0};

    if (check_port(e, port) < 0)
        return -1;
    if (sim_call(&e->c, &req, NULL, 0, &rep, NULL, 0, NULL, 0) < 0)
        return -1;
    set_bound(e, port, false);
    return 0;
}

/* Learns (once per connection of the port) whose pages a notify on port
 * sets: a daemon round trip, then cached until the link word changes.
 * Called with e->lock held. false: the port is not connected now. */
static bool route_refresh(struct pv_evtchn *e, uint32_t port)
{
    struct hv_req req = {.op = HV_OP_EV_PEER, .arg = {port, 0}};
    struct hv_rep rep = {0};
    struct ev_peer *p;
    uint64_t id;
    int fds[2];

    route_drop(e, port);
    if (sim_call(&e->c, &req, NULL, 0, &rep, &id, sizeof(id), fds, 2) != 1)
        return false; /* ENOTCONN: unbound now; a dead daemon: nobody to tell */
    if (rep.val[0] == 0 || rep.val[0] >= HV_MAX_PORTS) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    for (p = e->peers; p && p->id != id; p = p->next)
        ;
    if (p) {
        close(fds[0]);
        close(fds[1]);
    } else {
        p = calloc(1, sizeof(*p));
        if (p)
            p->sh = map_fd(fds[0], HV_EV_SHARED_SIZE, PROT_READ | PROT_WRITE);
        close(fds[0]);
        if (!p || !p->sh) {
            free(p);
            close(fds[1]);
            return false;
        }
        p->id = id;
        p->efd = fds[1];
        p->next = e->peers;
        e->peers = p;
    }
    p->users++;
    e->route[port] = (struct ev_route){.link = rep.val[1], .rport = rep.val[0], .peer = p};
    return true;
}

static int sim_evtchn_notify(struct pv_evtchn *e, uint32_t port)
{
    uint32_t link;

    if (check_port(e, port) < 0)
        return -1;
    link = __atomic_load_n(&e->ctl->link[port], __ATOMIC_ACQUIRE);
    if (!(link & HV_EV_LINK_CONNECTED))
        return 0; /* unbound (peer gone or not yet there): dropped, as on Xen */
    pthread_mutex_lock(&e->lock);
    if (e->route[port].link == link || route_refresh(e, port)) {
        const struct ev_route *r = &e->route[port];
        hv_ev_raise(r->peer->sh, r->rport, r->peer->efd);
    }
    pthread_mutex_unlock(&e->lock);
    return 0;
}

/* A delivered port bound by us (bits a peer set on ports we do not hold
 * are ignored, as /dev/xen/evtchn only reports its own); 0 if none. */
static uint32_t find_ready(struct pv_evtchn *e)
{
    for (uint32_t w = 0; w < HV_EV_WORDS; w++) {
        uint64_t ready = __atomic_load_n(&e->sh->ready[w], __ATOMIC_ACQUIRE) & e->bound[w];
        if (ready)
            return w * 64 + (uint32_t)__builtin_ctzll(ready);
    }
    return 0;
}

static void drain_doorbell(struct pv_evtchn *e)
{
    uint64_t v;
    ssize_t n;

    do
        n = read(e->efd, &v, sizeof(v));
    while (n < 0 && errno == EINTR);
}

/* /dev/xen/evtchn's read: takes one delivered port (it stays masked until
 * unmask), and keeps the doorbell readable exactly while another one is
 * there. */
static int sim_evtchn_pending(struct pv_evtchn *e)
{
    uint32_t port;

    pthread_mutex_lock(&e->lock);
    port = find_ready(e);
    if (port)
        __atomic_fetch_and(&e->sh->ready[port / 64], ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
    if (!find_ready(e)) {
        /* A delivery between the scan and the drain rang after setting its
         * bit: the scan after the drain sees it, and rings again. */
        drain_doorbell(e);
        if (find_ready(e))
            hv_ev_ring(e->efd);
    }
    pthread_mutex_unlock(&e->lock);
    if (port)
        return (int)port;
    /* The daemon closed the handle (our domain was destroyed). */
    errno = __atomic_load_n(&e->ctl->closed, __ATOMIC_ACQUIRE) ? EPIPE : EAGAIN;
    return -1;
}

static int sim_evtchn_unmask(struct pv_evtchn *e, uint32_t port)
{
    if (check_port(e, port) < 0)
        return -1;
    hv_ev_unmask(e->sh, port, e->efd);
    return 0;
}

const struct pv_platform_ops pv_platform_sim_ops = {
    .name = "sim",
    .gnt_open = sim_gnt_open,
    .gnt_close = sim_gnt_close,
    .gnt_map = sim_gnt_map,
    .gnt_unmap = sim_gnt_unmap,
    .gnt_copy = sim_gnt_copy,
    .gntshr_open = sim_gntshr_open,
    .gntshr_close = sim_gntshr_close,
    .gntshr_share = sim_gntshr_share,
    .gntshr_unshare = sim_gntshr_unshare,
    .evtchn_open = sim_evtchn_open,
    .evtchn_close = sim_evtchn_close,
    .evtchn_fd = sim_evtchn_fd,
    .evtchn_bind_interdomain = sim_evtchn_bind_interdomain,
    .evtchn_bind_unbound = sim_evtchn_bind_unbound,
    .evtchn_unbind = sim_evtchn_unbind,
    .evtchn_notify = sim_evtchn_notify,
    .evtchn_pending = sim_evtchn_pending,
    .evtchn_unmask = sim_evtchn_unmask,
};
