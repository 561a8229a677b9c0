/* Request parsing: every validation rule, each through a real ring slot of
 * both wire layouts (x86_64 and x86_32), plus the layouts' byte offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "blkif_abi.h"
#include "blkif_req.h"

static enum blkif_abi abi_64 = BLKIF_ABI_X86_64;
static enum blkif_abi abi_32 = BLKIF_ABI_X86_32;

/* A 1 GiB disk of 512-byte sectors offering everything. */
static struct blkif_dev_props dev_default(void)
{
    struct blkif_dev_props d = {
        .sectors = 2097152,
        .sector_size = 512,
        .read_only = false,
        .flush = true,
        .barrier = true,
        .discard = true,
        .discard_secure = true,
        .max_indirect_segments = 256,
    };
    return d;
}

static struct blkif_req_copy rw(uint8_t op, uint64_t sector, uint8_t nseg)
{
    struct blkif_req_copy r;
    memset(&r, 0, sizeof(r));
    r.operation = op;
    r.id = 0x1122334455667788ull;
    r.sector_number = sector;
    r.nr_segments = nseg;
    for (unsigned int i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        r.seg[i].gref = 100 + i;
        r.seg[i].first_sect = 0;
        r.seg[i].last_sect = 7;
    }
    return r;
}

/* Puts req into a ring slot of the test's layout, copies it back out the way
 * the backend does, and parses the copy. */
static int16_t parse(void **state, const struct blkif_req_copy *req,
                     const struct blkif_dev_props *dev, struct blkif_op *op)
{
    enum blkif_abi abi = *(enum blkif_abi *)*state;
    unsigned char slot[128];
    struct blkif_req_copy copy;
    const char *why = "unset";

    memset(slot, 0xa5, sizeof(slot));
    blkif_req_to_ring(abi, slot, req);
    blkif_req_copy_from_ring(abi, slot, &copy);
    int16_t st = blkif_req_parse(&copy, dev, op, &why);
    /* Every failure names its rule; success names none. */
    if (st == BLKIF_RSP_OKAY)
        assert_null(why);
    else
        assert_non_null(why);
    /* Only a refused write to a read-only device is not a violation. */
    if (st == BLKIF_RSP_ERROR)
        assert_true(op->violation == !strstr(why, "read-only"));
    else if (st == BLKIF_RSP_EOPNOTSUPP)
        assert_true(op->violation == !strstr(why, "not offered"));
    else
        assert_false(op->violation);
    return st;
}

static void test_read_ok(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_req_copy r = rw(BLKIF_OP_READ, 64, 3);
    r.seg[1].first_sect = 2;
    r.seg[1].last_sect = 5;
    struct blkif_op op;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op.kind, BLKIF_KIND_READ);
    assert_true(op.id == 0x1122334455667788ull);
    assert_int_equal(op.rsp_operation, BLKIF_OP_READ);
    assert_int_equal(op.sector, 64);
    assert_int_equal(op.nr_segs, 3);
    assert_int_equal(op.nr_sectors, 8 + 4 + 8);
    assert_int_equal(op.seg[1].gref, 101);
    assert_int_equal(op.seg[1].first_sect, 2);
    assert_int_equal(op.seg[1].last_sect, 5);
    assert_false(op.indirect);
}

static void test_write_ok_and_read_only(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_req_copy r = rw(BLKIF_OP_WRITE, 0, 11);
    struct blkif_op op;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op.kind, BLKIF_KIND_WRITE);
    assert_int_equal(op.nr_sectors, 88);

    dev.read_only = true;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    assert_true(op.id == r.id);
    assert_int_equal(op.rsp_operation, BLKIF_OP_WRITE);
    r.operation = BLKIF_OP_READ;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
}

static void test_unknown_ops(void **state)
{
    struct blkif_dev_props dev = dev_default();
    const uint8_t bad[] = {BLKIF_OP_RESERVED_1, 7, 42, 255};
    struct blkif_op op;
    for (size_t i = 0; i < sizeof(bad); i++) {
        struct blkif_req_copy r = rw(bad[i], 0, 1);
        assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_EOPNOTSUPP);
        assert_int_equal(op.rsp_operation, bad[i]);
        assert_true(op.id == r.id);
    }
}

static void test_segment_count(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_op op;
    struct blkif_req_copy r = rw(BLKIF_OP_READ, 0, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_WRITE, 0, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 0, 11);
    r.nr_segments = 12;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r.nr_segments = 255;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
}

static void test_sector_bounds_in_page(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_op op;
    struct blkif_req_copy r = rw(BLKIF_OP_READ, 0, 2);

    r.seg[1].first_sect = 7;
    r.seg[1].last_sect = 7;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op.nr_sectors, 9);
    r.seg[1].last_sect = 8; /* past the 4 KiB page */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r.seg[1].first_sect = 8;
    r.seg[1].last_sect = 8;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r.seg[1].first_sect = 5;
    r.seg[1].last_sect = 4; /* last before first */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
}

static void test_range_past_end(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_op op;
    struct blkif_req_copy r = rw(BLKIF_OP_READ, dev.sectors - 16, 2);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY); /* ends exactly at the end */
    r.sector_number = dev.sectors - 15;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r.sector_number = dev.sectors;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r.sector_number = UINT64_MAX - 3; /* the sum would wrap around */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
}

static void test_large_logical_sectors(void **state)
{
    struct blkif_dev_props dev = dev_default();
    dev.sector_size = 4096;
    struct blkif_op op;
    struct blkif_req_copy r = rw(BLKIF_OP_WRITE, 8, 2);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    r.sector_number = 4; /* ring sectors are 512 bytes: 4 is mid-sector */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r.sector_number = 8;
    r.seg[0].last_sect = 3; /* half a logical sector */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r.seg[0].first_sect = 4;
    r.seg[0].last_sect = 7;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
}

static void test_flush_and_barrier(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_op op;
    struct blkif_req_copy r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
    r.sector_number = UINT64_MAX; /* meaningless without data: not checked */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op.kind, BLKIF_KIND_FLUSH);
    assert_false(op.drain);
    assert_int_equal(op.nr_segs, 0);

    /* A flush with data (how Linux blkfront sends FUA writes) checks it. */
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 16, 2);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op.nr_sectors, 16);
    r.seg[0].last_sect = 9;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);

    r = rw(BLKIF_OP_WRITE_BARRIER, 16, 1);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op.kind, BLKIF_KIND_FLUSH);
    assert_true(op.drain);
    assert_int_equal(op.rsp_operation, BLKIF_OP_WRITE_BARRIER);

    dev.barrier = false;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_EOPNOTSUPP);
    dev.flush = false;
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_EOPNOTSUPP);

    dev = dev_default();
    dev.read_only = true;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
}

static struct blkif_req_copy discard(uint64_t sector, uint64_t count, uint8_t flag)
{
    struct blkif_req_copy r;
    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_DISCARD;
    r.id = 77;
    r.sector_number = sector;
    r.discard_nr_sectors = count;
    r.discard_flag = flag;
    return r;
}

static void test_discard(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_op op;
    struct blkif_req_copy r = discard(1024, 2048, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op.kind, BLKIF_KIND_DISCARD);
    assert_int_equal(op.sector, 1024);
    assert_int_equal(op.nr_sectors, 2048);
    assert_false(op.secure);
    assert_int_equal(op.id, 77);

    r = discard(0, dev.sectors, BLKIF_DISCARD_SECURE);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_true(op.secure);
    dev.discard_secure = false; /* the flag is then ignored */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_false(op.secure);

    r = discard(1, dev.sectors, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = discard(8, UINT64_MAX - 4, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = discard(8, 0, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);

    dev.sector_size = 4096;
    r = discard(8, 12, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = discard(8, 16, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);

    dev.discard = false;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_EOPNOTSUPP);
    dev = dev_default();
    dev.read_only = true;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
}

static struct blkif_req_copy indirect(uint8_t iop, uint64_t sector, uint16_t nseg)
{
    struct blkif_req_copy r;
    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_INDIRECT;
    r.indirect_op = iop;
    r.id = 5;
    r.sector_number = sector;
    r.indirect_nr_segments = nseg;
    for (unsigned int i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
        r.indirect_grefs[i] = 900 + i;
    return r;
}

static void fill_segs(struct blkif_request_segment *segs, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        segs[i].gref = 2000 + i;
        segs[i].first_sect = 0;
        segs[i].last_sect = 7;
    }
}

static void test_indirect(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_op op;
    struct blkif_request_segment segs[BLKIF_OP_MAX_SEGS];
    const char *why;

    struct blkif_req_copy r = indirect(BLKIF_OP_WRITE, 4096, 256);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_true(op.indirect);
    assert_int_equal(op.kind, BLKIF_KIND_WRITE);
    assert_int_equal(op.rsp_operation, BLKIF_OP_WRITE);
    assert_int_equal(op.nr_segs, 256);
    assert_int_equal(op.nr_indirect_pages, 1);
    assert_int_equal(op.indirect_grefs[0], 900);

    fill_segs(segs, 256);
    segs[17].first_sect = 1;
    assert_int_equal(blkif_req_parse_indirect(&op, &dev, segs, &why), BLKIF_RSP_OKAY);
    assert_int_equal(op.nr_sectors, 256 * 8 - 1);
    assert_int_equal(op.seg[255].gref, 2255);
    assert_int_equal(op.seg[17].first_sect, 1);

    /* A bad segment deep in the indirect page is caught. */
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    segs[200].last_sect = 8;
    assert_int_equal(blkif_req_parse_indirect(&op, &dev, segs, &why), BLKIF_RSP_ERROR);
    assert_non_null(why);
    segs[200].last_sect = 7;
    segs[201].first_sect = 6;
    segs[201].last_sect = 5;
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(blkif_req_parse_indirect(&op, &dev, segs, &why), BLKIF_RSP_ERROR);

    /* The range the segments add up to must fit the device. */
    fill_segs(segs, 256);
    r = indirect(BLKIF_OP_READ, dev.sectors - 256 * 8 + 8, 256);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(blkif_req_parse_indirect(&op, &dev, segs, &why), BLKIF_RSP_ERROR);
}

static void test_indirect_header_rules(void **state)
{
    struct blkif_dev_props dev = dev_default();
    struct blkif_op op;
    struct blkif_req_copy r = indirect(BLKIF_OP_WRITE_BARRIER, 0, 8);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    assert_int_equal(op.rsp_operation, BLKIF_OP_WRITE_BARRIER);
    r = indirect(BLKIF_OP_INDIRECT, 0, 8);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = indirect(BLKIF_OP_READ, 0, 0);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = indirect(BLKIF_OP_READ, 0, 257);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = indirect(BLKIF_OP_READ, 0, 65535);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);

    dev.max_indirect_segments = 32;
    r = indirect(BLKIF_OP_READ, 0, 32);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);
    r = indirect(BLKIF_OP_READ, 0, 33);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);

    dev.max_indirect_segments = 0; /* not offered */
    r = indirect(BLKIF_OP_READ, 0, 8);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);

    dev = dev_default();
    dev.read_only = true;
    r = indirect(BLKIF_OP_WRITE, 0, 8);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_ERROR);
    r = indirect(BLKIF_OP_READ, 0, 8);
    assert_int_equal(parse(state, &r, &dev, &op), BLKIF_RSP_OKAY);

    /* Phase 2 refuses an op that did not pass phase 1 as indirect. */
    struct blkif_request_segment segs[1];
    const char *why;
    fill_segs(segs, 1);
    struct blkif_req_copy d = rw(BLKIF_OP_READ, 0, 1);
    assert_int_equal(parse(state, &d, &dev, &op), BLKIF_RSP_OKAY);
    assert_int_equal(blkif_req_parse_indirect(&op, &dev, segs, &why), BLKIF_RSP_ERROR);
}

/* The layouts, byte by byte, independent of the structs in blkif_abi.c. */
static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void test_x86_32_offsets(void **state)
{
    (void)state;
    unsigned char slot[128];
    struct blkif_req_copy c;
    uint64_t id = 0xdeadbeefcafef00dull, sector = 0x0102030405060708ull;
    uint32_t gref = 0x11223344;

    memset(slot, 0, sizeof(slot));
    slot[0] = BLKIF_OP_WRITE;
    slot[1] = 2;
    memcpy(slot + 4, &id, 8);
    memcpy(slot + 12, &sector, 8);
    memcpy(slot + 28, &gref, 4); /* second segment: 20 + 8 */
    slot[32] = 3;
    slot[33] = 6;
    blkif_req_copy_from_ring(BLKIF_ABI_X86_32, slot, &c);
    assert_int_equal(c.operation, BLKIF_OP_WRITE);
    assert_int_equal(c.nr_segments, 2);
    assert_true(c.id == id);
    assert_true(c.sector_number == sector);
    assert_int_equal(c.seg[1].gref, gref);
    assert_int_equal(c.seg[1].first_sect, 3);
    assert_int_equal(c.seg[1].last_sect, 6);

    memset(slot, 0, sizeof(slot));
    slot[0] = BLKIF_OP_DISCARD;
    slot[1] = BLKIF_DISCARD_SECURE;
    memcpy(slot + 4, &id, 8);
    memcpy(slot + 12, &sector, 8);
    memcpy(slot + 20, &id, 8);
    blkif_req_copy_from_ring(BLKIF_ABI_X86_32, slot, &c);
    assert_true(c.discard_nr_sectors == id);
    assert_int_equal(c.discard_flag, BLKIF_DISCARD_SECURE);

    memset(slot, 0, sizeof(slot));
    slot[0] = BLKIF_OP_INDIRECT;
    slot[1] = BLKIF_OP_READ;
    slot[2] = 0x00;
    slot[3] = 0x01; /* 256 segments, little-endian */
    memcpy(slot + 4, &id, 8);
    memcpy(slot + 24 + 4 * 7, &gref, 4);
    blkif_req_copy_from_ring(BLKIF_ABI_X86_32, slot, &c);
    assert_int_equal(c.indirect_nr_segments, 256);
    assert_true(c.id == id);
    assert_int_equal(c.indirect_grefs[7], gref);

    /* Response: id at 0, operation at 8, status at 10, 12 bytes, pad zeroed. */
    memset(slot, 0xff, sizeof(slot));
    blkif_rsp_to_ring(BLKIF_ABI_X86_32, slot, id, BLKIF_OP_READ, BLKIF_RSP_ERROR);
    assert_true(get64(slot) == id);
    assert_int_equal(slot[8], BLKIF_OP_READ);
    assert_int_equal(slot[9], 0);
    assert_int_equal((int16_t)(slot[10] | slot[11] << 8), BLKIF_RSP_ERROR);
    assert_int_equal(slot[12], 0xff); /* the next bytes are not the response's */
}

static void test_x86_64_offsets(void **state)
{
    (void)state;
    unsigned char slot[128];
    struct blkif_req_copy c;
    uint64_t id = 0xdeadbeefcafef00dull, sector = 0x0102030405060708ull;
    uint32_t gref = 0x55667788;

    memset(slot, 0, sizeof(slot));
    slot[0] = BLKIF_OP_READ;
    slot[1] = 11;
    memcpy(slot + 8, &id, 8);
    memcpy(slot + 16, &sector, 8);
    memcpy(slot + 24 + 8 * 10, &gref, 4);
    slot[24 + 8 * 10 + 5] = 7;
    blkif_req_copy_from_ring(BLKIF_ABI_X86_64, slot, &c);
    assert_true(c.id == id);
    assert_true(c.sector_number == sector);
    assert_int_equal(c.seg[10].gref, gref);
    assert_int_equal(c.seg[10].last_sect, 7);

    memset(slot, 0, sizeof(slot));
    slot[0] = BLKIF_OP_INDIRECT;
    slot[1] = BLKIF_OP_WRITE;
    slot[2] = 9;
    memcpy(slot + 8, &id, 8);
    memcpy(slot + 16, &sector, 8);
    memcpy(slot + 28, &gref, 4);
    blkif_req_copy_from_ring(BLKIF_ABI_X86_64, slot, &c);
    assert_int_equal(c.indirect_op, BLKIF_OP_WRITE);
    assert_int_equal(c.indirect_nr_segments, 9);
    assert_int_equal(c.indirect_grefs[0], gref);

    memset(slot, 0, sizeof(slot));
    slot[0] = BLKIF_OP_DISCARD;
    memcpy(slot + 24, &sector, 8);
    blkif_req_copy_from_ring(BLKIF_ABI_X86_64, slot, &c);
    assert_true(c.discard_nr_sectors == sector);

    memset(slot, 0xff, sizeof(slot));
    blkif_rsp_to_ring(BLKIF_ABI_X86_64, slot, id, BLKIF_OP_WRITE, BLKIF_RSP_EOPNOTSUPP);
    assert_true(get64(slot) == id);
    assert_int_equal(slot[8], BLKIF_OP_WRITE);
    assert_int_equal(slot[9], 0);
    assert_int_equal((int16_t)(slot[10] | slot[11] << 8), BLKIF_RSP_EOPNOTSUPP);
    for (int i = 12; i < 16; i++)
        assert_int_equal(slot[i], 0); /* trailing padding: no stale bytes */
    assert_int_equal(slot[16], 0xff);
}

static void test_protocol_and_ring_geometry(void **state)
{
    (void)state;
    enum blkif_abi abi;
    assert_int_equal(blkif_abi_from_protocol(NULL, &abi), 0);
    assert_int_equal(abi, BLKIF_ABI_X86_64);
    assert_int_equal(blkif_abi_from_protocol("", &abi), 0);
    assert_int_equal(abi, BLKIF_ABI_X86_64);
    assert_int_equal(blkif_abi_from_protocol("x86_32-abi", &abi), 0);
    assert_int_equal(abi, BLKIF_ABI_X86_32);
    assert_int_equal(blkif_abi_from_protocol("x86_64-abi", &abi), 0);
    assert_int_equal(abi, BLKIF_ABI_X86_64);
    assert_int_equal(blkif_abi_from_protocol("arm-abi", &abi), -1);

    assert_int_equal(blkif_abi_slot_size(BLKIF_ABI_X86_64), 112);
    assert_int_equal(blkif_abi_slot_size(BLKIF_ABI_X86_32), 108);
    /* The values Linux's __CONST_RING_SIZE gives for 1, 2 and 16 pages. */
    assert_int_equal(blkif_abi_ring_slots(BLKIF_ABI_X86_64, 4096), 32);
    assert_int_equal(blkif_abi_ring_slots(BLKIF_ABI_X86_32, 4096), 32);
    assert_int_equal(blkif_abi_ring_slots(BLKIF_ABI_X86_64, 8192), 64);
    assert_int_equal(blkif_abi_ring_slots(BLKIF_ABI_X86_64, 65536), 512);
    assert_int_equal(blkif_abi_ring_slots(BLKIF_ABI_X86_32, 65536), 512);
    assert_int_equal(blkif_abi_ring_slots(BLKIF_ABI_X86_64, 64), 0);

    unsigned char ring[4096];
    assert_ptr_equal(blkif_abi_slot(BLKIF_ABI_X86_32, ring, 32, 33), ring + 64 + 108);
    assert_ptr_equal(blkif_abi_slot(BLKIF_ABI_X86_64, ring, 32, 31), ring + 64 + 31 * 112);
}

/* The private copy does not change when the guest rewrites the slot. */
static void test_copy_is_private(void **state)
{
    enum blkif_abi abi = *(enum blkif_abi *)*state;
    unsigned char slot[128];
    struct blkif_req_copy c, r = rw(BLKIF_OP_READ, 8, 1);
    blkif_req_to_ring(abi, slot, &r);
    blkif_req_copy_from_ring(abi, slot, &c);
    memset(slot, 0xff, sizeof(slot));
    assert_int_equal(c.nr_segments, 1);
    assert_int_equal(c.sector_number, 8);
    assert_int_equal(c.seg[0].last_sect, 7);
}

#define BOTH(f) cmocka_unit_test_prestate(f, &abi_64), cmocka_unit_test_prestate(f, &abi_32)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_read_ok),
        BOTH(test_write_ok_and_read_only),
        BOTH(test_unknown_ops),
        BOTH(test_segment_count),
        BOTH(test_sector_bounds_in_page),
        BOTH(test_range_past_end),
        BOTH(test_large_logical_sectors),
        BOTH(test_flush_and_barrier),
        BOTH(test_discard),
        BOTH(test_indirect),
        BOTH(test_indirect_header_rules),
        BOTH(test_copy_is_private),
        cmocka_unit_test(test_x86_32_offsets),
        cmocka_unit_test(test_x86_64_offsets),
        cmocka_unit_test(test_protocol_and_ring_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
