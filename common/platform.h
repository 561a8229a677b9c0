/* The platform seam. Backends and the guest-side simulators never call
 * libxengnttab, libxengntshr or libxenevtchn directly: they call these
 * functions, which dispatch to the platform chosen at run time:
 *   "xen"       thin wrappers over the Xen libraries (/dev/xen/...);
 *   "sim:DIR"   the same operations served by the xensim daemon whose
 *               sockets are in DIR (see sim/hv/hv_proto.h).
 * The choice: pv_platform_init(spec) with spec from --platform, else the
 * environment: XENSIM_DIR=DIR means "sim:DIR"; otherwise "xen".
 * On sim, XENSIM_DOMID=N makes the process act as guest N (default 0, dom0):
 * its grant shares come from guest N's memory and its event channels are
 * guest N's. Xenstore is not part of this seam (see xs.h): it always goes
 * through libxenstore, pointed at xensim's socket by pv_platform_init.
 *
 * Semantics follow the Xen libraries exactly (return values, errno, the
 * per-operation GNTST_* status codes), so that the sim and xen behave the
 * same for the code above. */
#ifndef PVBACK_PLATFORM_H
#define PVBACK_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xengnttab.h> /* xengnttab_grant_copy_segment_t, GNTCOPY_* */

#define PV_PAGE_SIZE  4096u
#define PV_PAGE_SHIFT 12

struct pv_gnt;    /* a grant-mapping handle (backend side, like a gntdev fd) */
struct pv_gntshr; /* a grant-sharing handle (guest side, like a gntalloc fd) */
struct pv_evtchn; /* an event-channel handle (like an evtchn fd) */

struct pv_platform_ops {
    const char *name; /* "xen" or "sim" */

    /* Grant mapping. Closing the handle unmaps everything it still maps. */
    struct pv_gnt *(*gnt_open)(void);
    void (*gnt_close)(struct pv_gnt *g);
    /* Maps count grants of domid contiguously (refs[i] at page i). On failure
     * returns NULL with errno set and, if status is not NULL, the GNTST_*
     * code of each reference in status[i] (GNTST_okay for good ones); nothing
     * stays mapped. prot_write=false maps read-only (a read-only grant
     * can only be mapped so). */
    void *(*gnt_map)(struct pv_gnt *g, uint32_t domid, uint32_t count, const uint32_t *refs,
                     bool prot_write, int16_t *status);
    /* Unmaps a region returned by gnt_map; count must match. */
    int (*gnt_unmap)(struct pv_gnt *g, void *addr, uint32_t count);
    /* Grant copy with libxengnttab's semantics: returns 0 when the batch was
     * processed (each segment's status then says GNTST_okay or the error),
     * -1 with errno when it could not be submitted at all. */
    int (*gnt_copy)(struct pv_gnt *g, uint32_t count, xengnttab_grant_copy_segment_t *segs);

    /* Grant sharing (guest side): allocates count pages, grants them to
     * domid (writable or read-only), fills refs[] and returns the local
     * mapping. NULL with errno on failure. */
    struct pv_gntshr *(*gntshr_open)(void);
    void (*gntshr_close)(struct pv_gntshr *s);
    void *(*gntshr_share)(struct pv_gntshr *s, uint32_t domid, uint32_t count, uint32_t *refs,
                          bool writable);
    /* Ends access and frees the pages. Like a guest kernel's
     * gnttab_end_foreign_access, it fails with EBUSY (and changes nothing)
     * while the remote side still maps one of the grants. */
    int (*gntshr_unshare)(struct pv_gntshr *s, void *addr, uint32_t count);

    /* Event channels, with /dev/xen/evtchn semantics: the fd becomes readable
     * when a bound port fires; pending() returns that port (or -1 with
     * EAGAIN) and leaves it masked until unmask(); further notifies while it
     * is pending coalesce into one. */
    struct pv_evtchn *(*evtchn_open)(void);
    void (*evtchn_close)(struct pv_evtchn *e);
    int (*evtchn_fd)(struct pv_evtchn *e);
    int (*evtchn_bind_interdomain)(struct pv_evtchn *e, uint32_t domid, uint32_t remote_port);
    int (*evtchn_bind_unbound)(struct pv_evtchn *e, uint32_t domid);
    int (*evtchn_unbind)(struct pv_evtchn *e, uint32_t port);
    int (*evtchn_notify)(struct pv_evtchn *e, uint32_t port);
    int (*evtchn_pending)(struct pv_evtchn *e);
    int (*evtchn_unmask)(struct pv_evtchn *e, uint32_t port);
};

/* Chooses the platform. spec: "xen", "sim:DIR", or NULL for the environment
 * (XENSIM_DIR). On sim it also sets XENSTORED_PATH (unless already set) to
 * DIR/xenstored.sock for dom0 or DIR/dom<N>.sock for guest N. Returns 0, or
 * -1 after writing a message that names the bad value into err. */
int pv_platform_init(const char *spec, char *err, size_t errlen);

/* The chosen platform (pv_platform_init must have succeeded). */
const struct pv_platform_ops *pv_platform(void);
/* On sim: the xensim directory and this process's domid; NULL/0 on xen. */
const char *pv_platform_sim_dir(void);
uint32_t pv_platform_self_domid(void);

/* Migration, guest side (on xen: 0 and ENOSYS; the guest kernel handles it).
 * pv_platform_home_epoch: how many times this domain has moved to another
 * xensim (its start-info page, sim/hv/hv_proto.h). A frontend remembers it
 * and checks it at its safe points (before it submits, when it waits); when
 * it changed, it calls pv_platform_rehome() and then does what a Linux
 * frontend's resume does: new rings, new event channels, a new handshake
 * with the new backend, replay of what was in flight.
 * pv_platform_rehome: this process follows the domain (once per move; later
 * calls return 0): the new xensim directory and domid (pv_platform_sim_dir,
 * pv_platform_self_domid, and XENSIM_DIR, XENSIM_DOMID, XENSTORED_PATH for
 * libxenstore and child programs); every grant-sharing handle reconnects
 * with its grants taken back (same refs, same pages, same data). Event-
 * channel and grant-mapping handles and xenstore connections of the old home
 * are dead: close them and open new ones. 0, or -1 with errno. */
uint32_t pv_platform_home_epoch(void);
int pv_platform_rehome(void);
/* platform_sim.c's: records the new home (dir, domid) and the environment. */
void pv_platform_sim_set_home(const char *dir, uint32_t domid);

extern const struct pv_platform_ops pv_platform_xen_ops;
extern const struct pv_platform_ops pv_platform_sim_ops;

/* Shorthands so that callers read like the Xen libraries. */
static inline struct pv_gnt *pv_gnt_open(void)
{
    return pv_platform()->gnt_open();
}
static inline void pv_gnt_close(struct pv_gnt *g)
{
    pv_platform()->gnt_close(g);
}
static inline void *pv_gnt_map(struct pv_gnt *g, uint32_t domid, uint32_t count,
                               const uint32_t *refs, bool prot_write, int16_t *status)
{
    return pv_platform()->gnt_map(g, domid, count, refs, prot_write, status);
}
static inline int pv_gnt_unmap(struct pv_gnt *g, void *addr, uint32_t count)
{
    return pv_platform()->gnt_unmap(g, addr, count);
}
static inline int pv_gnt_copy(struct pv_gnt *g, uint32_t count,
                              xengnttab_grant_copy_segment_t *segs)
{
    return pv_platform()->gnt_copy(g, count, segs);
}
static inline struct pv_gntshr *pv_gntshr_open(void)
{
    return pv_platform()->gntshr_open();
}
static inline void pv_gntshr_close(struct pv_gntshr *s)
{
    pv_platform()->gntshr_close(s);
}
static inline void *pv_gntshr_share(struct pv_gntshr *s, uint32_t domid, uint32_t count,
                                    uint32_t *refs, bool writable)
{
    return pv_platform()->gntshr_share(s, domid, count, refs, writable);
}
static inline int pv_gntshr_unshare(struct pv_gntshr *s, void *addr, uint32_t count)
{
    return pv_platform()->gntshr_unshare(s, addr, count);
}
static inline struct pv_evtchn *pv_evtchn_open(void)
{
    return pv_platform()->evtchn_open();
}
static inline void pv_evtchn_close(struct pv_evtchn *e)
{
    pv_platform()->evtchn_close(e);
}
static inline int pv_evtchn_fd(struct pv_evtchn *e)
{
    return pv_platform()->evtchn_fd(e);
}
static inline int pv_evtchn_bind_interdomain(struct pv_evtchn *e, uint32_t domid, uint32_t port)
{
    return pv_platform()->evtchn_bind_interdomain(e, domid, port);
}
static inline int pv_evtchn_bind_unbound(struct pv_evtchn *e, uint32_t domid)
{
    return pv_platform()->evtchn_bind_unbound(e, domid);
}
static inline int pv_evtchn_unbind(struct pv_evtchn *e, uint32_t port)
{
    return pv_platform()->evtchn_unbind(e, port);
}
static inline int pv_evtchn_notify(struct pv_evtchn *e, uint32_t port)
{
    return pv_platform()->evtchn_notify(e, port);
}
static inline int pv_evtchn_pending(struct pv_evtchn *e)
{
    return pv_platform()->evtchn_pending(e);
}
static inline int pv_evtchn_unmask(struct pv_evtchn *e, uint32_t port)
{
    return pv_platform()->evtchn_unmask(e, port);
}

#endif
