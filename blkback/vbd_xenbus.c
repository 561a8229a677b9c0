/* pvback-blk's part of the xenbus handshake: the device-class ops that the
 * common state machine (common/xenbus.h) calls. Keys follow xen/io/blkif.h
 * and what Linux blkback (xenbus.c) writes and reads. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contig.h"
#include "storage_url.h"
#include "journal.h"
#include "vbd.h"

#define RESIZE_CHECK_MS 1000u

static struct vbd *vbd_of(struct pv_xenbus_dev *dev)
{
    return pv_xenbus_dev_priv(dev);
}

static int write_uint(struct pv_xenbus_dev *dev, xs_transaction_t t, const char *key,
                      unsigned long long value)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    if (pv_xs_printf(xs, t, pv_xenbus_dev_be_path(dev), key, "%llu", value) < 0) {
        pv_xenbus_dev_fatal(dev, errno, "writing %s: %s", key, pv_xs_error(xs));
        return -1;
    }
    return 0;
}

/* Transport features, offered before InitWait. */
static int vbd_probe(struct pv_xenbus_dev *dev)
{
    struct vbd *v = vbd_of(dev);
    v->xdev = dev;
    v->cfg = pv_xenbus_dev_ctx(dev);
    v->loop = pv_xenbus_dev_loop(dev);
    if (!v->status)
        v->status = pv_status_dev_add(v->cfg->status, dev, &v->counters);
    if (write_uint(dev, XBT_NULL, "feature-max-indirect-segments", VBD_MAX_INDIRECT_SEGS) < 0 ||
        write_uint(dev, XBT_NULL, "feature-persistent", 1) < 0 ||
        write_uint(dev, XBT_NULL, "max-ring-page-order", VBD_MAX_RING_PAGE_ORDER) < 0 ||
        write_uint(dev, XBT_NULL, "multi-queue-max-queues", v->cfg->max_queues) < 0)
        return -1;
    return 0;
}

/* Linux blkback connects once the hotplug script wrote physical-device; a
 * device without a script (xl's qdisk-style) is ready as soon as it has
 * params. */
static bool vbd_ready(struct pv_xenbus_dev *dev)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    const char *be = pv_xenbus_dev_be_path(dev);
    if (pv_xs_exists(xs, XBT_NULL, be, "params") != 1)
        return false;
    if (pv_xs_exists(xs, XBT_NULL, be, "script") != 1)
        return true;
    if (pv_xs_exists(xs, XBT_NULL, be, "physical-device") == 1 ||
        pv_xs_exists(xs, XBT_NULL, be, "physical-device-path") == 1)
        return true;
    char *hs = NULL;
    bool ok =
        pv_xs_read_str(xs, XBT_NULL, be, "hotplug-status", &hs) == 0 && !strcmp(hs, "connected");
    free(hs);
    return ok;
}

static void close_step(struct vbd *v);

static void on_storage(int fd, uint32_t events, void *arg)
{
    (void)fd;
    (void)events;
    struct vbd *v = arg;
    int n = pv_storage_reap(v->st);
    if (n < 0)
        pv_dev_err(v->xdev, "storage completion failed: %s", strerror(-n));
    if (v->closing) {
        close_step(v); /* last: it may free the rings */
        return;
    }
    for (unsigned int i = 0; i < v->nr_rings; i++)
        vbd_ring_after_io(v->rings[i]);
}

/* params: a path, "<format>:<path>" for the raw formats libxl writes for
 * backendtype=tap ("aio:", "raw:"), or an iscsi:// or nfs:// URL. */
static const char *params_path(const char *params)
{
    static const char *const raw[] = {"aio:", "raw:", "file:", "phy:"};
    if (pv_url_scheme(params) != PV_URL_NONE)
        return params;
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
        if (!strncmp(params, raw[i], strlen(raw[i])))
            return params + strlen(raw[i]);
    return params[0] == '/' ? params : NULL;
}

static void set_props(struct vbd *v)
{
    const struct pv_storage_info *in = pv_storage_info(v->st);
    v->props = (struct blkif_dev_props){
        .sectors = in->size >> BLKIF_SECTOR_SHIFT,
        .sector_size = in->logical_block,
        .read_only = v->read_only,
        .flush = !v->read_only,
        .barrier = !v->read_only,
        .discard = !v->read_only && v->discard_enable && in->can_discard,
        .discard_secure = !v->read_only && v->discard_enable && in->can_secure_discard,
        .max_indirect_segments = VBD_MAX_INDIRECT_SEGS,
    };
}

static void on_resize_check(struct pv_timer *t, void *arg);

/* Segments past which a request goes through a contiguous buffer
 * (contig.h): the option's, or by default the disk's own limit, where
 * there is one below the largest request and huge pages to make the
 * buffers contiguous; 0: never. */
static unsigned int contig_threshold(const struct vbd_config *cfg, const struct pv_storage_info *in)
{
    if (cfg->contig_above != VBD_CONTIG_AUTO)
        return (unsigned int)cfg->contig_above;
    if (!in->max_segments || in->max_segments >= BLKIF_OP_MAX_SEGS)
        return 0;
    return contig_huge_pages_available() ? in->max_segments : 0;
}

static int open_storage(struct vbd *v)
{
    struct pv_xenbus_dev *dev = v->xdev;
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    const char *be = pv_xenbus_dev_be_path(dev);
    char *mode = NULL;
    char shown[PV_XS_SHOWN_MAX];

    if (pv_xs_read_str(xs, XBT_NULL, be, "params", &v->params) < 0) {
        pv_xenbus_dev_fatal(dev, errno, "reading params: %s", pv_xs_error(xs));
        return -1;
    }
    if (pv_xs_read_str(xs, XBT_NULL, be, "mode", &mode) < 0 && errno != ENOENT) {
        pv_xenbus_dev_fatal(dev, errno, "reading mode: %s", pv_xs_error(xs));
        return -1;
    }
    /* Linux blkback: writable only if mode contains 'w'. */
    v->read_only = !mode || !strchr(mode, 'w');
    free(mode);
    v->discard_enable = true;
    if (pv_xs_read_bool(xs, XBT_NULL, be, "discard-enable", &v->discard_enable) < 0 &&
        errno != ENOENT) {
        pv_xenbus_dev_fatal(dev, EINVAL, "%s", pv_xs_error(xs));
        return -1;
    }
    /* The hotplug script (block-pvback, like Xen's block) writes the target
     * it checked, canonical, as physical-device-path: that one is opened. */
    char *checked = NULL;
    const char *key = "params";
    if (pv_xs_read_str(xs, XBT_NULL, be, "physical-device-path", &checked) == 0) {
        free(v->params);
        v->params = checked;
        key = "physical-device-path";
    }
    const char *path = params_path(v->params);
    if (!path) {
        pv_xs_show_value(shown, v->params);
        pv_xenbus_dev_fatal(dev, EINVAL,
                            "%s '%s': not an absolute path, a raw image "
                            "(aio:/raw:/file: prefix) or an iscsi:// or nfs:// URL",
                            key, shown);
        return -1;
    }
    /* chap-file: the iSCSI CHAP secrets file of this disk (a path only: the
     * secrets never pass through xenstore). */
    char *chap_file = NULL;
    if (pv_xs_read_str(xs, XBT_NULL, be, "chap-file", &chap_file) < 0 && errno != ENOENT) {
        pv_xenbus_dev_fatal(dev, errno, "reading chap-file: %s", pv_xs_error(xs));
        return -1;
    }
    if (chap_file && chap_file[0] != '/') {
        pv_xs_show_value(shown, chap_file);
        pv_xenbus_dev_fatal(dev, EINVAL, "chap-file '%s': not an absolute path", shown);
        free(chap_file);
        return -1;
    }
    struct pv_storage_params sp = {
        .path = path,
        .chap_file = chap_file,
        .read_only = v->read_only,
        .engine = v->cfg->engine,
        .depth = v->cfg->max_queues *
                 blkif_abi_ring_slots(BLKIF_ABI_X86_64, VBD_MAX_RING_PAGES * PV_PAGE_SIZE)};
    char err[512];
    v->st = pv_storage_open(&sp, err, sizeof(err));
    free(chap_file);
    if (!v->st) {
        pv_xenbus_dev_fatal(dev, ENODEV, "%s: %s", key, err);
        return -1;
    }
    v->st_watch = pv_loop_add_fd(v->loop, pv_storage_fd(v->st), EPOLLIN, on_storage, v);
    v->resize_timer = pv_timer_new(v->loop, on_resize_check, v);
    if (!v->st_watch || !v->resize_timer) {
        pv_xenbus_dev_fatal(dev, errno, "cannot watch the storage");
        return -1;
    }
    set_props(v);
    const struct pv_storage_info *in = pv_storage_info(v->st);
    v->contig_above = contig_threshold(v->cfg, in);
    char logged[512]; /* an iSCSI URL's password stays out of the log */
    pv_url_redact(path, logged, sizeof(logged));
    char contig[64] = "";
    if (v->contig_above && v->cfg->max_contig)
        snprintf(contig, sizeof(contig), ", requests over %u segments copied contiguous",
                 v->contig_above);
    pv_dev_info(dev, "%s: %llu sectors, %u-byte logical blocks, %s%s, engine %s%s", logged,
                (unsigned long long)v->props.sectors, in->logical_block,
                v->read_only ? "read-only" : "read-write", in->direct ? ", O_DIRECT" : "",
                in->engine, contig);
    return 0;
}

/* Reads an optional unsigned key of the frontend (default when absent). */
static int fe_uint(struct pv_xenbus_dev *dev, const char *dir, const char *key, unsigned int min,
                   unsigned int max, unsigned int dflt, unsigned int *out)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    *out = dflt;
    if (pv_xs_read_uint(xs, XBT_NULL, dir, key, min, max, out) == 0 || errno == ENOENT)
        return 0;
    pv_xenbus_dev_fatal(dev, errno, "%s", pv_xs_error(xs));
    return -1;
}

/* One queue's ring-ref(s) and event-channel, in dir. */
static int connect_queue(struct vbd *v, unsigned int idx, const char *dir)
{
    struct pv_xenbus_dev *dev = v->xdev;
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    unsigned int order, port;
    uint32_t refs[VBD_MAX_RING_PAGES];

    if (fe_uint(dev, dir, "ring-page-order", 0, VBD_MAX_RING_PAGE_ORDER, 0, &order) < 0)
        return -1;
    if (pv_xs_exists(xs, XBT_NULL, dir, "ring-page-order") != 1) {
        if (pv_xs_read_uint(xs, XBT_NULL, dir, "ring-ref", 0, UINT32_MAX, &refs[0]) < 0)
            goto bad;
    } else {
        for (unsigned int i = 0; i < (1u << order); i++) {
            char key[32];
            snprintf(key, sizeof(key), "ring-ref%u", i);
            if (pv_xs_read_uint(xs, XBT_NULL, dir, key, 0, UINT32_MAX, &refs[i]) < 0)
                goto bad;
        }
    }
    if (pv_xs_read_uint(xs, XBT_NULL, dir, "event-channel", 1, UINT32_MAX, &port) < 0)
        goto bad;
    v->rings[idx] = vbd_ring_new(v, idx, refs, 1u << order, port);
    return v->rings[idx] ? 0 : -1;
bad:
    pv_xenbus_dev_fatal(dev, errno, "%s", pv_xs_error(xs));
    return -1;
}

static int publish_disk(struct vbd *v, xs_transaction_t t)
{
    struct pv_xenbus_dev *dev = v->xdev;
    const struct pv_storage_info *in = pv_storage_info(v->st);
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    char *dtype = NULL;
    unsigned int info = v->read_only ? VDISK_READONLY : 0;
    if (pv_xs_read_str(xs, t, pv_xenbus_dev_be_path(dev), "device-type", &dtype) == 0) {
        if (!strcmp(dtype, "cdrom"))
            info |= VDISK_CDROM;
        free(dtype);
    }
    bool removable = false;
    if (pv_xs_read_bool(xs, t, pv_xenbus_dev_be_path(dev), "removable", &removable) == 0 &&
        removable)
        info |= VDISK_REMOVABLE;
    if (write_uint(dev, t, "sectors", v->props.sectors) < 0 ||
        write_uint(dev, t, "info", info) < 0 ||
        write_uint(dev, t, "sector-size", in->logical_block) < 0 ||
        write_uint(dev, t, "physical-sector-size", in->physical_block) < 0 ||
        write_uint(dev, t, "feature-flush-cache", v->props.flush) < 0 ||
        write_uint(dev, t, "feature-barrier", v->props.barrier) < 0 ||
        write_uint(dev, t, "feature-discard", v->props.discard) < 0)
        return -1;
    if (v->props.discard &&
        (write_uint(dev, t, "discard-granularity", in->discard_granularity) < 0 ||
         write_uint(dev, t, "discard-alignment", 0) < 0 ||
         write_uint(dev, t, "discard-secure", v->props.discard_secure) < 0))
        return -1;
    return 0;
}

static int vbd_connect(struct pv_xenbus_dev *dev)
{
    struct vbd *v = vbd_of(dev);
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);
    const char *fe = pv_xenbus_dev_fe_path(dev);
    char *proto = NULL;
    unsigned int nq, persistent;

    v->failed = false;
    if (!v->st && open_storage(v) < 0)
        return -1;
    if (pv_xs_read_str(xs, XBT_NULL, fe, "protocol", &proto) < 0 && errno != ENOENT) {
        pv_xenbus_dev_fatal(dev, errno, "%s", pv_xs_error(xs));
        return -1;
    }
    if (blkif_abi_from_protocol(proto, &v->abi) < 0) {
        char shown[PV_XS_SHOWN_MAX];
        pv_xs_show_value(shown, proto);
        pv_xenbus_dev_fatal(dev, EINVAL, "%s/protocol: unknown ring layout '%s'", fe, shown);
        free(proto);
        return -1;
    }
    free(proto);
    if (fe_uint(dev, fe, "feature-persistent", 0, 1, 0, &persistent) < 0 ||
        fe_uint(dev, fe, "multi-queue-num-queues", 1, v->cfg->max_queues, 1, &nq) < 0)
        return -1;
    v->persistent = persistent;
    v->gnt = pv_gnt_open();
    v->rings = calloc(nq, sizeof(*v->rings));
    if (!v->gnt || !v->rings) {
        pv_xenbus_dev_fatal(dev, errno ? errno : ENOMEM, "cannot open the grant device");
        return -1;
    }
    v->nr_rings = nq;
    /* As Linux: one queue keeps its keys at the top level even when the
     * frontend wrote multi-queue-num-queues = 1 (Linux blkfront always
     * writes it); several use queue-N/. */
    bool per_queue = nq > 1;
    for (unsigned int i = 0; i < nq; i++) {
        char dir[256];
        if (per_queue)
            snprintf(dir, sizeof(dir), "%s/queue-%u", fe, i);
        else
            snprintf(dir, sizeof(dir), "%s", fe);
        if (connect_queue(v, i, dir) < 0)
            return -1;
    }
    if (publish_disk(v, XBT_NULL) < 0)
        return -1;
    pv_timer_arm(v->resize_timer, RESIZE_CHECK_MS, RESIZE_CHECK_MS);
    v->counters.rings = nq;
    pv_dev_info(dev, "connected: %u queue(s), %s, %s persistent grants", nq, blkif_abi_name(v->abi),
                v->persistent ? "with" : "without");
    for (unsigned int i = 0; i < nq; i++)
        vbd_ring_start(v->rings[i]);
    return 0;
}

/* Waits for the storage requests of this device: they write into guest pages
 * that are about to be unmapped. */
static void drain_storage(struct vbd *v)
{
    while (v->st && pv_storage_in_flight(v->st)) {
        pv_storage_kick(v->st);
        struct pollfd pfd = {.fd = pv_storage_fd(v->st), .events = POLLIN};
        if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
            break;
        if (pv_storage_reap(v->st) < 0)
            break;
    }
}

static void flush_done(struct pv_storage_req *req, int64_t result)
{
    *(int64_t *)req->arg = result;
}

static void report_flush(struct vbd *v, int rc)
{
    int64_t result = v->close_flush_result;
    if (rc < 0 || result != 0)
        pv_dev_warn(v->xdev, "closing: flushing the storage failed: %s",
                    strerror(rc < 0       ? -rc
                             : result < 0 ? (int)-result
                                          : EIO));
    else
        pv_dev_info(v->xdev, "closing: %u storage requests drained, storage flushed",
                    v->close_drained);
}

/* Sends the close's flush once the data requests are answered. Returns the
 * submit status (0: in flight). */
static int send_close_flush(struct vbd *v)
{
    v->close_flush_sent = true;
    v->close_flush_result = 1;
    /* In the vbd: the request outlives this call. */
    v->close_req = (struct pv_storage_req){
        .op = PV_STORAGE_FLUSH, .cb = flush_done, .arg = &v->close_flush_result};
    int rc = pv_storage_submit(v->st, &v->close_req);
    if (rc < 0)
        report_flush(v, rc);
    else
        pv_storage_kick(v->st);
    return rc;
}

/* The close's end, both ways: says how the flush went (a flush that could
 * not be sent said so already), then frees what connect made: the rings,
 * their mappings, the grant handle. */
static void finish_close(struct vbd *v)
{
    if (v->close_flush_sent && v->close_flush_result != 1)
        report_flush(v, 0);
    for (unsigned int i = 0; i < v->nr_rings; i++)
        vbd_ring_free(v->rings[i], v->close_keep);
    free(v->rings);
    v->rings = NULL;
    v->nr_rings = 0;
    v->counters.rings = 0;
    if (v->gnt)
        pv_gnt_close(v->gnt);
    v->gnt = NULL;
    v->closing = false;
}

/* An asynchronous close's next step, after storage completions: the data
 * requests drain, then the flush, then the rings go. */
static void close_step(struct vbd *v)
{
    if (pv_storage_in_flight(v->st)) {
        pv_storage_kick(v->st); /* what the rings queued last goes out too */
        return;
    }
    if (v->close_flush && !v->close_flush_sent && send_close_flush(v) == 0)
        return;
    finish_close(v);
    pv_xenbus_dev_disconnected(v->xdev);
}

/* The synchronous close: the process is stopping, or nothing is in flight
 * (a flush that could not be sent included). */
static void close_now(struct vbd *v)
{
    drain_storage(v); /* the data requests, and a flush already sent */
    if (v->close_flush && !v->close_flush_sent && send_close_flush(v) == 0)
        drain_storage(v);
    finish_close(v);
}

static int vbd_disconnect(struct pv_xenbus_dev *dev, bool may_defer)
{
    struct vbd *v = vbd_of(dev);
    if (v->closing) { /* deferred before; the process is stopping now */
        close_now(v);
        return 0;
    }
    v->close_drained = v->st ? pv_storage_in_flight(v->st) : 0;
    /* No responses while draining: the frontend will replay what it lacks. */
    v->failed = true;
    if (v->resize_timer)
        pv_timer_disarm(v->resize_timer);
    /* Both ends still Connected: this process is stopping (the xenbus
     * layer leaves xenstore alone) and a successor adopts the rings, so the
     * requests drained without an answer stay in the journal. */
    v->close_keep = pv_xenbus_dev_state(dev) == XenbusStateConnected &&
                    pv_xenbus_dev_fe_state(dev) == XenbusStateConnected;
    /* A device the toolstack takes away (online=0: a detach, a destroy, the
     * source side of a migration) is flushed, even with both ends still
     * Connected (a paused guest's). */
    unsigned int online = 1;
    pv_xs_read_uint(pv_xenbus_dev_xs(dev), XBT_NULL, pv_xenbus_dev_be_path(dev), "online", 0, 1,
                    &online);
    v->close_flush = v->st && !v->read_only && (!v->close_keep || !online);
    v->close_flush_sent = false;
    v->close_flush_result = 1;
    /* Requests still at the storage write into guest pages that stay mapped
     * until they are answered; a server that is down answers only at its
     * timeout. Waiting here would hold every device of this process, so the
     * close goes on from the loop's storage completions (close_step). */
    v->closing = true;
    if (may_defer && v->st) {
        /* Nothing to drain first: the flush goes out now (its completion,
         * too, comes from the loop, never from inside the submit). */
        if (!v->close_drained && v->close_flush)
            send_close_flush(v);
        if (pv_storage_in_flight(v->st)) {
            pv_storage_kick(v->st);
            pv_dev_info(dev, "closing: waiting for %u storage requests%s", v->close_drained,
                        v->close_flush ? ", then a flush" : "");
            return 1;
        }
    }
    close_now(v);
    return 0;
}

/* Online resize, as Linux blkback does it: rewrite "sectors", then write
 * "state" again so that the frontend's watch fires. */
static int resize_txn(struct pv_xs *xs, xs_transaction_t t, void *arg)
{
    (void)xs;
    struct vbd *v = arg;
    if (write_uint(v->xdev, t, "sectors", v->props.sectors) < 0)
        return -1;
    return pv_xenbus_dev_rewrite_state(v->xdev, t);
}

static void on_resize_check(struct pv_timer *t, void *arg)
{
    (void)t;
    struct vbd *v = arg;
    uint64_t before = v->props.sectors;
    if (!v->nr_rings || pv_storage_refresh_size(v->st) < 0)
        return;
    set_props(v);
    if (v->props.sectors == before)
        return;
    pv_dev_info(v->xdev, "size changed: %llu -> %llu sectors", (unsigned long long)before,
                (unsigned long long)v->props.sectors);
    if (pv_xs_transaction(pv_xenbus_dev_xs(v->xdev), resize_txn, v) < 0)
        pv_dev_err(v->xdev, "announcing the new size failed: %s",
                   pv_xs_error(pv_xenbus_dev_xs(v->xdev)));
}

static void vbd_remove(struct pv_xenbus_dev *dev)
{
    struct vbd *v = vbd_of(dev);
    /* Gone for good unless both ends are still Connected (this process is
     * stopping and a successor adopts the device): then its journals go. */
    if (pv_xenbus_dev_state(dev) != XenbusStateConnected ||
        pv_xenbus_dev_fe_state(dev) != XenbusStateConnected)
        pv_journal_forget_device(v->cfg ? v->cfg->journal_dir : NULL, pv_xenbus_dev_fe_domid(dev),
                                 pv_xenbus_dev_devid(dev));
    if (v->resize_timer)
        pv_timer_free(v->resize_timer);
    if (v->st_watch)
        pv_watch_remove(v->st_watch);
    pv_storage_close(v->st);
    free(v->params);
    pv_status_dev_remove(v->status);
    v->status = NULL;
}

const struct pv_xenbus_ops vbd_xenbus_ops = {
    .type = "vbd",
    .priv_size = sizeof(struct vbd),
    .probe = vbd_probe,
    .ready = vbd_ready,
    .connect = vbd_connect,
    .disconnect = vbd_disconnect,
    .remove = vbd_remove,
};
