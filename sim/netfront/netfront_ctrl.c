/* netfront's control ring (xen/io/netif.h "Control ring"), as a Windows PV
 * driver uses it for receive-side scaling: Toeplitz hashing with a key, and
 * a mapping table from hash to queue. Requests go one at a time; each must
 * succeed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netfront_priv.h"

#define CTRL_SIZE __CONST_RING_SIZE(xen_netif_ctrl, PV_PAGE_SIZE)

/* Microsoft's RSS verification key. */
static const uint8_t KEY[HASH_KEY_MAX] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
#define MAP_ENTRIES 8u

int nf_ctrl_setup(struct netfront *f, char *err, size_t errlen)
{
    f->ctrl = pv_gntshr_share(f->shr, f->bus.backend_domid, 1, &f->ctrl_ref, true);
    f->ctrl_pages = pv_gntshr_share(f->shr, f->bus.backend_domid, 2, f->ctrl_refs, false);
    f->ctrl_evt = pv_evtchn_open();
    int p = f->ctrl_evt ? pv_evtchn_bind_unbound(f->ctrl_evt, f->bus.backend_domid) : -1;
    if (!f->ctrl || !f->ctrl_pages || p < 0) {
        snprintf(err, errlen, "control ring: %s", strerror(errno));
        return -1;
    }
    f->ctrl_port = (uint32_t)p;
    memset(f->ctrl, 0, PV_PAGE_SIZE);
    f->ctrl->req_event = f->ctrl->rsp_event = 1;
    f->ctrl_on = true;
    return 0;
}

void nf_ctrl_free(struct netfront *f)
{
    if (f->ctrl_evt)
        pv_evtchn_close(f->ctrl_evt);
    if (f->ctrl)
        pv_gntshr_unshare(f->shr, f->ctrl, 1);
    if (f->ctrl_pages)
        pv_gntshr_unshare(f->shr, f->ctrl_pages, 2);
}

static int call(struct netfront *f, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2, char *err,
                size_t errlen)
{
    struct xen_netif_ctrl_request *req = &f->ctrl->ring[f->ctrl_prod & (CTRL_SIZE - 1)].req;
    req->id = (uint16_t)f->ctrl_prod;
    req->type = type;
    req->data[0] = d0;
    req->data[1] = d1;
    req->data[2] = d2;
    f->ctrl_prod++;
    __atomic_store_n(&f->ctrl->req_prod, f->ctrl_prod, __ATOMIC_RELEASE);
    pv_evtchn_notify(f->ctrl_evt, f->ctrl_port);
    for (int waited = 0; waited < 5000; waited += 2) {
        if (__atomic_load_n(&f->ctrl->rsp_prod, __ATOMIC_ACQUIRE) != f->ctrl_cons) {
            struct xen_netif_ctrl_response rsp = f->ctrl->ring[f->ctrl_cons & (CTRL_SIZE - 1)].rsp;
            f->ctrl_cons++;
            if (rsp.type != type || rsp.status != XEN_NETIF_CTRL_STATUS_SUCCESS) {
                snprintf(err, errlen, "control request type %u: status %u (type %u)", type,
                         rsp.status, rsp.type);
                return -1;
            }
            return 0;
        }
        usleep(2000);
    }
    snprintf(err, errlen, "control request type %u: no response", type);
    return -1;
}

int nf_ctrl_configure(struct netfront *f, char *err, size_t errlen)
{
    memset(&f->hash, 0, sizeof(f->hash));
    f->hash.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    f->hash.flags = XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    memcpy(f->hash.key, KEY, sizeof(KEY));
    f->hash.size = MAP_ENTRIES;
    for (unsigned i = 0; i < MAP_ENTRIES; i++)
        f->hash.mapping[i] = f->nq - 1;
    memcpy(f->ctrl_pages, KEY, sizeof(KEY));
    memcpy(f->ctrl_pages + PV_PAGE_SIZE, f->hash.mapping, MAP_ENTRIES * sizeof(uint32_t));
    if (call(f, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0,
             0, err, errlen) < 0 ||
        call(f, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, f->ctrl_refs[0], HASH_KEY_MAX, 0, err, errlen) <
            0 ||
        call(f, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, MAP_ENTRIES, 0, 0, err, errlen) < 0 ||
        call(f, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, f->ctrl_refs[1], MAP_ENTRIES, 0, err,
             errlen) < 0 ||
        call(f, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, f->hash.flags, 0, 0, err, errlen) < 0)
        return -1;
    /* Hashing starts with the SET_HASH_FLAGS answer, but frames already on
     * the RX rings were steered before it (e.g. IGMP reports the bridge
     * sends while we configure): they rightly carry no hash. netif.h orders
     * nothing between the rings; pvback steers a frame when it places it and
     * publishes what it placed before it answers another ring, so every
     * response past the RX producer index read now saw this configuration.
     * Only those are checked. */
    for (unsigned i = 0; i < f->nq; i++)
        f->q[i].rx_hash_from = __atomic_load_n(&f->q[i].rx->rsp_prod, __ATOMIC_ACQUIRE);
    return 0;
}
