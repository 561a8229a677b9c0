/* Validation of blkif requests: a pure function from the private copy of a
 * ring request and the device's properties to either an operation descriptor
 * or the status of the error response. No I/O, no hypervisor; every rule is
 * unit-tested (tests/unit/blkback/test_blkif_req.c).
 *
 * Sectors on the ring are always 512-byte units, whatever the device's
 * logical sector size (as with Linux blkback); a device with 4096-byte
 * logical sectors only accepts requests aligned to 8 ring sectors.
 *
 * Indirect requests are two-phase: blkif_req_parse() checks the header and
 * says how many indirect pages to map (op->nr_indirect_pages, grefs in
 * op->indirect_grefs); the caller maps them, copies the segments out once
 * into private memory, and calls blkif_req_parse_indirect() with that copy. */
#ifndef PVBACK_BLKIF_REQ_H
#define PVBACK_BLKIF_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/io/blkif.h>

#include "blkif_abi.h"

#define BLKIF_SECTOR_SHIFT 9
/* Segment descriptors per indirect page (4096 / 8). */
#define BLKIF_SEGS_PER_INDIRECT_PAGE (4096u / sizeof(struct blkif_request_segment))
/* The most segments pvback ever accepts in one request: what Linux blkback
 * offers (feature-max-indirect-segments = 256). */
#define BLKIF_OP_MAX_SEGS 256u

struct blkif_dev_props {
    uint64_t sectors;               /* device size in 512-byte units */
    uint32_t sector_size;           /* logical sector size in bytes: 512..4096, power of 2 */
    bool read_only;                 /* writes, flushes and discards are refused */
    bool flush;                     /* feature-flush-cache offered */
    bool barrier;                   /* feature-barrier offered */
    bool discard;                   /* feature-discard offered */
    bool discard_secure;            /* discard-secure offered */
    uint16_t max_indirect_segments; /* feature-max-indirect-segments; 0: not offered */
};

enum blkif_op_kind {
    BLKIF_KIND_READ,
    BLKIF_KIND_WRITE,
    BLKIF_KIND_FLUSH, /* FLUSH_DISKCACHE or WRITE_BARRIER; may carry data to write */
    BLKIF_KIND_DISCARD,
};

struct blkif_seg {
    uint32_t gref;
    uint8_t first_sect, last_sect; /* 512-byte sectors within the page, inclusive */
};

struct blkif_op {
    /* Always set, also on error: what the response carries. */
    uint64_t id;
    uint8_t rsp_operation;
    /* True when no correct frontend sends such a request (every ERROR but a
     * write to a read-only device, and an unknown operation): the backend
     * then also fails the device with a xenbus error node. A feature that was
     * not offered (EOPNOTSUPP) is no violation. */
    bool violation;

    enum blkif_op_kind kind;
    bool drain;          /* WRITE_BARRIER: wait for every earlier request first */
    bool secure;         /* DISCARD with BLKIF_DISCARD_SECURE on a device offering it */
    uint64_t sector;     /* first 512-byte sector */
    uint64_t nr_sectors; /* total 512-byte sectors (data ops: sum of the segments) */

    /* Indirect header (phase 1 output). */
    bool indirect;
    uint8_t nr_indirect_pages;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];

    uint16_t nr_segs;
    struct blkif_seg seg[BLKIF_OP_MAX_SEGS];
};

/* Phase 1. Returns BLKIF_RSP_OKAY when op is ready to execute or, if
 * op->indirect, when its segments must now be fetched; otherwise
 * BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP, with *why saying which rule failed
 * (a static string, for the log). */
int16_t blkif_req_parse(const struct blkif_req_copy *req, const struct blkif_dev_props *dev,
                        struct blkif_op *op, const char **why);

/* Phase 2 of an indirect request: segs is the private copy of the first
 * op->nr_segs descriptors of the indirect pages. Same return convention. */
int16_t blkif_req_parse_indirect(struct blkif_op *op, const struct blkif_dev_props *dev,
                                 const struct blkif_request_segment *segs, const char **why);

/* True if kind moves data from the guest to the disk or changes the disk. */
static inline bool blkif_op_writes(const struct blkif_op *op)
{
    return op->kind != BLKIF_KIND_READ;
}

#endif
