/* Locating the transport checksum in frames a guest sends with
 * NETTXF_csum_blank: IPv4 and IPv6, TCP and UDP, tags and extension
 * headers; everything else refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csum_setup.h"

/* Builds Ethernet [+ tag] + L3 + L4 headers + 32 bytes of payload. */
static size_t build(uint8_t *f, bool tag, bool v6, uint8_t proto, unsigned ip_opts_words,
                    unsigned tcp_opts_words)
{
    size_t n = 12;
    memset(f, 0, 256);
    if (tag) {
        f[n++] = 0x81, f[n++] = 0x00, f[n++] = 0x00, f[n++] = 10;
    }
    f[n++] = v6 ? 0x86 : 0x08;
    f[n++] = v6 ? 0xdd : 0x00;
    if (v6) {
        f[n] = 0x60;
        f[n + 6] = proto;
        n += 40;
    } else {
        f[n] = (uint8_t)(0x40 | (5 + ip_opts_words));
        f[n + 9] = proto;
        n += 20 + ip_opts_words * 4;
    }
    if (proto == 6) {
        f[n + 12] = (uint8_t)((5 + tcp_opts_words) << 4);
        n += 20 + tcp_opts_words * 4;
    } else {
        n += 8;
    }
    return n + 32;
}

static void test_ipv4_tcp_udp(void **state)
{
    (void)state;
    uint8_t f[256];
    struct csum_loc l;
    size_t n = build(f, false, false, 6, 0, 3);
    assert_int_equal(csum_locate(f, n, &l), 0);
    assert_int_equal(l.csum_start, 34);
    assert_int_equal(l.csum_offset, 16);
    assert_int_equal(l.hdr_len, 34 + 32);
    assert_int_equal(l.l4proto, 6);
    assert_false(l.ipv6);

    n = build(f, false, false, 17, 2, 0);
    assert_int_equal(csum_locate(f, n, &l), 0);
    assert_int_equal(l.csum_start, 34 + 8);
    assert_int_equal(l.csum_offset, 6);
    assert_int_equal(l.hdr_len, 42 + 8);
}

static void test_tagged_and_ipv6(void **state)
{
    (void)state;
    uint8_t f[256];
    struct csum_loc l;
    size_t n = build(f, true, false, 6, 0, 0);
    assert_int_equal(csum_locate(f, n, &l), 0);
    assert_int_equal(l.csum_start, 38);

    n = build(f, false, true, 6, 0, 0);
    assert_int_equal(csum_locate(f, n, &l), 0);
    assert_int_equal(l.csum_start, 54);
    assert_true(l.ipv6);
    assert_int_equal(l.hdr_len, 74);
}

static void test_ipv6_extension_headers(void **state)
{
    (void)state;
    /* IPv6 -> hop-by-hop (8 bytes) -> fragment header (whole packet) -> UDP */
    uint8_t f[256] = {0};
    size_t n = 12;
    f[n++] = 0x86, f[n++] = 0xdd;
    f[n] = 0x60, f[n + 6] = 0; /* next: hop-by-hop */
    n += 40;
    f[n] = 44, f[n + 1] = 0; /* next: fragment, length 8 */
    n += 8;
    f[n] = 17; /* next: UDP; offset 0, M 0 */
    n += 8;
    size_t udp = n;
    n += 8 + 16;
    struct csum_loc l;
    assert_int_equal(csum_locate(f, n, &l), 0);
    assert_int_equal(l.csum_start, udp);
    assert_int_equal(l.l4proto, 17);

    f[udp - 8 + 3] = 1; /* more fragments: refused */
    assert_int_equal(csum_locate(f, n, &l), -1);
}

static void test_refused(void **state)
{
    (void)state;
    uint8_t f[256];
    struct csum_loc l;
    size_t n = build(f, false, false, 1, 0, 0); /* ICMP */
    assert_int_equal(csum_locate(f, n, &l), -1);
    n = build(f, false, false, 6, 0, 0);
    assert_int_equal(csum_locate(f, 14 + 20 + 19, &l), -1); /* TCP header cut */
    f[14 + 6] = 0x20;                                       /* IPv4 more fragments */
    assert_int_equal(csum_locate(f, n, &l), -1);
    n = build(f, false, false, 6, 0, 0);
    f[14] = 0x44; /* IHL 4 */
    assert_int_equal(csum_locate(f, n, &l), -1);
    n = build(f, false, false, 6, 0, 0);
    f[14 + 20 + 12] = 0x40; /* TCP data offset 4 */
    assert_int_equal(csum_locate(f, n, &l), -1);
    n = build(f, false, false, 6, 0, 0);
    f[12] = 0x08, f[13] = 0x06; /* ARP */
    assert_int_equal(csum_locate(f, n, &l), -1);
    assert_int_equal(csum_locate(f, 10, &l), -1);

    /* an endless IPv6 extension chain */
    uint8_t g[256] = {0};
    g[12] = 0x86, g[13] = 0xdd, g[14] = 0x60, g[14 + 6] = 60;
    for (size_t off = 54; off + 8 <= sizeof(g); off += 8)
        g[off] = 60;
    assert_int_equal(csum_locate(g, sizeof(g), &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_tcp_udp),
        cmocka_unit_test(test_tagged_and_ipv6),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
