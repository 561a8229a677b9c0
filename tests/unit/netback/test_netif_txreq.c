/* Guest TX request validation: one test per rule, each checking the
 * verdict (and so whether the vif fails or the packet is only dropped) and
 * which slots are consumed and answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netif_txreq.h"

/* A private copy of ring slots, built request by request. */
struct ring {
    union netif_tx_slot s[64];
    unsigned n;
};

static void req(struct ring *r, uint32_t gref, uint16_t offset, uint16_t flags, uint16_t size)
{
    assert_true(r->n < 64);
    r->s[r->n].req = (netif_tx_request_t){
        .gref = gref, .offset = offset, .flags = flags, .id = (uint16_t)(100 + r->n), .size = size};
    r->n++;
}

static void extra_gso(struct ring *r, uint8_t more, uint16_t size, uint8_t type)
{
    memset(&r->s[r->n], 0, sizeof(r->s[0]));
    r->s[r->n].extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
    r->s[r->n].extra.flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
    r->s[r->n].extra.u.gso.size = size;
    r->s[r->n].extra.u.gso.type = type;
    r->n++;
}

static void extra_raw(struct ring *r, uint8_t type, uint8_t more)
{
    memset(&r->s[r->n], 0, sizeof(r->s[0]));
    r->s[r->n].extra.type = type;
    r->s[r->n].extra.flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
    r->n++;
}

static enum netif_txreq_rule parse(const struct ring *r, struct netif_txpkt *p)
{
    unsigned n = r->n < NETIF_TXREQ_MAX_SLOTS ? r->n : NETIF_TXREQ_MAX_SLOTS;
    return netif_txreq_parse(r->s, n, r->n, p);
}

/* A packet of total bytes over nfrags slots of 1000 bytes after the first. */
static void chain(struct ring *r, unsigned following, uint16_t first_share)
{
    req(r, 1, 0, following ? NETTXF_more_data : 0, (uint16_t)(first_share + following * 1000));
    for (unsigned i = 0; i < following; i++)
        req(r, 2 + i, 0, i + 1 < following ? NETTXF_more_data : 0, 1000);
}

static void test_single_slot_packet(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 7, 128, NETTXF_csum_blank | NETTXF_data_validated, 1514);
    req(&r, 9, 0, 0, 60); /* the next packet: not this one's business */
    struct netif_txpkt p;
    assert_int_equal(parse(&r, &p), NETIF_TXREQ_OK);
    assert_int_equal(p.kind, NETIF_TXREQ_PACKET);
    assert_int_equal(p.slots, 1);
    assert_int_equal(p.nr_frags, 1);
    assert_int_equal(p.len, 1514);
    assert_int_equal(p.flags, NETTXF_csum_blank | NETTXF_data_validated);
    assert_int_equal(p.frags[0].gref, 7);
    assert_int_equal(p.frags[0].offset, 128);
    assert_int_equal(p.frags[0].size, 1514);
    assert_int_equal(p.frags[0].id, 100);
    assert_int_equal(p.gso.type, XEN_NETIF_GSO_TYPE_NONE);
}

static void test_fragment_chain(void **state)
{
    (void)state;
    struct ring r = {0};
    chain(&r, 3, 200);
    struct netif_txpkt p;
    assert_int_equal(parse(&r, &p), NETIF_TXREQ_OK);
    assert_int_equal(p.slots, 4);
    assert_int_equal(p.nr_frags, 4);
    assert_int_equal(p.len, 3200);
    assert_int_equal(p.frags[0].size, 200); /* the first's share: total - others */
    for (unsigned i = 1; i < 4; i++) {
        assert_int_equal(p.frags[i].size, 1000);
        assert_int_equal(p.frags[i].gref, 1 + i);
        assert_int_equal(p.frags[i].id, 100 + i);
    }
}

static void test_gso_and_hash_extras(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 0, NETTXF_extra_info | NETTXF_more_data | NETTXF_csum_blank, 3000);
    extra_gso(&r, 1, 1448, XEN_NETIF_GSO_TYPE_TCPV6);
    memset(&r.s[r.n], 0, sizeof(r.s[0]));
    r.s[r.n].extra.type = XEN_NETIF_EXTRA_TYPE_HASH;
    r.s[r.n].extra.u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    r.s[r.n].extra.u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    uint32_t v = 0xdeadbeef;
    memcpy(r.s[r.n].extra.u.hash.value, &v, 4);
    r.n++;
    req(&r, 2, 0, 0, 1000);
    struct netif_txpkt p;
    assert_int_equal(parse(&r, &p), NETIF_TXREQ_OK);
    assert_int_equal(p.slots, 4);
    assert_int_equal(p.nr_extras, 2);
    assert_int_equal(p.nr_frags, 2);
    assert_int_equal(p.frags[0].size, 2000);
    assert_int_equal(p.frags[1].id, 103);
    assert_int_equal(p.gso.type, XEN_NETIF_GSO_TYPE_TCPV6);
    assert_int_equal(p.gso.size, 1448);
    assert_true(p.hash.present);
    assert_int_equal(p.hash.type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
    assert_int_equal(p.hash.value, 0xdeadbeef);
}

static void test_repeated_extra_type_replaces(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 0, NETTXF_extra_info, 1514);
    extra_gso(&r, 1, 0, 99); /* would be fatal if it counted */
    extra_gso(&r, 0, 1400, XEN_NETIF_GSO_TYPE_TCPV4);
    struct netif_txpkt p;
    assert_int_equal(parse(&r, &p), NETIF_TXREQ_OK);
    assert_int_equal(p.gso.size, 1400);
    assert_int_equal(p.slots, 3);
}

static void test_multicast_requests(void **state)
{
    (void)state;
    static const uint8_t group[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    for (int del = 0; del < 2; del++) {
        struct ring r = {0};
        req(&r, 1, 0, NETTXF_extra_info, 0);
        extra_raw(&r, del ? XEN_NETIF_EXTRA_TYPE_MCAST_DEL : XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0);
        memcpy(r.s[1].extra.u.mcast.addr, group, 6);
        struct netif_txpkt p;
        assert_int_equal(parse(&r, &p), NETIF_TXREQ_OK);
        assert_int_equal(p.kind, del ? NETIF_TXREQ_MCAST_DEL : NETIF_TXREQ_MCAST_ADD);
        assert_int_equal(p.slots, 2);
        assert_int_equal(p.frags[0].id, 100);
        assert_memory_equal(p.mcast_addr, group, 6);
    }
}

/* --- fatal rules --- */

static void expect(const struct ring *r, enum netif_txreq_rule want, bool fatal)
{
    struct netif_txpkt p;
    enum netif_txreq_rule got = parse(r, &p);
    if (got != want)
        fail_msg("got rule %d (%s), want %d (%s)", got, netif_txreq_strerror(got), want,
                 netif_txreq_strerror(want));
    assert_int_equal(netif_txreq_fatal(got), fatal);
}

static void test_incomplete_packet(void **state)
{
    (void)state;
    struct ring r = {0};
    chain(&r, 3, 100);
    r.n = 3; /* the ring ends before the last fragment */
    expect(&r, NETIF_TXREQ_INCOMPLETE, true);
}

static void test_missing_extra(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 0, NETTXF_extra_info, 100);
    expect(&r, NETIF_TXREQ_MISSING_EXTRA, true);
    extra_gso(&r, 1, 1400, XEN_NETIF_GSO_TYPE_TCPV4); /* says more follow, none does */
    expect(&r, NETIF_TXREQ_MISSING_EXTRA, true);
}

static void test_bad_extra_type(void **state)
{
    (void)state;
    uint8_t types[] = {XEN_NETIF_EXTRA_TYPE_NONE, XEN_NETIF_EXTRA_TYPE_MAX, 0xff};
    for (size_t i = 0; i < sizeof(types); i++) {
        struct ring r = {0};
        req(&r, 1, 0, NETTXF_extra_info, 100);
        extra_raw(&r, types[i], 0);
        expect(&r, NETIF_TXREQ_BAD_EXTRA_TYPE, true);
    }
}

static void test_too_many_extras(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 0, NETTXF_extra_info, 100);
    for (int i = 0; i < 40; i++)
        extra_gso(&r, 1, 1400, XEN_NETIF_GSO_TYPE_TCPV4);
    expect(&r, NETIF_TXREQ_TOO_MANY_EXTRAS, true);
}

static void test_slot_limits(void **state)
{
    (void)state;
    /* The legacy limit: 18 slots after the first is fine. */
    struct ring r = {0};
    chain(&r, NETIF_TXREQ_LEGACY_SLOTS, 100);
    struct netif_txpkt p;
    assert_int_equal(parse(&r, &p), NETIF_TXREQ_OK);
    assert_int_equal(p.nr_frags, 19);

    /* One more: dropped, every slot consumed and answered. */
    memset(&r, 0, sizeof(r));
    chain(&r, NETIF_TXREQ_LEGACY_SLOTS + 1, 100);
    req(&r, 99, 0, 0, 60); /* next packet */
    assert_int_equal(parse(&r, &p), NETIF_TXREQ_SLOTS_DROP);
    assert_false(netif_txreq_fatal(NETIF_TXREQ_SLOTS_DROP));
    assert_int_equal(p.slots, 20);
    assert_int_equal(p.nr_frags, 20);
    for (unsigned i = 0; i < 20; i++)
        assert_int_equal(p.frags[i].id, 100 + i);

    /* Up to the fatal limit it is still only a drop... */
    memset(&r, 0, sizeof(r));
    chain(&r, NETIF_TXREQ_FATAL_SLOTS, 100);
    expect(&r, NETIF_TXREQ_SLOTS_DROP, false);
    /* ...past it the frontend is hostile. */
    memset(&r, 0, sizeof(r));
    chain(&r, NETIF_TXREQ_FATAL_SLOTS + 1, 100);
    expect(&r, NETIF_TXREQ_SLOTS_FATAL, true);
    /* A chain that never ends is caught at the same limit. */
    memset(&r, 0, sizeof(r));
    for (int i = 0; i < 64; i++)
        req(&r, 1, 0, NETTXF_more_data, 10);
    expect(&r, NETIF_TXREQ_SLOTS_FATAL, true);
}

static void test_cross_page(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 4000, 0, 97); /* 4000 + 97 = 4097 */
    expect(&r, NETIF_TXREQ_CROSS_PAGE, true);

    memset(&r, 0, sizeof(r));
    req(&r, 1, 4000, 0, 96); /* ends exactly at the page end: fine */
    expect(&r, NETIF_TXREQ_OK, false);

    memset(&r, 0, sizeof(r));
    req(&r, 1, 0, NETTXF_more_data, 1100);
    req(&r, 2, 3500, 0, 1000); /* a following slot past the page */
    expect(&r, NETIF_TXREQ_CROSS_PAGE, true);

    /* The first slot's share counts, not its (total) size field. */
    memset(&r, 0, sizeof(r));
    req(&r, 1, 4000, NETTXF_more_data, 1050); /* share 50 */
    req(&r, 2, 0, 0, 1000);
    expect(&r, NETIF_TXREQ_OK, false);
    memset(&r, 0, sizeof(r));
    req(&r, 1, 4000, NETTXF_more_data, 1100); /* share 100 */
    req(&r, 2, 0, 0, 1000);
    expect(&r, NETIF_TXREQ_CROSS_PAGE, true);
}

static void test_gso_rules(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 0, NETTXF_extra_info, 1514);
    extra_gso(&r, 0, 0, XEN_NETIF_GSO_TYPE_TCPV4);
    expect(&r, NETIF_TXREQ_GSO_SIZE_ZERO, true);

    uint8_t types[] = {XEN_NETIF_GSO_TYPE_NONE, 3, 0xff};
    for (size_t i = 0; i < sizeof(types); i++) {
        memset(&r, 0, sizeof(r));
        req(&r, 1, 0, NETTXF_extra_info, 1514);
        extra_gso(&r, 0, 1448, types[i]);
        expect(&r, NETIF_TXREQ_GSO_BAD_TYPE, true);
    }
}

/* --- drop rules --- */

static void test_size_chain(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 0, NETTXF_more_data, 1500);
    req(&r, 2, 0, NETTXF_more_data, 1000);
    req(&r, 3, 0, 0, 1000); /* 2000 > 1500 */
    req(&r, 4, 0, 0, 60);
    struct netif_txpkt p;
    assert_int_equal(parse(&r, &p), NETIF_TXREQ_SIZE_CHAIN);
    assert_false(netif_txreq_fatal(NETIF_TXREQ_SIZE_CHAIN));
    assert_int_equal(p.slots, 3);
    assert_int_equal(p.frags[2].id, 102);
    /* but a page crossing in the rest of a dropped chain is still fatal */
    r.s[2].req.offset = 3500;
    expect(&r, NETIF_TXREQ_CROSS_PAGE, true);
}

static void test_too_short(void **state)
{
    (void)state;
    struct ring r = {0};
    req(&r, 1, 0, 0, 13);
    expect(&r, NETIF_TXREQ_TOO_SHORT, false);
    /* the Ethernet header must be in the first slot */
    memset(&r, 0, sizeof(r));
    req(&r, 1, 0, NETTXF_more_data, 1010);
    req(&r, 2, 0, 0, 1000);
    expect(&r, NETIF_TXREQ_TOO_SHORT, false);
    memset(&r, 0, sizeof(r));
    req(&r, 1, 0, 0, 14);
    expect(&r, NETIF_TXREQ_OK, false);
}

static void test_empty_input(void **state)
{
    (void)state;
    struct netif_txpkt p;
    union netif_tx_slot s[1] = {0};
    assert_int_equal(netif_txreq_parse(s, 0, 0, &p), NETIF_TXREQ_INCOMPLETE);
}

static void test_ring_overflow(void **state)
{
    (void)state;
    unsigned size = __CONST_RING_SIZE(netif_tx, 4096);
    assert_int_equal(size, 256);
    assert_false(netif_tx_ring_overflow(10, 10));
    assert_false(netif_tx_ring_overflow(10 + size, 10));
    assert_true(netif_tx_ring_overflow(11 + size, 10));
    assert_true(netif_tx_ring_overflow(5, 10)); /* producer behind the consumer */
    /* across the wrap of the 32-bit indexes */
    assert_false(netif_tx_ring_overflow(100, 0xffffff80u)); /* 228 ahead */
    assert_true(netif_tx_ring_overflow(200, 0xffffff80u));  /* 328 ahead */
}

static void test_messages(void **state)
{
    (void)state;
    for (int r = NETIF_TXREQ_OK; r <= NETIF_TXREQ_TOO_SHORT; r++) {
        const char *m = netif_txreq_strerror(r);
        assert_non_null(m);
        assert_true(strlen(m) > 4);
        for (int o = NETIF_TXREQ_OK; o < r; o++)
            assert_string_not_equal(m, netif_txreq_strerror(o));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_slot_packet),
        cmocka_unit_test(test_fragment_chain),
        cmocka_unit_test(test_gso_and_hash_extras),
        cmocka_unit_test(test_repeated_extra_type_replaces),
        cmocka_unit_test(test_multicast_requests),
        cmocka_unit_test(test_incomplete_packet),
        cmocka_unit_test(test_missing_extra),
        cmocka_unit_test(test_bad_extra_type),
        cmocka_unit_test(test_too_many_extras),
        cmocka_unit_test(test_slot_limits),
        cmocka_unit_test(test_cross_page),
        cmocka_unit_test(test_gso_rules),
        cmocka_unit_test(test_size_chain),
        cmocka_unit_test(test_too_short),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_ring_overflow),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
