/* Internals shared by xenbus_backend.c (which devices exist) and
 * xenbus_dev.c (what one device does). Not for device classes. */
#ifndef PVBACK_XENBUS_PRIV_H
#define PVBACK_XENBUS_PRIV_H

#include "xenbus.h"

struct pv_xenbus_backend {
    struct pv_xs *xs;
    const struct pv_xenbus_ops *ops;
    void *ctx;
    int fe_domid;        /* < 0: every frontend domain */
    char type_base[128]; /* <home>/backend/<type> */
    char watch_path[160];
    struct pv_xs_watch *watch;
    struct pv_xenbus_dev *devs;
    unsigned int count;
    bool freeing; /* in pv_xenbus_backend_free: no disconnect may be deferred */
};

struct pv_xenbus_dev {
    struct pv_xenbus_backend *be;
    struct pv_xenbus_dev *next;
    uint32_t fe_domid, devid;
    char be_path[192];
    char *fe_path; /* NULL when "frontend"/"frontend-id" were unusable */
    struct pv_logctx log;
    struct pv_xs_watch *be_watch, *fe_watch;
    struct pv_timer *kick;
    enum xenbus_state state;    /* ours, as last written */
    enum xenbus_state fe_state; /* theirs, as last read */
    bool probed;                /* ops->probe succeeded once */
    bool connected;             /* ops->connect called, disconnect not yet */
    bool disconnecting;         /* ops->disconnect deferred, not complete */
    bool failed;                /* Closing because of a fatal error */
    bool in_eval;               /* inside evaluate(): no recursion */
    bool dying;                 /* inside pv_xenbus_dev_destroy() */
    bool seen;                  /* found by the backend's current rescan */
    unsigned int errors;        /* error nodes written, to tell if a callback reported */
    void *priv;
};

/* Creates and starts the device at type_base/<domid>/<devid>; NULL on
 * failure (logged). */
struct pv_xenbus_dev *pv_xenbus_dev_new(struct pv_xenbus_backend *be, uint32_t domid,
                                        uint32_t devid);
/* Disconnects, unlinks from the backend, calls ops->remove, frees. Writes
 * nothing to xenstore. When the class defers the disconnect, the device
 * stays listed (dying) until it completes; a second call does nothing, but
 * while the backend is freeing it makes the deferred disconnect end now. */
void pv_xenbus_dev_destroy(struct pv_xenbus_dev *dev);
/* Looks at the device directories again (after a deferred removal, for a
 * directory of the same name that appeared meanwhile). */
void pv_xenbus_backend_rescan(struct pv_xenbus_backend *be);

#endif
