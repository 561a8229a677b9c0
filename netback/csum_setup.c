/* Transport header location for checksum and GSO offload; see csum_setup.h. */
#include "csum_setup.h"

#define ETH_HLEN      14
#define TPID_8021Q    0x8100
#define ETHERTYPE_IP  0x0800
#define ETHERTYPE_IP6 0x86dd
#define PROTO_TCP     6
#define PROTO_UDP     17
/* IPv6 extension headers are chained; a hostile chain is cut here. */
#define MAX_IPV6_EXT 8

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Skips IPv6 extension headers from *off; *nexthdr is updated. Returns -1
 * for a fragment other than a whole packet, or a truncated chain. */
static int skip_ipv6_ext(const uint8_t *f, size_t len, size_t *off, uint8_t *nexthdr)
{
    for (int i = 0; i < MAX_IPV6_EXT; i++) {
        size_t hl;
        switch (*nexthdr) {
        case 0:  /* hop-by-hop */
        case 43: /* routing */
        case 60: /* destination options */
            if (*off + 2 > len)
                return -1;
            hl = ((size_t)f[*off + 1] + 1) * 8;
            break;
        case 44: /* fragment: only a whole packet (offset 0, no more fragments) */
            if (*off + 8 > len || (be16(f + *off + 2) & 0xfff9) != 0)
                return -1;
            hl = 8;
            break;
        case 51: /* authentication header */
            if (*off + 2 > len)
                return -1;
            hl = ((size_t)f[*off + 1] + 2) * 4;
            break;
        default:
            return 0;
        }
        if (*off + hl > len)
            return -1;
        *nexthdr = f[*off];
        *off += hl;
    }
    return -1;
}

int csum_locate(const uint8_t *f, size_t len, struct csum_loc *out)
{
    if (len < ETH_HLEN)
        return -1;
    size_t off = 12;
    uint16_t type = be16(f + off);
    if (type == TPID_8021Q) {
        if (len < ETH_HLEN + 4)
            return -1;
        off += 4;
        type = be16(f + off);
    }
    off += 2;

    uint8_t proto;
    bool ipv6;
    if (type == ETHERTYPE_IP) {
        if (off + 20 > len || (f[off] >> 4) != 4)
            return -1;
        size_t ihl = (size_t)(f[off] & 0x0f) * 4;
        if (ihl < 20 || off + ihl > len)
            return -1;
        /* A fragment (more fragments, or an offset) has no whole L4 header
         * to checksum. */
        if (be16(f + off + 6) & 0x3fff)
            return -1;
        proto = f[off + 9];
        off += ihl;
        ipv6 = false;
    } else if (type == ETHERTYPE_IP6) {
        if (off + 40 > len || (f[off] >> 4) != 6)
            return -1;
        proto = f[off + 6];
        off += 40;
        if (skip_ipv6_ext(f, len, &off, &proto) < 0)
            return -1;
        ipv6 = true;
    } else {
        return -1;
    }

    size_t l4len;
    uint16_t csum_offset;
    if (proto == PROTO_TCP) {
        if (off + 20 > len)
            return -1;
        l4len = (size_t)(f[off + 12] >> 4) * 4;
        if (l4len < 20 || off + l4len > len)
            return -1;
        csum_offset = 16;
    } else if (proto == PROTO_UDP) {
        if (off + 8 > len)
            return -1;
        l4len = 8;
        csum_offset = 6;
    } else {
        return -1;
    }
    /* Offsets fit 16 bits: the headers lie within the first 64 KiB. */
    if (off + l4len > UINT16_MAX)
        return -1;
    *out = (struct csum_loc){.csum_start = (uint16_t)off,
                             .csum_offset = csum_offset,
                             .hdr_len = (uint16_t)(off + l4len),
                             .l4proto = proto,
                             .ipv6 = ipv6};
    return 0;
}
