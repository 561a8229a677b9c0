/* pvback-net's device: the state shared by the xenbus glue (vif_xenbus.c),
 * the host side (vif_host.c), the guest TX path (vif_tx.c) and the guest
 * RX path (vif_rx.c). One vif = one tap; one queue = a TX and an RX ring,
 * their event channel(s) and one queue of the tap. */
#ifndef PVBACK_NETBACK_VIF_H
#define PVBACK_NETBACK_VIF_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#include "credit.h"
#include "evtchn_storm.h"
#include "hash.h"
#include "loop.h"
#include "netif_txreq.h"
#include "netlink.h"
#include "platform.h"
#include "status.h"
#include "tap.h"
#include "vlan_cfg.h"
#include "xenbus.h"

#define VIF_MAX_QUEUES_DEFAULT 4u
#define VIF_TX_RING_SIZE       __CONST_RING_SIZE(netif_tx, PV_PAGE_SIZE)
#define VIF_RX_RING_SIZE       __CONST_RING_SIZE(netif_rx, PV_PAGE_SIZE)
/* A frame from the guest or the tap: 64 KiB (GSO) plus a VLAN tag. */
#define VIF_MAX_FRAME (65535u + 4u)
/* Packets per grant-copy batch and the bytes they may use: what a queue
 * holds of guest data at any time (XSA-392: bounded). */
#define VIF_BATCH_PKTS  64u
#define VIF_ARENA_BYTES (1024u * 1024u)
/* The TX side's arena: guest data one batch copies before its frames go to
 * the tap. Smaller batches answer the guest sooner (its ring holds only 14
 * frames of 64 KiB) and stay in cache for the tap write: 256 KiB measured
 * faster than 1 MiB (less CPU per MB in 8 runs of 8, more Gbit/s in 6). */
#define VIF_TX_ARENA_BYTES (256u * 1024u)
#define VIF_MCAST_MAX      64u /* multicast filter entries (Linux: XEN_NETBK_MCAST_MAX) */

struct vif_config {
    unsigned max_queues;
    const char *journal_dir;  /* in-flight journals (journal.h), NULL: none */
    struct pv_status *status; /* the process's status socket, or NULL */
};

struct vif;
struct pv_journal;

/* Counters a queue keeps (logged at disconnect). */
struct vif_stats {
    uint64_t tx_packets, tx_bytes, tx_dropped; /* guest -> host */
    uint64_t rx_packets, rx_bytes, rx_dropped; /* host -> guest */
};

/* One packet of a TX batch. */
struct vif_txpkt {
    struct netif_txpkt desc;
    size_t pos;    /* where its frame starts in the arena */
    unsigned seg0; /* its first grant-copy segment */
    unsigned nsegs;
    bool copied; /* every segment copied: it goes to the tap */
};

struct vif_queue {
    struct vif *vif;
    unsigned idx;
    netif_tx_sring_t *tx;
    netif_rx_sring_t *rx;
    struct pv_evtchn *evt;     /* both ports of the queue */
    uint32_t tx_port, rx_port; /* local ports; equal without split channels */
    struct pv_watch *evt_watch;
    /* Event storm guard (evtchn_storm.h) over both rings' producers. */
    struct pv_storm storm;
    RING_IDX tx_prod_seen, rx_prod_seen; /* req_prod at the previous event */
    int tap_fd;
    struct pv_watch *tap_watch;
    bool tap_paused; /* no RX requests: tap not read until the guest posts some */

    RING_IDX tx_cons, tx_rsp;
    RING_IDX rx_cons, rx_rsp;
    /* In-flight journals of both rings (journal.h): a response overwrites
     * its request's slot before the index that publishes it moves, so a
     * successor of a process killed in between takes those positions (up
     * to *_replay_end, req_prod at the attach) from here, not the ring. */
    struct pv_journal *tx_jr, *rx_jr;
    RING_IDX tx_replay_end, rx_replay_end;

    /* TX batch. */
    uint8_t *tx_arena;
    xengnttab_grant_copy_segment_t *tx_segs;
    struct vif_txpkt *tx_pkts;
    /* RX batch: packets read from the tap, in the arena. */
    uint8_t *rx_arena;
    xengnttab_grant_copy_segment_t *rx_segs;
    size_t rx_held; /* bytes of a packet at the arena's start waiting for RX slots */

    struct vif_stats st;
};

struct vif {
    struct pv_xenbus_dev *xdev;
    const struct vif_config *cfg;
    struct pv_loop *loop;

    /* Host side, from probe to remove (vif_host.c): the tap from probe on;
     * bridge, MTU, link and VLANs once host_ready. */
    struct tap tap;
    struct nl *nl;
    char *bridge_key;      /* the bridge key as written, NULL when absent */
    char bridge[IFNAMSIZ]; /* the bridge it names */
    struct vlan_cfg vlan;  /* in-netback tagging; inactive when the bridge filters */
    unsigned mtu;
    struct pv_timer *setup_timer;
    bool host_ready;

    /* Per connection: what the frontend negotiated. */
    struct pv_gnt *gnt;
    uint32_t domid;
    unsigned nr_queues;
    struct vif_queue *queues;
    bool fe_sg, fe_gso4, fe_gso6, fe_csum, fe_csum6;
    bool mcast_ctrl;
    struct pv_xs_watch *mcast_watch;
    unsigned nr_mcast;
    uint8_t mcast[VIF_MCAST_MAX][6];
    struct credit credit;
    struct pv_timer *credit_timer;
    /* The control ring (feature-ctrl-ring), when the frontend gave one. */
    xen_netif_ctrl_sring_t *ctrl;
    struct pv_evtchn *ctrl_evt;
    uint32_t ctrl_port;
    struct pv_watch *ctrl_watch;
    RING_IDX ctrl_cons;
    struct pv_storm ctrl_storm;
    RING_IDX ctrl_prod_seen;
    struct hash_cfg hash;
    bool failed; /* fatal error reported: stop touching the rings */

    /* What `pvback-ctl status` shows: queues, packets and bytes both ways,
     * drops. */
    struct pv_status_counters counters;
    struct pv_status_dev *status;
};

/* Counting, per queue (logged at disconnect) and per vif (status socket). */
static inline void vif_count(struct vif_queue *q, bool to_guest, size_t bytes)
{
    if (to_guest) {
        q->st.rx_packets++;
        q->st.rx_bytes += bytes;
    } else {
        q->st.tx_packets++;
        q->st.tx_bytes += bytes;
    }
    q->vif->counters.requests++;
    q->vif->counters.bytes += bytes;
}

static inline void vif_drop(struct vif_queue *q, bool to_guest)
{
    if (to_guest)
        q->st.rx_dropped++;
    else
        q->st.tx_dropped++;
    q->vif->counters.errors++;
}

/* vif_host.c: the host side in two steps. At probe, before InitWait, only
 * what is cheap: the bridge and vlan keys checked, the tap made (down, on no
 * bridge). Once the vif is in InitWait and its hotplug script is done,
 * vif_host_setup_soon() sets up the rest from the loop (bridge, MTU, link
 * up, VLANs) and sets host_ready, or fails the vif. */
int vif_host_create(struct vif *v);
void vif_host_setup_soon(struct vif *v);
void vif_host_teardown(struct vif *v);
/* Offloads the tap may hand us, per what the frontend can receive. */
int vif_host_set_offloads(struct vif *v);
/* The tap's MTU for this connection: the vif's, or 1500 for a frontend
 * without scatter-gather (one page per frame), as Linux netback does. */
int vif_host_set_mtu(struct vif *v);

/* vif_queue.c: rings and event channels of one queue. */
int vif_queue_connect(struct vif *v, struct vif_queue *q, const char *dir);
void vif_queue_disconnect(struct vif_queue *q);
/* After connecting to rings already in use (a restarted pvback-net): one
 * event to the guest, in case the predecessor died before its notification. */
void vif_queue_kick_adopted(struct vif_queue *q);
/* Copies the request at ring position pos (size bytes at src) once into dst:
 * from the journal jr inside the replay window, else from the ring, then
 * journaled. jr may be NULL. */
void vif_take_slot(struct pv_journal *jr, RING_IDX replay_end, RING_IDX pos,
                   const volatile void *src, void *dst, size_t size);
/* The connection ended for good (not a stop of this process while the guest
 * stays connected): forget the journals. */
void vif_queue_forget_journals(struct vif_queue *q);
/* Fails the vif (xenbus error node) once; the rings are no longer used. */
void vif_fail(struct vif *v, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Publishes responses on a ring and notifies the frontend if it asked. */
void vif_push_tx(struct vif_queue *q);
void vif_push_rx(struct vif_queue *q);

/* vif_ctrl.c: the control ring (optional keys ctrl-ring-ref and
 * event-channel-ctrl). */
int vif_ctrl_connect(struct vif *v);
void vif_ctrl_disconnect(struct vif *v);

/* vif_tx.c: guest -> host. */
void vif_tx_process(struct vif_queue *q);
/* vif_rx.c: host -> guest. */
void vif_rx_process(struct vif_queue *q);
/* The multicast filter list (a dummy TX request carries changes). */
int vif_mcast_add(struct vif *v, const uint8_t addr[6]);
void vif_mcast_del(struct vif *v, const uint8_t addr[6]);

/* vif_xenbus.c */
extern const struct pv_xenbus_ops vif_xenbus_ops;

#endif
