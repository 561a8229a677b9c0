/* Validation of blkif requests (see blkif_req.h). The rules and their order
 * follow Linux blkback (dispatch_rw_block_io, dispatch_discard_io,
 * xen_vbd_translate): read-only first, then the feature, then the shape. */
#include "blkif_req.h"

#include <string.h>

#define FAIL(status, reason)                                                                       \
    do {                                                                                           \
        *why = (reason);                                                                           \
        op->violation = (status) == BLKIF_RSP_ERROR;                                               \
        return (status);                                                                           \
    } while (0)
/* A write to a read-only device: refused, but a legitimate request. */
#define FAIL_READ_ONLY(reason)                                                                     \
    do {                                                                                           \
        *why = (reason);                                                                           \
        op->violation = false;                                                                     \
        return BLKIF_RSP_ERROR;                                                                    \
    } while (0)

/* Ring sectors per logical sector. */
static uint32_t unit_of(const struct blkif_dev_props *dev)
{
    uint32_t u = dev->sector_size >> BLKIF_SECTOR_SHIFT;
    return u ? u : 1;
}

static bool range_fits(const struct blkif_dev_props *dev, uint64_t sector, uint64_t count)
{
    return sector <= dev->sectors && count <= dev->sectors - sector;
}

/* Checks n segments of a data request and the range they cover, and fills
 * op->seg, op->nr_segs and op->nr_sectors. */
static int16_t check_data(struct blkif_op *op, const struct blkif_dev_props *dev,
                          const struct blkif_request_segment *segs, unsigned int n,
                          const char **why)
{
    const uint32_t unit = unit_of(dev);
    const unsigned int per_page = 4096u >> BLKIF_SECTOR_SHIFT;
    uint64_t total = 0;

    if (op->sector % unit)
        FAIL(BLKIF_RSP_ERROR, "start sector not aligned to the logical sector size");
    for (unsigned int i = 0; i < n; i++) {
        const uint8_t first = segs[i].first_sect, last = segs[i].last_sect;
        if (last >= per_page)
            FAIL(BLKIF_RSP_ERROR, "last_sect beyond the page");
        if (last < first)
            FAIL(BLKIF_RSP_ERROR, "last_sect before first_sect");
        if (first % unit || (last + 1u) % unit)
            FAIL(BLKIF_RSP_ERROR, "segment not aligned to the logical sector size");
        op->seg[i].gref = segs[i].gref;
        op->seg[i].first_sect = first;
        op->seg[i].last_sect = last;
        total += (uint64_t)(last - first) + 1;
    }
    op->nr_segs = (uint16_t)n;
    op->nr_sectors = total;
    if (!range_fits(dev, op->sector, total))
        FAIL(BLKIF_RSP_ERROR, "sector range past the end of the device");
    return BLKIF_RSP_OKAY;
}

static int16_t parse_discard(const struct blkif_req_copy *req, const struct blkif_dev_props *dev,
                             struct blkif_op *op, const char **why)
{
    const uint32_t unit = unit_of(dev);

    op->kind = BLKIF_KIND_DISCARD;
    if (dev->read_only)
        FAIL_READ_ONLY("discard on a read-only device");
    if (!dev->discard)
        FAIL(BLKIF_RSP_EOPNOTSUPP, "discard not offered");
    op->nr_sectors = req->discard_nr_sectors;
    /* The flag is ignored where discard-secure is not offered (blkif.h). */
    op->secure = (req->discard_flag & BLKIF_DISCARD_SECURE) && dev->discard_secure;
    if (op->nr_sectors == 0)
        FAIL(BLKIF_RSP_ERROR, "empty discard");
    if (op->sector % unit || op->nr_sectors % unit)
        FAIL(BLKIF_RSP_ERROR, "discard not aligned to the logical sector size");
    if (!range_fits(dev, op->sector, op->nr_sectors))
        FAIL(BLKIF_RSP_ERROR, "discard range past the end of the device");
    return BLKIF_RSP_OKAY;
}

static int16_t parse_indirect_header(const struct blkif_req_copy *req,
                                     const struct blkif_dev_props *dev, struct blkif_op *op,
                                     const char **why)
{
    unsigned int max = dev->max_indirect_segments;
    if (max > BLKIF_OP_MAX_SEGS)
        max = BLKIF_OP_MAX_SEGS;

    op->indirect = true;
    /* Linux blkback answers an indirect request with its inner operation. */
    op->rsp_operation = req->indirect_op;
    if (!max)
        FAIL(BLKIF_RSP_ERROR, "indirect descriptors not offered");
    if (req->indirect_op == BLKIF_OP_READ)
        op->kind = BLKIF_KIND_READ;
    else if (req->indirect_op == BLKIF_OP_WRITE)
        op->kind = BLKIF_KIND_WRITE;
    else
        FAIL(BLKIF_RSP_ERROR, "indirect_op is neither read nor write");
    if (op->kind == BLKIF_KIND_WRITE && dev->read_only)
        FAIL_READ_ONLY("write to a read-only device");
    if (req->indirect_nr_segments == 0)
        FAIL(BLKIF_RSP_ERROR, "indirect request without segments");
    if (req->indirect_nr_segments > max)
        FAIL(BLKIF_RSP_ERROR, "too many indirect segments");
    op->nr_segs = req->indirect_nr_segments;
    op->nr_indirect_pages =
        (uint8_t)((op->nr_segs + BLKIF_SEGS_PER_INDIRECT_PAGE - 1) / BLKIF_SEGS_PER_INDIRECT_PAGE);
    memcpy(op->indirect_grefs, req->indirect_grefs,
           op->nr_indirect_pages * sizeof(op->indirect_grefs[0]));
    return BLKIF_RSP_OKAY;
}

int16_t blkif_req_parse(const struct blkif_req_copy *req, const struct blkif_dev_props *dev,
                        struct blkif_op *op, const char **why)
{
    op->id = req->id;
    op->rsp_operation = req->operation;
    op->kind = BLKIF_KIND_READ;
    op->drain = false;
    op->secure = false;
    op->sector = req->sector_number;
    op->nr_sectors = 0;
    op->indirect = false;
    op->nr_indirect_pages = 0;
    op->nr_segs = 0;
    op->violation = false;
    *why = NULL;

    switch (req->operation) {
    case BLKIF_OP_READ:
        op->kind = BLKIF_KIND_READ;
        break;
    case BLKIF_OP_WRITE:
        op->kind = BLKIF_KIND_WRITE;
        break;
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE:
        op->kind = BLKIF_KIND_FLUSH;
        op->drain = req->operation == BLKIF_OP_WRITE_BARRIER;
        break;
    case BLKIF_OP_DISCARD:
        return parse_discard(req, dev, op, why);
    case BLKIF_OP_INDIRECT:
        return parse_indirect_header(req, dev, op, why);
    default:
        /* Linux blkback answers EOPNOTSUPP; no correct frontend sends it. */
        *why = "unknown operation";
        op->violation = true;
        return BLKIF_RSP_EOPNOTSUPP;
    }

    if (op->kind != BLKIF_KIND_READ && dev->read_only)
        FAIL_READ_ONLY("write to a read-only device");
    if (op->kind == BLKIF_KIND_FLUSH && !(op->drain ? dev->barrier : dev->flush))
        FAIL(BLKIF_RSP_EOPNOTSUPP, op->drain ? "barrier not offered" : "flush not offered");
    /* A flush or barrier may come without data: then it only orders. */
    if (req->nr_segments == 0) {
        if (op->kind == BLKIF_KIND_FLUSH)
            return BLKIF_RSP_OKAY;
        FAIL(BLKIF_RSP_ERROR, "request without segments");
    }
    if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        FAIL(BLKIF_RSP_ERROR, "too many segments");
    return check_data(op, dev, req->seg, req->nr_segments, why);
}

int16_t blkif_req_parse_indirect(struct blkif_op *op, const struct blkif_dev_props *dev,
                                 const struct blkif_request_segment *segs, const char **why)
{
    *why = NULL;
    op->violation = false;
    if (!op->indirect || op->nr_segs == 0 || op->nr_segs > BLKIF_OP_MAX_SEGS)
        FAIL(BLKIF_RSP_ERROR, "not a validated indirect request");
    return check_data(op, dev, segs, op->nr_segs, why);
}
