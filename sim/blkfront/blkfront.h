/* The simulated guest's disk driver: a blkfront that negotiates like Linux's
 * xen-blkfront (multi-queue, multi-page rings, indirect descriptors,
 * persistent grants, x86_64 or x86_32 ring layout) and replays unanswered
 * requests after a reconnect. It runs as guest N through the platform seam
 * (XENSIM_DOMID=N on xensim, or inside a real Xen guest), so the backend
 * under test cannot tell it from a guest kernel.
 *
 * Data is copied between the caller's buffers and granted pages that each
 * request slot owns for its life (so grant references are reused, as Linux
 * blkfront does with persistent grants; without feature-persistent the
 * backend still maps and unmaps them per request).
 *
 * Single-threaded: submit, then blkfront_wait() for completions. */
#ifndef PVBACK_BLKFRONT_H
#define PVBACK_BLKFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blkfront;

struct blkfront_opts {
    uint32_t devid;          /* the virtual-device number (device/vbd/<devid>) */
    unsigned int queues;     /* wanted (capped by multi-queue-max-queues); 0: 1 */
    unsigned int ring_order; /* wanted (capped by max-ring-page-order) */
    bool persistent;         /* offer feature-persistent */
    bool indirect;           /* use indirect descriptors when the backend offers them */
    bool x86_32;             /* protocol x86_32-abi instead of the native layout */
    unsigned int depth;      /* requests in flight per queue at most; 0: 32 */
    unsigned int timeout_ms; /* per handshake step; 0: 10000 */
};

struct blkfront_info {
    uint64_t sectors; /* 512-byte units */
    uint32_t sector_size, physical_sector_size;
    unsigned int vdisk_info; /* VDISK_* */
    bool flush, barrier, discard, discard_secure, persistent;
    unsigned int max_indirect_segments; /* 0 when not used */
    unsigned int queues, ring_pages;
    size_t max_io; /* largest request in bytes */
};

enum blkfront_op {
    BLKFRONT_READ,
    BLKFRONT_WRITE,
    BLKFRONT_FLUSH,   /* FLUSH_DISKCACHE; with len > 0 it also writes buf (FUA-like) */
    BLKFRONT_BARRIER, /* WRITE_BARRIER; with or without data */
    BLKFRONT_DISCARD,
    BLKFRONT_SECURE_DISCARD,
};

struct blkfront_io;
/* status: BLKIF_RSP_OKAY, BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP. */
typedef void (*blkfront_cb)(struct blkfront_io *io, int status);

struct blkfront_io {
    enum blkfront_op op;
    uint64_t offset; /* bytes, a multiple of 512 */
    size_t len;      /* bytes, a multiple of 512, at most info.max_io */
    void *buf;
    blkfront_cb done;
    void *arg;
};

/* Negotiates with the backend up to Connected. NULL with a message in err. */
struct blkfront *blkfront_open(const struct blkfront_opts *opts, char *err, size_t errlen);
/* Closes the device (Closing, then Closed once the backend is), after
 * waiting for the requests in flight. */
void blkfront_close(struct blkfront *f);
const struct blkfront_info *blkfront_info(const struct blkfront *f);

/* Queues io on the next queue (round robin) and notifies the backend when
 * needed. 0, -EAGAIN when that queue is full, -EINVAL for a bad io. */
int blkfront_submit(struct blkfront *f, struct blkfront_io *io);
/* Waits up to timeout_ms for responses and completes them. Returns how many
 * completed, or -1 with errno (EPROTO: the backend broke the protocol, or
 * closed the device). */
int blkfront_wait(struct blkfront *f, int timeout_ms);
unsigned int blkfront_in_flight(const struct blkfront *f);

/* Simulates a frontend restart: drops the rings without waiting, goes back
 * to Initialising, negotiates again and resubmits every unanswered request.
 * 0, or -1 with a message in err. */
int blkfront_reconnect(struct blkfront *f, char *err, size_t errlen);

#endif
