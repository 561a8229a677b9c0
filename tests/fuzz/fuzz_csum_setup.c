/* Fuzzes the location of a guest frame's transport header (netback/
 * csum_setup.h): the guest sends a frame with NETTXF_csum_blank and netback
 * works out csum_start, csum_offset and hdr_len for the tap from the
 * headers the guest wrote.
 *
 * Input: the frame.
 *
 * Invariants: no read outside the frame (ASan: the buffer is exactly the
 * frame); an accepted frame's checksum field and headers lie inside it;
 * the offsets agree with the frame's own Ethernet type, IP version and
 * protocol, and with the TCP header length; an IPv4 fragment is never
 * accepted. */
#include <stdlib.h>
#include <string.h>

#include "csum_setup.h"
#include "fuzz_input.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void check_located(const uint8_t *f, size_t len, const struct csum_loc *loc)
{
    size_t l3 = be16(f + 12) == 0x8100 ? 18 : 14;

    FUZZ_CHECK(loc->hdr_len <= len, "headers end at %u of a %zu-byte frame", loc->hdr_len, len);
    FUZZ_CHECK((size_t)loc->csum_start + loc->csum_offset + 2 <= loc->hdr_len,
               "checksum at %u+%u outside the headers (%u)", loc->csum_start, loc->csum_offset,
               loc->hdr_len);
    FUZZ_CHECK(be16(f + l3 - 2) == (loc->ipv6 ? 0x86dd : 0x0800), "ethertype 0x%04x for ipv6 %d",
               be16(f + l3 - 2), loc->ipv6);
    FUZZ_CHECK((f[l3] >> 4) == (loc->ipv6 ? 6 : 4), "IP version %u", f[l3] >> 4);
    if (loc->ipv6) {
        FUZZ_CHECK(loc->csum_start >= l3 + 40, "IPv6 transport header at %u", loc->csum_start);
    } else {
        FUZZ_CHECK(loc->csum_start == l3 + (f[l3] & 0x0f) * 4u, "IPv4 header length %u, L4 at %u",
                   (f[l3] & 0x0f) * 4u, loc->csum_start);
        FUZZ_CHECK(f[l3 + 9] == loc->l4proto, "protocol %u reported as %u", f[l3 + 9],
                   loc->l4proto);
        FUZZ_CHECK((be16(f + l3 + 6) & 0x3fff) == 0, "an IPv4 fragment accepted");
    }
    if (loc->l4proto == 6) {
        FUZZ_CHECK(loc->csum_offset == 16, "TCP checksum offset %u", loc->csum_offset);
        FUZZ_CHECK(loc->hdr_len == loc->csum_start + (f[loc->csum_start + 12] >> 4) * 4u &&
                       loc->hdr_len >= loc->csum_start + 20u,
                   "TCP header of %u bytes", loc->hdr_len - loc->csum_start);
    } else {
        FUZZ_CHECK(loc->l4proto == 17 && loc->csum_offset == 6 &&
                       loc->hdr_len == loc->csum_start + 8u,
                   "protocol %u, checksum offset %u, header %u", loc->l4proto, loc->csum_offset,
                   loc->hdr_len - loc->csum_start);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy of exactly the frame's size, so ASan sees overreads. */
    uint8_t *f = malloc(size ? size : 1);
    struct csum_loc loc;

    if (!f)
        abort();
    memcpy(f, data, size);
    memset(&loc, 0xa5, sizeof(loc));
    if (csum_locate(f, size, &loc) == 0)
        check_located(f, size, &loc);
    free(f);
    return 0;
}
