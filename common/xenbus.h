/* The xenbus state machine, written once for every device class.
 *
 * A device class (blkback's vbd, netback's vif) fills a struct pv_xenbus_ops
 * and creates a backend with pv_xenbus_backend_new(); everything else of the
 * handshake happens here, as Linux's drivers/xen/xenbus does it for its
 * backends and QEMU's XenDevOps for its own:
 *
 *  - The backend watches <home>/backend/<type>/<domid>/ (one frontend domain)
 *    or <home>/backend/<type>/ (all), where <home> is /local/domain/<self>.
 *    A new <devid> directory with a valid "state" key becomes a device;
 *    ("Closed" with "online" = 0 is a device being torn down and is ignored).
 *    A device whose directory disappears is disconnected and removed.
 *  - Per device: "frontend" and "frontend-id" are read once and checked
 *    (frontend-id must be the <domid> of the path); the frontend's "state"
 *    and the backend directory are watched. The walk:
 *      start                       -> probe (publish features), InitWait
 *      frontend Initialised or Connected, backend InitWait, ready()
 *                                  -> connect, Connected
 *      frontend Closing            -> disconnect, Closing
 *      frontend Closed, or gone after it connected
 *                                  -> disconnect, Closed; removed if online=0
 *    (a disconnect the class defers holds the next state, not the loop)
 *      frontend Initialising (again) while Connected, Closed, or Closing
 *      other than after a fatal error
 *                                  -> disconnect, InitWait (reconnect)
 *      backend state set to Closing by the toolstack (xl destroy/detach)
 *                                  -> disconnect, Closed at once
 *    Skipped frontend states are fine: only the current value matters
 *    (pv_xenbus_next_action in xenbus_fsm.h is the whole table).
 *  - Errors: pv_xenbus_dev_fatal() writes <home>/error/backend/<type>/
 *    <domid>/<devid>/error = "<errno> <message>" (Linux's xenbus_dev_fatal)
 *    and moves the device to Closing; the daemon and the other devices go on.
 *
 * Restarting the daemon: pv_xenbus_backend_free() leaves xenstore as it is,
 * and a new backend adopts devices in any state, walking them through
 * InitWait to Connected again with the frontend's existing keys.
 *
 * Callbacks run from the pv_loop of the pv_xs handle. None of them may free
 * the backend. */
#ifndef PVBACK_XENBUS_H
#define PVBACK_XENBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xenbus.h>

#include "log.h"
#include "xs.h"

struct pv_xenbus_backend;
struct pv_xenbus_dev;

struct pv_xenbus_ops {
    /* The backend directory's name: "vbd", "vif", "vbd3". */
    const char *type;
    /* Bytes of zeroed per-device data, at pv_xenbus_dev_priv(). */
    size_t priv_size;
    /* Publishes the features in the backend directory. Called once per
     * device, before its first InitWait. Returns 0, or -1 after calling
     * pv_xenbus_dev_fatal (a -1 without it gets a generic error node). */
    int (*probe)(struct pv_xenbus_dev *dev);
    /* Optional: whether the host side is ready to connect (netback:
     * hotplug-status = connected; blkback: physical-device or params).
     * Asked again after every change of the backend directory and after
     * pv_xenbus_dev_kick(). NULL means always ready. */
    bool (*ready)(struct pv_xenbus_dev *dev);
    /* Reads the frontend's transport keys, maps rings, binds event
     * channels. Returns 0 (the device then switches to Connected), or -1
     * after pv_xenbus_dev_fatal (as for probe); disconnect() then cleans up
     * whatever was half done. */
    int (*connect)(struct pv_xenbus_dev *dev);
    /* Undoes connect. Called only after connect was called, once per
     * connect, never from inside another callback of the same device.
     * With may_defer, a class whose I/O cannot be cut short (storage
     * requests writing into guest pages, a server that is down) may return
     * 1, keep the loop running, and call pv_xenbus_dev_disconnected() once
     * done; until then the device takes no step (the next state waits) and
     * a removal waits too, while the other devices go on, as Linux blkback
     * leaves a busy ring to its last request. Without may_defer (the
     * process is stopping), or when called again while deferred, it
     * finishes before returning 0. */
    int (*disconnect)(struct pv_xenbus_dev *dev, bool may_defer);
    /* Optional: a key below the backend directory changed (resize, "rate").
     * key is relative ("rate", "hotplug-status", "queue-0/x"); "state" is not
     * reported. Also called for keys the device wrote itself, so it must
     * ignore what it does not know and be idempotent. */
    void (*backend_changed)(struct pv_xenbus_dev *dev, const char *key);
    /* Optional: the device is going away (already disconnected). Free what
     * priv points to; priv itself is freed afterwards. */
    void (*remove)(struct pv_xenbus_dev *dev);
};

/* Starts serving <home>/backend/<ops->type>/: every frontend domain when
 * fe_domid < 0, only that one otherwise. self_domid is the domain this
 * backend runs in (0 for dom0; pv_platform_self_domid() on xensim). ctx is
 * handed to the device class through pv_xenbus_dev_ctx(). The pv_xs must have
 * a loop. Returns NULL with errno set (and a message logged). */
struct pv_xenbus_backend *pv_xenbus_backend_new(struct pv_xs *xs, const struct pv_xenbus_ops *ops,
                                                uint32_t self_domid, int fe_domid, void *ctx);
/* Disconnects and removes every device without changing xenstore (a
 * restarted daemon takes the devices over), then frees the backend. */
void pv_xenbus_backend_free(struct pv_xenbus_backend *be);
/* Devices currently served (a per-guest process may exit when it drops to 0
 * in ops->remove, which is called after the device left the count). */
unsigned int pv_xenbus_backend_count(const struct pv_xenbus_backend *be);

/* --- accessors for the device class ----------------------------------- */
/* Absolute paths, e.g. /local/domain/0/backend/vbd/3/51712 and
 * /local/domain/3/device/vbd/51712. */
const char *pv_xenbus_dev_be_path(const struct pv_xenbus_dev *dev);
const char *pv_xenbus_dev_fe_path(const struct pv_xenbus_dev *dev);
uint32_t pv_xenbus_dev_fe_domid(const struct pv_xenbus_dev *dev);
uint32_t pv_xenbus_dev_devid(const struct pv_xenbus_dev *dev);
struct pv_xs *pv_xenbus_dev_xs(const struct pv_xenbus_dev *dev);
struct pv_loop *pv_xenbus_dev_loop(const struct pv_xenbus_dev *dev);
void *pv_xenbus_dev_priv(const struct pv_xenbus_dev *dev);
void *pv_xenbus_dev_ctx(const struct pv_xenbus_dev *dev);
/* Log prefix "<type>/<domid>/<devid>", for pv_dlog. */
const struct pv_logctx *pv_xenbus_dev_log(const struct pv_xenbus_dev *dev);
/* The backend's state as last written, and the frontend's as last read. */
enum xenbus_state pv_xenbus_dev_state(const struct pv_xenbus_dev *dev);
enum xenbus_state pv_xenbus_dev_fe_state(const struct pv_xenbus_dev *dev);

/* --- actions ------------------------------------------------------------ */
/* Writes the error node (err: a positive or negative errno, written as a
 * positive number like Linux does) and logs the message. */
void pv_xenbus_dev_error(struct pv_xenbus_dev *dev, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* pv_xenbus_dev_error, then the device switches to Closing. Callable from
 * anywhere, the data path included: disconnect() runs later from the loop,
 * never from inside this call, and the caller must stop using the rings. */
void pv_xenbus_dev_fatal(struct pv_xenbus_dev *dev, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A deferred disconnect (ops->disconnect returned 1) is complete: the walk
 * goes on from the loop (or the device's removal completes). */
void pv_xenbus_dev_disconnected(struct pv_xenbus_dev *dev);
/* Re-evaluates the state machine soon (from the loop), e.g. after ready()
 * became true for a reason that no backend key announces. */
void pv_xenbus_dev_kick(struct pv_xenbus_dev *dev);
/* Writes the current state again (in transaction t or XBT_NULL), which fires
 * the frontend's watch: Linux blkback's way to announce an online resize
 * after rewriting "sectors". */
int pv_xenbus_dev_rewrite_state(struct pv_xenbus_dev *dev, xs_transaction_t t);

/* Per-device logging shorthands. */
#define pv_dev_err(dev, ...)   pv_dlog(pv_xenbus_dev_log(dev), PV_LOG_ERR, __VA_ARGS__)
#define pv_dev_warn(dev, ...)  pv_dlog(pv_xenbus_dev_log(dev), PV_LOG_WARN, __VA_ARGS__)
#define pv_dev_info(dev, ...)  pv_dlog(pv_xenbus_dev_log(dev), PV_LOG_INFO, __VA_ARGS__)
#define pv_dev_debug(dev, ...) pv_dlog(pv_xenbus_dev_log(dev), PV_LOG_DEBUG, __VA_ARGS__)

#endif
