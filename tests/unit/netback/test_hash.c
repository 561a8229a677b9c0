/* Control-ring hashing: the Toeplitz hash against the published RSS
 * verification vectors and xen/io/netif.h's reference code, frame hashing
 * by header type, and every control request's answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define XEN_NETIF_DEFINE_TOEPLITZ /* the header's reference code, as the oracle */
#include "hash.h"

/* The key of Microsoft's RSS verification suite. */
static const uint8_t KEY[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
/* 66.9.149.187:2794 -> 161.142.100.80:1766 */
static const uint8_t TUPLE[12] = {66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6};

static void test_toeplitz_vectors(void **state)
{
    (void)state;
    assert_int_equal(hash_toeplitz(KEY, 40, TUPLE, 8), 0x323e8fc2);
    assert_int_equal(hash_toeplitz(KEY, 40, TUPLE, 12), 0x51ccc178);
    /* agrees with the reference code for other inputs and short keys */
    uint8_t buf[36];
    for (int i = 0; i < 36; i++)
        buf[i] = (uint8_t)(i * 37 + 5);
    for (unsigned keylen = 0; keylen <= 40; keylen += 5)
        for (unsigned len = 0; len <= 36; len += 4)
            assert_int_equal(hash_toeplitz(KEY, keylen, buf, len),
                             xen_netif_toeplitz_hash(KEY, keylen, buf, len));
}

/* An Ethernet + IPv4 + TCP frame carrying TUPLE. */
static size_t tcp4_frame(uint8_t *f)
{
    memset(f, 0, 128);
    f[12] = 0x08;
    f[14] = 0x45;
    f[14 + 9] = 6;
    memcpy(f + 14 + 12, TUPLE, 8);
    memcpy(f + 34, TUPLE + 8, 4);
    f[34 + 12] = 0x50;
    return 14 + 20 + 20 + 10;
}

static struct hash_cfg toeplitz(uint32_t flags)
{
    struct hash_cfg c;
    memset(&c, 0, sizeof(c));
    c.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    c.flags = flags;
    memcpy(c.key, KEY, 40);
    return c;
}

static void test_frame_hash(void **state)
{
    (void)state;
    uint8_t f[128];
    size_t n = tcp4_frame(f);
    uint32_t v;
    uint8_t type;
    struct hash_cfg c = toeplitz(HASH_TYPES_ALL);
    assert_true(hash_frame(&c, f, n, &v, &type));
    assert_int_equal(v, 0x51ccc178);
    assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);

    c = toeplitz(XEN_NETIF_CTRL_HASH_TYPE_IPV4); /* addresses only */
    assert_true(hash_frame(&c, f, n, &v, &type));
    assert_int_equal(v, 0x323e8fc2);
    assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);

    c = toeplitz(XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
    assert_false(hash_frame(&c, f, n, &v, &type)); /* IPv4 not enabled */
    c = toeplitz(0);
    assert_false(hash_frame(&c, f, n, &v, &type));
    c = toeplitz(HASH_TYPES_ALL);
    c.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
    assert_false(hash_frame(&c, f, n, &v, &type));
    c = toeplitz(HASH_TYPES_ALL);
    f[12] = 0x08, f[13] = 0x06; /* ARP */
    assert_false(hash_frame(&c, f, n, &v, &type));
    assert_false(hash_frame(&c, f, 10, &v, &type));
}

static void test_queue_choice(void **state)
{
    (void)state;
    struct hash_cfg c = toeplitz(HASH_TYPES_ALL);
    assert_int_equal(hash_queue(&c, 7, 4), 3); /* no table: modulo */
    c.size = 2;
    c.mapping[0] = 2;
    c.mapping[1] = 1;
    assert_int_equal(hash_queue(&c, 7, 4), 1);
    assert_int_equal(hash_queue(&c, 8, 4), 2);
}

/* A fake guest memory for SET_HASH_KEY / SET_HASH_MAPPING. */
static uint8_t page[4096];
static int fetches;
static int fetch(void *arg, uint32_t gref, void *buf, size_t len)
{
    (void)arg;
    fetches++;
    if (gref != 77 || len > sizeof(page))
        return -1;
    memcpy(buf, page, len);
    return 0;
}

static uint32_t req(struct hash_cfg *c, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
                    uint32_t *data)
{
    struct xen_netif_ctrl_request r = {.id = 1, .type = type, .data = {d0, d1, d2}};
    return hash_ctrl_request(c, &r, 4, fetch, NULL, data);
}

static void test_ctrl_requests(void **state)
{
    (void)state;
    struct hash_cfg c, before;
    memset(&c, 0, sizeof(c));
    uint32_t data;

    /* flags need an algorithm first */
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 9, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
                         XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(data, HASH_TYPES_ALL);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1u << 4, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(
        req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0, &data),
        XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(c.flags, XEN_NETIF_CTRL_HASH_TYPE_IPV4);

    /* the key: copied from the grant, the rest zero; too long or a bad
     * grant changes nothing */
    memcpy(page, KEY, 40);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 77, 16, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_memory_equal(c.key, KEY, 16);
    for (int i = 16; i < 40; i++)
        assert_int_equal(c.key[i], 0);
    before = c;
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 77, 41, 0, &data),
                     XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 78, 40, 0, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_memory_equal(&c, &before, sizeof(c));

    /* the mapping table */
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(data, HASH_MAPPING_MAX);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 8, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    uint32_t entries[4] = {3, 2, 1, 0};
    memcpy(page, entries, sizeof(entries));
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 77, 4, 4, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(c.mapping[4], 3);
    assert_int_equal(c.mapping[7], 0);
    before = c;
    fetches = 0;
    /* past the table, an offset that wraps, more than a page: no fetch */
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 77, 4, 5, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 77, 2, 0xffffffffu, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 77, 0xffffffffu, 1, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(fetches, 0);
    /* an entry naming a queue that does not exist: nothing applied */
    entries[2] = 4;
    memcpy(page, entries, sizeof(entries));
    assert_int_equal(req(&c, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 77, 4, 0, &data),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_memory_equal(&c, &before, sizeof(c));

    /* what is not offered */
    uint16_t unsupported[] = {
        XEN_NETIF_CTRL_TYPE_INVALID, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE,
        XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 999};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        assert_int_equal(req(&c, unsupported[i], 0, 0, 0, &data),
                         XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toeplitz_vectors),
        cmocka_unit_test(test_frame_hash),
        cmocka_unit_test(test_queue_choice),
        cmocka_unit_test(test_ctrl_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
