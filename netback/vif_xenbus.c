/* pvback-net's part of the xenbus handshake: the device-class ops that the
 * common state machine (common/xenbus.h) calls. Keys as in xen/io/netif.h
 * and as Linux netback (drivers/net/xen-netback/xenbus.c) writes and reads
 * them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "netlink.h"
#include "vif.h"

static struct vif *vif_of(struct pv_xenbus_dev *dev)
{
    return pv_xenbus_dev_priv(dev);
}

/* What pvback-net offers, before InitWait; and the tap (vif_host.c). */
static int vif_probe(struct pv_xenbus_dev *dev)
{
    struct vif *v = vif_of(dev);
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    const char *be = pv_xenbus_dev_be_path(dev);
    v->xdev = dev;
    v->cfg = pv_xenbus_dev_ctx(dev);
    v->loop = pv_xenbus_dev_loop(dev);
    for (unsigned i = 0; i < TAP_MAX_QUEUES; i++)
        v->tap.fds[i] = -1;

    static const char *const one[] = {
        "feature-sg",
        "feature-gso-tcpv4",
        "feature-gso-tcpv6",
        "feature-ipv6-csum-offload",
        "feature-rx-copy",
        "feature-multicast-control",
        "feature-ctrl-ring",
        "feature-dynamic-multicast-control",
        "feature-split-event-channels",
    };
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
        if (pv_xs_write_str(xs, XBT_NULL, be, one[i], "1") < 0)
            goto bad;
    if (pv_xs_write_str(xs, XBT_NULL, be, "feature-rx-flip", "0") < 0 ||
        pv_xs_printf(xs, XBT_NULL, be, "multi-queue-max-queues", "%u", v->cfg->max_queues) < 0)
        goto bad;
    if (!v->status)
        v->status = pv_status_dev_add(v->cfg->status, dev, &v->counters);
    return vif_host_create(v);
bad:
    pv_xenbus_dev_fatal(dev, errno, "%s", pv_xs_error(xs));
    return -1;
}

/* Whether the hotplug script has done its part: hotplug-status is
 * "connected" (Linux netback defers Connected until then). A vif without a
 * script has nothing to wait for. */
static bool hotplug_done(struct pv_xenbus_dev *dev)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    const char *be = pv_xenbus_dev_be_path(dev);
    if (pv_xs_exists(xs, XBT_NULL, be, "script") != 1)
        return true;
    char *hs = NULL;
    bool ok =
        pv_xs_read_str(xs, XBT_NULL, be, "hotplug-status", &hs) == 0 && !strcmp(hs, "connected");
    free(hs);
    return ok;
}

/* Connected only once the hotplug script is done and then the host side is
 * set up (bridge, MTU, link, VLANs): the script may prepare what the set-up
 * needs (vif-bridge's part, for Linux netback), and no frame may flow before
 * the port is in place. The state machine asks this on every walk, so this
 * is where every InitWait - the first, after hotplug-status changed, after
 * a frontend reconnecting - starts the set-up (from the loop: it may take
 * seconds, and InitWait is written first). */
static bool vif_ready(struct pv_xenbus_dev *dev)
{
    struct vif *v = vif_of(dev);
    if (!hotplug_done(dev))
        return false;
    if (!v->host_ready && pv_xenbus_dev_state(dev) == XenbusStateInitWait)
        vif_host_setup_soon(v);
    return v->host_ready;
}

/* An optional 0/1 key of the frontend. */
static int fe_flag(struct vif *v, const char *key, bool dflt, bool *out)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(v->xdev);
    unsigned x = dflt;
    if (pv_xs_read_uint(xs, XBT_NULL, pv_xenbus_dev_fe_path(v->xdev), key, 0, UINT32_MAX, &x) < 0 &&
        errno != ENOENT) {
        pv_xenbus_dev_fatal(v->xdev, errno, "%s", pv_xs_error(xs));
        return -1;
    }
    *out = x != 0;
    return 0;
}

static void read_mcast_ctrl(struct vif *v)
{
    bool on = false;
    if (fe_flag(v, "request-multicast-control", false, &on) == 0 && on != v->mcast_ctrl) {
        v->mcast_ctrl = on;
        pv_dev_info(v->xdev, "multicast filtering %s", on ? "on" : "off");
    }
}

static void on_mcast_key(struct pv_xs *xs, const char *path, void *arg)
{
    (void)xs;
    (void)path;
    read_mcast_ctrl(arg);
}

/* The rate key: "BYTES,USEC", applied now and on every change. A bad value
 * leaves the vif unlimited, with a warning, as Linux netback does; 0 BYTES
 * (what xl writes for a rate below a byte per window) holds everything the
 * guest sends, as Linux netback's credit does, until the key changes. */
static void read_rate(struct vif *v)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(v->xdev);
    char *rate = NULL, err[256];
    uint64_t bytes = 0, usec = 0;
    if (pv_xs_read_str(xs, XBT_NULL, pv_xenbus_dev_be_path(v->xdev), "rate", &rate) == 0 &&
        credit_parse_rate(rate, &bytes, &usec, err, sizeof(err)) < 0) {
        pv_dev_warn(v->xdev, "%s: not limiting", err);
        bytes = usec = 0;
    }
    free(rate);
    credit_update(&v->credit, bytes, usec, pv_now_ms() * 1000);
    if (usec && !bytes)
        pv_dev_warn(v->xdev, "rate: 0 bytes per %llu us: the guest can send nothing",
                    (unsigned long long)usec);
    else if (usec)
        pv_dev_info(v->xdev, "rate: %llu bytes per %llu us", (unsigned long long)bytes,
                    (unsigned long long)usec);
}

static int vif_connect(struct pv_xenbus_dev *dev)
{
    struct vif *v = vif_of(dev);
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    const char *fe = pv_xenbus_dev_fe_path(dev);
    bool rx_copy, rx_notify;
    char err[256];

    v->failed = false;
    v->domid = pv_xenbus_dev_fe_domid(dev);
    if (fe_flag(v, "request-rx-copy", false, &rx_copy) < 0 ||
        fe_flag(v, "feature-rx-notify", false, &rx_notify) < 0)
        return -1;
    if (!rx_copy) {
        pv_xenbus_dev_fatal(dev, EOPNOTSUPP, "frontend does not request rx-copy (required)");
        return -1;
    }
    if (!rx_notify) {
        pv_xenbus_dev_fatal(dev, EINVAL, "feature-rx-notify is mandatory");
        return -1;
    }
    bool no_csum;
    if (fe_flag(v, "feature-sg", false, &v->fe_sg) < 0 ||
        fe_flag(v, "feature-gso-tcpv4", false, &v->fe_gso4) < 0 ||
        fe_flag(v, "feature-gso-tcpv6", false, &v->fe_gso6) < 0 ||
        fe_flag(v, "feature-no-csum-offload", false, &no_csum) < 0 ||
        fe_flag(v, "feature-ipv6-csum-offload", false, &v->fe_csum6) < 0)
        return -1;
    v->fe_csum = !no_csum;

    unsigned nq = 1;
    if (pv_xs_read_uint(xs, XBT_NULL, fe, "multi-queue-num-queues", 1, v->cfg->max_queues, &nq) <
            0 &&
        errno != ENOENT) {
        pv_xenbus_dev_fatal(dev, errno, "%s", pv_xs_error(xs));
        return -1;
    }
    int r = tap_set_queues(&v->tap, nq, err, sizeof(err));
    if (r < 0) {
        pv_xenbus_dev_fatal(dev, -r, "%s", err);
        return -1;
    }
    if (vif_host_set_offloads(v) < 0 || vif_host_set_mtu(v) < 0)
        return -1;

    v->gnt = pv_gnt_open();
    v->queues = calloc(nq, sizeof(*v->queues));
    if (!v->gnt || !v->queues) {
        pv_xenbus_dev_fatal(dev, errno ? errno : ENOMEM, "cannot open the grant device");
        return -1;
    }
    v->nr_queues = nq;
    v->counters.rings = nq;
    bool per_queue = pv_xs_exists(xs, XBT_NULL, fe, "multi-queue-num-queues") == 1 && nq > 1;
    for (unsigned i = 0; i < nq; i++) {
        struct vif_queue *q = &v->queues[i];
        q->vif = v;
        q->idx = i;
        char dir[256];
        if (per_queue)
            snprintf(dir, sizeof(dir), "%s/queue-%u", fe, i);
        else
            snprintf(dir, sizeof(dir), "%s", fe);
        if (vif_queue_connect(v, q, dir) < 0)
            return -1;
    }

    if (vif_ctrl_connect(v) < 0)
        return -1;
    v->nr_mcast = 0;
    v->mcast_ctrl = false;
    read_mcast_ctrl(v);
    char path[300];
    snprintf(path, sizeof(path), "%s/request-multicast-control", fe);
    v->mcast_watch = pv_xs_watch_add(xs, path, on_mcast_key, v);
    credit_init(&v->credit, 0, 0, 0);
    read_rate(v);

    pv_dev_info(dev, "connected: %u queue(s)%s%s%s%s", nq, v->fe_sg ? ", sg" : "",
                v->fe_gso4 ? ", gso4" : "", v->fe_gso6 ? ", gso6" : "",
                v->fe_csum ? ", csum" : ", no csum offload");
    for (unsigned i = 0; i < nq; i++) {
        vif_tx_process(&v->queues[i]);
        vif_rx_process(&v->queues[i]);
        vif_queue_kick_adopted(&v->queues[i]);
    }
    return 0;
}

/* Whether this process is stopping while the guest stays on its rings, for
 * a successor to adopt them with the journals: the frontend is Connected
 * and so are we, or we are in InitWait adopting them ourselves (a restarted
 * process whose host set-up is not done yet). Otherwise the connection is
 * over for good. */
static bool rings_outlive_us(struct pv_xenbus_dev *dev)
{
    enum xenbus_state be = pv_xenbus_dev_state(dev);
    return pv_xenbus_dev_fe_state(dev) == XenbusStateConnected &&
           (be == XenbusStateConnected || be == XenbusStateInitWait);
}

/* Never deferred: netback holds no I/O that outlives the rings (grant
 * copies are synchronous, the tap keeps its own copies). */
static int vif_disconnect(struct pv_xenbus_dev *dev, bool may_defer)
{
    (void)may_defer;
    struct vif *v = vif_of(dev);
    v->failed = true; /* no more ring access */
    if (v->mcast_watch)
        pv_xs_watch_remove(v->mcast_watch);
    v->mcast_watch = NULL;
    if (v->credit_timer)
        pv_timer_free(v->credit_timer);
    v->credit_timer = NULL;
    vif_ctrl_disconnect(v);
    bool keep = rings_outlive_us(dev);
    for (unsigned i = 0; i < v->nr_queues; i++) {
        if (!keep)
            vif_queue_forget_journals(&v->queues[i]);
        vif_queue_disconnect(&v->queues[i]);
    }
    free(v->queues);
    v->queues = NULL;
    v->nr_queues = 0;
    v->counters.rings = 0;
    if (v->gnt)
        pv_gnt_close(v->gnt);
    v->gnt = NULL;
    return 0;
}

static void vif_backend_changed(struct pv_xenbus_dev *dev, const char *key)
{
    struct vif *v = vif_of(dev);
    if (!strcmp(key, "rate") && v->nr_queues) {
        read_rate(v);
        /* Packets held by the old rate may go now (no timer waits out a
         * rate of 0 bytes). */
        for (unsigned i = 0; i < v->nr_queues; i++)
            vif_tx_process(&v->queues[i]);
    }
}

static void vif_remove(struct pv_xenbus_dev *dev)
{
    struct vif *v = vif_of(dev);
    if (!rings_outlive_us(dev))
        pv_journal_forget_device(v->cfg ? v->cfg->journal_dir : NULL, pv_xenbus_dev_fe_domid(dev),
                                 pv_xenbus_dev_devid(dev));
    pv_status_dev_remove(v->status);
    vif_host_teardown(v);
}

const struct pv_xenbus_ops vif_xenbus_ops = {
    .type = "vif",
    .priv_size = sizeof(struct vif),
    .probe = vif_probe,
    .ready = vif_ready,
    .connect = vif_connect,
    .disconnect = vif_disconnect,
    .backend_changed = vif_backend_changed,
    .remove = vif_remove,
};
