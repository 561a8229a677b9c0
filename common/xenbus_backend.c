/* The backend object: which devices exist. One watch on
 * <home>/backend/<type>[/<domid>] tells about new and vanished device
 * directories; everything a device does is in xenbus_dev.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenbus_path.h"
#include "xenbus_priv.h"

unsigned int pv_xenbus_backend_count(const struct pv_xenbus_backend *be)
{
    return be->count;
}

static struct pv_xenbus_dev *find_dev(struct pv_xenbus_backend *be, uint32_t domid, uint32_t devid)
{
    for (struct pv_xenbus_dev *d = be->devs; d; d = d->next) {
        if (d->fe_domid == domid && d->devid == devid)
            return d;
    }
    return NULL;
}

/* A directory is a device to serve when its "state" is a valid state and it
 * is not a device already closed for removal (Closed with online = 0). */
static bool is_live_device(struct pv_xenbus_backend *be, const char *dir)
{
    unsigned int state;
    bool online = false;

    if (pv_xs_read_uint(be->xs, XBT_NULL, dir, "state", XenbusStateInitialising,
                        XenbusStateReconfigured, &state) < 0)
        return false;
    if (pv_xs_read_bool(be->xs, XBT_NULL, dir, "online", &online) < 0)
        online = false;
    return !(state == XenbusStateClosed && !online);
}

static struct pv_xenbus_dev *adopt(struct pv_xenbus_backend *be, uint32_t domid, uint32_t devid)
{
    struct pv_xenbus_dev *dev = find_dev(be, domid, devid);
    char dir[256];

    if (dev)
        return dev;
    snprintf(dir, sizeof(dir), "%s/%u/%u", be->type_base, domid, devid);
    if (!is_live_device(be, dir))
        return NULL;
    return pv_xenbus_dev_new(be, domid, devid);
}

/* Marks the known devices of domid that still exist and adopts new ones.
 * Returns -1 when the directory could not be read for another reason than
 * being gone (then nothing is removed). */
static int scan_domain(struct pv_xenbus_backend *be, uint32_t domid)
{
    char dir[160];
    unsigned int n;
    char **names;

    snprintf(dir, sizeof(dir), "%s/%u", be->type_base, domid);
    names = pv_xs_directory(be->xs, XBT_NULL, dir, &n);
    if (!names)
        return errno == ENOENT ? 0 : -1;
    for (unsigned int i = 0; i < n; i++) {
        uint64_t devid;
        struct pv_xenbus_dev *dev;
        if (pv_parse_u64(names[i], 0, PV_XENBUS_DEVID_MAX, &devid) < 0)
            continue; /* not a device id: not ours to judge */
        dev = adopt(be, domid, (uint32_t)devid);
        if (dev)
            dev->seen = true;
    }
    free(names);
    return 0;
}

void pv_xenbus_backend_rescan(struct pv_xenbus_backend *be)
{
    int r = 0;

    for (struct pv_xenbus_dev *d = be->devs; d; d = d->next)
        d->seen = false;
    if (be->fe_domid >= 0) {
        r = scan_domain(be, (uint32_t)be->fe_domid);
    } else {
        unsigned int n;
        char **names = pv_xs_directory(be->xs, XBT_NULL, be->type_base, &n);
        if (!names && errno != ENOENT)
            r = -1;
        for (unsigned int i = 0; names && i < n; i++) {
            uint64_t domid;
            if (pv_parse_u64(names[i], 0, PV_XENBUS_DOMID_MAX, &domid) == 0 &&
                scan_domain(be, (uint32_t)domid) < 0)
                r = -1;
        }
        free(names);
    }
    if (r < 0) {
        pv_err("%s: cannot list devices: %s", be->type_base, pv_xs_error(be->xs));
        return;
    }
    for (struct pv_xenbus_dev *d = be->devs, *next; d; d = next) {
        next = d->next;
        /* Only devices that were there before this rescan can be unseen;
         * new ones are at the head and marked. */
        if (!d->seen && pv_xs_exists(be->xs, XBT_NULL, d->be_path, NULL) == 0)
            pv_xenbus_dev_destroy(d);
    }
}

static void on_backend_event(struct pv_xs *xs, const char *path, void *arg)
{
    struct pv_xenbus_backend *be = arg;
    struct pv_xenbus_where w;
    struct pv_xenbus_dev *dev;

    (void)xs;
    if (pv_xenbus_split(be->type_base, path, &w) < 0)
        return; /* a name that is not <domid>/<devid>: not a device */
    switch (w.depth) {
    case 0:
    case 1:
        pv_xenbus_backend_rescan(be); /* whole domains appeared or vanished, or a collapse */
        break;
    case 2:
        dev = find_dev(be, w.domid, w.devid);
        if (dev && pv_xs_exists(be->xs, XBT_NULL, dev->be_path, NULL) == 0)
            pv_xenbus_dev_destroy(dev);
        else if (!dev)
            adopt(be, w.domid, w.devid);
        break;
    default:
        /* Keys of known devices are their own watch's business. */
        if (!strcmp(w.key, "state") && !find_dev(be, w.domid, w.devid))
            adopt(be, w.domid, w.devid);
        break;
    }
}

struct pv_xenbus_backend *pv_xenbus_backend_new(struct pv_xs *xs, const struct pv_xenbus_ops *ops,
                                                uint32_t self_domid, int fe_domid, void *ctx)
{
    struct pv_xenbus_backend *be;

    if (!ops || !ops->type || !*ops->type || strchr(ops->type, '/') || strlen(ops->type) > 32) {
        pv_err("xenbus backend: device type '%s' is not a directory name",
               ops && ops->type ? ops->type : "(none)");
        errno = EINVAL;
        return NULL;
    }
    if (!ops->probe || !ops->connect || !ops->disconnect) {
        pv_err("xenbus backend %s: probe, connect and disconnect are required", ops->type);
        errno = EINVAL;
        return NULL;
    }
    if (!pv_xs_loop(xs) || self_domid > PV_XENBUS_DOMID_MAX ||
        fe_domid > (int)PV_XENBUS_DOMID_MAX) {
        pv_err("xenbus backend %s: needs a xenstore handle with a loop and domain ids below %u "
               "(self %u, frontend %d)",
               ops->type, PV_XENBUS_DOMID_MAX + 1, self_domid, fe_domid);
        errno = EINVAL;
        return NULL;
    }
    be = calloc(1, sizeof(*be));
    if (!be)
        return NULL;
    be->xs = xs;
    be->ops = ops;
    be->ctx = ctx;
    be->fe_domid = fe_domid < 0 ? -1 : fe_domid;
    snprintf(be->type_base, sizeof(be->type_base), "/local/domain/%u/backend/%s", self_domid,
             ops->type);
    if (fe_domid >= 0)
        snprintf(be->watch_path, sizeof(be->watch_path), "%s/%d", be->type_base, fe_domid);
    else
        snprintf(be->watch_path, sizeof(be->watch_path), "%s", be->type_base);
    /* The initial event of the watch makes the first scan. */
    be->watch = pv_xs_watch_add(xs, be->watch_path, on_backend_event, be);
    if (!be->watch) {
        int e = errno;
        pv_err("%s: %s", be->watch_path, pv_xs_error(xs));
        free(be);
        errno = e;
        return NULL;
    }
    pv_info("serving %s", be->watch_path);
    return be;
}

void pv_xenbus_backend_free(struct pv_xenbus_backend *be)
{
    if (!be)
        return;
    pv_xs_watch_remove(be->watch);
    be->freeing = true; /* every disconnect ends before destroy returns */
    while (be->devs)
        pv_xenbus_dev_destroy(be->devs);
    free(be);
}
