/* Internals shared by blkfront_xenbus.c (negotiation) and blkfront_ring.c
 * (requests and responses). */
#ifndef PVBACK_BLKFRONT_PRIV_H
#define PVBACK_BLKFRONT_PRIV_H

#include <stdint.h>
#include <xen/io/blkif.h>

#include "blkfront.h"
#include "blkif_abi.h"
#include "frontend_xenbus.h"
#include "platform.h"
#include "xs.h"

#define BF_MAX_QUEUES     16u
#define BF_MAX_RING_PAGES 16u
#define BF_MAX_SEGS       256u
/* Granted data pages at most (Xen's default grant table: 32768 entries). */
#define BF_GRANT_BUDGET 30000u

struct bf_slot {
    struct blkfront_io *io; /* NULL when free */
    uint32_t next_free;
    uint8_t op, indirect_op; /* as sent: the response must carry one of them */
    /* Pool pages of the request: data, then the indirect page if any. */
    uint32_t npages;
    uint32_t page[BF_MAX_SEGS + 1];
};

struct bf_pages {
    uint32_t count;
    uint32_t *refs; /* grant reference of each page */
    char **addr;    /* local address of each page */
    uint32_t *free; /* stack of free page indices */
    uint32_t nfree;
    void **chunks; /* the share calls' regions */
    uint32_t nchunks;
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
    struct fe_bus bus; /* xenstore, paths, backend domid, home */
    struct pv_gntshr *shr;
    enum blkif_abi abi;
    unsigned int segs_per_slot; /* the most data pages of one request */
    struct bf_pages pages;
    unsigned int next_queue;
    struct bf_queue q[BF_MAX_QUEUES];
};

/* blkfront_xenbus.c: called where a driver may act (submit, wait). After a
 * migration it reconnects to the new backend and replays what was in
 * flight. 0, or -1 with errno EIO (message on stderr). */
int bf_follow_home(struct blkfront *f);

/* blkfront_pages.c */
int bf_pages_init(struct blkfront *f, uint32_t count, char *err, size_t errlen);
void bf_pages_fini(struct blkfront *f);
int bf_pages_get(struct blkfront *f, uint32_t n, uint32_t *idx);
void bf_pages_put(struct blkfront *f, uint32_t n, const uint32_t *idx);

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
