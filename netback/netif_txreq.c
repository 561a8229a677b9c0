/* Guest TX request validation; see netif_txreq.h. The order of the checks
 * follows Linux netback (xenvif_get_extras, xenvif_count_requests,
 * xenvif_tx_build_gops), so that a frontend sees the same outcome from
 * either backend. */
#include "netif_txreq.h"

#include <stddef.h> /* offsetof, for __CONST_RING_SIZE */
#include <string.h>

#define TX_PAGE_SIZE 4096u

bool netif_tx_ring_overflow(RING_IDX req_prod, RING_IDX req_cons)
{
    /* Unsigned ring arithmetic: the distance is right across wrap-around. */
    return (RING_IDX)(req_prod - req_cons) > __CONST_RING_SIZE(netif_tx, TX_PAGE_SIZE);
}

bool netif_txreq_fatal(enum netif_txreq_rule rule)
{
    switch (rule) {
    case NETIF_TXREQ_OK:
    case NETIF_TXREQ_SLOTS_DROP:
    case NETIF_TXREQ_SIZE_CHAIN:
    case NETIF_TXREQ_TOO_SHORT:
        return false;
    default:
        return true;
    }
}

const char *netif_txreq_strerror(enum netif_txreq_rule rule)
{
    switch (rule) {
    case NETIF_TXREQ_OK:
        return "valid";
    case NETIF_TXREQ_INCOMPLETE:
        return "tx packet continues past the last request on the ring";
    case NETIF_TXREQ_MISSING_EXTRA:
        return "tx extra-info slot missing at the end of the ring";
    case NETIF_TXREQ_BAD_EXTRA_TYPE:
        return "tx extra-info slot of invalid type";
    case NETIF_TXREQ_TOO_MANY_EXTRAS:
        return "tx packet with more extra-info slots than there are types";
    case NETIF_TXREQ_SLOTS_FATAL:
        return "tx packet using more slots than any frontend may (hostile)";
    case NETIF_TXREQ_CROSS_PAGE:
        return "tx request offset + size crosses the page boundary";
    case NETIF_TXREQ_GSO_SIZE_ZERO:
        return "tx GSO extra-info with size 0";
    case NETIF_TXREQ_GSO_BAD_TYPE:
        return "tx GSO extra-info of unknown GSO type";
    case NETIF_TXREQ_SLOTS_DROP:
        return "tx packet using more slots than the legacy limit (dropped)";
    case NETIF_TXREQ_SIZE_CHAIN:
        return "tx fragment sizes exceed the packet size (dropped)";
    case NETIF_TXREQ_TOO_SHORT:
        return "tx packet shorter than an Ethernet header (dropped)";
    }
    return "unknown tx rule";
}

/* Reads the extra-info chain that follows the first request into pkt.
 * *k is the index of the next slot. */
static enum netif_txreq_rule parse_extras(const union netif_tx_slot *slots, unsigned n,
                                          unsigned ring_avail, unsigned *k, struct netif_txpkt *pkt,
                                          bool *seen)
{
    netif_extra_info_t extra;
    do {
        if (*k >= ring_avail || *k >= n)
            return NETIF_TXREQ_MISSING_EXTRA;
        if (pkt->nr_extras >= NETIF_TXREQ_MAX_EXTRAS)
            return NETIF_TXREQ_TOO_MANY_EXTRAS;
        extra = slots[(*k)++].extra;
        pkt->nr_extras++;
        pkt->slots = *k;
        if (extra.type == XEN_NETIF_EXTRA_TYPE_NONE || extra.type >= XEN_NETIF_EXTRA_TYPE_MAX)
            return NETIF_TXREQ_BAD_EXTRA_TYPE;
        /* A repeated type replaces the earlier one, as in Linux. */
        seen[extra.type] = true;
        switch (extra.type) {
        case XEN_NETIF_EXTRA_TYPE_GSO:
            pkt->gso.type = extra.u.gso.type;
            pkt->gso.size = extra.u.gso.size;
            pkt->gso.features = extra.u.gso.features;
            break;
        case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
        case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
            memcpy(pkt->mcast_addr, extra.u.mcast.addr, sizeof(pkt->mcast_addr));
            break;
        case XEN_NETIF_EXTRA_TYPE_HASH:
            pkt->hash.present = true;
            pkt->hash.type = extra.u.hash.type;
            pkt->hash.algorithm = extra.u.hash.algorithm;
            memcpy(&pkt->hash.value, extra.u.hash.value, sizeof(pkt->hash.value));
            break;
        }
    } while (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    return NETIF_TXREQ_OK;
}

enum netif_txreq_rule netif_txreq_parse(const union netif_tx_slot *slots, unsigned n,
                                        unsigned ring_avail, struct netif_txpkt *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    pkt->gso.type = XEN_NETIF_GSO_TYPE_NONE;
    if (n > ring_avail)
        n = ring_avail;
    if (n == 0)
        return NETIF_TXREQ_INCOMPLETE;

    const netif_tx_request_t first = slots[0].req;
    unsigned k = 1;
    pkt->slots = 1;
    pkt->nr_frags = 1;
    pkt->frags[0] = (struct netif_txreq_frag){
        .gref = first.gref, .offset = first.offset, .size = first.size, .id = first.id};
    pkt->len = first.size;
    pkt->flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);

    bool seen[XEN_NETIF_EXTRA_TYPE_MAX] = {false};
    if (first.flags & NETTXF_extra_info) {
        enum netif_txreq_rule r = parse_extras(slots, n, ring_avail, &k, pkt, seen);
        if (r)
            return r;
    }

    /* A multicast filter request is a dummy packet: only its first slot and
     * extras are consumed (Linux answers it without reading further). */
    if (seen[XEN_NETIF_EXTRA_TYPE_MCAST_ADD] || seen[XEN_NETIF_EXTRA_TYPE_MCAST_DEL]) {
        pkt->kind =
            seen[XEN_NETIF_EXTRA_TYPE_MCAST_ADD] ? NETIF_TXREQ_MCAST_ADD : NETIF_TXREQ_MCAST_DEL;
        pkt->frags[0].size = 0;
        return NETIF_TXREQ_OK;
    }

    /* The following fragments. The first request's size is the whole
     * packet: what the others do not carry is the first slot's share. */
    enum netif_txreq_rule drop = NETIF_TXREQ_OK;
    uint16_t first_share = first.size;
    bool more = first.flags & NETTXF_more_data;
    unsigned following = 0;
    while (more) {
        if (k >= ring_avail || k >= n)
            return NETIF_TXREQ_INCOMPLETE;
        if (following >= NETIF_TXREQ_FATAL_SLOTS)
            return NETIF_TXREQ_SLOTS_FATAL;
        if (!drop && following >= NETIF_TXREQ_LEGACY_SLOTS)
            drop = NETIF_TXREQ_SLOTS_DROP;

        const netif_tx_request_t txp = slots[k++].req;
        pkt->slots = k;
        pkt->frags[pkt->nr_frags++] = (struct netif_txreq_frag){
            .gref = txp.gref, .offset = txp.offset, .size = txp.size, .id = txp.id};
        following++;

        /* A frame of 64 KiB or more wraps the 16-bit total: Linux drops it
         * rather than failing the vif, since buggy frontends do this. */
        if (!drop && txp.size > first_share)
            drop = NETIF_TXREQ_SIZE_CHAIN;
        first_share = (uint16_t)(first_share - txp.size);

        if ((uint32_t)txp.offset + txp.size > TX_PAGE_SIZE)
            return NETIF_TXREQ_CROSS_PAGE;
        more = txp.flags & NETTXF_more_data;
    }
    if (drop)
        return drop;

    pkt->frags[0].size = first_share;
    /* The Ethernet header must be in the first slot. */
    if (first_share < NETIF_TXREQ_ETH_HLEN)
        return NETIF_TXREQ_TOO_SHORT;
    if ((uint32_t)first.offset + first_share > TX_PAGE_SIZE)
        return NETIF_TXREQ_CROSS_PAGE;

    if (seen[XEN_NETIF_EXTRA_TYPE_GSO]) {
        if (pkt->gso.size == 0)
            return NETIF_TXREQ_GSO_SIZE_ZERO;
        if (pkt->gso.type != XEN_NETIF_GSO_TYPE_TCPV4 && pkt->gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
            return NETIF_TXREQ_GSO_BAD_TYPE;
    }
    pkt->kind = NETIF_TXREQ_PACKET;
    return NETIF_TXREQ_OK;
}
