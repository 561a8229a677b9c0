/* One xenbus device: reads its inputs from xenstore, asks the transition
 * table (xenbus_fsm.c) what to do and does it through the device class's
 * ops, until there is nothing left to do. Runs on every watch event of the
 * frontend's state or the backend directory, and on a kick. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenbus_fsm.h"
#include "xenbus_path.h"
#include "xenbus_priv.h"

/* More steps than any walk needs (Initialising -> InitWait -> Connected is
 * the longest); reaching it means two inputs disagree forever. */
#define MAX_STEPS 8

static void evaluate(struct pv_xenbus_dev *dev);

/* ---- accessors -------------------------------------------------------- */

const char *pv_xenbus_dev_be_path(const struct pv_xenbus_dev *dev)
{
    return dev->be_path;
}

const char *pv_xenbus_dev_fe_path(const struct pv_xenbus_dev *dev)
{
    return dev->fe_path ? dev->fe_path : "";
}

uint32_t pv_xenbus_dev_fe_domid(const struct pv_xenbus_dev *dev)
{
    return dev->fe_domid;
}

uint32_t pv_xenbus_dev_devid(const struct pv_xenbus_dev *dev)
{
    return dev->devid;
}

struct pv_xs *pv_xenbus_dev_xs(const struct pv_xenbus_dev *dev)
{
    return dev->be->xs;
}

struct pv_loop *pv_xenbus_dev_loop(const struct pv_xenbus_dev *dev)
{
    return pv_xs_loop(dev->be->xs);
}

void *pv_xenbus_dev_priv(const struct pv_xenbus_dev *dev)
{
    return dev->priv;
}

void *pv_xenbus_dev_ctx(const struct pv_xenbus_dev *dev)
{
    return dev->be->ctx;
}

const struct pv_logctx *pv_xenbus_dev_log(const struct pv_xenbus_dev *dev)
{
    return &dev->log;
}

enum xenbus_state pv_xenbus_dev_state(const struct pv_xenbus_dev *dev)
{
    return dev->state;
}

enum xenbus_state pv_xenbus_dev_fe_state(const struct pv_xenbus_dev *dev)
{
    return dev->fe_state;
}

/* ---- state and error nodes ------------------------------------------- */

struct switch_arg {
    struct pv_xenbus_dev *dev;
    enum xenbus_state state;
};

/* Whether a switch to `to` would overwrite a Closing that the toolstack
 * wrote since we last looked (xl destroy/detach racing with a backend that
 * is adopting the device after a restart): that Closing must win, or libxl
 * waits its full 10 s for a Closed that never comes. */
static bool overwrites_toolstack_closing(const struct pv_xenbus_dev *dev, unsigned int current,
                                         enum xenbus_state to)
{
    return current == XenbusStateClosing && dev->state != XenbusStateClosing &&
           to != XenbusStateClosing && to != XenbusStateClosed;
}

/* Only rewrites "state" while it exists: writing it after the toolstack
 * removed the directory would recreate a stray node (Linux does the same
 * check in __xenbus_switch_state). Reading it in the same transaction also
 * makes the toolstack-Closing check above race-free. */
static int switch_txn(struct pv_xs *xs, xs_transaction_t t, void *arg)
{
    struct switch_arg *a = arg;
    unsigned int current;

    if (pv_xs_read_uint(xs, t, a->dev->be_path, "state", 0, UINT_MAX, &current) < 0) {
        if (errno == ENOENT)
            return -1;
        current = XenbusStateUnknown; /* unreadable: ours to overwrite */
    }
    if (overwrites_toolstack_closing(a->dev, current, a->state)) {
        errno = EBUSY;
        return -1;
    }
    return pv_xs_printf(xs, t, a->dev->be_path, "state", "%d", (int)a->state);
}

static int switch_state(struct pv_xenbus_dev *dev, enum xenbus_state state)
{
    struct switch_arg a = {dev, state};
    struct pv_xs *xs = dev->be->xs;

    if (pv_xs_transaction(xs, switch_txn, &a) < 0) {
        if (errno == EBUSY) {
            /* The next walk sees the toolstack's Closing and closes. */
            pv_dev_info(dev, "toolstack is closing the device: not switching to %s",
                        pv_xenbus_state_name((int)state));
            pv_xenbus_dev_kick(dev);
        } else if (errno != ENOENT) {
            pv_dev_err(dev, "cannot switch to %s: %s", pv_xenbus_state_name((int)state),
                       pv_xs_error(xs));
        }
        return -1;
    }
    if (dev->state != state)
        pv_dev_info(dev, "%s -> %s (frontend %s)", pv_xenbus_state_name((int)dev->state),
                    pv_xenbus_state_name((int)state), pv_xenbus_state_name((int)dev->fe_state));
    dev->state = state;
    return 0;
}

int pv_xenbus_dev_rewrite_state(struct pv_xenbus_dev *dev, xs_transaction_t t)
{
    return pv_xs_printf(dev->be->xs, t, dev->be_path, "state", "%d", (int)dev->state);
}

static void dev_verror(struct pv_xenbus_dev *dev, int err, const char *fmt, va_list ap)
{
    char msg[1024], dir[256];
    int n;

    n = snprintf(msg, sizeof(msg), "%d ", err < 0 ? -err : err);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    pv_dev_err(dev, "%s", msg + n);
    dev->errors++;
    if (pv_xenbus_error_dir(dir, sizeof(dir), dev->be_path) < 0 ||
        pv_xs_write_str(dev->be->xs, XBT_NULL, dir, "error", msg) < 0)
        pv_dev_err(dev, "cannot write the error node: %s", pv_xs_error(dev->be->xs));
}

void pv_xenbus_dev_error(struct pv_xenbus_dev *dev, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dev_verror(dev, err, fmt, ap);
    va_end(ap);
}

void pv_xenbus_dev_fatal(struct pv_xenbus_dev *dev, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dev_verror(dev, err, fmt, ap);
    va_end(ap);
    if (dev->dying)
        return;
    dev->failed = true;
    if (dev->state != XenbusStateClosing && dev->state != XenbusStateClosed)
        switch_state(dev, XenbusStateClosing);
    /* The disconnect happens in evaluate(), from the loop: the caller may
     * be the data path, still holding the ring. */
    pv_xenbus_dev_kick(dev);
}

static void finish_destroy(struct pv_xenbus_dev *dev);

static void on_kick(struct pv_timer *t, void *arg)
{
    struct pv_xenbus_dev *dev = arg;

    (void)t;
    if (dev->dying) { /* a removal whose deferred disconnect completed */
        struct pv_xenbus_backend *be = dev->be;
        finish_destroy(dev);
        /* A directory of the same name may have come meanwhile. */
        pv_xenbus_backend_rescan(be);
        return;
    }
    evaluate(dev);
}

void pv_xenbus_dev_kick(struct pv_xenbus_dev *dev)
{
    if (!dev->dying && pv_timer_arm(dev->kick, 0, 0) < 0)
        pv_dev_err(dev, "cannot arm the kick timer: %s", strerror(errno));
}

/* ---- the walk ----------------------------------------------------------- */

/* Returns true when the device is disconnected, false while the class
 * finishes a deferred disconnect (pv_xenbus_dev_disconnected). */
static bool do_disconnect(struct pv_xenbus_dev *dev)
{
    bool may_defer = !dev->be->freeing;

    if (dev->disconnecting) {
        if (may_defer)
            return false;
        /* The process is stopping: the class must end it now. */
        dev->disconnecting = false;
        dev->be->ops->disconnect(dev, false);
        return true;
    }
    if (!dev->connected)
        return true;
    dev->connected = false;
    if (dev->be->ops->disconnect(dev, may_defer) > 0 && may_defer) {
        dev->disconnecting = true;
        pv_dev_info(dev, "disconnect deferred until the device's I/O ends");
        return false;
    }
    return true;
}

/* Fills in; returns 1 when the backend directory is gone. */
static int read_inputs(struct pv_xenbus_dev *dev, struct pv_xenbus_inputs *in)
{
    struct pv_xs *xs = dev->be->xs;
    unsigned int key_state;
    bool online = false;
    char *fe;

    memset(in, 0, sizeof(*in));
    if (pv_xs_read_uint(xs, XBT_NULL, dev->be_path, "state", 0, XenbusStateReconfigured,
                        &key_state) < 0) {
        if (errno == ENOENT && pv_xs_exists(xs, XBT_NULL, dev->be_path, NULL) == 0)
            return 1;
        key_state = XenbusStateUnknown;
    }
    if (pv_xs_read_bool(xs, XBT_NULL, dev->be_path, "online", &online) < 0)
        online = false; /* like Linux's xenbus_dev_is_online(): absent is offline */
    in->be = dev->state;
    in->online = online;
    in->toolstack_closing = key_state == XenbusStateClosing && dev->state != XenbusStateClosing;
    in->failed = dev->failed;
    in->fe = XenbusStateUnknown;
    if (dev->fe_path) {
        if (pv_xs_read_str(xs, XBT_NULL, dev->fe_path, "state", &fe) == 0) {
            int v;
            in->fe = pv_parse_int(fe, 0, 1000, &v) == 0 ? v : -1;
            free(fe);
        }
    }
    dev->fe_state = in->fe >= 0 && in->fe <= XenbusStateReconfigured ? (enum xenbus_state)in->fe
                                                                     : XenbusStateUnknown;
    in->ready = dev->be->ops->ready ? dev->be->ops->ready(dev) : true;
    return 0;
}

/* A callback that failed without reporting why still leaves an error node. */
static void fail_step(struct pv_xenbus_dev *dev, unsigned int errors_before, const char *what)
{
    int e = errno;

    if (dev->errors == errors_before)
        pv_xenbus_dev_fatal(dev, e ? e : EIO, "%s failed", what);
    else if (dev->state != XenbusStateClosing && dev->state != XenbusStateClosed)
        switch_state(dev, XenbusStateClosing); /* an error without fatal */
    dev->failed = true;
}

static void do_initwait(struct pv_xenbus_dev *dev)
{
    if (!do_disconnect(dev))
        return;
    if (!dev->probed) {
        unsigned int before = dev->errors;
        errno = 0;
        if (dev->be->ops->probe(dev) < 0) {
            fail_step(dev, before, "probe");
            return;
        }
        dev->probed = true;
    }
    dev->failed = false;
    switch_state(dev, XenbusStateInitWait);
}

static void do_connect(struct pv_xenbus_dev *dev)
{
    unsigned int before = dev->errors;
    enum xenbus_state was = dev->state;
    int r;

    dev->connected = true;
    errno = 0;
    r = dev->be->ops->connect(dev);
    if (r < 0 || dev->state != was) {
        /* Failed, or reported a fatal error and returned 0 anyway. */
        do_disconnect(dev);
        if (r < 0)
            fail_step(dev, before, "connect");
        return;
    }
    if (switch_state(dev, XenbusStateConnected) < 0)
        do_disconnect(dev);
}

static void evaluate(struct pv_xenbus_dev *dev)
{
    int step;

    if (dev->in_eval || dev->dying)
        return;
    dev->in_eval = true;
    for (step = 0; step < MAX_STEPS; step++) {
        struct pv_xenbus_inputs in;
        enum pv_xenbus_action act;
        enum xenbus_state before = dev->state;

        if (read_inputs(dev, &in)) {
            pv_dev_info(dev, "backend directory removed");
            dev->in_eval = false;
            pv_xenbus_dev_destroy(dev);
            return;
        }
        /* A fatal error moved us out of Connected behind our back. */
        if (dev->connected && dev->state != XenbusStateConnected)
            do_disconnect(dev);
        /* The next step waits for a deferred disconnect to complete. */
        if (dev->disconnecting)
            break;
        act = pv_xenbus_next_action(&in);
        if (act == PV_XENBUS_NONE)
            break;
        pv_dev_debug(dev, "backend %s, frontend %d, ready %d, online %d: %s",
                     pv_xenbus_state_name((int)in.be), in.fe, in.ready, in.online,
                     pv_xenbus_action_name(act));
        switch (act) {
        case PV_XENBUS_NONE:
            break;
        case PV_XENBUS_INITWAIT:
            do_initwait(dev);
            break;
        case PV_XENBUS_CONNECT:
            do_connect(dev);
            break;
        case PV_XENBUS_CLOSING:
            /* Closing means "going down": it need not wait for the I/O. */
            do_disconnect(dev);
            switch_state(dev, XenbusStateClosing);
            break;
        case PV_XENBUS_CLOSED:
            if (!do_disconnect(dev))
                break;
            dev->failed = false;
            switch_state(dev, XenbusStateClosed);
            break;
        case PV_XENBUS_REMOVE:
            pv_dev_info(dev, "offline and closed: removing");
            dev->in_eval = false;
            pv_xenbus_dev_destroy(dev);
            return;
        case PV_XENBUS_BAD_FRONTEND:
            pv_xenbus_dev_fatal(dev, EINVAL, "saw state %d at frontend", in.fe);
            break;
        }
        if (dev->disconnecting || (dev->state == before && act != PV_XENBUS_CLOSED))
            break; /* waiting, or the step could not change anything */
    }
    if (step == MAX_STEPS)
        pv_dev_warn(dev, "state machine did not settle after %d steps", MAX_STEPS);
    dev->in_eval = false;
}

/* ---- creation and removal ----------------------------------------------- */

static void on_fe_event(struct pv_xs *xs, const char *path, void *arg)
{
    (void)xs;
    (void)path;
    evaluate(arg);
}

static void on_be_event(struct pv_xs *xs, const char *path, void *arg)
{
    struct pv_xenbus_dev *dev = arg;
    const char *key = pv_xenbus_key_below(dev->be_path, path);

    (void)xs;
    if (key && *key && strcmp(key, "state") && dev->be->ops->backend_changed)
        dev->be->ops->backend_changed(dev, key);
    evaluate(dev);
}

/* "frontend" and "frontend-id" come from the toolstack; still, they decide
 * which guest's keys we trust, so they must agree with the path. */
static int read_frontend(struct pv_xenbus_dev *dev)
{
    struct pv_xs *xs = dev->be->xs;
    unsigned int id;
    char *fe;

    if (pv_xs_read_uint(xs, XBT_NULL, dev->be_path, "frontend-id", 0, PV_XENBUS_DOMID_MAX, &id) <
        0) {
        pv_xenbus_dev_fatal(dev, errno, "reading other end details: %s", pv_xs_error(xs));
        return -1;
    }
    if (id != dev->fe_domid) {
        pv_xenbus_dev_fatal(dev, EINVAL, "frontend-id %u does not match domain %u of the path", id,
                            dev->fe_domid);
        return -1;
    }
    if (pv_xs_read_str(xs, XBT_NULL, dev->be_path, "frontend", &fe) < 0) {
        pv_xenbus_dev_fatal(dev, errno, "reading other end details: %s", pv_xs_error(xs));
        return -1;
    }
    if (fe[0] != '/' || strlen(fe) > 512) {
        char shown[PV_XS_SHOWN_MAX];
        pv_xs_show_value(shown, fe);
        free(fe);
        pv_xenbus_dev_fatal(dev, EINVAL, "frontend '%s' is not an absolute path", shown);
        return -1;
    }
    dev->fe_path = fe;
    return 0;
}

struct pv_xenbus_dev *pv_xenbus_dev_new(struct pv_xenbus_backend *be, uint32_t domid,
                                        uint32_t devid)
{
    struct pv_xenbus_dev *dev = calloc(1, sizeof(*dev));
    char fe_state_path[600];

    if (!dev)
        goto oom;
    dev->priv = calloc(1, be->ops->priv_size ? be->ops->priv_size : 1);
    if (!dev->priv)
        goto oom;
    dev->be = be;
    dev->fe_domid = domid;
    dev->devid = devid;
    dev->state = XenbusStateInitialising;
    dev->fe_state = XenbusStateUnknown;
    snprintf(dev->be_path, sizeof(dev->be_path), "%s/%u/%u", be->type_base, domid, devid);
    pv_logctx_set(&dev->log, "%s/%u/%u", be->ops->type, domid, devid);
    dev->kick = pv_timer_new(pv_xs_loop(be->xs), on_kick, dev);
    if (!dev->kick)
        goto oom;
    dev->next = be->devs;
    be->devs = dev;
    be->count++;
    pv_dev_info(dev, "new device");

    dev->be_watch = pv_xs_watch_add(be->xs, dev->be_path, on_be_event, dev);
    if (!dev->be_watch)
        goto fail;
    if (read_frontend(dev) == 0) {
        snprintf(fe_state_path, sizeof(fe_state_path), "%s/state", dev->fe_path);
        dev->fe_watch = pv_xs_watch_add(be->xs, fe_state_path, on_fe_event, dev);
        if (!dev->fe_watch)
            goto fail;
    }
    /* The watches fire once right away; the kick only makes the first walk
     * independent of that. */
    pv_xenbus_dev_kick(dev);
    return dev;
fail:
    pv_dev_err(dev, "cannot watch: %s", pv_xs_error(be->xs));
    pv_xenbus_dev_destroy(dev);
    return NULL;
oom:
    pv_err("%s/%u/%u: out of memory", be->ops->type, domid, devid);
    if (dev) {
        pv_timer_free(dev->kick);
        free(dev->priv);
    }
    free(dev);
    return NULL;
}

/* Unlinks and frees a disconnected, dying device. */
static void finish_destroy(struct pv_xenbus_dev *dev)
{
    struct pv_xenbus_backend *be = dev->be;
    struct pv_xenbus_dev **pp;

    pv_timer_free(dev->kick);
    for (pp = &be->devs; *pp; pp = &(*pp)->next) {
        if (*pp == dev) {
            *pp = dev->next;
            be->count--;
            break;
        }
    }
    pv_dev_info(dev, "removed");
    if (be->ops->remove)
        be->ops->remove(dev);
    free(dev->fe_path);
    free(dev->priv);
    free(dev);
}

void pv_xenbus_dev_destroy(struct pv_xenbus_dev *dev)
{
    if (dev->dying) {
        /* Already going, its disconnect deferred: only a stopping process
         * makes it end now. */
        if (dev->be->freeing && do_disconnect(dev))
            finish_destroy(dev);
        return;
    }
    dev->dying = true;
    pv_xs_watch_remove(dev->fe_watch);
    pv_xs_watch_remove(dev->be_watch);
    dev->fe_watch = dev->be_watch = NULL;
    if (do_disconnect(dev))
        finish_destroy(dev);
    /* else on_kick finishes, after pv_xenbus_dev_disconnected */
}

void pv_xenbus_dev_disconnected(struct pv_xenbus_dev *dev)
{
    if (!dev->disconnecting)
        return; /* not deferred, or already ended by the stopping process */
    dev->disconnecting = false;
    pv_dev_info(dev, "deferred disconnect complete");
    /* The rest runs from the loop: the caller may be inside its own I/O
     * callback, and the removal frees what that callback uses. */
    if (pv_timer_arm(dev->kick, 0, 0) < 0)
        pv_dev_err(dev, "cannot arm the kick timer: %s", strerror(errno));
}
