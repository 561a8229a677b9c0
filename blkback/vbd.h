/* pvback-blk's device: the state shared by the xenbus glue (vbd_xenbus.c),
 * the rings (vbd_ring.c) and the I/O path (vbd_io.c). */
#ifndef PVBACK_VBD_H
#define PVBACK_VBD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blkif_abi.h"
#include "blkif_req.h"
#include "loop.h"
#include "platform.h"
#include "status.h"
#include "storage.h"
#include "xenbus.h"

/* What pvback-blk offers (probe writes these). */
#define VBD_MAX_RING_PAGE_ORDER 4u /* 16 pages, as Linux blkback */
#define VBD_MAX_RING_PAGES      (1u << VBD_MAX_RING_PAGE_ORDER)
#define VBD_MAX_QUEUES_DEFAULT  4u
#define VBD_MAX_INDIRECT_SEGS   BLKIF_OP_MAX_SEGS
/* Persistent grants kept per ring at most. Linux keeps 1056
 * (xen_blkif_max_pgrants); pvback keeps more by default because a frontend
 * with 256-segment indirect requests at iodepth 8 already uses ~2000 grants
 * per ring, and past the bound every request is mapped and unmapped again
 * (measured: 1 MiB sequential I/O 7x slower with 1056). Still a bound. */
#define VBD_MAX_PGRANTS_DEFAULT 4096u
/* Bounce pages per ring for pages without a persistent grant (bounce.h):
 * 16 MiB at most, held only while such pages are in flight and for about a
 * second after. */
#define VBD_MAX_BOUNCE_DEFAULT 4096u
/* Contiguous buffers per ring for requests the disk would split (contig.h):
 * 1 MiB each, enough for a frontend's 1 MiB requests at iodepth 8. */
#define VBD_MAX_CONTIG_DEFAULT 8u
/* cfg.contig_above: take the disk's own max_segments (where huge pages are
 * available), the default. */
#define VBD_CONTIG_AUTO -1

struct vbd_config {
    unsigned int max_queues;
    unsigned int max_pgrants;
    unsigned int max_bounce;  /* 0: map every such page instead */
    unsigned int max_contig;  /* contiguous buffers per ring (contig.h) */
    int contig_above;         /* segments past which a request is copied through
                                 one; 0: never; VBD_CONTIG_AUTO */
    const char *engine;       /* storage engine, NULL: default */
    const char *journal_dir;  /* in-flight journals (journal.h), NULL: none */
    struct pv_status *status; /* the status socket (status.h), NULL: none */
};

struct vbd_ring;
struct pgrant_cache;
struct bounce_pool;
struct contig_pool;

struct vbd {
    struct pv_xenbus_dev *xdev;
    const struct vbd_config *cfg;
    struct pv_loop *loop;
    /* What `pvback-ctl status` shows of this disk (status.h): requests
     * answered, bytes read and written, requests answered with an error. */
    struct pv_status_counters counters;
    struct pv_status_dev *status;

    /* Storage, opened at the first connect and kept across reconnects. */
    struct pv_storage *st;
    struct pv_watch *st_watch;
    char *params;
    bool read_only;
    bool discard_enable;
    struct blkif_dev_props props;
    struct pv_timer *resize_timer;
    /* Requests of more segments go through a contiguous buffer; 0: none. */
    unsigned int contig_above;

    /* Per connection. */
    struct pv_gnt *gnt;
    enum blkif_abi abi;
    bool persistent;
    unsigned int nr_rings;
    struct vbd_ring **rings;
    bool failed; /* fatal error reported: stop touching the rings */

    /* A disconnect waiting for the storage (vbd_xenbus.c): the rings stay
     * mapped until the last request that writes into them is answered. */
    bool closing;
    bool close_keep;  /* the rings outlive this process (journals kept) */
    bool close_flush; /* flush before Closed: a detach, a migration */
    bool close_flush_sent;
    int64_t close_flush_result;
    struct pv_storage_req close_req;
    unsigned int close_drained; /* storage requests in flight when it began */
};

/* Pending request state lives in vbd_ring.c; the I/O path sees it through
 * these calls. */
struct vbd_req;

/* vbd_ring.c */
struct vbd_ring *vbd_ring_new(struct vbd *v, unsigned int idx, const uint32_t *refs,
                              unsigned int nr_pages, uint32_t remote_port);
/* keep_journal: the connection outlives this process (it is stopping while
 * the frontend stays connected), so a successor may replay the journal. */
void vbd_ring_free(struct vbd_ring *r, bool keep_journal);
/* Looks at the ring for the first time (requests queued before we bound). */
void vbd_ring_start(struct vbd_ring *r);
unsigned int vbd_ring_in_flight(const struct vbd_ring *r);
struct vbd *vbd_ring_vbd(struct vbd_ring *r);
struct pgrant_cache *vbd_ring_pgrants(struct vbd_ring *r);
struct bounce_pool *vbd_ring_bounce(struct vbd_ring *r);
struct contig_pool *vbd_ring_contig(struct vbd_ring *r);
/* After storage completions: push responses and notify where needed, and
 * resume consuming requests. */
void vbd_ring_after_io(struct vbd_ring *r);
/* Called by the I/O path when a request is finished. */
void vbd_ring_complete(struct vbd_req *req, int16_t status);
/* A protocol violation: answers req with status, then fails the device with
 * a xenbus error node (the message is prefixed with the queue). */
void vbd_ring_fail(struct vbd_req *req, int16_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* vbd_io.c: executes a validated request. */
struct vbd_req {
    struct vbd_ring *ring;
    struct blkif_op op;
    int stage;
    int16_t status;
    /* Non-persistent mapping of the segments (one region), or NULL. */
    void *map;
    uint32_t map_count;
    struct pv_storage_req sreq;
    int iovcnt;
    struct iovec iov[BLKIF_OP_MAX_SEGS];
    /* Persistent grants held by this request (pgrant.h). */
    uint16_t nr_held;
    struct pgrant *held[BLKIF_OP_MAX_SEGS];
    /* Segments whose iovec points into a bounce page (bounce.h). */
    uint16_t nr_bounce;
    uint16_t bounce_seg[BLKIF_OP_MAX_SEGS];
    /* The contiguous buffer the storage reads or writes instead of iov
     * (contig.h), or NULL; contig_iov describes it. */
    void *contig;
    struct iovec contig_iov;
    unsigned int free_next; /* free-list link inside the ring */
    uint32_t pos;           /* ring position it was taken from */
    bool done;              /* answered by the I/O path, response not yet on the ring */
};
/* Fetches the indirect segments (if any), maps the data, and submits it to
 * storage. On any failure the request is completed with an error. */
void vbd_io_start(struct vbd_req *req);
/* Releases the data mappings of a finished request. */
void vbd_io_release(struct vbd_req *req);
/* The storage completion callback. */
void vbd_io_storage_done(struct pv_storage_req *sreq, int64_t result);

/* vbd_xenbus.c */
extern const struct pv_xenbus_ops vbd_xenbus_ops;

#endif
