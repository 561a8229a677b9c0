/* Internals shared by blkfront_xenbus.c (negotiation) and blkfront_ring.c
 * (requests and responses). */
#ifndef PVBACK_BLKFRONT_PRIV_H
#define PVBACK_BLKFRONT_PRIV_H

#include <stdint.h>
#include <xen/io/blkif.h>

#include "blkfront.h"
#include "blkif_abi.h"
#include "platform.h"
#include "xs.h"

#define BF_MAX_QUEUES     16u
#define BF_MAX_RING_PAGES 16u
#define BF_MAX_SEGS       256u
/* Grants the data pages of all slots may use together. */
#define BF_GRANT_BUDGET 30000u

struct bf_slot {
    struct blkfront_io *io; /* NULL when free */
    uint32_t next_free;
    void *pages;    /* max_segs data pages, then one indirect page */
    uint32_t *refs; /* their grant references */
};

struct bf_queue {
    void *sring;
    uint32_t ring_refs[BF_MAX_RING_PAGES];
    unsigned int nr_slots;
    struct pv_evtchn *evt;
    uint32_t port;
    uint32_t req_prod_pvt, rsp_cons;
    struct bf_slot *slots; /* depth of them */
    uint32_t free_head;
    unsigned int in_flight;
};

struct blkfront {
    struct blkfront_opts opts;
    struct blkfront_info info;
    struct pv_xs *xs;
    struct pv_gntshr *shr;
    uint32_t backend_domid;
    char fe_path[128], be_path[256];
    enum blkif_abi abi;
    unsigned int segs_per_slot; /* pages per slot for data */
    unsigned int next_queue;
    struct bf_queue q[BF_MAX_QUEUES];
};

/* blkfront_ring.c */
int bf_queue_setup(struct blkfront *f, struct bf_queue *q, char *err, size_t errlen);
/* Drops the shared ring and the event channel (keeps slots and their pages). */
void bf_queue_drop_ring(struct blkfront *f, struct bf_queue *q);
void bf_queue_free_slots(struct blkfront *f, struct bf_queue *q);
/* Publishes the requests put since the last push; notifies if needed. */
void bf_push_requests(struct bf_queue *q);
/* Puts every unanswered request of q on its (new) ring again. */
void bf_queue_replay(struct blkfront *f, struct bf_queue *q);

#endif
