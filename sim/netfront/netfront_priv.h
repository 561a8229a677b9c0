/* Internals shared by netfront_xenbus.c (negotiation) and netfront_ring.c
 * (frames to and from the rings). */
#ifndef PVBACK_NETFRONT_PRIV_H
#define PVBACK_NETFRONT_PRIV_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#include "frontend_xenbus.h"
#include "hash.h"
#include "netfront.h"
#include "platform.h"
#include "xs.h"

#define NF_TX_SIZE __CONST_RING_SIZE(netif_tx, PV_PAGE_SIZE)
#define NF_RX_SIZE __CONST_RING_SIZE(netif_rx, PV_PAGE_SIZE)

struct nf_queue {
    struct netfront *f;
    unsigned idx;
    netif_tx_sring_t *tx;
    netif_rx_sring_t *rx;
    uint32_t tx_ref, rx_ref;
    struct pv_evtchn *evt;
    uint32_t tx_port, rx_port;
    int tap_fd;
    RING_IDX tx_prod, tx_cons, rx_prod, rx_cons;
    /* One granted page per TX id and per RX id. */
    uint8_t *tx_pages, *rx_pages;
    uint32_t tx_refs[NF_TX_SIZE], rx_refs[NF_RX_SIZE];
    uint16_t tx_free[NF_TX_SIZE];
    unsigned tx_nfree;
    /* RX frames, those with a HASH extra-info, those whose hash or queue
     * disagrees with the configuration we gave. */
    uint64_t rx_frames, rx_hashed, rx_hash_wrong, rx_misrouted;
    /* The first RX response steered under that configuration (those before
     * it may predate it: nf_ctrl_configure). */
    RING_IDX rx_hash_from;
};

struct netfront {
    struct netfront_opts opts;
    struct fe_bus bus; /* xenstore, paths, backend domid, home */
    struct pv_gntshr *shr;
    unsigned nq;
    bool split, sg, gso4, gso6, csum;
    char ifname[16];
    struct nf_queue q[NF_MAX_QUEUES];
    /* Control ring (opts.hash). */
    bool ctrl_on;
    xen_netif_ctrl_sring_t *ctrl;
    uint32_t ctrl_ref, ctrl_port;
    struct pv_evtchn *ctrl_evt;
    RING_IDX ctrl_prod, ctrl_cons;
    uint8_t *ctrl_pages; /* page 0: the key, page 1: the mapping */
    uint32_t ctrl_refs[2];
    struct hash_cfg hash; /* what we configured */
};

/* netfront_ring.c */
int nf_queue_setup(struct netfront *f, struct nf_queue *q, char *err, size_t errlen);
void nf_queue_free(struct netfront *f, struct nf_queue *q);
/* Posts every free RX page as a request (at connect). */
void nf_rx_fill(struct nf_queue *q);
/* Room on the TX ring for a frame of the largest size. Without it the tap
 * is not read, so its readiness must not wake the caller (a busy loop that
 * took the CPU the backend needed to make room). */
bool nf_tx_room(const struct nf_queue *q);
/* Tap -> TX ring: the number of frames queued. */
int nf_tx_from_tap(struct nf_queue *q, char *err, size_t errlen);
/* Responses/RX ring -> tap and tap -> TX ring until nothing is left to do.
 * 0, or -1 on a protocol error. */
int nf_poll_rings(struct nf_queue *q, char *err, size_t errlen);
/* netfront_ctrl.c: the control ring. */
int nf_ctrl_setup(struct netfront *f, char *err, size_t errlen);
int nf_ctrl_configure(struct netfront *f, char *err, size_t errlen);
void nf_ctrl_free(struct netfront *f);

/* Sends a dummy TX request with an MCAST_ADD extra-info for addr. */
void nf_mcast_add(struct nf_queue *q, const uint8_t addr[6]);

#endif
