/* The xenbus side that the simulated guest's frontends (blkfront, netfront)
 * share, as Linux's frontends share drivers/xen/xenbus: the device's
 * frontend and backend paths, the backend's state and keys, waiting for a
 * state, the orderly close, and following the domain to a new host after a
 * migration (the first step of a frontend's resume).
 *
 * All calls block the caller (polling xenstore every 2 ms), as the
 * frontends' handshakes do. */
#ifndef PVBACK_FRONTEND_XENBUS_H
#define PVBACK_FRONTEND_XENBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "xs.h"

struct fe_bus {
    struct pv_xs *xs;
    const char *kind; /* "vbd" or "vif": device/<kind>/<devid> */
    uint32_t devid;
    unsigned timeout_ms; /* per wait */
    uint32_t backend_domid;
    char fe_path[128], be_path[256];
    uint32_t home_epoch; /* pv_platform_home_epoch() we are connected in */
};

/* A driver starting: connects to xenstore, reads where the backend is
 * (device/<kind>/<devid> of this domain: backend, backend-id), opens the
 * grant-sharing handle (*shr) and writes Initialising. -1 with a message in
 * err (nothing left open). */
int fe_bus_open(struct fe_bus *b, const char *kind, uint32_t devid, unsigned timeout_ms,
                struct pv_gntshr **shr, char *err, size_t errlen);
void fe_bus_close(struct fe_bus *b);

uint64_t fe_now_ms(void);
/* The backend's state (XenbusStateUnknown when unreadable) and keys. */
unsigned fe_be_state(struct fe_bus *b);
unsigned fe_be_uint(struct fe_bus *b, const char *key, unsigned dflt);
/* The backend's error node (error/backend/<kind>/<domid>/<devid>/error), or
 * "no error node". */
void fe_be_error(struct fe_bus *b, char *out, size_t len);
int fe_set_state(struct fe_bus *b, unsigned st, char *err, size_t errlen);
/* Waits up to timeout_ms for the backend to reach want. With fail_on_close,
 * a backend at Closing or beyond while we wait for an earlier state fails at
 * once, its error node in the message. */
int fe_wait_be(struct fe_bus *b, unsigned want, bool fail_on_close, char *err, size_t errlen);
/* Closing, wait for the backend's Closing, Closed, wait for its Closed. */
void fe_close_device(struct fe_bus *b);

/* True when the domain moved to another host since we connected. */
bool fe_moved(const struct fe_bus *b);
/* The first step of a resume after a move: this process follows the domain
 * (pv_platform_rehome), a new xenstore connection, our directory and the
 * backend read again there. The caller then sets up new rings and event
 * channels and does the handshake again. -1 with a message in err. */
int fe_follow_home(struct fe_bus *b, char *err, size_t errlen);

#endif
