/* The "xen" platform: thin wrappers over libxengnttab, libxengntshr and
 * libxenevtchn, for real Xen (/dev/xen/gntdev, gntalloc, evtchn). */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xen/grant_table.h>

struct pv_gnt {
    xengnttab_handle *h;
};

struct pv_gntshr {
    xengntshr_handle *h;
};

struct pv_evtchn {
    xenevtchn_handle *h;
};

static struct pv_gnt *xen_gnt_open(void)
{
    struct pv_gnt *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->h = xengnttab_open(NULL, 0);
    if (!g->h) {
        free(g);
        return NULL;
    }
    return g;
}

static void xen_gnt_close(struct pv_gnt *g)
{
    if (!g)
        return;
    xengnttab_close(g->h);
    free(g);
}

/* libxengnttab reports per-reference failures only as a failed mmap; map the
 * references one by one to find which of them failed, so that callers get
 * the same per-operation status as on sim. */
static void xen_fill_status(struct pv_gnt *g, uint32_t domid, uint32_t count,
                            const uint32_t *refs, bool prot_write, int16_t *status)
{
    int prot = PROT_READ | (prot_write ? PROT_WRITE : 0);

    for (uint32_t i = 0; i < count; i++) {
        void *p = xengnttab_map_grant_ref(g->h, domid, refs[i], prot);
        if (p) {
            status[i] = GNTST_okay;
            xengnttab_unmap(g->h, p, 1);
        } else {
            status[i] = errno == EINVAL ? GNTST_bad_gntref : GNTST_general_error;
        }
    }
}

static void *xen_gnt_map(struct pv_gnt *g, uint32_t domid, uint32_t count, const uint32_t *refs,
                         bool prot_write, int16_t *status)
{
    int prot = PROT_READ | (prot_write ? PROT_WRITE : 0);
    void *p = xengnttab_map_domain_grant_refs(g->h, count, domid, (uint32_t *)refs, prot);

    if (p) {
        if (status)
            for (uint32_t i = 0; i < count; i++)
                status[i] = GNTST_okay;
        return p;
    }
    if (status) {
        int e = errno;
        xen_fill_status(g, domid, count, refs, prot_write, status);
        errno = e;
    }
    return NULL;
}

static int xen_gnt_unmap(struct pv_gnt *g, void *addr, uint32_t count)
{
    return xengnttab_unmap(g->h, addr, count);
}

static int xen_gnt_copy(struct pv_gnt *g, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
    return xengnttab_grant_copy(g->h, count, segs);
}

static struct pv_gntshr *xen_gntshr_open(void)
{
    struct pv_gntshr *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->h = xengntshr_open(NULL, 0);
    if (!s->h) {
        free(s);
        return NULL;
    }
    return s;
}

static void xen_gntshr_close(struct pv_gntshr *s)
{
    if (!s)
        return;
    xengntshr_close(s->h);
    free(s);
}

static void *xen_gntshr_share(struct pv_gntshr *s, uint32_t domid, uint32_t count, uint32_t *refs,
                              bool writable)
{
    return xengntshr_share_pages(s->h, domid, (int)count, refs, writable);
}

static int xen_gntshr_unshare(struct pv_gntshr *s, void *addr, uint32_t count)
{
    /* gntalloc defers freeing a page the remote side still maps; the page is
     * released when the remote unmaps it, so unshare itself succeeds. */
    return xengntshr_unshare(s->h, addr, count);
}

static struct pv_evtchn *xen_evtchn_open(void)
{
    struct pv_evtchn *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    e->h = xenevtchn_open(NULL, 0);
    if (!e->h) {
        free(e);
        return NULL;
    }
    /* libxenevtchn opens /dev/xen/evtchn blocking, so its pending() would
     * wait for the next event instead of answering -1/EAGAIN as this seam
     * promises: a backend draining its ports in a loop would hang there. */
    int fd = xenevtchn_fd(e->h);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int err = errno;
        xenevtchn_close(e->h);
        free(e);
        errno = err;
        return NULL;
    }
    return e;
}

static void xen_evtchn_close(struct pv_evtchn *e)
{
    if (!e)
        return;
    xenevtchn_close(e->h);
    free(e);
}

static int xen_evtchn_fd(struct pv_evtchn *e)
{
    return xenevtchn_fd(e->h);
}

static int xen_evtchn_bind_interdomain(struct pv_evtchn *e, uint32_t domid, uint32_t port)
{
    return xenevtchn_bind_interdomain(e->h, domid, port);
}

static int xen_evtchn_bind_unbound(struct pv_evtchn *e, uint32_t domid)
{
    return xenevtchn_bind_unbound_port(e->h, domid);
}

static int xen_evtchn_unbind(struct pv_evtchn *e, uint32_t port)
{
    return xenevtchn_unbind(e->h, port);
}

static int xen_evtchn_notify(struct pv_evtchn *e, uint32_t port)
{
    return xenevtchn_notify(e->h, port);
}

static int xen_evtchn_pending(struct pv_evtchn *e)
{
    return xenevtchn_pending(e->h);
}

static int xen_evtchn_unmask(struct pv_evtchn *e, uint32_t port)
{
    return xenevtchn_unmask(e->h, port);
}

const struct pv_platform_ops pv_platform_xen_ops = {
    .name = "xen",
    .gnt_open = xen_gnt_open,
    .gnt_close = xen_gnt_close,
    .gnt_map = xen_gnt_map,
    .gnt_unmap = xen_gnt_unmap,
    .gnt_copy = xen_gnt_copy,
    .gntshr_open = xen_gntshr_open,
    .gntshr_close = xen_gntshr_close,
    .gntshr_share = xen_gntshr_share,
    .gntshr_unshare = xen_gntshr_unshare,
    .evtchn_open = xen_evtchn_open,
    .evtchn_close = xen_evtchn_close,
    .evtchn_fd = xen_evtchn_fd,
    .evtchn_bind_interdomain = xen_evtchn_bind_interdomain,
    .evtchn_bind_unbound = xen_evtchn_bind_unbound,
    .evtchn_unbind = xen_evtchn_unbind,
    .evtchn_notify = xen_evtchn_notify,
    .evtchn_pending = xen_evtchn_pending,
    .evtchn_unmask = xen_evtchn_unmask,
};
