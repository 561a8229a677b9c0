/* Where a frame's transport header and checksum are. A guest's frame comes
 * with NETTXF_csum_blank but no offsets, and the tap's virtio_net_hdr needs
 * csum_start/csum_offset (and hdr_len for GSO): netback finds them in the
 * headers, as Linux netback does (skb_checksum_setup). Pure. */
#ifndef PVBACK_NETBACK_CSUM_SETUP_H
#define PVBACK_NETBACK_CSUM_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct csum_loc {
    uint16_t csum_start;  /* offset of the TCP/UDP header in the frame */
    uint16_t csum_offset; /* of the checksum field in that header: 16 (TCP), 6 (UDP) */
    uint16_t hdr_len;     /* Ethernet + IP + transport headers */
    uint8_t l4proto;      /* 6 or 17 */
    bool ipv6;
};

/* Parses Ethernet (one optional 802.1Q tag), IPv4 or IPv6 (with extension
 * headers), then TCP or UDP, all within len bytes. Returns 0 and fills
 * *out, or -1 for anything else (other protocols, fragments, truncated or
 * inconsistent headers). */
int csum_locate(const uint8_t *frame, size_t len, struct csum_loc *out);

#endif
