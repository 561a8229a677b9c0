/* Fuzzes blkif request validation (blkback/blkif_req.h) from the guest's
 * side: one ring slot of either ABI, as a guest may write it, against a
 * device whose properties also come from the input; for indirect requests,
 * the segment descriptors of the indirect pages too.
 *
 * Input: abi byte, feature byte, sector size byte, device sectors (8),
 * max indirect segments (2), the slot image, then indirect segments.
 *
 * Invariants: an accepted request never names a segment past its page, a
 * range past the device, a misaligned sector, a write to a read-only device
 * or an operation that was not offered; every refusal says why; only a
 * correct frontend's refusals are not violations; the ABI codec round-trips
 * and a response's bytes never depend on what the slot held before. */
#include <string.h>

#include "blkif_req.h"
#include "fuzz_input.h"

#define PAGE_SECTORS     (4096u >> BLKIF_SECTOR_SHIFT)
#define X86_32_RSP_BYTES 12 /* id (8, 4-aligned), operation, pad, status */

static void check_segments(const struct blkif_op *op, const struct blkif_dev_props *dev,
                           const struct blkif_request_segment *segs)
{
    const unsigned unit = dev->sector_size >> BLKIF_SECTOR_SHIFT;
    uint64_t total = 0;

    for (unsigned i = 0; i < op->nr_segs; i++) {
        const struct blkif_seg *s = &op->seg[i];
        FUZZ_CHECK(s->first_sect <= s->last_sect && s->last_sect < PAGE_SECTORS,
                   "segment %u covers sectors %u..%u of a page", i, s->first_sect, s->last_sect);
        FUZZ_CHECK(s->first_sect % unit == 0 && (s->last_sect + 1u) % unit == 0,
                   "segment %u is not aligned to %u-byte sectors", i, dev->sector_size);
        FUZZ_CHECK(s->gref == segs[i].gref && s->first_sect == segs[i].first_sect &&
                       s->last_sect == segs[i].last_sect,
                   "segment %u differs from the request", i);
        total += s->last_sect - s->first_sect + 1u;
    }
    FUZZ_CHECK(total == op->nr_sectors, "segments sum to %llu sectors, op says %llu",
               (unsigned long long)total, (unsigned long long)op->nr_sectors);
}

/* What an accepted (ready to execute) request must satisfy. */
static void check_accepted(const struct blkif_op *op, const struct blkif_dev_props *dev,
                           const struct blkif_request_segment *segs)
{
    const unsigned unit = dev->sector_size >> BLKIF_SECTOR_SHIFT;

    FUZZ_CHECK(!op->violation, "an accepted request is marked a violation");
    FUZZ_CHECK(!dev->read_only || !blkif_op_writes(op), "a write accepted on a read-only device");
    if (op->kind == BLKIF_KIND_FLUSH && op->nr_segs == 0) {
        /* Only orders: its sector is meaningless and never used. */
        FUZZ_CHECK(op->drain ? dev->barrier : dev->flush, "a flush/barrier not offered accepted");
        FUZZ_CHECK(op->nr_sectors == 0, "an empty flush of %llu sectors",
                   (unsigned long long)op->nr_sectors);
        return;
    }
    FUZZ_CHECK(op->sector <= dev->sectors && op->nr_sectors <= dev->sectors - op->sector,
               "range %llu+%llu past the device's %llu sectors", (unsigned long long)op->sector,
               (unsigned long long)op->nr_sectors, (unsigned long long)dev->sectors);
    FUZZ_CHECK(op->sector % unit == 0, "start sector %llu not aligned",
               (unsigned long long)op->sector);
    switch (op->kind) {
    case BLKIF_KIND_FLUSH:
        FUZZ_CHECK(op->drain ? dev->barrier : dev->flush, "a flush/barrier not offered accepted");
        break;
    case BLKIF_KIND_DISCARD:
        FUZZ_CHECK(dev->discard, "a discard accepted without feature-discard");
        FUZZ_CHECK(op->nr_sectors > 0 && op->nr_sectors % unit == 0, "bad discard length %llu",
                   (unsigned long long)op->nr_sectors);
        FUZZ_CHECK(!op->secure || dev->discard_secure, "secure discard not offered");
        FUZZ_CHECK(op->nr_segs == 0, "a discard with segments");
        return;
    case BLKIF_KIND_READ:
    case BLKIF_KIND_WRITE:
        FUZZ_CHECK(op->nr_segs > 0, "a read or write without segments");
        break;
    }
    FUZZ_CHECK(op->nr_segs <= (op->indirect ? BLKIF_OP_MAX_SEGS : BLKIF_MAX_SEGMENTS_PER_REQUEST),
               "%u segments", op->nr_segs);
    check_segments(op, dev, segs);
}

/* A refusal: a reason, and "violation" exactly when no correct frontend
 * would have sent it. */
static void check_refused(int16_t rc, const struct blkif_op *op, const struct blkif_dev_props *dev,
                          const struct blkif_req_copy *req, const char *why)
{
    FUZZ_CHECK(rc == BLKIF_RSP_ERROR || rc == BLKIF_RSP_EOPNOTSUPP, "status %d", rc);
    FUZZ_CHECK(why && why[0], "a refusal without a reason");
    if (op->violation)
        return;
    if (rc == BLKIF_RSP_ERROR) {
        FUZZ_CHECK(dev->read_only && blkif_op_writes(op),
                   "'%s' is neither a violation nor a write to a read-only device", why);
    } else {
        const uint8_t o = req->operation;
        FUZZ_CHECK((o == BLKIF_OP_FLUSH_DISKCACHE && !dev->flush) ||
                       (o == BLKIF_OP_WRITE_BARRIER && !dev->barrier) ||
                       (o == BLKIF_OP_DISCARD && !dev->discard),
                   "EOPNOTSUPP '%s' for op %u that was offered", why, o);
    }
}

static void check_codec(enum blkif_abi abi, const struct blkif_req_copy *req)
{
    unsigned char slot[128], a[128], b[128];
    struct blkif_req_copy again;
    uint64_t id;
    uint8_t operation;
    int16_t status;
    const size_t rsp_bytes = abi == BLKIF_ABI_X86_32 ? X86_32_RSP_BYTES : sizeof(blkif_response_t);

    blkif_req_to_ring(abi, slot, req);
    blkif_req_copy_from_ring(abi, slot, &again);
    FUZZ_CHECK(again.operation == req->operation && again.id == req->id &&
                   again.sector_number == req->sector_number &&
                   again.nr_segments == req->nr_segments &&
                   !memcmp(again.seg, req->seg, sizeof(req->seg)) &&
                   again.discard_flag == req->discard_flag &&
                   again.discard_nr_sectors == req->discard_nr_sectors &&
                   again.indirect_op == req->indirect_op &&
                   again.indirect_nr_segments == req->indirect_nr_segments &&
                   !memcmp(again.indirect_grefs, req->indirect_grefs, sizeof(req->indirect_grefs)),
               "a request does not survive encode/decode (abi %d)", abi);

    /* A response over whatever the slot held: its bytes are the same. */
    memset(a, 0xaa, sizeof(a));
    memset(b, 0x55, sizeof(b));
    blkif_rsp_to_ring(abi, a, req->id, req->operation, BLKIF_RSP_ERROR);
    blkif_rsp_to_ring(abi, b, req->id, req->operation, BLKIF_RSP_ERROR);
    FUZZ_CHECK(!memcmp(a, b, rsp_bytes), "a response carries stale slot bytes");
    blkif_rsp_from_ring(abi, a, &id, &operation, &status);
    FUZZ_CHECK(id == req->id && operation == req->operation && status == BLKIF_RSP_ERROR,
               "a response does not survive encode/decode");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    const enum blkif_abi abi = (fuzz_u8(&in) & 1) ? BLKIF_ABI_X86_32 : BLKIF_ABI_X86_64;
    const uint8_t features = fuzz_u8(&in);
    struct blkif_dev_props dev = {
        .read_only = features & 1,
        .flush = features & 2,
        .barrier = features & 4,
        .discard = features & 8,
        .discard_secure = features & 16,
        /* The documented domain: 512..4096, a power of two. */
        .sector_size = 512u << (fuzz_u8(&in) % 4),
    };
    dev.sectors = fuzz_u64(&in);
    dev.max_indirect_segments = fuzz_u16(&in);

    unsigned char slot[128];
    struct blkif_req_copy req;
    static struct blkif_op op; /* large: keep it off the stack */
    const char *why = NULL;

    fuzz_bytes(&in, slot, blkif_abi_slot_size(abi));
    blkif_req_copy_from_ring(abi, slot, &req);
    check_codec(abi, &req);

    memset(&op, 0x5a, sizeof(op)); /* stale data must not survive into op */
    int16_t rc = blkif_req_parse(&req, &dev, &op, &why);
    FUZZ_CHECK(op.id == req.id, "the response id is not the request's");
    if (rc != BLKIF_RSP_OKAY) {
        check_refused(rc, &op, &dev, &req, why);
        return 0;
    }
    if (!op.indirect) {
        check_accepted(&op, &dev, req.seg);
        return 0;
    }

    /* Indirect, phase 1: a header that asks for a bounded number of pages. */
    unsigned max = dev.max_indirect_segments < BLKIF_OP_MAX_SEGS ? dev.max_indirect_segments
                                                                 : BLKIF_OP_MAX_SEGS;
    FUZZ_CHECK(op.nr_segs >= 1 && op.nr_segs <= max, "%u indirect segments, %u offered", op.nr_segs,
               max);
    FUZZ_CHECK(op.nr_segs == req.indirect_nr_segments, "segment count changed");
    FUZZ_CHECK(op.nr_indirect_pages == (op.nr_segs + BLKIF_SEGS_PER_INDIRECT_PAGE - 1) /
                                           BLKIF_SEGS_PER_INDIRECT_PAGE &&
                   op.nr_indirect_pages <= BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
               "%u indirect pages for %u segments", op.nr_indirect_pages, op.nr_segs);
    FUZZ_CHECK(!memcmp(op.indirect_grefs, req.indirect_grefs,
                       op.nr_indirect_pages * sizeof(op.indirect_grefs[0])),
               "indirect grefs differ from the request");
    FUZZ_CHECK(op.kind == BLKIF_KIND_READ || op.kind == BLKIF_KIND_WRITE, "indirect op of kind %d",
               op.kind);
    FUZZ_CHECK(op.rsp_operation == req.indirect_op, "indirect response names another op");

    /* Phase 2: the segments the guest put in its indirect pages. */
    static struct blkif_request_segment segs[BLKIF_OP_MAX_SEGS];
    fuzz_bytes(&in, segs, op.nr_segs * sizeof(segs[0]));
    rc = blkif_req_parse_indirect(&op, &dev, segs, &why);
    if (rc != BLKIF_RSP_OKAY) {
        FUZZ_CHECK(rc == BLKIF_RSP_ERROR && op.violation && why && why[0],
                   "bad indirect segments: status %d, violation %d", rc, op.violation);
        return 0;
    }
    check_accepted(&op, &dev, segs);
    return 0;
}
