/* The control ring of a vif: requests copied off the ring once, applied to
 * the vif's hash configuration (hash.h), answered field by field. */
#include <errno.h>
#include <string.h>

#include "vif.h"

#define CTRL_RING_SIZE __CONST_RING_SIZE(xen_netif_ctrl, PV_PAGE_SIZE)

/* SET_HASH_KEY and SET_HASH_MAPPING read a page of the frontend. */
static int fetch(void *arg, uint32_t gref, void *buf, size_t len)
{
    struct vif *v = arg;
    xengnttab_grant_copy_segment_t seg;
    memset(&seg, 0, sizeof(seg));
    seg.source.foreign.ref = gref;
    seg.source.foreign.domid = (uint16_t)v->domid;
    seg.dest.virt = buf;
    seg.len = (uint16_t)len;
    seg.flags = GNTCOPY_source_gref;
    if (len > PV_PAGE_SIZE || pv_gnt_copy(v->gnt, 1, &seg) < 0 || seg.status != GNTST_okay)
        return -1;
    return 0;
}

static void process(struct vif *v)
{
    xen_netif_ctrl_sring_t *s = v->ctrl;
    bool answered = false;
    while (!v->failed) {
        RING_IDX prod = __atomic_load_n(&s->req_prod, __ATOMIC_ACQUIRE);
        if ((RING_IDX)(prod - v->ctrl_cons) > CTRL_RING_SIZE) {
            vif_fail(v, EPROTO, "control ring: producer index %u is more than a ring ahead of %u",
                     prod, v->ctrl_cons);
            return;
        }
        while (v->ctrl_cons != prod) {
            struct xen_netif_ctrl_request req;
            memcpy(&req, (const void *)&s->ring[v->ctrl_cons & (CTRL_RING_SIZE - 1)].req,
                   sizeof(req));
            uint32_t data;
            uint32_t status = hash_ctrl_request(&v->hash, &req, v->nr_queues, fetch, v, &data);
            pv_dev_debug(v->xdev, "control request %u type %u: status %u", req.id, req.type,
                         status);
            /* The response takes the request's slot (one each, in order). */
            struct xen_netif_ctrl_response *rsp = &s->ring[v->ctrl_cons & (CTRL_RING_SIZE - 1)].rsp;
            rsp->id = req.id;
            rsp->type = req.type;
            rsp->status = status;
            rsp->data = data;
            v->ctrl_cons++;
            answered = true;
        }
        __atomic_store_n(&s->req_event, v->ctrl_cons + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&s->req_prod, __ATOMIC_ACQUIRE) == v->ctrl_cons)
            break;
    }
    if (answered && !v->failed) {
        RING_IDX old = s->rsp_prod;
        __atomic_store_n(&s->rsp_prod, v->ctrl_cons, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if ((RING_IDX)(v->ctrl_cons - s->rsp_event) < (RING_IDX)(v->ctrl_cons - old))
            pv_evtchn_notify(v->ctrl_evt, v->ctrl_port);
    }
}

/* Event storms (XSA-332, evtchn_storm.h) on the control ring's channel. */
static void storm_over(void *arg)
{
    struct vif *v = arg;
    pv_evtchn_unmask(v->ctrl_evt, v->ctrl_port);
    process(v);
}

static void on_event(int fd, uint32_t events, void *arg)
{
    (void)fd;
    (void)events;
    struct vif *v = arg;
    bool pending = false;
    while (pv_evtchn_pending(v->ctrl_evt) >= 0)
        pending = true;
    if (!pending || v->ctrl_storm.throttled)
        return; /* masked until storm_over */
    RING_IDX prod = __atomic_load_n(&v->ctrl->req_prod, __ATOMIC_ACQUIRE);
    bool produced = prod != v->ctrl_prod_seen;
    v->ctrl_prod_seen = prod;
    if (!pv_storm_hold(&v->ctrl_storm, produced))
        pv_evtchn_unmask(v->ctrl_evt, v->ctrl_port);
    process(v);
}

int vif_ctrl_connect(struct vif *v)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(v->xdev);
    const char *fe = pv_xenbus_dev_fe_path(v->xdev);
    unsigned ref, port;
    memset(&v->hash, 0, sizeof(v->hash));
    if (pv_xs_exists(xs, XBT_NULL, fe, "ctrl-ring-ref") != 1)
        return 0; /* optional */
    if (pv_xs_read_uint(xs, XBT_NULL, fe, "ctrl-ring-ref", 0, UINT32_MAX, &ref) < 0 ||
        pv_xs_read_uint(xs, XBT_NULL, fe, "event-channel-ctrl", 1, UINT32_MAX, &port) < 0) {
        vif_fail(v, errno, "control ring: %s", pv_xs_error(xs));
        return -1;
    }
    uint32_t r = ref;
    int16_t status;
    v->ctrl = pv_gnt_map(v->gnt, v->domid, 1, &r, true, &status);
    if (!v->ctrl) {
        vif_fail(v, errno, "mapping ctrl-ring-ref %u failed (status %d)", ref, status);
        return -1;
    }
    v->ctrl_cons = __atomic_load_n(&v->ctrl->rsp_prod, __ATOMIC_ACQUIRE);
    v->ctrl_prod_seen = __atomic_load_n(&v->ctrl->req_prod, __ATOMIC_ACQUIRE);
    v->ctrl_evt = pv_evtchn_open();
    int p = v->ctrl_evt ? pv_evtchn_bind_interdomain(v->ctrl_evt, v->domid, port) : -1;
    if (p < 0) {
        vif_fail(v, errno, "binding event-channel-ctrl %u: %s", port, strerror(errno));
        return -1;
    }
    v->ctrl_port = (uint32_t)p;
    int storm = pv_storm_init(&v->ctrl_storm, v->loop, v->xdev, "control ring", storm_over, v);
    v->ctrl_watch = pv_loop_add_fd(v->loop, pv_evtchn_fd(v->ctrl_evt), EPOLLIN, on_event, v);
    if (storm < 0 || !v->ctrl_watch) {
        vif_fail(v, errno, "control ring: cannot watch its event channel");
        return -1;
    }
    process(v);
    return 0;
}

void vif_ctrl_disconnect(struct vif *v)
{
    if (v->ctrl_watch)
        pv_watch_remove(v->ctrl_watch);
    pv_storm_fini(&v->ctrl_storm);
    if (v->ctrl_evt)
        pv_evtchn_close(v->ctrl_evt);
    if (v->ctrl)
        pv_gnt_unmap(v->gnt, v->ctrl, 1);
    v->ctrl_watch = NULL;
    v->ctrl_evt = NULL;
    v->ctrl = NULL;
}
